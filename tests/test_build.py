"""The build: deterministic dumps, one named graph per source file, atomic replacement."""
from __future__ import annotations

import pyoxigraph as ox
import pytest

from server.kg import builddir
from server.kg.build import build, build_quads
from server.kg.errors import DataError


def test_two_builds_give_identical_dumps(root, built, tmp_path):
    build(root, tmp_path)
    for name in (builddir.DUMP, builddir.TRIG):
        assert builddir.path(tmp_path, name).read_bytes() == builddir.path(built, name).read_bytes()


def test_one_named_graph_per_source_file(root, kg):
    graphs = set(kg.graphs())
    data_files = sorted(p for p in (root / "data").rglob("*")
                        if p.suffix in (".csv", ".ttl") and not p.name.endswith("exceptions.csv")
                        and "source" not in p.parts and p.relative_to(root / "data").parts[0] not in ("sources", "drafts")
                        and p.relative_to(root / "data").parts[2:3] != ("published",))
    assert len(data_files) > 20
    # a table as published (data/<area>/<dataset>/published/) is kept, not loaded: import-table read its rows
    published = sorted((root / "data").glob("*/*/published/*"))
    assert published
    for p in published:
        rel = p.relative_to(root).as_posix().rsplit(".", 1)[0]
        assert f"https://w3id.org/econplan/graph/{rel}" not in graphs, p
    for p in data_files:
        rel = p.relative_to(root).as_posix().rsplit(".", 1)[0]
        assert f"https://w3id.org/econplan/graph/{rel}" in graphs, p
    assert "https://w3id.org/econplan/graph/ontology/econplan" in graphs
    assert "https://w3id.org/econplan/graph/data/source/report-clean" in graphs


def test_dump_loads_back_into_the_same_store(built, kg):
    store = ox.Store()
    store.load(path=str(builddir.trig(built)), format=ox.RdfFormat.TRIG)
    assert len(store) == len(kg)


def test_on_disk_store_has_the_same_content(built, kg):
    from server.kg.store import KnowledgeGraph

    disk = KnowledgeGraph.open(built, mode="disk")
    try:
        assert len(disk) == len(kg)
    finally:
        del disk


def _copy_project(root, tmp_path):
    import shutil

    for d in ("ontology", "data", "shapes"):
        if (root / d).exists():
            shutil.copytree(root / d, tmp_path / d)
    return tmp_path


def test_malformed_csv_names_file_and_line(root, tmp_path):
    proj = _copy_project(root, tmp_path / "p")
    (f,) = proj.glob("data/**/01-review-headline.facts.csv")
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6].replace(",20059,", ",20060,")
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        build_quads(proj)
    assert "01-review-headline.facts.csv:7" in e.value.message
    assert "20060" in e.value.message


def test_malformed_turtle_names_file_line_and_column(root, tmp_path):
    proj = _copy_project(root, tmp_path / "p")
    next(proj.glob("data/**/00-report.ttl")).write_text("@prefix ep: <x#> .\nep:a ep:b \"c .\n")
    with pytest.raises(DataError) as e:
        build_quads(proj)
    assert "00-report.ttl:" in e.value.message


def test_failed_build_leaves_the_previous_store(root, tmp_path):
    out = tmp_path / "out"
    build(root, out)
    before = builddir.dump(out).read_bytes()
    proj = _copy_project(root, tmp_path / "p")
    (proj / "data/vocab/units.csv").write_text("slug,label_zh\n")
    with pytest.raises(DataError):
        build(proj, out)
    assert builddir.dump(out).read_bytes() == before


def test_indicators_carry_the_alternative_labels_of_the_scheme(root, kg):
    """Every alt_labels entry of data/vocab/indicators/*.indicators.csv is a skos:altLabel of its
    indicator (Latin-script names in English, the others in Chinese), e.g. GDP for gdp."""
    import csv

    from server.kg import vocab as V

    expected = set()
    for path in sorted((root / "data" / "vocab" / "indicators").glob("*.indicators.csv")):
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                for alt in filter(None, (a.strip() for a in (row.get("alt_labels") or "").split("|"))):
                    expected.add((row["slug"], alt, "en" if alt.isascii() else "zh"))
    assert ("gdp", "GDP", "en") in expected and ("gdp", "国内生产总值", "zh") in expected
    got = {(q.subject.value.rsplit("/", 1)[1], q.object.value, q.object.language)
           for q in kg.store.quads_for_pattern(None, V.SKOS.altLabel, None, None)
           if q.subject.value.startswith(V.ID + "indicator/")}
    assert expected <= got


def test_only_builddir_names_the_files_of_the_build_folder():
    """server.kg.builddir owns the build folder: no other module of server/ has its file names in a
    string (docstrings may mention them)."""
    import ast
    from pathlib import Path

    names = {builddir.DUMP, builddir.TRIG, builddir.LOG, builddir.LOCK, builddir.STORE_STAMP, builddir.MANIFEST,
             builddir.COUNT, "appends.log", "writes"}
    server = Path(builddir.__file__).resolve().parents[1]
    found = []
    for p in server.rglob("*.py"):
        if p.name == "builddir.py":
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs:
                found += [f"{p.relative_to(server)}:{n.lineno}: {name}" for name in names
                          if name == n.value or name.startswith(".") and name in n.value
                          or "." in name and name in n.value]
    assert not found, found
