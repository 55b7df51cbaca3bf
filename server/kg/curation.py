"""Curated CSV files -> checked Python records.

The curated data lives in ``data/`` as CSV files that a person can review in a
diff (see ``data/README.md`` for the columns).  This module reads them and
checks everything that can be checked without RDF: unknown columns, unknown
units or indicators, a mention that is not in its passage, a value that is not
in its mention, duplicate ids.  Every problem is a :class:`~server.kg.errors.DataError`
naming the file and line.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import DataError
from .source import Passage, clean, passages

KINDS = ("level", "growth", "decline", "share", "count", "ratio-to-plan", "rank", "difference")
QUALIFIERS = ("exact", "at-least", "over", "nearly", "about", "more-than", "at-most")
STATUSES = ("actual", "target", "expected", "design")
#: What a rank (or a "first") is among: the province, the nation, provincial capitals and
#: sub-provincial cities.
SCOPES = ("province", "nation", "capitals")
#: What an entity is (the ``kind`` column); the ``type`` column is its IRI path, which is the
#: kind for every entity except a few early rows kept under ``policy/`` or ``project/``.
ENTITY_KINDS = ("project", "programme", "policy", "pilot", "platform", "organization", "event",
                "zone", "domain", "workarea")
ENTITY_TYPES = ENTITY_KINDS
#: Named things (everything but the report's own structure: domains and work areas).
NAMED_KINDS = ENTITY_KINDS[:8]
PARTS = ("review", "plan", "both")
#: Paragraphs from p038 on are the 2024 plan; p003-p037 review 2023.
PLAN_FROM_PARAGRAPH = 38
PLAN_STATUSES = ("", "met", "unmet")
AREA_LEVELS = ("country", "province", "prefecture", "county")

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DECIMAL_RE = re.compile(r"^\d+(\.\d+)?$")
YEAR_RE = re.compile(r"^(19|20)\d\d$")
GB2260_RE = re.compile(r"^\d{6}$")


@dataclass
class Row:
    path: Path
    line: int
    data: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return (self.data.get(key) or "").strip()

    def error(self, message: str) -> DataError:
        return DataError(f"{self.path}:{self.line}: {message}", path=str(self.path), line=self.line)


COLUMNS = {
    "facts": ("id", "passage", "mention", "value", "value_text", "unit", "kind", "qualifier", "status",
              "period", "indicator", "about", "area", "cumulative", "scope", "note"),
    "indicators": ("slug", "label_zh", "label_en", "broader", "wikidata", "plan_2023",
                   "reason_zh", "reason_en", "reason_passage", "note", "alt_labels"),
    "entities": ("type", "kind", "slug", "label_zh", "alt_labels", "label_en", "passage",
                 "passages", "part", "domain", "district", "editorial", "note"),
    "units": ("slug", "label_zh", "label_en", "symbol", "multiplier", "base", "qudt", "aliases"),
    "areas": ("code", "slug", "name_zh", "short_zh", "name_en", "name_en_source", "type", "parent",
              "wikidata", "geonames", "iso", "aliases"),
    "area-types": ("type", "label_zh", "label_en", "level"),
    "exceptions": ("passage", "mention", "reason"),
    "plan-status": ("indicator", "area", "year", "status", "mention", "reason_zh", "reason_en",
                    "passage"),
}


def read_csv(path: Path, kind: str) -> list[Row]:
    """Read a curated CSV, requiring exactly the columns of ``kind`` (in any order)."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            allowed = COLUMNS[kind]
            unknown = [c for c in header if c not in allowed]
            if unknown:
                raise DataError(f"{path}:1: unknown column(s) {', '.join(unknown)}; "
                                f"a {kind} file has {', '.join(allowed)}", path=str(path), line=1)
            required = {"facts": ("id", "passage", "mention", "value", "unit", "indicator"),
                        "indicators": ("slug", "label_zh", "label_en"),
                        "entities": ("type", "slug", "label_zh", "label_en"),
                        "units": ("slug", "label_zh", "label_en", "multiplier", "base"),
                        "areas": ("code", "slug", "name_zh", "short_zh", "name_en", "type", "parent"),
                        "area-types": ("type", "label_zh", "label_en", "level"),
                        "exceptions": ("passage", "mention", "reason"),
                        "plan-status": ("indicator", "year", "status", "mention", "passage")}[kind]
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(f"{path}:1: missing column(s) {', '.join(missing)}",
                                path=str(path), line=1)
            rows = []
            for rec in reader:
                if None in rec:
                    raise DataError(f"{path}:{reader.line_num}: more fields than columns "
                                    "(quote a field that contains a comma)",
                                    path=str(path), line=reader.line_num)
                rows.append(Row(path, reader.line_num, rec))
            return rows
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc.reason})", path=str(path)) from None
    except csv.Error as exc:
        raise DataError(f"{path}: CSV error: {exc}", path=str(path)) from None


