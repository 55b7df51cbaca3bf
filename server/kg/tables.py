"""Tables as statistics bureaus and reports publish them -> rows of econplan facts.

No mapping file for the common shapes:

* CSV in UTF-8 (with or without a BOM) or GB18030/GBK, Excel ``.xlsx``, or a CSV
  described by CSV on the Web (CSVW) metadata;
* *wide* (a row per area, a column per indicator with the unit in the header:
  ``地区生产总值（亿元）``, ``增长(%)``), *transposed* (a row per indicator, a
  column per area) or *long* (a row per figure: 地区, 指标, 数值, 单位 …);
* two header rows: a group header (the indicator, or a year) spanning its columns
  (merged cells in .xlsx, blank cells in a CSV) over a sub-header (绝对额(亿元),
  比上年增长(%), (万人));
* total rows (全省, 全市, 合计 …) as the one area holding the table's other areas, or
  ``--area``; never guessed;
* *indicator rows* (a bulletin's appendix: 指标 | 单位 | 2023年 | 比上年增长(%)) for the
  area of ``--area`` or of a title line (济南市2023年主要经济指标), or with a column per
  area (指标 | 单位 | 全省 | 南京市 …);
* yearbook tables in Chinese and English (the English of a header, area or indicator cell,
  and an English header row, are left aside);
* areas by GB/T 2260 code or by name, full or short (320500 / 苏州市 / 苏州);
* values as written (``43,760.7``, ``约1.75``, ``5.0``, ``1.2万亿元左右``): the
  number is kept as text with its digits unchanged (only the thousands
  separators are dropped), the qualifier words become the curated vocabulary
  (超 → over, 约 → about …), the cell's full text is kept in ``as_written``;
* blank cells (and the no-data marks ``—``, ``-``, ``…``, ``/``) are missing
  values: no fact.

Everything that cannot be recognised is collected and raised at once as
:class:`TableError` (each with its cell and the fix); nothing is written.

What the importer may refer to comes in as a :class:`Vocab` (an
:class:`AreaIndex`, an :class:`IndicatorScheme` and :class:`Units`), built by
:func:`load_vocab` from the CSV files under ``data/``: the one function to
repoint when the area list and the indicator scheme move.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError

KINDS = ("level", "growth", "decline", "share", "count", "ratio-to-plan", "rank", "difference")
QUALIFIERS = ("exact", "at-least", "over", "more-than", "about", "nearly", "at-most")
STATUSES = ("actual", "target", "expected")

#: The columns of the rows file import-table writes (data/cities/<dataset>.csv).
ROW_COLUMNS = ("city", "gb2260", "indicator", "kind", "period", "value", "unit", "qualifier",
               "status", "source", "vintage", "date", "cell", "as_written", "note", "quote")


# ------------------------------------------------------------------ the vocabulary passed in

def _norm(text) -> str:
    """NFKC (full-width brackets, digits and % become ASCII), no spaces, no line breaks."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


_AREA_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州",
                  "地区", "省", "市", "区", "县", "盟")


#: GB/T 2260 has no code for the whole country; map data (and many tables) write 100000.
NATIONAL_CODES = {"100000": "CN"}


@dataclass(frozen=True)
class Area:
    code: str                 # GB/T 2260 code, or an ISO code for a country
    name_zh: str
    name_en: str
    short_names: tuple[str, ...] = ()
    type: str = ""
    parent: str = ""
    slug: str = ""            # the area's folder name under data/ (vocab/areas.csv)
    level: str = ""           # country, province, prefecture or county (vocab/area-types.csv)


class AreaIndex:
    """Areas by code, full name, short name (苏州 for 苏州市) and English name."""

    def __init__(self, areas):
        self.areas: dict[str, Area] = {}
        self._by_name: dict[str, set[str]] = {}
        for a in areas:
            self.areas[a.code] = a
            names = {a.name_zh, a.name_en.casefold(), *a.short_names}
            for suffix in _AREA_SUFFIXES if not a.short_names else ():  # areas.csv gives short names
                if a.name_zh.endswith(suffix) and len(a.name_zh) - len(suffix) >= 2:
                    names.add(a.name_zh[: -len(suffix)])
                    break
            for n in names:
                if n:
                    self._by_name.setdefault(_norm(n).casefold(), set()).add(a.code)

    def find(self, text: str) -> list[Area]:
        key = _norm(text)
        key = NATIONAL_CODES.get(key, key)
        if key in self.areas:
            return [self.areas[key]]
        return [self.areas[c] for c in sorted(self._by_name.get(key.casefold(), ()))]

    def __contains__(self, code: str) -> bool:
        return code in self.areas


@dataclass(frozen=True)
class IndicatorTerm:
    slug: str
    label_zh: str
    label_en: str
    alt_labels: tuple[str, ...] = ()


class IndicatorScheme:
    """Indicators by slug, zh/en label and alternative labels (case and width folded)."""

    def __init__(self, terms):
        self.terms: dict[str, IndicatorTerm] = {}
        self._by_label: dict[str, set[str]] = {}
        for t in terms:
            self.terms[t.slug] = t
            for label in (t.slug, t.label_zh, t.label_en, *t.alt_labels):
                if label:
                    self._by_label.setdefault(_norm(label).casefold(), set()).add(t.slug)

    def find(self, text: str) -> list[str]:
        return sorted(self._by_label.get(_norm(text).casefold(), ()))


class Units:
    """Unit slugs by slug, symbol (亿元, %) and zh/en label."""

    def __init__(self, rows):
        self.by_text: dict[str, str] = {}
        self.symbols: dict[str, str] = {}
        self.labels_en: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        for slug, symbol, label_zh, label_en, *rest in rows:
            aliases = tuple(rest[0]) if rest else ()
            self.symbols[slug] = symbol or slug
            self.labels_en[slug] = label_en
            self.aliases.update({a: slug for a in aliases})
            for t in (slug, symbol, label_zh, label_en, *aliases):
                if t:
                    self.by_text.setdefault(_norm(t).casefold(), slug)

    def find(self, text: str) -> str | None:
        return self.by_text.get(_norm(text).casefold())

    def cell_symbols(self) -> list[str]:
        """Symbols that may follow a number in a cell, longest first."""
        return sorted({_norm(s) for s in [*self.symbols.values(), *self.aliases] if s}, key=len, reverse=True)


@dataclass
class Vocab:
    areas: AreaIndex
    indicators: IndicatorScheme
    units: Units


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(fh)]


def load_vocab(data_dir: Path) -> Vocab:
    """The areas, indicators and units the importer knows, from the CSV files under ``data_dir``.

    Reads ``vocab/areas.csv`` (short names from ``short_zh`` and ``aliases``; the country keyed
    by its ``iso`` code, ``CN``), ``vocab/indicators/*.indicators.csv`` and ``vocab/units.csv``
    (symbols and their ``aliases``, e.g. 億元 for 亿元).
    """
    data_dir = Path(data_dir)
    types = data_dir / "vocab" / "area-types.csv"
    level_of = {r["type"]: r.get("level", "") for r in _csv_rows(types)} if types.exists() else {}
    areas = []
    for r in _csv_rows(data_dir / "vocab" / "areas.csv"):
        iso = r.get("iso") or ""
        code = r.get("code") or iso
        if not code:
            continue
        short = [r.get("short_zh", "")] + (r.get("aliases") or "").replace("|", " ").split()
        areas.append(Area(code, r.get("name_zh", ""), r.get("name_en", ""),
                          tuple(n for n in short + ([iso] if iso and iso != code else []) if n),
                          r.get("type", ""), r.get("parent", ""), r.get("slug", ""),
                          level_of.get(r.get("type", ""), "")))
    terms = []
    for path in sorted((data_dir / "vocab" / "indicators").glob("*.indicators.csv")):
        for r in _csv_rows(path):
            alts = tuple(a.strip() for a in (r.get("alt_labels") or "").split("|") if a.strip())
            terms.append(IndicatorTerm(r["slug"], r.get("label_zh", ""), r.get("label_en", ""), alts))
    units = [(r["slug"], r.get("symbol", ""), r.get("label_zh", ""), r.get("label_en", ""),
              tuple(a.strip() for a in (r.get("aliases") or "").split("|") if a.strip()))
             for r in _csv_rows(data_dir / "vocab" / "units.csv")]
    return Vocab(AreaIndex(areas), IndicatorScheme(terms), Units(units))


# ------------------------------------------------------------------ problems, fixed values, rows

@dataclass
class Problem:
    where: str   # a cell (C4), a column (column C “人口”), a row (row 7) or the command line
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} (fix: {self.fix})"


