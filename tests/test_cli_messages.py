"""The command line speaks of what the user gave it: RDF files are not told to edit facts.csv,
a violation is listed once, a placeholder query gets a hint, every output ends its line."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

ECONPLAN = str(Path(sys.executable).parent / "econplan")

BAD_TTL = """@prefix ep: <https://w3id.org/econplan/def#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/fact/gdp-2025> a ep:Observation ;
    ep:indicator <https://w3id.org/econplan/id/indicator/gdp> ;
    ep:value "21000"^^xsd:decimal ;
    ep:refPeriod "2025"^^xsd:gYear .
"""


def run(build: Path, *args, cwd=None):
    return subprocess.run([ECONPLAN, "--root", str(ROOT), "--build-dir", str(build), *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def test_validate_turtle_speaks_of_the_turtle_file(built, tmp_path):
    (tmp_path / "new.ttl").write_text(BAD_TTL, encoding="utf-8")
    r = run(built, "validate", "new.ttl", "--format", "table", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    lines = [line for line in r.stdout.splitlines() if line.startswith(("Violation", "Warning"))]
    assert len(lines) == len(set(lines)) >= 10  # no line twice
    assert "csv" not in r.stdout.lower()
    assert "correct it in new.ttl" in r.stdout
    assert any("eps:labels (minCount, qualifiedMinCount)" in line for line in lines)
    text = run(built, "validate", "new.ttl", cwd=tmp_path)
    assert "请在 new.ttl 中改正" in text.stdout and "correct it in new.ttl" in text.stdout
    assert "facts.csv" not in text.stdout


def test_validate_store_keeps_the_curators_messages(built):
    r = run(built, "validate", "--format", "table")
    assert r.returncode == 0
    assert "facts.csv" in r.stdout  # the curated CSVs are what a curator edits


def test_rejected_load_speaks_of_the_file(built, tmp_path):
    build = tmp_path / "build"
    shutil.copytree(built, build)
    (tmp_path / "bad.ttl").write_text(BAD_TTL, encoding="utf-8")
    r = run(build, "load", "bad.ttl", "--graph", "https://example.org/g", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.startswith("rejected:")
    assert "correct it in bad.ttl" in r.stdout and "facts.csv" not in r.stdout


def test_placeholder_query_gets_a_hint_and_outputs_end_their_line(built):
    r = run(built, "query", "SELECT …")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "ellipsis" in r.stderr and "expected one of" not in r.stderr
    for fmt in ("table", "json", "csv", "tsv"):
        out = run(built, "query", "ASK { indicator:gdp a ep:Indicator }", "--format", fmt)
        assert out.returncode == 0 and out.stdout.endswith("\n") and "true" in out.stdout.lower(), fmt
