"""A reviewed draft -> a dataset folder in the curated format -> RDF (``econplan draft-accept``).

``accept`` checks every row of a draft CSV against the cleaned text it was drafted from and writes
``data/drafts/NAME/``:

```
source.txt            the cleaned text (offsets and sentence ids refer to it)
NAME.facts.csv        the curated facts columns (data/README.md), one row per fact
NAME.indicators.csv   the new indicators the draft suggests (zh label; no invented English)
draft.txt             key=value: name, year, area, review (drafted|reviewed), source
```

``econplan build`` turns each such folder into named graphs (:func:`draft_quads`): a report with
its paragraphs and sentences, its facts with ``ep:reviewStatus`` ``ep:drafted`` or ``ep:reviewed``,
and the new indicators in the shared scheme.  The shapes then check them like curated facts.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from . import vocab as V
from .build import CURATED_CITY, dataset_area_quads, described_by_datasets
from .curation import KINDS, QUALIFIERS, SLUG_RE, STATUSES, load_dataset
from .errors import DataError
from .source import passages
from .draft import COLUMNS, INDICATOR_BASE, _cn_number

FACT_COLUMNS = ("id", "passage", "mention", "value", "value_text", "unit", "kind", "qualifier",
                "status", "period", "indicator", "about", "area", "cumulative", "note")
INDICATOR_COLUMNS = ("slug", "label_zh", "label_en", "broader", "wikidata", "plan_2023",
                     "reason_zh", "reason_en", "reason_passage", "note")
REVIEW = ("drafted", "reviewed")


def draft_base(name: str) -> str:
    """The IRI of a drafted dataset's report: https://w3id.org/econplan/id/NAME/draft."""
    return f"{V.ID}{name}/draft"


def _unique_mention(sentence: str, a: int, b: int) -> str:
    """The shortest span around [a, b) of the sentence that occurs in it once."""
    lo, hi = a, b
    while sentence.count(sentence[lo:hi]) > 1 and (lo > 0 or hi < len(sentence)):
        if lo > 0:
            lo -= 1
        if sentence.count(sentence[lo:hi]) > 1 and hi < len(sentence):
            hi += 1
    return sentence[lo:hi]


def _mention_end(sentence: str, b: int) -> int:
    """After the value: its unit and a trailing qualifier (亿元以上, 万余户, 个左右) join the mention."""
    from .draft import _UNIT_WORDS

    units = "|".join(re.escape(u) for u in _UNIT_WORDS)
    m = re.match(rf"(?:[万亿]?[余多])?(?:{units})?(?:余|多)?(?:以上|以下|左右|以内)?", sentence[b:])
    return b + len(m.group(0))


