"""The ontology: OWL 2 RL constructs only, every term labelled zh/en, commented, isDefinedBy."""
from __future__ import annotations

import pyoxigraph as ox

from server.kg.loading import parse_file

EP = "https://w3id.org/econplan/def#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"


def _triples(root):
    return parse_file(root / "ontology/econplan.ttl")


def test_every_term_is_labelled_commented_and_defined(root):
    quads = _triples(root)
    subjects = {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)
                and q.subject.value.startswith(EP)}
    assert len(subjects) > 60
    for s in sorted(subjects):
        labels = {q.object.language for q in quads if q.subject.value == s and
                  q.predicate.value == RDFS + "label"}
        assert {"zh", "en"} <= labels, s
        assert any(q.subject.value == s and q.predicate.value == RDFS + "comment" for q in quads), s
        assert any(q.subject.value == s and q.predicate.value == RDFS + "isDefinedBy" for q in quads), s


def test_required_classes_exist(root):
    quads = _triples(root)
    classes = {q.subject.value[len(EP):] for q in quads if q.object.value == OWL + "Class"}
    assert {"Indicator", "Target", "Project", "Domain", "District", "Policy", "Observation",
            "Passage", "Report", "Unit"} <= classes


def test_only_owl2_rl_friendly_constructs(root):
    """No constructs outside OWL 2 RL's comfortable subset (no unions/someValuesFrom in superclasses, no cardinalities)."""
    banned = {"unionOf", "someValuesFrom", "minCardinality", "cardinality", "qualifiedCardinality",
              "hasSelf", "complementOf", "oneOf", "disjointUnionOf"}
    used = {q.predicate.value[len(OWL):] for q in _triples(root) if q.predicate.value.startswith(OWL)}
    assert not used & banned


def test_aligned_with_standard_vocabularies(root):
    text = (root / "ontology/econplan.ttl").read_text(encoding="utf-8")
    for ns in ("purl.org/linked-data/cube#", "skos/core#", "w3.org/ns/prov#", "w3.org/ns/oa#",
               "qudt.org/schema/qudt/", "schema.org/", "purl.org/dc/terms/"):
        assert ns in text