class TableError(DataError):
    """Everything a table import could not recognise, reported at once; nothing was written."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s); nothing was written\n{lines}",
                         path=str(path))


@dataclass
class Fixed:
    """Values fixed for the whole file on the command line."""
    year: str | None = None
    status: str | None = None
    source: str | None = None
    area: str | None = None
    vintage: str | None = None
    #: the sheet of a workbook to read: its name or its number (1 = the first); default the first
    sheet: str | None = None


@dataclass
class TableRow:
    area: str
    area_name: str
    indicator: str
    kind: str
    period: str
    value: str          # the number as written, thousands separators dropped, never converted
    unit: str           # a unit slug
    qualifier: str
    status: str
    source: str
    vintage: str
    cell: str           # where it is in the published table (C4, or Sheet1!C4)
    as_written: str     # the cell's text exactly as published
    note: str = ""
    date: str = ""      # the publication date (YYYY-MM-DD) when the vintage text gives one
    quote: str = ""     # the words the figure was read in on its source page, verbatim

    def as_csv_row(self) -> list[str]:
        return [self.area_name, self.area, self.indicator, self.kind, self.period, self.value,
                self.unit, self.qualifier, self.status, self.source, self.vintage, self.date,
                self.cell, self.as_written, self.note, self.quote]


@dataclass
class Cell:
    text: str
    ref: str
    written: str | None = None  # the text in the file when ``text`` is a reader's parse of it (CSVW)
    spanned: str | None = None  # an .xlsx cell inside a merged range: the range's text (its own is "")
    merged: bool = False        # the cell is part of a merged range (its first cell or inside it)


# ------------------------------------------------------------------ reading the grid

def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16, tab-separated
        return raw.decode("utf-16")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise TableError(path, [Problem(str(path.name), "neither UTF-8 nor GB18030/GBK text",
                                       "save the table as CSV UTF-8 or as .xlsx")])


def _xlsx_text(cell) -> str:
    """A cell as the spreadsheet shows it: a number with the decimals of its number format."""
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    fmt = (cell.number_format or "General").split(";")[0]
    m = re.search(r"\.([0#]+)", fmt)
    if "%" in fmt:
        return f"{v * 100:.{len(m.group(1)) if m else 0}f}%"
    group = "," if "#,#" in fmt or "0,0" in fmt else ""
    if m and fmt != "General":
        return f"{v:{group}.{len(m.group(1))}f}"
    if float(v).is_integer():
        return f"{int(v):{group}d}"
    return repr(float(v))


def _worksheet(wb, sheet: str | None, path: Path):
    """The worksheet ``sheet`` names (a name, or a number from 1), the first without one."""
    if sheet is None:
        return wb.worksheets[0]
    names = [ws.title for ws in wb.worksheets]
    if sheet in names:
        return wb[sheet]
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return wb.worksheets[int(sheet) - 1]
    wb.close()
    raise TableError(path, [Problem("--sheet", f"{path.name} has no sheet {sheet!r}; its sheets are "
                                    + ", ".join(f"{i} {n!r}" for i, n in enumerate(names, 1)),
                                    "give one of these names or numbers")])


def read_grid(path: Path, sheet: str | None = None) -> tuple[list[list[Cell]], str]:
    """The table's cells with their references, and a description (encoding or sheet); ``sheet``
    names the worksheet of a workbook (its name, or its number counting from 1)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:  # not read_only: merged ranges (a group header over two columns) are only there
            wb = openpyxl.load_workbook(path, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise TableError(path, [Problem(path.name, f"not a readable .xlsx file ({exc})",
                                               "save it again from Excel as .xlsx")]) from None
        ws = _worksheet(wb, sheet, path)
        prefix = f"{ws.title}!" if len(wb.worksheets) > 1 else ""
        grid = [[Cell(_xlsx_text(c), f"{prefix}{_col_letter(j)}{i + 1}") for j, c in enumerate(row)]
                for i, row in enumerate(ws.iter_rows())]
        for rng in ws.merged_cells.ranges:  # every cell of a merged range knows the range's text
            first = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row <= len(grid) else None
            for i in range(rng.min_row - 1, min(rng.max_row, len(grid))):
                for j in range(rng.min_col - 1, min(rng.max_col, len(grid[i]))):
                    grid[i][j].merged = True
                    if grid[i][j] is not first and first is not None:
                        grid[i][j].spanned = first.text
        wb.close()
        return grid, f"sheet {ws.title}"
    if sheet is not None:
        raise TableError(path, [Problem("--sheet", f"{path.name} is not a workbook: it has no sheets",
                                        "leave out --sheet")])
    if path.suffix.lower() == ".xls":
        raise TableError(path, [Problem(path.name, "the old .xls format is not read",
                                           "save it as .xlsx or CSV")])
    text = _decode(path.read_bytes(), path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    return [[Cell(t, f"{_col_letter(j)}{i + 1}") for j, t in enumerate(r)] for i, r in enumerate(rows)], ""


# ------------------------------------------------------------------ headers and cells

AREA_HEADERS = {"地区", "城市", "地市", "区域", "地区名称", "城市名称", "行政区", "行政区划", "area", "city",
                "region", "地区(城市)", "省份", "省市", "单位名称", "area_name", "city_name"}
CODE_HEADERS = {"代码", "区划代码", "行政区划代码", "地区代码", "gb2260", "code", "areacode", "area_code"}
YEAR_HEADERS = {"年份", "年度", "年", "year", "period", "时期"}
LONG_HEADERS = {
    "indicator": {"指标", "指标名称", "项目", "indicator", "indicator_zh", "indicator_en"},
    "value": {"数值", "值", "数据", "指标值", "value", "value_text"},
    "unit": {"单位", "计量单位", "unit"},
    "kind": {"类型", "kind"},
    "qualifier": {"限定", "限定词", "qualifier", "qualifier_text"},
    "status": {"状态", "性质", "status"},
    "source": {"来源", "数据来源", "资料来源", "source", "source_url"},
    "vintage": {"版本", "口径", "vintage"},
    "note": {"备注", "说明", "note"},
    "quote": {"原文", "引文", "摘录", "quote"},
}
SKIP_HEADERS = {"序号", "排名", "位次", "no", "no."}  # columns that are not figures
NO_DATA = {"", "-", "—", "——", "–", "…", "……", "...", "/", "－"}

GROWTH_WORDS = ("比上年增长率", "比上年增长", "同比增长率", "同比增长", "增长率", "增长速度", "增速",
                "增长", "growthrate", "growth", "增幅")
DECLINE_WORDS = ("比上年下降", "同比下降", "下降", "decline")
SHARE_WORDS = ("占比", "比重")
STATUS_WORDS = {"目标": "target", "计划": "target", "预期": "target", "预计": "expected"}
STATUS_VALUES = {"actual": "actual", "target": "target", "expected": "expected", "实际": "actual",
                 "完成": "actual", "实绩": "actual", "目标": "target", "计划": "target",
                 "预期目标": "target", "预计": "expected"}

# qualifier words before / after the number (longest first where one contains another)
PREFIX_QUALIFIERS = [("不低于", "at-least"), ("不少于", "at-least"), ("至少", "at-least"),
                     ("不超过", "at-most"), ("不高于", "at-most"), ("最多", "at-most"),
                     ("超过", "over"), ("突破", "over"), ("大于", "over"), ("多于", "over"), ("超", "over"),
                     ("逾", "over"), ("大约", "about"), ("约为", "about"), ("约", "about"),
                     ("接近", "nearly"), ("将近", "nearly"), ("近", "nearly"),
                     ("达到", "exact"), ("达", "exact"), ("≈", "about"), ("~", "about"),
                     ("≥", "at-least"), (">", "over"), ("≤", "at-most")]
SUFFIX_QUALIFIERS = [("及以上", "at-least"), ("以上", "at-least"), ("左右", "about"), ("上下", "about"),
                     ("以内", "at-most"), ("以下", "at-most")]
INFIX_QUALIFIERS = [("余", "more-than"), ("多", "more-than")]  # between the number and the unit
QUALIFIER_VALUES = {q: q for q in QUALIFIERS} | {w: q for w, q in PREFIX_QUALIFIERS + SUFFIX_QUALIFIERS
                                                 + INFIX_QUALIFIERS} | {"": "exact", "精确": "exact"}

FOOTNOTE_RE = re.compile("[\u00b2\u00b3\u00b9\u2070-\u209f\u2460-\u24ff\u2776-\u2793\u3251-\u32bf]")
NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"


@dataclass
class Header:
    indicator: str | None
    kind: str
    unit: str | None
    period: str | None
    status: str | None
    label: str       # what is left of the header once unit, year, kind and status are taken out


def parse_header(text: str, units: Units) -> tuple[Header, str | None]:
    """A header (or a long table's indicator cell) -> its parts; the second item is an unknown unit."""
    h = _norm(text)
    unit, bad_unit = None, None
    m = re.match(r"^(.*?)[(\[【]([^()\[\]【】]*)[)\]】]$", h)
    if m:
        h, unit_text = m.group(1), m.group(2)
        unit_text = re.sub(r"^(单位[:：]?)", "", unit_text)
        unit = units.find(unit_text)
        if unit is None:
            bad_unit = unit_text
    if unit is None and bad_unit is None and h.endswith("%"):  # 增长%, 增速%
        h, unit = h[:-1], "percent"
    period = None
    m = re.match(r"^((?:19|20)\d\d)年?(.*)$", h) or re.match(r"^(.*?)((?:19|20)\d\d)年?$", h)
    if m:
        if m.group(1).isdigit():
            period, h = m.group(1), m.group(2)
        else:
            period, h = m.group(2), m.group(1)
    status = None
    for word, st in STATUS_WORDS.items():
        if h.endswith(word) or h.startswith(word):
            status, h = st, (h[: -len(word)] if h.endswith(word) else h[len(word):])
            break
    kind = "level"
    low = h.casefold()
    for words, k in ((DECLINE_WORDS, "decline"), (GROWTH_WORDS, "growth"), (SHARE_WORDS, "share")):
        hit = next((w for w in words if low.endswith(w)), None)
        if hit:
            kind, h = k, h[: -len(hit)]
            break
    h = h.rstrip("_-:/、")
    if unit == "percentage-point" and kind == "level":
        kind = "difference"
    return Header(None, kind, unit, period, status, h), bad_unit


@dataclass
class Value:
    number: str
    qualifier: str
    unit: str | None


def parse_value(text: str, units: Units) -> Value | str:
    """A cell -> number, qualifier, unit; or a string saying what is wrong."""
    if FOOTNOTE_RE.search(str(text)):  # NFKC would make 5.2① the number 5.21
        return "a footnote mark (①, ¹ …) beside the number"
    t = _norm(text)
    qualifiers = []
    for word, q in PREFIX_QUALIFIERS:
        if t.startswith(word):
            qualifiers.append(q)
            t = t[len(word):]
            break
    for word, q in SUFFIX_QUALIFIERS:
        if t.endswith(word):
            qualifiers.append(q)
            t = t[: -len(word)]
            break
    m = re.match(f"^({NUMBER})(.*)$", t)
    if not m:
        return "not a number"
    number, rest = m.group(1), m.group(2)
    for word, q in INFIX_QUALIFIERS:
        if rest.startswith(word):
            qualifiers.append(q)
            rest = rest[len(word):]
            break
    for word, q in SUFFIX_QUALIFIERS:  # 1.75万亿元左右: the unit sits before the suffix
        if rest.endswith(word) and len(rest) > len(word):
            qualifiers.append(q)
            rest = rest[: -len(word)]
            break
    unit = None
    if rest:
        unit = units.find(rest)
        if unit is None:
            return f"{rest!r} after the number is neither a unit nor a qualifier"
    real = [q for q in qualifiers if q != "exact"]
    if len(set(real)) > 1:
        return f"two different qualifiers ({', '.join(real)})"
    if number.startswith("+"):
        number = number[1:]
    return Value(number.replace(",", ""), real[0] if real else "exact", unit)


# ------------------------------------------------------------------ recognising a table

def _nonempty(row: list[Cell]) -> list[Cell]:
    return [c for c in row if _norm(c.text)]


def _is_note(row: list[Cell]) -> bool:
    cells = _nonempty(row)
    return len(cells) == 1 and re.match(r"^(注|说明|资料来源|数据来源|来源|note|source)", _norm(cells[0].text),
                                        re.I) is not None


def _unit_line(row: list[Cell], units: Units) -> str | None:
    """A line such as ``单位：亿元`` above the header: the unit of every column without one."""
    cells = _nonempty(row)
    if len(cells) == 1:
        m = re.match(r"^.*单位[:：](.+)$", _norm(cells[0].text))
        if m:
            return units.find(m.group(1))
    return None


def _column_role(text: str) -> str | None:
    h = _norm(text).casefold()
    if h in AREA_HEADERS:
        return "area"
    if h in CODE_HEADERS:
        return "code"
    if h in YEAR_HEADERS:
        return "year"
    if h in SKIP_HEADERS:
        return "skip"
    for role, names in LONG_HEADERS.items():
        if h in names:
            return role
    return None


#: A sub-header that names no indicator, only which figure of it the column holds (its level).
LEVEL_WORDS = {"绝对额", "绝对值", "绝对数", "总量", "总额", "数值", "本年", "本期", "本年实际", "全年", "数额"}


@dataclass
class Context:
    """What a title line above the header says (济南市2023年主要经济指标)."""
    year: str | None = None
    area: Area | None = None


def _title_context(titles: list[Cell], vocab: Vocab, fixed: Fixed, problems: list[Problem]) -> Context:
    """The year (``2023年``; not a yearbook's ``统计年鉴2024``) and the area a title line opens
    with; each checked against --year and --area (a disagreement is a problem, not a choice)."""
    ctx = Context()
    for cell in titles:
        t = _norm(cell.text)
        m = re.search(r"((?:19|20)\d\d)年(?!鉴)", t)
        if m and ctx.year is None and "年鉴" not in t:
            ctx.year = m.group(1)
            if fixed.year and fixed.year != ctx.year:
                problems.append(Problem(cell.ref, f"the title says the year {ctx.year}, --year says {fixed.year}",
                                        "drop --year or correct the title"))
        rest = re.sub(r"^(?:19|20)\d\d年(?:度)?", "", t)
        for n in range(min(len(rest), 12), 1, -1) if _CJK.match(rest) else ():  # not "China Statistical …"
            if ctx.area is not None or _total_word(rest[:n]):
                break
            found = vocab.areas.find(rest[:n])
            if len(found) == 1:
                ctx.area = found[0]
                if fixed.area and fixed.area != ctx.area.code:
                    problems.append(Problem(cell.ref, f"the title names {ctx.area.code} {ctx.area.name_zh}, "
                                            f"--area says {fixed.area}", "drop --area or correct the title"))
    return ctx


def _is_subheader(header: list[Cell], row: list[Cell], units: Units) -> bool:
    """Is ``row`` a second header row: nothing in its first column (areas, indicators), no
    value in it, and it either sits under a spanning group header or names a measure or a unit?"""
    if not row or _norm(row[0].text):
        return False
    cells = _nonempty(row)
    if not cells or any(_norm(c.text) in NO_DATA for c in cells):
        return False
    if any(not _year(c.text) and isinstance(parse_value(c.text, units), Value) for c in cells):
        return False
    spans = any(j >= len(header) or header[j].merged or not _norm(header[j].text)
                for j, c in enumerate(row) if _norm(c.text))
    measures = any((lb := parse_header(c.text, units)[0].label) in LEVEL_WORDS | {""} or units.find(lb)
                   for c in cells)
    return spans or measures


def _spanned_headers(header: list[Cell], sub: list[Cell], units: Units) -> list[list[str]]:
    """Each column's header texts [group, sub]. A group spans the columns of its merged range
    (.xlsx); in a file without merged header cells (CSV) a blank group cell continues the group
    to its left over a sub-header that names no indicator (比上年增长(%), (万人)), or, when the
    group names only a year (2023年), over any sub-header; never an area, indicator or unit column."""
    merged = any(c.merged for c in header)

    def label(text):
        return parse_header(text, units)[0].label

    out, carry = [], ""
    for j in range(max(len(header), len(sub))):
        g = header[j] if j < len(header) else None
        s = sub[j] if j < len(sub) else None
        gt = _zh(g.text if _norm(g.text) else g.spanned or "") if g else ""
        st = _zh(s.text if _norm(s.text) else s.spanned or "") if s else ""
        if _norm(gt):
            carry = gt if not _column_role(gt) else ""
        elif _norm(st) and carry and not merged and (label(carry) == "" or label(st) in LEVEL_WORDS | {""}):
            gt = carry
        parts = [t for t in (gt, st) if _norm(t)]
        if len(parts) == 2 and _norm(parts[0]) == _norm(parts[1]):  # merged down over both rows
            parts = parts[:1]
        out.append(parts)
    return out


def _roles_of(texts: list[str]) -> str | None:
    """The role of a column with one or two header rows: a 位次 under anything is skipped, an
    area, indicator or unit column is so named in one row; a value column is not (数值 under
    2023年 is that year's value)."""
    roles = [_column_role(t) for t in texts]
    if "skip" in roles:
        return "skip"
    if len(texts) == 1:
        return roles[0]
    if len(texts) == 2 and roles[0] in ("area", "code", "indicator", "unit", "year") and not roles[1]:
        return roles[0]
    return None


def _column_header(texts: list[str], units: Units) -> tuple[Header, str | None]:
    """One header from a column's header rows: the indicator from the rows that name one (a
    group header), the kind, unit, year and status from any (the sub-header's unit wins)."""
    parts, bad = [], None
    for t in texts:
        h, b = parse_header(t, units)
        if h.unit is None and h.label and units.find(h.label):  # a sub-header that is a unit: 亿元, %
            h.unit, h.label = units.find(h.label), ""
        parts.append(h)
        bad = bad or b
    if len(parts) == 1:
        h = parts[0]
        if h.label in LEVEL_WORDS and h.kind == "level":
            h.label = ""
        return h, bad
    label = "".join(h.label for h in parts if h.label not in LEVEL_WORDS)
    kind = next((h.kind for h in reversed(parts) if h.kind != "level"), "level")
    unit = next((h.unit for h in reversed(parts) if h.unit), None)
    periods = {h.period for h in parts if h.period}
    if len(periods) > 1:
        bad = bad or f"two years ({', '.join(sorted(periods))})"
    status = next((h.status for h in parts if h.status), None)
    if unit == "percentage-point" and kind == "level":
        kind = "difference"
    return Header(None, kind, unit, min(periods) if periods else None, status, label), bad


PART_OF_YEAR = "figures for part of a year (months, a quarter, a half)"
PART_OF_YEAR_FIX = ("import-table reads a year's figures: use the table of the whole year, or reshape it "
                    "for import-csv")
_PART_OF_YEAR = re.compile(r"(?:\d{1,2}|[一二三四五六七八九十]+)(?:[-—~至到](?:\d{1,2}|[一二三四五六七八九十]+))?月|"
                           r"季度|上半年|下半年|前三季")


def _part_of_year(label: str) -> bool:
    """1-12月, 1—9月份, 一季度, 上半年: a column of a month's, quarter's or half-year's figures."""
    return bool(label) and _PART_OF_YEAR.search(label) is not None


#: A cell in Chinese and English, as yearbooks print them (地区生产总值(亿元) Gross Regional Product).
BILINGUAL = re.compile(r"^(.*[\u3400-\u9fff][^A-Za-z]*?)\s+[A-Za-z][^\u3400-\u9fff]*$", re.S)
_CJK = re.compile(r"[\u3400-\u9fff]")


def _zh(text: str) -> str:
    """A header, area or indicator cell's text without the English after its Chinese (never
    applied to values, notes or sources)."""
    m = BILINGUAL.match(text or "")
    return m.group(1).strip() if m else (text or "")


def _is_translation(header: list[Cell], row: list[Cell], units: Units) -> bool:
    """A header row's English translation (Region | Gross Regional Product …) under a Chinese one."""
    cells = _nonempty(row)
    return bool(cells) and any(_CJK.search(c.text) for c in header) \
        and not any(_CJK.search(c.text) for c in cells) \
        and any(re.search(r"[A-Za-z]{2}", c.text) for c in cells) \
        and not any(isinstance(parse_value(c.text, units), Value) and not _year(c.text) for c in cells)


#: Total rows (全省 / 全市 / 合计 …) and the types of area each may be; None: any type.
TOTAL_TYPES = {
    "全省": ("province",),
    "全市": ("prefecture-level city", "province-level municipality", "county-level city"),
    "全区": ("autonomous region", "district"),
    "全州": ("autonomous prefecture",),
    "全盟": ("league",),
    "全县": ("county", "autonomous county"),
    "全旗": ("banner", "autonomous banner"),
    "合计": None, "总计": None, "总体": None,
}


def _total_word(text: str) -> str | None:
    t = _norm(text)
    for suffix in ("合计", "总计"):
        if t.endswith(suffix) and t[: -len(suffix)] in TOTAL_TYPES:
            t = t[: -len(suffix)]
    return t if t in TOTAL_TYPES else None


def _within(a: Area, b: Area, vocab: Vocab) -> bool:
    """Is ``a`` inside ``b`` (its parent, its parent's parent …)?"""
    seen = set()
    while a is not None and a.parent and a.parent not in seen:
        if a.parent == b.code:
            return True
        seen.add(a.parent)
        a = vocab.areas.areas.get(a.parent)
    return False


def _common_parent(out: list, vocab: Vocab) -> tuple[list[Area], Area | None]:
    """The innermost of the areas found (not the country, not one that holds another of them)
    and their one common parent, if they have one."""
    others = {a.code: a for a in out if a is not None and a.type != "country"}
    inner = [a for a in others.values() if not any(b.parent == a.code for b in others.values())]
    parents = sorted({a.parent for a in inner})
    return inner, vocab.areas.areas.get(parents[0]) if len(parents) == 1 else None


def _choose(found: list[Area], vocab: Vocab, scopes: list[Area | None], level: str | None) -> Area | None:
    """One of several areas of one name (鼓楼区: 南京, 徐州, 开封, 福州) by the table's context: the
    one inside the first scope that holds exactly one of them (--area, the title's area, the other
    rows' common parent), else the one at the level of the other rows (all cities, all counties)."""
    for scope in scopes:
        if scope is not None:
            inside = [a for a in found if a.code == scope.code or _within(a, scope, vocab)]
            if len(inside) == 1:
                return inside[0]
    if level:
        same = [a for a in found if a.level == level]
        if len(same) == 1:
            return same[0]
    return None


def _areas_of(cells: list[Cell | None], vocab: Vocab, fixed: Fixed, problems: list[Problem],
              context: Area | None = None) -> list:
    """The area of each row: by code or name, and a total row (全省, 全市, 合计 …) as the one
    area that contains every other area of the table, or --area; else a problem.  A name that
    several areas share (江北区 of 宁波 and 重庆) is the one the table's context picks (``_choose``:
    --area, the title's area ``context``, the other rows' common parent or level); else a problem
    naming the candidates."""
    out: list[Area | None] = [None] * len(cells)
    totals, shared = [], []
    for i, c in enumerate(cells):
        if c is None:
            continue
        word = _total_word(_zh(c.text))
        if word:
            totals.append((i, c, word))
            continue
        found = vocab.areas.find(_zh(c.text))
        if len(found) > 1:
            shared.append((i, c, found))
        else:
            out[i] = _area(c, vocab, problems)
    given = vocab.areas.areas.get(fixed.area) if fixed.area else None
    if shared:
        _, parent = _common_parent(out, vocab)
        levels = {a.level for a in out if a is not None}
        level = levels.pop() if len(levels) == 1 else None
        for i, c, found in shared:
            out[i] = _choose(found, vocab, [given, context, parent], level)
            if out[i] is None:
                _ambiguous(c, found, vocab, problems)
    if not totals:
        return out
    inner, inferred = _common_parent(out, vocab)
    for i, c, word in totals:
        types = TOTAL_TYPES[word]
        fix = f"give --area CODE (the area the {word} row covers), or write that area's name or code for {word}"
        outside = [a for a in inner if not _within(a, given, vocab)] if given is not None else []
        if given is not None:
            if outside:
                problems.append(Problem(c.ref, f"total row {word!r}: --area {given.code} {given.name_zh} does "
                                        f"not contain {outside[0].code} {outside[0].name_zh}",
                                        "drop --area or correct it"))
            elif types and given.type not in types:
                problems.append(Problem(c.ref, f"total row {word!r}: --area {given.code} {given.name_zh} is a "
                                        f"{given.type or 'area of no type'}", fix))
            else:
                out[i] = given
        elif inferred is not None and (types is None or inferred.type in types):
            out[i] = inferred
        else:
            why = (f"the other rows' areas are in {inferred.code} {inferred.name_zh}, a {inferred.type}"
                   if inferred is not None else
                   "the other rows' areas are not all in one area" if inner else "no other row names an area")
            problems.append(Problem(c.ref, f"total row {word!r}: cannot tell which area it covers ({why})", fix))
    return out


def recognise(grid: list[list[Cell]], vocab: Vocab, fixed: Fixed, *, name: str = "table",
              roles: dict[int, str] | None = None) -> list[TableRow]:
    """The facts of a table; raises TableError listing everything it cannot recognise."""
    problems: list[Problem] = []
    fixed = fixed or Fixed()
    if fixed.status and fixed.status not in STATUSES:
        problems.append(Problem("--status", f"{fixed.status!r} is not a status", "use actual, target or expected"))
    if fixed.year and not re.match(r"^(19|20)\d\d$", fixed.year):
        problems.append(Problem("--year", f"{fixed.year!r} is not a year", "give four digits, e.g. --year 2023"))
    if fixed.source and not re.match(r"^https?://\S+$", fixed.source):
        problems.append(Problem("--source", f"{fixed.source!r} is not a URL",
                                "give the address of the page or file the table was published at"))
    if fixed.area and fixed.area not in vocab.areas:
        problems.append(Problem("--area", f"unknown area {fixed.area!r}",
                                "give a GB/T 2260 code from data/vocab (e.g. 330100)"))

    # the header: the first row with two or more filled cells; a 单位：… line above it is kept,
    # a title line (济南市2023年主要经济指标) may give the table's year and area
    table_unit, titles = None, []
    rows = [r for r in grid if _nonempty(r)]
    while rows and len(_nonempty(rows[0])) < 2:
        unit = _unit_line(rows[0], vocab.units)
        if unit is None and _nonempty(rows[0]) and not _is_note(rows[0]):
            titles.append(_nonempty(rows[0])[0])
        table_unit = table_unit or unit
        rows.pop(0)
    while rows and _is_note(rows[-1]):
        rows.pop()
    if not rows:
        raise TableError(Path(name), [Problem(name, "no header row and no data", "give a table with a header row")])
    ctx = _title_context(titles, vocab, fixed, problems)
    header, body = rows[0], rows[1:]
    texts = [[_zh(c.text)] if _norm(c.text) else [] for c in header]
    while body and _is_translation(header, body[0], vocab.units):
        body.pop(0)  # the header in English, as a yearbook prints it under the Chinese
    if roles is None:
        roles = {j: r for j, t in enumerate(texts) if t and (r := _column_role(t[0]))}
        if "value" not in roles.values() and body and _is_subheader(header, body[0], vocab.units):
            # two header rows: a group header (the indicator, spanning its columns) over a
            # sub-header (绝对额(亿元), 比上年增长(%), (万人))
            sub = body.pop(0)
            texts = _spanned_headers(header, sub, vocab.units)
            width = max(len(header), len(sub))
            header = [Cell(" / ".join(t), (header[j] if j < len(header) else sub[j]).ref)
                      for j, t in enumerate(texts[:width])]
            roles = {j: r for j, t in enumerate(texts) if (r := _roles_of(t))}
            while body and _is_translation(header, body[0], vocab.units):
                body.pop(0)

    # a transposed table (指标 | 杭州市 | 宁波市 …): turn it into a wide one
    area_heads = [j for j, c in enumerate(header) if j and _norm(c.text) and vocab.areas.find(_zh(c.text))]
    if not roles.get(0) in ("area", "code") and len(area_heads) >= max(1, len(_nonempty(header)) - 1) \
            and "value" not in roles.values() and all(len(t) <= 1 for t in texts):
        width = max(len(r) for r in rows)
        full = [r + [Cell("", "")] * (width - len(r)) for r in rows]
        cols = [[full[i][j] for i in range(len(full))] for j in range(width)]
        header, body = cols[0], [c for c in cols[1:] if _norm(c[0].text)]
        texts = [[_zh(c.text)] if _norm(c.text) else [] for c in header]
        roles = {0: "area"}
        for j, c in enumerate(header):
            if j and _column_role(c.text) == "skip":
                roles[j] = "skip"

    if "value" in roles.values():
        out = _long(header, body, roles, vocab, fixed, problems, table_unit)
    elif "indicator" in roles.values():
        out = _indicator_rows(header, texts, body, roles, vocab, fixed, problems, table_unit, ctx)
    else:
        out = _wide(header, texts, body, roles, vocab, fixed, problems, table_unit, ctx)
    seen: dict[tuple, str] = {}
    for r in out:
        key = (r.area, r.indicator, r.kind, r.period, r.status, r.vintage)
        if key in seen:
            problems.append(Problem(r.cell, f"the same figure as {seen[key]} (area {r.area}, {r.indicator}, "
                                    f"{r.kind}, {r.period}, {r.status}{', ' + r.vintage if r.vintage else ''})",
                                    "keep one of the two, or give each its vintage (preliminary, revised, "
                                    "final, estimate)"))
        seen.setdefault(key, r.cell)
    if not out and not problems:
        problems.append(Problem(name, "no figures found", "give a table with values under a header row"))
    if problems:
        raise TableError(Path(name), problems)
    return out


def _row_of(ref: str) -> str:
    m = re.search(r"(\d+)$", ref)
    return m.group(1) if m else "?"


def _once(problems: list[Problem], p: Problem) -> None:
    """Add a problem that would otherwise repeat for every cell only once."""
    if not any(q.what == p.what and q.fix == p.fix for q in problems):
        problems.append(p)


def _area(cell: Cell, vocab: Vocab, problems: list[Problem]):
    found = vocab.areas.find(_zh(cell.text))
    if len(found) == 1:
        return found[0]
    if not found:
        problems.append(Problem(cell.ref, f"unknown area {cell.text.strip()!r}",
                                "write its GB/T 2260 code or its full name (苏州市), or add the area "
                                "to data/vocab"))
    else:
        _ambiguous(cell, found, vocab, problems)
    return None


def _ambiguous(cell: Cell, found: list[Area], vocab: Vocab, problems: list[Problem]) -> None:
    def where(a: Area) -> str:
        up = vocab.areas.areas.get(a.parent)
        return f"{a.code} {up.name_zh if up is not None and up.type != 'country' else ''}{a.name_zh}"

    opts = "; ".join(where(a) for a in found)
    problems.append(Problem(cell.ref, f"ambiguous area {cell.text.strip()!r}: {len(found)} areas have "
                            f"this name ({opts})",
                            "write the code (or the full name) in the cell, or give --area CODE of the "
                            "city or province the table is about, or a title line naming it"))


def _year(text: str) -> str | None:
    m = re.match(r"^((?:19|20)\d\d)年?$", _norm(text))
    return m.group(1) if m else None


def _row_unit(h, bad_unit, ic: Cell, uc: Cell, vocab, problems) -> tuple[bool, str | None]:
    """A row's unit: its unit cell ``uc`` when filled, else what its indicator cell ``ic`` names
    (``h``, parsed); (False, None) with a problem when it names an unknown unit."""
    fix = "use a symbol from data/vocab/units.csv (亿元, 万人, %, 个百分点 …)"
    if _norm(uc.text):
        unit = vocab.units.find(uc.text)
        if unit is None:
            problems.append(Problem(uc.ref, f"unknown unit {uc.text.strip()!r}", fix))
            return False, None
        return True, unit
    if bad_unit is not None:
        problems.append(Problem(ic.ref, f"unknown unit {bad_unit!r}", fix))
        return False, None
    return True, h.unit


def _indicator(h: Header, vocab: Vocab, where: str, text: str, problems: list[Problem]) -> str | None:
    found = vocab.indicators.find(h.label)
    if len(found) == 1:
        return found[0]
    if not found:
        problems.append(Problem(where, f"unknown indicator {text.strip()!r}",
                                f"name it by a label of the indicator scheme, or add {h.label!r} to the "
                                "alt_labels of its indicator (data/…/*.indicators.csv)"))
    else:
        problems.append(Problem(where, f"{text.strip()!r} names several indicators ({', '.join(found)})",
                                "use a more specific label"))
    return None


def _merge(where: str, what: str, fixed_value: str | None, table_value: str | None,
           problems: list[Problem], option: str) -> str | None:
    if fixed_value and table_value and fixed_value != table_value:
        _once(problems, Problem(where, f"the table says {what} {table_value}, {option} says {fixed_value}",
                                f"drop {option} or correct the table"))
    return table_value or fixed_value


def _make(vocab, fixed, problems, *, area, ind, kind, period, status, cell: Cell, header_unit,
          table_unit, source="", vintage="", qualifier=None, note="", quote="") -> TableRow | None:
    if _norm(cell.text) in NO_DATA:
        return None
    v = parse_value(cell.text, vocab.units)
    if isinstance(v, str):
        problems.append(Problem(cell.ref, f"value {cell.text.strip()!r}: {v}",
                                "write a number, optionally with 约/超/近/以上/左右 … and a unit"))
        return None
    unit = v.unit or header_unit or ("percent" if kind in ("growth", "decline") else table_unit)
    if unit is None:
        problems.append(Problem(cell.ref, f"value {cell.text.strip()!r} has no unit",
                                "put the unit in the header in brackets, e.g. 地区生产总值（亿元）"))
        return None
    if kind in ("growth", "decline") and unit != "percent":
        problems.append(Problem(cell.ref, f"a {kind} rate in {vocab.units.symbols.get(unit, unit)}",
                                "growth and decline are in %; a difference in 个百分点 is its own column"))
        return None
    if v.number.startswith("-") and kind not in ("growth", "difference"):
        problems.append(Problem(cell.ref, f"a negative {kind} ({cell.text.strip()})",
                                "only a growth rate or a difference may be negative; a fall is a 下降 column"))
        return None
    if qualifier and v.qualifier != "exact" and qualifier != v.qualifier:
        problems.append(Problem(cell.ref, f"qualifier {qualifier} in its column, {v.qualifier} in the cell",
                                "keep one"))
        return None
    if not period:
        _once(problems, Problem(cell.ref, "no year for the figures",
                                "give --year, a 年份 column or a year in the header (2023年地区生产总值)"))
        return None
    if ind is None or area is None:
        return None
    vintage_text = vintage or fixed.vintage or ""
    vin, date = read_vintage(vintage_text)
    if vintage_text and not vin and not date and vintage_text == fixed.vintage:
        _once(problems, Problem("--vintage", f"{vintage_text!r} is neither a vintage nor a date",
                                "give preliminary, revised, final, estimate or a date (2024-03-21)"))
        return None
    if vintage_text and vintage_text not in (vin, date):  # the release as written, kept
        note = f"{note}; release: {vintage_text}" if note else f"release: {vintage_text}"
    return TableRow(area.code, area.name_zh, ind, kind, period, v.number, unit,
                    v.qualifier if v.qualifier != "exact" else (qualifier or "exact"),
                    status or "actual", source or fixed.source or "", vin,
                    cell.ref, cell.text if cell.written is None else cell.written, note, date, quote)


#: Words that say which release a figure is (the dataset format's vintage: preliminary, revised,
#: final, estimate); a figure a government work report gives before the bureau's release (预计)
#: is an estimate, never final.
VINTAGE_WORDS = (("preliminary", "preliminary"), ("初步核算", "preliminary"), ("初步", "preliminary"),
                 ("revised", "revised"), ("修订", "revised"), ("最终核实", "final"),
                 ("final", "final"), ("决算", "final"), ("estimate", "estimate"), ("预计", "estimate"),
                 ("预估", "estimate"))
DATE_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d\d-[01]\d-[0-3]\d)(?!\d)")


def read_vintage(text: str) -> tuple[str, str]:
    """A vintage as a table writes it -> (preliminary|revised|final|estimate or '', a date or '').

    The word must open the text (``preliminary (初步核算); 北京市2023年统计公报``) or be the
    Chinese word in its first bracket; the date is the first YYYY-MM-DD in it."""
    t = unicodedata.normalize("NFKC", text or "").strip()
    low = t.casefold()
    vintage = ""
    for word, v in VINTAGE_WORDS:
        if low.startswith(word):
            vintage = v
            break
    m = DATE_IN_TEXT.search(t)
    return vintage, (m.group(1) if m else "")


def _where(cell: Cell) -> str:
    return f"column {cell.ref.rstrip('0123456789')} “{cell.text.strip()}”"


def _wide(header, texts, body, roles, vocab, fixed, problems, table_unit, ctx: Context) -> list[TableRow]:
    area_col = next((j for j, r in roles.items() if r == "code"), None)
    if area_col is None:
        area_col = next((j for j, r in roles.items() if r == "area"), None)
    year_col = next((j for j, r in roles.items() if r == "year"), None)
    one_area = vocab.areas.areas.get(fixed.area) if fixed.area else ctx.area
    if area_col is None and one_area is None:
        if header and not _norm(header[0].text):
            area_col = 0  # an unnamed first column holds the areas
        else:
            problems.append(Problem(f"row {_row_of(header[0].ref)}",
                                    "no area column (地区, 城市, 代码 …)",
                                    "name the area column 地区 or give --area CODE for a one-area table"))
    area_cells = [row[area_col] if area_col is not None and area_col < len(row) and _norm(row[area_col].text)
                  else None for row in body]
    scope = None  # --area with an area column and no total row: the area the table's rows are in
    if area_col is not None and fixed.area and not any(c is not None and _total_word(c.text) for c in area_cells):
        scope = vocab.areas.areas.get(fixed.area)
    cols: dict[int, Header] = {}
    last_ind = None
    for j, c in enumerate(header):
        if j in roles or j == area_col or j >= len(texts) or not texts[j]:
            continue
        h, bad_unit = _column_header(texts[j], vocab.units)
        where = _where(c)
        if bad_unit is not None:
            problems.append(Problem(where, f"unknown unit {bad_unit!r}",
                                    "use a symbol from data/vocab/units.csv (亿元, 万人, %, 个百分点 …)"))
        if _part_of_year(h.label):
            problems.append(Problem(where, PART_OF_YEAR, PART_OF_YEAR_FIX))
            continue
        if h.label == "" and h.kind in ("growth", "decline", "share", "difference"):
            h.indicator = last_ind  # 增长(%) after 地区生产总值（亿元）
            if last_ind is None:
                problems.append(Problem(where, "a growth column with no indicator column before it",
                                        "write the indicator in the header, e.g. 地区生产总值增长（%）"))
                continue
        else:
            h.indicator = _indicator(h, vocab, where, c.text, problems)
            if h.indicator is not None:
                last_ind = h.indicator
        cols[j] = h
    out = []
    areas = _areas_of(area_cells, vocab, fixed, problems, ctx.area) if area_col is not None \
        else [one_area] * len(body)
    for c, a in zip(area_cells, areas):
        if scope is not None and a is not None and a.code != scope.code and not _within(a, scope, vocab):
            problems.append(Problem(c.ref, f"--area {scope.code} {scope.name_zh} does not contain "
                                    f"{a.code} {a.name_zh}", "drop --area or correct it"))
    for row, area in zip(body, areas):
        if area_col is not None and (area_col >= len(row) or not _norm(row[area_col].text)):
            if any(_norm(c.text) for c in row):
                problems.append(Problem(f"row {_row_of(row[0].ref)}", "no area in this row",
                                        "fill in the area"))
            continue
        row_year = None
        if year_col is not None and year_col < len(row):
            row_year = _year(row[year_col].text)
            if row_year is None:
                problems.append(Problem(row[year_col].ref, f"{row[year_col].text!r} is not a year", "write 2023 or 2023年"))
                continue
        for j, h in cols.items():
            if j >= len(row):
                continue
            period = _merge(row[j].ref, "the year", fixed.year, h.period or row_year, problems, "--year") or ctx.year
            status = _merge(row[j].ref, "the status", fixed.status, h.status, problems, "--status")
            r = _make(vocab, fixed, problems, area=area, ind=h.indicator, kind=h.kind, period=period,
                      status=status, cell=row[j], header_unit=h.unit, table_unit=table_unit)
            if r:
                out.append(r)
    return out


#: Marks before an indicator in a row of a bulletin's table: 其中：, #, 1., 一、, (1).
ITEM_MARK = re.compile(r"^(?:其中[:：]?|[#＃]|\d+[.、]|[一二三四五六七八九十]+[、.]|[(][一二三四五六七八九十\d]+[)])+")


def _indicator_rows(header, texts, body, roles, vocab, fixed, problems, table_unit, ctx: Context) -> list[TableRow]:
    """A row per indicator (a statistical bulletin's appendix table): 指标 | 单位 | 2023年 |
    比上年增长(%); value columns headed by a year or by 绝对额/本年/数值, growth columns by
    比上年增长/增速; the area from --area, a title line or an area column."""
    col = {}
    for j, r in roles.items():
        col.setdefault(r, j)
    ind_col, unit_col = col["indicator"], col.get("unit")
    area_col = col.get("code", col.get("area"))
    one_area = vocab.areas.areas.get(fixed.area) if fixed.area else ctx.area
    start = len(problems)
    cols: dict[int, Header] = {}
    area_heads: dict[int, Cell] = {}  # 指标 | 单位 | 南京市 | 无锡市: a column per area
    for j, c in enumerate(header):
        if j in roles or j >= len(texts) or not texts[j]:
            continue
        h, bad_unit = _column_header(texts[j], vocab.units)
        where = _where(c)
        if h.label and (_total_word(h.label) or vocab.areas.find(h.label)):
            area_heads[j], h.label = Cell(h.label, c.ref), ""
        if bad_unit is not None:
            problems.append(Problem(where, f"unknown unit {bad_unit!r}",
                                    "use a symbol from data/vocab/units.csv (亿元, 万人, %, 个百分点 …)"))
        elif h.label in ("上年", "上年同期", "去年"):
            problems.append(Problem(where, "a column of the previous year's figures with no year",
                                    "write its year in the header (2022年), or delete the column"))
        elif _part_of_year(h.label):
            problems.append(Problem(where, PART_OF_YEAR, PART_OF_YEAR_FIX))
        elif h.label or h.kind not in ("level", "growth", "decline"):
            problems.append(Problem(where, f"{c.text.strip()!r} is neither a year (2023年), a value (绝对额, "
                                    "本年, 数值), an area nor a growth column (比上年增长(%), 增速)",
                                    "rename the column, or delete it"))
        else:
            cols[j] = h
    col_areas = dict(zip(area_heads, _areas_of(list(area_heads.values()), vocab, fixed, problems, ctx.area)))
    if area_heads and fixed.area and not any(_total_word(c.text) for c in area_heads.values()):
        problems.insert(start, Problem("--area", "the table has a column per area and no total column "
                                       "(全省, 全市, 合计 …) for --area to name", "drop --area"))
    elif area_col is None and one_area is None and not area_heads:
        problems.insert(start, Problem(f"row {_row_of(header[0].ref)}", "a table of indicators with no area",
                                       "give --area CODE, or a title line naming the area (济南市2023年主要经济指标)"))
    years = sorted({h.period for h in cols.values() if h.kind == "level" and h.period})
    # the year of a growth column: its own, --year, the title's, or the one year column's
    growth_year = fixed.year or ctx.year or (years[0] if len(years) == 1 else None)
    out = []
    for row in body:
        def at(j):
            return row[j] if j is not None and j < len(row) else Cell("", "")

        figures = [at(j) for j in cols]
        if all(_norm(c.text) in NO_DATA for c in figures):
            continue  # a heading (一、农业) or an indicator with no figure: nothing to import
        ic = at(ind_col)
        if not _norm(ic.text):
            problems.append(Problem(f"row {_row_of(row[0].ref)}", "figures with no indicator", "fill in the indicator"))
            continue
        area = one_area
        if area_col is not None and not area_heads:
            ac = at(area_col)
            area = _areas_of([ac], vocab, fixed, problems, ctx.area)[0] if _norm(ac.text) else one_area
            if area is None and not _norm(ac.text):
                problems.append(Problem(f"row {_row_of(row[0].ref)}", "no area in this row", "fill in the area"))
                continue
        rh, bad_unit = parse_header(ITEM_MARK.sub("", _norm(_zh(ic.text))), vocab.units)
        ok, row_unit = _row_unit(rh, bad_unit, ic, at(unit_col), vocab, problems)
        if not ok:
            continue
        ind = _indicator(rh, vocab, ic.ref, ic.text, problems)
        for j, h in cols.items():
            c = at(j)
            col_area = col_areas.get(j, area)
            if h.kind == "level":
                kind, unit, year = rh.kind, row_unit, h.period
            else:
                kind, unit, year = h.kind, h.unit or "percent", h.period
                if rh.kind != "level" and _norm(c.text) not in NO_DATA:
                    problems.append(Problem(c.ref, f"a {h.kind} column for the {rh.kind} row {ic.text.strip()!r}",
                                            "leave the cell blank, or give the row's level in its own row"))
                    continue
            period = _merge(c.ref, "the year", fixed.year, year, problems, "--year") or \
                (ctx.year if h.kind == "level" else growth_year)
            status = _merge(c.ref, "the status", fixed.status, h.status or rh.status, problems, "--status")
            r = _make(vocab, fixed, problems, area=col_area, ind=ind, kind=kind, period=period, status=status,
                      cell=c, header_unit=unit, table_unit=table_unit)
            if r:
                out.append(r)
    return out


def _long(header, body, roles, vocab, fixed, problems, table_unit) -> list[TableRow]:
    col = {}
    for j, r in roles.items():
        col.setdefault(r, j)
    area_col = col.get("code", col.get("area"))
    if area_col is None and not fixed.area:
        problems.append(Problem("header", "no area column (地区, 城市, 代码 …)",
                                "add a 地区 column or give --area CODE"))
    if "indicator" not in col:
        problems.append(Problem("header", "no indicator column (指标)", "add a 指标 column"))
        return []
    fixed_area = vocab.areas.areas.get(fixed.area) if fixed.area else None
    out = []

    def get(row, role):
        j = col.get(role)
        return row[j] if j is not None and j < len(row) else Cell("", "")

    body = [row for row in body if any(_norm(c.text) for c in row)]
    areas = _areas_of([get(row, "code") if "code" in col else get(row, "area") for row in body],
                      vocab, fixed, problems) if area_col is not None else [fixed_area] * len(body)
    for row, area in zip(body, areas):
        ic = get(row, "indicator")
        h, bad_unit = parse_header(ic.text, vocab.units)
        ok, unit = _row_unit(h, bad_unit, ic, get(row, "unit"), vocab, problems)
        if not ok:
            continue
        ind = _indicator(h, vocab, ic.ref, ic.text, problems)
        kind = h.kind
        kc = get(row, "kind")
        if _norm(kc.text):
            kind = _norm(kc.text).casefold()
            if kind not in KINDS:
                kh, _ = parse_header(kc.text, vocab.units)
                kind = kh.kind if kh.label == "" else None
            if kind is None:
                problems.append(Problem(kc.ref, f"kind {kc.text.strip()!r}", f"use one of {', '.join(KINDS)}"))
                continue
        qc = get(row, "qualifier")
        qualifier = QUALIFIER_VALUES.get(_norm(qc.text).casefold()) if _norm(qc.text) else None
        if _norm(qc.text) and qualifier is None:
            problems.append(Problem(qc.ref, f"qualifier {qc.text.strip()!r}",
                                    "use 约/超/近/以上/左右 … or exact, about, over, nearly, at-least, at-most, more-than"))
            continue
        sc = get(row, "status")
        st = h.status
        if _norm(sc.text):
            st = STATUS_VALUES.get(_norm(sc.text).casefold())
            if st is None:
                problems.append(Problem(sc.ref, f"status {sc.text.strip()!r}", "use actual, target or expected (实际, 目标, 预计)"))
                continue
        yc = get(row, "year")
        year = h.period
        if _norm(yc.text):
            year = _year(yc.text)
            if year is None:
                problems.append(Problem(yc.ref, f"{yc.text.strip()!r} is not a year", "write 2023 or 2023年"))
                continue
        vc = get(row, "value")
        period = _merge(vc.ref, "the year", fixed.year, year, problems, "--year")
        status = _merge(vc.ref, "the status", fixed.status, st, problems, "--status")
        source = get(row, "source").text.strip()
        r = _make(vocab, fixed, problems, area=area, ind=ind, kind=kind, period=period, status=status,
                  cell=vc, header_unit=unit, table_unit=table_unit, source=source,
                  vintage=get(row, "vintage").text.strip(), qualifier=qualifier,
                  note=get(row, "note").text.strip(), quote=get(row, "quote").text.strip())
        if r:
            out.append(r)
    return out


# ------------------------------------------------------------------ CSV on the Web

#: What a CSVW column's propertyUrl (or name) says it holds.
CSVW_ROLES = {
    "ep:refArea": "code", "ep:indicator": "indicator", "ep:value": "value", "ep:valueText": "value",
    "ep:unit": "unit", "ep:refPeriod": "year", "ep:kind": "kind", "ep:qualifier": "qualifier",
    "ep:status": "status", "dcterms:source": "source", "ep:vintage": "vintage", "rdfs:comment": "note",
}


def csvw_metadata_for(path: Path) -> Path | None:
    """The CSVW metadata describing ``path``: the file itself (*.json) or ``path-metadata.json``
    or ``csv-metadata.json`` beside it (the locations CSVW defines)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return path
    for cand in (path.with_name(path.name + "-metadata.json"), path.with_name("csv-metadata.json")):
        if cand.exists():
            return cand
    return None


def read_csvw(meta: Path, vocab: Vocab, fixed: Fixed) -> list[TableRow]:
    """A CSVW-described table: dialect, encoding, nulls and datatypes from its metadata;
    each column's role from its propertyUrl (ep:refArea …), its name or its titles."""
    from csvw import Table, TableGroup

    meta = Path(meta)
    try:
        desc = json.loads(meta.read_text(encoding="utf-8"))
        tg = TableGroup.from_file(meta) if "tables" in desc else None
        tables = tg.tables if tg is not None else [Table.from_file(meta)]
    except Exception as exc:  # the csvw package raises ValueError, KeyError, JSONDecodeError …
        raise TableError(meta, [Problem(meta.name, f"not readable CSVW metadata ({type(exc).__name__}: {exc})",
                                           "check the JSON against https://www.w3.org/TR/tabular-metadata/")]) from None
    rows: list[TableRow] = []
    for table in tables:
        cols = table.tableSchema.columns
        header, roles = [], {}
        for j, c in enumerate(cols):
            titles = c.titles.getfirst() if c.titles else None
            prop = _curie(str(c.propertyUrl)) if c.propertyUrl else ""
            role = CSVW_ROLES.get(prop) or _column_role(c.name or "") or (_column_role(titles) if titles else None)
            if role:
                roles[j] = role
            header.append(Cell(titles or c.name or "", f"{_col_letter(j)}1"))
        body = []
        raw = _csvw_raw_rows(table)
        try:
            for i, (fname, lineno, rec) in enumerate(table.iterdicts(with_metadata=True, strict=False)):
                cells = []
                for j, c in enumerate(cols):
                    v = rec.get(c.name)
                    written = raw.get(lineno, [])
                    cells.append(Cell("" if v is None else _csvw_text(v), f"{_col_letter(j)}{lineno}",
                                      written[j] if j < len(written) else None))
                body.append(cells)
        except Exception as exc:
            raise TableError(meta, [Problem(str(table.url), f"{type(exc).__name__}: {exc}",
                                               "make the CSV agree with its metadata (datatypes, null, dialect)")]) from None
        table_fixed = fixed
        declared = _declared_source(table.common_props) or _declared_source(getattr(tg, "common_props", {}))
        if declared and not fixed.source:  # the metadata's dc:source, when the command line gives none
            table_fixed = Fixed(fixed.year, fixed.status, declared, fixed.area, fixed.vintage)
        rows.extend(recognise([header] + body, vocab, table_fixed, name=str(meta), roles=roles))
    return rows


def _csvw_raw_rows(table) -> dict[int, list[str]]:
    """The table's rows as the file writes them (the cells before datatypes and null apply),
    read with the metadata's dialect through the csvw package's own reader; {} if it cannot."""
    import contextlib

    try:
        with contextlib.ExitStack() as stack:
            reader = table._get_csv_reader(table.url.resolve(table.base), table._get_dialect(), stack)
            return {lineno: list(row) for lineno, row in reader}
    except Exception:  # a private API of the csvw package: without it, the parsed values stand
        return {}


def _declared_source(props: dict) -> str | None:
    for key in ("dc:source", "dcterms:source", "http://purl.org/dc/terms/source"):
        v = (props or {}).get(key)
        v = v.get("@id") or v.get("@value") if isinstance(v, dict) else v
        if isinstance(v, str) and re.match(r"^https?://\S+$", v):
            return v
    return None


def _curie(iri: str) -> str:
    for prefix, ns in (("ep", "https://w3id.org/econplan/def#"), ("dcterms", "http://purl.org/dc/terms/"),
                       ("rdfs", "http://www.w3.org/2000/01/rdf-schema#")):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _csvw_text(v) -> str:
    from decimal import Decimal

    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, list):
        return " ".join(map(str, v))
    return str(v)


