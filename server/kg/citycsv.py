"""Other cities' CSV -> econplan facts, through a small documented YAML mapping.

City portals publish CSV.  A mapping file (``*.mapping.yaml``, documented in
``data/cities/2023-headline.mapping.yaml``) says which column holds the area,
indicator, kind, period, value, unit, qualifier, status and source.  Every row
becomes one fact that is ``prov:wasDerivedFrom`` an ``ep:SourceRow``: the row's
text verbatim (``oa:exact``) with its offsets in the file, the file and the row
number (an RFC 7111 ``#row=N`` fragment).  A malformed row rejects the whole
file with an error naming the row; the result then goes through the same SHACL
gate as every other load.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import yaml

from . import numbers as N
from . import vocab as V
from .build import dataset_area_quads, described_by_datasets
from .curation import DECIMAL_RE, KINDS, QUALIFIERS, STATUSES, YEAR_RE
from .errors import DataError

SOURCE_BASE = V.BASE + "source/"
SIGNED_RE = re.compile(r"^-\d+(\.\d+)?$")  # a negative growth rate, as a bureau writes it


@dataclass
class Lookups:
    """What a row may refer to: unit slugs and symbols, areas, indicators (with labels)."""

    units: dict[str, str]            # slug or symbol -> slug
    unit_labels: dict[str, tuple[str, str]]
    areas: dict[str, tuple[str, str]]  # key -> (zh, en)
    indicators: dict[str, tuple[str, str]]
    #: slug -> (multiplier, base unit), for readable numbers in labels (server.kg.numbers)
    unit_scale: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: county-level areas the vocabulary graph does not describe (server.kg.build.in_vocabulary):
    #: a dataset whose facts are about one describes it in its own graph
    described_here: dict = field(default_factory=dict)

    @classmethod
    def from_dataset(cls, ds) -> "Lookups":
        units = {u.slug: u.slug for u in ds.units.values()}
        units.update({u.symbol: u.slug for u in ds.units.values() if u.symbol})
        units.update({a: u.slug for u in ds.units.values() for a in u.aliases})
        return cls(units, {u.slug: (u.symbol, u.label_en) for u in ds.units.values()},
                   {k: (d.name_zh, d.name_en) for k, d in ds.districts.items()},
                   {k: (i.label_zh, i.label_en) for k, i in ds.indicators.items()},
                   {u.slug: (str(u.multiplier), u.base) for u in ds.units.values()},
                   described_by_datasets(ds.area_types, ds.districts))

    @classmethod
    def from_store(cls, kg, data_dir: Path | None = None) -> "Lookups":
        """What the store describes, and with ``data_dir`` the areas of its vocab/areas.csv too
        (the county-level ones are described by the datasets that use them)."""
        units, labels, scale = {}, {}, {}
        for r in kg.select("SELECT ?u ?sym ?en ?m ?b WHERE { ?u a ep:Unit ; ep:symbol ?sym . "
                           "OPTIONAL { ?u rdfs:label ?en FILTER(lang(?en)='en') } "
                           "OPTIONAL { ?u ep:multiplier ?m } OPTIONAL { ?u ep:baseUnit ?b } }"):
            slug = r["u"].value.rsplit("/", 1)[1]
            units[slug] = slug
            units[r["sym"].value] = slug
            labels[slug] = (r["sym"].value, r["en"].value if "en" in r else slug)
            scale[slug] = (r["m"].value if "m" in r else "1", r["b"].value if "b" in r else "")
        areas = {}
        for r in kg.select("SELECT ?d ?zh ?en WHERE { ?d a ep:District . "
                           "OPTIONAL { ?d rdfs:label ?zh FILTER(lang(?zh)='zh') } "
                           "OPTIONAL { ?d rdfs:label ?en FILTER(lang(?en)='en') } }"):
            areas[r["d"].value.rsplit("/", 1)[1]] = (r.get("zh", r["d"]).value, r.get("en", r["d"]).value)
        inds = {}
        for r in kg.select("SELECT ?i ?zh ?en WHERE { ?i a ep:Indicator . "
                           "OPTIONAL { ?i rdfs:label ?zh FILTER(lang(?zh)='zh') } "
                           "OPTIONAL { ?i rdfs:label ?en FILTER(lang(?en)='en') } }"):
            inds[r["i"].value.rsplit("/", 1)[1]] = (r.get("zh", r["i"]).value, r.get("en", r["i"]).value)
        counties = {}
        if data_dir is not None:
            from .curation import load_areas

            counties = described_by_datasets(*load_areas(data_dir))
            areas.update({k: (d.name_zh, d.name_en) for k, d in counties.items()})
        return cls(units, labels, areas, inds, scale, counties)


VINTAGES = ("preliminary", "revised", "final", "estimate")
DATE_RE = re.compile(r"^(19|20)\d\d-\d\d-\d\d$")
URL_RE = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
HAN_RE = re.compile(r"[\u3400-\u9fff]")


def source_term(source: str):
    """A source that is a URL is an IRI (dcterms:source <https://…>); anything else is text."""
    if URL_RE.match(source):
        return ox.NamedNode(source)
    return _lit(source, text_language(source))


def text_language(text: str) -> str:
    """zh when the text has Chinese characters, otherwise en."""
    return "zh" if HAN_RE.search(text) else "en"


def read_mapping(path: Path) -> dict:
    path = Path(path)
    try:
        m = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{path}: cannot read the mapping ({exc.strerror})", path=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise DataError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})", path=str(path)) from None
    if not isinstance(m, dict) or "columns" not in m or "dataset" not in m:
        raise DataError(f"{path}: a mapping needs 'dataset' and 'columns'", path=str(path))
    for key in ("area", "indicator", "period", "value", "unit"):
        if key not in m["columns"]:
            raise DataError(f"{path}: columns.{key} is required", path=str(path))
    if not re.match(r"^[a-z0-9-]+$", str(m["dataset"].get("slug", ""))):
        raise DataError(f"{path}: dataset.slug must be a slug", path=str(path))
    return m


