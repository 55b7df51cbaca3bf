"""Data views in headless Chromium: an indicator page (facts table, chart in readable units),
an area page (filter and sort) and a policy page, in zh and en, with screenshots under
tests/output/screenshots/ (see tests/test_browser.py)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port
from test_browser import EC, ROOT, By, console_errors, driver, server, shot, wait  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

#: Ningbo's GDP for 2020-2022 as its bureau's tables write it (a fixture for the reader, imported
#: only into a scratch copy; nothing here is shipped). The shipped data has Ningbo's 2023 figure.
NINGBO_SERIES = ("宁波市地区生产总值\n单位：亿元\n年份,地区生产总值\n"
                 "2020年,\"12,408.7\"\n2021年,\"14,594.9\"\n2022年,\"15,704.3\"\n")


@pytest.fixture(scope="module")
def series_server(tmp_path_factory):
    """A scratch copy of the project with Ningbo's GDP for three more years loaded through the
    import path (`econplan import-table`: data/ written, the SHACL gate, the store), served on
    127.0.0.1 by `econplan serve`."""
    from server.kg.build import build
    from server.kg.tables import Fixed, import_table

    tmp = tmp_path_factory.mktemp("series")
    root = tmp / "project"
    for folder in ("data", "ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    build(root, root / "build")
    table = tmp / "ningbo-gdp.csv"
    table.write_text(NINGBO_SERIES, encoding="utf-8")
    result = import_table(root, root / "build", table,
                          Fixed(area="330200", source="https://tjj.example.gov.cn/ningbo/gdp.html"))
    assert len(result.rows) == 3 and result.added > 0
    port = free_port()
    exe = Path(sys.executable).parent / "econplan"
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([str(exe), "--root", str(root), "--build-dir", str(root / "build"), "serve",
                             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, (tmp / "server.log").read_text()[-2000:]
            try:
                urllib.request.urlopen(url + "/api/stats", timeout=2).read()
                break
            except OSError:
                assert time.time() < deadline, "the server did not answer within 60 s"
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


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_indicator_chart_over_time(driver, series_server, lang):
    """Several years for one area: the level chart is a line over the periods in 万亿元 / trillion
    yuan, the imported years and the shipped 2023 figure on one line, the other cities beside it."""
    console_errors(driver)
    driver.get(series_server + f"/id/indicator/gdp?lang={lang}")
    data = json.loads(driver.find_element(By.ID, "ind-chart-data").get_attribute("textContent"))
    money = "万亿元" if lang == "zh" else "trillion yuan"
    n = next(i for i, p in enumerate(data["panels"], 1) if p["axis"] == money)  # the level panel
    wait(driver, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#ind-chart-{n}[data-rendered]")))
    level = data["panels"][n - 1]
    ningbo = "宁波市" if lang == "zh" else "Ningbo"
    series = sorted((p["period"], p["value"]) for p in level["points"] if p["area"] == ningbo)
    # the three imported years as imported, then the shipped 2023 figure(s) (a revision may add one)
    assert series[:3] == [("2020", 1.24087), ("2021", 1.45949), ("2022", 1.57043)]
    assert {y for y, _ in series[3:]} == {"2023"} and 1.64528 in [v for _, v in series[3:]]
    # rendered: a discrete x axis of the four years in order, a line through Ningbo's points
    svg = driver.find_element(By.CSS_SELECTOR, f"#ind-chart-{n} svg")
    axes = [e.get_attribute("aria-label") for e in svg.find_elements(By.CSS_SELECTOR, "g.role-axis[aria-label]")]
    x_axis = [a for a in axes if a.startswith("X-axis")]
    assert len(x_axis) == 1 and x_axis[0].endswith("with 4 values: 2020, 2021, 2022, 2023"), axes
    points = [e.get_attribute("aria-label") for e in svg.find_elements(By.CSS_SELECTOR, "g.mark-symbol path")]
    mine = {p.split(";")[0] for p in points if p and f"; {data['area']}: {ningbo};" in p}
    assert mine == {f"{data['period']}: {y}" for y in ("2020", "2021", "2022", "2023")}, points
    lines = svg.find_elements(By.CSS_SELECTOR, "g.mark-line path")
    assert any(f"{data['area']}: {ningbo};" in (p.get_attribute("aria-label") or "") and
               p.size["width"] > 300 for p in lines)  # spans the four years, not a dot
    driver.execute_script(f"document.getElementById('ind-chart-{n}').scrollIntoView()")
    shot(driver, f"views-indicator-series-{lang}", full=False)
    assert console_errors(driver) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_indicator_page_is_a_data_view(driver, server, lang):
    console_errors(driver)
    driver.get(server + f"/id/indicator/gdp?lang={lang}")
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#ind-chart-1[data-rendered]")))
    charts = driver.find_elements(By.CSS_SELECTOR, ".ind-chart[data-rendered] svg")
    assert charts and all(c.size["height"] > 150 for c in charts)  # not squashed
    axis_text = " ".join(c.text for c in charts)
    assert ("万亿元" if lang == "zh" else "trillion yuan") in axis_text
    assert "4,720,000,000,000" not in axis_text and "4720000000000" not in axis_text
    # one year's levels as bars: an area's several values (two sources) overlap and never add up,
    # so no bar is longer than the largest value (the axis ends near it, not near twice it)
    import json
    data = json.loads(driver.find_element(By.ID, "ind-chart-data").get_attribute("textContent"))
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".ind-chart[data-rendered]")) == len(data["panels"]))
    for i, panel in enumerate(data["panels"], 1):
        if len({p["period"] for p in panel["points"]}) == 1:
            top = max(p["value"] for p in panel["points"])
            bars = driver.execute_script(
                "return Array.from(document.querySelectorAll('#ind-chart-' + arguments[0] + ' .mark-rect path'))"
                ".map(function (p) { return p.getBBox().width; });", i)
            ticks = [float(t.replace(",", "")) for t in driver.execute_script(
                "return Array.from(document.querySelectorAll('#ind-chart-' + arguments[0] + ' .role-axis-label text'))"
                ".map(function (t) { return t.textContent; });", i) if t.replace(",", "").replace(".", "").isdigit()]
            assert bars and ticks and max(ticks) < top * 1.5, (max(ticks), top)
    rows = driver.find_elements(By.CSS_SELECTOR, "#ind-facts tbody tr")
    assert len(rows) >= 8
    table = driver.find_element(By.ID, "ind-facts").text
    assert ("2.0059万亿元" if lang == "zh" else "2.0059 trillion yuan") in table
    assert ("20059亿元" if lang == "zh" else "20,059 亿元") in table
    assert ("约" if lang == "zh" else "about") in table  # qualifiers in the page's language
    if lang == "en":
        assert "确数" not in table and "实际" not in table
    # the value links to the fact, the last column to the sentence it was read from
    hz = [r for r in rows if ("杭州" if lang == "zh" else "Hangzhou") in r.text]
    links = [a.get_attribute("href") for a in hz[0].find_elements(By.TAG_NAME, "a")]
    assert any("/fact/" in h for h in links) and any("passage" in h or "source" in h for h in links)
    shot(driver, f"views-indicator-gdp-{lang}")
    assert console_errors(driver) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_area_page_filters_and_sorts(driver, server, lang):
    console_errors(driver)
    driver.get(server + f"/id/district/330100?lang={lang}")
    table = wait(driver).until(EC.presence_of_element_located((By.ID, "facts")))
    # the rows as the reader sees them, read in one script (one WebDriver call per row is slow)
    visible = ("return Array.from(document.querySelectorAll('#facts tbody tr'))"
               ".filter(function (r) { return r.offsetParent !== null; })"
               ".map(function (r) { return [r.innerText, r.getAttribute('data-base'), r.getAttribute('data-value')]; });")
    total = len(table.find_elements(By.CSS_SELECTOR, "tbody tr"))
    assert total > 50 and len(driver.execute_script(visible)) == total
    box = driver.find_element(By.CSS_SELECTOR, '[data-filter-for="facts"]')
    box.send_keys("2024")
    shown = driver.execute_script(visible)
    assert 0 < len(shown) < total and all("2024" in text for text, _, _ in shown)
    count = driver.find_element(By.CSS_SELECTOR, '[data-count-for="facts"]').text
    assert str(len(shown)) in count and str(total) in count
    # sort by value: descending on the second click, the largest base value first
    button = driver.find_element(By.CSS_SELECTOR, '#facts th[data-key="value"] button')
    button.click()
    button.click()
    shown = [(b, v) for _, b, v in driver.execute_script(visible)]
    bases = [b for b, v in shown if v]
    runs = [b for i, b in enumerate(bases) if i == 0 or bases[i - 1] != b]
    assert len(runs) == len(set(runs)) > 1  # one unit base after another, each in one run
    for base in set(bases):  # within a unit base, largest first
        nums = [float(v) for b, v in shown if v and b == base]
        assert nums == sorted(nums, reverse=True), base
    assert driver.find_element(By.CSS_SELECTOR, '#facts th[data-key="value"]').get_attribute("aria-sort") == "descending"
    # the report's named things, by kind with counts; a kind opens to its list
    kinds = driver.find_elements(By.CSS_SELECTOR, "details.named")
    assert len(kinds) == 8 and driver.find_element(By.CSS_SELECTOR, "#named-things .badge").text == "333"
    event = driver.find_element(By.ID, "named-event")
    assert not event.find_element(By.CSS_SELECTOR, "ul").is_displayed()
    event.find_element(By.TAG_NAME, "summary").click()
    names = driver.execute_script(  # one call, not one per link
        "return Array.from(document.querySelectorAll('#named-event li a'))"
        ".filter(function (a) { return a.offsetParent !== null; }).map(function (a) { return a.innerText; });")
    assert len(names) == 39 and ("亚运会" if lang == "zh" else "Asian Games") in " ".join(names)
    driver.get(server + f"/id/district/330100?lang={lang}#named-pilot")  # a link to a kind opens it
    wait(driver).until(lambda d: d.find_element(By.ID, "named-pilot").get_attribute("open") is not None)
    driver.execute_script("window.scrollTo(0, 0)")
    shot(driver, f"views-area-hangzhou-{lang}")
    assert console_errors(driver) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_policy_page_says_what_the_report_says(driver, server, lang):
    console_errors(driver)
    driver.get(server + f"/id/hangzhou/policy/double-hundred-double-thousand-market-campaign?lang={lang}")
    section = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.about-view")))
    assert section.find_elements(By.CSS_SELECTOR, "blockquote.sentence")
    assert len(section.find_elements(By.CSS_SELECTOR, "#about-facts tbody tr")) == 5
    shot(driver, f"views-policy-{lang}")
    assert console_errors(driver) == []


def _editor_ready(d):
    return d.execute_script(
        "var cm = document.querySelector('#yasgui .CodeMirror');"
        "return !!(cm && cm.CodeMirror && window.econplanYasgui);")


def _result_cells(d):
    """The texts of the result table's visible cells (read in one script, not cell by cell)."""
    return d.execute_script(
        "return Array.from(document.querySelectorAll('#yasgui .yasr table tbody tr td'))"
        ".filter(function (td) { return td.offsetParent !== null; })"
        ".map(function (td) { return td.innerText; });")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_editor_deep_link_runs_the_saved_query_in_one_tab(driver, server, lang):
    import json
    import urllib.request

    console_errors(driver)
    slug = "gdp-by-city"
    lib = json.loads(urllib.request.urlopen(f"{server}/queries.json").read())["queries"]
    q = next((x for x in lib if x["slug"] == slug), lib[0])
    slug = q["slug"]
    for _ in range(2):  # two visits: still one tab
        driver.get(server + f"/editor?query={slug}&lang={lang}")
        wait(driver, 30).until(_editor_ready)
        wait(driver, 30).until(_result_cells)
    tabs = driver.execute_script("return Object.keys(window.econplanYasgui._tabs).length;")
    assert tabs == 1
    names = [e.text.split("\n")[0] for e in driver.find_elements(By.CSS_SELECTOR, "#yasgui .tabsList .tab") if e.text.strip()]
    assert names == [q["title"][lang]]
    assert driver.execute_script("return window.econplanYasgui.getTab().getQuery();").strip() == q["sparql"].strip()
    cells = " ".join(_result_cells(driver))
    assert "^^" not in cells and "xsd:" not in cells and '"' not in cells  # literals plainly
    shot(driver, f"editor-deep-link-{lang}")
    errors = [e for e in console_errors(driver) if "favicon" not in e]
    assert errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sparql_endpoint_link_in_a_browser(driver, server, lang):
    console_errors(driver)
    driver.get(server + f"/?lang={lang}")
    driver.find_element(By.CSS_SELECTOR, 'nav a[href="/sparql"]').click()
    wait(driver).until(EC.url_to_be(server + "/sparql"))
    h1 = wait(driver).until(EC.visibility_of_element_located((By.TAG_NAME, "h1")))
    assert h1.text == ("SPARQL 端点" if lang == "zh" else "SPARQL endpoint")
    assert driver.find_element(By.ID, "endpoint").text == server + "/sparql"
    assert len(driver.find_elements(By.CSS_SELECTOR, "#graphs a")) > 10
    shot(driver, f"sparql-page-{lang}")
    driver.find_element(By.CSS_SELECTOR, '#graphs a[href="/graph/data/vocab/units"]').click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "graph-triples")))
    assert int(driver.find_element(By.CSS_SELECTOR, "#graph-triples dd").text.replace(",", "")) > 0
    shot(driver, f"graph-page-{lang}")
    assert console_errors(driver) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fact_home_and_graph_pages_screenshots(driver, server, lang):
    console_errors(driver)
    driver.get(server + f"/id/hangzhou/2023-plan/fact/gdp-2023?lang={lang}")
    box = wait(driver).until(EC.visibility_of_element_located((By.ID, "fact-summary")))
    assert ("2.0059万亿元" if lang == "zh" else "2.0059 trillion yuan") in box.text
    shot(driver, f"views-fact-{lang}")
    driver.get(server + f"/?lang={lang}")
    counts = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#count-counties")))
    assert counts.find_element(By.TAG_NAME, "dt").text == ("县级行政区" if lang == "zh" else "county-level divisions")
    shot(driver, f"home-{lang}")
    assert console_errors(driver) == []