_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def export_csvw(kg, out_dir: Path) -> list[Path]:
    """Every fact of the store as ``facts.csv`` plus CSVW metadata (``facts.csv-metadata.json``)."""
    out_dir = Path(out_dir)
    rows = kg.select("""
        SELECT ?fact ?area ?areaZh ?ind ?indZh ?kind ?period ?value ?text ?unit ?sym ?q ?status ?source ?vintage ?ds WHERE {
          VALUES ?type { ep:Observation ep:Target }
          ?fact a ?type ; ep:refArea ?a ; ep:indicator ?i ; ep:kind ?k ; ep:refPeriod ?period ;
                ep:unit ?u ; ep:qualifier ?qq ; ep:status ?s .
          OPTIONAL { ?fact ep:value ?value }
          OPTIONAL { ?fact ep:valueText ?text }
          OPTIONAL { ?fact qb:dataSet ?ds }
          OPTIONAL { ?fact dcterms:source ?source }
          OPTIONAL { ?fact ep:vintage ?vintage }
          OPTIONAL { ?a rdfs:label ?areaZh FILTER(lang(?areaZh) = 'zh') }
          OPTIONAL { ?i rdfs:label ?indZh FILTER(lang(?indZh) = 'zh') }
          OPTIONAL { ?u ep:symbol ?sym }
          BIND(STRAFTER(STR(?a), '/district/') AS ?area)
          BIND(STRAFTER(STR(?i), '/indicator/') AS ?ind)
          BIND(STRAFTER(STR(?k), '#') AS ?kind)
          BIND(STRAFTER(STR(?u), '/unit/') AS ?unit)
          BIND(STRAFTER(STR(?s), '#') AS ?status)
          OPTIONAL { ?qq skos:notation ?q }
        } ORDER BY ?fact""")
    seen, lines = set(), []
    for r in rows:
        key = r["fact"].value
        if key in seen:  # a fact with two sources or labels: keep the first, as a table has one cell
            continue
        seen.add(key)
        get = lambda k: r[k].value if k in r and r[k] is not None else ""  # noqa: E731
        # `value` holds the digits as written when the report writes digits (20059, 5.0), else the
        # number the words write (二十 -> 20); `value_text` is always the value exactly as written
        digits = get("text") if _DECIMAL.fullmatch(get("text")) else get("value")
        lines.append([key, get("area"), get("areaZh"), get("ind"), get("indZh"), get("kind"), get("period"),
                      digits, get("text"), get("unit"), get("sym"), get("q"), get("status"), get("source"),
                      get("vintage").rsplit("#", 1)[-1], get("ds")])  # ep:preliminary -> preliminary
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "facts.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([c[0] for c in CSVW_COLUMNS])
        w.writerows(lines)
    meta = {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "dc:title": [{"@value": "经济计划知识图谱的数值事实", "@language": "zh"},
                     {"@value": "econplan facts", "@language": "en"}],
        "dc:description": [{"@value": "经济计划知识图谱中的全部数值事实,数值按原文照录。", "@language": "zh"},
                           {"@value": "Every figure of the econplan knowledge graph, each value as written.",
                            "@language": "en"}],
        "dialect": {"encoding": "utf-8", "header": True, "delimiter": ","},
        "tables": [{
            "url": "facts.csv",
            "tableSchema": {
                "columns": [_csvw_column(*c) for c in CSVW_COLUMNS],
                "primaryKey": "fact",
                "aboutUrl": "{+fact}",
            },
        }],
    }
    meta_path = out_dir / "facts.csv-metadata.json"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [csv_path, meta_path]