def _lit(text: str, lang: str | None = None):
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def dataset_base(area_slug: str, dataset_slug: str) -> str:
    """The IRI of a dataset, and the base of its facts: …/id/<area-slug>/<dataset-slug>."""
    return f"{V.ID}{area_slug}/{dataset_slug}"


def file_key(csv_path: Path, *, salt: str = "") -> str:
    """The part of a fact id that tells two files of one dataset apart: the file's stem as a
    slug, plus a short hash of ``salt`` (the path of an imported file) when one is given or the
    stem is not ASCII."""
    key = slugify(Path(csv_path).stem)
    if salt or not key:
        import hashlib

        key = (key + "-" if key else "t-") + hashlib.sha1((salt or Path(csv_path).stem).encode()).hexdigest()[:6]
    return key


def csv_to_quads(csv_path: Path, mapping: dict, lookups: Lookups, graph: ox.NamedNode,
                 *, file_iri: str | None = None, base: str | None = None,
                 key: str | None = None) -> list[ox.Quad]:  # noqa: C901
    """Every row of ``csv_path`` as facts in ``graph``; DataError names the first bad row.

    ``base`` is the dataset's IRI (:func:`dataset_base`), ``key`` the file's part of each fact
    id (:func:`file_key`): a fact is ``<base>/fact/<key>-<area code>-<indicator>-<kind>-<period>``
    (plus the status when not actual, and the vintage), so two files of one dataset, or two
    datasets, never share a fact IRI."""
    csv_path = Path(csv_path)
    try:
        raw = csv_path.read_text(encoding="utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise DataError(f"{csv_path}: not UTF-8", path=str(csv_path)) from None
    except OSError as exc:
        raise DataError(f"{csv_path}: cannot read ({exc.strerror})", path=str(csv_path)) from None
    cols, defaults = mapping["columns"], mapping.get("defaults", {}) or {}
    ds_info = mapping["dataset"]
    slug = ds_info["slug"]
    file_iri = file_iri or SOURCE_BASE + f"cities/{csv_path.name}"
    dataset = ox.NamedNode(base or V.ID + slug)
    part = key or file_key(csv_path)
    quads: list[ox.Quad] = []
    add = lambda s, p, o: quads.append(ox.Quad(s, p, o, graph))  # noqa: E731
    add(dataset, V.RDF_TYPE, V.QB.DataSet)
    add(dataset, V.RDF_TYPE, V.EP.Report)  # the publication the facts come from
    add(dataset, V.QB.structure, V.EP.structure)
    for lang in ("zh", "en"):
        if ds_info.get("title", {}).get(lang):
            add(dataset, V.RDFS_LABEL, _lit(ds_info["title"][lang], lang))
        if ds_info.get("description", {}).get(lang):
            add(dataset, V.RDFS_COMMENT, _lit(ds_info["description"][lang], lang))
    add(dataset, V.DCTERMS.source, ox.NamedNode(file_iri))

    lines = raw.splitlines(keepends=True)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    reader = csv.DictReader(io.StringIO(raw))
    header = reader.fieldnames or []
    for key, col in cols.items():
        if col not in header:
            raise DataError(f"{csv_path}:1: column {col!r} (for {key}) is not in the header",
                            path=str(csv_path), line=1)
    seen = {}
    for rec in reader:
        n = reader.line_num  # physical line of the row's end; rows here are one line each
        row_no = n - 1
        where = f"{csv_path}:{n} (row {row_no})"

        def get(key):
            col = cols.get(key)
            value = (rec.get(col) or "").strip() if col else ""
            return value or str(defaults.get(key, "") or "")

        def bad(msg):
            return DataError(f"{where}: {msg}", path=str(csv_path), line=n)

        area, ind, kind = get("area"), get("indicator"), get("kind") or "level"
        period, value, unit_text = get("period"), get("value"), get("unit")
        qualifier, status = get("qualifier") or "exact", get("status") or "actual"
        vintage, date = get("vintage"), get("date")
        if area not in lookups.areas:
            raise bad(f"unknown area {area!r}: use a GB/T 2260 code from data/vocab/areas.csv")
        if ind not in lookups.indicators:
            raise bad(f"unknown indicator {ind!r}")
        if kind not in KINDS:
            raise bad(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if not YEAR_RE.match(period):
            raise bad(f"period {period!r} is not a year")
        if not (DECIMAL_RE.match(value) or (kind in ("growth", "difference") and SIGNED_RE.match(value))):
            raise bad(f"value {value!r} is not a plain decimal as written")
        if unit_text not in lookups.units:
            raise bad(f"unknown unit {unit_text!r}")
        if qualifier not in QUALIFIERS:
            raise bad(f"qualifier {qualifier!r} is not one of {', '.join(QUALIFIERS)}")
        if status not in STATUSES:
            raise bad(f"status {status!r} is not one of {', '.join(STATUSES)}")
        if vintage and vintage not in VINTAGES:
            raise bad(f"vintage {vintage!r} is not one of {', '.join(VINTAGES)}")
        if date and not DATE_RE.match(date):
            raise bad(f"date {date!r} is not a date (YYYY-MM-DD)")
        unit = lookups.units[unit_text]
        fid = f"{part}-{area.lower()}-{ind}-{kind}-{period}" + ("" if status == "actual" else f"-{status}") + \
            (f"-{vintage}" if vintage else "")
        fact = ox.NamedNode(f"{dataset.value}/fact/{fid}")
        if fact in seen:
            raise bad(f"repeats the fact of row {seen[fact]} (same area, indicator, kind, period, "
                      "status and vintage): give the two figures different vintages, or put them "
                      "in two datasets")
        seen[fact] = row_no
        text = lines[n - 1].rstrip("\r\n")
        row = ox.NamedNode(f"{file_iri}#row={row_no}")
        add(row, V.RDF_TYPE, V.EP.SourceRow)
        add(row, V.OA.exact, _lit(text))
        add(row, V.OA.start, ox.Literal(str(offsets[n - 1]), datatype=V.XSD_INTEGER))
        add(row, V.OA.end, ox.Literal(str(offsets[n - 1] + len(text)), datatype=V.XSD_INTEGER))
        add(row, V.EP.rowNumber, ox.Literal(str(row_no), datatype=V.XSD_INTEGER))
        add(row, V.DCTERMS.source, ox.NamedNode(file_iri))
        add(row, V.EP.report, dataset)
        add(row, V.RDFS_LABEL, _lit(f"{csv_path.name} 第{row_no}行", "zh"))
        add(row, V.RDFS_LABEL, _lit(f"{csv_path.name} row {row_no}", "en"))
        area_zh, area_en = lookups.areas[area]
        ind_zh, ind_en = lookups.indicators[ind]
        sym, unit_en = lookups.unit_labels.get(unit, (unit_text, unit))
        kind_zh, kind_en = V.KIND_LABELS[kind]
        for cls in V.fact_classes(status):  # the superclasses too (queries need no reasoner)
            add(fact, V.RDF_TYPE, cls)
        add(fact, V.QB.dataSet, dataset)
        mult, base = lookups.unit_scale.get(unit, ("1", ""))
        nu = N.Unit(symbol=sym, multiplier=mult, base=base, label_en=unit_en)
        zh_r = N.readable(value, nu, qualifier=qualifier, kind=kind, lang="zh")
        en_r = N.readable(value, nu, qualifier=qualifier, kind=kind, lang="en")
        zh_value = f"{zh_r.text}({zh_r.note})" if zh_r.note else zh_r.text
        add(fact, V.RDFS_LABEL, _lit(f"{period}年{area_zh}{ind_zh}({kind_zh}):{zh_value}", "zh"))
        add(fact, V.RDFS_LABEL, _lit(f"{area_en} {ind_en}, {kind_en}, {period}: {en_r}", "en"))
        add(fact, V.EP.englishLabelStatus, V.EP.editorialTranslation)
        add(fact, V.EP.indicator, V.indicator(ind))
        add(fact, V.EP.refArea, V.district(area))
        add(fact, V.EP.refPeriod, ox.Literal(period, datatype=V.XSD_GYEAR))
        add(fact, V.EP.kind, V.EP_KIND[kind])
        add(fact, V.EP.unit, V.unit(unit))
        add(fact, V.EP.qualifier, V.EP_QUALIFIER[qualifier])
        add(fact, V.EP.status, V.EP_STATUS[status])
        add(fact, V.EP.value, ox.Literal(value, datatype=V.XSD_DECIMAL))
        add(fact, V.EP.valueText, _lit(value))
        add(fact, V.EP.mention, _lit(value))
        add(fact, V.PROV.wasDerivedFrom, row)
        add(fact, V.EP.report, dataset)
        source = get("source")
        if source:
            add(fact, V.DCTERMS.source, source_term(source))
        if vintage:
            add(fact, V.EP.vintage, V.EP[vintage])
        if date:
            add(fact, V.DCTERMS.issued, ox.Literal(date, datatype=V.XSD.date))
        note = get("note")
        if note:
            add(fact, V.RDFS_COMMENT, _lit(note, text_language(note)))
        quote = get("quote")
        if quote:  # the words it was read in, on its source page (eps:Fact-valueInQuote checks them)
            q, sel = ox.NamedNode(fact.value + "#quote"), ox.NamedNode(fact.value + "#quote-selector")
            add(fact, V.EP.sourceQuote, q)
            add(q, V.RDF_TYPE, V.OA.SpecificResource)
            if source and URL_RE.match(source):
                add(q, V.OA.hasSource, ox.NamedNode(source))
            add(q, V.OA.hasSelector, sel)
            add(sel, V.RDF_TYPE, V.OA.TextQuoteSelector)
            add(sel, V.OA.exact, _lit(quote, text_language(quote)))
    if not seen:
        raise DataError(f"{csv_path}: no rows", path=str(csv_path))
    # a county the vocabulary graph does not describe: this graph does
    return quads + dataset_area_quads((q.object.value.rsplit("/", 1)[1] for q in quads
                                       if q.predicate == V.EP.refArea), lookups.described_here, graph)


def mapping_for(csv_path: Path) -> Path:
    """The mapping of a CSV file: ``x.mapping.yaml`` beside ``x.csv``, else the folder's
    ``mapping.yaml`` (shared by every CSV of a dataset folder)."""
    own = Path(csv_path).with_name(Path(csv_path).stem + ".mapping.yaml")
    shared = Path(csv_path).with_name("mapping.yaml")
    return own if own.exists() or not shared.exists() else shared
