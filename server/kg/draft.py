"""Draft facts from a city report's text, for a curator to review (``econplan draft``).

Text in (UTF-8 or GB18030), cleaned with the shipped cleaning step
(:func:`server.kg.source.clean`, plus any spam patterns the caller gives), split
into paragraphs and sentences with :func:`server.kg.source.passages`, and every
quantity proposed as one row of a draft: the value as written, as a number, its
unit, kind, qualifier, period, status, indicator, area and a confidence.

Nothing here knows Flask or click.  The rules are explicit and listed below
(no model): a reviewer can see why a row was proposed.  Chinese numerals are
converted with ``cn2an``.

Vocabulary of the draft columns: ``kind``, ``qualifier`` and ``status`` use the
curated vocabulary of ``data/README.md``, plus the draft-only qualifier
``range`` (``5%-6%``; :func:`accept` turns it into an at-least and an at-most
fact).  ``period`` is a year, or ``../2023`` for a cumulative figure (累计, up
to and including 2023; ISO 8601-2's open start).  ``indicator`` is the IRI of an
indicator of the shared scheme, or empty when the drafter suggests a new one
(its zh label is in ``indicator_label``).
"""
from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import DataError
from .source import Passage, clean, passages

COLUMNS = ("sentence", "start", "end", "value_text", "value", "unit", "kind", "qualifier",
           "period", "status", "indicator", "indicator_label", "area", "confidence")

INDICATOR_BASE = "https://w3id.org/econplan/id/indicator/"

# --- input ----------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), else GB18030; a clear error otherwise."""
    data = Path(path).read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise DataError(f"{path}: neither UTF-8 nor GB18030 text", path=str(path))


@dataclass(frozen=True)
class SpamPatterns:
    """Extra spam to remove before the shipped cleaning step: whole lines (regexes) and tokens."""

    lines: tuple[re.Pattern, ...] = ()
    tokens: tuple[str, ...] = ()

    @classmethod
    def read(cls, path: Path) -> "SpamPatterns":
        """A file of ``line: REGEX`` and ``token: TEXT`` lines (``#`` starts a comment)."""
        lines, tokens = [], []
        for n, raw in enumerate(read_text(path).splitlines(), start=1):
            entry = raw.strip()
            if not entry or entry.startswith("#"):
                continue
            kind, sep, value = entry.partition(":")
            value = value.strip()
            if not sep or kind.strip() not in ("line", "token") or not value:
                raise DataError(f"{path}:{n}: write `line: REGEX` or `token: TEXT`",
                                path=str(path), line=n)
            if kind.strip() == "line":
                try:
                    lines.append(re.compile(value))
                except re.error as exc:
                    raise DataError(f"{path}:{n}: bad regular expression ({exc})",
                                    path=str(path), line=n) from None
            else:
                tokens.append(value)
        return cls(tuple(lines), tuple(sorted(tokens, key=len, reverse=True)))


def clean_text(raw: str, spam: SpamPatterns | None = None) -> str:
    """The shipped cleaning step (:func:`server.kg.source.clean`) after removing ``spam``."""
    if spam and (spam.lines or spam.tokens):
        kept = []
        for line in raw.splitlines():
            s = line.strip()
            if any(p.match(s) for p in spam.lines):
                continue
            for token in spam.tokens:
                s = s.replace(token, "")
            kept.append(s)
        raw = "\n".join(kept)
    return clean(raw)


# --- vocabularies ---------------------------------------------------------------

#: Units as written -> unit slug of data/vocab/units.csv; longest first when matching.
UNIT_SLUGS = {
    "万亿元": "wan-yi-yuan", "亿美元": "yi-usd", "万美元": "wan-usd", "亿元": "yi-yuan", "万元": "wan-yuan", "元": "yuan",
    "%": "percent", "％": "percent", "个百分点": "percentage-point", "百分点": "percentage-point",
    "万人次": "wan-person-time", "人次": "person-time", "万人": "wan-person", "万名": "wan-person-ming",
    "名": "person-ming", "人": "person", "万户": "wan-household", "户": "household",
    "万家": "wan-enterprise", "家次": "enterprise-visit", "家": "enterprise",
    "万平方米": "wan-square-metre", "平方米": "square-metre", "平方公里": "square-kilometre",
    "公里": "kilometre", "万亩": "wan-mu", "亩": "mu", "万个": "wan-count", "个": "count",
    "项": "item", "条": "strip", "亿条": "yi-count", "座": "station", "万套": "wan-set", "套": "set",
    "所": "school", "张": "sheet", "台": "machine", "万辆": "wan-vehicle", "辆": "vehicle",
    "宗": "case", "万处": "wan-place", "处": "place", "万场": "wan-occasion", "场": "occasion",
    "万份": "wan-copy", "份": "copy", "万幢": "wan-building", "幢": "building", "种": "kind",
    "万次": "wan-time", "次": "time", "届": "edition", "位": "rank", "GWh": "gwh", "MWp": "mwp",
    "P": "pflops", "年": "year", "大": "count", "个月": "month", "个季度": "quarter",
    "‰": "per-mille", "μg/m3": "microgram-per-cubic-metre", "µg/m3": "microgram-per-cubic-metre",
    "μg/m³": "microgram-per-cubic-metre", "微克/立方米": "microgram-per-cubic-metre",
    "万公顷": "wan-hectare", "公顷": "hectare",
    # units the shared vocabulary does not have yet: proposed as written, a reviewer adds them
    "万吨": "万吨", "吨": "吨", "万千瓦": "万千瓦", "亿千瓦时": "亿千瓦时", "万标箱": "万标箱",
    "倍": "倍", "亿人次": "亿人次", "万台": "万台", "万条": "万条", "万座": "万座", "千米": "千米",
    "米": "米", "万平方公里": "万平方公里", "万立方米": "万立方米", "立方米": "立方米",
    "万千瓦时": "万千瓦时", "亿斤": "亿斤", "万斤": "万斤", "万吨标准煤": "万吨标准煤",
    "万吨标煤": "万吨标煤", "吨标准煤": "吨标准煤", "吨标煤": "吨标煤", "亿立方米": "亿立方米", "万张": "万张", "万所": "万所",
    "万件": "万件", "件": "件", "万只": "万只", "只": "只", "批": "批", "万元/人": "万元/人",
}
#: Measure words the vocabulary lacks that count things (3艘, 12例, 200万株): proposed as written.
WRITTEN_MEASURES = ("艘", "架", "栋", "头", "匹", "枚", "颗", "篇", "册", "款", "类", "片", "块", "株",
                    "棵", "例", "起", "笔", "单", "间", "队", "支", "组")
UNIT_SLUGS.update({m + u: m + u for m in ("", "万", "亿") for u in WRITTEN_MEASURES
                   if m + u not in UNIT_SLUGS})
# 超2万亿千瓦时, 3亿吨: a magnitude before a unit the vocabulary lacks is written with it
UNIT_SLUGS.update({m + u: m + u for m in ("万", "亿", "万亿")
                   for u in ("千瓦时", "千瓦", "吨", "立方米", "标箱", "斤", "度", "亩") if m + u not in UNIT_SLUGS})
_UNIT_WORDS = sorted(UNIT_SLUGS, key=len, reverse=True)

#: Unit slugs whose quantities are counts of things (kind ``count``); the others are levels.
COUNT_UNITS = {"count", "wan-count", "yi-count", "enterprise", "wan-enterprise", "enterprise-visit",
               "item", "strip", "person", "person-ming", "wan-person", "wan-person-ming",
               "person-time", "wan-person-time", "household", "wan-household", "building",
               "wan-building", "set", "wan-set", "school", "sheet", "machine", "vehicle",
               "wan-vehicle", "case", "place", "wan-place", "occasion", "wan-occasion", "copy",
               "wan-copy", "kind", "time", "wan-time", "station", "edition", "year", "month", "quarter",
               "亿人次",
               "万台", "万条", "万座", "万张", "万所", "万件", "件", "万只", "只", "批", "组"} | \
    {m + u for m in ("", "万", "亿") for u in WRITTEN_MEASURES}

#: A stock of people (常住人口, 户籍总人口, 城镇人口, 年末全市人口, 女性人口) is a ``level``, as
#: data/sources/cities-2023/figures.csv records 常住人口; a flow of people (出生人口, 新增就业,
#: 游客, 人次) stays a ``count``.
PERSON_UNITS = {"person", "wan-person"}
STOCK_OF_PEOPLE_RE = re.compile(r"(?:常住|户籍|总|城镇|乡村|农村|男性?|女性?|年末)[\u4e00-\u9fff]{0,4}?"
                                r"人口(?:总量|总数|数)?(?:为|达到|达|是|有|共)?$")
PEOPLE_FLOW_RE = re.compile(r"出生|死亡|迁入|迁出|流入|流出|新增|转移|增加|减少|净")

#: Per-person units: a rate written as 每万人 … x个 (the 个 is per ten thousand persons).
PER_UNITS = (("每万老年人", "张", "bed-per-wan-elderly"), ("每万人", "个", "per-wan-person"),
             ("每千人", "个", "per-thousand-person"))

# Chinese measure words that make a Chinese numeral a count (两项, 三个, 五大, 两件); 件 is not
# in data/vocab/units.csv yet and is proposed as written.
CN_MEASURES = {"项": "item", "个": "count", "家": "enterprise", "条": "strip", "名": "person-ming",
               "座": "station", "所": "school", "张": "sheet", "台": "machine", "处": "place",
               "场": "occasion", "种": "kind", "套": "set", "位": "rank", "年": "year",
               "大": "count", "件": "件", "组": "组", "支": "支",
               **{w: w for w in ("艘", "架", "栋", "枚", "颗", "篇", "册", "款", "类", "株", "棵", "例",
                                 "笔")}}
#: Where a rank is counted: 全国, 全省, 全区 (an autonomous region's own word for itself) …
RANK_SCOPES = ("全国", "全省", "全区", "全市", "全州", "全盟", "全球", "全世界", "世界")

_NUM = r"\d+(?:\.\d+)?"
_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_RANGE_SEP = "-－—~～至到"

# Quantities are read in this pattern: number [range] [余/多] unit.
QUANTITY_RE = re.compile(
    rf"(?:(?<=[为是:：率])(?P<neg>[-－−]))?(?<![\d.])(?P<a>{_NUM})(?P<ua>%|％|万(?=[{_RANGE_SEP}—]))?(?:(?P<sep>[{_RANGE_SEP}]|—+)(?P<b>{_NUM}))?"
    rf"(?:(?P<wan>[万亿])(?P<more>[余多])|(?P<more0>[余多]))?(?P<unit>{'|'.join(re.escape(u) for u in _UNIT_WORDS)})"
    rf"(?P<more2>余|多)?")

