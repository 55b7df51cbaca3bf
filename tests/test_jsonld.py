"""Compact JSON-LD (server/kg/jsonld.py): expanded back by rdflib and by pyoxigraph, it is the
same RDF as the store's."""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from server.kg import jsonld as J

FACT = "https://w3id.org/econplan/id/hangzhou/2023-plan/fact/gdp-2023"
GDP = "https://w3id.org/econplan/id/indicator/gdp"


def rdflib_graph(statements) -> rdflib.Graph:
    g = rdflib.Graph()
    data = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in statements],
                        format=ox.RdfFormat.N_TRIPLES) or b""
    g.parse(data=data.decode(), format="nt")
    return g


def test_fact_page_is_one_compact_node(kg):
    quads = list(kg.store.quads_for_pattern(ox.NamedNode(FACT), None, None, None))
    doc = J.to_jsonld(quads, subject=FACT)
    assert doc["@context"]["ep"] == "https://w3id.org/econplan/def#"
    for p in ("skos", "prov", "dcterms", "schema", "qb", "xsd"):
        assert p in doc["@context"]
    assert doc["@id"] == "fact:gdp-2023" and set(doc["@type"]) == {"ep:Fact", "ep:Observation", "qb:Observation"}
    assert doc["ep:indicator"] == {"@id": "indicator:gdp"}
    assert doc["ep:value"] == {"@value": "20059", "@type": "xsd:decimal"}
    assert doc["ep:refPeriod"] == {"@value": "2023", "@type": "xsd:gYear"}
    assert {"@value": "2023年地区生产总值(总量):2.0059万亿元(20059亿元)", "@language": "zh"} in doc["rdfs:label"]
    assert list(doc)[:3] == ["@context", "@id", "@type"]
    text = J.dumps(doc)
    assert text.endswith("\n") and "20059亿元" in text  # UTF-8, not \\u escapes
    back = rdflib.Graph().parse(data=text, format="json-ld")
    assert len(back) == len(quads) and isomorphic(back, rdflib_graph(quads))


def test_entity_with_incoming_links_is_a_graph(kg):
    quads = kg.describe(GDP)
    doc = J.to_jsonld(quads, subject=GDP)
    assert "@graph" in doc and any(n["@id"] == "indicator:gdp" for n in doc["@graph"])
    back = rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")
    assert isomorphic(back, rdflib_graph(quads))
    ox_back = set(ox.parse(json.dumps(doc).encode(), format=ox.RdfFormat.JSON_LD))
    assert ox_back == {ox.Quad(q.subject, q.predicate, q.object) for q in quads}


def test_whole_store_with_named_graphs_round_trips(kg):
    quads = list(kg.store)
    doc = J.to_jsonld(quads, keep_graphs=True)
    graphs = {n["@id"] for n in doc["@graph"] if "@graph" in n}
    assert "graph:data/hangzhou/2023-plan/01-review-headline.facts" in graphs and len(graphs) == len(kg.graphs())
    text = J.dumps(doc)
    back = set(ox.parse(text.encode(), format=ox.RdfFormat.JSON_LD))
    assert back == set(quads)
    ds = rdflib.Dataset()
    ds.parse(data=text, format="json-ld")
    assert len(ds) == len(quads)
    expected = rdflib.Dataset()
    expected.parse(data=(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").decode(), format="nquads")
    for g in expected.graphs():
        if len(g):
            assert isomorphic(ds.graph(g.identifier), g), g.identifier


def test_literals_keep_their_lexical_form_and_blank_nodes_survive():
    ex = "https://w3id.org/econplan/id/x/"
    s, b = ox.NamedNode(ex + "a"), ox.BlankNode("n1")
    v = ox.NamedNode("https://w3id.org/econplan/def#value")
    triples = [
        ox.Triple(s, v, ox.Literal("5.0", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))),
        ox.Triple(s, ox.NamedNode("http://example.org/p"), b),
        ox.Triple(b, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("x")),
        ox.Triple(s, ox.NamedNode("http://example.org//odd"), ox.NamedNode("http://www.wikidata.org/entity/Q4970")),
    ]
    doc = J.to_jsonld(triples)
    node = next(n for n in doc["@graph"] if n["@id"] == "https://w3id.org/econplan/id/x/a")
    assert node["ep:value"] == {"@value": "5.0", "@type": "xsd:decimal"}
    assert node["http://example.org//odd"] == {"@id": "wd:Q4970"}
    back = rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")
    g = rdflib.Graph().parse(data=(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode(), format="nt")
    assert isomorphic(back, g)
    assert any(str(o) == "5.0" for o in back.objects())


def test_compact_iri_longest_prefix_and_no_scheme_confusion():
    assert J.compact_iri("https://w3id.org/econplan/id/hangzhou/2023-plan/fact/gdp-2023") == "fact:gdp-2023"
    assert J.compact_iri("https://w3id.org/econplan/def#value") == "ep:value"
    assert J.compact_iri("https://schema.org///x") == "https://schema.org///x"  # not schema://x
    assert J.compact_iri("https://w3id.org/econplan/def#") == "https://w3id.org/econplan/def#"
    with pytest.raises(TypeError):
        J.to_jsonld([(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"),
                      ox.Triple(ox.NamedNode("http://e/a"), ox.NamedNode("http://e/b"), ox.NamedNode("http://e/c")))])


def test_entity_page_and_cli_export_are_compact(built, kg, tmp_path):
    """/id/… with Accept: application/ld+json and `econplan export --format jsonld` give compact
    JSON-LD with an @context, holding the same RDF as their Turtle / N-Quads forms."""
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from conftest import ROOT, LiveServer

    server = LiveServer(built, workers=1)
    try:
        def fetch(accept):
            req = urllib.request.Request(server.url + "/id/indicator/gdp", headers={"Accept": accept})
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.headers.get_content_type(), r.read()
        ctype, body = fetch("application/ld+json")
        _, ntriples = fetch("application/n-triples")
    finally:
        server.stop()
    assert ctype == "application/ld+json"
    doc = json.loads(body)
    assert doc["@context"]["skos"] == "http://www.w3.org/2004/02/skos/core#"
    assert any(n.get("@id") == "indicator:gdp" for n in doc["@graph"])
    assert set(ox.parse(body, format=ox.RdfFormat.JSON_LD)) == \
        {ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)}

    econplan = Path(sys.executable).parent / "econplan"
    out = tmp_path / "all.jsonld"
    r = subprocess.run([str(econplan), "--root", str(ROOT), "--build-dir", str(built), "export",
                        "--format", "jsonld", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["@context"]["ep"] == "https://w3id.org/econplan/def#"
    back = list(ox.parse(out.read_bytes(), format=ox.RdfFormat.JSON_LD))
    assert len(set(back)) == len(kg.store)

    def named(quads):  # blank nodes are relabelled by a parser; the isomorphism test is above
        return {q for q in quads if not any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object))}
    assert named(back) == named(kg.store)
