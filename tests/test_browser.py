"""The pages in a real headless Chromium, driven by Selenium through Debian's chromedriver,
against a real server (``econplan serve``) on 127.0.0.1.

Screenshots go to tests/output/screenshots/.  The whole module is skipped, with the reason,
when Chromium, chromedriver or the selenium package is missing.  Nothing is downloaded:
Selenium is given the driver and the browser binary, so Selenium Manager never runs.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "output" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # pragma: no cover - depends on the machine
    webdriver = None

if webdriver is None:
    pytest.fail("selenium is not installed: `make test` installs it (the [test] extras)", pytrace=False)
if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
    pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs it (tests/setup-system.sh)", pytrace=False)
if not (os.path.exists(CHROMEDRIVER) and os.access(CHROMEDRIVER, os.X_OK)):
    pytest.fail(f"no chromedriver at {CHROMEDRIVER}: `make test` installs it (tests/setup-system.sh)",
                pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    """``econplan serve`` on a free port of 127.0.0.1, stopped at the end."""
    port = _free_port()
    exe = Path(sys.executable).parent / "econplan"
    cmd = ([str(exe)] if exe.exists() else [sys.executable, "-m", "server"]) + [
        "--root", str(ROOT), "--build-dir", str(built), "serve", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1"]
    log_path = tmp_path_factory.mktemp("browser-server") / "server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(url + "/api/stats", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("the server did not answer within 60 s") from None
                time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=zh-CN",
                f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    except Exception as exc:  # noqa: BLE001 - a broken browser install fails with one line
        pytest.fail(f"Chromium could not be started: {str(exc).splitlines()[0]}", pytrace=False)
    d.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield d
    d.quit()


def shot(d, name: str, full: bool = True) -> Path:
    """A screenshot of the whole page (up to 4000 px high) as tests/output/screenshots/NAME.png."""
    path = SHOTS / f"{name}.png"
    if full:
        height = d.execute_script("return Math.min(document.documentElement.scrollHeight, 4000)")
        d.set_window_size(1280, max(1000, int(height)))
        time.sleep(0.3)
    d.save_screenshot(str(path))
    d.set_window_size(1280, 1000)
    return path


def console_errors(d) -> list[str]:
    """Severe console messages since the last call (CSP violations, script errors, failed loads)."""
    return [e["message"] for e in d.get_log("browser") if e.get("level") == "SEVERE"]


def wait(d, seconds=20):
    return WebDriverWait(d, seconds)


def test_home_page(driver, server):
    console_errors(driver)
    driver.get(server + "/?lang=zh")
    h1 = wait(driver).until(EC.visibility_of_element_located((By.TAG_NAME, "h1")))
    assert "城市发展计划知识图谱" in h1.text
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
    facts = driver.find_element(By.CSS_SELECTOR, "#count-facts dd").text
    assert int(facts.replace(",", "")) > 300
    shot(driver, "home-zh")
    # the language switch, remembered by the cookie
    driver.find_element(By.CSS_SELECTOR, '.langs a[hreflang="en"]').click()
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert "knowledge graph" in driver.find_element(By.TAG_NAME, "h1").text
    driver.find_element(By.LINK_TEXT, "Saved queries").click()
    wait(driver).until(EC.title_contains("Saved queries"))
    shot(driver, "home-en-queries")
    driver.get(server + "/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    shot(driver, "home-en")
    driver.get(server + "/?lang=zh")
    assert console_errors(driver) == []


def test_saved_query_with_a_district_parameter(driver, server):
    console_errors(driver)
    driver.get(server + "/queries/district-projects-and-facts?lang=zh")
    if "404" in driver.title:
        pytest.fail("precondition missing from the data: no saved query district-projects-and-facts")
    select = Select(wait(driver).until(EC.presence_of_element_located((By.ID, "p-district"))))
    select.select_by_value("330109")
    driver.find_element(By.ID, "run").click()
    wait(driver).until(EC.url_contains("district=330109"))
    table = wait(driver).until(EC.visibility_of_element_located((By.ID, "results-table")))
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert rows, "no result rows"
    assert "萧山" in table.text
    assert Select(driver.find_element(By.ID, "p-district")).first_selected_option.get_attribute("value") == "330109"
    shot(driver, "query-district-330109")
    # the download links carry the parameter
    link = driver.find_element(By.LINK_TEXT, "CSV").get_attribute("href")
    assert link.endswith("/queries/district-projects-and-facts.csv?district=330109")
    assert console_errors(driver) == []


def test_domains_bar_chart_renders(driver, server):
    console_errors(driver)
    driver.get(server + "/queries/investment-domains-2024?lang=zh")
    if "404" in driver.title:
        pytest.fail("precondition missing from the data: no saved query investment-domains-2024")
    year = driver.find_element(By.ID, "p-year")
    year.clear()
    year.send_keys("2024")
    driver.find_element(By.ID, "run").click()
    wait(driver).until(EC.url_contains("year=2024"))
    try:
        wait(driver, 30).until(lambda d: d.find_element(By.ID, "chart").get_attribute("data-rendered") == "true"
                               or d.find_element(By.ID, "chart").get_attribute("data-error"))
    except TimeoutException:
        shot(driver, "chart-timeout")
        raise
    chart = driver.find_element(By.ID, "chart")
    assert chart.get_attribute("data-error") is None, chart.get_attribute("data-error")
    graphics = chart.find_elements(By.CSS_SELECTOR, "svg, canvas")
    assert graphics, "the chart drew no SVG or canvas"
    marks = chart.find_elements(By.CSS_SELECTOR, "svg .mark-rect path")
    assert len(marks) == 9, f"{len(marks)} bars for the nine domains"
    assert graphics[0].size["width"] > 300 and graphics[0].size["height"] > 150
    assert "先进制造业基地" in chart.text or "先进制造业基地" in driver.page_source
    assert len(driver.find_elements(By.CSS_SELECTOR, "#results-table tbody tr")) == 9
    chart.screenshot(str(SHOTS / "chart-domains.png"))
    shot(driver, "query-domains-2024")
    assert console_errors(driver) == []


def test_other_charts_render(driver, server):
    """Every saved query that declares a chart draws it (line, pie and coloured bars included)."""
    console_errors(driver)
    data = json.loads(urllib.request.urlopen(server + "/queries.json").read())
    charted = [q for q in data["queries"] if q["chart"] and q["chart"]["type"] != "none"
               and not any(p["required"] for p in q["params"])]
    assert charted
    for q in charted:
        driver.get(f"{server}/queries/{q['slug']}")
        wait(driver, 30).until(lambda d: d.find_element(By.ID, "chart").get_attribute("data-rendered") == "true"
                               or d.find_element(By.ID, "chart").get_attribute("data-error"))
        chart = driver.find_element(By.ID, "chart")
        assert chart.get_attribute("data-error") is None, (q["slug"], chart.get_attribute("data-error"))
        assert chart.find_elements(By.CSS_SELECTOR, "svg, canvas"), q["slug"]
    assert console_errors(driver) == []


def visible_button(d):
    """The run button of the tab on show (each YASGUI tab has its own)."""
    return next(b for b in d.find_elements(By.CSS_SELECTOR, "#yasgui .yasqe_queryButton") if b.is_displayed())


def _editor_ready(d):
    return d.execute_script(
        "var cm = document.querySelector('#yasgui .CodeMirror');"
        "return !!(cm && cm.CodeMirror && document.querySelector('#yasgui .yasqe_queryButton'));")


def test_editor_runs_a_query(driver, server):
    console_errors(driver)
    driver.get(server + "/editor?lang=zh")
    wait(driver, 30).until(_editor_ready)
    endpoint = driver.execute_script("return window.econplanYasgui.getTab().getEndpoint();")
    assert endpoint == server + "/sparql"
    query = ("SELECT ?fact ?value WHERE { ?fact ep:indicator indicator:gdp ; ep:refArea district:330100 ; "
             "ep:value ?value } ORDER BY ?fact")  # Hangzhou's: other cities' fill more than a page
    driver.execute_script("window.econplanYasgui.getTab().getYasqe().setValue(arguments[0]);",
                          "PREFIX ep: <https://w3id.org/econplan/def#>\n"
                          "PREFIX indicator: <https://w3id.org/econplan/id/indicator/>\n"
                          "PREFIX district: <https://w3id.org/econplan/id/district/>\n" + query)
    visible_button(driver).click()
    wait(driver, 30).until(lambda d: [td for td in d.find_elements(By.CSS_SELECTOR, "#yasgui .yasr table tbody tr td")
                                      if td.is_displayed()])
    results = " ".join(y.text for y in driver.find_elements(By.CSS_SELECTOR, "#yasgui .yasr") if y.is_displayed())
    assert "20059" in results
    shot(driver, "editor-query")
    assert console_errors(driver) == []


def test_editor_loads_a_saved_query(driver, server):
    console_errors(driver)
    driver.get(server + "/editor?lang=en")
    wait(driver, 30).until(_editor_ready)
    select = Select(driver.find_element(By.ID, "example"))
    options = [o.get_attribute("value") for o in select.options if o.get_attribute("value")]
    assert options, "no saved queries to load"
    slug = "investment-domains-2024" if "investment-domains-2024" in options else options[0]
    select.select_by_value(slug)
    sparql = json.loads(urllib.request.urlopen(f"{server}/queries.json").read())
    expected = next(q["sparql"] for q in sparql["queries"] if q["slug"] == slug)
    wait(driver).until(lambda d: d.execute_script(
        "return window.econplanYasgui.getTab().getQuery();").strip() == expected.strip())
    visible_button(driver).click()
    wait(driver, 30).until(lambda d: [td for td in d.find_elements(By.CSS_SELECTOR, "#yasgui .yasr table tbody tr td")
                                      if td.is_displayed()])
    shot(driver, "editor-saved-query")
    assert console_errors(driver) == []


def test_fact_and_district_pages(driver, server):
    console_errors(driver)
    driver.get(server + "/id/hangzhou/2023-plan/fact/gdp-2023?lang=zh")
    mark = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "blockquote mark.number")))
    assert mark.text == "20059"
    shot(driver, "fact-gdp-2023")
    driver.get(server + "/id/district/330109?lang=zh")
    projects = driver.find_elements(By.CSS_SELECTOR, "#named-project li a")
    assert len(projects) >= 3
    shot(driver, "district-330109")
    driver.get(server + "/ontology?lang=en")
    assert driver.find_element(By.CSS_SELECTOR, '[data-class="Fact"]').text.replace(",", "").isdigit()
    shot(driver, "ontology-en")
    driver.get(server + "/shapes?lang=zh")
    shot(driver, "shapes-zh")
    assert console_errors(driver) == []