#: 13.57万亿! (a headline): a number with a magnitude and no unit, the unit as written (万亿).
MAGNITUDE_ONLY_RE = re.compile(rf"(?<![\d.])(?P<a>{_NUM})(?P<unit>万亿|亿|万)(?=[!！?？，,。；;、)）\s]|$)")
#: 全国首个突破13万亿元的省份, 广东第二个规模以上工业总产值突破3万亿元的城市: the amount between a
#: rank and the noun it ranks says what is ranked (a threshold), it is not a quantity of the year.
RANKED_BEFORE_RE = re.compile(r"(?:首|第[一二三四五六七八九十\d]+)[个家座所][^，,；;。、：:]{0,16}$")
RANKED_AFTER_RE = re.compile(r"[^，,；;。、：:]{0,16}?的[\u4e00-\u9fff]")

#: 城乡居民收入比收窄至1.81, 性别比为104: a ratio of two amounts, written without a unit.
RATIO_RE = re.compile(rf"(?<=比)(?:值)?(?:为|是|达到?|收窄至|缩小至|缩小到|扩大至|降至|降为|下降至|上升至|"
                      rf"提高至|保持在)(?P<a>{_NUM})(?![\d.%％:：∶万亿元倍个(（])")
#: 高于全国、全省16.6、15.5个百分点: a number before 、 and a number in 个百分点 shares its unit.
POINTS_LIST_RE = re.compile(rf"(?<![\d.])(?P<a>{_NUM})(?=[、和]{_NUM}个?百分点)")

# Chinese-written quantities.
#: A sector ratio (三次产业结构为7.83:21.74:70.43, 三次产业增加值比重为…): three shares in percent of the
#: total, the first, second and third sector's; the ratio's parts add up to 100.
SECTOR_RATIO_RE = re.compile(rf"(?:三次)?产业(?:增加值)?(?:结构|比重|比例|构成|之比)(?:比)?(?:为|是|达到)?"
                             rf"(?P<a>{_NUM})[:：∶](?P<b>{_NUM})[:：∶](?P<c>{_NUM})(?![:：∶\d])")
SECTOR_LABELS = ("第一产业增加值比重", "第二产业增加值比重", "第三产业增加值比重")

CN_FRACTION_RE = re.compile(rf"([{_CN_DIGITS}]+)分之([{_CN_DIGITS}]+)")
CN_MAGNITUDE_RE = re.compile(r"(?P<q>超过|超|近|逾|约|突破)(?P<n>[一二两三四五六七八九]?[十百千]+)"
                             r"(?P<unit>万亿元|亿元|万元|万亿|亿|万)")
CN_RANK_RE = re.compile(r"(?P<w>第|前)(?P<n>[一二三四五六七八九十]+)(?P<suffix>位|名)?")
#: 全国首家, 全省首单, 西部地区首个: the first of its kind in a scope is a rank of 1 (首批 is a batch);
#: so is the first place in a scope, 居全国首位.
#: A place (a name of data/vocab/areas.csv: 广西首个, 玉林首个) or one of these words scopes it.
FIRST_RE = re.compile(r"(?P<scope>(?:唯一|率先)?)(?P<n>首)(?P<unit>家|单|个|例|座|部|台|条|位(?!度))")
FIRST_SCOPES = ("全国", "全省", "全区", "全市", "国内", "省内", "全球", "全世界", "地区", "城市",
                "本市", "我市", "本省", "我省", "本区", "我区")
#: N(多)万 + a place + 人民/群众 …: 740多万玉林人民, 1200万市民 (a number of persons, in 万).
#: 儿女, 同胞, 乡亲, 子弟, 儿郎 name people by their home: the place before them may be any name
#: (530万宜城儿女, a city's literary name); before 人民, 市民 … it must be a known place.
HOME_NOUNS = ("儿女", "同胞", "乡亲", "子弟", "儿郎")
PEOPLE_RE = re.compile(rf"(?<![\d.])(?P<a>{_NUM})(?P<more>[多余])?万(?P<place>[\u4e00-\u9fff]{{0,6}}?)"
                       r"(?P<noun>人民|群众|市民|居民|村民|农民|儿女|同胞|乡亲|子弟|儿郎)")
CN_COUNT_RE = re.compile(rf"(?P<n>[两二三四五六七八九十]+|[一二三四五六七八九]?十[一二三四五六七八九]?)"
                         rf"(?P<unit>{'|'.join(CN_MEASURES)})")

#: A short quoted name, a numeral and one or two characters (“两重”, “两新”, “七优享”): it counts the
#: parts of the name, as 两个/两项 do; not after it a place (“两湾”产业园) or 十字 (“十字街”).
SHORT_NAME_RE = re.compile(r"[“\"](?P<n>[两二三四五六七八九十])(?P<rest>[\u4e00-\u9fff]{1,2})[”\"]")
PLACE_AFTER_RE = re.compile(r"产业园|园区|园|新区|片区|港|城|街|路|镇|村")

# --- rules for kind, qualifier, status ------------------------------------------

GROWTH_WORDS = ("同比增长", "增长", "增速", "上涨", "增幅", "涨幅", "增加", "提高", "提升", "回升")
DECLINE_WORDS = ("同比下降", "下降", "降低", "减少", "回落", "下跌", "降幅")
DIFF_WORDS = ("高于", "低于", "快于", "慢于", "高出", "低出", "领先")
PLAN_RATIO_RE = re.compile(r"(?:为|是|完成|达到)(?:了)?(?:年度|全年|年初)?(?:计划|目标|任务)的$")
SHARE_WORDS = ("占比", "比重", "占", "率", "比例", "覆盖", "全覆盖", "份额", "贡献")
#: 出台…33条, 推出…30条、…64条等一揽子政策: a policy package named by its number of articles.
POLICY_ARTICLES_LABEL = "政策条数"
POLICY_PACKAGE_RE = re.compile(r"政策|措施|举措|出台|推出|印发|制定|实施|发布|落实")
#: N条 right before a word for a policy (quoted or not): “17条”举措, 12条措施, 20条细则.
POLICY_NOUN_AFTER_RE = re.compile(r"[”\"]?(?:举措|措施|政策|细则|意见|办法|规定)")
#: 重点做好以下九个方面工作: the number of work areas of the plan (what the plan says: actual).
PLAN_WORK_AREAS_LABEL = "计划工作方面数"
PLAN_WORK_AREAS_RE = re.compile(r"方面(?:的)?(?:重点)?(?:工作|任务)")
#: 计划安排了38项指标, 年初下达的47项经济和社会发展指标: the number of the plan's indicators (not
#: 32项预期性指标, a kind of them, nor 等31项指标, 6项指标距离目标, some of them).
PLAN_INDICATORS_LABEL = "年度计划指标"
PLAN_INDICATORS_RE = re.compile(r"(?:主要)?(?:国民经济和社会发展|经济和社会发展|经济社会发展)?(?:计划)?指标"
                                r"(?:中|[，,；;。、]|$)")
PLAN_WORDS_RE = re.compile(r"计划|目标|下达|安排")
#: 实施三个“一号工程”: a count before a quoted name counts the components of a programme.
PROGRAMME_COMPONENTS_LABEL = "点名工程、行动所含项数"
PROGRAMME_NAME_RE = re.compile(r"[“\"](?:[^”\"]{0,12}(?:工程|行动|战略|计划|方案|措施)[”\"]"
                               r"|[^”\"]{1,12}[”\"](?:工程|行动|战略|计划|方案|措施))")
#: 预计 (expected): 有望 and 预期 too, unless 预期 names the plan's targets (预期目标, 预期性指标)
#: or is compared with (弱于预期, 好于预期, 超预期, 符合预期, 不及预期).
EXPECTED_RE = re.compile(r"预计|有望|(?<![于超乎合及过])预期(?!目标|性|的目标)")
#: 增长7%(预计,下同): a note after the value makes it expected; 下同 (the same below) makes the
#: report year's actuals after it expected too.
EXPECTED_AFTER_RE = re.compile(r"(?:以上|以下|左右|以内)?[((]预计(?:数|值)?(?P<below>[,，、]?下同)?[))]")
#: The note (预计) alone: about the value before it only, not a 预计 that opens a list.
EXPECTED_NOTE_RE = re.compile(r"[((]预计(?:数|值)?[))]")
#: 预计 (预计全年) opening a sentence: it covers every figure of the sentence, across ；/; too
#: (预计地区生产总值增长9%;固定资产投资增长18%;…), unless a clause has its own status word.
#: 初步核算 / 初步统计 are not 预计: the annotated sets record the figures after them as actual.
OPENING_EXPECTED_RE = re.compile(r"^[\s—\-－]*(?:(?:19|20)\d\d年)?[，,]?(?:全年|全市|全区|今年|去年|上年)?"
                                 r"[，,]?预计")
#: Marks before a heading (■ 2025年…目标, ● …), a line that opens with a date (长江日报 2025年01月17日,
#: 2024年3月3日, ——2016年1月31日在…会议上), a document's title (2020年遵义市人民政府工作报告): none opens a part of a report.
HEADING_MARKS_RE = re.compile(r"^[\s■●◆◇▲△★☆□○•·—\-－、]+")
DATE_LINE_RE = re.compile(r"[^，,。；;\d]{0,8}?\s*(?:19|20)\d\d年\d{1,2}月(?:\d{1,2}日|$)")
TITLE_RE = re.compile(r"[^，,。；;:：]{2,60}(?:政府工作报告|统计公报|情况的?报告|草案的?报告|计划的?报告)")
#: 完成…批准增长8%以上目标, 控制在3.2%以内目标: a value followed by 目标 is a target (of the year
#: the part is about: one the review quotes is the reviewed year's).
TARGET_AFTER_RE = re.compile(r"(?:以上|以下|以内|左右)?(?:的)?(?:年度|预期|奋斗)?目标")
#: …的主要目标是: (the targets follow, over the next sentences of the paragraph too); 今后五年 makes
#: them the targets of the fifth year.
TARGETS_AHEAD_RE = re.compile(r"(?:主要|预期|发展)目标(?:是|为)[:：]")
FIVE_YEARS_RE = re.compile(r"今后五年|未来五年|今后5年|未来5年")
OWN_STATUS_RE = re.compile(r"目标|计划|力争|确保|争取|完成|预期|实际")
#: A ratio to a base of 100, the base said after it: 性别比为104.5(以女性为100), unit per-hundred.
PER_HUNDRED_RE = re.compile(rf"(?<![\d.])(?P<a>{_NUM})(?=[((]以[\u4e00-\u9fff]{{1,8}}为100[))])")
#: 比上年增加0.78万公顷, 较上年减少2万人: an amount's change from the year before (a difference).
YEAR_ON_YEAR_CHANGE_RE = re.compile(r"(?:比上年|比去年|较上年|较去年|同比)[末底]?(?:增加|减少|多|少)了?$")
#: 总量, 规模 …: the total of the measure named just before (GDP增长6%,总量跨过3000亿元).
#: 比全省高1.2万元, 比全国平均水平低300元: the gap of an amount to a wider area is a difference.
AREA_DIFFERENCE_RE = re.compile(r"比(?:全国|全省|全市|全区|全州)(?:平均)?(?:水平)?(?:高出?|低|多|少)了?$")
TOTAL_RE = re.compile(r"(?:经济)?(?:总量|总规模|规模|总额)(?:首次|历史性地?|成功)?")
#: A change of rank: 排名提升5位 (a difference of 5 places).
RANK_MOVE_RE = re.compile(r"(?:提升|上升|前移|前进|跃升|提高|下降|下滑|后退|后移)$")
#: A rank written without 位: 居全省第3, 排名全国第12 (followed by a clause break); 稳居全省前3
#: is a rank of at most 3.
DIGIT_RANK_RE = re.compile(r"(?:(?:居|位居|位列|列|排名|排|保持)[^，,；;。、第前]{0,8}|"
                           r"(?<=[\u4e00-\u9fff])(?:全国|全省|全市|全区)(?:城市)?)(?P<w>第|前)(?P<n>\d+)"
                           r"(?P<wei>位|名)?(?=[，,；;。、)）]|$)")
