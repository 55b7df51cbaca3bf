"""Datasets, sources and vintages: imports survive a build, IRIs never collide, the conflict
check compares one source and vintage after unit conversion and reads qualifiers."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path


from server.kg import vocab as V
from server.kg.build import build_quads
from server.kg import builddir

BIN = Path(sys.executable).parent / "econplan"
ROOT = Path(__file__).resolve().parent.parent
HEADER = "city,gb2260,indicator,kind,period,value,unit,qualifier,status,source,vintage,date,note\n"
MAPPING = """dataset:
  slug: {slug}
  title: {{zh: 测试数据, en: Test figures}}
columns: {{area: gb2260, indicator: indicator, kind: kind, period: period, value: value, unit: unit,
  qualifier: qualifier, status: status, source: source, vintage: vintage, date: date, note: note}}
"""


def _run(*args):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=300)


def _scratch(built, tmp_path):
    out = tmp_path / "b"
    shutil.copytree(built, out, ignore=shutil.ignore_patterns("*.log", builddir.LOCK))
    return out


def _table(folder: Path, name: str, rows: list[str], slug: str = "test-figures") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / name
    f.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    (folder / (f.stem + ".mapping.yaml")).write_text(MAPPING.format(slug=slug), encoding="utf-8")
    return f


def _import(out, f):
    return _run("--root", ROOT, "--build-dir", out, "import-csv", f, "--format", "text")


def _select(out, query):
    r = _run("--build-dir", out, "query", "--format", "json", query)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["results"]["bindings"]


#: The facts imported from NINGBO below (the shipped data has Ningbo's own figures, with other sources).
IMPORTED = ("SELECT ?f WHERE { ?f ep:refArea district:330200 ; ep:vintage ?v ; dcterms:source ?src "
            "FILTER (STRSTARTS(STR(?src), 'https://example.org/ningbo/')) }")
NINGBO = ["宁波市,330200,gdp,level,2023,16452.8,亿元,exact,actual,https://example.org/ningbo/bulletin-2023,preliminary,2024-03-01,",
          "宁波市,330200,gdp,level,2023,17146.6,亿元,exact,actual,https://example.org/ningbo/census-revision,revised,2025-01-01,经济普查后修订"]


def test_two_vintages_side_by_side(built, tmp_path):
    out = _scratch(built, tmp_path)
    r = _import(out, _table(tmp_path / "in", "ningbo.csv", NINGBO))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = _select(out, "SELECT ?t ?v ?src ?d ?note WHERE { ?f ep:refArea district:330200 ; ep:indicator indicator:gdp ; "
                        "ep:kind ep:level ; ep:refPeriod '2023'^^xsd:gYear ; ep:valueText ?t ; ep:vintage ?v ; "
                        "dcterms:source ?src ; dcterms:issued ?d OPTIONAL { ?f rdfs:comment ?note } "
                        "FILTER (STRSTARTS(STR(?src), 'https://example.org/ningbo/')) } ORDER BY ?t")
    assert [(x["t"]["value"], x["v"]["value"].rsplit("#", 1)[1], x["src"]["type"]) for x in rows] == [
        ("16452.8", "preliminary", "uri"), ("17146.6", "revised", "uri")]
    assert rows[1]["note"]["xml:lang"] == "zh" and rows[0]["d"]["value"] == "2024-03-01"


def test_same_figure_in_two_units_is_no_conflict(built, tmp_path):
    out = _scratch(built, tmp_path)
    src = "https://example.org/beijing/bulletin-2023"
    a = _table(tmp_path / "a", "beijing.csv", [f"北京市,110000,gdp,level,2023,43760.7,亿元,exact,actual,{src},,,"], "bj-a")
    b = _table(tmp_path / "b", "beijing.csv", [f"北京市,110000,gdp,level,2023,4.37607,万亿元,exact,actual,{src},,,"], "bj-b")
    assert _import(out, a).returncode == 0
    r = _import(out, b)
    assert r.returncode == 0, r.stdout + r.stderr
    # over 2.2万亿元 and 22074.7亿元 agree; about 4.4万亿元 (same source) and 43760.7亿元 too
    c = _table(tmp_path / "c", "more.csv", [f"成都市,510100,gdp,level,2023,2.2,万亿元,over,actual,{src}-cd,,,",
                                            f"北京市,110000,gdp,level,2023,4.4,万亿元,about,actual,{src},,,"], "bj-c")
    d = _table(tmp_path / "d", "more.csv", [f"成都市,510100,gdp,level,2023,22074.7,亿元,exact,actual,{src}-cd,,,"], "bj-d")
    assert _import(out, c).returncode == 0
    r = _import(out, d)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_real_disagreement_is_flagged_and_nothing_written(built, tmp_path):
    out = _scratch(built, tmp_path)
    src = "https://example.org/beijing/bulletin-2023"
    assert _import(out, _table(tmp_path / "a", "bj.csv", [f"北京市,110000,gdp,level,2023,43760.7,亿元,exact,actual,{src},,,"], "bj-a")).returncode == 0
    before = builddir.version_of(out)
    r = _import(out, _table(tmp_path / "b", "bj.csv", [f"北京市,110000,gdp,level,2023,4.5,万亿元,exact,actual,{src},,,"], "bj-b"))
    assert r.returncode == 1 and "Fact-conflict" in r.stdout, r.stdout + r.stderr
    assert builddir.version_of(out) == before
    # "over 4.4万亿元" cannot be 43760.7亿元 either
    r = _import(out, _table(tmp_path / "c", "bj.csv", [f"北京市,110000,gdp,level,2023,4.4,万亿元,over,actual,{src},,,"], "bj-c"))
    assert r.returncode == 1 and "Fact-conflict" in r.stdout
    # the same two values from different vintages are no conflict
    r = _import(out, _table(tmp_path / "d", "bj.csv", [f"北京市,110000,gdp,level,2023,4.5,万亿元,exact,actual,{src},revised,,"], "bj-d"))
    assert r.returncode == 0, r.stdout


def test_a_build_keeps_imports_and_loads(built, tmp_path):
    out = _scratch(built, tmp_path)
    assert _import(out, _table(tmp_path / "in", "ningbo.csv", NINGBO)).returncode == 0
    ttl = tmp_path / "alt.ttl"
    ttl.write_text('<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2004/02/skos/core#altLabel> "GRP"@en .\n')
    assert _run("--build-dir", out, "load", ttl, "--graph", "https://example.org/g").returncode == 0
    r = _run("--root", ROOT, "--build-dir", out, "build")
    assert r.returncode == 0, r.stderr
    assert len(_select(out, IMPORTED)) == 2
    assert _select(out, "SELECT ?l WHERE { GRAPH <https://example.org/g> { ?s ?p ?l } }")[0]["l"]["value"] == "GRP"


def test_a_build_stops_on_data_it_would_not_reproduce(built, tmp_path):
    out = _scratch(built, tmp_path)
    r = _run("--root", ROOT, "--build-dir", out, "build")    # writes the record of what data/ gives
    assert r.returncode == 0, r.stderr
    assert _import(out, _table(tmp_path / "in", "ningbo.csv", NINGBO)).returncode == 0
    assert _run("--build-dir", out, "compact").returncode == 0  # the write is in the dump...
    (out / "econplan.changes").unlink()                     # ...and no longer in the log
    before = builddir.version_of(out)
    r = _run("--root", ROOT, "--build-dir", out, "build")
    assert r.returncode != 0 and "would not reproduce" in r.stderr and "import/test-figures" in r.stderr
    assert builddir.version_of(out) == before
    assert _run("--root", ROOT, "--build-dir", out, "build", "--force").returncode == 0
    assert not _select(out, IMPORTED)


def test_same_file_name_in_two_folders_both_kept(built, tmp_path):
    out = _scratch(built, tmp_path)
    a = _table(tmp_path / "x", "gdp.csv", [NINGBO[0]])
    b = _table(tmp_path / "y", "gdp.csv", [NINGBO[1]])
    assert _import(out, a).returncode == 0 and _import(out, b).returncode == 0
    assert len(_select(out, IMPORTED)) == 2


def _scratch_root(tmp_path) -> Path:
    root = tmp_path / "root"
    for d in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / d, root / d)
    return root


def test_dataset_folders_name_graphs_and_facts(tmp_path):
    root = _scratch_root(tmp_path)
    # two files sharing one mapping in one dataset; a file of the same name in another dataset
    one = root / "data" / "ningbo" / "bulletin-2023"
    _table(one, "a.csv", [NINGBO[0]])
    _table(one, "b.csv", [NINGBO[1]])
    for f in one.glob("*.mapping.yaml"):
        f.unlink()
    (one / "mapping.yaml").write_text(MAPPING.format(slug="ignored"), encoding="utf-8")
    _table(root / "data" / "ningbo" / "revision", "a.csv", [NINGBO[1].replace("17146.6", "17146.6")])
    quads = build_quads(root)
    facts = {q.subject.value for q in quads if q.predicate == V.EP.refArea and q.object == V.district("330200")
             and q.subject.value.startswith(V.ID + "ningbo/")}
    assert facts == {V.ID + "ningbo/bulletin-2023/fact/a-330200-gdp-level-2023-preliminary",
                     V.ID + "ningbo/bulletin-2023/fact/b-330200-gdp-level-2023-revised",
                     V.ID + "ningbo/revision/fact/a-330200-gdp-level-2023-revised"}
    graphs = {q.graph_name.value for q in quads if "ningbo" in q.graph_name.value}
    assert graphs == {V.GRAPH + "data/ningbo/bulletin-2023/a", V.GRAPH + "data/ningbo/bulletin-2023/b",
                      V.GRAPH + "data/ningbo/revision/a"}


def test_bom_and_chinese_note(built, tmp_path):
    out = _scratch(built, tmp_path)
    f = _table(tmp_path / "in", "bom.csv", [NINGBO[1]])
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    r = _import(out, f)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = _select(out, "SELECT ?n WHERE { ?f ep:refArea district:330200 ; rdfs:comment ?n }")
    assert rows[0]["n"]["value"] == "经济普查后修订" and rows[0]["n"]["xml:lang"] == "zh"
