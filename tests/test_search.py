"""Search (server/kg/search.py) against the real built store and the shipped saved queries."""
from __future__ import annotations

import html

import pyoxigraph as ox
import pytest

from server.kg import search as S

IND = "https://w3id.org/econplan/id/indicator/"
DISTRICT = "https://w3id.org/econplan/id/district/"


@pytest.fixture(scope="module")
def index(kg, root):
    return S.index_for(kg, root / "queries")


def group(result, name):
    return next((g for g in result["groups"] if g["type"] == name), None)


def iris(result, name):
    g = group(result, name)
    return [r.get("iri") or r.get("slug") for r in g["results"]] if g else []


def check_spans(result, query):
    """Every span points at the query's text inside the matched text (folded)."""
    terms = S.fold(" ".join(query.split())).split(" ")
    n = 0
    for g in result["groups"]:
        for r in g["results"]:
            assert r["spans"], r
            for a, b in r["spans"]:
                assert any(t in S.fold(r["text"][a:b]) for t in terms), (r["text"], a, b)
                n += 1
            for a, b in r["snippet"]["spans"]:
                assert 0 <= a < b <= len(r["snippet"]["text"])
    return n


def test_index_holds_every_kind_of_thing(index, kg):
    counts = {}
    for item in index.items:
        counts[item.group] = counts.get(item.group, 0) + 1
    stats = kg.stats()
    assert counts["indicator"] == stats.entities["Indicator"]
    assert counts["project"] == stats.entities["Project"]
    assert counts["policy"] == stats.entities["Policy"]
    assert counts["area"] == stats.entities["District"]
    assert counts["sentence"] == int(kg.select("SELECT (COUNT(?s) AS ?n) WHERE { ?s a ep:Sentence }")[0]["n"].value)
    assert counts["query"] == 29 or counts["query"] >= 29
    assert counts["workarea"] > 0 and counts["domain"] == 9


def test_chinese_needs_no_spaces(index):
    r = S.search(index, "生产总值", lang="zh")
    ind = group(r, "indicator")["results"]
    gdp = next(x for x in ind if x["iri"] == IND + "gdp")
    # 生产总值 is one of the indicator's alternative labels: an exact match, shown with its label
    assert gdp["label"] == "地区生产总值" and gdp["text"] == "生产总值" and gdp["match"] == "exact"
    # and a part of a word, typed without spaces, is found inside the label
    part = next(x for x in group(S.search(index, "区生产总", lang="zh"), "indicator")["results"]
                if x["iri"] == IND + "gdp")
    assert part["text"] == "地区生产总值" and part["spans"] == [[1, 5]] and part["match"] == "substring"
    # the GDP sentence is found too, the number's sentence, with its facts
    sent = next(x for x in group(r, "sentence")["results"] if x["iri"].endswith("p005-s01"))
    assert sent["text"][sent["spans"][0][0]:sent["spans"][0][1]] == "生产总值"
    assert sent["facts"] >= 3
    check_spans(r, "生产总值")


def test_english_is_case_insensitive_and_full_width_is_folded(index):
    a = S.search(index, "gross REGIONAL product", lang="en")
    assert IND + "gdp" in iris(a, "indicator")
    r = next(x for x in group(a, "indicator")["results"] if x["iri"] == IND + "gdp")
    assert r["text"] == "gross regional product" and r["lang"] == "en"  # an alternative label
    assert r["spans"] == [[0, 22]] and r["match"] == "exact"
    r = next(x for x in group(S.search(index, "gross REGIONAL", lang="en"), "indicator")["results"]
             if x["iri"] == IND + "gdp")
    assert r["text"].startswith("gross regional product") and r["spans"] == [[0, 14]] and r["match"] == "prefix"
    b = S.search(index, "ＧＤＰ", lang="en")  # typed with a Chinese input method
    assert IND + "gdp" in iris(b, "indicator")
    assert check_spans(b, "ＧＤＰ") > 0


def test_ranking_exact_then_prefix_then_substring_then_text(index):
    r = S.search(index, "萧山", lang="zh", limit=50)
    area = group(r, "area")["results"]
    assert area[0]["iri"] == DISTRICT + "330109" and area[0]["match"] == "exact"  # altLabel 萧山
    order = [g["type"] for g in r["groups"]]
    assert order == [g for g in S.GROUPS if g in order]
    for g in r["groups"]:
        tiers = [S.TIERS.index(x["match"]) for x in g["results"]]
        assert tiers == sorted(tiers), g["type"]
    projects = group(r, "project")["results"]
    assert all(p["match"] == "prefix" for p in projects if p["text"].startswith("萧山"))
    assert all(x["match"] == "text" for x in group(r, "sentence")["results"])


def test_groups_are_capped_and_report_their_total(index):
    r = S.search(index, "亚运", limit=2)
    sent = group(r, "sentence")
    assert sent["total"] > 2 and len(sent["results"]) == 2
    assert r["total"] == sum(g["total"] for g in r["groups"])
    assert len(group(S.search(index, "亚运", limit=1000), "sentence")["results"]) == sent["total"]