@dataclass
class Fact:
    id: str
    passage: Passage
    mention: str
    mention_start: int      # offset of the mention in the cleaned text
    value: Decimal | None
    value_text: str         # the value exactly as written, '' if lost
    value_start: int | None  # offset of the value in the cleaned text
    unit: str
    kind: str
    qualifier: str
    status: str
    period: str
    indicator: str
    about: list[tuple[str, str]]
    area: str
    note: str
    source_file: Path
    line: int
    in_words: bool = False   # value_text is written in Chinese numerals (百, 三分之一 …)
    cumulative: bool = False  # the text states a cumulative total (累计 …)
    scope: str = ""          # for a rank: province, nation or capitals

    @property
    def lost(self) -> bool:
        return self.value is None


_DIGIT_WORDS = {"首": 1}


def words_to_number(words: str) -> Decimal:
    """The number that Chinese numerals write: 三 → 3, 两 → 2, 二十 → 20, 百 → 100 (一 left out),
    首 → 1 (first); for a fraction 三分之一 its numerator, 1 (the unit says thirds).
    Raises ValueError for anything else.  Uses the ``cn2an`` package."""
    if "分之" in words:
        words = words.split("分之", 1)[1]
    if words in _DIGIT_WORDS:
        return Decimal(_DIGIT_WORDS[words])
    if words[:1] in ("十", "百", "千", "万", "亿") and words[:1] != "十":
        words = "一" + words
    from cn2an import cn2an  # imported only when a value is written in words (~0.6 s)

    try:
        number = cn2an(words, "normal")
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{words!r} is not a number written in Chinese numerals ({exc})") from None
    return Decimal(str(int(number))) if number == int(number) else Decimal(str(number))


@dataclass
class Indicator:
    slug: str
    label_zh: str
    label_en: str
    broader: str
    wikidata: str
    plan_2023: str
    reason_zh: str
    reason_en: str
    reason_passage: Passage | None
    note: str
    source_file: Path
    alt_labels: tuple[str, ...] = ()  # other names in official use (地区生产总值 / GDP / 国内生产总值)


@dataclass
class PlanAssessment:
    """Whether one indicator of one area's plan for one year was met, as a sentence states."""
    indicator: str
    area: str
    year: str
    status: str
    mention: str
    reason_zh: str
    reason_en: str
    passage: Passage
    source_file: Path
    line: int


@dataclass
class Entity:
    type: str
    slug: str
    label_zh: str
    label_en: str
    passage: Passage | None
    domain: str
    district: str
    editorial: bool
    note: str
    source_file: Path
    kind: str = ""
    alt_labels: list[str] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    part: str = ""
    line: int = 0

    @property
    def names(self) -> list[str]:
        return [self.label_zh, *self.alt_labels]


def part_of(p: Passage) -> str:
    """``review`` (the 2023 review, p001-p037) or ``plan`` (the 2024 plan, p038 on)."""
    return "plan" if int(p.paragraph[1:]) >= PLAN_FROM_PARAGRAPH else "review"


@dataclass
class Unit:
    slug: str
    label_zh: str
    label_en: str
    symbol: str
    multiplier: Decimal
    base: str
    qudt: str
    aliases: tuple[str, ...] = ()  # other spellings of the symbol (億元 for 亿元), `|`-separated


