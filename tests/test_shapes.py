"""The SHACL shapes (shapes/*.ttl) against small fixtures and against the shipped data.

Fixtures live in ``tests/shapes/<ShapeName>/``.  Every fixture is validated
together with ``ontology/econplan.ttl`` (for the subclass targets) and
``tests/shapes/base.ttl`` (a small, complete and valid world: a report, its
passages, a district, units, an indicator and three facts):

* ``valid-*.ttl`` must give no result at all (no violation, warning or info);
* ``invalid-*.ttl`` must give at least one result of the shape the folder is
  named after (the node shape or one of its property shapes), and its text
  report must equal ``invalid-*.expected.txt``.  After a deliberate change,
  regenerate the snapshots with ``ECONPLAN_UPDATE_SNAPSHOTS=1 pytest
  tests/test_shapes.py`` and review the diff.

Snapshots are made with the default engine (pyshacl-turbo);
tests/test_validation.py checks that pySHACL gives the same results.
"""
from __future__ import annotations

import re

import os
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.kg.build import _rename_blank_nodes
from server.kg.loading import parse_file
from server.kg.validation import EPS, load_shapes, validate

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "shapes"
SH = "http://www.w3.org/ns/shacl#"
EP = "https://w3id.org/econplan/def#"
UPDATE = os.environ.get("ECONPLAN_UPDATE_SNAPSHOTS") == "1"


# ---------------------------------------------------------------------------- helpers (also used by test_validation)

@lru_cache(maxsize=1)
def world() -> tuple:
    """The ontology and the base fixture, as quads."""
    return tuple(parse_file(ROOT / "ontology" / "econplan.ttl") + parse_file(FIXTURES / "base.ttl"))


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*.ttl"))


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def fixture_quads(path: Path) -> list[ox.Quad]:
    """Ontology + base + the fixture; blank nodes renamed by file so that reports are stable."""
    rel = path.relative_to(FIXTURES).as_posix()
    return list(world()) + _rename_blank_nodes(parse_file(path), rel)


_REPORTS: dict = {}


def fixture_report(path: Path, engine: str = "turbo"):
    key = (path, engine)
    if key not in _REPORTS:
        _REPORTS[key] = validate(fixture_quads(path), engine=engine)
    return _REPORTS[key]


def shipped_report(kg, engine: str = "turbo"):
    """The shipped data's report, once per process and engine."""
    key = ("shipped", engine)
    if key not in _REPORTS:
        _REPORTS[key] = validate(kg.store, engine=engine)
    return _REPORTS[key]


@lru_cache(maxsize=1)
def shapes_store() -> ox.Store:
    store = ox.Store()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in load_shapes())
    return store


def _select(store: ox.Store, query: str):
    result = store.query(query, prefixes={"sh": SH, "eps": str(EPS), "ep": EP,
                                          "owl": "http://www.w3.org/2002/07/owl#",
                                          "rdfs": "http://www.w3.org/2000/01/rdf-schema#"})
    return bool(result) if isinstance(result, ox.QueryBoolean) else list(result)


def node_shapes() -> list[str]:
    rows = _select(shapes_store(), "SELECT ?s WHERE { ?s a sh:NodeShape . FILTER(isIRI(?s)) }")
    return sorted(r["s"].value[len(str(EPS)):] for r in rows)


def shape_family(name: str) -> set[str]:
    """The node shape and its property shapes (full IRIs): the sources of its results."""
    iri = str(EPS) + name
    rows = _select(shapes_store(), f"SELECT ?p WHERE {{ <{iri}> sh:property ?p }}")
    return {iri} | {r["p"].value for r in rows if isinstance(r["p"], ox.NamedNode)}


# ---------------------------------------------------------------------------- the shapes themselves

def test_every_ontology_class_has_its_shape():
    ontology = ox.Store()
    ontology.bulk_extend(parse_file(ROOT / "ontology" / "econplan.ttl"))
    classes = [r["c"].value for r in ontology.query(
        f"SELECT ?c WHERE {{ ?c a <http://www.w3.org/2002/07/owl#Class> . FILTER(STRSTARTS(STR(?c), '{EP}')) }}")]
    assert len(classes) >= 19
    for cls in classes:
        shape = str(EPS) + cls[len(EP):] + "Shape"
        rows = _select(shapes_store(), f"ASK {{ <{shape}> a sh:NodeShape ; sh:targetClass <{cls}> }}")
        assert rows, f"no {shape} with sh:targetClass {cls}"


