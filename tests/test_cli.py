"""The econplan command line, run as a real subprocess: output, exit codes, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "econplan"


def run(*args, cwd=None):
    cmd = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "server"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, cwd=cwd, timeout=120)


def test_build_prints_triple_count_per_graph(root, tmp_path):
    r = run("--root", str(root), "--build-dir", str(tmp_path), "build")
    assert r.returncode == 0, r.stderr
    assert "https://w3id.org/econplan/graph/ontology/econplan" in r.stdout
    assert "triples in" in r.stdout
    from server.kg import builddir

    assert builddir.dump(tmp_path).exists() and builddir.store_dir(tmp_path).is_dir()


def test_query_json_output(root, built):
    r = run("--root", str(root), "--build-dir", str(built), "query", "--format", "json",
            "SELECT ?v WHERE { ?f ep:indicator indicator:gdp ; ep:kind ep:level ; ep:refArea district:330100 ; ep:value ?v }")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["results"]["bindings"][0]["v"]["value"] == "20059"


@pytest.mark.parametrize("fmt,needle", [("csv", "v\n20059"), ("tsv", "?v\n"), ("table", "20059")])
def test_query_other_formats(root, built, fmt, needle):
    r = run("--build-dir", str(built), "query", "--format", fmt,
            "SELECT ?v WHERE { ?f ep:indicator indicator:gdp ; ep:kind ep:level ; ep:refArea district:330100 ; ep:value ?v }")
    assert r.returncode == 0 and needle in r.stdout


def test_bad_query_is_one_line_error(built):
    r = run("--build-dir", str(built), "query", "SELECT * WHERE {")
    assert r.returncode == 1
    assert r.stderr.startswith("error: SPARQL syntax error at 1:")
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_missing_store_is_one_line_error(tmp_path):
    r = run("--build-dir", str(tmp_path / "nope"), "query", "ASK {}")
    assert r.returncode != 0 and "no built store" in r.stderr and "Traceback" not in r.stderr


def test_unknown_format_is_rejected(built):
    r = run("--build-dir", str(built), "export", "--format", "xml")
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.parametrize("fmt", ["trig", "nquads", "turtle", "jsonld"])
def test_export_formats_parse_back(built, tmp_path, fmt):
    import pyoxigraph as ox

    out = tmp_path / f"x.{fmt}"
    r = run("--build-dir", str(built), "export", "--format", fmt, "-o", str(out))
    assert r.returncode == 0, r.stderr
    oxfmt = {"trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS,
             "turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}[fmt]
    assert len(list(ox.parse(path=str(out), format=oxfmt))) > 10000


def test_export_one_graph(built):
    r = run("--build-dir", str(built), "export", "--format", "nquads", "--graph",
            "https://w3id.org/econplan/graph/data/vocab/area-types")
    assert r.returncode == 0
    lines = r.stdout.strip().splitlines()
    # 17 area types (data/vocab/area-types.csv) of 10 triples each and the scheme's 4
    assert len(lines) == 174 and all("graph/data/vocab/area-types>" in l for l in lines)


def test_export_unknown_graph(built):
    r = run("--build-dir", str(built), "export", "--graph", "https://example.org/none")
    assert r.returncode == 1 and "no named graph" in r.stderr


def test_malformed_data_file_names_file_and_line(root, tmp_path):
    import shutil

    for d in ("ontology", "data", "shapes"):
        if (root / d).exists():
            shutil.copytree(root / d, tmp_path / d)
    (f,) = tmp_path.glob("data/**/01-review-headline.facts.csv")
    f.write_text(f.read_text(encoding="utf-8").replace("gdp-2023,p005-s01", "gdp-2023,p999-s01"),
                 encoding="utf-8")
    r = run("--root", str(tmp_path), "build")
    assert r.returncode == 1
    assert "01-review-headline.facts.csv:7: unknown passage 'p999-s01'" in r.stderr
    assert "Traceback" not in r.stderr


def test_clean_check(root):
    r = run("--root", str(root), "clean", "--check")
    assert r.returncode == 0 and "ok" in r.stdout


def test_serve_get_smoke(root, built, dataset):
    import csv

    from server.kg.citycsv import mapping_for

    r = run("--root", str(root), "--build-dir", str(built), "serve", "--get", "/api/stats")
    assert r.returncode == 0, r.stderr
    # the report's facts and one fact per row of every imported table (data/<area>/<dataset>/)
    tables = [p for p in (root / "data").glob("*/*/*.csv") if mapping_for(p).exists()]
    rows = sum(len(list(csv.DictReader(p.open(encoding="utf-8", newline="")))) for p in tables)
    assert len(dataset.facts) == 364 and rows >= 13 + 117
    assert json.loads(r.stdout)["facts"] == len(dataset.facts) + rows
