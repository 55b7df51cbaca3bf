"""The HTML pages, the saved-query routes and entity dereferencing, with Flask's test client
over a real build of the shipped data."""
from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser

import pyoxigraph as ox
import pytest

from server import create_app
from server.kg import vocab as V

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SHAPES_NS = V.BASE + "shapes#"


@pytest.fixture(scope="module")
def app(built, root):
    app = create_app({"BUILD_DIR": str(built), "ROOT": str(root), "QUERY_WORKERS": 1,
                      "LOG_LEVEL": "WARNING"})
    app.testing = True
    yield app
    app.extensions["econplan"].close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def library(app):
    with app.app_context():
        return dict(app.extensions["econplan"].library)


def get(client, path, lang=None, **headers):
    h = dict(HTML)
    h.update(headers)
    if lang:
        path += ("&" if "?" in path else "?") + f"lang={lang}"
    return client.get(path, headers=h)


def text(resp) -> str:
    return resp.get_data(as_text=True)


def spo(data: bytes, fmt) -> set:
    return {(q.subject, q.predicate, q.object) for q in ox.parse(data, format=fmt)}


def first_query(library, pred):
    for q in library.values():
        if pred(q):
            return q
    return None


# -- HTML structure: what every page must (not) contain ---------------------------------------

class _Scan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.links, self.imgs, self.handlers, self.ids = [], [], [], [], []
        self.html_lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "script":
            self.scripts.append(a)
        if tag == "link":
            self.links.append(a)
        if tag in ("img", "iframe", "object", "embed", "source", "video", "audio"):
            self.imgs.append(a)
        if "id" in a:
            self.ids.append(a["id"])
        self.handlers += [k for k in a if k.startswith("on")]


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    return s


def assert_self_contained(html: str):
    """No inline scripts (except JSON data blocks), no event-handler attributes, only local assets."""
    s = scan(html)
    for attrs in s.scripts:
        if "src" in attrs:
            assert attrs["src"].startswith("/static/"), attrs
        else:
            assert attrs.get("type") == "application/json", f"inline script without src: {attrs}"
    for attrs in s.links:
        if attrs.get("rel") in ("stylesheet", "icon", "preload", "modulepreload"):
            assert attrs["href"].startswith("/static/"), attrs
    for attrs in s.imgs:
        assert not attrs.get("src", "/").startswith(("http:", "https:", "//")), attrs
    assert not s.handlers, f"inline event handlers: {s.handlers}"
    assert "javascript:" not in html
    return s


# -- every page in both languages ----------------------------------------------------------------

PAGES = ["/", "/queries", "/editor", "/ontology", "/shapes", "/def", "/def/Fact", "/def/refArea",
         "/id/district/330109", "/id/district/330100", "/id/hangzhou/2023-plan/fact/gdp-2023",
         "/id/hangzhou/2023-plan/passage/p005-s01", "/id/hangzhou/2023-plan", "/id/indicator/gdp",
         "/id/unit/yi-yuan"]


def _pages(library):
    pages = list(PAGES)
    pages += [f"/queries/{slug}" for slug in library]
    return pages


@pytest.mark.parametrize("lang,html_lang,nav", [("zh", "zh-Hans", "示例查询"), ("en", "en", "Saved queries")])
def test_every_page_renders_in_both_languages(client, library, lang, html_lang, nav):
    for path in _pages(library):
        resp = get(client, path, lang=lang)
        assert resp.status_code == 200, (path, text(resp)[:500])
        assert resp.mimetype == "text/html", path
        html = text(resp)
        s = assert_self_contained(html)
        assert s.html_lang == html_lang, path
        assert nav in html, path
        # the language switch links to both languages
        assert "lang=zh" in html and "lang=en" in html, path


def test_lang_param_sets_a_cookie_that_is_remembered(client):
    resp = get(client, "/", lang="en")
    assert "lang=en" in resp.headers.get("Set-Cookie", "")
    again = client.get("/", headers=HTML)  # the test client keeps the cookie
    assert scan(text(again)).html_lang == "en"
    client.get("/?lang=zh", headers=HTML)
    assert scan(text(client.get("/", headers=HTML))).html_lang == "zh-Hans"


@pytest.mark.parametrize("accept_language,expected", [
    ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.5", "zh-Hans"), ("fr-FR", "zh-Hans"), (None, "zh-Hans")])
def test_language_defaults_to_accept_language_else_chinese(app, accept_language, expected):
    client = app.test_client()
    headers = dict(HTML)
    if accept_language:
        headers["Accept-Language"] = accept_language
    assert scan(text(client.get("/", headers=headers))).html_lang == expected


def test_home_page_counts_and_links(client, kg):
    html = text(get(client, "/", lang="en"))
    s = kg.stats()
    for key, n in [("facts", s.facts), ("indicators", s.indicators), ("projects", s.entities["Project"]),
                   ("policies", s.entities["Policy"]), ("provinces", 34), ("cities", 333),
                   ("counties", 13), ("lost", s.lost), ("triples", s.triples)]:
        m = re.search(rf'id="count-{key}"><dt>[^<]*</dt><dd>([\d,]+)</dd>', html)
        assert m, key
        assert int(m.group(1).replace(",", "")) == n, key
    # areas by level: the country, Beijing and Shanghai are not counted as "districts"
    assert 'id="count-districts"' not in html
    for href in ("/editor", "/queries", "/ontology", "/shapes", "/sparql", "/dumps/econplan.trig",
                 "/dumps/econplan.nq", "/ontology.ttl", "/shapes.ttl"):
        assert f'href="{href}"' in html, href
    zh = text(get(client, "/", lang="zh"))
    assert "每一个数字都是一个事实" in zh and "every figure in it is a fact" in html
    # the graph speaks for every city it holds: the title, and each dataset with its facts and areas
    assert "city development-plan knowledge graph" in html and "城市发展计划知识图谱" in zh
    rows = re.findall(r'<tr><td><a href="([^"]+)"[^>]*>([^<]+)</a></td><td class="num">([\d,]+)</td>'
                      r'<td class="num">([\d,]+)</td></tr>', html.split('id="datasets-h"')[1].split("</table>")[0])
    expected = {r["ds"].value: (int(r["facts"].value), int(r["areas"].value)) for r in kg.select(
        "SELECT ?ds (COUNT(DISTINCT ?f) AS ?facts) (COUNT(DISTINCT ?a) AS ?areas) "
        "WHERE { ?f a ep:Fact ; qb:dataSet ?ds OPTIONAL { ?f ep:refArea ?a } } GROUP BY ?ds")}
    assert len(rows) == len(expected) >= 3
    shown = {href: (int(f.replace(",", "")), int(a.replace(",", ""))) for href, _, f, a in rows}
    assert shown == {iri.replace("https://w3id.org/econplan", ""): n for iri, n in expected.items()}
    assert [f for f, _ in shown.values()] == sorted((f for f, _ in shown.values()), reverse=True)
    assert "Headline 2023 figures and 2024 GDP growth targets of 16 cities" in html
    assert "16个城市2023年主要指标及2024年地区生产总值增长目标" in zh
    # what the data cannot answer: a card on the home page and a link in every page's footer
    assert '<a href="/cannot-answer" id="card-cannot-answer"><strong>What the data cannot answer</strong>' in html
    assert '<a href="/cannot-answer" id="card-cannot-answer"><strong>数据无法回答的问题</strong>' in zh
    footer = text(get(client, "/id/indicator/gdp", lang="en")).split('<footer class="site">')[1]
    assert '<a href="/cannot-answer">What the data cannot answer</a>' in footer


# -- security headers ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/queries", "/editor", "/ontology", "/shapes",
                                  "/id/district/330109", "/nothing-here", "/static/site.css"])
