"""/search and /cannot-answer on a real server: JSON for scripts, a page for browsers."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import LiveServer


@pytest.fixture(scope="module")
def server(built):
    s = LiveServer(built)
    yield s
    s.stop()


def get(server, path, accept="application/json", lang=None):
    headers = {"Accept": accept}
    if lang:
        headers["Accept-Language"] = lang
    req = urllib.request.Request(server.url + path, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.headers.get_content_type(), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get_content_type(), e.read().decode("utf-8")


def test_search_json(server):
    status, ctype, body = get(server, "/search?q=" + urllib.parse.quote("生产总值"))
    assert status == 200 and ctype == "application/json"
    doc = json.loads(body)
    ind = next(g for g in doc["groups"] if g["type"] == "indicator")
    gdp = next(r for r in ind["results"] if r["iri"].endswith("/indicator/gdp"))
    assert gdp["url"] == "/id/indicator/gdp" and gdp["label"] == "地区生产总值"  # found by its
    assert gdp["spans"] == [[0, 4]] and gdp["html"] == "<mark>生产总值</mark>"   # alternative label
    sent = next(g for g in doc["groups"] if g["type"] == "sentence")
    assert sent["results"][0]["url"].startswith("/id/hangzhou/2023-plan/passage/")


def test_search_page_zh_and_en(server):
    status, ctype, body = get(server, "/search?q=" + urllib.parse.quote("萧山"), accept="text/html", lang="zh")
    assert status == 200 and ctype == "text/html"
    assert "<mark>萧山</mark>" in body and "地区" in body and 'href="/id/district/330109"' in body
    status, _, body = get(server, "/search?q=unmet&lang=en", accept="text/html")
    assert status == 200 and "Saved queries" in body and 'href="/queries/unmet-plan-indicators-2023"' in body
    assert "<mark>unmet</mark>" in body


def test_search_escapes_and_limits(server):
    status, _, body = get(server, "/search?q=" + urllib.parse.quote("<script>"), accept="text/html")
    assert status == 200 and "<script>alert" not in body and "&lt;script&gt;" in body
    status, ctype, body = get(server, "/search?q=" + "x" * 101)
    assert status == 400 and json.loads(body)["error"]["code"] == "bad-search"
    status, _, body = get(server, "/search?q=gdp&limit=abc")
    assert status == 400


def test_cannot_answer_page(server):
    status, ctype, body = get(server, "/cannot-answer?lang=en", accept="text/html")
    assert status == 200 and "Which district invests most?" in body
    # the nearest saved query by its title in the page's language
    assert '<a href="/queries/district-projects-and-facts" title="district-projects-and-facts">The projects and facts of a district</a>' in body
    status, _, body = get(server, "/cannot-answer?lang=zh", accept="text/html")
    assert "哪个区、县(市)的投资最多?" in body
    assert 'title="unmet-plan-indicators-2023">2023年未达目标的计划指标及原因</a>' in body
    status, ctype, body = get(server, "/cannot-answer")
    assert ctype == "application/json" and len(json.loads(body)["questions"]) >= 4


@pytest.mark.parametrize("q,lang", [("各区 投资", "zh"), ("investment district", "en")])
def test_a_search_for_what_the_report_does_not_give_says_so(server, q, lang):
    """'Which districts invest most?': the question the data cannot answer comes first, linked
    to its section of /cannot-answer, the whole question in the page's language."""
    status, _, body = get(server, "/search?" + urllib.parse.urlencode({"q": q, "lang": lang}))
    doc = json.loads(body)
    assert doc["groups"][0]["type"] == "cannot"
    hit = doc["groups"][0]["results"][0]
    assert hit["id"] == "district-investment" and hit["url"] == "/cannot-answer#district-investment"
    assert hit["label"].startswith("哪个区" if lang == "zh" else "Which district invests most?")
    status, _, html = get(server, "/search?" + urllib.parse.urlencode({"q": q, "lang": lang}), accept="text/html")
    section = html.split('id="cannot"')[1].split("</section>")[0]
    assert 'href="/cannot-answer#district-investment"' in section and "…" not in section
    status, _, page = get(server, "/cannot-answer?lang=" + lang, accept="text/html")
    assert 'id="district-investment"' in page
