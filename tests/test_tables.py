"""`econplan import-table` (tables as published: CSV in any common encoding, .xlsx, CSVW) and
`econplan export --format csvw`, on a real copy of the project, a real store and the real gate.

The figures in the tables below are fixtures for the reader (written the way bureaus write
them), not curated data; nothing here is shipped.
"""
from __future__ import annotations

import csv
import hashlib
import io
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


# ------------------------------------------------------------------ tables as bureaus publish them
# Each shape is read from a CSV in UTF-8, a CSV in GB18030 and an .xlsx whose group headers are
# merged cells (as Excel writes them): the same figures from each.

def write_table(folder: Path, rows: list[list[str]], fmt: str, merges=(), name="table") -> Path:
    """``rows`` as a CSV in ``fmt`` (utf-8, gb18030) or as an .xlsx with the cell ranges ``merges``
    merged and numbers stored as numbers, formatted to show the digits written."""
    if fmt != "xlsx":
        path = folder / f"{name}.csv"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        path.write_bytes(buf.getvalue().encode(fmt))
        return path
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for i, row in enumerate(rows, start=1):
        for j, text in enumerate(row, start=1):
            if not text:
                continue
            cell = ws.cell(i, j)
            if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?", text):
                decimals = len(text.split(".")[1]) if "." in text else 0
                cell.value = float(text.replace(",", "")) if decimals else int(text.replace(",", ""))
                cell.number_format = ("#,##0" if "," in text else "0") + ("." + "0" * decimals if decimals else "")
            else:
                cell.value = text
    for rng in merges:
        ws.merge_cells(rng)
    path = folder / f"{name}.xlsx"
    wb.save(path)
    return path


FORMATS = ["utf-8", "gb18030", "xlsx"]


def figures(rows) -> list[tuple]:
    return [(r.area, r.indicator, r.kind, r.period, r.value, r.unit, r.qualifier, r.cell, r.as_written)
            for r in rows]


