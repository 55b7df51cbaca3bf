"""Integrity of data/sources/cities-2023/figures.csv, the curated 2023 figures of other cities.

Every figure is written exactly as its source writes it, inside the sentence (or table cell) it is
quoted from; the checks below keep it that way. A missing file fails, it does not skip.
"""
from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "data" / "sources" / "cities-2023" / "figures.csv"
README = ROOT / "data" / "sources" / "cities-2023" / "README.md"

COLUMNS = [
    "area_name", "area_code", "indicator_zh", "period", "kind", "value_text", "unit",
    "qualifier_text", "status", "source_url", "source_title", "vintage", "quote", "checked_by", "note",
]
INDICATORS = {"地区生产总值", "常住人口", "一般公共预算收入", "全体居民人均可支配收入", "固定资产投资"}
# units as the sources write them (億元 is the traditional-character spelling of 亿元)
UNITS = {"亿元", "億元", "万亿元", "萬億元", "万人", "萬人", "元", "万元", "萬元", "%", "个百分点"}
QUALIFIERS = {"", "超", "突破", "约", "左右", "以上", "不低于", "近"}
# GB/T 2260 has no code for the whole country; 100000 is the conventional one (used by DataV and
# most map data) and is the only code allowed outside the province prefixes below.
COUNTRY_CODE = "100000"
PROVINCE_PREFIXES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
}
# A sample of GB/T 2260 codes checked against the official list: a code in the file for one of
# these names must be this one.
KNOWN_CODES = {
    "北京市": "110000", "天津市": "120000", "上海市": "310000", "重庆市": "500000",
    "南京市": "320100", "苏州市": "320500", "宁波市": "330200", "合肥市": "340100",
    "广州市": "440100", "深圳市": "440300", "成都市": "510100", "西安市": "610100",
    "武汉市": "420100", "长沙市": "430100", "青岛市": "370200", "郑州市": "410100",
    "无锡市": "320200", "佛山市": "440600", "厦门市": "350200", "济南市": "370100",
}
MIN_CITIES = 12
MIN_FIGURES_PER_CITY = 5
# the kinds of data/README.md that these headline figures use: a fall (下降 6.8%) is kind `decline`
# with the value as written, never a negative number
KINDS = {"level", "growth", "decline"}
RATE_KINDS = {"growth", "decline"}
# words that state a fall just before its rate (simplified and traditional spellings)
DECLINE_WORDS = ("下降", "減少", "减少", "下滑", "回落")


def load_rows(path: Path = FIGURES) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        assert f.read(1) != "\ufeff", "figures.csv must be UTF-8 without a BOM"
        f.seek(0)
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS, reader.fieldnames
        return list(reader)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    assert FIGURES.is_file(), f"missing {FIGURES}"
    rows = load_rows()
    assert rows, "figures.csv has no rows"
    return rows


def city_rows(rows):
    return [r for r in rows if r["area_code"] != COUNTRY_CODE]


def figure_key(r: dict[str, str]) -> tuple:
    return (r["indicator_zh"], r["period"], r["kind"], r["status"])


def test_every_value_is_written_in_its_quote(rows):
    bad = [(r["area_name"], r["indicator_zh"], r["value_text"]) for r in rows
           if not r["value_text"] or r["value_text"] not in r["quote"]]
    assert not bad, bad


def test_value_unit_and_qualifier_sit_together_in_the_quote(rows):
    """The value is followed by its unit in the quote (亿元 after 43760.7, % after 5.2) and the
    qualifier stands next to the value or its unit: a value found only inside another number fails."""
    bad = []
    for r in rows:
        q, v, u, qual = r["quote"], r["value_text"], r["unit"], r["qualifier_text"]
        spots = [m.start() for m in re.finditer(re.escape(v), q)
                 if (m.start() == 0 or not (q[m.start() - 1].isdigit() or q[m.start() - 1] == "."))]
        spots = [i for i in spots if q[i + len(v):].lstrip().startswith(u)]
        if not spots:
            bad.append((r["area_name"], r["indicator_zh"], v, u, "value+unit not in quote"))
            continue
        if qual:
            near = any(qual in q[max(0, i - 6): i] or q[i + len(v) + len(u):].lstrip().startswith(qual)
                       for i in spots)
            if not near:
                bad.append((r["area_name"], r["indicator_zh"], v, qual, "qualifier not beside value"))
    assert not bad, bad