def test_security_headers(client, path):
    resp = get(client, path)
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "unsafe-eval" not in csp
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    assert resp.headers.get("Referrer-Policy")


def test_no_cdn_or_external_asset_anywhere(root):
    for folder in ("server/web/templates", "server/web/static"):
        for p in (root / folder).glob("*"):
            if p.is_file() and p.suffix in (".html", ".js", ".css"):
                body = p.read_text(encoding="utf-8")
                assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", body), p
                assert not re.search(r"""url\(\s*["']?(https?:)?//""", body), p
                assert "cdn" not in body.lower(), p


def test_vendored_packages_carry_their_licences(root):
    vendor = root / "server/web/static/vendor"
    for pkg, main in [("yasgui", "yasgui.min.js"), ("vega", "vega.min.js"), ("vega-lite", "vega-lite.min.js"),
                      ("vega-embed", "vega-embed.min.js"), ("vega-interpreter", "vega-interpreter.js")]:
        assert (vendor / pkg / main).is_file(), pkg
        assert (vendor / pkg / "LICENSE").is_file(), pkg
        assert (vendor / pkg / "LICENSE").stat().st_size > 500, pkg
    assert (vendor / "yasgui/yasgui.min.css").is_file()
    assert (vendor / "yasgui/THIRD-PARTY-NOTICES.txt").is_file()
    assert "MIT" in (vendor / "yasgui/LICENSE").read_text()


