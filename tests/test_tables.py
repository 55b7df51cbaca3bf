"""`econplan import-table` (tables as published: CSV in any common encoding, .xlsx, CSVW) and
`econplan export --format csvw`, on a real copy of the project, a real store and the real gate.

The figures in the tables below are fixtures for the reader (written the way bureaus write
them), not curated data; nothing here is shipped.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.kg.build import build
from server.kg.tables import Fixed, TableError, load_vocab, parse_value, read_any
from server.kg.store import KnowledgeGraph
from server.kg import builddir

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "econplan"
SOURCE = "https://tjj.example.gov.cn/tjsj/2023/table.html"


@pytest.fixture()
def project(tmp_path) -> Path:
    """A copy of the project (data, ontology, shapes) with its own real build."""
    root = tmp_path / "project"
    root.mkdir()
    for folder in ("data", "ontology", "shapes"):
        shutil.copytree(ROOT / folder, root / folder)
    build(root, root / "build")
    return root


def run(root: Path, *args: str):
    return subprocess.run([str(BIN), "--root", str(root), "--build-dir", str(root / "build"), *args],
                          capture_output=True, text=True, timeout=300)


def ds_dir(root: Path, dataset: str) -> Path:
    """The one dataset folder data/<area-slug>/<dataset> an import wrote."""
    found = [p for p in (root / "data").glob(f"*/{dataset}") if p.is_dir()]
    assert len(found) == 1, found
    return found[0]


def facts(root: Path, dataset: str) -> dict[tuple[str, str, str], dict]:
    """The facts of one imported dataset in the store: (area, indicator, kind) -> properties."""
    kg = KnowledgeGraph.open(root / "build", mode="memory")
    found = [p for p in (root / "data").glob(f"*/{dataset}") if p.is_dir()]
    area_slug = found[0].parent.name if found else "china"  # none: nothing was written
    rows = kg.select(f"""SELECT ?f ?a ?i ?k ?p ?t ?u ?q ?s ?src ?v WHERE {{
        ?f qb:dataSet <https://w3id.org/econplan/id/{area_slug}/{dataset}> ; ep:refArea ?a ; ep:indicator ?i ; ep:kind ?k ;
           ep:refPeriod ?p ; ep:valueText ?t ; ep:unit ?u ; ep:qualifier/skos:notation ?q ; ep:status ?s .
        OPTIONAL {{ ?f dcterms:source ?src }} OPTIONAL {{ ?f ep:vintage ?v }} }}""")
    out = {}
    for r in rows:
        key = (r["a"].value.rsplit("/", 1)[1], r["i"].value.rsplit("/", 1)[1], r["k"].value.rsplit("#", 1)[1])
        assert key not in out
        out[key] = {"period": r["p"].value, "value": r["t"].value, "unit": r["u"].value.rsplit("/", 1)[1],
                    "qualifier": r["q"].value, "status": r["s"].value.rsplit("#", 1)[1],
                    "source": r["src"] if "src" in r else None, "vintage": r["v"].value.rsplit("#", 1)[1] if "v" in r else None}  # ep:preliminary …
    return out


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


WIDE_ROWS = [
    ["地区", "地区生产总值（亿元）", "增长(%)", "一般公共预算收入(亿元)", "居民人均可支配收入（元）"],
    ["宁波", "16,452.8", "5.5", "1,029.9", "约72,000"],
    ["南京", "17,421.4", "4.6", "", "76,643"],
    ["萧山", "超2,000", "5.0", "", ""],
]


def check_wide(root: Path, dataset: str, *, growth_text="5.5"):
    got = facts(root, dataset)
    assert len(got) == 9  # 12 cells, 3 blank: no fact for a blank cell
    assert got[("330200", "gdp", "level")] == {"period": "2023", "value": "16452.8", "unit": "yi-yuan",
                                               "qualifier": "exact", "status": "actual",
                                               "source": got[("330200", "gdp", "level")]["source"],
                                               "vintage": "preliminary"}
    assert got[("330200", "gdp", "growth")]["value"] == growth_text
    assert got[("330200", "gdp", "growth")]["unit"] == "percent"
    assert got[("330200", "general-budget-revenue", "level")]["value"] == "1029.9"
    assert got[("330200", "disposable-income-per-capita", "level")]["qualifier"] == "about"
    assert got[("330200", "disposable-income-per-capita", "level")]["value"] == "72000"
    assert got[("330200", "disposable-income-per-capita", "level")]["unit"] == "yuan"
    assert got[("330109", "gdp", "level")]["qualifier"] == "over"
    assert got[("330109", "gdp", "growth")]["value"] == "5.0"  # written 5.0, kept 5.0
    assert ("320100", "general-budget-revenue", "level") not in got
    src = got[("330200", "gdp", "level")]["source"]
    assert type(src).__name__ == "NamedNode" and src.value == SOURCE
    rows = list(csv.DictReader((ds_dir(root, dataset) / f"{dataset}.csv").open(encoding="utf-8")))
    ningbo = next(r for r in rows if r["gb2260"] == "330200" and r["kind"] == "level" and r["indicator"] == "gdp")
    assert ningbo["as_written"] == "16,452.8" and ningbo["value"] == "16452.8" and ningbo["vintage"] == "preliminary"


def test_wide_gb18030_csv_with_short_names_units_in_headers_and_qualifiers(project, tmp_path):
    table = tmp_path / "2023年各市主要指标.csv"
    text = "".join(",".join(f'"{c}"' if "," in c else c for c in row) + "\r\n" for row in WIDE_ROWS)
    table.write_bytes(text.encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        table.read_bytes().decode("utf-8")
    r = run(project, "import-table", str(table), "--year", "2023", "--source", SOURCE,
            "--vintage", "preliminary", "--dataset", "wide-gb")
    assert r.returncode == 0, r.stdout + r.stderr
    check_wide(project, "wide-gb")
    assert (project / "data" / "china" / "wide-gb" / "published" / "wide-gb.csv").read_bytes() == table.read_bytes()
    # an import is data: a build from data/ keeps it
    assert run(project, "build").returncode == 0
    check_wide(project, "wide-gb")


def test_xlsx_with_a_title_row_and_number_formats(project, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2023年主要城市经济指标"])
    for row in WIDE_ROWS:
        out = []
        for c in row:
            try:  # numbers as numbers, formatted as a bureau formats them
                out.append(float(c.replace(",", "")) if c and c[0].isdigit() else c)
            except ValueError:
                out.append(c)
        ws.append(out)
    for cell in ("B3", "D3", "B4"):
        ws[cell].number_format = "#,##0.0"
    ws["C3"].number_format = ws["C4"].number_format = ws["C5"].number_format = "0.0"
    table = tmp_path / "cities.xlsx"
    wb.save(table)
    r = run(project, "import-table", str(table), "--year", "2023", "--source", SOURCE,
            "--vintage", "preliminary")
    assert r.returncode == 0, r.stdout + r.stderr
    check_wide(project, "cities")


def test_long_utf8_bom_csv(project, tmp_path):
    table = tmp_path / "long.csv"
    table.write_text("地区,指标,年份,数值,单位,限定词,来源,备注\n"
                     f"宁波市,地区生产总值,2023年,\"16,452.8\",亿元,,{SOURCE},初步核算数\n"
                     f"330200,地区生产总值增长,2023,5.5,%,,{SOURCE},\n"
                     f"南京,GDP,2024,1.9左右,万亿元,,{SOURCE},\n"
                     "萧山区,一般公共预算收入,2023,,亿元,,,\n", encoding="utf-8-sig")
    assert table.read_bytes().startswith(b"\xef\xbb\xbf")
    r = run(project, "import-table", str(table), "--status", "actual")
    assert r.returncode == 0, r.stdout + r.stderr
    got = facts(project, "long")
    assert len(got) == 3  # the row with a blank value is no fact
    assert got[("330200", "gdp", "level")]["value"] == "16452.8"
    assert got[("330200", "gdp", "growth")]["value"] == "5.5"
    nanjing = got[("320100", "gdp", "level")]  # 1.9左右 with the unit 万亿元 in its column
    assert (nanjing["value"], nanjing["qualifier"], nanjing["unit"], nanjing["period"]) == \
        ("1.9", "about", "wan-yi-yuan", "2024")
    assert nanjing["source"].value == SOURCE
    kg = KnowledgeGraph.open(project / "build", mode="memory")  # a Chinese note is tagged zh
    assert kg.ask("ASK { <https://w3id.org/econplan/id/china/long/fact/long-330200-gdp-level-2023> rdfs:comment '初步核算数'@zh }")


def test_import_without_a_build_says_to_build_first(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("地区,地区生产总值（亿元）\n宁波市,17146.6\n", encoding="utf-8")
    r = subprocess.run([str(BIN), "--root", str(ROOT), "--build-dir", str(tmp_path / "none"), "import-table",
                        str(table), "--year", "2023"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'none'}: no build here to import into; run `econplan build` first (or give --build-dir)"]
    assert not (tmp_path / "none").exists()


def test_three_errors_reported_at_once_and_nothing_written(project, tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text("地区,地区生产总值（亿元）,增长(%),绿化覆盖率(%)\n"
                     "宁波,\"16,452.8\",5.5,\n"
                     "苏洲,17421.4,4.6,\n"
                     "南京,一万七千,4.6,\n", encoding="utf-8")
    data_before = tree_digest(project / "data")
    dump_before = builddir.version_of(project / "build")
    r = run(project, "import-table", str(table), "--year", "2023")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    err = r.stderr
    assert "3 problem(s); nothing was written" in err
    assert "column D “绿化覆盖率(%)”: unknown indicator" in err
    assert "A3: unknown area '苏洲'" in err
    assert "B4: value '一万七千': not a number" in err
    assert tree_digest(project / "data") == data_before
    assert builddir.version_of(project / "build") == dump_before
    assert facts(project, "bad") == {}


def test_a_violation_of_the_shapes_leaves_data_and_store_unchanged(project, tmp_path):
    # the shipped data says Ningbo's 2023 GDP is 16452.8 亿元 (exact, actual) from this source (no
    # vintage): 16000 from the same source and vintage conflicts
    table = tmp_path / "conflict.csv"
    # and a resident population in 亿元, a unit the indicator does not allow (data/vocab/indicators/allowed-units.ttl)
    table.write_text("地区,指标,数值,单位,来源\n宁波市,地区生产总值,16000,亿元,宁波市2023年统计公报及新闻报道\n"
                     "宁波市,常住人口,900,亿元,宁波市2023年统计公报及新闻报道\n", encoding="utf-8")
    data_before = tree_digest(project / "data")
    dump_before = builddir.version_of(project / "build")
    r = run(project, "import-table", str(table), "--year", "2023")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "SHACL violation" in r.stderr and "16452.8" in r.stdout
    assert re.search(r"A level of 'resident population' may only be in the units (person wan-person|wan-person person); "
                     r"this one is in yi-yuan", r.stdout), r.stdout
    assert tree_digest(project / "data") == data_before
    assert builddir.version_of(project / "build") == dump_before


def test_csvw_round_trip(project, tmp_path):
    from csvw import TableGroup

    table = tmp_path / "t.csv"
    table.write_text("地区,地区生产总值（亿元）,增长(%)\n宁波,\"16,452.8\",5.5\n南京,约17421.4,4.6\n",
                     encoding="utf-8")
    assert run(project, "import-table", str(table), "--year", "2023", "--source", SOURCE,
               "--vintage", "preliminary").returncode == 0
    out = tmp_path / "csvw"
    r = run(project, "export", "--format", "csvw", "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(TableGroup.from_file(out / "facts.csv-metadata.json").tables[0].iterdicts())
    got = {r["fact"].unsplit(): r for r in rows}
    kg = KnowledgeGraph.open(project / "build", mode="memory")
    expected = kg.select("""SELECT ?f ?t ?q ?u ?p WHERE { VALUES ?type { ep:Observation ep:Target }
        ?f a ?type ; ep:qualifier/skos:notation ?q ; ep:unit ?u ; ep:refPeriod ?p .
        OPTIONAL { ?f ep:valueText ?t } }""")
    assert len(expected) == len(got) > 300
    for e in expected:
        row = got[e["f"].value]
        as_written = e["t"].value if "t" in e and e["t"] is not None else None
        assert (row["value_text"] or None) == (as_written or None), e["f"]  # "" where the source lost it
        if as_written and as_written[0].isdigit():  # digits as written; words (二十) keep their number
            assert format(row["value"], "f") == as_written, e["f"]
        assert row["qualifier"] == e["q"].value
        assert row["unit"] == e["u"].value.rsplit("/", 1)[1]
        assert str(row["period"]) == e["p"].value
    ningbo = got["https://w3id.org/econplan/id/china/t/fact/t-330200-gdp-level-2023-preliminary"]
    assert (ningbo["area"], ningbo["indicator"], ningbo["kind"], ningbo["status"]) == \
        ("330200", "gdp", "level", "actual")
    assert ningbo["source"] == SOURCE and ningbo["vintage"] == "preliminary"
    assert got["https://w3id.org/econplan/id/china/t/fact/t-320100-gdp-level-2023-preliminary"]["qualifier"] == "about"


def test_csvw_described_table_is_imported_by_its_metadata(project, tmp_path):
    # column names the reader does not know (w, n, u …): their propertyUrl says what they hold;
    # the delimiter, the thousands separator and the null marker come from the metadata
    table = tmp_path / "ningbo.csv"
    table.write_text("城市;what;yr;amount;unit;q\n"
                     "330200;地区生产总值;2023;16,452.8;亿元;\n"
                     "南京市;地区生产总值增长;2023;4.6;%;约\n"
                     "宁波市;一般公共预算收入;2023;n/a;亿元;\n", encoding="utf-8")
    ep = "https://w3id.org/econplan/def#"
    (tmp_path / "ningbo.csv-metadata.json").write_text(json.dumps({
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "zh"}],
        "url": "ningbo.csv",
        "dc:source": SOURCE,
        "dialect": {"delimiter": ";", "encoding": "utf-8", "header": True},
        "null": "n/a",
        "tableSchema": {"columns": [
            {"name": "c", "titles": "城市", "propertyUrl": ep + "refArea"},
            {"name": "w", "titles": "what", "propertyUrl": ep + "indicator"},
            {"name": "y", "titles": "yr", "datatype": "gYear", "propertyUrl": ep + "refPeriod"},
            {"name": "n", "titles": "amount", "propertyUrl": ep + "value",
             "datatype": {"base": "decimal", "format": {"groupChar": ","}}},
            {"name": "u", "titles": "unit", "propertyUrl": ep + "unit"},
            {"name": "q", "titles": "q", "propertyUrl": ep + "qualifier"}]}}, ensure_ascii=False),
        encoding="utf-8")
    r = run(project, "import-table", str(table))
    assert r.returncode == 0, r.stdout + r.stderr
    got = facts(project, "ningbo")
    assert got[("330200", "gdp", "level")]["source"].value == SOURCE  # the metadata's dc:source, an IRI
    assert set(got) == {("330200", "gdp", "level"), ("320100", "gdp", "growth")}
    assert got[("330200", "gdp", "level")]["value"] == "16452.8"
    assert got[("320100", "gdp", "growth")]["qualifier"] == "about"
    rows = list(csv.DictReader((project / "data" / "china" / "ningbo" / "ningbo.csv").open(encoding="utf-8")))
    assert rows[0]["as_written"] == "16,452.8" and rows[0]["cell"] == "D2"
    kept = project / "data" / "china" / "ningbo" / "published" / "ningbo-csvw"
    assert sorted(p.name for p in kept.iterdir()) == ["ningbo.csv", "ningbo.csv-metadata.json"]


@pytest.mark.parametrize("cell,expected", [
    ("约1.75", ("1.75", "about", None)), ("1.75万亿元左右", ("1.75", "about", "wan-yi-yuan")),
    ("超3万亿元", ("3", "over", "wan-yi-yuan")), ("突破2000", ("2000", "over", None)),
    ("100亿元以上", ("100", "at-least", "yi-yuan")), ("近5%", ("5", "nearly", "percent")),
    ("3%以内", ("3", "at-most", "percent")), ("300余亿元", ("300", "more-than", "yi-yuan")),
    ("43,760.7", ("43760.7", "exact", None)), ("-1.2", ("-1.2", "exact", None)),
    ("５．０", ("5.0", "exact", None)),
])
def test_values_and_qualifiers_as_written(cell, expected):
    v = parse_value(cell, load_vocab(ROOT / "data").units)
    assert (v.number, v.qualifier, v.unit) == expected


def test_bad_values_say_why():
    units = load_vocab(ROOT / "data").units
    assert parse_value("约一点七五", units) == "not a number"
    assert "two different qualifiers" in parse_value("超5左右", units)
    assert "footnote mark" in parse_value("5.2①", units)  # not the number 5.21
    assert "neither a unit nor a qualifier" in parse_value("5.2万头", units)


def test_transposed_table_and_ambiguous_options(tmp_path):
    vocab = load_vocab(ROOT / "data")
    table = tmp_path / "t.csv"
    table.write_text("指标,宁波市,南京市\n地区生产总值(亿元),\"16,452.8\",17421.4\n增长(%),5.5,4.6\n",
                     encoding="utf-8")
    rows = read_any(table, vocab, Fixed(year="2023"))
    assert {(r.area, r.kind, r.value, r.cell) for r in rows} == {
        ("330200", "level", "16452.8", "B2"), ("320100", "level", "17421.4", "C2"),
        ("330200", "growth", "5.5", "B3"), ("320100", "growth", "4.6", "C3")}
    with pytest.raises(TableError) as e:
        read_any(table, vocab, Fixed(year="23", source="tjj.example", status="planned"))
    whats = [p.where for p in e.value.problems]
    assert whats[:3] == ["--status", "--year", "--source"]


def test_one_area_time_series_with_a_unit_line_and_notes(tmp_path):
    vocab = load_vocab(ROOT / "data")
    table = tmp_path / "ningbo.csv"
    table.write_text("宁波市主要指标\n单位：亿元\n年份,地区生产总值,一般公共预算收入\n"
                     "2022年,\"15,704.3\",\n2023年,\"16,452.8\",约1000\n注：2023年为初步核算数。\n",
                     encoding="utf-8")
    rows = read_any(table, vocab, Fixed(area="330200"))
    assert [(r.area, r.indicator, r.period, r.value, r.unit, r.qualifier, r.cell) for r in rows] == [
        ("330200", "gdp", "2022", "15704.3", "yi-yuan", "exact", "B4"),
        ("330200", "gdp", "2023", "16452.8", "yi-yuan", "exact", "B5"),
        ("330200", "general-budget-revenue", "2023", "1000", "yi-yuan", "about", "C5")]
    with pytest.raises(TableError) as e:  # the table's year and --year disagree: said, not chosen
        read_any(table, vocab, Fixed(area="330200", year="2023"))
    assert [str(p) for p in e.value.problems] == [
        "B4: the table says the year 2022, --year says 2023 (fix: drop --year or correct the table)"]


def test_a_negative_level_and_a_taken_dataset_name_are_problems(project, tmp_path):
    table = tmp_path / "net.csv"
    table.write_text("地区,地区生产总值（亿元）,增长(%)\n宁波,-5,-1.2\n", encoding="utf-8")
    vocab = load_vocab(ROOT / "data")
    with pytest.raises(TableError) as e:
        read_any(table, vocab, Fixed(year="2023"))
    assert [p.where for p in e.value.problems] == ["B2"]  # a negative growth rate is fine
    r = run(project, "import-table", str(table), "--year", "2023", "--dataset", "cities-2023-headline")
    assert r.returncode == 1
    assert "data/china/cities-2023-headline/ already holds a dataset named 'cities-2023-headline'" in r.stderr
    assert "B2: a negative level" in r.stderr


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path):
    table = tmp_path / "t.txt"
    table.write_bytes("地区\t地区生产总值（亿元）\n宁波市\t16452.8\n".encode("utf-16"))
    rows = read_any(table, load_vocab(ROOT / "data"), Fixed(year="2023"))
    assert [(r.area, r.indicator, r.value) for r in rows] == [("330200", "gdp", "16452.8")]