TWO_HEADER_ROWS = [
    ["2023年各设区市主要经济指标", "", "", "", "", ""],
    ["地区", "地区生产总值", "", "一般公共预算收入", "", "常住人口"],
    ["", "绝对额(亿元)", "比上年增长(%)", "绝对额(亿元)", "比上年增长(%)", "(万人)"],
    ["全省", "128,097", "6.0", "9,930.7", "7.2", "5627"],
    ["南京市", "17,421.40", "4.6", "1,665.02", "3.4", "954.7"],
    ["无锡市", "约15,456", "", "1,180.1", "—", "749.5"],
    ["注：地区生产总值增长速度按不变价格计算。", "", "", "", "", ""],
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_header_rows_a_group_header_over_measure_and_unit(tmp_path, fmt):
    # in .xlsx the group headers are merged cells (地区 down over both header rows)
    table = write_table(tmp_path, TWO_HEADER_ROWS, fmt, merges=("A1:F1", "A2:A3", "B2:C2", "D2:E2"))
    if fmt == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            table.read_bytes().decode("utf-8")
    rows = read_any(table, load_vocab(ROOT / "data"), Fixed())  # the year from the title line
    assert figures(rows) == [  # 全省: the province holding 南京市 and 无锡市
        ("320000", "gdp", "level", "2023", "128097", "yi-yuan", "exact", "B4", "128,097"),
        ("320000", "gdp", "growth", "2023", "6.0", "percent", "exact", "C4", "6.0"),
        ("320000", "general-budget-revenue", "level", "2023", "9930.7", "yi-yuan", "exact", "D4", "9,930.7"),
        ("320000", "general-budget-revenue", "growth", "2023", "7.2", "percent", "exact", "E4", "7.2"),
        ("320000", "resident-population", "level", "2023", "5627", "wan-person", "exact", "F4", "5627"),
        ("320100", "gdp", "level", "2023", "17421.40", "yi-yuan", "exact", "B5", "17,421.40"),
        ("320100", "gdp", "growth", "2023", "4.6", "percent", "exact", "C5", "4.6"),
        ("320100", "general-budget-revenue", "level", "2023", "1665.02", "yi-yuan", "exact", "D5", "1,665.02"),
        ("320100", "general-budget-revenue", "growth", "2023", "3.4", "percent", "exact", "E5", "3.4"),
        ("320100", "resident-population", "level", "2023", "954.7", "wan-person", "exact", "F5", "954.7"),
        ("320200", "gdp", "level", "2023", "15456", "yi-yuan", "about", "B6", "约15,456"),
        ("320200", "general-budget-revenue", "level", "2023", "1180.1", "yi-yuan", "exact", "D6", "1,180.1"),
        ("320200", "resident-population", "level", "2023", "749.5", "wan-person", "exact", "F6", "749.5"),
    ]  # a blank cell and — are missing values: no fact


YEAR_GROUPS = [  # a year over its indicators: the group header names no indicator
    ["地区", "2022年", "", "2023年", ""],
    ["", "地区生产总值(亿元)", "常住人口(万人)", "地区生产总值(亿元)", "常住人口(万人)"],
    ["南京市", "16,907.85", "949.11", "17,421.40", "954.7"],
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_header_rows_a_year_over_its_indicators(tmp_path, fmt):
    table = write_table(tmp_path, YEAR_GROUPS, fmt, merges=("A1:A2", "B1:C1", "D1:E1"))
    rows = read_any(table, load_vocab(ROOT / "data"), Fixed())
    assert figures(rows) == [
        ("320100", "gdp", "level", "2022", "16907.85", "yi-yuan", "exact", "B3", "16,907.85"),
        ("320100", "resident-population", "level", "2022", "949.11", "wan-person", "exact", "C3", "949.11"),
        ("320100", "gdp", "level", "2023", "17421.40", "yi-yuan", "exact", "D3", "17,421.40"),
        ("320100", "resident-population", "level", "2023", "954.7", "wan-person", "exact", "E3", "954.7"),
    ]
    if fmt == "xlsx":  # the year reaches C and E through the merged range, not a blank cell
        from server.kg.tables import read_grid

        grid, _ = read_grid(table)
        assert (grid[0][2].text, grid[0][2].spanned, grid[0][2].merged) == ("", "2022年", True)


def test_a_workbook_sheet_by_name_or_number(tmp_path):
    # a workbook whose first sheet is a note and whose table is on the second ('数据')
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表数据为初步核算数"])
    ws = wb.create_sheet("数据")
    for row in YEAR_GROUPS:
        ws.append(row)
    for rng in ("A1:A2", "B1:C1", "D1:E1"):
        ws.merge_cells(rng)
    path = tmp_path / "book.xlsx"
    wb.save(path)
    vocab = load_vocab(ROOT / "data")
    for sheet in ("数据", "2"):
        rows = read_any(path, vocab, Fixed(sheet=sheet))
        assert [(r.area, r.indicator, r.period, r.cell) for r in rows][:1] == [
            ("320100", "gdp", "2022", "数据!B3")]
    with pytest.raises(TableError) as e:
        read_any(path, vocab, Fixed(sheet="Sheet9"))
    assert "has no sheet 'Sheet9'; its sheets are 1 '说明', 2 '数据'" in str(e.value)
    with pytest.raises(TableError) as e:                      # the first sheet is the default
        read_any(path, vocab, Fixed())
    csv_path = write_table(tmp_path, YEAR_GROUPS, "utf-8", name="plain")
    with pytest.raises(TableError) as e:
        read_any(csv_path, vocab, Fixed(sheet="1"))
    assert "is not a workbook" in str(e.value)


DISTRICTS = [
    ["杭州市2023年分区县主要指标", "", ""],
    ["地区", "地区生产总值(亿元)", "增长(%)"],
    ["全市", "20,059", "5.6"],
    ["萧山区", "2,000.5", "5.0"],
    ["余杭区", "1,800", "-1.2"],
    ["全国", "1,260,582", "5.2"],
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_total_rows_are_the_area_that_holds_the_others(tmp_path, fmt):
    table = write_table(tmp_path, DISTRICTS, fmt, merges=("A1:C1",))
    vocab = load_vocab(ROOT / "data")
    expected = [
        ("330100", "gdp", "level", "2023", "20059", "yi-yuan", "exact", "B3", "20,059"),  # 全市: the districts' city
        ("330100", "gdp", "growth", "2023", "5.6", "percent", "exact", "C3", "5.6"),
        ("330109", "gdp", "level", "2023", "2000.5", "yi-yuan", "exact", "B4", "2,000.5"),
        ("330109", "gdp", "growth", "2023", "5.0", "percent", "exact", "C4", "5.0"),
        ("330110", "gdp", "level", "2023", "1800", "yi-yuan", "exact", "B5", "1,800"),
        ("330110", "gdp", "growth", "2023", "-1.2", "percent", "exact", "C5", "-1.2"),
        ("CN", "gdp", "level", "2023", "1260582", "yi-yuan", "exact", "B6", "1,260,582"),  # 全国: the country
        ("CN", "gdp", "growth", "2023", "5.2", "percent", "exact", "C6", "5.2"),
    ]
    assert figures(read_any(table, vocab, Fixed(year="2023"))) == expected
    # --area names the total row when the table has one; it must hold the other rows' areas
    assert figures(read_any(table, vocab, Fixed(year="2023", area="330100"))) == expected
    with pytest.raises(TableError) as e:
        read_any(table, vocab, Fixed(year="2023", area="320100"))
    assert [str(p) for p in e.value.problems] == [
        "A1: the title names 330100 杭州市, --area says 320100 (fix: drop --area or correct the title)",
        "A3: total row '全市': --area 320100 南京市 does not contain 330109 萧山区 (fix: drop --area or correct it)"]


def test_a_total_row_that_cannot_be_decided_is_a_problem(tmp_path):
    vocab = load_vocab(ROOT / "data")
    table = write_table(tmp_path, [
        ["地区", "地区生产总值(亿元)"],
        ["合计", "37,480.8"],     # 杭州市 and 南京市 are in two provinces: 合计 of what?
        ["杭州市", "20,059"],
        ["南京市", "17,421.4"],
    ], "utf-8", name="two-provinces")
    with pytest.raises(TableError) as e:
        read_any(table, vocab, Fixed(year="2023"))
    assert [str(p) for p in e.value.problems] == [
        "A2: total row '合计': cannot tell which area it covers (the other rows' areas are not all in one area) "
        "(fix: give --area CODE (the area the 合计 row covers), or write that area's name or code for 合计)"]
    table = write_table(tmp_path, [
        ["地区", "地区生产总值(亿元)"],
        ["全省", "20,059"],       # the districts are in 杭州市, a city, not a province
        ["萧山区", "2,000.5"],
        ["全市", "20,059"],       # alone in its table (vocab/areas.csv gives 杭州市 the alias 全市: not used)
    ], "utf-8", name="mixed")
    with pytest.raises(TableError) as e:
        read_any(table, vocab, Fixed(year="2023"))
    assert [p.where for p in e.value.problems] == ["A2"]
    assert "the other rows' areas are in 330100 杭州市, a prefecture-level city" in e.value.problems[0].what
    with pytest.raises(TableError) as e:
        read_any(write_table(tmp_path, [["地区", "地区生产总值(亿元)"], ["全市", "20,059"]], "utf-8", name="alone"),
                 vocab, Fixed(year="2023"))
    assert [p.what for p in e.value.problems] == ["total row '全市': cannot tell which area it covers "
                                                  "(no other row names an area)"]
    # a total row with --area of the wrong type
    with pytest.raises(TableError) as e:
        read_any(table, vocab, Fixed(year="2023", area="330000"))
    assert [p.what for p in e.value.problems] == [
        "total row '全市': --area 330000 浙江省 is a province"]


BULLETIN_APPENDIX = [
    ["济南市2023年国民经济和社会发展统计公报附表", "", "", ""],
    ["指标", "单位", "2023年", ""],
    ["", "", "绝对数", "比上年增长(%)"],
    ["一、综合", "", "", ""],
    ["地区生产总值", "亿元", "12,757.4", "6.1"],
    ["全体居民人均可支配收入", "元", "51,757", "6.0"],
    ["#城镇居民人均可支配收入", "元", "60,321", "4.8"],
    ["常住人口", "万人", "943.7", ""],
    ["注：地区生产总值增长速度按不变价格计算。", "", "", ""],
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_indicator_rows_of_one_area_from_the_title(tmp_path, fmt):
    # a statistical bulletin's appendix: a row per indicator, the area and year in the title line,
    # 2023年 (merged over its two columns in .xlsx) over 绝对数 and 比上年增长(%)
    table = write_table(tmp_path, BULLETIN_APPENDIX, fmt, merges=("A1:D1", "A2:A3", "B2:B3", "C2:D2"))
    rows = read_any(table, load_vocab(ROOT / "data"), Fixed(source=SOURCE))
    assert figures(rows) == [
        ("370100", "gdp", "level", "2023", "12757.4", "yi-yuan", "exact", "C5", "12,757.4"),
        ("370100", "gdp", "growth", "2023", "6.1", "percent", "exact", "D5", "6.1"),
        ("370100", "disposable-income-per-capita", "level", "2023", "51757", "yuan", "exact", "C6", "51,757"),
        ("370100", "disposable-income-per-capita", "growth", "2023", "6.0", "percent", "exact", "D6", "6.0"),
        ("370100", "urban-disposable-income-per-capita", "level", "2023", "60321", "yuan", "exact", "C7", "60,321"),
        ("370100", "urban-disposable-income-per-capita", "growth", "2023", "4.8", "percent", "exact", "D7", "4.8"),
        ("370100", "resident-population", "level", "2023", "943.7", "wan-person", "exact", "C8", "943.7"),
    ]
    assert {(r.status, r.source) for r in rows} == {("actual", SOURCE)}


INDICATOR_ROWS = [
    ["指标", "单位", "2023年", "比上年增长(%)"],
    ["地区生产总值", "亿元", "12757.4", "6.1"],
    ["全体居民人均可支配收入", "元", "51757", "6.0"],
    ["常住人口", "万人", "943.7", ""],
]


@pytest.mark.parametrize("fmt", ["utf-8", "gb18030"])
def test_indicator_rows_with_area_given(tmp_path, fmt):
    table = write_table(tmp_path, INDICATOR_ROWS, fmt)
    vocab = load_vocab(ROOT / "data")
    rows = read_any(table, vocab, Fixed(area="370100"))
    assert figures(rows) == [
        ("370100", "gdp", "level", "2023", "12757.4", "yi-yuan", "exact", "C2", "12757.4"),
        ("370100", "gdp", "growth", "2023", "6.1", "percent", "exact", "D2", "6.1"),
        ("370100", "disposable-income-per-capita", "level", "2023", "51757", "yuan", "exact", "C3", "51757"),
        ("370100", "disposable-income-per-capita", "growth", "2023", "6.0", "percent", "exact", "D3", "6.0"),
        ("370100", "resident-population", "level", "2023", "943.7", "wan-person", "exact", "C4", "943.7"),
    ]
    # 本年 / 增速 headers, a year from --year
    table = write_table(tmp_path, [["指标名称", "计量单位", "本年", "增速"]] + INDICATOR_ROWS[1:], fmt, name="b")
    assert figures(read_any(table, vocab, Fixed(area="370100", year="2023"))) == figures(rows)


def test_indicator_rows_that_cannot_be_read_are_all_reported(tmp_path):
    vocab = load_vocab(ROOT / "data")
    table = write_table(tmp_path, [
        ["指标", "单位", "2023年", "上年", "比上年增长(%)", "占全省比重(%)"],
        ["地区生产总值", "亿元", "12757.4", "12027.5", "6.1", "13.9"],
        ["绿化覆盖率", "%", "42.1", "", "", ""],
        ["常住人口", "万头", "943.7", "", "", ""],
    ], "utf-8")
    with pytest.raises(TableError) as e:
        read_any(table, vocab, Fixed())
    assert [str(p) for p in e.value.problems] == [
        "row 1: a table of indicators with no area (fix: give --area CODE, or a title line naming the area "
        "(济南市2023年主要经济指标))",
        "column D “上年”: a column of the previous year's figures with no year (fix: write its year in the "
        "header (2022年), or delete the column)",
        "column F “占全省比重(%)”: '占全省比重(%)' is neither a year (2023年), a value (绝对额, 本年, 数值), an area nor a "
        "growth column (比上年增长(%), 增速) (fix: rename the column, or delete it)",
        "A3: unknown indicator '绿化覆盖率' (fix: name it by a label of the indicator scheme, or add '绿化覆盖率' "
        "to the alt_labels of its indicator (data/…/*.indicators.csv))",
        "B4: unknown unit '万头' (fix: use a symbol from data/vocab/units.csv (亿元, 万人, %, 个百分点 …))",
    ]


def test_two_header_rows_with_a_unit_row_and_a_rank_column(tmp_path):
    # the units alone in the second row; 位次 (a rank among the table's areas) is not a figure
    table = write_table(tmp_path, [
        ["地区", "地区生产总值", "", "", "常住人口"],
        ["", "亿元", "增长%", "位次", "万人"],
        ["杭州市", "20,059", "5.6", "1", "1252.2"],
    ], "utf-8")
    assert figures(read_any(table, load_vocab(ROOT / "data"), Fixed(year="2023"))) == [
        ("330100", "gdp", "level", "2023", "20059", "yi-yuan", "exact", "B3", "20,059"),
        ("330100", "gdp", "growth", "2023", "5.6", "percent", "exact", "C3", "5.6"),
        ("330100", "resident-population", "level", "2023", "1252.2", "wan-person", "exact", "E3", "1252.2"),
    ]


AREA_COLUMNS = [
    ["2023年各市主要经济指标", "", "", "", "", "", "", ""],
    ["指标", "单位", "全省", "", "南京市", "", "无锡市", ""],
    ["", "", "绝对额", "比上年增长(%)", "绝对额", "比上年增长(%)", "绝对额", "比上年增长(%)"],
    ["地区生产总值", "亿元", "128,097", "6.0", "17,421.40", "4.6", "15,456.19", "6.0"],
    ["常住人口", "万人", "8526", "", "954.7", "", "749.5", ""],
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_indicator_rows_with_a_column_per_area(tmp_path, fmt):
    # 指标 | 单位 | an area over its 绝对额 and 比上年增长 (merged in .xlsx); 全省 is the cities' province
    table = write_table(tmp_path, AREA_COLUMNS, fmt, merges=("A1:H1", "A2:A3", "B2:B3", "C2:D2", "E2:F2", "G2:H2"))
    rows = read_any(table, load_vocab(ROOT / "data"), Fixed())
    assert sorted(figures(rows), key=lambda f: f[7]) == [
        ("320000", "gdp", "level", "2023", "128097", "yi-yuan", "exact", "C4", "128,097"),
        ("320000", "resident-population", "level", "2023", "8526", "wan-person", "exact", "C5", "8526"),
        ("320000", "gdp", "growth", "2023", "6.0", "percent", "exact", "D4", "6.0"),
        ("320100", "gdp", "level", "2023", "17421.40", "yi-yuan", "exact", "E4", "17,421.40"),
        ("320100", "resident-population", "level", "2023", "954.7", "wan-person", "exact", "E5", "954.7"),
        ("320100", "gdp", "growth", "2023", "4.6", "percent", "exact", "F4", "4.6"),
        ("320200", "gdp", "level", "2023", "15456.19", "yi-yuan", "exact", "G4", "15,456.19"),
        ("320200", "resident-population", "level", "2023", "749.5", "wan-person", "exact", "G5", "749.5"),
        ("320200", "gdp", "growth", "2023", "6.0", "percent", "exact", "H4", "6.0"),
    ]


YEARBOOK = [  # a yearbook's table: Chinese and English in the header cells, the areas and a row of their own
    ["2-12  各市主要经济指标(2023年)", "", ""],
    ["Main Economic Indicators by City (2023)", "", ""],
    ["地区", "地区生产总值(亿元)\nGross Regional Product (100 million yuan)", "比上年增长(%)"],
    ["Region", "", "Growth over Previous Year (%)"],
    ["南京市 Nanjing", "17,421.40", "4.6"],
    ["无锡市\nWuxi", "15,456.19", "6.0"],
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_yearbook_table_in_chinese_and_english(tmp_path, fmt):
    table = write_table(tmp_path, YEARBOOK, fmt, merges=("A1:C1", "A2:C2"))
    assert figures(read_any(table, load_vocab(ROOT / "data"), Fixed())) == [
        ("320100", "gdp", "level", "2023", "17421.40", "yi-yuan", "exact", "B5", "17,421.40"),
        ("320100", "gdp", "growth", "2023", "4.6", "percent", "exact", "C5", "4.6"),
        ("320200", "gdp", "level", "2023", "15456.19", "yi-yuan", "exact", "B6", "15,456.19"),
        ("320200", "gdp", "growth", "2023", "6.0", "percent", "exact", "C6", "6.0"),
    ]


def test_figures_for_part_of_a_year_are_a_problem(tmp_path):
    vocab = load_vocab(ROOT / "data")
    table = write_table(tmp_path, [["地区", "地区生产总值(亿元)", "1-9月地区生产总值(亿元)"],
                                   ["南京市", "17,421.40", "12,692.6"]], "utf-8")
    with pytest.raises(TableError) as e:
        read_any(table, vocab, Fixed(year="2023"))
    assert [str(p) for p in e.value.problems] == [
        "column C “1-9月地区生产总值(亿元)”: figures for part of a year (months, a quarter, a half) (fix: "
        "import-table reads a year's figures: use the table of the whole year, or reshape it for import-csv)"]


# ------------------------------------------------------------------ county-level areas of any city
# The numbers in these tables are test data (made up, shaped as a bureau writes them), not figures of
# the areas named; what is checked is which area each row is read as.

NINGBO_COUNTIES = [
    ["宁波市2023年各区县（市）主要经济指标", "", ""],
    ["地区", "地区生产总值（亿元）", "增长(%)"],
    ["全市", "16,452.8", "5.5"],
    ["海曙区", "1,401.1", "5.1"],
    ["江北区", "902.2", "5.2"],       # also 重庆市江北区 (500105): the other rows say 宁波
    ["北仑区", "2,803.3", "5.3"],
    ["镇海区", "1,404.4", "5.4"],
    ["鄞州区", "3,005.5", "5.5"],
    ["奉化区", "706.6", "5.6"],
    ["余姚市", "1,507.7", "5.7"],
    ["慈溪市", "2,508.8", "5.8"],
    ["宁海县", "909.9", "5.9"],
    ["象山县", "800.1", "6.0"],
]
NINGBO_CODES = ["330200", "330203", "330205", "330206", "330211", "330212", "330213", "330281", "330282",
                "330226", "330225"]


def test_a_citys_county_table_with_a_total_row(tmp_path):
    rows = read_any(write_table(tmp_path, NINGBO_COUNTIES, "utf-8"), load_vocab(ROOT / "data"), Fixed(year="2023"))
    levels = [(r.area, r.area_name, r.value) for r in rows if r.kind == "level"]
    assert [a for a, _, _ in levels] == NINGBO_CODES
    assert levels[2] == ("330205", "江北区", "902.2") and levels[8] == ("330282", "慈溪市", "2508.8")
    assert len(rows) == 22


def test_a_county_table_without_title_or_total_row_resolves_by_the_other_rows(tmp_path):
    # no title, no total row, short names: 江北 alone is a common word (江北区 is written in full)
    body = [["地区", "地区生产总值（亿元）"], ["海曙", "1401.1"], ["江北区", "902.2"], ["慈溪", "2508.8"]]
    rows = read_any(write_table(tmp_path, body, "utf-8"), load_vocab(ROOT / "data"), Fixed(year="2023"))
    assert [r.area for r in rows] == ["330203", "330205", "330282"]


def test_import_table_of_a_citys_counties_into_the_store(project, tmp_path):
    table = write_table(tmp_path, NINGBO_COUNTIES, "gb18030", name="ningbo-counties")
    r = run(project, "import-table", str(table), "--year", "2023", "--source", SOURCE)
    assert r.returncode == 0, r.stdout + r.stderr
    got = facts(project, "ningbo-counties")
    assert {a for a, _, _ in got} == set(NINGBO_CODES)
    assert got[("330205", "gdp", "level")]["value"] == "902.2"
    assert got[("330226", "gdp", "growth")]["value"] == "5.9"
    # the counties are described in the dataset's own graph (the vocabulary graph describes the
    # provinces, prefectures and the curated city's counties): with their parent, and rebuilt alike
    kg = KnowledgeGraph.open(project / "build", mode="memory")
    graphs = kg.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { district:330205 a ep:District ; "
                       "rdfs:label '江北区'@zh ; schema:containedInPlace district:330200 } }")
    assert [r["g"].value.rsplit("/", 1)[-1] for r in graphs] == ["ningbo-counties"]
    assert not kg.ask("ASK { district:330226 ep:gb2260 ?c . district:500105 ep:gb2260 ?d }")
    del kg
    assert run(project, "build").returncode == 0
    assert facts(project, "ningbo-counties")[("330205", "gdp", "level")]["value"] == "902.2"


def test_a_shared_name_under_a_city_title(tmp_path):
    # 鼓楼区 is in 南京, 徐州, 开封 and 福州: the title names 福州市
    body = [["福州市2023年各县（市）区主要指标", ""], ["地区", "地区生产总值（亿元）"],
            ["鼓楼区", "1,234.5"], ["台江区", "678.9"]]
    rows = read_any(write_table(tmp_path, body, "utf-8"), load_vocab(ROOT / "data"), Fixed())
    assert [(r.area, r.period) for r in rows] == [("350102", "2023"), ("350103", "2023")]
    # --area says the same for a table with no title
    body = [["地区", "地区生产总值（亿元）"], ["鼓楼区", "1,234.5"]]
    rows = read_any(write_table(tmp_path, body, "utf-8"), load_vocab(ROOT / "data"), Fixed(year="2023", area="350100"))
    assert [r.area for r in rows] == ["350102"]


def test_a_shared_name_alone_is_a_problem_naming_the_candidates(project, tmp_path):
    body = [["地区", "地区生产总值（亿元）"], ["鼓楼区", "1,234.5"]]
    table = write_table(tmp_path, body, "utf-8", name="gulou")
    with pytest.raises(TableError) as e:
        read_any(table, load_vocab(ROOT / "data"), Fixed(year="2023"))
    assert [str(p) for p in e.value.problems] == [
        "A2: ambiguous area '鼓楼区': 4 areas have this name (320106 南京市鼓楼区; 320302 徐州市鼓楼区; "
        "350102 福州市鼓楼区; 410204 开封市鼓楼区) (fix: write the code (or the full name) in the cell, or "
        "give --area CODE of the city or province the table is about, or a title line naming it)"]
    data_before = tree_digest(project / "data")
    r = run(project, "import-table", str(table), "--year", "2023")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "A2: ambiguous area '鼓楼区': 4 areas have this name (320106 南京市鼓楼区;" in r.stderr
    assert tree_digest(project / "data") == data_before
    # the code written in the cell, or --area, chooses
    body = [["地区", "地区生产总值（亿元）"], ["410204", "1,234.5"]]
    rows = read_any(write_table(tmp_path, body, "utf-8"), load_vocab(ROOT / "data"), Fixed(year="2023"))
    assert [r.area for r in rows] == ["410204"]


def test_chengdu_with_county_level_cities_and_counties(tmp_path):
    body = [["成都市2023年区（市）县主要指标", "", ""], ["地区", "地区生产总值（亿元）", "常住人口（万人）"],
            ["全市", "22,074.7", "2,140.3"], ["锦江区", "1,300.1", "90.2"], ["武侯区", "1,400.2", "120.3"],
            ["新都区", "1,000.3", "160.4"], ["金堂县", "600.4", "80.5"], ["简阳市", "700.5", "110.6"],
            ["都江堰市", "500.6", "70.7"], ["彭州市", "600.7", "78.8"]]
    rows = read_any(write_table(tmp_path, body, "utf-8"), load_vocab(ROOT / "data"), Fixed())
    gdp = [(r.area, r.value) for r in rows if r.indicator == "gdp"]
    assert gdp == [("510100", "22074.7"), ("510104", "1300.1"), ("510107", "1400.2"), ("510114", "1000.3"),
                   ("510121", "600.4"), ("510185", "700.5"), ("510181", "500.6"), ("510182", "600.7")]
    assert {r.period for r in rows} == {"2023"}


def test_an_autonomous_prefectures_counties_with_its_total_row(tmp_path):
    # 黔东南 (522600): 全州 is the prefecture holding the other rows; 丹寨县 and 黎平县 as the drafter's
    # blind sets name them
    body = [["地区", "地区生产总值（亿元）"], ["全州", "1,300.1"], ["凯里市", "300.2"], ["黎平县", "100.3"],
            ["丹寨县", "50.4"]]
    rows = read_any(write_table(tmp_path, body, "utf-8"), load_vocab(ROOT / "data"), Fixed(year="2023"))
    assert [r.area for r in rows] == ["522600", "522601", "522631", "522636"]