@dataclass
class District:
    gb2260: str
    name_zh: str
    name_en: str
    kind: str
    wikidata: str
    parent: str
    aliases: list[str]
    geonames: str = ""
    iso: str = ""
    source_file: Path | None = None
    short_zh: str = ""
    name_en_source: str = ""
    slug: str = ""

    @property
    def key(self) -> str:
        """The id used in IRIs and in the ``area`` column: the GB/T 2260 code, or an ISO code."""
        return self.gb2260 or self.iso


@dataclass
class Exception_:
    """A number-with-unit mention that is deliberately not a fact."""
    passage: Passage
    mention: str
    start: int
    reason: str
    source_file: Path
    line: int


@dataclass
class Dataset:
    """Everything curated under ``data/``, checked and cross-referenced."""

    text: str
    passages: dict[str, Passage]
    units: dict[str, Unit] = field(default_factory=dict)
    districts: dict[str, District] = field(default_factory=dict)
    area_types: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # type -> zh, en, level
    indicators: dict[str, Indicator] = field(default_factory=dict)
    entities: dict[tuple[str, str], Entity] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    exceptions: list[Exception_] = field(default_factory=list)
    plan_assessments: list[PlanAssessment] = field(default_factory=list)
    files: dict[Path, str] = field(default_factory=dict)  # file -> kind


def _passage(row: Row, col: str, ds: Dataset, required: bool = True) -> Passage | None:
    pid = row[col]
    if not pid:
        if required:
            raise row.error(f"{col} is empty; give a passage id such as p005-s01")
        return None
    if pid not in ds.passages:
        raise row.error(f"unknown passage {pid!r}; ids are listed by `econplan passages`")
    return ds.passages[pid]


def _slug(row: Row, col: str) -> str:
    value = row[col]
    if not SLUG_RE.match(value):
        raise row.error(f"{col} {value!r} is not a slug (lower-case a-z, 0-9 and '-')")
    return value


def load_areas(data_dir: Path) -> tuple[dict, dict]:
    """data/vocab/area-types.csv and data/vocab/areas.csv: (type -> (zh, en, level), key -> District)."""
    data_dir = Path(data_dir)
    area_types: dict = {}
    districts: dict = {}
    types_path = data_dir / "vocab" / "area-types.csv"
    for row in read_csv(types_path, "area-types"):
        if row["level"] not in AREA_LEVELS:
            raise row.error(f"level {row['level']!r} is not one of {', '.join(AREA_LEVELS)}")
        area_types[row["type"]] = (row["label_zh"], row["label_en"], row["level"])
    path = data_dir / "vocab" / "areas.csv"
    for row in read_csv(path, "areas"):
        code, iso = row["code"], row["iso"]
        if code and not GB2260_RE.match(code):
            raise row.error(f"code {code!r} is not six digits")
        if not code and not re.match(r"^[A-Z]{2}$", iso):
            raise row.error("give a six-digit GB/T 2260 code, or (for a country) a two-letter iso code")
        if row["type"] not in area_types:
            raise row.error(f"type {row['type']!r} is not in data/vocab/area-types.csv")
        d = District(code, row["name_zh"], row["name_en"], row["type"], row["wikidata"],
                     row["parent"], row["aliases"].split() if row["aliases"] else [],
                     row["geonames"], iso, path, row["short_zh"], row["name_en_source"], row["slug"])
        if d.key in districts:
            raise row.error(f"area {d.key} is already defined")
        districts[d.key] = d
    for d in districts.values():
        if d.parent and d.parent not in districts:
            raise DataError(f"{path}: area {d.key} has unknown parent {d.parent!r}", path=str(path))
    return area_types, districts