ID = "https://w3id.org/econplan/id/"
DEF = "https://w3id.org/econplan/def#"
#: name, zh title, en title, datatype, propertyUrl, valueUrl
CSVW_COLUMNS = [
    ("fact", "事实", "fact", "anyURI", None, None),
    ("area", "地区代码", "area code", "string", DEF + "refArea", ID + "district/{area}"),
    ("area_zh", "地区", "area", "string", "http://www.w3.org/2000/01/rdf-schema#label", None),
    ("indicator", "指标代码", "indicator", "string", DEF + "indicator", ID + "indicator/{indicator}"),
    ("indicator_zh", "指标", "indicator name", "string", None, None),
    ("kind", "类型", "kind", "string", DEF + "kind", DEF + "{kind}"),
    ("period", "年份", "year", "gYear", DEF + "refPeriod", None),
    ("value", "数值", "value", "decimal", DEF + "value", None),
    ("value_text", "原文数值", "value as written", "string", DEF + "valueText", None),
    ("unit", "单位代码", "unit", "string", DEF + "unit", ID + "unit/{unit}"),
    ("unit_symbol", "单位", "unit symbol", "string", None, None),
    ("qualifier", "限定词", "qualifier", "string", DEF + "qualifier", None),
    ("status", "状态", "status", "string", DEF + "status", DEF + "{status}"),
    ("source", "来源", "source", "string", "http://purl.org/dc/terms/source", None),
    ("vintage", "版本", "vintage", "string", DEF + "vintage", None),
    ("dataset", "数据集", "dataset", "anyURI", "http://purl.org/linked-data/cube#dataSet", None),
]