@pytest.mark.parametrize("lang,unit", [("zh", "万亿"), ("en", "trillion")])
def test_saved_query_chart_axis_is_readable(driver, server, lang, unit):
    console_errors(driver)
    driver.get(server + f"/queries/gdp-by-city?lang={lang}")
    wait(driver, 30).until(lambda d: d.find_element(By.ID, "chart").get_attribute("data-rendered") == "true")
    chart = driver.find_element(By.ID, "chart")
    assert f"gdpYuan{'(' if lang == 'zh' else ' ('}{unit})" in chart.text
    assert "4,720,000,000,000" not in chart.text and "4.7" in chart.text
    shot(driver, f"query-gdp-by-city-{lang}")
    # one bar per row, also where an indicator comes in several rows (not stacked into a sum)
    driver.get(server + f"/queries/largest-amounts-in-yuan?lang={lang}")
    wait(driver, 30).until(lambda d: d.find_element(By.ID, "chart").get_attribute("data-rendered") == "true")
    rows = driver.find_elements(By.CSS_SELECTOR, "#results-table tbody tr")
    names = [r.find_elements(By.TAG_NAME, "td")[3].text for r in rows]
    assert len(names) > len(set(names)) > 10  # the precondition: a name in several rows
    tops = driver.execute_script(
        "return Array.from(document.querySelectorAll('#chart g.mark-rect path'))"
        ".map(function (p) { return Math.round(p.getBoundingClientRect().top); });")
    assert len(tops) == len(set(tops)) == len(rows)  # each bar on its own line
    shot(driver, f"query-largest-amounts-{lang}")
    assert console_errors(driver) == []
