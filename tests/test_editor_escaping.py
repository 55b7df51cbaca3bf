"""The editor's result table shows data as text: a loaded label holding a <script> or an
<img onerror>, or an IRI holding a quote, runs nothing even with the page's CSP switched off
(Chromium's Page.setBypassCSP), and the label is shown as written."""
from __future__ import annotations

import shutil
import urllib.parse

import pytest

from conftest import LiveServer
from test_browser import By, _editor_ready, driver, shot, visible_button, wait  # noqa: F401 (fixture)
from test_endpoint import http

pytestmark = pytest.mark.browser
TOKEN = "editor-escaping-token"
LABEL = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"><b>bold</b>'
IRI = "http://example.org/x'onmouseover='window.__xss=3'style='display:block;width:3000px;height:3000px"


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    path = tmp_path_factory.mktemp("editor-escaping")
    shutil.copytree(built, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.log"))
    s = LiveServer(path, env={"ECONPLAN_WRITE_TOKEN": TOKEN}, workers=1)
    ttl = ('<https://example.org/hostile/s> <http://www.w3.org/2000/01/rdf-schema#label> "%s"@en ; '
           '<http://www.w3.org/2000/01/rdf-schema#seeAlso> <%s> .' % (LABEL.replace('"', '\\"'), IRI))
    status, _, body = http(s.url + "/load?graph=" + urllib.parse.quote("https://example.org/hostile"),
                           data=ttl.encode(), method="POST",
                           headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
    assert status in (201, 204, 422), body
    yield s
    s.stop()


def test_a_script_label_is_shown_as_text_without_the_csp(driver, server):  # noqa: F811
    driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
    try:
        driver.get(server.url + "/editor?lang=en")
        wait(driver, 30).until(_editor_ready)
        assert driver.execute_script("return typeof window.__xss") == "undefined"
        query = ("SELECT ?label ?iri ?made WHERE { GRAPH ?g { <https://example.org/hostile/s> "
                 "<http://www.w3.org/2000/01/rdf-schema#label> ?label ; "
                 "<http://www.w3.org/2000/01/rdf-schema#seeAlso> ?iri } "
                 "BIND(STRDT(?label, <http://ex/'onmouseover='window.__xss=4'>) AS ?made) }")
        driver.execute_script("window.econplanYasgui.getTab().getYasqe().setValue(arguments[0]);", query)
        visible_button(driver).click()
        cells = wait(driver, 30).until(lambda d: [td for td in d.find_elements(
            By.CSS_SELECTOR, "#yasgui .yasr table tbody tr td") if td.is_displayed() and td.text.strip()])
        text = " ".join(td.text for td in cells)
        assert "<script>window.__xss = 1</script>" in text and "<b>bold</b>" in text
        assert "x'onmouseover=" in text
        # hover everything in the table, in case an attribute was injected
        from selenium.webdriver.common.action_chains import ActionChains
        for el in driver.find_elements(By.CSS_SELECTOR, "#yasgui .yasr table tbody *"):
            try:
                ActionChains(driver).move_to_element(el).perform()
            except Exception:  # noqa: BLE001 - an element out of view
                pass
        shot(driver, "editor-escaping", full=False)
        assert driver.execute_script("return typeof window.__xss") == "undefined"
        injected = driver.execute_script(
            "var out = []; document.querySelectorAll('#yasgui .yasr table tbody *').forEach(function (el) {"
            "  if (['SCRIPT', 'IMG', 'B'].indexOf(el.tagName) >= 0) out.push(el.tagName);"
            "  for (var i = 0; i < el.attributes.length; i++) {"
            "    var n = el.attributes[i].name; if (n.indexOf('on') === 0 || n === 'style') out.push(el.tagName + ' ' + n + '=' + el.attributes[i].value); } });"
            "return out;")
        assert injected == []
    finally:
        driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": False})