def accept(draft_csv: Path, text: str, name: str, data_dir: Path, *, year: int,
           area: str = "", reviewed: bool = False, source: str = "") -> Path:
    """Write ``data_dir/drafts/NAME/`` from a reviewed draft; all rows are checked first."""
    if not SLUG_RE.match(name):
        raise DataError(f"dataset name {name!r} is not a slug (lower-case a-z, 0-9 and '-')")
    ds = load_dataset(data_dir)
    units, scheme = ds.units, set(ds.indicators)
    sentences = {p.id: p for p in passages(text) if p.is_sentence}
    try:
        with Path(draft_csv).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise DataError(f"{draft_csv}:1: the columns must be exactly {','.join(COLUMNS)}",
                                path=str(draft_csv), line=1)
            rows = [(reader.line_num, rec) for rec in reader]
    except UnicodeDecodeError:
        raise DataError(f"{draft_csv}: not UTF-8", path=str(draft_csv)) from None
    facts, new_inds, seen_ids = [], {}, set()
    for line, r in rows:
        where = f"{draft_csv}:{line}"

        def bad(msg: str) -> DataError:
            return DataError(f"{where}: {msg}", path=str(draft_csv), line=line)

        r = {k: (v or "").strip() for k, v in r.items()}
        s = sentences.get(r["sentence"])
        if s is None:
            raise bad(f"unknown sentence {r['sentence']!r} for this text")
        try:
            start, end = int(r["start"]), int(r["end"])
        except ValueError:
            raise bad("start and end must be integers") from None
        if not (s.start <= start < end <= s.end) or text[start:end] != r["value_text"]:
            raise bad(f"value_text {r['value_text']!r} is not at {start}-{end} of sentence "
                      f"{s.id} (the text there is {text[start:end]!r})")
        unit = r["unit"]
        if unit not in units:
            raise bad(f"unit {unit!r} is not in data/vocab/units.csv; add it there or correct the row")
        if r["kind"] not in KINDS:
            raise bad(f"kind {r['kind']!r} is not one of {', '.join(KINDS)}")
        if r["qualifier"] not in QUALIFIERS + ("range",):
            raise bad(f"qualifier {r['qualifier']!r} is not one of {', '.join(QUALIFIERS)} or range")
        if r["status"] not in STATUSES:
            raise bad(f"status {r['status']!r} is not one of {', '.join(STATUSES)}")
        cumulative = r["period"].startswith("../")
        period = r["period"].removeprefix("../")
        if not re.fullmatch(r"(19|20)\d\d", period):
            raise bad(f"period {r['period']!r} is not a year (2023) or a cumulative ../2023")
        fact_area = r["area"] or area
        if fact_area and fact_area not in ds.districts:
            raise bad(f"unknown area {fact_area!r}; areas are GB/T 2260 codes of data/vocab")
        ind = r["indicator"]
        if ind.startswith(INDICATOR_BASE):
            ind = ind[len(INDICATOR_BASE):]
            if ind not in scheme:
                raise bad(f"indicator {r['indicator']} is not in the shared scheme")
        elif ind and ind in scheme:
            pass
        else:
            label = r["indicator_label"]
            if not label:
                raise bad("a new indicator needs its zh label in indicator_label")
            if ind and not SLUG_RE.match(ind):
                raise bad(f"indicator {ind!r} is neither a scheme IRI nor a slug")
            key = ind or label
            if key not in new_inds:
                new_inds[key] = (ind or f"{name}-indicator-{len(new_inds) + 1:03d}", label)
            ind = new_inds[key][0]
        a, b = start - s.start, end - s.start
        lead = re.search(r"(?:第|超过|超|突破|近|约|逾|不低于|不超过|增长|下降|提高|提升|回落|增加|减少|高于全[国省市])$",
                         s.text[:a])
        mention = _unique_mention(s.text, lead.start() if lead else a, _mention_end(s.text, b))
        notes = []
        if cumulative:
            notes.append(f"cumulative (累计) up to {period}")
        values = [(r["value_text"], r["qualifier"])]
        if r["qualifier"] == "range":
            parts = re.split(r"[%％]?[-－—~～至到]+", r["value_text"].rstrip("%％"))
            if len(parts) != 2:
                raise bad(f"range {r['value_text']!r} is not written as two numbers")
            values = [(parts[0], "at-least"), (parts[1], "at-most")]
            notes.append(f"the range {r['value_text']} as written")
        for k, (vt, qual) in enumerate(values):
            words = ""
            if not re.fullmatch(r"\d+(?:\.\d+)?", vt):
                number = _cn_number(vt) if "分之" not in vt else None
                if number is None:
                    try:
                        number = Decimal(r["value"])
                    except InvalidOperation:
                        raise bad(f"value {r['value']!r} is not a number") from None
                words = vt   # data/README: value_text keeps the Chinese numerals as written
                vt = format(number.normalize(), "f")
            fid = "-".join([ind] + ([r["kind"]] if r["kind"] not in ("level", "count") else [])
                           + (["target"] if r["status"] == "target" else []) + [period])
            n = 2
            while fid in seen_ids:
                fid, n = f"{ind}-{period}-{n}", n + 1
            seen_ids.add(fid)
            facts.append({"id": fid, "passage": s.id, "mention": mention, "value": vt,
                          "value_text": words, "cumulative": "yes" if cumulative else "",
                          "unit": unit, "kind": r["kind"], "qualifier": qual,
                          "status": r["status"], "period": period, "indicator": ind, "about": "",
                          "area": r["area"] or area, "note": "; ".join(notes)})
    folder = Path(data_dir) / "drafts" / name
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "source.txt": text,
        f"{name}.facts.csv": _csv(FACT_COLUMNS, facts),
        f"{name}.indicators.csv": _csv(INDICATOR_COLUMNS, [
            {"slug": slug, "label_zh": label, "label_en": "",
             "note": f"suggested by econplan draft for {name}"}
            for slug, label in new_inds.values()]),
        "draft.txt": "".join(f"{k}={v}\n" for k, v in (
            ("name", name), ("year", year), ("area", area),
            ("review", "reviewed" if reviewed else "drafted"), ("source", source))),
    }
    for fname, content in files.items():  # write all or nothing: temp files, then rename
        (folder / (fname + ".tmp")).write_text(content, encoding="utf-8", newline="")
    for fname in files:
        (folder / (fname + ".tmp")).replace(folder / fname)
    return folder