DIGIT_RANK_NEXT_RE = re.compile(r"、第(?P<n>\d+)(?:位|名)?(?=[，,；;。、)）]|$)")
#: 时速350公里的高铁, 年产能12GWh动力电池: a design figure of the project named right after it
#: (status ``design``, data/README.md), not a value of the year.
DESIGN_WORD_RE = re.compile(r"(?:设计)?(?:时速|速度|年产能|产能|年产|能力|装机容量|装机)$")
#: The subject is itself a growth rate: 增速由1%回升至8.8% is a growth rate of 8.8%.
RATE_SUBJECT_RE = re.compile(r"(?:增速|增幅|涨幅)(?:由|从)[^，,；;]{0,16}(?:至|到)$")
PREFIX_QUALIFIERS = (("不低于", "at-least"), ("不少于", "at-least"), ("不超过", "at-most"),
                     ("不高于", "at-most"), ("超过", "over"), ("突破", "over"), ("超", "over"),
                     ("跨过", "over"), ("跨越", "over"), ("迈上", "over"), ("迈过", "over"),
                     ("逾", "over"), ("近", "nearly"), ("约", "about"), ("接近", "nearly"))
SUFFIX_QUALIFIERS = (("以上", "at-least"), ("及以上", "at-least"), ("以下", "at-most"),
                     ("以内", "at-most"), ("左右", "about"))
TARGET_WORDS = ("力争", "确保", "目标", "预期", "计划", "争取", "要", "将", "拟", "预计")
PAST_WORDS = ("去年", "上年", "过去一年", "一年来", "已经", "已")
CLAUSE_BREAK = "，,；;：:。！？\n"


def _cn_number(text: str) -> Decimal | None:
    """A Chinese numeral as a number, by cn2an ('百亿' is read as '一百亿')."""
    import cn2an

    if text and text[0] in "十百千万亿":
        text = "一" + text
    try:
        return Decimal(str(cn2an.cn2an(text, "normal")))
    except (ValueError, KeyError, InvalidOperation, TypeError):
        return None