def load_dataset(data_dir: Path) -> Dataset:
    """Read and check every curated file under ``data_dir``."""
    data_dir = Path(data_dir)
    raw_path = data_dir / "source" / "report-raw.txt"
    clean_path = data_dir / "source" / "report-clean.txt"
    try:
        text = clean_path.read_text(encoding="utf-8")
        raw = raw_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(f"{exc.filename}: missing source file") from None
    if clean(raw) != text:
        raise DataError(f"{clean_path}: does not equal clean({raw_path}); "
                        "re-run `econplan clean` and review the diff")
    ds = Dataset(text=text, passages={p.id: p for p in passages(text)})

    for row in read_csv(data_dir / "vocab" / "units.csv", "units"):
        slug = _slug(row, "slug")
        try:
            mult = Decimal(row["multiplier"])
        except InvalidOperation:
            raise row.error(f"multiplier {row['multiplier']!r} is not a decimal") from None
        if slug in ds.units:
            raise row.error(f"duplicate unit {slug!r}")
        ds.units[slug] = Unit(slug, row["label_zh"], row["label_en"], row["symbol"], mult,
                              row["base"], row["qudt"],
                              tuple(a.strip() for a in row["aliases"].split("|") if a.strip()))
    ds.files[data_dir / "vocab" / "units.csv"] = "units"

    ds.area_types, ds.districts = load_areas(data_dir)
    ds.files[data_dir / "vocab" / "area-types.csv"] = "area-types"
    ds.files[data_dir / "vocab" / "areas.csv"] = "districts"

    # A report's dataset is any folder under data/ with *.facts.csv files (data/<area>/<dataset>/);
    # the shared indicator scheme is data/vocab/**/*.indicators.csv plus any a dataset still holds.
    # a report's folder holds *.facts.csv; drafts (data/drafts/, read by drafts.py) and material as
    # gathered (data/sources/) are not curated reports
    report_dirs = sorted({p.parent for p in data_dir.rglob("*.facts.csv")
                          if p.relative_to(data_dir).parts[0] not in ("drafts", "sources")})
    kinds = ("indicators", "entities", "facts", "exceptions", "plan-status")
    files = {k: sorted(p for d in report_dirs for p in d.glob(f"*.{k}.csv")) for k in kinds}
    files["indicators"] = sorted(set(files["indicators"]) | set((data_dir / "vocab").rglob("*.indicators.csv")))
    for path in files["indicators"]:
        ds.files[path] = "indicators"
        for row in read_csv(path, "indicators"):
            slug = _slug(row, "slug")
            if slug in ds.indicators:
                raise row.error(f"indicator {slug!r} is already defined in "
                                f"{ds.indicators[slug].source_file}")
            if row["plan_2023"] or row["reason_zh"] or row["reason_en"] or row["reason_passage"]:
                raise row.error("whether a plan indicator was met is a statement about one area's "
                                "plan for one year: put it in a *.plan-status.csv file "
                                "(indicator,area,year,status,mention,reason_zh,reason_en,passage), "
                                "and leave plan_2023 and reason_* empty")
            ds.indicators[slug] = Indicator(
                slug, row["label_zh"], row["label_en"], row["broader"], row["wikidata"],
                row["plan_2023"], row["reason_zh"], row["reason_en"],
                _passage(row, "reason_passage", ds, required=False), row["note"], path,
                tuple(a.strip() for a in row["alt_labels"].split("|") if a.strip()))
    for path in files["entities"]:
        ds.files[path] = "entities"
        for row in read_csv(path, "entities"):
            etype = row["type"]
            if etype not in ENTITY_TYPES:
                raise row.error(f"type {etype!r} is not one of {', '.join(ENTITY_TYPES)}")
            slug = _slug(row, "slug")
            if (etype, slug) in ds.entities:
                raise row.error(f"{etype} {slug!r} is already defined in "
                                f"{ds.entities[(etype, slug)].source_file}")
            if not row["label_zh"] or not row["label_en"]:
                raise row.error("label_zh and label_en are both required")
            kind = row["kind"] or etype
            if kind not in ENTITY_KINDS:
                raise row.error(f"kind {kind!r} is not one of {', '.join(ENTITY_KINDS)}")
            alts = [a.strip() for a in row["alt_labels"].split("|") if a.strip()]
            cited = []
            for pid in row["passages"].split():
                if pid not in ds.passages or not ds.passages[pid].is_sentence:
                    raise row.error(f"passages: {pid!r} is not a sentence id such as p016-s04")
                if pid in (c.id for c in cited):
                    raise row.error(f"passages: {pid} is listed twice")
                cited.append(ds.passages[pid])
            first = _passage(row, "passage", ds, required=kind in NAMED_KINDS and not cited)
            first = first or (cited[0] if cited else None)
            if first and cited and first not in cited:
                raise row.error(f"passage {first.id} is not among passages")
            part = row["part"]
            if kind in NAMED_KINDS:
                if not cited:
                    raise row.error("passages is empty; list every sentence that names it")
                parts = {part_of(p) for p in cited}
                want = parts.pop() if len(parts) == 1 else "both"
                if part != want:
                    raise row.error(f"part is {part!r} but its sentences make it {want!r}")
            elif part and part not in PARTS:
                raise row.error(f"part {part!r} is not one of {', '.join(PARTS)}")
            ds.entities[(etype, slug)] = Entity(
                etype, slug, row["label_zh"], row["label_en"], first,
                row["domain"], row["district"], row["editorial"].lower() in ("yes", "true", "1"),
                row["note"], path, kind, alts, cited, part, row.line)
    for path in files["plan-status"]:
        ds.files[path] = "plan-status"
        for row in read_csv(path, "plan-status"):
            ds.plan_assessments.append(_plan_assessment(row, ds))
    for path in files["facts"]:
        ds.files[path] = "facts"
        for row in read_csv(path, "facts"):
            ds.facts.append(_fact(row, ds))
    for path in files["exceptions"]:
        ds.files[path] = "exceptions"
        for row in read_csv(path, "exceptions"):
            p = _passage(row, "passage", ds)
            mention = row["mention"]
            if not mention or p.text.count(mention) != 1:
                raise row.error(f"mention {mention!r} must occur exactly once in passage {p.id}")
            if not row["reason"]:
                raise row.error("reason is empty; say why this number is not a fact")
            ds.exceptions.append(Exception_(p, mention, p.start + p.text.index(mention),
                                            row["reason"], row.path, row.line))

    _cross_check(ds)
    return ds