def test_every_node_shape_has_valid_and_invalid_fixtures():
    for name in node_shapes():
        folder = FIXTURES / name
        assert list(folder.glob("valid-*.ttl")), f"{folder}: no valid-*.ttl"
        assert list(folder.glob("invalid-*.ttl")), f"{folder}: no invalid-*.ttl"
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} <= set(node_shapes())


CONSTRAINT_PARAMETERS = [f"sh:{p}" for p in (
    "class", "datatype", "nodeKind", "minCount", "maxCount", "minExclusive", "minInclusive",
    "maxExclusive", "maxInclusive", "minLength", "maxLength", "pattern", "languageIn", "uniqueLang",
    "equals", "disjoint", "lessThan", "lessThanOrEquals", "not", "and", "or", "xone", "node",
    "hasValue", "in", "closed", "qualifiedValueShape")]


def test_every_constraint_has_a_message_in_chinese_and_english():
    """Every shape that reports results (targeted node shapes, their property shapes) and every
    SPARQL constraint says what is wrong and what to do, in zh and en."""
    store = shapes_store()
    params = " ".join(CONSTRAINT_PARAMETERS)
    reporting = _select(store, f"""
        SELECT DISTINCT ?s WHERE {{
          {{ ?s sh:targetClass ?c }} UNION {{ ?n sh:property ?s }}
          ?s ?param ?v . VALUES ?param {{ {params} }}
        }}""")
    sparql = _select(store, "SELECT DISTINCT ?s WHERE { ?shape sh:sparql ?s }")
    assert len(reporting) > 80 and len(sparql) >= 20
    missing = []
    for row in reporting + sparql:
        s = row["s"]
        langs = {q.object.language for q in store.quads_for_pattern(s, ox.NamedNode(SH + "message"), None)}
        if not {"zh", "en"} <= langs:
            missing.append(str(s))
    assert not missing, f"shapes without a zh and en sh:message: {missing}"


def test_sparql_constraints_follow_the_pre_binding_rules():
    """SHACL 5.2.1: no VALUES, MINUS or SERVICE; every sub-select projects $this; $this is never re-bound."""
    for row in _select(shapes_store(), "SELECT ?q WHERE { ?c sh:select ?q }"):
        q = row["q"].value
        upper = q.upper()
        for word in ("VALUES", "MINUS", "SERVICE"):
            assert f"{word} " not in upper and f"{word}{{" not in upper, q
        assert "AS $THIS" not in upper and "AS ?THIS" not in upper, q
        for sub in re.split(r"\bSELECT\b", upper)[2:]:  # the keyword, not oa:hasSelector
            assert "$THIS" in sub.split("WHERE")[0], f"a sub-select does not project $this:\n{q}"


def test_shapes_graph_is_valid_shacl():
    """The shapes conform to the SHACL-SHACL shapes (the W3C meta-shapes)."""
    import pyshacl_turbo

    from server.kg.validation import shapes_graph

    conforms, _, text = pyshacl_turbo.meta_validate(shapes_graph(load_shapes()))
    assert conforms, text


# ---------------------------------------------------------------------------- fixtures

def test_base_world_gives_no_result():
    report = validate(list(world()))
    assert report.results == [], report.as_text()


@pytest.mark.parametrize("path", fixture_files(), ids=fixture_id)
def test_fixture(path: Path):
    report = fixture_report(path)
    if path.name.startswith("valid-"):
        assert report.results == [], report.as_text()
        return
    assert path.name.startswith("invalid-"), path
    family = shape_family(path.parent.name)
    own = [r for r in report.results if r.source_shape.strip("<>") in family]
    assert own, f"{path}: no result from {path.parent.name}:\n{report.as_text()}"
    snapshot = path.with_suffix(".expected.txt")
    text = report.as_text()
    if UPDATE or not snapshot.exists():
        snapshot.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{snapshot} did not exist; written, review it and run again")
    assert text == snapshot.read_text(encoding="utf-8"), f"{snapshot} differs (ECONPLAN_UPDATE_SNAPSHOTS=1 to update)"


def test_snapshots_have_fixtures():
    for snap in FIXTURES.glob("*/*.expected.txt"):
        assert snap.with_name(snap.name.replace(".expected.txt", ".ttl")).exists(), f"orphan snapshot {snap}"


# ---------------------------------------------------------------------------- the shipped data

@pytest.fixture(scope="module")
def shipped(kg):
    return shipped_report(kg)


