"""docs/cannot-answer.yaml says only what the built store bears out, in zh and en, and the
README lists the same questions."""
from __future__ import annotations

import pytest

from server.kg import unanswerable as U


@pytest.fixture(scope="module")
def doc(root):
    return U.load(root)


def test_every_claim_holds_against_the_store(kg, doc, root):
    assert U.problems(kg, doc, root / "queries") == []
    ids = {q["id"] for q in doc["questions"]}
    assert {"district-investment", "table-1", "domain-investment-table", "work-area-names"} <= ids
    for q in doc["questions"]:
        assert q["absent"] or q["present"], q["id"]  # every entry is checked by a query


def test_a_contradicted_claim_is_reported(kg, doc, root):
    bad = {"questions": [dict(doc["questions"][0], absent=["ASK { ?f ep:indicator indicator:gdp }"],
                              present=["ASK { ?f ep:indicator indicator:no-such-thing }"],
                              gap="https://w3id.org/econplan/id/hangzhou/2023-plan/gap-none",
                              queries=["no-such-query"])]}
    found = U.problems(kg, bad, root / "queries")
    assert len(found) == 4 and "lacks what the page says it has" in found[1]


def test_the_source_gaps_of_the_graph_are_all_covered(kg, doc):
    gaps = {r["g"].value for r in kg.select("SELECT ?g WHERE { ?g a ep:SourceGap }")}
    covered = {q.get("gap") for q in doc["questions"]}
    # the truncated title is not a question anyone asks of the data; every other gap is listed
    assert gaps - covered == {"https://w3id.org/econplan/id/hangzhou/2023-plan/gap-title-truncated"}


def test_readme_lists_the_same_questions(root, doc):
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What the data cannot answer", 1)[1].split("\n## ", 1)[0]
    for q in doc["questions"]:
        assert q["question"]["en"] in section, q["id"]


def test_bad_file_is_one_line_error(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "cannot-answer.yaml").write_text(
        "title: {zh: 标题, en: Title}\nintro: {zh: 简介, en: Intro}\nquestions:\n  - id: x\n    question: {zh: 问题}\n",
        encoding="utf-8")
    with pytest.raises(U.DataError) as e:
        U.load(tmp_path)
    assert "'question' needs a zh and an en text" in e.value.message and "\n" not in e.value.message
