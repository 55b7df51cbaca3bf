"""Curated CSV files -> checked Python records.

The curated data lives in ``data/`` as CSV files that a person can review in a
diff (see ``data/README.md`` for the columns).  This module reads them and
checks everything that can be checked without RDF: unknown columns, unknown
units or indicators, a mention that is not in its passage, a value that is not
in its mention, duplicate ids.  Every problem is a :class:`~server.errors.DataError`
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
STATUSES = ("actual", "target", "expected")
ENTITY_TYPES = ("project", "policy", "domain", "workarea")
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
    "facts": ("id", "passage", "mention", "value", "unit", "kind", "qualifier", "status",
              "period", "indicator", "about", "area", "note"),
    "indicators": ("slug", "label_zh", "label_en", "broader", "wikidata", "plan_2023",
                   "reason_zh", "reason_en", "reason_passage", "note"),
    "entities": ("type", "slug", "label_zh", "label_en", "passage", "domain", "district",
                 "editorial", "note"),
    "units": ("slug", "label_zh", "label_en", "symbol", "multiplier", "base", "qudt"),
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

    @property
    def lost(self) -> bool:
        return self.value is None


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


@dataclass
class Unit:
    slug: str
    label_zh: str
    label_en: str
    symbol: str
    multiplier: Decimal
    base: str
    qudt: str


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
                              row["base"], row["qudt"])
    ds.files[data_dir / "vocab" / "units.csv"] = "units"

    types_path = data_dir / "vocab" / "area-types.csv"
    for row in read_csv(types_path, "area-types"):
        if row["level"] not in AREA_LEVELS:
            raise row.error(f"level {row['level']!r} is not one of {', '.join(AREA_LEVELS)}")
        ds.area_types[row["type"]] = (row["label_zh"], row["label_en"], row["level"])
    ds.files[types_path] = "area-types"
    path = data_dir / "vocab" / "areas.csv"
    for row in read_csv(path, "areas"):
        code, iso = row["code"], row["iso"]
        if code and not GB2260_RE.match(code):
            raise row.error(f"code {code!r} is not six digits")
        if not code and not re.match(r"^[A-Z]{2}$", iso):
            raise row.error("give a six-digit GB/T 2260 code, or (for a country) a two-letter iso code")
        if row["type"] not in ds.area_types:
            raise row.error(f"type {row['type']!r} is not in data/vocab/area-types.csv")
        d = District(code, row["name_zh"], row["name_en"], row["type"], row["wikidata"],
                     row["parent"], row["aliases"].split() if row["aliases"] else [],
                     row["geonames"], iso, path, row["short_zh"], row["name_en_source"], row["slug"])
        if d.key in ds.districts:
            raise row.error(f"area {d.key} is already defined")
        ds.districts[d.key] = d
    for d in ds.districts.values():
        if d.parent and d.parent not in ds.districts:
            raise DataError(f"{path}: area {d.key} has unknown parent {d.parent!r}", path=str(path))
    ds.files[path] = "districts"

    # A report's dataset is any folder under data/ with *.facts.csv files (data/<area>/<dataset>/);
    # the shared indicator scheme is data/vocab/**/*.indicators.csv plus any a dataset still holds.
    report_dirs = sorted({p.parent for p in data_dir.rglob("*.facts.csv")})
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
                _passage(row, "reason_passage", ds, required=False), row["note"], path)
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
            ds.entities[(etype, slug)] = Entity(
                etype, slug, row["label_zh"], row["label_en"],
                _passage(row, "passage", ds, required=etype in ("project", "policy")),
                row["domain"], row["district"], row["editorial"].lower() in ("yes", "true", "1"),
                row["note"], path)
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
    if value_text:
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
        if etype not in ("project", "policy", "domain", "workarea", "district") or not slug:
            raise row.error(f"about {ref!r} must look like project:slug, policy:slug, "
                            "domain:slug, workarea:slug or district:330109")
        about.append((etype, slug))
    area = row["area"] or "330100"
    return Fact(fid, p, mention, mstart, value, value_text, vstart, unit, kind, qualifier,
                status, period, row["indicator"], about, area, row["note"], row.path, row.line)


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
        if ent.type == "project" and not ent.domain:
            raise DataError(f"{ent.source_file}: project {ent.slug!r} has no domain",
                            path=str(ent.source_file))
        if ent.district and ent.district not in ds.districts:
            raise DataError(f"{ent.source_file}: {ent.type} {ent.slug!r} has unknown district "
                            f"{ent.district!r}", path=str(ent.source_file))


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
    """``python -m server.curation check|passages [DATA_DIR]``: a curator's quick check."""
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