def test_saved_queries_by_title_description_and_slug(index):
    zh = S.search(index, "未达目标", lang="zh")
    assert "unmet-plan-indicators-2023" in iris(zh, "query")
    en = S.search(index, "fell short", lang="en")
    q = next(x for x in group(en, "query")["results"] if x["slug"] == "unmet-plan-indicators-2023")
    assert q["field"] == "title" and q["label"] == "The 2023 plan indicators that fell short, and why"
    slug = S.search(index, "unmet", lang="en")
    assert iris(slug, "query")[0] == "unmet-plan-indicators-2023"


def test_a_number_finds_its_sentence(index):
    r = S.search(index, "20059")
    sent = group(r, "sentence")["results"]
    assert [x["iri"].rsplit("/", 1)[-1] for x in sent] == ["p005-s01"]
    a, b = sent[0]["spans"][0]
    assert sent[0]["text"][a:b] == "20059"


def test_several_words_must_all_occur(index):
    r = S.search(index, "萧山 机场", lang="zh")
    assert r["total"] > 0
    for g in r["groups"]:
        for x in g["results"]:
            folded = S.fold(x["text"])
            assert "萧山" in folded and "机场" in folded
    assert S.search(index, "萧山 nosuchword")["total"] == 0


@pytest.mark.parametrize("q", [".*", "(", "[a-z]+", '"} UNION { ?s ?p ?o }', "\\", "%", "' OR 1=1 --"])
def test_no_injection_text_is_text(index, q):
    r = S.search(index, q)
    for g in r["groups"]:
        for x in g["results"]:
            assert S.fold(q) in S.fold(x["text"])  # a literal match only
    assert S.search(index, ".*")["total"] == 0


def test_bounded_and_clear_errors(index):
    with pytest.raises(S.SearchError) as e:
        S.search(index, "x" * (S.MAX_QUERY_LENGTH + 1))
    assert e.value.status == 400 and "at most" in e.value.message
    for empty in ("", "   ", None):
        with pytest.raises(S.SearchError):
            S.search(index, empty)
    with pytest.raises(S.SearchError):
        S.search(index, "gdp", limit=0)
    with pytest.raises(S.SearchError):
        S.search(index, "gdp", groups=["nonsense"])
    assert len(group(S.search(index, "的", limit=10**6), "sentence")["results"]) <= S.MAX_LIMIT
    only = S.search(index, "萧山", groups=["area"])
    assert [g["type"] for g in only["groups"]] == ["area"]


def test_index_is_built_once_per_version(kg, root):
    a = S.index_for(kg, root / "queries")
    assert S.index_for(kg, root / "queries") is a
    other = ox.Store()
    ep = "https://w3id.org/econplan/def#"
    g = ox.NamedNode("https://w3id.org/econplan/graph/t")
    ev = ox.NamedNode("https://w3id.org/econplan/id/hangzhou/2023-plan/event/asian-games")
    org = ox.NamedNode("https://w3id.org/econplan/id/hangzhou/2023-plan/org/ndrc")
    fair = ox.NamedNode("https://w3id.org/econplan/id/hangzhou/2023-plan/event/animation-festival")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    other.extend([
        ox.Quad(ev, rdf_type, ox.NamedNode(ep + "Event"), g),
        ox.Quad(ev, label, ox.Literal("第19届亚运会", language="zh"), g),
        ox.Quad(ev, label, ox.Literal("the 19th Asian Games", language="en"), g),
        ox.Quad(org, rdf_type, ox.NamedNode(ep + "Organization"), g),
        ox.Quad(fair, rdf_type, ox.NamedNode("https://schema.org/Event"), g),
        ox.Quad(fair, label, ox.Literal("中国国际动漫节", language="zh"), g),
        ox.Quad(org, label, ox.Literal("杭州市发展和改革委员会", language="zh"), g),
    ])

    class Small:  # a second data version: anything with select() and version
        version = "other"

        def select(self, sparql):
            res = other.query(sparql, use_default_graph_as_union=True)
            names = [v.value for v in res.variables]
            return [{n: s[n] for n in names if s[n] is not None} for s in res]

    b = S.index_for(Small(), None)
    assert b is not a
    r = S.search(b, "亚运", lang="en")
    assert iris(r, "event") == [str(ev.value)] and group(r, "event")["results"][0]["label"] == "the 19th Asian Games"
    assert iris(S.search(b, "发展和改革"), "entity") == [str(org.value)]
    assert iris(S.search(b, "动漫节"), "event") == [str(fair.value)]
    assert S.index_for(kg, root / "queries") is not a  # rebuilt for the other version...
    assert S.index_for(kg, root / "queries") is S.index_for(kg, root / "queries")  # ...and kept


def test_highlight_escapes_text_not_tags():
    assert S.highlight("a<b>c", [[2, 3]], escape=html.escape) == "a&lt;<mark>b</mark>&gt;c"
    text, spans, cut_a, cut_b = S.snippet("x" * 200 + "目标" + "y" * 200, [(200, 202)], width=40)
    assert text[spans[0][0]:spans[0][1]] == "目标" and cut_a and cut_b and len(text) == 40