def _csv(columns, rows) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", restval="")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


# --- the dataset folder -> RDF ---------------------------------------------------


@dataclass
class DraftDataset:
    name: str
    folder: Path
    meta: dict[str, str]
    text: str
    facts: list[dict]
    indicators: list[dict]


def read_draft_dataset(folder: Path) -> DraftDataset:
    folder = Path(folder)
    name = folder.name
    try:
        meta = dict(line.split("=", 1) for line in
                    (folder / "draft.txt").read_text(encoding="utf-8").splitlines() if "=" in line)
        text = (folder / "source.txt").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(f"{exc.filename}: missing in the drafted dataset {folder}") from None
    if meta.get("review") not in REVIEW:
        raise DataError(f"{folder / 'draft.txt'}: review must be drafted or reviewed")

    def rows(path: Path) -> list[dict]:
        if not path.exists():
            return []
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    return DraftDataset(name, folder, meta, text, rows(folder / f"{name}.facts.csv"),
                        rows(folder / f"{name}.indicators.csv"))


def _lit(text: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def draft_quads(root: Path, graph_iri, ds=None) -> list[ox.Quad]:
    """The quads of every ``data/drafts/*/`` folder under the project ``root``.

    ``ds`` is the curated dataset (units, districts, indicators) when the caller has it."""
    out: list[ox.Quad] = []
    drafts = Path(root) / "data" / "drafts"
    if not drafts.is_dir():
        return out
    ds = ds or load_dataset(Path(root) / "data")
    for folder in sorted(p for p in drafts.iterdir() if p.is_dir()):
        d = read_draft_dataset(folder)
        out.extend(_dataset_quads(d, ds, root, graph_iri))
    return out


def _dataset_quads(d: DraftDataset, ds, root: Path, graph_iri) -> list[ox.Quad]:
    base = draft_base(d.name)
    report = ox.NamedNode(base)
    dataset = ox.NamedNode(base + "/dataset")
    quads: list[ox.Quad] = []
    year = d.meta.get("year", "")
    area = d.meta.get("area", "")

    def add(g, s, p, o):
        quads.append(ox.Quad(s, p, o, g))

    def passage(pid: str) -> ox.NamedNode:
        return ox.NamedNode(f"{base}/passage/{pid}")

    g = graph_iri(root, d.folder / "source.txt")
    title = d.text.split("\n", 1)[0][:80]
    add(g, report, V.RDF_TYPE, V.EP.Report)
    add(g, report, V.RDFS_LABEL, _lit(title, "zh"))
    add(g, report, V.RDFS_LABEL, _lit(f"Drafted dataset {d.name}", "en"))
    if re.fullmatch(r"\d{4}", year):
        add(g, report, V.DCTERMS.temporal, ox.Literal(year, datatype=V.XSD_GYEAR))
    if area:
        add(g, report, V.DCTERMS.spatial, V.district(area))
    add(g, report, V.DCTERMS.source,
        ox.NamedNode(f"https://w3id.org/econplan/source/drafts/{d.name}/source.txt"))
    if d.meta.get("source"):
        add(g, report, V.RDFS_COMMENT, _lit(f"Drafted from {d.meta['source']}", "en"))
    add(g, dataset, V.RDF_TYPE, V.QB.DataSet)
    add(g, dataset, V.RDFS_LABEL, _lit(f"{d.name} 起草的数据", "zh"))
    add(g, dataset, V.RDFS_LABEL, _lit(f"Drafted figures of {d.name}", "en"))
    add(g, dataset, V.QB.structure, V.EP.structure)
    add(g, dataset, V.DCTERMS.source, report)
    for p in passages(d.text):
        s = passage(p.id)
        add(g, s, V.RDF_TYPE, V.EP.Sentence if p.is_sentence else V.EP.Paragraph)
        add(g, s, V.EP.passageId, _lit(p.id))
        add(g, s, V.OA.exact, _lit(p.text))
        add(g, s, V.OA.start, ox.Literal(str(p.start), datatype=V.XSD_INTEGER))
        add(g, s, V.OA.end, ox.Literal(str(p.end), datatype=V.XSD_INTEGER))
        add(g, s, V.EP.report, report)
        add(g, s, V.DCTERMS.isPartOf, passage(p.paragraph) if p.is_sentence else report)
        if p.is_sentence:
            add(g, s, V.EP.paragraph, passage(p.paragraph))
        kind_zh, kind_en = ("句子", "sentence") if p.is_sentence else ("段落", "paragraph")
        add(g, s, V.RDFS_LABEL, _lit(f"{kind_zh} {p.id}", "zh"))
        add(g, s, V.RDFS_LABEL, _lit(f"{kind_en} {p.id}", "en"))

    labels = {i.slug: (i.label_zh, i.label_en) for i in ds.indicators.values()}
    gi = graph_iri(root, d.folder / f"{d.name}.indicators.csv")
    for ind in d.indicators:
        s = V.indicator(ind["slug"])
        labels[ind["slug"]] = (ind["label_zh"], ind["label_en"])
        add(gi, s, V.RDF_TYPE, V.EP.Indicator)
        add(gi, s, V.RDF_TYPE, V.SKOS.Concept)
        add(gi, s, V.SKOS.inScheme, V.INDICATOR_SCHEME)
        add(gi, s, V.SKOS.topConceptOf, V.INDICATOR_SCHEME)
        add(gi, s, V.RDFS_LABEL, _lit(ind["label_zh"], "zh"))
        add(gi, s, V.SKOS.prefLabel, _lit(ind["label_zh"], "zh"))
        add(gi, s, V.SKOS.notation, _lit(ind["slug"]))
        if ind.get("note"):
            add(gi, s, V.SKOS.scopeNote, _lit(ind["note"], "en"))

    gf = graph_iri(root, d.folder / f"{d.name}.facts.csv")
    sentences = {p.id: p for p in passages(d.text)}
    review = V.EP[d.meta["review"]]
    for f in d.facts:
        s = ox.NamedNode(f"{base}/fact/{f['id']}")
        p = sentences[f["passage"]]
        status = f["status"]
        for cls in V.fact_classes(status):  # the superclasses too (queries need no reasoner)
            add(gf, s, V.RDF_TYPE, cls)
        add(gf, s, V.QB.dataSet, dataset)
        zh_ind, en_ind = labels.get(f["indicator"], (f["indicator"], ""))
        unit = ds.units[f["unit"]]
        kind_zh, kind_en = V.KIND_LABELS[f["kind"]]
        add(gf, s, V.RDFS_LABEL, _lit(f"{f['period']}年{zh_ind}({kind_zh}):{f['value']}{unit.symbol}",
                                      "zh"))
        if en_ind:
            add(gf, s, V.RDFS_LABEL, _lit(f"{en_ind}, {kind_en}, {f['period']}: {f['value']} "
                                          f"{unit.label_en}", "en"))
        add(gf, s, V.EP.indicator, V.indicator(f["indicator"]))
        add(gf, s, V.EP.refArea, V.district(f["area"] or CURATED_CITY))
        add(gf, s, V.EP.refPeriod, ox.Literal(f["period"], datatype=V.XSD_GYEAR))
        add(gf, s, V.EP.kind, V.EP_KIND[f["kind"]])
        add(gf, s, V.EP.unit, V.unit(f["unit"]))
        add(gf, s, V.EP.qualifier, V.EP_QUALIFIER[f["qualifier"]])
        add(gf, s, V.EP.status, V.EP_STATUS[status])
        add(gf, s, V.EP.reviewStatus, review)
        add(gf, s, V.EP.value, ox.Literal(f["value"], datatype=V.XSD_DECIMAL))
        add(gf, s, V.EP.mention, _lit(f["mention"]))
        pos = p.text.find(f["value"], p.text.find(f["mention"]))
        if f["value"] in f["mention"] and pos >= 0:  # written in digits: where it is
            add(gf, s, V.EP.valueText, _lit(f["value"]))
            add(gf, s, V.EP.valueStart, ox.Literal(str(p.start + pos), datatype=V.XSD_INTEGER))
            add(gf, s, V.EP.valueEnd, ox.Literal(str(p.start + pos + len(f["value"])),
                                                 datatype=V.XSD_INTEGER))
        add(gf, s, V.PROV.wasDerivedFrom, passage(p.id))
        add(gf, s, V.EP.report, report)
        if f.get("note"):
            add(gf, s, V.RDFS_COMMENT, _lit(f["note"], "en"))
    # a county the vocabulary graph does not describe: this graph does
    return quads + dataset_area_quads((f["area"] or CURATED_CITY for f in d.facts),
                                      described_by_datasets(ds.area_types, ds.districts), gf)