# a number as a source writes it: digits, a decimal part, and thousands separators where the source
# writes them (广州's budget report: 1,928.9亿元; the import drops the separator, never the digits)
NUMBER_AS_WRITTEN = re.compile(r"(\d+|\d{1,3}(,\d{3})+)(\.\d+)?")


def test_values_are_numbers_as_written(rows):
    bad = [r["value_text"] for r in rows if not NUMBER_AS_WRITTEN.fullmatch(r["value_text"])]
    assert not bad, bad


def test_source_urls_are_http(rows):
    bad = [r["source_url"] for r in rows if not re.fullmatch(r"https?://[^\s]+", r["source_url"])]
    assert not bad, bad


def test_area_codes_are_valid(rows):
    bad = []
    for r in rows:
        code = r["area_code"]
        if code == COUNTRY_CODE:
            continue
        if not re.fullmatch(r"\d{6}", code) or code[:2] not in PROVINCE_PREFIXES:
            bad.append((r["area_name"], code))
        elif r["area_name"] in KNOWN_CODES and KNOWN_CODES[r["area_name"]] != code:
            bad.append((r["area_name"], code, "expected " + KNOWN_CODES[r["area_name"]]))
    assert not bad, bad
    names_per_code = defaultdict(set)
    for r in rows:
        names_per_code[r["area_code"]].add(r["area_name"])
    assert all(len(n) == 1 for n in names_per_code.values()), dict(names_per_code)


def test_controlled_columns(rows):
    bad = []
    for r in rows:
        if r["indicator_zh"] not in INDICATORS:
            bad.append(("indicator", r["indicator_zh"]))
        if r["kind"] not in KINDS:
            bad.append(("kind", r["kind"]))
        if r["status"] not in {"actual", "target"}:
            bad.append(("status", r["status"]))
        if r["unit"] not in UNITS:
            bad.append(("unit", r["unit"]))
        if r["qualifier_text"] not in QUALIFIERS:
            bad.append(("qualifier", r["qualifier_text"]))
        if r["kind"] in RATE_KINDS and r["unit"] not in {"%", "个百分点"}:
            bad.append((r["kind"] + " unit", r["area_name"], r["indicator_zh"], r["unit"]))
        if r["status"] == "target" and r["period"] not in {"2023", "2024"}:
            bad.append(("target period", r["area_name"], r["period"]))
        if r["status"] == "actual" and r["period"] != "2023":
            bad.append(("actual period", r["area_name"], r["period"]))
        for col in ("source_title", "vintage", "quote", "checked_by"):
            if not r[col].strip():
                bad.append(("empty " + col, r["area_name"], r["indicator_zh"]))
    assert not bad, bad


def test_declines_are_stated_as_declines(rows):
    """A decline row's rate follows a word of falling (下降 6.8%) in its quote, so that a rise is
    never stored as a fall nor a fall as a rise; growth rows are rises, never negative numbers."""
    bad = []
    for r in rows:
        q, v = r["quote"], r["value_text"]
        if r["kind"] == "decline":
            spots = [m.start() for m in re.finditer(re.escape(v + r["unit"]), q)
                     if m.start() == 0 or not (q[m.start() - 1].isdigit() or q[m.start() - 1] == ".")]
            if not any(any(w in q[max(0, i - 12): i] for w in DECLINE_WORDS) for i in spots):
                bad.append((r["area_name"], r["indicator_zh"], v, "no 下降 before the value"))
        if r["kind"] in RATE_KINDS and v.startswith("-"):
            bad.append((r["area_name"], r["indicator_zh"], v, "signed value"))
    assert not bad, bad


def test_a_decline_is_recorded(rows):
    """长沙's fixed-asset investment fell in 2023 (下降6.8%): the file keeps it as a decline."""
    declines = {(r["area_name"], r["indicator_zh"]): r["value_text"] for r in rows if r["kind"] == "decline"}
    assert declines.get(("长沙市", "固定资产投资")) == "6.8", declines


