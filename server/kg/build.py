"""Curated files -> RDF quads, one named graph per source file.

``build_quads(root)`` returns every quad of the knowledge graph; it is pure and
deterministic (sorted output, blank nodes renamed by file and position), so two
builds give byte-identical dumps.  ``build(root, out)`` also writes the on-disk
pyoxigraph store and the TriG and N-Quads dumps, atomically.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from . import vocab as V
from .curation import Dataset, Entity, Fact, load_dataset
from .errors import DataError
from .loading import parse_file
from .source import passages

RDF_SUFFIXES = (".ttl", ".trig", ".nt", ".nq", ".jsonld", ".rdf")


def graph_iri(root: Path, path: Path) -> ox.NamedNode:
    """The named graph of a source file: its path relative to the project, without suffix."""
    rel = path.relative_to(root).as_posix()
    for suffix in (".csv", *RDF_SUFFIXES, ".txt"):
        if rel.endswith(suffix):
            rel = rel[: -len(suffix)]
    return ox.NamedNode(V.GRAPH + rel)


def _lit(text: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=V.XSD_INTEGER)


class _Graph:
    """Collects the triples of one named graph."""

    def __init__(self, name: ox.NamedNode):
        self.name = name
        self.quads: list[ox.Quad] = []

    def add(self, s, p, o) -> None:
        self.quads.append(ox.Quad(s, p, o, self.name))

    def labels(self, s, zh: str, en: str) -> None:
        self.add(s, V.RDFS_LABEL, _lit(zh, "zh"))
        if en:
            self.add(s, V.RDFS_LABEL, _lit(en, "en"))
            self.add(s, V.EP.englishLabelStatus, V.EP.editorialTranslation)


def _entity_iri(etype: str, slug: str) -> ox.NamedNode:
    return {"project": V.project, "policy": V.policy, "domain": V.domain,
            "workarea": V.workarea, "district": V.district}[etype](slug)


def _passages_graph(ds: Dataset, g: _Graph) -> None:
    report = V.REPORT
    for p in passages(ds.text):
        s = V.passage(p.id)
        g.add(s, V.RDF_TYPE, V.EP.Sentence if p.is_sentence else V.EP.Paragraph)
        g.add(s, V.EP.passageId, _lit(p.id))
        g.add(s, V.OA.exact, _lit(p.text))
        g.add(s, V.OA.start, _int(p.start))
        g.add(s, V.OA.end, _int(p.end))
        g.add(s, V.EP.report, report)
        g.add(s, V.DCTERMS.isPartOf, V.passage(p.paragraph) if p.is_sentence else report)
        if p.is_sentence:
            g.add(s, V.EP.paragraph, V.passage(p.paragraph))
        kind_zh, kind_en = ("句子", "sentence") if p.is_sentence else ("段落", "paragraph")
        g.add(s, V.RDFS_LABEL, _lit(f"{kind_zh} {p.id}", "zh"))
        g.add(s, V.RDFS_LABEL, _lit(f"{kind_en} {p.id}", "en"))


def _units_graph(ds: Dataset, g: _Graph) -> None:
    g.add(V.UNIT_SCHEME, V.RDF_TYPE, V.SKOS.ConceptScheme)
    g.labels(V.UNIT_SCHEME, "计量单位", "Units")
    for u in ds.units.values():
        s = V.unit(u.slug)
        g.add(s, V.RDF_TYPE, V.EP.Unit)
        g.add(s, V.RDF_TYPE, V.SKOS.Concept)
        g.add(s, V.SKOS.inScheme, V.UNIT_SCHEME)
        g.labels(s, u.label_zh, u.label_en)
        g.add(s, V.SKOS.notation, _lit(u.slug))
        g.add(s, V.EP.symbol, _lit(u.symbol))
        g.add(s, V.EP.multiplier, ox.Literal(str(u.multiplier), datatype=V.XSD_DECIMAL))
        g.add(s, V.EP.baseUnit, _lit(u.base))
        if u.qudt:
            g.add(s, V.SKOS.closeMatch, ox.NamedNode(u.qudt))


def _districts_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    for d in ds.districts.values():
        if d.source_file != path:
            continue
        s = V.district(d.key)
        g.add(s, V.RDF_TYPE, V.EP.District)
        g.labels(s, d.name_zh, d.name_en)
        g.add(s, V.SCHEMA.name, _lit(d.name_zh, "zh"))
        if d.gb2260:
            g.add(s, V.EP.gb2260, _lit(d.gb2260))
            g.add(s, V.EP.gb2260Wikidata, _lit(f"{d.gb2260[:2]} {d.gb2260[2:4]} {d.gb2260[4:]}"))
        if d.iso:
            g.add(s, V.SCHEMA.identifier, _lit(d.iso))
        if d.geonames:
            g.add(s, V.OWL_SAMEAS, ox.NamedNode(f"https://sws.geonames.org/{d.geonames}/"))
        if d.kind:
            g.add(s, V.SCHEMA.additionalType, _lit(d.kind))
        if d.parent:
            g.add(s, V.SCHEMA.containedInPlace, V.district(d.parent))
        if d.wikidata:
            g.add(s, V.OWL_SAMEAS, ox.NamedNode(V.WD + d.wikidata))
        for alias in d.aliases:
            g.add(s, V.SKOS.altLabel, _lit(alias, "zh"))


def _indicators_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    for ind in ds.indicators.values():
        if ind.source_file != path:
            continue
        s = V.indicator(ind.slug)
        g.add(s, V.RDF_TYPE, V.EP.Indicator)
        g.add(s, V.RDF_TYPE, V.SKOS.Concept)
        g.add(s, V.SKOS.inScheme, V.INDICATOR_SCHEME)
        g.labels(s, ind.label_zh, ind.label_en)
        g.add(s, V.SKOS.prefLabel, _lit(ind.label_zh, "zh"))
        g.add(s, V.SKOS.prefLabel, _lit(ind.label_en, "en"))
        g.add(s, V.SKOS.notation, _lit(ind.slug))
        if ind.broader:
            g.add(s, V.SKOS.broader, V.indicator(ind.broader))
        else:
            g.add(s, V.SKOS.topConceptOf, V.INDICATOR_SCHEME)
        if ind.wikidata:
            g.add(s, V.SKOS.closeMatch, ox.NamedNode(V.WD + ind.wikidata))
        if ind.plan_2023:
            g.add(s, V.EP.planStatus, V.EP.met if ind.plan_2023 == "met" else V.EP.unmet)
        if ind.reason_zh:
            g.add(s, V.EP.shortfallReason, _lit(ind.reason_zh, "zh"))
        if ind.reason_en:
            g.add(s, V.EP.shortfallReason, _lit(ind.reason_en, "en"))
        if ind.reason_passage:
            g.add(s, V.PROV.wasDerivedFrom, V.passage(ind.reason_passage.id))
        if ind.note:
            g.add(s, V.SKOS.scopeNote, _lit(ind.note, "en"))


def _entities_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    for e in ds.entities.values():
        if e.source_file != path:
            continue
        s = _entity_iri(e.type, e.slug)
        cls = {"project": V.EP.Project, "policy": V.EP.Policy, "domain": V.EP.Domain,
               "workarea": V.EP.WorkArea}[e.type]
        g.add(s, V.RDF_TYPE, cls)
        g.labels(s, e.label_zh, e.label_en)
        g.add(s, V.SCHEMA.name, _lit(e.label_zh, "zh"))
        g.add(s, V.EP.report, V.REPORT)
        g.add(s, V.EP.nameStatus, V.EP.editorial if e.editorial else V.EP.asStated)
        if e.type in ("domain", "workarea"):
            g.add(s, V.RDF_TYPE, V.SKOS.Concept)
            scheme = V.DOMAIN_SCHEME if e.type == "domain" else V.WORKAREA_SCHEME
            g.add(s, V.SKOS.inScheme, scheme)
            g.add(s, V.SKOS.prefLabel, _lit(e.label_zh, "zh"))
            g.add(s, V.SKOS.prefLabel, _lit(e.label_en, "en"))
            if e.domain:
                g.add(s, V.SKOS.broader, V.workarea(e.domain))
            else:
                g.add(s, V.SKOS.topConceptOf, scheme)
        elif e.domain:
            target = V.domain(e.domain) if ("domain", e.domain) in ds.entities else V.workarea(e.domain)
            g.add(s, V.EP.domain, target)
        if e.district:
            g.add(s, V.EP.district, V.district(e.district))
        if e.passage:
            g.add(s, V.PROV.wasDerivedFrom, V.passage(e.passage.id))
        if e.note:
            g.add(s, V.RDFS_COMMENT, _lit(e.note, "en"))


def _work_item_by_paragraph(ds: Dataset) -> dict[str, Entity]:
    """Paragraphs p041…p068 each state one numbered work item of the 2024 plan."""
    return {e.passage.paragraph: e for e in ds.entities.values()
            if e.type == "workarea" and e.domain and e.passage}


def fact_labels(ds: Dataset, f: Fact) -> tuple[str, str]:
    """The fact's zh and en labels, its number readable (server.kg.numbers): 20059 亿元 reads
    2.0059万亿元(20059亿元) and "2.0059 trillion yuan (20,059 亿元)"; qualifiers in words."""
    from . import numbers as N

    ind = ds.indicators[f.indicator]
    unit = ds.units[f.unit]
    kind_zh = V.KIND_LABELS[f.kind][0]
    kind_en = V.KIND_LABELS[f.kind][1]
    status_zh = {"actual": "", "target": "目标", "expected": "预计"}[f.status]
    status_en = {"actual": "", "target": " target", "expected": " (expected)"}[f.status]
    nu = N.Unit(symbol=unit.symbol, multiplier=str(unit.multiplier), base=unit.base, label_en=unit.label_en)
    value = f.value_text or None
    zh_r = N.readable(value, nu, qualifier=f.qualifier, kind=f.kind, lang="zh")
    en_r = N.readable(value, nu, qualifier=f.qualifier, kind=f.kind, lang="en")
    zh_value = f"{zh_r.text}({zh_r.note})" if zh_r.note else zh_r.text
    en_value = str(en_r) if f.value_text else "(value lost)"
    zh = f"{f.period}年{ind.label_zh}({kind_zh}{status_zh}):{zh_value if f.value_text else '(数值缺失)'}"
    en = f"{ind.label_en}, {kind_en}{status_en}, {f.period}: {en_value}"
    return zh, en


def _facts_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    items = _work_item_by_paragraph(ds)
    for f in ds.facts:
        if f.source_file != path:
            continue
        s = V.fact(f.id)
        g.add(s, V.RDF_TYPE, V.EP.Target if f.status == "target" else V.EP.Observation)
        g.add(s, V.QB.dataSet, V.DATASET)
        zh, en = fact_labels(ds, f)
        g.add(s, V.RDFS_LABEL, _lit(zh, "zh"))
        g.add(s, V.RDFS_LABEL, _lit(en, "en"))
        g.add(s, V.EP.englishLabelStatus, V.EP.editorialTranslation)
        g.add(s, V.EP.indicator, V.indicator(f.indicator))
        g.add(s, V.EP.refArea, V.district(f.area))
        g.add(s, V.EP.refPeriod, ox.Literal(f.period, datatype=V.XSD_GYEAR))
        g.add(s, V.EP.kind, V.EP_KIND[f.kind])
        g.add(s, V.EP.unit, V.unit(f.unit))
        g.add(s, V.EP.qualifier, V.EP_QUALIFIER[f.qualifier])
        g.add(s, V.EP.status, V.EP_STATUS[f.status])
        if f.value is None:
            g.add(s, V.EP.valueLost, ox.Literal("true", datatype=V.XSD_BOOLEAN))
        else:
            g.add(s, V.EP.value, ox.Literal(f.value_text, datatype=V.XSD_DECIMAL))
            g.add(s, V.EP.valueText, _lit(f.value_text))
            g.add(s, V.EP.valueStart, _int(f.value_start))
            g.add(s, V.EP.valueEnd, _int(f.value_start + len(f.value_text)))
        g.add(s, V.EP.mention, _lit(f.mention))
        g.add(s, V.PROV.wasDerivedFrom, V.passage(f.passage.id))
        g.add(s, V.EP.report, V.REPORT)
        for etype, slug in f.about:
            g.add(s, V.EP.about, _entity_iri(etype, slug))
        item = items.get(f.passage.paragraph)
        if item is not None:
            g.add(s, V.EP.workArea, V.workarea(item.slug))
        if f.note:
            g.add(s, V.RDFS_COMMENT, _lit(f.note, "en"))


def _schemes_graph(g: _Graph) -> None:
    for scheme, zh, en in ((V.INDICATOR_SCHEME, "指标体系", "Indicator scheme"),
                           (V.DOMAIN_SCHEME, "投资领域", "Investment domains"),
                           (V.WORKAREA_SCHEME, "2024年工作方面", "Work areas of the 2024 plan")):
        g.add(scheme, V.RDF_TYPE, V.SKOS.ConceptScheme)
        g.labels(scheme, zh, en)


def _rename_blank_nodes(quads, salt: str) -> list[ox.Quad]:
    """Give blank nodes stable labels: a hash of the file and their order of appearance."""
    names: dict[str, ox.BlankNode] = {}
    prefix = hashlib.sha1(salt.encode()).hexdigest()[:8]

    def fix(term):
        if isinstance(term, ox.BlankNode):
            if term.value not in names:
                names[term.value] = ox.BlankNode(f"b{prefix}n{len(names)}")
            return names[term.value]
        return term

    return [ox.Quad(fix(q.subject), q.predicate, fix(q.object), q.graph_name) for q in quads]


@dataclass
class GraphFile:
    path: Path
    graph: ox.NamedNode


def rdf_files(root: Path) -> list[Path]:
    files = []
    for folder in ("ontology", "shapes", "data"):
        for p in sorted((root / folder).rglob("*")):
            if p.suffix in RDF_SUFFIXES and p.is_file():
                files.append(p)
    return files


def build_quads(root: Path) -> list[ox.Quad]:
    """Every quad of the knowledge graph built from ``root`` (the project folder), sorted."""
    root = Path(root)
    ds = load_dataset(root / "data")
    graphs: list[_Graph] = []

    def new(path: Path) -> _Graph:
        g = _Graph(graph_iri(root, path))
        graphs.append(g)
        return g

    _passages_graph(ds, new(root / "data" / "source" / "report-clean.txt"))
    for path, kind in ds.files.items():
        g = new(path)
        if kind == "units":
            _units_graph(ds, g)
        elif kind == "districts":
            _districts_graph(ds, path, g)
        elif kind == "indicators":
            _indicators_graph(ds, path, g)
        elif kind == "entities":
            _entities_graph(ds, path, g)
        elif kind == "facts":
            _facts_graph(ds, path, g)
    _schemes_graph(new(root / "data" / "vocab" / "schemes.csv"))
    from .citycsv import Lookups, csv_to_quads, mapping_for, read_mapping

    lookups = Lookups.from_dataset(ds)
    for path in sorted((root / "data" / "cities").glob("*.csv")):
        g = new(path)
        g.quads.extend(csv_to_quads(path, read_mapping(mapping_for(path)), lookups, g.name))
    quads = [q for g in graphs for q in g.quads]
    for path in rdf_files(root):
        name = graph_iri(root, path)
        parsed = parse_file(path, default_graph=name)
        quads.extend(_rename_blank_nodes(parsed, str(path.relative_to(root))))
    return sort_quads(quads)


def sort_quads(quads) -> list[ox.Quad]:
    return sorted(set(quads), key=lambda q: (str(q.graph_name), str(q.subject),
                                             str(q.predicate), str(q.object)))


def graph_counts(quads) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in quads:
        counts[q.graph_name.value] = counts.get(q.graph_name.value, 0) + 1
    return dict(sorted(counts.items()))


def write_dumps(quads, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "econplan.nq").write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    (out / "econplan.trig").write_bytes(
        ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=V.PREFIXES) or b"")


def build(root: Path, out: Path) -> dict[str, int]:
    """Build the store and dumps under ``out``; replaces them atomically. Returns triple counts."""
    root, out = Path(root), Path(out)
    quads = build_quads(root)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
    try:
        store = ox.Store(str(tmp / "store"))
        store.bulk_extend(quads)
        store.flush()
        store.optimize()
        del store
        write_dumps(quads, tmp)
        for name in ("econplan.nq", "econplan.trig"):
            (tmp / name).replace(out / name)
        old = out / "store"
        if old.exists():
            trash = out / ".store-old"
            shutil.rmtree(trash, ignore_errors=True)
            old.rename(trash)
            (tmp / "store").rename(old)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            (tmp / "store").rename(old)
        from .store import version_of

        (out / "store.version").write_text(version_of(out) + "\n")
    except OSError as exc:
        raise DataError(f"{out}: could not write the build ({exc.strerror})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return graph_counts(quads)