def test_html_pages_are_gzipped_for_clients_that_accept_it(client):
    resp = get(client, "/ontology", **{"Accept-Encoding": "gzip, deflate"})
    assert resp.headers.get("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in resp.headers.get("Vary", "")
    assert b"<!doctype html>" in gzip.decompress(resp.get_data())


def test_error_page_is_html(app):
    from server.web.pages import error_page

    with app.test_request_context("/x?lang=en", headers=HTML):
        resp = error_page(404, "nothing at /x")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert "nothing at /x" in resp.get_data(as_text=True)


def test_unknown_page_is_an_html_404_for_browsers_and_json_otherwise(client):
    resp = get(client, "/no/such/page")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    resp = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert resp.status_code == 404 and resp.get_json()["ok"] is False


# -- entity pages: dereferencing and content negotiation ------------------------------------------

def test_entity_html_by_default(client):
    for accept in (None, "text/html", "*/*"):
        resp = client.get("/id/district/330109", headers={"Accept": accept} if accept else {})
        assert resp.status_code == 200 and resp.mimetype == "text/html", accept
        assert "Accept" in resp.headers.get("Vary", "")


@pytest.mark.parametrize("accept,media,fmt", [
    ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
    ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("text/turtle;q=0.9, text/html;q=0.5", "text/turtle", ox.RdfFormat.TURTLE),
])
def test_entity_rdf_by_accept(client, accept, media, fmt):
    resp = client.get("/id/district/330109", headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.mimetype == media
    assert "Accept" in resp.headers.get("Vary", "")
    triples = list(ox.parse(resp.get_data(), format=fmt))
    node = V.district("330109")
    assert any(t.subject == node and t.predicate == V.EP.gb2260 and t.object.value == "330109" for t in triples)
    # incoming links travel with the resource
    assert any(t.object == node and t.predicate == V.EP.district for t in triples)
    assert resp.headers.get("Content-Location", "").startswith("/id/district/330109.")


@pytest.mark.parametrize("suffix,media,fmt", [(".ttl", "text/turtle", ox.RdfFormat.TURTLE),
                                              (".jsonld", "application/ld+json", ox.RdfFormat.JSON_LD),
                                              (".nt", "application/n-triples", ox.RdfFormat.N_TRIPLES)])
def test_entity_format_variants(client, suffix, media, fmt):
    resp = client.get("/id/hangzhou/2023-plan/fact/gdp-2023" + suffix)
    assert resp.status_code == 200 and resp.mimetype == media
    triples = list(ox.parse(resp.get_data(), format=fmt))
    assert any(t.predicate == V.EP.value and t.object.value == "20059" for t in triples)


def test_jsonld_is_json(client):
    data = json.loads(client.get("/id/district/330109", headers={"Accept": "application/ld+json"}).get_data())
    assert data["@context"]["district"] == V.ID + "district/"  # compact, with its context
    ids = [n.get("@id") for n in data.get("@graph", [data])]
    assert "district:330109" in ids


def test_unacceptable_media_type_is_406(client):
    resp = client.get("/id/district/330109", headers={"Accept": "image/png"})
    assert resp.status_code == 406


@pytest.mark.parametrize("path", ["/id/district/999999", "/id/nothing/here", "/def/NoSuchTerm",
                                  "/id/district/999999.ttl", "/source/nothing.csv"])
def test_unknown_iri_is_404(client, path):
    assert get(client, path).status_code == 404
    assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 404


def test_every_iri_of_the_data_dereferences(client, kg):
    """Every /id/ and /def# IRI that has triples answers with RDF about itself."""
    iris = set()
    for q in kg.store:
        for t in (q.subject, q.object):
            # (the namespace IRI ep: itself, a void:vocabulary value, links to the ontology, /def)
            if isinstance(t, ox.NamedNode) and t.value.startswith((V.ID, V.DEF)) and t.value != V.DEF:
                iris.add(t.value)
    assert len(iris) > 1000
    from server.web.terms import local_url

    for iri in sorted(iris):
        url = local_url(iri)
        assert url, iri
        resp = client.get(url, headers={"Accept": "application/n-triples"})
        assert resp.status_code == 200, (iri, url)
        node = ox.NamedNode(iri)
        triples = list(ox.parse(resp.get_data(), format=ox.RdfFormat.N_TRIPLES))
        assert any(t.subject == node or t.object == node for t in triples), iri


def test_one_page_of_each_kind_of_resource_renders(client, kg):
    seen = {}
    for q in kg.store.quads_for_pattern(None, V.RDF_TYPE, None, None):
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(V.ID):
            seen.setdefault(q.object.value, q.subject.value)
    from server.web.terms import local_url

    for cls, iri in seen.items():
        resp = get(client, local_url(iri))
        assert resp.status_code == 200, (cls, iri)
        assert "<h1>" in text(resp)


def test_entity_page_shows_labels_types_properties_and_links(client):
    html = text(get(client, "/id/hangzhou/2023-plan/fact/gdp-2023", lang="en"))
    assert "<h1>gross regional product (GDP)" in html           # English label as the title
    assert "2023年地区生产总值" in html                            # the Chinese label too
    assert 'href="/def/Observation"' in html                     # its type, linked to its page
    assert 'href="/id/indicator/gdp"' in html                    # IRIs of the data link to their pages
    assert 'href="/id/district/330100"' in html
    assert "ep:refPeriod" in html and "ep:value" in html
    assert 'href="/id/hangzhou/2023-plan/fact/gdp-2023.ttl"' in html
    # a resource with incoming links lists them
    html = text(get(client, "/id/indicator/gdp", lang="en"))
    assert 'href="/id/hangzhou/2023-plan/fact/gdp-2023"' in html


def test_fact_pages_highlight_the_number_in_the_source_sentence(client, kg):
    rows = kg.select("""
        SELECT ?fact ?exact ?pstart ?vs ?ve WHERE {
          ?fact ep:valueStart ?vs ; ep:valueEnd ?ve ; prov:wasDerivedFrom ?p .
          ?p oa:exact ?exact ; oa:start ?pstart .
          FILTER(STRSTARTS(STR(?fact), "https://w3id.org/econplan/id/hangzhou/2023-plan/fact/"))
        }""")
    assert len(rows) > 300
    from server.web.terms import local_url

    for r in rows:
        a = int(r["vs"].value) - int(r["pstart"].value)
        b = int(r["ve"].value) - int(r["pstart"].value)
        number = r["exact"].value[a:b]
        html = text(get(client, local_url(r["fact"].value)))
        assert f'<mark class="number">{number}</mark>' in html, r["fact"].value
    html = text(get(client, "/id/hangzhou/2023-plan/fact/gdp-2023"))
    assert '<mark class="number">20059</mark>' in html
    assert "全市<span class=\"mention\">地区生产总值实现</span><mark class=\"number\">20059</mark>" in html


def test_fact_with_a_lost_value_underlines_its_mention(client, kg):
    rows = kg.select("SELECT ?f ?m WHERE { ?f ep:valueLost true ; ep:mention ?m }")
    if not rows:
        pytest.fail("precondition missing from the data: no fact with a lost value in the data")
    from server.web.terms import local_url

    for r in rows:
        html = text(get(client, local_url(r["f"].value)))
        assert 'class="mention"' in html, r["f"].value


def test_passage_page_marks_the_numbers_of_its_facts(client):
    html = text(get(client, "/id/hangzhou/2023-plan/passage/p005-s01"))
    assert '<a class="hl-link" href="/id/hangzhou/2023-plan/fact/gdp-2023"><mark class="number">20059</mark></a>' in html


def _named_in_csv(root, district: str | None = None) -> dict[str, list[dict]]:
    """The report's named things by kind, read from the curated entity files (not the graph);
    with ``district``, only those the text places there."""
    import csv

    out: dict[str, list[dict]] = {}
    for path in sorted((root / "data" / "hangzhou" / "2023-plan").glob("*.entities.csv")):
        with open(path, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["kind"] in ("domain", "workarea"):
                    continue
                if district is None or row["district"] == district:
                    out.setdefault(row["kind"], []).append(row)
    return out


def _named_group(html: str, kind: str) -> str:
    return html.split(f'id="named-{kind}"')[1].split("</details>")[0]


def _iri_path(row) -> str:
    return f"/id/hangzhou/{row['type']}/{row['slug']}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_city_page_lists_the_reports_named_things_by_kind(client, root, lang):
    from markupsafe import escape

    named = _named_in_csv(root)
    assert sum(len(v) for v in named.values()) == 333
    html = text(get(client, "/id/district/330100", lang=lang))
    section = html.split('id="named-things"')[1].split('id="district-facts"')[0]
    assert '<span class="badge">333</span>' in section.split("</h3>")[0]
    label = {"zh": {"project": "项目", "pilot": "试点", "zone": "园区或功能区"},
             "en": {"project": "Project", "pilot": "Pilot", "zone": "Zone"}}[lang]
    for kind, rows in named.items():
        group = _named_group(section, kind)
        assert f'<span class="badge">{len(rows)}</span></summary>' in group, kind
        assert group.count("<li>") == len(rows), kind
        if kind in label:
            assert f"<summary>{label[kind]} " in group
        for row in rows:
            assert f'href="{_iri_path(row)}"' in group, (kind, row["slug"])
            assert str(escape(row["label_zh" if lang == "zh" else "label_en"])) in group, row["slug"]
    # a thing the text places in a district names it beside it
    xiaoshan = "萧山区" if lang == "zh" else "Xiaoshan"
    item = _named_group(section, "project").split('href="/id/hangzhou/project/xiaoshan-city-cultural-park"')[1]
    assert xiaoshan in item.split("</li>")[0]


@pytest.mark.parametrize("kind", ["project", "zone", "organization", "event", "pilot", "programme",
                                  "policy", "platform"])
def test_every_kind_of_named_thing_shows_what_the_report_says(client, root, kind):
    """A named thing's page quotes every sentence that names it, with its district and domain."""
    rows = _named_in_csv(root)[kind]
    row = next((r for r in rows if r["district"]), None) or max(rows, key=lambda r: len(r["passages"].split()))
    html = text(get(client, _iri_path(row), lang="zh"))
    assert '<section class="about-view"' in html, row["slug"]
    view = html.split('<section class="about-view"')[1].split("</section>")[0]
    for pid in row["passages"].split():
        assert f'href="/id/hangzhou/2023-plan/passage/{pid}"' in view, (row["slug"], pid)
    assert view.count('<blockquote class="sentence"') >= len(row["passages"].split())
    if row["district"]:
        assert f'href="/id/district/{row["district"]}"' in view


def test_district_page_lists_its_named_things_and_facts(client, kg, root):
    html = text(get(client, "/id/district/330109", lang="zh"))
    named = _named_in_csv(root, "330109")
    assert sum(len(v) for v in named.values()) >= 3
    section = html.split('id="named-things"')[1].split('id="district-facts"')[0]
    assert section.count("<li>") == sum(len(v) for v in named.values())
    for kind, rows in named.items():
        group = _named_group(section, kind)
        for row in rows:
            assert f'href="{_iri_path(row)}"' in group and row["label_zh"] in group, row["slug"]
    # a district the text places nothing in lists nothing (not the city's things)
    assert _named_in_csv(root, "330102") == {}
    shangcheng = text(get(client, "/id/district/330102", lang="zh"))
    section = shangcheng.split('id="named-things"')[1].split('id="district-facts"')[0]
    assert '<span class="badge">0</span>' in section and "<details" not in section
    facts = kg.select("SELECT DISTINCT ?f WHERE { { ?f ep:refArea district:330109 } UNION "
                      "{ ?f ep:about district:330109 } }")
    if facts:
        table = html.split('id="facts"')[1].split("</table>")[0]
        for r in facts:
            assert 'href="%s"' % r["f"].value.replace(V.ID, "/id/") in table
    else:
        assert 'id="facts"' not in html
    # the city lists the facts with ep:refArea; its plan assessments (ep:refArea too) are no facts
    city = text(get(client, "/id/district/330100"))
    n = len(kg.select("SELECT DISTINCT ?f WHERE { { ?f ep:refArea district:330100 } UNION "
                      "{ ?f ep:about district:330100 } ?f a ep:Fact }"))
    table = city.split('id="facts"')[1].split("</table>")[0].split("<tbody>")[1]
    assert table.count("<tr ") == n
    assert "plan-assessment" not in table


# -- ontology and shapes ------------------------------------------------------------------

def test_ontology_page_lists_classes_with_instance_counts(client, kg):
    html = text(get(client, "/ontology", lang="en"))
    classes = kg.select("SELECT ?c WHERE { GRAPH ?g { ?c a owl:Class } "
                        "FILTER(STRSTARTS(STR(?c), STR(ep:))) }")
    assert len(classes) >= 15
    for r in classes:
        local = r["c"].value[len(V.DEF):]
        n = int(kg.select(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a/rdfs:subClassOf* <{r['c'].value}> }}")[0]["n"].value)
        m = re.search(rf'data-class="{re.escape(local)}">([\d,]+)<', html)
        assert m, local
        assert int(m.group(1).replace(",", "")) == n, local
        assert f'id="{local}"' in html                   # /def#Term and /ontology#Term anchors
    for prop in ("indicator", "refArea", "value", "mention", "district"):
        assert f'id="{prop}"' in html
    uses = int(kg.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?o WHERE { ?s ep:indicator ?o } }")[0]["n"].value)
    block = html.split('id="indicator"')[1].split("</article>")[0]
    assert f"{uses:,} uses" in block
    assert "Fact" in html and "事实" in html


def test_ontology_names_the_shapes_that_apply(client, kg):
    targets = kg.select("SELECT ?shape ?c WHERE { ?shape sh:targetClass ?c FILTER(STRSTARTS(STR(?c), STR(ep:))) }")
    if not targets:
        pytest.fail("precondition missing from the data: no shapes with sh:targetClass yet")
    html = text(get(client, "/ontology"))
    for r in targets:
        local = r["c"].value[len(V.DEF):]
        block = html.split(f'id="{local}"')[1].split("</article>")[0]
        assert r["shape"].value.replace(SHAPES_NS, "/shapes#") in block, (local, r["shape"].value)


def test_shapes_page_lists_every_shape_with_bilingual_messages(client, kg):
    shapes = kg.select("SELECT DISTINCT ?s WHERE { ?s a sh:NodeShape FILTER(isIRI(?s)) }")
    if not shapes:
        pytest.fail("precondition missing from the data: no shapes yet")
    html = text(get(client, "/shapes"))
    from markupsafe import escape

    for r in shapes:
        anchor = r["s"].value[len(SHAPES_NS):]
        assert f'id="{anchor}"' in html, anchor
        for m in kg.select(f"SELECT ?m WHERE {{ <{r['s'].value}> sh:message ?m }}"):
            assert str(escape(m["m"].value)) in html
    langs = {m["l"].value for m in kg.select("SELECT DISTINCT (LANG(?m) AS ?l) WHERE { ?s sh:message ?m }")}
    assert {"zh", "en"} <= langs
    assert 'lang="zh"' in html and 'lang="en"' in html


def test_ontology_and_shapes_download_as_turtle(client, kg):
    onto = client.get("/ontology.ttl")
    assert onto.status_code == 200 and onto.mimetype == "text/turtle"
    triples = spo(onto.get_data(), ox.RdfFormat.TURTLE)
    assert (V.EP.Fact, V.RDF_TYPE, V.OWL.Class) in triples
    shapes = client.get("/shapes.ttl")
    assert shapes.status_code == 200 and shapes.mimetype == "text/turtle"
    list(ox.parse(shapes.get_data(), format=ox.RdfFormat.TURTLE))
    # /def is the ontology document for RDF clients
    resp = client.get("/def", headers={"Accept": "text/turtle"})
    assert (V.EP.Fact, V.RDF_TYPE, V.OWL.Class) in spo(resp.get_data(), ox.RdfFormat.TURTLE)
    assert client.get("/def.jsonld").mimetype == "application/ld+json"


def test_dumps_are_served_from_the_build(client, built):
    for name, media in (("econplan.trig", "application/trig"), ("econplan.nq", "application/n-quads")):
        resp = client.get(f"/dumps/{name}")
        assert resp.status_code == 200 and resp.mimetype == media
        assert resp.get_data() == (built / name).read_bytes()
        resp.close()
    assert client.get("/dumps/secrets.txt").status_code == 404
    assert client.get("/dumps/../VERSION").status_code == 404


# -- saved queries over HTTP ----------------------------------------------------------------

def test_queries_list(client, library):
    assert library, "the saved queries did not load"
    zh = text(get(client, "/queries", lang="zh"))
    en = text(get(client, "/queries", lang="en"))
    from markupsafe import escape

    for q in library.values():
        assert f'href="/queries/{q.slug}"' in zh
        assert str(escape(q.title["zh"])) in zh and str(escape(q.title["en"])) in en
        assert str(escape(q.description["en"])) in en
        for tag in q.tags:
            assert tag in zh


def test_queries_json_and_openapi(client, library):
    data = client.get("/queries.json").get_json()
    assert [q["slug"] for q in data["queries"]] == list(library)
    api = client.get("/openapi.json").get_json()
    assert api["openapi"].startswith("3.")
    for slug in library:
        assert f"/queries/{slug}.json" in api["paths"]


def test_every_saved_query_runs_as_json_csv_and_tsv(client, library):
    for q in library.values():
        if any(p.required for p in q.params):
            continue
        resp = client.get(f"/queries/{q.slug}.json")
        assert resp.status_code == 200, (q.slug, resp.get_data()[:300])
        if q.kind == "select":
            assert resp.mimetype == "application/sparql-results+json"
            data = resp.get_json(force=True)
            assert "vars" in data["head"] and "bindings" in data["results"]
            csv = client.get(f"/queries/{q.slug}.csv")
            assert csv.status_code == 200 and csv.mimetype == "text/csv"
            assert csv.get_data(as_text=True).splitlines()[0] == ",".join(data["head"]["vars"])
            tsv = client.get(f"/queries/{q.slug}.tsv")
            assert tsv.status_code == 200 and tsv.mimetype == "text/tab-separated-values"
            assert tsv.get_data(as_text=True).splitlines()[0] == "\t".join("?" + v for v in data["head"]["vars"])
            assert len(csv.get_data(as_text=True).splitlines()) == len(data["results"]["bindings"]) + 1


def test_every_saved_query_page_shows_description_form_table_and_sparql(client, library):
    from markupsafe import escape

    for q in library.values():
        html = text(get(client, f"/queries/{q.slug}", lang="en"))
        assert str(escape(q.description["en"])) in html, q.slug
        assert 'class="sparql"' in html
        for p in q.params:
            assert f'name="{p.name}"' in html, (q.slug, p.name)
        if not any(p.required for p in q.params):
            assert 'id="results-table"' in html or "No results." in html, q.slug
            assert f'href="/queries/{q.slug}.json' in html


def test_typed_inputs_with_defaults(client, library):
    q = first_query(library, lambda q: any(p.type == "year" and p.default for p in q.params))
    if q is None:
        pytest.fail("precondition missing from the data: no query with a year parameter")
    p = next(p for p in q.params if p.type == "year")
    html = text(get(client, f"/queries/{q.slug}"))
    assert re.search(rf'<input id="p-{p.name}" name="{p.name}" type="number" value="{p.default}"', html)
    q = first_query(library, lambda q: any(p.type == "district" for p in q.params))
    p = next(p for p in q.params if p.type == "district")
    html = text(get(client, f"/queries/{q.slug}"))
    assert f'<select id="p-{p.name}" name="{p.name}"' in html
    assert '<option value="330109"' in html


def test_district_parameter_is_bound_as_a_term(client, library, kg):
    q = library.get("district-projects-and-facts") or first_query(
        library, lambda q: any(p.type == "district" for p in q.params))
    if q is None:
        pytest.fail("precondition missing from the data: no query with a district parameter")
    p = next(p for p in q.params if p.type == "district")
    a = client.get(f"/queries/{q.slug}.json?{p.name}=330109").get_json(force=True)
    b = client.get(f"/queries/{q.slug}.json?{p.name}=330106").get_json(force=True)
    assert a != b
    body = json.dumps(a, ensure_ascii=False)
    for r in kg.select("SELECT ?p WHERE { ?p ep:district district:330109 }"):
        if q.slug == "district-projects-and-facts":
            assert r["p"].value in body
    html = text(get(client, f"/queries/{q.slug}?{p.name}=330109"))
    assert '<option value="330109" selected>' in html


def test_string_parameters_are_never_spliced(client, library):
    q = first_query(library, lambda q: any(p.type == "string" for p in q.params))
    if q is None:
        pytest.fail("precondition missing from the data: no query with a string parameter")
    p = next(p for p in q.params if p.type == "string")
    for evil in ('x" } } SELECT * WHERE { ?s ?p ?o } #', "x' . ?a ?b ?c", "}\n} LIMIT 1", '\\"'):
        resp = client.get(f"/queries/{q.slug}.json", query_string={p.name: evil})
        assert resp.status_code == 200, (evil, resp.get_data()[:300])


def test_unknown_slug_is_404(client):
    assert get(client, "/queries/no-such-query").status_code == 404
    assert "no-such-query" in text(get(client, "/queries/no-such-query"))
    for ext in ("json", "csv", "tsv"):
        resp = client.get(f"/queries/no-such-query.{ext}")
        assert resp.status_code == 404
        assert resp.get_json()["ok"] is False


def test_bad_parameter_is_400_naming_it(client, library):
    q = first_query(library, lambda q: any(p.type in ("district", "year", "integer") for p in q.params))
    p = next(p for p in q.params if p.type in ("district", "year", "integer"))
    for ext in ("json", "csv", "tsv"):
        resp = client.get(f"/queries/{q.slug}.{ext}", query_string={p.name: "not-a-value"})
        assert resp.status_code == 400
        err = resp.get_json()["error"]
        assert err["param"] == p.name and p.name in err["message"]
    resp = get(client, f"/queries/{q.slug}?{p.name}=not-a-value")
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    html = text(resp)
    assert 'role="alert"' in html and f"&#39;{p.name}&#39;" in html
    # an unknown parameter is named too
    resp = client.get(f"/queries/{q.slug}.json?nonsense=1")
    assert resp.status_code == 400 and resp.get_json()["error"]["param"] == "nonsense"


def test_missing_required_parameter_is_400_naming_it(client, library):
    q = first_query(library, lambda q: any(p.required for p in q.params))
    if q is None:
        pytest.fail("precondition missing from the data: no query with a required parameter")
    p = next(p for p in q.params if p.required)
    resp = client.get(f"/queries/{q.slug}.json")
    assert resp.status_code == 400 and resp.get_json()["error"]["param"] == p.name
    resp = get(client, f"/queries/{q.slug}?{p.name}=")
    assert resp.status_code == 400 and p.name in text(resp)
    # a first visit shows the form and asks for it, without an error
    resp = get(client, f"/queries/{q.slug}")
    assert resp.status_code == 200 and 'id="query-prompt"' in text(resp)


def test_domains_query_declares_a_bar_chart_and_its_page_draws_it(client, library):
    q = first_query(library, lambda q: "domain" in q.slug and q.chart and q.chart.get("type") == "bar")
    assert q is not None, "the nine domains' investment must be drawn: no domains query with a bar chart"
    html = text(get(client, f"/queries/{q.slug}"))
    assert 'id="chart"' in html
    m = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    data = json.loads(m.group(1))
    assert data["chart"]["type"] == "bar"
    rows = data["results"]["results"]["bindings"]
    assert len(rows) == 9
    assert all(data["chart"]["y"] in r for r in rows)
    for js in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega-interpreter.js", "chart.js"):
        assert js in html


def test_chart_labels_follow_the_page_language(client, library):
    q = first_query(library, lambda q: q.chart and str(q.chart.get("x", "")).endswith("Zh"))
    if q is None or any(p.required for p in q.params):
        pytest.fail("precondition missing from the data: no chart labelled by a Zh variable")
    html = text(get(client, f"/queries/{q.slug}", lang="en"))
    data = json.loads(re.search(r'id="chart-data">(.*?)</script>', html, re.S).group(1))
    vars_ = data["results"]["head"]["vars"]
    if q.chart["x"][:-2] + "En" in vars_:
        assert data["chart"]["x"] == q.chart["x"][:-2] + "En"


def test_json_data_blocks_cannot_close_their_script(client, library):
    for q in library.values():
        html = text(get(client, f"/queries/{q.slug}"))
        for m in re.finditer(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
            assert "<" not in m.group(1), q.slug
            json.loads(m.group(1))


# -- the editor ---------------------------------------------------------------------------------

def test_editor_is_preloaded_with_endpoint_prefixes_and_saved_queries(client, library):
    html = text(get(client, "/editor"))
    cfg = json.loads(re.search(r'id="editor-config">(.*?)</script>', html, re.S).group(1))
    assert cfg["endpoint"].endswith("/sparql")
    assert cfg["prefixes"] == V.PREFIXES
    assert [q["slug"] for q in cfg["queries"]] == list(library)
    assert all(q["sparql"] == library[q["slug"]].sparql for q in cfg["queries"])
    assert "PREFIX ep: <https://w3id.org/econplan/def#>" in cfg["defaultQuery"]
    assert "vendor/yasgui/yasgui.min.js" in html and "vendor/yasgui/yasgui.min.css" in html
    for slug in library:
        assert f'<option value="{slug}"' in html
    assert client.get("/editor/prefixes.json").get_json() == V.PREFIXES


def test_editor_default_query_runs(client):
    html = text(get(client, "/editor"))
    cfg = json.loads(re.search(r'id="editor-config">(.*?)</script>', html, re.S).group(1))
    resp = client.post("/sparql", data={"query": cfg["defaultQuery"]},
                       headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200
    assert resp.get_json(force=True)["results"]["bindings"]


def test_editor_style_hashes_match_the_vendored_yasgui(client, root):
    """The editor's CSP admits YASGUI's two injected <style> texts by hash; they must still be in
    the vendored bundle (else update EDITOR_STYLE_TEXTS after upgrading YASGUI)."""
    from server.web.pages import EDITOR_STYLE_HASHES, EDITOR_STYLE_TEXTS

    bundle = (root / "server/web/static/vendor/yasgui/yasgui.min.js").read_text(encoding="utf-8")
    assert EDITOR_STYLE_TEXTS[0] in bundle
    assert "dragCursor:`col-resize`" in bundle and "`*{cursor:`+n.opt.dragCursor+`!important}`" in bundle
    csp = get(client, "/editor").headers["Content-Security-Policy"]
    style = csp.split("style-src")[1].split(";")[0]
    assert all(h in style for h in EDITOR_STYLE_HASHES) and "unsafe-inline" not in style
    other = get(client, "/").headers["Content-Security-Policy"]
    assert "sha256" not in other


# -- /sparql for browsers, named graphs, the editor's deep link -------------------------------

CHROME_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
                 "application/signed-exchange;v=b3;q=0.7")


def test_sparql_in_a_browser_is_a_page_machines_get_the_description(client):
    page = client.get("/sparql", headers={"Accept": CHROME_ACCEPT})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = text(page)
    assert 'id="service-description"' in html and "sd:endpoint" in html
    assert 'href="/editor"' in html and 'href="/graph/data/vocab/units"' in html
    assert "Accept" in page.headers.get("Vary", "")
    for accept in (None, "*/*", "text/turtle", "application/rdf+xml"):
        resp = client.get("/sparql", headers={"Accept": accept} if accept else {})
        assert resp.status_code == 200 and resp.mimetype != "text/html", accept
    assert client.get("/sparql?format=turtle", headers={"Accept": CHROME_ACCEPT}).mimetype == "text/turtle"


def test_named_graph_iris_dereference(client, kg):
    g = V.GRAPH + "data/vocab/units"
    n = sum(1 for _ in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    assert n > 0
    page = client.get("/graph/data/vocab/units", headers={"Accept": CHROME_ACCEPT})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = text(page)
    assert g in html and f"{n:,}" in html and "?format=turtle" in html
    ttl = client.get("/graph/data/vocab/units", headers={"Accept": "text/turtle"})
    assert ttl.mimetype == "text/turtle"
    parsed = list(ox.parse(ttl.get_data(), format=ox.RdfFormat.TURTLE))
    assert len(parsed) == n
    nq = client.get("/graph/data/vocab/units?format=nquads")
    quads = list(ox.parse(nq.get_data(), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == n and {q.graph_name.value for q in quads} == {g}
    jl = json.loads(client.get("/graph/data/vocab/units", headers={"Accept": "application/ld+json"}).get_data())
    assert "@context" in jl
    missing = client.get("/graph/data/nothing", headers={"Accept": "text/turtle"})
    assert missing.status_code == 404 and "no named graph" in missing.get_json()["error"]["message"]


def test_editor_deep_link_opens_the_saved_query(client, library):
    slug = next(iter(library))
    html = text(get(client, f"/editor?query={slug}", lang="en"))
    cfg = json.loads(html.split('id="editor-config">')[1].split("</script>")[0])
    assert cfg["initial"] == {"slug": slug, "title": library[slug].title["en"], "sparql": library[slug].sparql,
                              "run": True}
    cfg = json.loads(text(get(client, "/editor?query=ASK%20%7B%7D")).split('id="editor-config">')[1]
                     .split("</script>")[0])
    assert cfg["initial"]["sparql"] == "ASK {}" and cfg["initial"]["run"] is False
    cfg = json.loads(text(get(client, "/editor")).split('id="editor-config">')[1].split("</script>")[0])
    assert "initial" not in cfg


def test_indicator_page_is_a_data_view(client, kg):
    html = text(get(client, "/id/indicator/gdp", lang="en"))
    table = html.split('id="ind-facts"')[1].split("</table>")[0]
    n = len(kg.select("SELECT DISTINCT ?f WHERE { ?f ep:indicator indicator:gdp }"))
    assert table.split("<tbody>")[1].count("<tr ") == n
    assert "2.0059 trillion yuan" in table and "(20,059 亿元)" in table
    assert "/id/hangzhou/2023-plan/passage/p005-s01" in table  # the sentence
    assert 'id="ind-chart-data"' in html and '"axis": "trillion yuan"' in html
    assert 'id="sub-indicators"' in html and 'id="plan-status"' in html
    zh = text(get(client, "/id/indicator/gdp", lang="zh"))
    assert "2.0059万亿元" in zh and "(20059亿元)" in zh and '"axis": "万亿元"' in zh


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_indicator_page_shows_the_plan_assessment_per_area_and_year(client, root, lang):
    """Each row of the report's plan-status table is on its indicator's page: met or unmet in the
    page's language, with the reason for a shortfall (even where the indicator has no fact)."""
    import csv

    from markupsafe import escape

    with open(root / "data/hangzhou/2023-plan/01-review-headline.plan-status.csv", encoding="utf-8") as fh:
        assessments = list(csv.DictReader(fh))
    assert len(assessments) == 7
    words = {"zh": {"met": "达到目标", "unmet": "未达目标"}, "en": {"met": "met", "unmet": "unmet"}}[lang]
    for a in assessments:
        html = text(get(client, f"/id/indicator/{a['indicator']}", lang=lang))
        table = html.split('id="plan-status"')[1].split("</table>")[0]
        row = [tr for tr in table.split("<tr>") if f"/id/district/{a['area']}\"" in tr and
               f"<td>{a['year']}</td>" in tr]
        assert len(row) == 1, a["indicator"]
        cell = row[0].split(f'data-plan-status="{a["status"]}">')[1]
        assert f">{words[a['status']]}</a>" in cell, a["indicator"]
        reason = a["reason_zh" if lang == "zh" else "reason_en"]
        if reason:
            assert str(escape(reason)) in cell, a["indicator"]
        else:
            assert 'class="meta"' not in cell.split("</td>")[0]


def test_facts_written_in_words_show_their_words_not_a_lost_value(client, kg):
    from server.web.terms import local_url

    rows = kg.select("SELECT ?f ?t WHERE { ?f ep:valueInWords true ; ep:valueText ?t }")
    assert len(rows) >= 25
    for r in rows:
        box = text(get(client, local_url(r["f"].value), lang="zh")).split('id="fact-summary"')[1].split("</dl>")[0]
        assert r["t"].value in box.split("</strong>")[0] and "数值缺失" not in box, r["f"].value
    en = text(get(client, "/id/hangzhou/2023-plan/fact/sci-tech-foundation-projects-investment-2023", lang="en"))
    box = en.split('id="fact-summary"')[1].split("</dl>")[0]
    assert "<strong>over 10 billion yuan</strong>" in box and "(百亿元)" in box


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_area_page_lists_its_plan_assessments(client, root, lang):
    import csv

    from markupsafe import escape

    with open(root / "data/hangzhou/2023-plan/01-review-headline.plan-status.csv", encoding="utf-8") as fh:
        assessments = [a for a in csv.DictReader(fh) if a["area"] == "330100"]
    html = text(get(client, "/id/district/330100", lang=lang))
    table = html.split('id="area-plan"')[1].split("</table>")[0]
    rows = table.split("<tbody>")[1].split("<tr>")[1:]
    assert len(rows) == len(assessments) == 7
    for a in assessments:
        row = next(r for r in rows if f'href="/id/indicator/{a["indicator"]}"' in r)
        assert f"<td>{a['year']}</td>" in row and f'data-plan-status="{a["status"]}"' in row
        assert str(escape(a["reason_zh" if lang == "zh" else "reason_en"])) in row
    assert "Plan indicators met or not" in html if lang == "en" else "计划指标完成情况" in html
    assert 'id="area-plan"' not in text(get(client, "/id/district/330109", lang=lang))


def test_fact_page_shows_its_value_readably(client):
    en = text(get(client, "/id/hangzhou/2023-plan/fact/gdp-2023", lang="en"))
    box = en.split('id="fact-summary"')[1].split("</dl>")[0]
    assert "<strong>2.0059 trillion yuan</strong>" in box and "(20,059 亿元)" in box
    assert "level · actual · exact" in box and "Hangzhou" in box
    zh = text(get(client, "/id/hangzhou/2023-plan/fact/gdp-2023", lang="zh"))
    box = zh.split('id="fact-summary"')[1].split("</dl>")[0]
    assert "<strong>2.0059万亿元</strong>" in box and "(20059亿元)" in box and "总量 · 实际 · 确数" in box


@pytest.mark.parametrize("lang,reading", [("zh", "万亿元"), ("en", "trillion yuan")])
def test_amounts_in_yuan_read_in_readable_units_beside_the_exact_number(client, lang, reading):
    """A saved query's column of amounts converted to yuan keeps the exact number and shows a
    reading beside it (Hangzhou's GDP, 2005900000000 yuan: 2.0059万亿元 / 2.0059 trillion yuan)."""
    import re

    r = client.get(f"/queries/largest-amounts-in-yuan?area=330100&year=2023&lang={lang}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    cells = re.findall(r'<td class="num">(.*?)</td>', page)
    read = [c for c in cells if 'class="reading"' in c]
    assert read, "no amount was given a reading"
    gdp = next(c for c in read if "2005900000000" in c)
    assert f"2.0059{'' if lang == 'zh' else ' '}{reading}" in gdp
    # small numbers and other columns are left alone
    assert all(re.search(r"\d{5,}", c) for c in read)


def test_the_country_is_charted_apart_from_the_cities(client):
    """On GDP's page the cities' levels share a chart without the country (China's 126万亿元 on the
    same axis would flatten every city's line); Beijing, a province-level municipality, is a city."""
    import json
    import re

    page = client.get("/id/indicator/gdp?lang=en").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="ind-chart-data">(.*?)</script>',
                                page, re.S).group(1))
    areas = [{p["area"] for p in panel["points"]} for panel in data["panels"]]
    with_cities = [a for a in areas if "Hangzhou" in a]
    assert with_cities and all("China" not in a for a in with_cities)
    assert any("Beijing" in a for a in with_cities)


def test_an_imported_figure_shows_the_words_it_was_read_in_on_its_page(client):
    """A figure of data/sources/cities-2023/figures.csv: its page quotes its source page's words
    (ep:sourceQuote) with the number as written marked, and links the page."""
    fact = "/id/china/cities-2023-figures/fact/cities-2023-figures-320100-gdp-level-2023-estimate"
    for lang, heading in (("zh", "来源网页上的原文"), ("en", "The words on its source page")):
        html = text(get(client, fact, lang=lang))
        section = html.split('id="quote-h"')[1].split("</section>")[0]
        assert heading in section
        assert '总量<mark class="number">1.75</mark>万亿元左右' in section.replace("\n", ""), section
        assert 'href="http://tibet.cn/cn/Instant/local/202401/t20240117_7559216.html"' in section
    # a curated fact of the report has its sentence, and no quote section
    curated = get(client, "/id/hangzhou/2023-plan/fact/gdp-2023", lang="en")
    assert curated.status_code == 200 and 'id="source-h"' in text(curated) and 'id="quote-h"' not in text(curated)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_county_has_its_page_where_the_graph_describes_it(client, lang):
    """A county-level area the graph describes (the curated city's; another city's once a
    dataset is about it: tests/test_tables.py) has a page with its parent, and its search entry
    names the parent; one that no data is about is not in the graph (丹寨县: 404, not an error)."""
    html = text(get(client, "/id/district/330109", lang=lang))
    assert "萧山区" in html and "Xiaoshan" in html and "33 01 09" in html
    assert 'href="/id/district/330100"' in html
    assert 'href="/id/district/330109"' in text(get(client, "/id/district/330100", lang=lang))
    found = text(get(client, "/search?q=" + "萧山区", lang=lang))
    item = found.split('href="/id/district/330109"')[1].split("</li>")[0]
    assert ("属杭州市" if lang == "zh" else "in Hangzhou") in item
    assert get(client, "/id/district/522636", lang=lang).status_code == 404
    # a district parameter takes any area's code, and the form shows it chosen
    form = text(get(client, "/queries/largest-amounts-in-yuan?area=330109", lang=lang))
    assert '<option value="330109" selected>' in form
