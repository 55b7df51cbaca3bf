"""Named things of the report: every entity's names are in the sentences it cites, and a reader's
list of the report's named things (tests/data/named-things.csv, written by reading the text, not
from the entities files) is found in the graph with its sentence."""
from __future__ import annotations

import csv
from collections import Counter

import pytest

from server.kg.curation import NAMED_KINDS, entity_name_problems

READING_LIST = "tests/data/named-things.csv"


def test_entity_names_and_cited_sentences_agree(dataset):
    """Every cited sentence writes one of the entity's names, every name is written in a cited
    sentence, and every sentence that writes a name is cited."""
    assert entity_name_problems(dataset) == []


def test_a_sentence_that_names_an_entity_but_is_not_cited_is_a_problem(dataset):
    import copy

    ds = copy.copy(dataset)
    ds.entities = dict(dataset.entities)
    e = copy.copy(ds.entities[("organization", "westlake-university")])
    e.passages = [p for p in e.passages if p.id != "p049-s02"]
    ds.entities[("organization", "westlake-university")] = e
    assert any("p049-s02 writes its name but is not in passages" in p
               for p in entity_name_problems(ds))
    e.alt_labels = ["西湖大学城"]
    assert any("'西湖大学城' is in none of its sentences" in p for p in entity_name_problems(ds))


def test_named_things_are_several_hundred_of_every_kind(dataset):
    kinds = Counter(e.kind for e in dataset.entities.values() if e.kind in NAMED_KINDS)
    assert sum(kinds.values()) >= 300
    assert set(kinds) == set(NAMED_KINDS)
    for e in dataset.entities.values():
        if e.kind in NAMED_KINDS:
            assert e.passages and e.part in ("review", "plan", "both"), e.slug


def _reading_list(root):
    with (root / READING_LIST).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_reading_list_is_in_the_text(root, dataset):
    rows = _reading_list(root)
    assert len(rows) >= 300
    for r in rows:
        assert r["name"] in dataset.passages[r["sentence"]].text, r


def test_the_readers_list_is_found_in_the_graph_with_its_sentence(root, kg):
    """At least 95% of the reader's list: an entity with that name (rdfs:label or skos:altLabel)
    derived from that sentence."""
    rows = kg.select("""SELECT ?name ?id WHERE {
        ?e prov:wasDerivedFrom/ep:passageId ?id ; rdfs:label|skos:altLabel ?name .
        FILTER(lang(?name) = "zh") }""")
    found = {(r["name"].value, r["id"].value) for r in rows}
    wanted = _reading_list(root)
    missing = [(r["name"], r["sentence"]) for r in wanted if (r["name"], r["sentence"]) not in found]
    recall = 1 - len(missing) / len(wanted)
    assert recall >= 0.95, f"recall {recall:.3f}; missing: {missing}"


@pytest.mark.parametrize("name,cls,sentence", [
    ("亚运会", "Event", "p010-s02"), ("亚残运会", "Event", "p010-s02"),
    ("杭州数据交易所", "Organization", "p016-s04"), ("西湖大学", "Organization", "p051-s02"),
    ("八八战略", "Policy", "p040-s01"), ("三个“一号工程”", "Programme", "p003-s01"),
    ("十项重大工程", "Programme", "p038-s04"), ("数字自贸区", "Zone", "p057-s02"),
    ("国家碳达峰试点城市", "Pilot", "p034-s02"), ("中国数谷", "Zone", "p045-s03"),
    ("中国医药港", "Zone", "p045-s03"), ("城市大脑2.0", "Platform", "p067-s02"),
    ("大会展中心", "Project", "p055-s02"), ("杭州博物院", "Project", "p062-s02"),
    ("良渚文化大走廊", "Zone", "p061-s03"), ("宋韵文化传世工程", "Programme", "p061-s03"),
    ("十大攀登行动", "Programme", "p040-s01"),
])
def test_the_issues_examples_are_entities(kg, name, cls, sentence):
    assert kg.ask(f"""ASK {{ ?e a ep:{cls} ; rdfs:label "{name}"@zh ; rdfs:label ?en ;
        prov:wasDerivedFrom passage:{sentence} FILTER(lang(?en) = "en") }}""")


def test_alternative_names_and_report_parts(kg):
    assert kg.ask('ASK { ?e rdfs:label "杭州数据交易所"@zh ; skos:altLabel "数交所"@zh ; '
                  'prov:wasDerivedFrom passage:p054-s02 ; ep:reportPart ep:review , ep:plan ; '
                  'ep:workArea ?w }')
    assert kg.ask('ASK { ?e rdfs:label "中国数谷"@zh ; ep:reportPart ep:plan '
                  'FILTER NOT EXISTS { ?e ep:reportPart ep:review } }')
    # a programme is a policy, a pilot a programme: the superclasses are asserted
    assert kg.ask('ASK { ?e rdfs:label "国家碳达峰试点城市"@zh ; a ep:Pilot , ep:Programme , ep:Policy }')


def test_facts_point_to_the_games(kg):
    rows = kg.select('SELECT ?f WHERE { ?f ep:about ?g . ?g rdfs:label "亚运会"@zh }')
    assert len(rows) >= 6
    rows = kg.select('SELECT ?f WHERE { ?f ep:about ?g . ?g rdfs:label "亚残运会"@zh }')
    assert len(rows) >= 2