def test_estimates_and_preliminary_figures_are_marked(rows):
    """A figure quoted from a sentence saying 预计 (expected) is marked an estimate, and one saying
    初步核算 (preliminary accounting) is marked preliminary, in its vintage."""
    bad = []
    for r in rows:
        if r["status"] == "actual" and ("预计" in r["quote"] or "預計" in r["quote"]):
            if "estimate" not in r["vintage"]:
                bad.append((r["area_name"], r["indicator_zh"], "estimate not marked"))
        if "初步核算" in r["quote"] and "preliminary" not in r["vintage"]:
            bad.append((r["area_name"], r["indicator_zh"], "preliminary not marked"))
    assert not bad, bad


def test_every_figure_was_checked(rows):
    bad = [(r["area_name"], r["indicator_zh"], r["kind"]) for r in rows
           if not (r["checked_by"].startswith("second source: http") or r["checked_by"].startswith("re-read"))]
    assert not bad, bad


def test_no_duplicate_rows(rows):
    keys = Counter((r["area_code"], r["indicator_zh"], r["period"], r["kind"], r["status"], r["source_url"])
                   for r in rows)
    dups = [k for k, n in keys.items() if n > 1]
    assert not dups, dups


def test_enough_cities_with_enough_figures(rows):
    """At least 12 cities with five of the asked-for figures: 2023 actuals and the 2024 target
    (2023 targets, kept for the met/missed queries, do not count)."""
    per_city = defaultdict(set)
    for r in city_rows(rows):
        if (r["status"], r["period"]) in {("actual", "2023"), ("target", "2024")}:
            per_city[r["area_code"]].add(figure_key(r))
    full = {c for c, figs in per_city.items() if len(figs) >= MIN_FIGURES_PER_CITY}
    assert len(full) >= MIN_CITIES, {c: len(f) for c, f in per_city.items()}


def test_every_area_has_a_gdp_figure(rows):
    """The cross-city queries (ranking, growth against the national rate, targets) all start from
    地区生产总值: an area without any GDP figure would be invisible to them."""
    areas = {r["area_name"] for r in rows}
    with_gdp = {r["area_name"] for r in rows if r["indicator_zh"] == "地区生产总值"}
    assert areas == with_gdp, sorted(areas - with_gdp)


def test_national_figures_for_the_growth_comparison(rows):
    national = {(r["indicator_zh"], r["kind"]): r["value_text"] for r in rows if r["area_code"] == COUNTRY_CODE}
    assert national.get(("地区生产总值", "level")) == "1260582"
    assert national.get(("地区生产总值", "growth")) == "5.2"


def test_readme_lists_every_city(rows):
    text = README.read_text(encoding="utf-8")
    missing = sorted(n for n in {r["area_name"] for r in rows} if n not in text)
    assert not missing, missing


def test_the_checks_catch_a_broken_row(tmp_path):
    """The checks above reject a row whose value is not in its quote, a bad URL or a bad code."""
    good = load_rows()[0]
    broken = dict(good, value_text="99999.9", source_url="ftp://x", area_code="990000")
    path = tmp_path / "figures.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerow(broken)
    (row,) = load_rows(path)
    with pytest.raises(AssertionError):
        test_every_value_is_written_in_its_quote([row])
    with pytest.raises(AssertionError):
        test_source_urls_are_http([row])
    with pytest.raises(AssertionError):
        test_area_codes_are_valid([row])
    with pytest.raises(AssertionError):
        test_no_duplicate_rows([good, dict(good)])
    rise = next(r for r in load_rows() if r["kind"] == "growth" and "下降" not in r["quote"])
    with pytest.raises(AssertionError):  # a rise (增长5.2%) stored as a decline
        test_declines_are_stated_as_declines([dict(rise, kind="decline")])
    with pytest.raises(AssertionError):
        test_controlled_columns([dict(good, kind="fall")])
    for misplaced in ("19,28.9", "1,9289", "-5.2", "5,2"):  # a separator only between groups of three
        with pytest.raises(AssertionError):
            test_values_are_numbers_as_written([dict(good, value_text=misplaced)])
    test_values_are_numbers_as_written([dict(good, value_text="1,928.9")])
