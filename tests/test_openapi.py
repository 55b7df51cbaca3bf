"""The OpenAPI description of the saved queries is a valid OpenAPI 3.0 document listing every query."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from server.sparql.library import Param, SavedQuery, load_library, openapi


@pytest.fixture(scope="module")
def library(root):
    return load_library(root / "queries")


@pytest.fixture(scope="module")
def spec(library):
    return openapi(library, base_url="https://econplan.example.org/")


def test_document_is_valid_openapi_3(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.0")
    assert spec["servers"] == [{"url": "https://econplan.example.org"}]
    json.dumps(spec, ensure_ascii=False)  # JSON-ready


def test_every_query_is_listed_in_every_format(spec, library):
    paths = spec["paths"]
    for slug, q in library.items():
        for ext in ("json", "csv", "tsv"):
            op = paths[f"/queries/{slug}.{ext}"]["get"]
            assert q.title["zh"] in op["summary"] and q.title["en"] in op["summary"]
            assert q.description["zh"] in op["description"] and q.description["en"] in op["description"]
            assert op["tags"] == q.tags and op["x-econplan"]["chart"] == q.chart
            assert [p["name"] for p in op["parameters"]] == [p.name for p in q.params]
            assert "400" in op["responses"]
        assert "application/sparql-results+json" in paths[f"/queries/{slug}.json"]["get"]["responses"]["200"]["content"]
        assert "text/csv" in paths[f"/queries/{slug}.csv"]["get"]["responses"]["200"]["content"]
    assert len(paths) == 3 * len(library)
    ids = [op["get"]["operationId"] for op in paths.values()]
    assert len(ids) == len(set(ids))
    assert {t["name"] for t in spec["tags"]} == {t for q in library.values() for t in q.tags}


def test_parameters_are_typed(spec):
    def param(slug, name):
        ops = spec["paths"][f"/queries/{slug}.json"]["get"]["parameters"]
        return next(p for p in ops if p["name"] == name)

    district = param("district-projects-and-facts", "district")
    assert district["in"] == "query" and district["required"] is False
    assert district["schema"]["pattern"] == r"^(\d{6}|[A-Z]{2})$" and district["schema"]["default"] == "330109"
    assert district["x-econplan-type"] == "district" and "GB/T 2260" in district["description"]
    year = param("gdp-by-city", "year")
    assert year["schema"] == {"type": "string", "pattern": r"^\d{4}$", "default": "2023"}
    fact = param("fact-source-sentence", "fact")
    assert fact["required"] is True and fact["schema"]["format"] == "uri" and "default" not in fact["schema"]
    indicator = param("indicator-facts", "indicator")
    assert indicator["schema"]["default"] == "gdp" and indicator["schema"]["pattern"].startswith("^[a-z0-9]")
    word = param("facts-by-sentence-word", "word")
    assert word["schema"]["type"] == "string" and word["schema"]["default"] == "跨境电商"


def test_numeric_and_non_select_queries(tmp_path):
    """integer and decimal parameters become typed numbers; ASK/CONSTRUCT get .json only."""
    def q(slug, kind, *params):
        return SavedQuery(slug=slug, path=Path(f"{slug}.rq"), title={"zh": "测试", "en": "Test"},
                          description={"zh": "测试", "en": "Test"}, tags=["test"], params=list(params),
                          chart=None, sparql="ASK {}", kind=kind)

    lib = {"numbers": q("numbers", "select",
                        Param("n", "integer", "3", False, {"zh": "数", "en": "n"}),
                        Param("x", "decimal", "2.5", False, {"zh": "数", "en": "x"}),
                        Param("t", "string", None, True, {"zh": "词", "en": "t"})),
           "check": q("check", "ask"), "graph": q("graph", "construct")}
    spec = openapi(lib)
    validate(spec)
    params = {p["name"]: p for p in spec["paths"]["/queries/numbers.json"]["get"]["parameters"]}
    assert params["n"]["schema"] == {"type": "integer", "default": 3}
    assert params["x"]["schema"] == {"type": "number", "default": 2.5}
    assert params["t"]["required"] is True
    assert set(spec["paths"]) == {"/queries/numbers.json", "/queries/numbers.csv", "/queries/numbers.tsv",
                                  "/queries/check.json", "/queries/graph.json"}
    assert "application/ld+json" in spec["paths"]["/queries/graph.json"]["get"]["responses"]["200"]["content"]
    assert spec["servers"] == [{"url": "/"}]
