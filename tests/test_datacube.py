"""Data Cube observations loaded with `econplan load`: facts the saved queries see, or refused."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from server.kg import builddir

BIN = Path(sys.executable).parent / "econplan"
ROOT = Path(__file__).resolve().parent.parent
PREFIXES = """@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix ep: <https://w3id.org/econplan/def#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#> .
@prefix sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#> .
@prefix sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#> .
@prefix ex: <http://example.org/cube/> .
ex:ds a qb:DataSet ; rdfs:label "测试立方体"@zh , "test cube"@en .
"""
GOOD = PREFIXES + """
ex:o1 a qb:Observation ; qb:dataSet ex:ds ;
    sdmx-dimension:refArea <https://w3id.org/econplan/id/district/320500> ;
    sdmx-dimension:refPeriod <http://reference.data.gov.uk/id/year/2023> ;
    ep:indicator <https://w3id.org/econplan/id/indicator/gdp> ;
    sdmx-attribute:unitMeasure <https://w3id.org/econplan/id/unit/yi-yuan> ;
    sdmx-measure:obsValue "24653.4"^^xsd:decimal .
ex:o2 a qb:Observation ; qb:dataSet ex:ds ;
    ep:refArea <https://w3id.org/econplan/id/district/320500> ; ep:refPeriod "2023"^^xsd:gYear ;
    ep:indicator <https://w3id.org/econplan/id/indicator/gdp> ; ep:kind ep:growth ;
    ep:unit <https://w3id.org/econplan/id/unit/percent> ; ep:value 4.6 .
"""
BAD = PREFIXES + """
ex:o3 a qb:Observation ; qb:dataSet ex:ds ;
    sdmx-dimension:refArea <https://w3id.org/econplan/id/district/999999> ;
    ep:indicator <https://w3id.org/econplan/id/indicator/gdp> ;
    ep:unit <https://w3id.org/econplan/id/unit/yi-yuan> ; sdmx-measure:obsValue 1.0 .
"""


def _run(*args):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=300)


def _scratch(built, tmp_path):
    out = tmp_path / "b"
    shutil.copytree(built, out, ignore=shutil.ignore_patterns("*.log", builddir.LOCK))
    return out


def test_cube_observations_become_facts_the_saved_queries_see(built, tmp_path):
    out = _scratch(built, tmp_path)
    f = tmp_path / "suzhou.ttl"
    f.write_text(GOOD, encoding="utf-8")
    r = _run("--build-dir", out, "load", f, "--graph", "https://example.org/cube")
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run("--build-dir", out, "query", "--format", "json", f"@{ROOT / 'queries' / 'gdp-by-city.rq'}")
    rows = {b["city"]["value"].rsplit("/", 1)[1]: b for b in json.loads(r.stdout)["results"]["bindings"]}
    assert rows["320500"]["gdpAsStated"]["value"] == "24653.4亿元"
    assert rows["320500"]["growth"]["value"] == "4.6"
    r = _run("--build-dir", out, "query", "--format", "json",
             "SELECT ?o WHERE { ?f ep:refArea district:320500 ; prov:alternateOf ?o }")
    assert {b["o"]["value"] for b in json.loads(r.stdout)["results"]["bindings"]} == {
        "http://example.org/cube/o1", "http://example.org/cube/o2"}


def test_incomplete_cube_observations_are_refused_with_the_reasons(built, tmp_path):
    out = _scratch(built, tmp_path)
    before = builddir.version_of(out)
    f = tmp_path / "bad.ttl"
    f.write_text(BAD, encoding="utf-8")
    r = _run("--build-dir", out, "load", f, "--graph", "https://example.org/cube")
    assert r.returncode != 0
    assert "http://example.org/cube/o3" in r.stderr and "999999> is not in data/vocab/areas.csv" in r.stderr
    assert "no period" in r.stderr and "nothing loaded" in r.stderr
    assert builddir.version_of(out) == before