def _fact(row: Row, ds: Dataset) -> Fact:
    fid = _slug(row, "id")
    p = _passage(row, "passage", ds)
    mention = row["mention"]
    if not mention:
        raise row.error("mention is empty; copy the words around the number from the passage")
    count = p.text.count(mention)
    if count == 0:
        raise row.error(f"mention {mention!r} is not in passage {p.id}: {p.text}")
    if count > 1:
        raise row.error(f"mention {mention!r} occurs {count} times in passage {p.id}; "
                        "make it longer so that it is unique")
    mstart = p.start + p.text.index(mention)
    value_text = row["value"]
    value = vstart = None
    words = row["value_text"]
    if words:
        if not value_text:
            raise row.error("value_text is given but value is empty; give the number it writes")
        if not DECIMAL_RE.match(value_text):
            raise row.error(f"value {value_text!r} is not a plain decimal")
        if words not in mention:
            raise row.error(f"value_text {words!r} is not written in mention {mention!r}")
        try:
            number = words_to_number(words)
        except ValueError as exc:
            raise row.error(str(exc)) from None
        if number != Decimal(value_text):
            raise row.error(f"value_text {words!r} writes {number}, not {value_text}")
        value, vstart, value_text = Decimal(value_text), mstart + mention.index(words), words
    elif value_text:
        if not DECIMAL_RE.match(value_text):
            raise row.error(f"value {value_text!r} is not a plain decimal as written in the text")
        hits = [m.start() for m in re.finditer(rf"(?<![\d.]){re.escape(value_text)}(?![\d.])", mention)]
        if not hits:
            raise row.error(f"value {value_text} is not written in mention {mention!r}")
        value, vstart = Decimal(value_text), mstart + hits[0]
    unit = row["unit"]
    if unit not in ds.units:
        raise row.error(f"unknown unit {unit!r}; units are listed in data/vocab/units.csv")
    kind = row["kind"] or "level"
    if kind not in KINDS:
        raise row.error(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    qualifier = row["qualifier"] or "exact"
    if qualifier not in QUALIFIERS:
        raise row.error(f"qualifier {qualifier!r} is not one of {', '.join(QUALIFIERS)}")
    status = row["status"] or "actual"
    if status not in STATUSES:
        raise row.error(f"status {status!r} is not one of {', '.join(STATUSES)}")
    period = row["period"]
    if not YEAR_RE.match(period):
        raise row.error(f"period {period!r} is not a year such as 2023")
    about = []
    for ref in row["about"].split():
        etype, _, slug = ref.partition(":")
        if etype not in (*ENTITY_TYPES, "district") or not slug:
            raise row.error(f"about {ref!r} must look like type:slug (project:slug, policy:slug, "
                            "event:slug … as in the type column of entities.csv) or district:330109")
        about.append((etype, slug))
    area = row["area"] or "330100"
    scope = row["scope"]
    if kind == "rank" and scope not in SCOPES:
        raise row.error(f"a rank needs a scope, one of {', '.join(SCOPES)}, not {scope!r}")
    if kind != "rank" and scope:
        raise row.error("scope is only for kind rank")
    cumulative = row["cumulative"]
    if cumulative not in ("", "yes"):
        raise row.error(f"cumulative is yes or empty, not {cumulative!r}")
    return Fact(fid, p, mention, mstart, value, value_text, vstart, unit, kind, qualifier,
                status, period, row["indicator"], about, area, row["note"], row.path, row.line,
                bool(words), cumulative == "yes", scope)


def _plan_assessment(row: Row, ds: Dataset) -> PlanAssessment:
    p = _passage(row, "passage", ds)
    mention = row["mention"]
    if not mention or mention not in p.text:
        raise row.error(f"mention {mention!r} is not in passage {p.id}")
    if row["status"] not in ("met", "unmet"):
        raise row.error(f"status must be met or unmet, not {row['status']!r}")
    if not YEAR_RE.match(row["year"]):
        raise row.error(f"year {row['year']!r} is not a year")
    if row["reason_zh"] and row["reason_zh"] not in mention:
        raise row.error(f"reason_zh {row['reason_zh']!r} is not in the mention")
    if bool(row["reason_zh"]) != bool(row["reason_en"]):
        raise row.error("give reason_zh and reason_en together")
    return PlanAssessment(row["indicator"], row["area"] or "330100", row["year"], row["status"],
                          mention, row["reason_zh"], row["reason_en"], p, row.path, row.line)


def _cross_check(ds: Dataset) -> None:
    seen: dict[str, Fact] = {}
    for f in ds.facts:
        where = f"{f.source_file}:{f.line}"
        if f.id in seen:
            other = seen[f.id]
            raise DataError(f"{where}: fact id {f.id!r} is already used at "
                            f"{other.source_file}:{other.line}", path=str(f.source_file), line=f.line)
        seen[f.id] = f
        if f.indicator not in ds.indicators:
            raise DataError(f"{where}: unknown indicator {f.indicator!r}; define it in an "
                            "*.indicators.csv file", path=str(f.source_file), line=f.line)
        if f.area not in ds.districts:
            raise DataError(f"{where}: unknown area {f.area!r}; areas are GB/T 2260 codes in "
                            "data/vocab/areas.csv", path=str(f.source_file), line=f.line)
        for etype, slug in f.about:
            if etype == "district":
                if slug not in ds.districts:
                    raise DataError(f"{where}: unknown district {slug!r}",
                                    path=str(f.source_file), line=f.line)
            elif (etype, slug) not in ds.entities:
                raise DataError(f"{where}: unknown {etype} {slug!r}; define it in an "
                                "*.entities.csv file", path=str(f.source_file), line=f.line)
    seen_pa: dict[tuple[str, str, str], PlanAssessment] = {}
    for pa in ds.plan_assessments:
        where = f"{pa.source_file}:{pa.line}"
        if pa.indicator not in ds.indicators:
            raise DataError(f"{where}: unknown indicator {pa.indicator!r}", path=str(pa.source_file), line=pa.line)
        if pa.area not in ds.districts:
            raise DataError(f"{where}: unknown area {pa.area!r}", path=str(pa.source_file), line=pa.line)
        key = (pa.area, pa.year, pa.indicator)
        if key in seen_pa:
            raise DataError(f"{where}: {pa.indicator} {pa.area} {pa.year} already has a plan status "
                            f"at line {seen_pa[key].line}", path=str(pa.source_file), line=pa.line)
        seen_pa[key] = pa
    for ind in ds.indicators.values():
        if ind.broader and ind.broader not in ds.indicators:
            raise DataError(f"{ind.source_file}: indicator {ind.slug!r} has unknown broader "
                            f"{ind.broader!r}", path=str(ind.source_file))
    for ent in ds.entities.values():
        if ent.domain and ("domain", ent.domain) not in ds.entities and \
                ("workarea", ent.domain) not in ds.entities:
            raise DataError(f"{ent.source_file}: {ent.type} {ent.slug!r} has unknown domain "
                            f"{ent.domain!r}", path=str(ent.source_file))
        if ent.kind == "project" and not ent.domain:
            raise DataError(f"{ent.source_file}: project {ent.slug!r} has no domain",
                            path=str(ent.source_file))
        if ent.district and ent.district not in ds.districts:
            raise DataError(f"{ent.source_file}: {ent.type} {ent.slug!r} has unknown district "
                            f"{ent.district!r}", path=str(ent.source_file))


def entity_name_problems(ds: Dataset) -> list[str]:
    """Each named thing's names against the sentences it cites: every cited sentence writes one of
    its names, every name is written in a cited sentence, and every sentence that writes one of
    its names is cited.  Returns one line per problem."""
    problems = []
    sentences = [p for p in ds.passages.values() if p.is_sentence]
    for e in ds.entities.values():
        if e.kind not in NAMED_KINDS:
            continue
        where = f"{e.source_file}:{e.line}: {e.type} {e.slug}"
        cited = {p.id for p in e.passages}
        for p in e.passages:
            if not any(n in p.text for n in e.names):
                problems.append(f"{where}: none of its names is written in {p.id}")
        for n in e.names:
            if not any(n in p.text for p in e.passages):
                problems.append(f"{where}: the name {n!r} is in none of its sentences")
        for p in sentences:
            if p.id not in cited and any(n in p.text for n in e.names):
                problems.append(f"{where}: {p.id} writes its name but is not in passages")
    return problems


@dataclass
class Coverage:
    covered: list  # Mention
    excepted: list  # (Mention, Exception_)
    uncovered: list  # Mention


def coverage(ds: Dataset) -> Coverage:
    """Which number-with-unit mentions of the text are facts, exceptions, or neither."""
    from .source import mentions

    by_start = {f.value_start: f for f in ds.facts if f.value_start is not None}
    cov = Coverage([], [], [])
    for m in mentions(ds.text):
        if m.start in by_start:
            cov.covered.append(m)
            continue
        exc = next((e for e in ds.exceptions
                    if e.start <= m.start < e.start + len(e.mention)), None)
        if exc:
            cov.excepted.append((m, exc))
        else:
            cov.uncovered.append(m)
    return cov


def main(argv: list[str] | None = None) -> int:
    """``python -m server.kg.curation check|passages [DATA_DIR]``: a curator's quick check."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    cmd = args[0] if args else "check"
    data_dir = Path(args[1]) if len(args) > 1 else Path("data")
    try:
        if cmd == "passages":
            text = (data_dir / "source" / "report-clean.txt").read_text(encoding="utf-8")
            from .source import mentions
            ms = mentions(text)
            for p in passages(text):
                if p.is_sentence:
                    inside = [text[m.start:m.end] for m in ms if p.start <= m.start < p.end]
                    print(f"{p.id}\t{p.text}\t{' | '.join(inside)}")
            return 0
        ds = load_dataset(data_dir)
    except DataError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"ok: {len(ds.facts)} facts, {len(ds.indicators)} indicators, "
          f"{len(ds.entities)} entities")
    problems = entity_name_problems(ds)
    for line in problems:
        print(f"entity: {line}", file=sys.stderr)
    if problems:
        return 1
    cov = coverage(ds)
    print(f"coverage: {len(cov.covered)} mentions are facts, {len(cov.excepted)} exceptions, "
          f"{len(cov.uncovered)} uncovered")
    if cmd == "uncovered":
        for m in cov.uncovered:
            p = next(p for p in ds.passages.values()
                     if p.is_sentence and p.start <= m.start < p.end)
            print(f"{p.id}\t{m.number}{m.unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