def _csvw_column(name, zh, en, datatype, prop, value_url) -> dict:
    col = {"name": name, "titles": {"zh": [zh], "en": [en]}, "datatype": datatype}
    if name in ("fact", "area_zh", "indicator_zh", "unit_symbol"):
        col["suppressOutput"] = name == "fact"
    if prop:
        col["propertyUrl"] = prop
    if value_url:
        col["valueUrl"] = value_url
    return col


# ------------------------------------------------------------------ import: rows -> data/ and the store

def read_any(path: Path, vocab: Vocab, fixed: Fixed) -> list[TableRow]:
    """Any supported table: CSVW-described, .xlsx, or CSV."""
    path = Path(path)
    if not path.exists():
        raise TableError(path, [Problem(path.name, "no such file", "check the path")])
    meta = csvw_metadata_for(path)
    if meta is not None:
        return read_csvw(meta, vocab, fixed)
    grid, _ = read_grid(path, fixed.sheet)
    return recognise(grid, vocab, fixed, name=str(path))


def render_rows(rows: list[TableRow]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ROW_COLUMNS)
    for r in rows:
        w.writerow(r.as_csv_row())
    return buf.getvalue()


def render_mapping(slug: str, published: str, original: str) -> str:
    """The mapping that tells the build how to read the rows file (see server/kg/citycsv.py)."""
    import yaml

    m = {
        "dataset": {
            "slug": slug,
            "title": {"zh": f"数据表 {original}", "en": f"Table {original}"},
            "description": {"zh": f"由 econplan import-table 从 {original} 导入,数值与限定词按原表记录。",
                            "en": f"Imported by econplan import-table from {original}; values and "
                                  "qualifiers as the table writes them."},
            "published": f"published/{published}",
        },
        "columns": {k: k for k in ("indicator", "kind", "period", "value", "unit", "qualifier", "status",
                                   "source", "vintage", "date", "note", "quote")} | {"area": "gb2260"},
        "defaults": {"status": "actual", "qualifier": "exact", "kind": "level"},
    }
    head = ("# Written by `econplan import-table`: how the build reads the rows file beside it\n"
            "# (server/kg/citycsv.py). The published table is kept in published/.\n")
    return head + yaml.safe_dump(m, allow_unicode=True, sort_keys=False)


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _mapping_slug(path: Path) -> str | None:
    import yaml

    try:
        return str(((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("dataset") or {}).get("slug"))
    except (OSError, yaml.YAMLError, AttributeError):
        return None


@dataclass
class ImportResult:
    rows: list[TableRow]
    files: list[Path]
    graph: str
    added: int = 0
    removed: int = 0
    triples: int = 0


def dataset_folder(root: Path, rows: list[TableRow], fixed: Fixed, vocab: Vocab, slug: str) -> Path:
    """Where a table's dataset goes: ``data/<area-slug>/<dataset-slug>/``, the area being the
    table's one area; a table of several areas (also one whose total row ``--area`` names)
    goes under ``data/china/``."""
    codes = {r.area for r in rows} or {fixed.area}
    area = vocab.areas.areas.get(next(iter(codes))) if len(codes) == 1 else None
    return Path(root) / "data" / ((area.slug if area and area.slug else "china")) / slug


def import_table(root: Path, target, path: Path, fixed: Fixed, *, dataset: str | None = None,
                 replace: bool = False, vocab: Vocab | None = None) -> ImportResult:
    """Recognise ``path``, write it as a dataset ``data/<area-slug>/<dataset-slug>/`` (the folder
    the build reads, :func:`dataset_folder`) and load it through the SHACL gate. Raises
    TableError (nothing written) or ValidationFailed (nothing written)."""
    import pyoxigraph as ox

    from .build import SOURCE_DATA, graph_iri
    from .build import described_by_datasets
    from .citycsv import Lookups, csv_to_quads, dataset_base, file_key
    from .curation import load_areas
    from .writes import load

    root, path = Path(root), Path(path)
    vocab = vocab or load_vocab(root / "data")
    slug = dataset or re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    problems = []
    if not SLUG_RE.match(slug or ""):
        problems.append(Problem("--dataset", f"{(dataset or path.stem)!r} cannot name a dataset",
                                "give --dataset NAME (lower-case a-z, 0-9 and '-')"))
    taken = [p for p in sorted((root / "data").glob(f"*/{slug}")) if slug and p.is_dir()
             and p.parent.name not in ("vocab", "sources", "drafts", "source")]
    for other in taken if not replace else []:
        problems.append(Problem("--dataset", f"data/{other.relative_to(root / 'data').as_posix()}/ "
                                f"already holds a dataset named {slug!r}",
                                "choose another --dataset name, or give --replace to replace it"))
    try:
        rows = read_any(path, vocab, fixed)
    except TableError as exc:
        raise TableError(path, problems + exc.problems) from None
    folder = dataset_folder(root, rows, fixed, vocab, slug)
    for other in taken if replace else []:
        if other != folder:
            problems.append(Problem("--dataset", f"--replace: the dataset {slug!r} is in "
                                    f"data/{other.relative_to(root / 'data').as_posix()}/, this table "
                                    f"goes to data/{folder.relative_to(root / 'data').as_posix()}/",
                                    "remove the old folder by hand, or choose another --dataset name"))
    if problems:
        raise TableError(path, problems)

    rows_path = folder / f"{slug}.csv"
    published_name = f"{slug}{''.join(path.suffixes[-1:]).lower()}"
    if path.suffix.lower() == ".json" or csvw_metadata_for(path):
        published_name = f"{slug}-csvw"
    tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=root / "data"))  # moved in place once loaded
    try:
        (tmp / rows_path.name).write_text(render_rows(rows), encoding="utf-8")
        mapping_text = render_mapping(slug, published_name, path.name)
        (tmp / f"{slug}.mapping.yaml").write_text(mapping_text, encoding="utf-8")
        pub = tmp / "published"
        pub.mkdir()
        meta = csvw_metadata_for(path)
        if meta is not None:  # keep the metadata and the tables it describes
            (pub / published_name).mkdir()
            shutil.copy2(meta, pub / published_name / meta.name)
            for t in json.loads(meta.read_text(encoding="utf-8")).get("tables", []) or \
                    [json.loads(meta.read_text(encoding="utf-8"))]:
                src = meta.parent / t.get("url", "")
                if t.get("url") and src.is_file():
                    shutil.copy2(src, pub / published_name / Path(t["url"]).name)
        else:
            shutil.copy2(path, pub / published_name)
        import yaml

        mapping = yaml.safe_load(mapping_text)
        lookups = Lookups(
            {**{s: s for s in vocab.units.symbols}, **{sym: s for s, sym in vocab.units.symbols.items()},
             **vocab.units.aliases},
            {s: (sym, vocab.units.labels_en[s]) for s, sym in vocab.units.symbols.items()},
            {c: (a.name_zh, a.name_en) for c, a in vocab.areas.areas.items()},
            {s: (t.label_zh, t.label_en) for s, t in vocab.indicators.terms.items()},
            described_here=described_by_datasets(*load_areas(root / "data")))
        graph = graph_iri(root, rows_path).value
        area_slug, ds_slug = folder.parent.name, folder.name
        quads = csv_to_quads(tmp / rows_path.name, mapping, lookups, ox.NamedNode(graph),
                             file_iri=SOURCE_DATA + rows_path.relative_to(root / "data").as_posix(),
                             base=dataset_base(area_slug, ds_slug), key=file_key(rows_path))
        result = load(target, quads, graph=graph, replace=True)
        if folder.exists():  # --replace: the earlier import goes
            shutil.rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(folder)
        tmp = folder.parent / "-"  # nothing left to clean up
        files = [rows_path, folder / f"{slug}.mapping.yaml", folder / "published" / published_name]
        return ImportResult(rows, files, graph, result.added, result.removed, result.triples)
    finally:
        if tmp.name.startswith(".import-"):
            shutil.rmtree(tmp, ignore_errors=True)
