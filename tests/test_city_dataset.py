"""The 16 cities' figures in the graph: data/china/cities-2023-figures/ is exactly what
`econplan import-table` makes of the material as gathered (data/sources/cities-2023/figures.csv),
and the built graph holds every figure with its unit, qualifier, source IRI and vintage.

A missing file fails, it does not skip.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from server.kg.build import build
from server.kg.store import KnowledgeGraph
from server.kg.tables import Fixed, load_vocab, read_any, render_rows

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "data" / "sources" / "cities-2023" / "figures.csv"
DATASET = ROOT / "data" / "china" / "cities-2023-figures"
ROWS = DATASET / "cities-2023-figures.csv"
DS_IRI = "https://w3id.org/econplan/id/china/cities-2023-figures"


def gathered() -> list[dict[str, str]]:
    with FIGURES.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def shipped() -> list[dict[str, str]]:
    with ROWS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_dataset_is_the_import_of_the_gathered_figures():
    rows = read_any(FIGURES, load_vocab(ROOT / "data"), Fixed())
    assert render_rows(rows) == ROWS.read_text(encoding="utf-8")
    assert (DATASET / "published" / "cities-2023-figures.csv").read_bytes() == FIGURES.read_bytes()


def test_each_row_keeps_its_value_and_its_quote_writes_it():
    src = gathered()
    rows = shipped()
    assert len(rows) == len(src) and len(src) >= 117
    for r in rows:
        g = src[int(r["cell"][1:]) - 2]  # the cell (F2) is the value_text of the gathered row
        assert r["as_written"] == g["value_text"] and r["as_written"] in g["quote"], r
        # the number itself: only a thousands separator as written (1,928.9) is dropped
        assert r["value"] == g["value_text"].replace(",", ""), r
        assert r["source"] == g["source_url"]


def test_units_qualifiers_and_vintages_as_published():
    src, rows = gathered(), shipped()
    unit = {"亿元": "yi-yuan", "億元": "yi-yuan", "万亿元": "wan-yi-yuan", "万人": "wan-person",
            "萬人": "wan-person", "元": "yuan", "万元": "wan-yuan", "%": "percent"}
    qualifier = {"": "exact", "左右": "about", "以上": "at-least", "不低于": "at-least", "突破": "over"}
    for r, g in zip(rows, src):
        assert r["unit"] == unit[g["unit"]], r
        assert r["qualifier"] == qualifier[g["qualifier_text"]], r
        word = g["vintage"].split()[0].split(";")[0]
        expected = {"preliminary": "preliminary", "estimate": "estimate", "revised": "revised",
                    "final": "final"}.get(word, "")
        assert r["vintage"] == expected, (r, g["vintage"])
        assert g["vintage"] in r["note"]  # the release as written is kept
    assert sum(r["vintage"] == "estimate" for r in rows) == 6
    assert not any(r["vintage"] == "final" and "预计" in g["vintage"] for r, g in zip(rows, src))


@pytest.fixture(scope="module")
def kg(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    build(ROOT, out)
    return KnowledgeGraph.open(out, mode="memory")


def test_the_graph_holds_16_cities_and_the_country(kg):
    res = kg.select(f"""SELECT (COUNT(DISTINCT ?f) AS ?n) (COUNT(DISTINCT ?a) AS ?areas)
        (SUM(IF(isIRI(?src), 1, 0)) AS ?iris) WHERE {{
        ?f qb:dataSet <{DS_IRI}> ; a ep:Fact ; ep:refArea ?a ; dcterms:source ?src }}""")
    n = len(gathered())  # data/sources/cities-2023/figures.csv: one fact per row
    areas = len({g["area_code"] for g in gathered()})
    assert (int(res[0]["n"].value), int(res[0]["areas"].value), int(res[0]["iris"].value)) == (n, areas, n)
    assert areas == 17
    assert kg.ask(f"""ASK {{ ?f qb:dataSet <{DS_IRI}> ; ep:refArea <https://w3id.org/econplan/id/district/CN> ;
        ep:indicator <https://w3id.org/econplan/id/indicator/gdp> ; ep:valueText "1260582" }}""")


def test_every_figure_carries_the_words_it_was_read_in_on_its_page(kg):
    """The quote column becomes ep:sourceQuote, a Web Annotation specific resource: the source page
    (as dcterms:source) and a text quote selector with the words verbatim, which write the number
    (eps:Fact-valueInQuote checks that in every load)."""
    src = gathered()
    res = kg.select(f"""SELECT ?f ?t ?q ?page ?src WHERE {{
        ?f qb:dataSet <{DS_IRI}> ; ep:valueText ?t ; dcterms:source ?src ; ep:sourceQuote ?sq .
        ?sq a oa:SpecificResource ; oa:hasSource ?page ; oa:hasSelector ?sel .
        ?sel a oa:TextQuoteSelector ; oa:exact ?q }}""")
    assert len(res) == len(src) and len({r["f"] for r in res}) == len(src)
    assert {(r["q"].value, r["page"].value) for r in res} == {(g["quote"], g["source_url"]) for g in src}
    for r in res:
        assert r["page"] == r["src"] and r["t"].value in r["q"].value.replace(",", ""), r


def test_two_vintages_of_one_figure_stand_side_by_side(kg):
    # Guangzhou's 2023 GDP: 突破3万亿元 estimated in the work report, 30355.73亿元 from the bureau
    res = kg.select(f"""SELECT ?t ?u ?q ?v WHERE {{
        ?f qb:dataSet <{DS_IRI}> ; ep:refArea <https://w3id.org/econplan/id/district/440100> ;
           ep:indicator <https://w3id.org/econplan/id/indicator/gdp> ; ep:kind ep:level ;
           ep:valueText ?t ; ep:unit ?u ; ep:qualifier/skos:notation ?q .
        OPTIONAL {{ ?f ep:vintage ?v }} }} ORDER BY ?t""")
    got = sorted((r["t"].value, r["u"].value.rsplit("/", 1)[1], r["q"].value,
                  r["v"].value.rsplit("#", 1)[1] if "v" in r and r["v"] is not None else "") for r in res)
    assert got == [("3", "wan-yi-yuan", "over", "estimate"), ("30355.73", "yi-yuan", "exact", "")]


def test_traditional_units_are_the_same_units(kg):
    assert kg.ask("""ASK { <https://w3id.org/econplan/id/unit/yi-yuan> skos:altLabel "億元"@zh ;
        ep:symbol "亿元" }""")
    assert kg.ask(f"""ASK {{ ?f qb:dataSet <{DS_IRI}> ; ep:refArea <https://w3id.org/econplan/id/district/500000> ;
        ep:indicator <https://w3id.org/econplan/id/indicator/gdp> ; ep:valueText "30145.79" ;
        ep:unit <https://w3id.org/econplan/id/unit/yi-yuan> }}""")


def test_every_indicator_of_the_figures_lists_its_allowed_units_and_each_level_is_in_one():
    """data/vocab/indicators/allowed-units.ttl (checked in the graph by eps:Fact-allowedUnit)."""
    import pyoxigraph as ox

    allowed: dict[str, set[str]] = {}
    for t in ox.parse(path=str(ROOT / "data" / "vocab" / "indicators" / "allowed-units.ttl"), format=ox.RdfFormat.TURTLE):
        assert t.predicate.value == "https://w3id.org/econplan/def#allowedUnit"
        allowed.setdefault(t.subject.value.rsplit("/", 1)[1], set()).add(t.object.value.rsplit("/", 1)[1])
    rows = shipped()
    assert {r["indicator"] for r in rows} <= set(allowed)
    levels = [r for r in rows if r["kind"] == "level"]
    assert len(levels) > 40
    for r in levels:
        assert r["unit"] in allowed[r["indicator"]], r
    assert {r["unit"] for r in rows if r["kind"] in ("growth", "decline")} == {"percent"}