def test_shipped_data_conforms(shipped):
    violations = shipped.by_severity("Violation")
    assert shipped.conforms, "\n".join(f"{r.focus} {r.source_shape} {r.message.get('en')}" for r in violations)


def test_the_reports_own_inconsistencies_are_reported_not_hidden(shipped):
    """336.5 + 195.7 = 532.2 against 532.3 (sh:Info); 19.0% for 390.8 / 2068.5 = 18.89% (sh:Warning)."""
    fact = "<https://w3id.org/econplan/id/hangzhou/2023-plan/fact/"
    notes = {(r.severity, r.focus, r.source_shape.rsplit("#", 1)[-1]) for r in shipped.results}
    assert ("Info", fact + "gov-investment-planned-2024>", "PartsSum-rounding>") in notes
    assert ("Warning", fact + "key-project-investment-share-livelihood-facilities-2024>", "Share-rounding>") in notes
    assert not any(r.source_shape.endswith(("PartsSum-mismatch>", "Share-mismatch>")) for r in shipped.results)


def test_known_gaps_are_warnings(shipped):
    """The README's known gaps: lost numbers, districts without a Wikidata link, targets without a baseline."""
    by_shape: dict[str, set] = {}
    for r in shipped.by_severity("Warning"):
        by_shape.setdefault(r.source_shape.rsplit("#", 1)[-1].rstrip(">"), set()).add(r.focus)
    lost = {f for f in by_shape.get("Fact-valueLostWarning", ())}
    assert {"<https://w3id.org/econplan/id/hangzhou/2023-plan/fact/policy-supermarket-items-online-2023>",
            "<https://w3id.org/econplan/id/hangzhou/2023-plan/fact/citizen-code-service-codes-2023>"} <= lost
    # the Wikidata link is asked of the areas facts are about (宁波, 临平区 …), not of all 3,215
    linked = by_shape.get("District-wikidata", set())
    assert "<https://w3id.org/econplan/id/district/330200>" in linked
    assert "<https://w3id.org/econplan/id/district/330100>" not in linked         # Q4970
    assert "<https://w3id.org/econplan/id/district/522636>" not in linked         # no fact is about 丹寨
    assert 0 < len(linked) < 100
    assert by_shape.get("Indicator-baseline")
    # every lost number is recorded as a source gap
    assert "Fact-lostNumberRecorded" not in by_shape


def _with_change(kg, remove=(), add=()):
    store = ox.Store()
    store.bulk_extend(kg.store)
    for q in remove:
        store.remove(q)
    store.bulk_extend(add)
    return store


def _fact(slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"https://w3id.org/econplan/id/hangzhou/2023-plan/fact/{slug}")


def _dec(v: str) -> ox.Literal:
    return ox.Literal(v, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))


def test_a_wrong_domain_investment_breaks_the_sum_and_the_share(kg):
    f = _fact("key-project-investment-advanced-manufacturing-2024")
    value = ox.NamedNode(EP + "value")
    old = [q for q in kg.store.quads_for_pattern(f, value, None, None)]
    assert old and old[0].object.value == "921.5"
    changed = _with_change(kg, remove=old, add=[ox.Quad(f, value, _dec("931.5"), old[0].graph_name)])
    report = validate(changed, focus={f.value})
    hits = {(r.focus, r.source_shape.rsplit("#", 1)[-1]) for r in report.by_severity("Violation")}
    assert (str(_fact("key-project-planned-investment-2024")), "PartsSum-mismatch>") in hits
    assert (str(_fact("key-project-investment-share-advanced-manufacturing-2024")), "Share-mismatch>") in hits


def test_a_real_conflict_is_caught_but_about_keeps_domains_apart(kg):
    """gdp-2023 stated again with another value conflicts; the nine domain investments, which share
    indicator, period, kind, status and area with the total, differ in ep:about and do not."""
    src = _fact("gdp-2023")
    twin = _fact("gdp-2023-twin")
    value = ox.NamedNode(EP + "value")
    add = []
    for q in kg.store.quads_for_pattern(src, None, None, None):
        obj = _dec("20060") if q.predicate == value else q.object
        if q.predicate.value.endswith(("valueText", "valueStart", "valueEnd")):
            continue
        add.append(ox.Quad(twin, q.predicate, obj, q.graph_name))
    report = validate(_with_change(kg, add=add), focus={twin.value})
    conflicts = {(r.focus, r.value) for r in report.results if r.source_shape.endswith("Fact-conflict>")}
    assert conflicts == {(str(twin), str(src)), (str(src), str(twin))}, report.as_text()
    assert report.counts["Violation"] == 2
