"""Linking Hangzhou with other cities: identifiers, the CSV import through the gate, VoID, federation."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import LiveServer, make_build_dir
from server.kg import vocab as V
from server.kg.citycsv import Lookups, csv_to_quads, read_mapping
from server.kg.errors import DataError
from server.kg import builddir

BIN = Path(sys.executable).parent / "econplan"
CITIES = Path(__file__).resolve().parent.parent / "data" / "china" / "cities-2023-headline"
#: The facts of the headline table and of Hangzhou's report (data/china/cities-2023-figures/ holds
#: other figures of the same cities, from other sources and vintages: tests/test_city_dataset.py).
HEADLINE_AND_HANGZHOU = ('FILTER(STRSTARTS(STR(?f), "https://w3id.org/econplan/id/china/cities-2023-headline/") '
                         '|| STRSTARTS(STR(?f), "https://w3id.org/econplan/id/hangzhou/"))')


def test_iris_carry_city_and_report(kg):
    assert kg.ask("ASK { <https://w3id.org/econplan/id/china/cities-2023-headline/fact/2023-headline-310000-gdp-level-2023> "
                  "ep:valueText '4.72' }")
    assert kg.ask("ASK { <https://w3id.org/econplan/id/hangzhou/2023-plan/fact/gdp-2023> ep:indicator indicator:gdp }")


def test_other_cities_values_are_kept_as_stated(kg):
    rows = kg.select("SELECT ?city ?kind ?t ?q ?sym WHERE { ?f ep:refArea ?a ; ep:indicator indicator:gdp ; "
                     "ep:kind ?kind ; ep:valueText ?t ; ep:qualifier/skos:notation ?q ; ep:unit/ep:symbol ?sym . "
                     "?a rdfs:label ?city FILTER(lang(?city)='en') " + HEADLINE_AND_HANGZHOU + " }")
    got = {(r["city"].value, r["kind"].value.split("#")[1]): (r["t"].value, r["q"].value, r["sym"].value) for r in rows}
    assert len(got) == len(rows)
    assert got[("Shanghai", "level")] == ("4.72", "exact", "万亿元")
    assert got[("Beijing", "level")] == ("4.4", "about", "万亿元")
    assert got[("Chengdu", "level")] == ("2.2", "over", "万亿元")
    assert got[("Ningbo", "level")] == ("16452.8", "exact", "亿元")
    assert got[("Nanjing", "growth")] == ("4.7", "about", "%")
    assert got[("China", "growth")] == ("5.2", "exact", "%")
    assert got[("Hangzhou", "level")] == ("20059", "exact", "亿元")


def test_units_convert_through_multipliers(kg):
    rows = kg.select("""SELECT ?city (?v * ?m AS ?yuan) WHERE {
        ?f ep:indicator indicator:gdp ; ep:kind ep:level ; ep:refPeriod '2023'^^xsd:gYear ;
           ep:value ?v ; ep:unit/ep:multiplier ?m ; ep:refArea/rdfs:label ?city FILTER(lang(?city)='en') """
                     + HEADLINE_AND_HANGZHOU + " }")
    yuan = {r["city"].value: Decimal(r["yuan"].value) for r in rows}
    assert yuan["Hangzhou"] == Decimal("2005900000000")
    assert yuan["Shanghai"] == Decimal("4720000000000")
    assert yuan["Ningbo"] == Decimal("1645280000000")
    assert yuan["Shanghai"] > yuan["Hangzhou"] > yuan["Ningbo"]


def test_hangzhou_growth_is_04_points_above_national(kg):
    rows = kg.select("""SELECT ?hz ?cn ?diff WHERE {
        ?a ep:refArea district:330100 ; ep:indicator indicator:gdp ; ep:kind ep:growth ; ep:value ?hz .
        ?b ep:refArea district:CN ; ep:indicator indicator:gdp ; ep:kind ep:growth ; ep:value ?cn .
        ?c ep:refArea district:330100 ; ep:indicator indicator:gdp ; ep:kind ep:difference ; ep:value ?diff }""")
    r = rows[0]
    assert Decimal(r["hz"].value) - Decimal(r["cn"].value) == Decimal(r["diff"].value) == Decimal("0.4")


def test_identifiers(kg):
    assert kg.ask("ASK { district:330100 owl:sameAs <http://www.wikidata.org/entity/Q4970> , <https://sws.geonames.org/1808926/> }")
    rows = kg.select("SELECT ?c ?w WHERE { ?d ep:gb2260 ?c ; ep:gb2260Wikidata ?w }")
    assert len(rows) == 380  # the provinces, prefectures and Hangzhou's counties (not the countries)
    for r in rows:
        c = r["c"].value
        assert r["w"].value == f"{c[:2]} {c[2:4]} {c[4:]}"
    assert kg.ask("ASK { indicator:gdp skos:closeMatch <http://www.wikidata.org/entity/P2131> ; ep:nbsName '地区生产总值'@zh }")


def test_every_row_has_provenance_to_file_and_row(kg, root):
    import csv

    from server.kg.citycsv import mapping_for

    rows = kg.select("SELECT ?f ?row ?n WHERE { ?f ep:refArea ?a ; prov:wasDerivedFrom ?row . "
                     "?row a ep:SourceRow ; ep:rowNumber ?n ; dcterms:source ?file }")
    # one fact per row of every table under data/<area>/<dataset>/ read through a mapping
    tables = [p for p in (root / "data").glob("*/*/*.csv") if mapping_for(p).exists()]
    assert len(rows) == sum(len(list(csv.DictReader(p.open(encoding="utf-8", newline="")))) for p in tables) >= 13 + 117
    assert len({r["f"].value for r in rows}) == len(rows)
    assert all(r["row"].value.endswith(f"#row={r['n'].value}") for r in rows)


def _lookups(kg):
    return Lookups.from_store(kg)


def test_bad_row_names_the_row(kg, tmp_path):
    bad = tmp_path / "bad.csv"
    text = (CITIES / "2023-headline.csv").read_text(encoding="utf-8").replace("4.72,万亿元", "4.72,万万元")
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as e:
        csv_to_quads(bad, read_mapping(CITIES / "2023-headline.mapping.yaml"), _lookups(kg),
                     ox.NamedNode("urn:g"))
    assert "bad.csv:2 (row 1)" in e.value.message and "万万元" in e.value.message


def test_a_design_figure_is_neither_observed_nor_planned(kg, tmp_path):
    # the classes of a fact follow its status as in curated and drafted data (vocab.fact_classes)
    f = tmp_path / "design.csv"
    f.write_text("city,gb2260,indicator,kind,period,value,unit,qualifier,status,source,note\n"
                 "宁波市,330200,gdp,level,2022,15704.3,亿元,exact,design,test,\n"
                 "宁波市,330200,gdp,level,2023,16452.8,亿元,exact,target,test,\n", encoding="utf-8")
    quads = csv_to_quads(f, read_mapping(CITIES / "2023-headline.mapping.yaml"), _lookups(kg),
                         ox.NamedNode("urn:g"))
    ep = "https://w3id.org/econplan/def#"
    types: dict[str, set[str]] = {}
    for q in quads:
        if q.predicate.value.endswith("#type") and "/fact/" in q.subject.value:
            types.setdefault(q.subject.value, set()).add(q.object.value)
    by_year = {next(y for y in ("2022", "2023") if y in s): t for s, t in types.items()}
    assert by_year["2022"] == {ep + "Fact", "http://purl.org/linked-data/cube#Observation"}
    assert by_year["2023"] == {ep + "Fact", ep + "Target", "http://purl.org/linked-data/cube#Observation"}


def test_malformed_mapping_is_reported(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("dataset: {slug: x}\ncolumns: [\n")
    with pytest.raises(DataError) as e:
        read_mapping(m)
    assert "m.yaml:" in e.value.message


def _scratch_build(built, tmp_path):
    out = tmp_path / "b"
    shutil.copytree(built, out, ignore=shutil.ignore_patterns("*.log", builddir.LOCK))
    return out


def _run(*args):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=180)


def test_import_csv_goes_through_the_gate(built, root, tmp_path):
    out = _scratch_build(built, tmp_path)
    csv_file = tmp_path / "suzhou.csv"
    csv_file.write_text("city,gb2260,indicator,kind,period,value,unit,qualifier,status,source,note\n"
                        "宁波市,330200,gdp,level,2022,15704.3,亿元,exact,actual,test,\n", encoding="utf-8")
    shutil.copy(CITIES / "2023-headline.mapping.yaml", tmp_path / "suzhou.mapping.yaml")
    r = _run("--root", str(root), "--build-dir", str(out), "import-csv", str(csv_file))
    assert r.returncode == 0, r.stderr + r.stdout
    r = _run("--build-dir", str(out), "query", "--format", "json",
             "SELECT ?t ?row WHERE { ?f ep:refPeriod '2022'^^xsd:gYear ; ep:refArea district:330200 ; "
             "ep:valueText ?t ; prov:wasDerivedFrom/oa:exact ?row }")
    b = json.loads(r.stdout)["results"]["bindings"]
    assert b[0]["t"]["value"] == "15704.3" and "15704.3" in b[0]["row"]["value"]


def test_import_csv_rejects_a_whole_file_on_a_violation(built, root, tmp_path):
    out = _scratch_build(built, tmp_path)
    before = builddir.version_of(out)
    csv_file = tmp_path / "bad.csv"
    # row 2 is fine; row 3 gives a growth rate in 亿元, which the shapes reject
    csv_file.write_text("city,gb2260,indicator,kind,period,value,unit,qualifier,status,source,note\n"
                        "宁波市,330200,gdp,level,2021,14594.9,亿元,exact,actual,test,\n"
                        "宁波市,330200,gdp,growth,2021,8.2,亿元,exact,actual,test,\n", encoding="utf-8")
    shutil.copy(CITIES / "2023-headline.mapping.yaml", tmp_path / "bad.mapping.yaml")
    r = _run("--root", str(root), "--build-dir", str(out), "import-csv", str(csv_file))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "row 2" in r.stdout or "row=2" in r.stdout
    assert builddir.version_of(out) == before


def test_void_description(live):
    with urllib.request.urlopen(urllib.request.Request(live.url + "/.well-known/void",
                                                       headers={"Accept": "application/n-triples"})) as r:
        quads = list(ox.parse(r.read(), format=ox.RdfFormat.N_TRIPLES))
    store = ox.Store()
    store.extend([ox.Quad(q.subject, q.predicate, q.object) for q in quads])
    ask = lambda q: bool(store.query("PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcat: <http://www.w3.org/ns/dcat#> "  # noqa: E731
                                     "PREFIX dcterms: <http://purl.org/dc/terms/> " + q))
    assert ask(f"ASK {{ ?d a void:Dataset , dcat:Dataset ; dcterms:license ?l ; dcterms:publisher ?p ; "
               f"dcterms:source ?s ; dcterms:issued ?i ; void:sparqlEndpoint <{live.url}/sparql> ; "
               f"void:dataDump <{live.url}/dumps/econplan.nq> ; void:triples ?n }}")
    assert ask("ASK { ?l a void:Linkset ; void:linkPredicate <http://www.w3.org/2002/07/owl#sameAs> ; void:triples ?n FILTER(?n > 0) }")


# -- federation -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_servers(built, tmp_path_factory):
    """B serves another city's graph; A serves Hangzhou and may call B (and only B) with SERVICE."""
    path_b = tmp_path_factory.mktemp("city-b")
    g = ox.NamedNode(V.GRAPH + "import/wenzhou")
    area = ox.NamedNode(V.ID + "district/330300")
    f = ox.NamedNode(V.ID + "wenzhou/test/fact/gdp-level-2023")
    quads = [ox.Quad(area, V.RDFS_LABEL, ox.Literal("温州市", language="zh"), g),
             ox.Quad(area, V.RDFS_LABEL, ox.Literal("Wenzhou", language="en"), g),
             ox.Quad(f, V.EP.indicator, V.indicator("gdp"), g),
             ox.Quad(f, V.EP.kind, V.EP.level, g),
             ox.Quad(f, V.EP.refArea, area, g),
             ox.Quad(f, V.EP.value, ox.Literal("8730.6", datatype=V.XSD_DECIMAL), g),
             ox.Quad(f, V.EP.unit, V.unit("yi-yuan"), g)]
    make_build_dir(path_b, quads)
    b = LiveServer(path_b, workers=1)
    a = LiveServer(built, env={"ECONPLAN_SERVICE_ALLOWLIST": b.url + "/sparql"}, workers=1)
    yield a, b
    a.stop()
    b.stop()


def _query(url, q):
    data = urllib.parse.urlencode({"query": q}).encode()
    req = urllib.request.Request(url + "/sparql", data=data,
                                 headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_federated_join_to_an_allowed_endpoint(two_servers):
    a, b = two_servers
    status, res = _query(a.url, f"""
        SELECT ?city ?v ?hz WHERE {{
          ?h ep:refArea district:330100 ; ep:indicator indicator:gdp ; ep:kind ep:level ; ep:value ?hz .
          SERVICE <{b.url}/sparql> {{
            ?f ep:indicator indicator:gdp ; ep:kind ep:level ; ep:value ?v ; ep:refArea ?a .
            ?a rdfs:label ?city FILTER(lang(?city) = 'en') }}
        }}""")
    assert status == 200, res
    rows = res["results"]["bindings"]
    assert [(r["city"]["value"], r["v"]["value"], r["hz"]["value"]) for r in rows] == [("Wenzhou", "8730.6", "20059")]


def test_service_not_on_the_allow_list_is_refused(two_servers):
    a, _ = two_servers
    status, res = _query(a.url, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert status == 403 and "allow-list" in res["error"]["message"]