def _fmt(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s


# --- the draft rows -------------------------------------------------------------


@dataclass
class Quantity:
    sentence: Passage
    start: int            # offset of the value in the cleaned text
    end: int              # offset after the value as written (number and range, not the unit)
    value_text: str
    value: str
    unit: str
    kind: str
    qualifier: str
    period: str
    status: str
    indicator: str        # IRI of the shared scheme, or '' for a suggested new indicator
    indicator_label: str
    area: str
    confidence: float
    reasons: list[str] = field(default_factory=list)
    span: tuple[int, int] = (0, 0)   # whole mention (value and unit) in the text, for the review page
    context: str = ""                 # the subject, when a list gives it (各, 分别)
    name: str = ""                    # the named group it counts (十项重大工程, 五大产业生态圈)

    def row(self) -> dict[str, str]:
        return {"sentence": self.sentence.id, "start": str(self.start), "end": str(self.end),
                "value_text": self.value_text, "value": self.value, "unit": self.unit,
                "kind": self.kind, "qualifier": self.qualifier, "period": self.period,
                "status": self.status, "indicator": self.indicator,
                "indicator_label": self.indicator_label, "area": self.area,
                "confidence": f"{self.confidence:.2f}"}


@dataclass
class IndicatorScheme:
    """Labels of the shared indicator scheme (label_zh, nbsName, altLabel) -> slug, and the
    names of the shared areas (data/vocab/areas.csv: 广西壮族自治区, 广西, 玉林市, 玉林; the country,
    provinces and prefectures, not county-level areas), which scope firsts (广西首个) and count
    people (740多万玉林人民)."""

    labels: dict[str, str]
    places: frozenset[str] = frozenset()
    #: a short label made by dropping a leading bracket -> that bracket: 接待游客 -> “免费游”
    scopes: dict[str, str] = field(default_factory=dict)
    #: slug -> the units a level of it may be in (data/vocab/indicators/allowed-units.ttl)
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> "IndicatorScheme":
        labels: dict[str, str] = {}
        scopes: dict[str, str] = {}
        data_dir = Path(data_dir)
        for path in sorted(data_dir.rglob("*.indicators.csv")):
            if "drafts" in path.relative_to(data_dir).parts:
                continue
            with path.open(encoding="utf-8", newline="") as fh:
                for rec in csv.DictReader(fh):
                    label = (rec.get("label_zh") or "").strip()
                    if label and rec.get("slug"):
                        labels.setdefault(label, rec["slug"].strip())
                        # an editorial qualification in brackets: 铁路(环境品质全面提升) is also 铁路
                        short = re.sub(r"[((][^))]*[))]", "", label).strip("“”")
                        if len(short) >= 2 and short != label:
                            labels.setdefault(short, rec["slug"].strip())
                            # (“免费游”)接待游客: a leading bracket names the measure's scope
                            lead = re.match(r"[((]([^))]*)[))]", label)
                            if lead and short in labels and labels[short] == rec["slug"].strip():
                                scopes.setdefault(short, lead.group(1))
                    # alternative labels (skos:altLabel): the zh ones name the measure too
                    for alt in (rec.get("alt_labels") or "").split("|"):
                        alt = alt.strip()
                        if len(alt) >= 2 and rec.get("slug") and (
                                re.search(r"[\u4e00-\u9fff]", alt) or re.fullmatch(r"[A-Z]{3,5}", alt)):
                            labels.setdefault(alt, rec["slug"].strip())
        links = data_dir / "indicator-links.ttl"
        if links.exists():
            import pyoxigraph as ox

            for t in ox.parse(path=str(links), format=ox.RdfFormat.TURTLE):
                if t.predicate.value.endswith(("#nbsName", "#altLabel")) and \
                        t.subject.value.startswith(INDICATOR_BASE):
                    labels.setdefault(t.object.value, t.subject.value[len(INDICATOR_BASE):])
        # places: the country, provinces and prefectures; not county-level areas, whose short
        # names are often ordinary words (城关, 长安, 和平, 前进 …)
        places: set[str] = set()
        areas = data_dir / "vocab" / "areas.csv"
        types = data_dir / "vocab" / "area-types.csv"
        county_types = set()
        if types.exists():
            with types.open(encoding="utf-8", newline="") as fh:
                county_types = {r["type"] for r in csv.DictReader(fh) if r.get("level") == "county"}
        if areas.exists():
            with areas.open(encoding="utf-8", newline="") as fh:
                for rec in csv.DictReader(fh):
                    if rec.get("type") in county_types:
                        continue
                    places.update(n.strip() for n in (rec.get("name_zh"), rec.get("short_zh"))
                                  if n and len(n.strip()) >= 2)
        allowed: dict[str, set[str]] = {}
        units = data_dir / "vocab" / "indicators" / "allowed-units.ttl"
        if units.exists():
            import pyoxigraph as ox

            for t in ox.parse(path=str(units), format=ox.RdfFormat.TURTLE):
                if t.predicate.value.endswith("#allowedUnit"):
                    allowed.setdefault(t.subject.value.rsplit("/", 1)[-1], set()).add(
                        t.object.value.rsplit("/", 1)[-1])
        return cls(labels, frozenset(places), scopes,
                   {k: frozenset(v) for k, v in allowed.items()})

    def match(self, context: str) -> tuple[str, str, int] | None:
        """The label ending nearest the end of ``context`` (longest on a tie): (slug, label, pos)."""
        best = None
        for label, slug in self.labels.items():
            pos = context.rfind(label)
            if pos < 0:
                continue
            end = pos + len(label)
            key = (end, len(label))
            if best is None or key > best[0]:
                best = (key, slug, label, pos)
        if best is None:
            return None
        return best[1], best[2], best[3]

    def similar(self, near: str, far: str = "", threshold: float = 0.6,
                edges: tuple[str, str] | None = None,
                sentence: str = "") -> tuple[str, str, float] | None:
        """The label that shares most of its character bigrams with the text before a quantity.

        Bigrams found in ``near`` (the quantity's own clause and the noun after it) count fully,
        those only in ``far`` (the sentence before it) count half.  A label qualifies when its
        weighted share reaches ``threshold``; the largest weighted overlap wins.  Guards, for
        precision (no indicator, a suggested new one, is better than a wrong one): a numeral in
        a label (第一产业) must be in the text (第二产业 is another measure); a label of two
        characters (企业) must be the head of the quantity's noun phrase: the end of
        ``edges[0]`` (the subject before the value) or the start of ``edges[1]`` (the noun
        after it), not a word inside another measure (民营企业贷款); a label's head noun must
        be the text's (:func:`_same_head`); at least three characters of the label must be in
        the quantity's clause as written, not only scattered bigrams; and a short label made
        by dropping a leading bracket (接待游客 of (“免费游”)接待游客) needs a word of that
        bracket in the ``sentence``."""
        ng, fg = _bigrams(near), _bigrams(far)
        seen = set(near) | set(far)
        best = None
        for label, slug in self.labels.items():
            lg, core, first = _label_parts(label)
            if not lg:
                continue
            if any(ch in "一二三四五六七八九" and ch not in seen for ch in label):
                continue
            own = set(re.findall(r"第([一二三四五六七八九])", label))
            said = set(re.findall(r"第([一二三四五六七八九])", near))
            if own and said and not own & said:
                continue  # 第二产业增加值 is not 第一产业增加值, though 第一 is earlier in the sentence
            if _narrower(label, near):
                continue  # 城镇常住人口 is not 常住人口, 人均地区生产总值 not 地区生产总值
            if len(lg) >= 4 and first and not first & (ng | fg):
                continue  # 金融产业增加值 is not 第二产业增加值: the modifier names the measure
            if len(lg) == 1 and edges is not None and not (
                    edges[0].endswith(label) or edges[1].startswith(label)):
                continue
            hit = len(lg & ng) + 0.5 * len((lg & fg) - ng)
            score = hit / len(lg)
            key = (hit * score, score)
            if score < threshold or not hit or (best is not None and key <= best[0]):
                continue
            if label in self.scopes and not _bigrams(self.scopes[label]) & _bigrams(
                    near + far + sentence):
                continue  # 接待游客 of (“免费游”)接待游客 needs 免费游 in the sentence
            if edges is not None and not _same_head(label, edges):
                continue  # another measure of a word in the text (see _same_head)
            if _longest_run(label, near) < min(3, len(core)):
                continue  # 争取国债资金 is not 争取超长期特别国债等各类政策资金: bigrams, scattered
            best = (key, slug, label, score)
        return None if best is None else (best[1], best[2], best[3])


#: Modifiers that make a narrower measure of a label: 城镇常住人口 (of 常住人口), 人均地区生产总值.
NARROWING = ("城镇", "农村", "城市", "乡村", "人均", "户均", "城区", "市区", "农民")


#: 万元GDP能耗, 单位地区生产总值能耗: a measure per unit of another is not that measure.
PER_UNIT_OF = ("万元", "单位", "每万元", "人均", "户均")


def _narrower(label: str, near: str) -> bool:
    """Is the label said in ``near`` only as a part of a narrower measure (城镇常住人口, 人均GDP,
    万元GDP能耗)?"""
    if label.isascii():
        k = near.rfind(label)
        return k >= 0 and near[:k].endswith(PER_UNIT_OF)
    core = re.sub(r"[((][^))]*[))]|[^\u4e00-\u9fff]", "", label)
    run = _longest_run(core, near)
    if run < 3:
        return False
    piece = next(core[i:i + run] for i in range(len(core) - run + 1) if core[i:i + run] in near)
    before = near[max(0, near.rfind(piece) - 6):near.rfind(piece)]
    if re.search(rf"(?:{'|'.join(PER_UNIT_OF)})(?:地区|全市|全省|全国)?$", before) and \
            not label.startswith(PER_UNIT_OF):
        return True
    # 城镇/农村 … split a statistical aggregate (of population, income, output, employment, spending,
    # prices), not a thing (城镇老旧小区改造 is 老旧小区改造); 人均 and 户均 narrow any measure
    aggregate = re.search(r"人口|收入|总值|增加值|产值|就业|支出|消费|价格", core)
    return any(w in before and w not in label and (aggregate or w in ("人均", "户均"))
               for w in NARROWING)


#: Words that end a subject before its value without being its head noun: 总数达到全省的, 并获.
_SUBJECT_TAIL = re.compile(r"(?:的|并|获得?|达到|居|位居|位列|全[国省市区])+$")


def _same_head(label: str, edges: tuple[str, str]) -> bool:
    """Is ``label`` about the noun the quantity measures (``edges``: subject before, noun after)?

    Its head (last two characters) must be in the text, or the subject's own head in the label
    (地方政府专项债储备 is not 地方政府专项债券351亿元; 新增市场经营主体 is not 为市场经营主体减负),
    and the head must not modify another noun (全市生产总值的比例达到4.5% is a ratio, not GDP)."""
    core = re.sub(r"[((][^))]*[))]|[^\u4e00-\u9fff]", "", label)
    head = core[-2:] or label   # an acronym (GDP, CPI) is its own head
    subject, after = edges
    if head not in subject + after and _SUBJECT_TAIL.sub("", subject)[-2:] not in core and \
            not (after and after[:2] in core):
        return False
    k = subject.rfind(head)
    rest = subject[k + len(head):] if k >= 0 else ""
    if k >= 0 and not re.search(r"比重|比例|占比|率", label) and \
            re.search(r"比重|比例|占比|(?<!增长)(?<!增)率", rest):
        return False  # 第一产业增加值占地区生产总值的比重, 常住人口城镇化率: a share, not the measure
    # 生产总值的比例: the head modifies another noun; 构成CPI的八大类: the quantity counts a part
    return k < 0 or not re.match(r"的(?:[\u4e00-\u9fff]{2}|$)", rest)


def _longest_run(label: str, text: str) -> int:
    """The length of the longest piece of ``label`` found as is in ``text``."""
    best = 0
    for i in range(len(label)):
        for j in range(i + best + 1, len(label) + 1):
            if label[i:j] not in text:
                break
            best = j - i
    return best


@functools.lru_cache(maxsize=None)
def _label_parts(label: str) -> tuple[frozenset[str], str, frozenset[str]]:
    """A label's bigrams, its core (without 新增, 认定 … in front) and the core's first bigrams."""
    core = re.sub(r"^(?:新增|新认定|认定|新引进|引进|新建|建成|培育|累计|全市|全省|年度)+", "",
                  re.sub(r"[^\u4e00-\u9fff]", "", label))
    return frozenset(_bigrams(label)), core, frozenset(_bigrams(core[:3]))


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _respectively(found: list[Quantity], text: str) -> dict[int, str]:
    """A、B、C…分别x、y、z: the subject of each quantity of the list (A plus the shared head noun)."""
    out: dict[int, str] = {}
    last: list[str] = []   # the subjects of the list before, for a 分别 list without its own
    i = 0
    while i < len(found):
        j = i
        while j + 1 < len(found) and _list_join(text[found[j].span[1]:found[j + 1].span[0]]):
            j += 1
        run = found[i:j + 1]
        head = text[:run[0].span[0]]
        k = head.rfind("分别")
        clause, _ = _clause_before(text, run[0].span[0])
        if len(run) > 1 and k >= 0 and all(ch not in CLAUSE_BREAK for ch in head[k:]):
            subject, _ = _clause_before(text, k)
        elif len(run) == 2 and URBAN_RURAL_RE.search(clause):
            subject = clause   # 城乡居民人均可支配收入35352元、13565元: urban, then rural
        else:
            i = j + 1
            continue
        items = subject.split("、")
        pair = URBAN_RURAL_RE.search(subject)
        if len(run) == 2 and pair and (len(items) == 1 or pair.group(0) == "城镇、农村"):
            # 城乡居民人均可支配收入分别…x和y, 城镇和农村居民…分别x、y: urban, then rural
            items = [subject.replace(pair.group(0), "城镇", 1), subject.replace(pair.group(0), "农村", 1)]
            for q, item in zip(run, items):
                out[id(q)] = item
        elif len(items) == len(run) and len(items) > 1:
            widths = sorted(len(x) for x in items[:-1])
            tail = items[-1][widths[len(widths) // 2]:]
            for q, item in zip(run, items):
                out[id(q)] = item if item is items[-1] else item + tail
            items = [out[id(q)] for q in run]
        elif len(last) == len(run) and all(q.kind != "rank" for q in run) and not re.search(r"[\u4e00-\u9fff]{2}", re.sub(
                r"分别|增长|下降|提高|为|达到?|同比|比上年", "", subject)):
            # …35352元、13565元,分别增长9.4%、10.6%: the same subjects as the list before
            items = last
            for q, item in zip(run, items):
                out[id(q)] = item + "增长" if q.unit == "percent" else item
        else:
            items = []
        last = items if len(items) == len(run) else []
        i = j + 1
    return out


#: 城乡居民, 城镇和农村居民: the urban and the rural measure, in this order.
URBAN_RURAL_RE = re.compile(r"城乡|城镇和农村|城镇、农村|城镇与农村")


def _expand(text: str) -> str:
    """The reports' abbreviations written out: 一产/二产/三产 are 第一/二/三产业, 规上 is 规模以上,
    经济增长 (right before the value) is the growth of 地区生产总值."""
    text = re.sub(r"(?<![\u4e00-\u9fff])([一二三])产(?!业)", r"第\1产业", text)
    # 经济增长6%左右, 经济增速6%: the growth of the economy is the growth of GDP
    text = re.sub(r"(?:^|(?<=全年)|(?<=全市)|(?<=全省)|(?<=全区)|(?<=今年)|(?<=[，,；;：:●◆—]))经济"
                  r"(?=增长|增速|总量|$)", "地区生产总值", text)
    return text


def _last_share_word(text: str) -> int:
    """Where the last word of a share (占比, 比重, …率) starts in ``text``; 增长率 is a growth rate."""
    return max((m.start() for w in SHARE_WORDS for m in re.finditer(w, text)
                if not (w == "率" and text[m.start() - 1:m.start()] in "长速")), default=-1)


LIST_JOINS = ("、", "和", "及", "与")


def _list_join(between: str) -> bool:
    """Does ``between`` join two items of a list (、, 和 …, after a qualifier: 5.5%左右和6%左右)?"""
    return re.sub(r"^(?:左右|以上|以内|以下)", "", between) in LIST_JOINS


def _amount_in_a_description(text: str, a: int, b: int, unit_w: str) -> bool:
    """成为首个300亿元园区, 建成3个百亿元产业集群: an amount between a measure word and the
    noun it describes is the size class of the thing counted, not a quantity of the year."""
    return unit_w.endswith("元") and bool(re.search(r"[个家座]$", text[:a])) and \
        bool(re.match(r"(?:级)?[\u4e00-\u9fff]", text[b:])) and \
        not re.match(r"以上|以下|左右|以内|增长|下降|提高|同比|比上年", text[b:])


def _ranked_description(text: str, a: int, b: int) -> bool:
    """Is the amount at ``a``–``b`` inside the description of a rank (首个突破13万亿元的省份)?"""
    return bool(RANKED_BEFORE_RE.search(text[:a]) and RANKED_AFTER_RE.match(text, b))


def _design_attribute(text: str, a: int, b: int) -> bool:
    """Is the quantity at ``a``–``b`` a design figure of the project named right after it?

    时速350公里的南珠高铁, 年产能12GWh动力电池: a capacity or speed word just before the value
    and a noun just after it (年产能达到12GWh, with a verb, is a value of the year)."""
    return bool(DESIGN_WORD_RE.search(text[:a]) and re.match(r"的?[\u4e00-\u9fff]", text[b:])
                and not re.match(r"以上|以下|左右|以内|增长|下降|提高|的(?:比例|比重)", text[b:]))


def _whole_clause(text: str, span: tuple[int, int]) -> str:
    """The clause around ``span``: from the break before it to the break after it."""
    _, i = _clause_before(text, span[0])
    j = span[1]
    while j < len(text) and text[j] not in CLAUSE_BREAK:
        j += 1
    return text[i:j]


def _clause_before(text: str, pos: int) -> tuple[str, int]:
    """The text of the clause that ends at ``pos`` and its start (after 、 too)."""
    i = pos
    while i > 0 and text[i - 1] not in CLAUSE_BREAK:
        i -= 1
    return text[i:pos], i


def _inside_quotes(text: str, pos: int) -> bool:
    """Is ``pos`` inside “…” (a name) in this sentence?"""
    return _quoted(text, pos) is not None


def _quoted(text: str, pos: int) -> tuple[int, int] | None:
    """The span of the text inside the quotes around ``pos``, or None.

    Names are quoted “…”, and in some reports (or their copies) with ASCII quotes "…": an
    ASCII quote opens when an even number of them comes before it in the sentence."""
    opened = text.rfind("“", 0, pos)
    closed = text.rfind("”", 0, pos)
    end = text.find("”", pos)
    if opened > closed and end >= 0:
        return opened + 1, end
    if text.count('"', 0, pos) % 2 == 1 and '"' in text[pos:]:
        return text.rfind('"', 0, pos) + 1, text.find('"', pos)
    return None


def _counted_name(text: str, a: int) -> str | None:
    """The name inside quotes that a numeral with a measure word at ``a`` counts, or None.

    “十项重大工程”, “十大战略”, “两个确保”, “治气攻坚二十条”: a numeral with a measure word counts
    the parts of the name even inside quotes; a numeral without one (“十四五”, “八八战略”) is a
    part of the name."""
    inner = _quoted(text, a)
    return None if inner is None else text[inner[0]:inner[1]]


_VERB_TAIL = re.compile(r"(?:实现|完成|达到|达|为|是|增至|增长到|提高到|提升至|提高至|提升到|"
                        r"超过|超|突破|跨过|跨越|迈上|迈过|约|近|共|累计|总计|合计|分别|稳定在|保持在|控制在|"
                        r"不低于|不少于|不超过|同比|比上年|比去年)+$")
_LEAD = re.compile(r"^(?:其中|全年|全市|今年|去年|同时|并|和|及|、|共|以及|累计|预计|力争|确保|争取)+")
_GROWTH_TAIL = re.compile(r"(?:同比|比上年|比去年|较上年|较去年)?(?:增长|下降|上涨|提高|回落|增速|增幅|增加|减少)$")


def _label_from(clause: str) -> str:
    label = re.sub(r"[“”\"'()()《》]", "", clause)
    label = _VERB_TAIL.sub("", label.strip())
    label = _LEAD.sub("", label)
    label = _GROWTH_TAIL.sub("", label)
    return label[-20:]


#: A sentence longer than this (a text without full stops) is read in pieces (Drafter.sentence).
LONG_SENTENCE = 1500
PIECE_BREAKS = "；;，,、"


def _piece_end(text: str, i: int) -> int:
    """Where the piece of a long sentence that starts at ``i`` ends: after the last clause break
    of its second half, else before the number it would cut, else (a number as long as a piece)
    after the clause break that follows that number."""
    j = i + LONG_SENTENCE
    if j >= len(text):
        return len(text)
    cut = max(text.rfind(c, i + LONG_SENTENCE // 2, j) for c in PIECE_BREAKS)
    if cut > i:
        return cut + 1
    start = j
    while start > i and (text[start - 1].isdigit() or text[start - 1] == "."):
        start -= 1
    if start > i:
        return start
    brk = [x for x in (text.find(c, j) for c in PIECE_BREAKS) if x >= 0]
    return min(brk) + 1 if brk else len(text)


@dataclass
class Drafter:
    scheme: IndicatorScheme
    year: int
    area: str = ""
    #: ``auto``: the review, then the plan from the paragraph that opens it; ``review`` or
    #: ``plan``: the text is an excerpt of only that part of a report.
    part: str = "auto"

    # -- status by section: the review (actuals) comes first, then the plan for year+1
    def section_modes(self, paras: list[Passage]) -> dict[str, str]:
        if self.part not in ("auto", "review", "plan"):
            raise DataError(f"part {self.part!r} is not auto, review or plan")
        if self.part != "auto":
            return {p.id: "target" if self.part == "plan" else "actual" for p in paras}
        mode, out = "actual", {}
        nxt = str(self.year + 1)
        switch = re.compile(rf"^(?:{nxt}年|做好{nxt}年)|{nxt}年(?:经济社会发展|国民经济和社会发展)?"
                            r"(?:的)?(?:主要|总体|发展)?(?:预期)?(?:目标|任务|工作安排|计划安排|工作)")
        # 2019年工作回顾, ■ 2024年成绩单: a heading of the review (after a title of the next year)
        review = re.compile(rf"^{self.year}年[^，,。；;]{{0,12}}(?:回顾|成绩单|成绩|执行情况|工作总结)")
        for p in paras:
            head = HEADING_MARKS_RE.sub("", p.text)
            if DATE_LINE_RE.match(head) or TITLE_RE.fullmatch(head):
                pass   # 2024年3月3日, 2020年遵义市人民政府工作报告: a date or a title, not a part
            elif review.match(head):
                mode = "actual"
            elif mode == "actual" and switch.search(head[:40]) and \
                    not re.search(rf"{self.year}年", head[:12]):
                mode = "target"
            out[p.id] = mode
        return out

    def draft(self, text: str) -> list[Quantity]:
        ps = passages(text)
        paras = [p for p in ps if not p.is_sentence]
        modes = self.section_modes(paras)
        out: list[Quantity] = []
        named: set[str] = set()
        below: int | None = None   # where a (预计,下同) note was, if one was
        targets: tuple[str, int] | None = None   # (paragraph, year) of a 主要目标是: sentence
        for p in ps:
            if p.is_sentence:
                # 今后五年…的主要目标是:…。全市生产总值年均增长11%左右…: the sentences after the
                # one that announces the targets, in its paragraph, list them
                listed = targets is not None and targets[0] == p.paragraph and \
                    not OWN_STATUS_RE.search(p.text)
                if TARGETS_AHEAD_RE.search(p.text):
                    targets = (p.paragraph, self.year + (5 if FIVE_YEARS_RE.search(p.text) else 1))
                elif not listed:
                    targets = None
                for q in self.sentence(p, modes.get(p.paragraph, "actual")):
                    if listed and q.status == "actual" and not q.name:
                        q.status, q.period = "target", str(targets[1])
                        q.reasons.append("listed after the sentence that announces the targets")
                    if below is not None and q.span[0] > below and q.status == "actual" and \
                            q.period == str(self.year) and not q.name and \
                            not (q.kind == "rank" and q.unit != "rank"):   # 全球第2个…: a list's
                        q.status = "expected"
                        q.reasons.append("(预计,下同) before it")
                    note = EXPECTED_AFTER_RE.match(text, q.span[1])
                    if note and note.group("below"):
                        below = q.span[1]
                    # the number of parts of a named group is said once, where the name is first
                    # used (三个“一号工程” again later in the report is the same three)
                    if q.name and q.name in named:
                        continue
                    named.add(q.name)
                    out.append(q)
        return out

    # -- one sentence
    def sentence(self, s: Passage, mode: str = "actual") -> list[Quantity]:
        """The quantities of sentence ``s``; a sentence longer than LONG_SENTENCE characters (a
        text without full stops) is read in pieces that end at a clause break, so that the work
        stays linear in the length of the text."""
        if len(s.text) <= LONG_SENTENCE:
            return self._sentence(s, mode)
        out, i = [], 0
        while i < len(s.text):
            j = _piece_end(s.text, i)
            piece = Passage(s.id, s.start + i, s.start + j, s.text[i:j], s.paragraph)
            out += self._sentence(piece, mode)
            i = j
        return out

    def _sentence(self, s: Passage, mode: str = "actual") -> list[Quantity]:
        text = s.text
        found: list[Quantity] = []
        taken: list[tuple[int, int]] = []

        def free(a: int, b: int) -> bool:
            return all(b <= x or a >= y for x, y in taken)

        ratio_parts: list[tuple[Quantity, str]] = []
        for m in SECTOR_RATIO_RE.finditer(text):
            for g, label in zip("abc", SECTOR_LABELS):
                a, b = m.span(g)
                q = Quantity(s, a, b, m.group(g), m.group(g), "percent", "share", "exact", "", "",
                             "", "", "", 0.7, ["a part of a sector ratio N:N:N, a share in percent"],
                             (a, b))
                found.append(q)
                taken.append(q.span)
                ratio_parts.append((q, label))
        for m in QUANTITY_RE.finditer(text):
            q = self._digits(s, m, text)
            if q is not None and free(*q.span):
                found.append(q)
                taken.append(q.span)
        for m in MAGNITUDE_ONLY_RE.finditer(text):
            a, b = m.span("a")
            if not free(a, m.end()) or re.search(r"[A-Za-z]$", text[:a]):
                continue
            counted = re.search(r"(?:人数|人次|户数|个数|数量|家数)[^，,；;]{0,4}$", text[:a])
            q = Quantity(s, a, b, m.group("a"), m.group("a"), m.group("unit"),
                         "count" if counted else "level", "exact", "", "", "", "", "", 0.5,
                         [f"no unit after {m.group('unit')}: the magnitude is the unit as written"],
                         m.span())
            self._qualify(q, text, a, m.end())
            found.append(q)
            taken.append(q.span)
        for q in self._chinese(s, text):
            if free(*q.span):
                found.append(q)
                taken.append(q.span)
        for m in RATIO_RE.finditer(text):
            a, b = m.span("a")
            if free(a, b):
                q = Quantity(s, a, b, m.group("a"), m.group("a"), "ratio", "level", "exact",
                             "", "", "", "", "", 0.6, ["…比为N: a ratio without a unit"], (a, b))
                found.append(q)
                taken.append(q.span)
        for m in POINTS_LIST_RE.finditer(text):
            # 高于全国、全区16.6、15.5个百分点: the first of two differences without its unit
            a, b = m.span("a")
            if free(a, b):
                q = Quantity(s, a, b, m.group("a"), m.group("a"), "percentage-point", "difference",
                             "exact", "", "", "", "", "", 0.8,
                             ["N、M个百分点: a difference in points"], (a, b))
                found.append(q)
                taken.append(q.span)
        found.sort(key=lambda q: q.start)
        for q, nxt in zip(found, found[1:]):
            # 高于全国、全省1个、0.2个百分点: two differences, the first unit shortened to 个
            if q.unit == "count" and text[q.span[1] - 1:q.span[1]] == "个" and \
                    nxt.unit == "percentage-point" and text[q.span[1]:nxt.span[0]] == "、":
                q.unit, q.kind = "percentage-point", "difference"
                q.reasons.append("N个、M个百分点: a difference in points")
        found = self._each(found, text)
        self._propagate(found, text, s)
        for q, label in ratio_parts:
            q.indicator, q.indicator_label = "", label   # the scheme has no sector shares
        for q in found:
            self._status_period(q, text, s, mode)
            q.area = self.area
            q.start += s.start
            q.end += s.start
            q.span = (q.span[0] + s.start, q.span[1] + s.start)
        return found

    def _digits(self, s: Passage, m: re.Match, text: str) -> Quantity | None:
        a, b = m.start(), m.end()
        unit_w = (m.group("wan") or "") + m.group("unit")
        before = text[max(0, a - 1):a]
        after = text[b:b + 1]
        num = m.group("a")
        # numbers inside names: 5G, PM2.5, NO2, 3A级, 城市大脑2.0
        if before and (before.isascii() and (before.isalnum() or before == ".")):
            return None
        if unit_w[0].isascii() and unit_w.isalpha() and after.isascii() and after.isalpha():
            return None
        inner = _quoted(text, a)
        if inner is not None and not (inner == (a, b) or (
                UNIT_SLUGS.get(unit_w) in CN_MEASURES.values())):
            # a number inside a name (“地铁口50米共停共享”, “全国文化企业30强”) is not a quantity;
            # a quote holding only the quantity (三个“1平方公里”产业园) or a count with its measure
            # word is
            return None
        name = text[inner[0]:inner[1]] if inner is not None and inner != (a, b) else ""
        # years and dates: 2023年 is not matched (年 is not a unit) but 2023年度 neither; list numbers
        if re.fullmatch(r"(?:19|20)\d\d", num) and not m.group("b") and unit_w in ("届",):
            return None
        tail = text[b:b + 2]
        if unit_w in ("年", "个月", "个季度") and not text[:a].endswith(("连续", "持续")):
            return None  # 2023年 is a date, 3个月 a time span; 连续3年, 连续8个月 are counts
        if unit_w == "大" and not re.match(r"[\u4e00-\u9fff]", after or " "):
            return None
        if unit_w == "个" and tail.startswith(("月", "小时")):
            return None
        if unit_w == "人" and re.match(r"[才民员工口]", after or " "):
            # 人才, 人民: not a unit of persons; 人口 and 人员 are rare after a number
            return None
        if unit_w in ("次", "届", "批") and re.match(r"[会议]", after or " "):
            return None
        rank_move = unit_w == "位" and bool(RANK_MOVE_RE.search(text[:a]))
        if unit_w == "位" and not re.search(r"第$", text[:a]) and not rank_move:
            return None  # 第4位 is a rank, 提升5位 a change of rank; else '4位' is rarely a rank
        n_end = m.end("a")
        if re.match(r"强|周年|岁|米|分钟|小时", text[n_end:n_end + 2] or " "):
            return None
        # an attributive threshold: 总投资1亿元以上制造业项目, 集体经营性收入50万元以上行政村
        if re.match(r"(?:以上|以下)(?!的?[，,。；;、)）]|$)[的]?[\u4e00-\u9fff]", text[b:]) and \
                unit_w in ("亿元", "万元", "元") :
            return None
        if _amount_in_a_description(text, a, b, unit_w) or _ranked_description(text, a, b):
            return None
        unit = UNIT_SLUGS.get(unit_w, unit_w)
        for prefix, written, slug in PER_UNITS:
            if unit_w == written and prefix in _clause_before(text, a)[0]:
                unit = slug
        if m.group("ua") == "万" and not (m.group("b") and unit_w.startswith("万")):
            return None
        if unit_w == "公里" and re.search(r"时速$", text[:a]):
            unit = "kilometre-per-hour"   # 时速350公里 is a speed
        if unit_w == "%" or m.group("ua") in ("%", "％"):
            unit = "percent"
        value_end = min(m.start(g) for g in ("wan", "more0", "unit") if m.start(g) >= 0)
        value_text = text[a:value_end]
        rng = bool(m.group("b"))
        conf, reasons = 0.9, []
        qualifier = "exact"
        if m.group("more") or m.group("more0") or m.group("more2"):
            qualifier = "more-than"
        if rng:
            qualifier = "range"
            value = f"{m.group('a')}-{m.group('b')}"
            reasons.append("range")
        else:
            value = "-" + num if m.group("neg") else num   # 自然增长率为-3.93‰
        if UNIT_SLUGS.get(unit_w, unit_w) == unit_w:
            conf -= 0.3
            reasons.append(f"unit {unit_w} is not in data/vocab/units.csv")
        of_a_kind = text[a - 1:a] == "第" and unit_w in ("家", "个")
        if text[a - 1:a] == "第" and unit_w in ("位", "家", "个", "名"):
            # 第4位 is a rank; 全国第8家数据交易所 too, in the measure word's unit (as 全省首家)
            unit = CN_MEASURES[unit_w] if of_a_kind else "rank"
            unit_w = "位"
        moved = 0
        if unit_w == "位" and not rank_move:
            a, moved = a - 1, 1  # the mention starts at 第
        kind = "difference" if rank_move else "rank" if of_a_kind else self._kind(text, a, b, unit)
        q = Quantity(s, a + moved, value_end, value_text, value, unit, kind,
                     qualifier, "", "", "", "", "", conf, reasons, (a, b), name=name)
        self._qualify(q, text, a, b)
        return q

    def _chinese(self, s: Passage, text: str) -> list[Quantity]:
        out = []
        for m in CN_FRACTION_RE.finditer(text):
            den, numr = _cn_number(m.group(1)), _cn_number(m.group(2))
            if not den or numr is None:
                continue
            if den == 3:   # data/README: 三分之一 is 1 `third`
                val, unit = numr, "third"
            else:
                val, unit = (numr / den).quantize(Decimal("0.0001")), "fraction"
            q = Quantity(s, m.start(), m.end(), m.group(0), _fmt(val), unit, "share",
                         "exact", "", "", "", "", "", 0.6, ["Chinese fraction (cn2an)"], m.span())
            self._qualify(q, text, m.start(), m.end())
            out.append(q)
        for m in CN_MAGNITUDE_RE.finditer(text):
            if m.group("q") == "约" and text[m.start() - 1:m.start()] in "签节制预公条契邀履违特大":
                continue
            if re.match(r"以上|以下", text[m.end():]) and not re.match(r"以上|以下)[，,。；;、]",
                                                                       text[m.end():]):
                continue  # 亿元以上项目: a threshold inside a description
            n = m.group("n")
            unit_w = m.group("unit")
            value = _cn_number(n)
            if value is None or _ranked_description(text, m.start(), m.end()):
                continue
            a, b = m.start("n"), m.end()
            # 超千亿斤, 近百万人, 超百亿美元: the unit goes on after 亿/万
            longer = next((w for w in _UNIT_WORDS if len(w) > len(unit_w) and w.startswith(unit_w)
                           and text.startswith(w[len(unit_w):], b)), None)
            if longer:
                unit_w, b = longer, b + len(longer) - len(unit_w)
                unit = UNIT_SLUGS[longer]
            else:
                unit = {"万亿": "wan-yi-yuan", "亿": "yi-yuan", "万": "wan-yuan"}.get(unit_w) or UNIT_SLUGS[unit_w]
            q = Quantity(s, a, m.end("n"), n, _fmt(value), unit, "level", "exact", "", "", "", "", "",
                         0.5 if unit_w in ("万亿", "亿", "万") or unit == unit_w else 0.6,
                         ["Chinese numeral (cn2an)"] + (["元 not written: unit guessed"]
                                                        if unit_w in ("万亿", "亿", "万") else []),
                         (m.start(), b))
            self._qualify(q, text, a, b)
            out.append(q)
        for m in PER_HUNDRED_RE.finditer(text):
            a, b = m.span("a")
            if text[a - 1:a].isdigit() or text[a - 1:a] == ".":
                continue
            close = text.index("100", b) + 4
            out.append(Quantity(s, a, b, m.group("a"), m.group("a"), "per-hundred", "share",
                                "exact", "", "", "", "", "", 0.8,
                                ["(以…为100): a ratio to a base of 100"], (a, close)))
        for m in DIGIT_RANK_RE.finditer(text):
            a = m.start("n")
            top = m.group("w") == "前"   # 稳居全省前3: among the first three
            out.append(Quantity(s, a, m.end("n"), m.group("n"), m.group("n"), "rank", "rank",
                                "at-most" if top else "exact", "", "", "", "", "", 0.8,
                                ["rank written without 位"] + (["前N: at most N"] if top else []),
                                (a - 1, m.end())))
            if top:
                continue
            # 分别排全省第4、第2、第5位: a list of ranks, one for each item of the 分别 list
            pos = m.end()
            while (n := DIGIT_RANK_NEXT_RE.match(text, pos)) is not None:
                a = n.start("n")
                out.append(Quantity(s, a, n.end("n"), n.group("n"), n.group("n"), "rank", "rank",
                                    "exact", "", "", "", "", "", 0.7,
                                    ["rank in a list of ranks after 第N"], (n.start() + 1, n.end())))
                pos = n.end()
        for m in CN_RANK_RE.finditer(text):
            after = text[m.end():m.end() + 1]
            end = m.end()
            if not m.group("suffix") and after and after not in CLAUSE_BREAK + "、":
                scoped = self._rank_scope(text[:m.start()])
                if not (after in "个家" and scoped):
                    continue  # 第四批, 第五轮, 第三届: an ordinal inside a name, not a rank
                end += 1      # 全区第四个, 全国第八家, 广东第二个: the Nth in a scope is a rank
            ctx = _clause_before(text, m.start())[0]
            if not re.search("|".join(RANK_SCOPES) + r"|城市|省会|副省级|排名|位居|位列|居|保持", ctx) \
                    and not self._rank_scope(text[:m.start()]):
                continue
            if m.group("w") == "前" and not (after in CLAUSE_BREAK + "、" or m.group("suffix")):
                continue
            if _inside_quotes(text, m.start()):
                continue  # “数字经济第一城”: a name
            value = _cn_number(m.group("n"))
            if value is None:
                continue
            a = m.start("n")
            top = m.group("w") == "前"   # 位居全国前十: among the first ten
            # 广东第二个: the Nth of a kind, in the measure word's unit (as 全省首个 is)
            unit = CN_MEASURES[after] if end > m.end() else "rank"
            out.append(Quantity(s, a, m.end("n"), m.group("n"), _fmt(value), unit, "rank",
                                "at-most" if top else "exact", "", "", "", "", "", 0.7,
                                ["Chinese rank (cn2an)"], (m.start(), end)))
        for m in PEOPLE_RE.finditer(text):
            # 740多万玉林人民: the unit 万人 is split by the place the people are of
            place = m.group("place")
            if place and place not in self.scheme.places and place not in FIRST_SCOPES and \
                    not (m.group("noun") in HOME_NOUNS and 2 <= len(place) <= 4):
                continue
            a = m.start("a")
            q = Quantity(s, a, m.end("a"), m.group("a"), m.group("a"), "wan-person", "count",
                         "more-than" if m.group("more") else "exact", "", "", "", "", "", 0.7,
                         [f"万{place}{m.group('noun')}: a number of persons"], (a, m.end()))
            self._qualify(q, text, a, m.end())
            out.append(q)
        for m in FIRST_RE.finditer(text):
            scope = self._first_scope(text[:m.start()])
            if scope is None or _inside_quotes(text, m.start("n")):
                continue
            a = m.start("n")
            out.append(Quantity(s, a, a + 1, "首", "1", CN_MEASURES.get(m.group("unit"), "count"),
                                "rank", "exact", "", "", "", "", "", 0.7,
                                [f"{scope}首{m.group('unit')}: the first, a rank of 1"],
                                (a, m.end())))
        for m in CN_COUNT_RE.finditer(text):
            a, b = m.span()
            prev = text[a - 1:a]
            unit_w = m.group("unit")
            after = text[b:b + 1]
            if prev and prev in "第前双" + _CN_DIGITS or prev.isdigit():
                continue  # 第四批, 前十大行业 (a top ten), “双十条”
            name = ""
            if _inside_quotes(text, a):
                name = _counted_name(text, a) or ""
                if "、" in name and len(re.findall(f"[{_CN_DIGITS}]+", name)) > 1:
                    continue   # “一个目标、三个建成”: a slogan of several numbered parts, a name
            if unit_w == "年" and not text[:a].endswith(("连续", "持续")):
                continue
            span_w = re.match(r"月|季度", text[b:]) if unit_w == "个" else None
            if span_w:
                if not text[:a].endswith(("连续", "持续")):
                    continue   # 三个月: a time span; 连续五个季度 is a count of quarters
                b += span_w.end()
                unit_w = "个" + span_w.group(0)
            if unit_w == "位":
                continue
            if after in ("是",):
                continue
            if unit_w == "大":
                # 五大产业生态圈, “十大战略”: a group of N named things; 党的二十大 is a congress
                if text[:a].endswith("党的") or re.match(r"精神|报告|代表|以来|召开", text[b:]) or \
                        not re.match(r"[\u4e00-\u9fff]", after or " "):
                    continue
                name = name or text[a:b] + re.match(r"[^，,；;：:。、“”]{0,4}", text[b:]).group(0)
            value = _cn_number(m.group("n"))
            if value is None:
                continue
            unit = CN_MEASURES.get(unit_w) or UNIT_SLUGS[unit_w]
            reasons = ["Chinese numeral (cn2an)"]
            conf = 0.6
            if unit == unit_w:
                conf -= 0.1
                reasons.append(f"unit {unit_w} is not in data/vocab/units.csv")
            if name:
                reasons.append(f"counts the parts of the name {name}")
            q = Quantity(s, a, m.end("n"), m.group("n"), _fmt(value), unit, "count", "exact",
                         "", "", "", "", "", conf, reasons, (a, b), name=name)
            self._qualify(q, text, a, b)
            out.append(q)
        for m in SHORT_NAME_RE.finditer(text):
            # “两重”, “两新”, “六有”, “七优享”: a numeral and a word or two in quotes abbreviate a
            # list of that many things (as 两个, 两项 count them); “两湾”产业园 names a place
            a, b = m.span("n")
            inner = _quoted(text, a)
            rest = m.group("rest")
            if inner != (a, m.end("rest")) or re.search(f"[{_CN_DIGITS}]", rest) or \
                    rest.startswith("字") or PLACE_AFTER_RE.match(text, m.end()):
                continue
            name = m.group("n") + rest
            q = Quantity(s, a, b, m.group("n"), _fmt(_cn_number(m.group("n"))), "count", "count",
                         "exact", "", "", "", "", "", 0.5,
                         ["Chinese numeral (cn2an)", f"counts the parts of the name {name}"],
                         (a - 1, m.end()), name=name)
            out.append(q)
        return out

    def _rank_scope(self, before: str) -> str | None:
        """The scope an Nth (第二个, 第八家) is counted in, ending ``before``: 全国 …, or a place."""
        return next((s for s in RANK_SCOPES if before.endswith(s)), None) or \
            next((p for p in self.scheme.places if before.endswith(p)), None)

    def _first_scope(self, before: str) -> str | None:
        """The scope a first (首个, 首家) is counted in, ending ``before``: 全国, 全省 …, or a place."""
        for scope in FIRST_SCOPES:
            if before.endswith(scope):
                return scope
        return next((p for p in self.scheme.places if before.endswith(p)), None)

    # -- fields
    def _kind(self, text: str, a: int, b: int, unit: str) -> str:
        clause, c0 = _clause_before(text, a)
        # in a list (分别增长3.4%、4.3%和6.6%) the verb is before the first item
        clause = re.sub(r"(?:\d+(?:\.\d+)?[%％]?(?:左右|以上)?[、和及])+$", "", clause)
        tail = clause[-8:]
        if unit == "rank":
            return "rank"
        if unit == "percentage-point":
            return "difference"
        if unit == "per-mille":
            return "share"   # 出生率为5.46‰, 自然增长率为-3.93‰: rates of a population, per mille
        if unit not in ("percent", "per-hundred") and YEAR_ON_YEAR_CHANGE_RE.search(tail):
            return "difference"   # 比上年增加0.78万公顷: the change of an amount from last year
        if unit not in ("percent", "per-hundred") and AREA_DIFFERENCE_RE.search(clause[-12:]):
            return "difference"   # 比全省高1.2万元: an amount's gap to a wider area
        if unit == "percent":
            if PLAN_RATIO_RE.search(clause[-12:]):
                return "ratio-to-plan"
            if RATE_SUBJECT_RE.search(clause) or \
                    re.search(r"(?:增长率|增速|增幅|涨幅)(?:达到|达|为|是|保持在)?$", clause):
                return "growth"
            if re.search(r"(?:至|到)$", tail) and _last_share_word(clause) >= 0:
                return "share"
            # the word nearest the value decides: 增速贡献率66.3% is a share (增长率 is a growth)
            last_share = _last_share_word(tail)
            for w in DECLINE_WORDS:
                if w in tail and tail.rfind(w) > last_share:
                    return "decline"
            for w in GROWTH_WORDS:
                if w in tail and not re.search(r"(?:至|到)$", tail) and tail.rfind(w) > last_share:
                    return "growth"
            return "share"
        if unit == "倍" and re.search(r"(?:增长|提高|增加)了?$", tail):
            return "growth"   # 产值增长3倍
        if unit in PERSON_UNITS and STOCK_OF_PEOPLE_RE.search(clause[-12:]) and \
                not PEOPLE_FLOW_RE.search(clause[-12:]):
            return "level"   # 常住人口61.55万人: a stock of people, as the cities' figures record it
        if unit in COUNT_UNITS:
            return "count"
        return "level"

    def _qualify(self, q: Quantity, text: str, a: int, b: int) -> None:
        before = text[max(0, a - 3):a]
        for w, qual in PREFIX_QUALIFIERS:
            if before.endswith(w):
                q.qualifier = qual if q.qualifier == "exact" else q.qualifier
                break
        after = text[b:b + 3]
        for w, qual in SUFFIX_QUALIFIERS:
            if after.startswith(w):
                if q.qualifier in ("exact",):
                    q.qualifier = qual
                break

    def _each(self, found: list[Quantity], text: str) -> list[Quantity]:
        """A、B、C各100项: one quantity for each of A, B and C (same value, same offsets)."""
        out = []
        for q in found:
            if text[:q.span[0]].endswith("各"):
                subject, _ = _clause_before(text, q.span[0] - 1)
                items = [x for x in subject.split("、") if x]
                if len(items) > 1:
                    for k, item in enumerate(items, start=1):
                        c = Quantity(**{**q.__dict__, "reasons": q.reasons + [
                            f"各: {k} of {len(items)}"], "context": item})
                        out.append(c)
                    continue
            out.append(q)
        return out

    def _propagate(self, found: list[Quantity], text: str, s: Passage) -> None:
        """分别超A、B、C: a prefix qualifier of the first item of a 、-list applies to all.

        Also fills kind and indicator: a growth rate without its own label belongs to the
        quantity before it (地区生产总值实现20059亿元、增长5.6%)."""
        for i, q in enumerate(found):
            if i and q.qualifier == "exact":
                prev = found[i - 1]
                between = text[prev.span[1]:q.span[0]]
                if between in ("、", "和", "及") and prev.unit == q.unit and prev.qualifier in (
                        "over", "at-least", "about", "nearly", "at-most") and \
                        "分别" in text[max(0, prev.span[0] - 60):prev.span[0]]:
                    q.qualifier = prev.qualifier
        # a trailing 以上 or 左右 over a list: 各100项以上 is handled by _qualify; 分别x、y以上 and
        # 分别x和y左右 by this
        for i in range(len(found) - 2, -1, -1):
            q, nxt = found[i], found[i + 1]
            between = text[q.span[1]:nxt.span[0]]
            if between in LIST_JOINS and q.unit == nxt.unit and q.qualifier == "exact" and \
                    nxt.qualifier in ("at-least", "about") and "分别" in text[:q.span[0]]:
                q.qualifier = nxt.qualifier
        prev_ind: tuple[str, str] | None = None
        prev_end = 0
        respective = _respectively(found, text)
        for q in found:
            clause, c0 = _clause_before(text, q.span[0])
            clause = text[max(c0, prev_end):q.span[0]]
            # the previous quantity is in the clause just before: 2616.8亿元,居全国城市第4位
            adjacent = len(re.findall(r"[，,；;]", text[prev_end:q.span[0]])) <= 1
            prev_end = q.span[1]
            if id(q) in respective:
                clause = respective[id(q)]
            if q.context:
                clause = q.context
            label_clause = _label_from(clause)
            after = re.match(rf"(?:以上|以下|左右|以内)?([^{CLAUSE_BREAK}、]{{0,12}})",
                             text[q.span[1]:]).group(1)
            sim = self.scheme.similar(_expand(clause + after), text[max(0, q.span[0] - 40):q.span[0]],
                                      edges=(_expand(label_clause), after), sentence=text)
            if sim is not None and q.kind in ("level", "count") and \
                    q.unit not in self.scheme.allowed.get(sim[0], {q.unit}):
                sim = None   # 万亿之城增至5座 is not a GDP: a level of GDP is in yuan
            bare = re.sub(r"增速|增幅|同比|比上年|比去年|较[^高低快慢提回下上]{0,4}|[高低快慢]于全[国省市]"
                          r"|[高低快慢]于|提高|回落|下降|增长|上涨|回升|为|的"
                          r"|^(?:但|而|并|且)|当月|当季|持续|(?:由|从)(?:\d+月|[一二三四]季度|上月)?|至$"
                          r"|[、和及与]?全[国省市区]|完成[^，,；;]{0,10}?(?:批准|下达|确定|提出)的?"
                          r"|(?:年度|全年)?(?:计划|预期|控价|调控)?目标",
                          "", label_clause)
            if q.kind == "rank":
                bare = re.sub(r"(?:位居|位列|稳居|保持|排名|居|列)?(?:全国|全省|全区|全市|副省级城市|省会城市|"
                              r"同类城市|城市|中)*", "", bare)
            policy = self.scheme.labels.get(POLICY_ARTICLES_LABEL)
            programme = self.scheme.labels.get(PROGRAMME_COMPONENTS_LABEL)
            before_name = PROGRAMME_NAME_RE.match(text[q.span[1]:])
            quoted = _inside_quotes(text, q.span[0])
            work_areas = self.scheme.labels.get(PLAN_WORK_AREAS_LABEL)
            plan_indicators = self.scheme.labels.get(PLAN_INDICATORS_LABEL)
            if q.kind == "count" and work_areas and PLAN_WORK_AREAS_RE.match(text[q.span[1]:]):
                # 重点做好以下九个方面工作: the plan's work areas, what the plan says (actual)
                q.indicator, q.indicator_label = INDICATOR_BASE + work_areas, PLAN_WORK_AREAS_LABEL
                q.name = text[q.span[0]:q.span[1]] + PLAN_WORK_AREAS_RE.match(text[q.span[1]:]).group(0)
                q.reasons.append("N个方面工作: the work areas of the plan")
            elif q.unit == "item" and plan_indicators and \
                    PLAN_INDICATORS_RE.match(text[q.span[1]:]) and \
                    not text[:q.span[0]].endswith("等") and PLAN_WORDS_RE.search(text[:q.span[0]]):
                # 安排了38项指标: the number of indicators of the plan
                q.indicator, q.indicator_label = INDICATOR_BASE + plan_indicators, PLAN_INDICATORS_LABEL
                q.reasons.append("N项指标 of a plan: the plan's indicators")
            elif q.kind == "count" and programme and not q.value_text.isascii() and before_name \
                    and not q.name:   # “两重”“三大工程”: “两重” counts its own name
                # 实施三个“一号工程”: the number of components of a named programme
                q.indicator, q.indicator_label = (INDICATOR_BASE + programme,
                                                  PROGRAMME_COMPONENTS_LABEL)
                q.name = before_name.group(0).strip("“”\"")
                q.reasons.append("a count before a quoted name: components of a programme")
            elif q.unit == "strip" and policy and (
                    (q.name and quoted) or POLICY_NOUN_AFTER_RE.match(text[q.span[1]:]) or
                    POLICY_PACKAGE_RE.search(_whole_clause(text, q.span)) and
                    re.match(r"(?:[，,；;。、]|等|$)", text[q.span[1]:])):
                # 实施…扩需求增动能72条、…64条等政策, “治气攻坚二十条”, “17条”举措: the articles
                # of a policy
                q.indicator, q.indicator_label = INDICATOR_BASE + policy, POLICY_ARTICLES_LABEL
                q.reasons.append("N条 closing a name: articles of a policy package")
            elif q.kind == "count" and programme and q.name and (quoted or sim is None):
                # “十大战略”, “两个确保”, 五大产业生态圈: the number of parts of a named group
                q.indicator, q.indicator_label = (INDICATOR_BASE + programme,
                                                  PROGRAMME_COMPONENTS_LABEL)
                q.reasons.append("a count in a name: components of a programme")
            elif (q.kind in ("growth", "decline", "ratio-to-plan", "difference", "rank") and
                  len(bare) <= 2 or q.kind == "level" and TOTAL_RE.fullmatch(bare)) and \
                    prev_ind and (adjacent or q.kind != "rank") and \
                    q.value_text != "首":  # 全省首个X: a first names its own X after it
                # 总量跨过3000亿元 after GDP增长6%: the total of the measure just named
                q.indicator, q.indicator_label = prev_ind
                q.confidence -= 0.05
                q.reasons.append("indicator of the quantity before it")
            elif sim is not None:
                q.indicator, q.indicator_label = INDICATOR_BASE + sim[0], sim[1]
                if sim[2] < 1:
                    q.confidence -= 0.1
                    q.reasons.append(f"indicator label similar to the text ({sim[2]:.2f})")
            else:
                q.indicator, q.indicator_label = "", (label_clause + after) or "?"
                q.confidence -= 0.2
                q.reasons.append("suggested new indicator")
            prev_ind = (q.indicator, q.indicator_label)

    def _status_period(self, q: Quantity, text: str, s: Passage, mode: str) -> None:
        a = q.span[0] - 0
        head = text[:a]
        clause, c0 = _clause_before(text, a)
        status = mode
        # a note (预计) after an earlier value is about that value only; (预计,下同) covers the rest
        head, clause = EXPECTED_NOTE_RE.sub("", head), EXPECTED_NOTE_RE.sub("", clause)
        own_target = TARGET_AFTER_RE.match(text, q.span[1]) is not None
        if own_target:
            status = "target"   # 增长8%以上目标
        elif EXPECTED_RE.search(clause) or EXPECTED_RE.search(re.split(r"[；;]", head)[-1]):
            status = "expected"  # 预计A增长47%,B增长32%: one 预计 for the whole list
        elif OPENING_EXPECTED_RE.match(text) and \
                not OWN_STATUS_RE.search(EXPECTED_NOTE_RE.sub("", _whole_clause(text, q.span))):
            status = "expected"  # 预计A增长9%;B增长18%: a 预计 opening the sentence covers it all
        elif EXPECTED_AFTER_RE.match(text, q.span[1]):
            status = "expected"  # 增长7%(预计,下同)
        elif mode == "actual" and re.search(r"力争|确保|目标(?:是|为)|预期目标|将(?:力争|达到)", clause) \
                and not re.search(r"完成|实现|达到了", clause):
            status = "target"
        elif mode == "actual" and re.search(r"(?:预期|主要)目标(?:是|为)?[:：]", head):
            status = "target"  # 主要预期目标是:… lists the targets of the sentence
        elif mode == "actual" and text[q.span[1]:q.span[1] + 2] == "左右" and \
                re.search(r"目标|预期", text):
            status = "target"
        if _design_attribute(text, q.span[0], q.span[1]):
            status = "design"
        if q.name:
            # the number of parts of a named group (“十大战略”) is what the name says now, in the
            # plan's year too: a fact, not a target (确保 in “两个确保” is part of a name)
            status = "actual"
        q.status = status
        year = self.year + 1 if status == "target" and not (own_target and mode == "actual") or (
            mode == "target" and (q.name or status == "design")) else self.year
        ym = list(re.finditer(r"((?:19|20)\d\d)年(?!代)", clause))
        if ym and not re.search(r"以来|起|比|较|同比", clause[ym[-1].end():ym[-1].end() + 2]):
            year = int(ym[-1].group(1))
        period = str(year)
        if re.search(r"累计|总计|合计|历年|迄今|至今|以来", clause) or \
                re.search(r"累计", head[-25:]):
            period = f"../{year}"
        q.period = period


# --- output ---------------------------------------------------------------------


def draft_file(path: Path, data_dir: Path, year: int | None = None, area: str = "",
               spam: SpamPatterns | None = None, part: str = "auto") -> tuple[str, list[Quantity]]:
    """Clean ``path`` and draft every quantity in it; returns the cleaned text and the rows."""
    text = clean_text(read_text(path), spam)
    if year is None:
        year = guess_year(text)
    drafter = Drafter(IndicatorScheme.load(data_dir), year, area, part)
    return text, drafter.draft(text)


def guess_year(text: str) -> int:
    """The year a report reviews: the earliest 20xx年 of its first five paragraphs."""
    head = "\n\n".join(text.split("\n\n")[:5])
    years = [int(y) for y in re.findall(r"(20\d\d)年", head)]
    if not years:
        raise DataError("cannot tell the year the report reviews; give --year")
    return min(years)


def to_csv(rows: list[Quantity]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for q in rows:
        w.writerow(q.row())
    return buf.getvalue()


# --- review page ----------------------------------------------------------------


def to_html(text: str, rows: list[Quantity], title: str = "econplan draft") -> str:
    """A static review page: each sentence with its quantities highlighted, lowest confidence first.

    Every piece of text is escaped; the page needs no script and no network."""
    from html import escape as esc

    by_sentence: dict[str, list[Quantity]] = {}
    for q in rows:
        by_sentence.setdefault(q.sentence.id, []).append(q)
    order = sorted(by_sentence.values(), key=lambda qs: (min(q.confidence for q in qs),
                                                         qs[0].sentence.start))
    parts = [
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\">",
        f"<title>{esc(title)}</title><style>",
        "body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:1.5em;"
        "max-width:70em;color:#222}",
        "section{border:1px solid #ccc;border-radius:4px;margin:0 0 1em;padding:.6em .9em}",
        "p.s{font-size:1.1em;line-height:1.8}mark{padding:0 .15em;border-radius:3px}",
        "mark.low{background:#f8b4b4}mark.mid{background:#fde68a}mark.high{background:#bbf7d0}",
        "table{border-collapse:collapse;font-size:.85em;width:100%}",
        "td,th{border:1px solid #ddd;padding:.15em .4em;text-align:left}th{background:#f3f3f3}",
        "td.low{background:#fde2e2}.id{color:#666;font-size:.85em}",
        "</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{len(rows)} proposed quantities in {len(by_sentence)} sentences; the sentences whose "
        "lowest confidence is lowest come first. 红 &lt; 0.6 ≤ 黄 &lt; 0.8 ≤ 绿.</p>",
    ]
    cols = ("value_text", "value", "unit", "kind", "qualifier", "period", "status",
            "indicator", "indicator_label", "area", "confidence")
    for qs in order:
        s = qs[0].sentence
        out, pos = [], s.start
        for q in sorted(qs, key=lambda q: q.span[0]):
            a, b = max(q.span[0], pos), q.span[1]
            if a < pos or a >= b:
                continue
            level = "low" if q.confidence < 0.6 else "mid" if q.confidence < 0.8 else "high"
            out.append(esc(text[pos:a]))
            out.append(f"<mark class=\"{level}\" title=\"{esc(q.value_text)} · {q.confidence:.2f}\">"
                       f"{esc(text[a:b])}</mark>")
            pos = b
        out.append(esc(text[pos:s.end]))
        parts.append(f"<section><div class=\"id\">{esc(s.id)} [{s.start}–{s.end}]</div>"
                     f"<p class=\"s\">{''.join(out)}</p><table><tr>")
        parts.append("".join(f"<th>{c}</th>" for c in cols) + "<th>why</th></tr>")
        for q in sorted(qs, key=lambda q: (q.confidence, q.start)):
            r = q.row()
            ind = r["indicator"].rsplit("/", 1)[-1] if r["indicator"] else "(new)"
            cells = [r[c] if c != "indicator" else ind for c in cols]
            low = " class=\"low\"" if q.confidence < 0.6 else ""
            parts.append("<tr>" + "".join(f"<td{low if c == 'confidence' else ''}>{esc(v)}</td>"
                                          for c, v in zip(cols, cells))
                         + f"<td>{esc('; '.join(q.reasons))}</td></tr>")
        parts.append("</table></section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
