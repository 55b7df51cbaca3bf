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
from .curation import Dataset, Entity, Fact, load_dataset, part_of
from .errors import DataError
from .loading import parse_file
from .source import passages

SOURCE_DATA = V.BASE + "source/data/"
RDF_SUFFIXES = (".ttl", ".trig", ".nt", ".nq", ".jsonld", ".rdf")


#: Folders under data/ whose CSV files are not published tables read through a mapping:
#: material kept as it was gathered (data/sources/) and drafts (data/drafts/, read by drafts.py).
NOT_TABLES = ("sources", "drafts")

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

    def concept(self, s, cls, scheme, zh: str, en: str, notation: str | None = None) -> None:
        """``s`` as an instance of ``cls`` and a SKOS concept of ``scheme``, with its zh/en
        labels (rdfs:label and skos:prefLabel) and its notation."""
        if cls is not None:
            self.add(s, V.RDF_TYPE, cls)
        self.add(s, V.RDF_TYPE, V.SKOS.Concept)
        self.add(s, V.SKOS.inScheme, scheme)
        self.labels(s, zh, en)
        self.add(s, V.SKOS.prefLabel, _lit(zh, "zh"))
        self.add(s, V.SKOS.prefLabel, _lit(en, "en"))
        if notation is not None:
            self.add(s, V.SKOS.notation, _lit(notation))


def _entity_iri(etype: str, slug: str) -> ox.NamedNode:
    make = {"project": V.project, "policy": V.policy, "domain": V.domain,
            "workarea": V.workarea, "district": V.district}.get(etype)
    return make(slug) if make else V.named(etype, slug)


#: The classes of an entity kind, the superclasses asserted too (queries need no reasoner).
KIND_CLASSES = {
    "project": ("Project",), "policy": ("Policy",), "programme": ("Programme", "Policy"),
    "pilot": ("Pilot", "Programme", "Policy"), "platform": ("Platform",),
    "organization": ("Organization",), "event": ("Event",), "zone": ("Zone",),
    "domain": ("Domain",), "workarea": ("WorkArea",),
}


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
        g.concept(s, V.EP.Unit, V.UNIT_SCHEME, u.label_zh, u.label_en, u.slug)
        g.add(s, V.EP.symbol, _lit(u.symbol))
        for alias in u.aliases:  # another spelling of the symbol (億元 for 亿元)
            g.add(s, V.SKOS.altLabel, _lit(alias, "zh"))
        g.add(s, V.EP.multiplier, ox.Literal(str(u.multiplier), datatype=V.XSD_DECIMAL))
        g.add(s, V.EP.baseUnit, _lit(u.base))
        if u.qudt:
            g.add(s, V.SKOS.closeMatch, ox.NamedNode(u.qudt))


#: The curated report's city: its county-level divisions are described in the vocabulary graph.
CURATED_CITY = "330100"


def in_vocabulary(d, area_types) -> bool:
    """Is area ``d`` described in the vocabulary graph?  The country, the provinces and
    prefectures, and the curated city's counties are; any other county-level area of
    data/vocab/areas.csv (2,833 of them) is described in the graph of each dataset whose facts
    are about it (:func:`dataset_area_quads`), so the graph holds the areas the data speaks of."""
    return area_types.get(d.kind, ("", "", ""))[2] != "county" or d.parent == CURATED_CITY


def described_by_datasets(area_types: dict, districts: dict) -> dict:
    """The areas (key -> District) that the vocabulary graph leaves to the datasets about them."""
    return {k: d for k, d in districts.items() if not in_vocabulary(d, area_types)}


def dataset_area_quads(codes, counties: dict, graph: ox.NamedNode) -> list[ox.Quad]:
    """The descriptions, in a dataset's ``graph``, of the areas among ``codes`` (its facts'
    areas) that the vocabulary graph does not describe (``counties``: described_by_datasets)."""
    g = _Graph(graph)
    for code in sorted(set(codes)):
        if code in counties:
            _district(g, counties[code])
    return g.quads


def _districts_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    for d in ds.districts.values():
        if d.source_file == path and in_vocabulary(d, ds.area_types):
            _district(g, d)


def _district(g: _Graph, d) -> None:
    s = V.district(d.key)
    g.add(s, V.RDF_TYPE, V.EP.District)
    g.labels(s, d.name_zh, d.name_en)
    g.add(s, V.SKOS.prefLabel, _lit(d.name_zh, "zh"))
    g.add(s, V.SKOS.prefLabel, _lit(d.name_en, "en"))
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
        g.add(s, V.EP.areaType, V.area_type(d.kind))
    if d.short_zh and d.short_zh != d.name_zh:
        g.add(s, V.SKOS.altLabel, _lit(d.short_zh, "zh"))
    if d.parent:
        g.add(s, V.SCHEMA.containedInPlace, V.district(d.parent))
    if d.wikidata:
        g.add(s, V.OWL_SAMEAS, ox.NamedNode(V.WD + d.wikidata))
    for alias in d.aliases:
        if alias != d.short_zh:
            g.add(s, V.SKOS.altLabel, _lit(alias, "zh"))


def _area_types_graph(ds: Dataset, g: _Graph) -> None:
    g.add(V.AREA_TYPE_SCHEME, V.RDF_TYPE, V.SKOS.ConceptScheme)
    g.labels(V.AREA_TYPE_SCHEME, "行政区划类型", "Types of administrative division")
    for name, (zh, en, level) in ds.area_types.items():
        s = V.area_type(name)
        g.concept(s, V.EP.AreaType, V.AREA_TYPE_SCHEME, zh, en, name)
        g.add(s, V.EP.adminLevel, V.EP[f"{level}Level"])


def _indicators_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    for ind in ds.indicators.values():
        if ind.source_file != path:
            continue
        s = V.indicator(ind.slug)
        g.concept(s, V.EP.Indicator, V.INDICATOR_SCHEME, ind.label_zh, ind.label_en, ind.slug)
        for alt in ind.alt_labels:  # Latin-script names (GDP, CPI) are tagged en, the others zh
            g.add(s, V.SKOS.altLabel, _lit(alt, "en" if alt.isascii() else "zh"))
        if ind.broader:
            g.add(s, V.SKOS.broader, V.indicator(ind.broader))
        else:
            g.add(s, V.SKOS.topConceptOf, V.INDICATOR_SCHEME)
        if ind.wikidata:
            g.add(s, V.SKOS.closeMatch, ox.NamedNode(V.WD + ind.wikidata))
        if ind.note:
            g.add(s, V.SKOS.scopeNote, _lit(ind.note, "en"))


def _plan_status_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    """One ep:PlanAssessment per area, year and indicator: never a property of the indicator."""
    for pa in ds.plan_assessments:
        if pa.source_file != path:
            continue
        s = V.plan_assessment(pa.area, pa.year, pa.indicator)
        ind, area = ds.indicators[pa.indicator], ds.districts[pa.area]
        g.add(s, V.RDF_TYPE, V.EP.PlanAssessment)
        status_zh, status_en = {"met": ("达到目标", "met"), "unmet": ("未达目标", "not met")}[pa.status]
        g.add(s, V.RDFS_LABEL, _lit(f"{pa.year}年{area.name_zh}计划指标“{ind.label_zh}”:{status_zh}", "zh"))
        g.add(s, V.RDFS_LABEL, _lit(f"{area.name_en} {pa.year} plan, {ind.label_en}: {status_en}", "en"))
        g.add(s, V.EP.englishLabelStatus, V.EP.editorialTranslation)
        g.add(s, V.EP.assessedIndicator, V.indicator(pa.indicator))
        g.add(s, V.EP.refArea, V.district(pa.area))
        g.add(s, V.EP.refPeriod, ox.Literal(pa.year, datatype=V.XSD_GYEAR))
        g.add(s, V.EP.planStatus, V.EP.met if pa.status == "met" else V.EP.unmet)
        if pa.reason_zh:
            g.add(s, V.EP.shortfallReason, _lit(pa.reason_zh, "zh"))
            g.add(s, V.EP.shortfallReason, _lit(pa.reason_en, "en"))
        g.add(s, V.EP.mention, _lit(pa.mention))
        g.add(s, V.PROV.wasDerivedFrom, V.passage(pa.passage.id))
        g.add(s, V.EP.report, V.REPORT)


def _entities_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    items = _work_item_by_paragraph(ds)
    for e in ds.entities.values():
        if e.source_file != path:
            continue
        s = _entity_iri(e.type, e.slug)
        for cls in KIND_CLASSES[e.kind]:
            g.add(s, V.RDF_TYPE, V.EP[cls])
        g.labels(s, e.label_zh, e.label_en)
        g.add(s, V.SCHEMA.name, _lit(e.label_zh, "zh"))
        for alt in e.alt_labels:
            g.add(s, V.SKOS.altLabel, _lit(alt, "zh"))
        for p in e.passages:
            g.add(s, V.PROV.wasDerivedFrom, V.passage(p.id))
            g.add(s, V.EP.reportPart, V.EP.review if part_of(p) == "review" else V.EP.plan)
            item = items.get(p.paragraph)
            if item is not None:
                g.add(s, V.EP.workArea, V.workarea(item.slug))
        g.add(s, V.EP.report, V.REPORT)
        g.add(s, V.EP.nameStatus, V.EP.editorial if e.editorial else V.EP.asStated)
        if e.kind in ("domain", "workarea"):
            g.add(s, V.RDF_TYPE, V.SKOS.Concept)
            scheme = V.DOMAIN_SCHEME if e.kind == "domain" else V.WORKAREA_SCHEME
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
            if e.kind == "workarea" and e.domain and e.passage}


def fact_labels(ds: Dataset, f: Fact) -> tuple[str, str]:
    """The fact's zh and en labels, its number readable (server.kg.numbers): 20059 亿元 reads
    2.0059万亿元(20059亿元) and "2.0059 trillion yuan (20,059 亿元)"; qualifiers in words."""
    from . import numbers as N

    ind = ds.indicators[f.indicator]
    unit = ds.units[f.unit]
    kind_zh = V.KIND_LABELS[f.kind][0]
    kind_en = V.KIND_LABELS[f.kind][1]
    status_zh = {"actual": "", "target": "目标", "expected": "预计", "design": "设计"}[f.status]
    status_en = {"actual": "", "target": " target", "expected": " (expected)",
                 "design": " (design)"}[f.status]
    if f.in_words or not f.value_text:  # 百 (100), 三分之一 (1 third): the words and the number
        value = f.value_text or "(数值缺失)"
        symbol = "" if "分之" in f.value_text else unit.symbol
        nu = N.Unit(symbol=unit.symbol, multiplier=str(unit.multiplier), base=unit.base, label_en=unit.label_en)
        value_en = (f"{f.value_text} = {N.readable(str(f.value), nu, qualifier=f.qualifier, kind=f.kind, lang='en')}"
                    if f.value_text else "(value lost)")
        return (f"{f.period}年{ind.label_zh}({kind_zh}{status_zh}):{value}{symbol}",
                f"{ind.label_en}, {kind_en}{status_en}, {f.period}: {value_en}")
    nu = N.Unit(symbol=unit.symbol, multiplier=str(unit.multiplier), base=unit.base, label_en=unit.label_en)
    zh_r = N.readable(f.value_text, nu, qualifier=f.qualifier, kind=f.kind, lang="zh")
    en_r = N.readable(f.value_text, nu, qualifier=f.qualifier, kind=f.kind, lang="en")
    zh_value = f"{zh_r.text}({zh_r.note})" if zh_r.note else zh_r.text
    zh = f"{f.period}年{ind.label_zh}({kind_zh}{status_zh}):{zh_value}"
    en = f"{ind.label_en}, {kind_en}{status_en}, {f.period}: {en_r}"
    return zh, en


def _facts_graph(ds: Dataset, path: Path, g: _Graph) -> None:
    items = _work_item_by_paragraph(ds)
    for f in ds.facts:
        if f.source_file != path:
            continue
        s = V.fact(f.id)
        for cls in V.fact_classes(f.status):
            g.add(s, V.RDF_TYPE, cls)
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
            g.add(s, V.EP.valueText, _lit(""))  # as written: nothing
        else:
            g.add(s, V.EP.value, ox.Literal(str(f.value), datatype=V.XSD_DECIMAL))
            g.add(s, V.EP.valueText, _lit(f.value_text))
            if f.in_words:
                g.add(s, V.EP.valueInWords, ox.Literal("true", datatype=V.XSD_BOOLEAN))
            g.add(s, V.EP.valueStart, _int(f.value_start))
            g.add(s, V.EP.valueEnd, _int(f.value_start + len(f.value_text)))
        g.add(s, V.EP.mention, _lit(f.mention))
        if f.cumulative:
            g.add(s, V.EP.cumulative, ox.Literal("true", datatype=V.XSD_BOOLEAN))
        if f.scope:
            g.add(s, V.EP.rankScope, V.EP_SCOPE[f.scope])
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
        elif kind == "plan-status":
            _plan_status_graph(ds, path, g)
        elif kind == "area-types":
            _area_types_graph(ds, g)
        elif kind == "indicators":
            _indicators_graph(ds, path, g)
        elif kind == "entities":
            _entities_graph(ds, path, g)
        elif kind == "facts":
            _facts_graph(ds, path, g)
    _schemes_graph(new(root / "data" / "vocab" / "schemes.csv"))
    from .citycsv import Lookups, csv_to_quads, dataset_base, file_key, mapping_for, read_mapping

    # Every other CSV under data/ (but source material, data/sources/, and drafts, data/drafts/,
    # which draft_quads reads) is a published table read through its mapping; it belongs to
    # the dataset of its folder, data/<area-slug>/<dataset-slug>/, which names its IRIs.
    lookups = Lookups.from_dataset(ds)
    handled = set(ds.files)
    for path in sorted((root / "data").rglob("*.csv")):
        if path in handled:
            continue
        rel = path.relative_to(root / "data")
        if rel.parts[0] in NOT_TABLES:
            continue
        if len(rel.parts) >= 4 and rel.parts[2] == "published":  # a table as published, kept beside
            continue                                              # the rows import-table read from it
        mapping = mapping_for(path)
        if len(rel.parts) != 3 or not mapping.exists():
            raise DataError(f"{path}: a table under data/ lives in data/<area-slug>/<dataset-slug>/ "
                            f"with its mapping ({path.stem}.mapping.yaml or mapping.yaml)", path=str(path))
        g = new(path)
        g.quads.extend(csv_to_quads(path, read_mapping(mapping), lookups, g.name,
                                    file_iri=SOURCE_DATA + rel.as_posix(),
                                    base=dataset_base(rel.parts[0], rel.parts[1]), key=file_key(path)))
    quads = [q for g in graphs for q in g.quads]
    from .drafts import draft_quads  # data/drafts/NAME/: written by `econplan draft-accept`

    quads.extend(draft_quads(root, graph_iri, ds))
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


def write_dumps(quads, out: Path, *, folded: int = 0) -> str:
    """The N-Quads dump (with its first line: server.kg.builddir) and the TriG dump of ``quads``
    in the folder ``out``; returns the build id."""
    from . import builddir

    out.mkdir(parents=True, exist_ok=True)
    build_id = builddir.write_dump(quads, builddir.dump(out), folded=folded)
    builddir.write_trig(quads, builddir.trig(out))
    return build_id


def build(root: Path, out: Path, *, force: bool = False) -> dict[str, int]:
    """Build the store and dumps under ``out``; replaces them atomically. Returns triple counts.

    The writes in the change log (``out/econplan.changes``: loads, imports, updates) are replayed
    on top of ``data/`` (server.kg.writelog), and the log is kept: the next build replays them
    again.  When the store holds a graph that neither the last build nor this one produces, the
    build stops with a DataError naming it, unless ``force``.
    """
    from . import builddir, writelog

    root, out = Path(root), Path(out)
    from_data = build_quads(root)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with builddir.writer(out):  # no write between reading the log and installing the build
            builddir.check_log(out)
            quads, folded = writelog.replay(out, from_data, _rename_blank_nodes)
            replayed = quads != from_data   # the log changed something (most builds: it did not)
            quads = sort_quads(quads) if replayed else from_data
            data_hashes = writelog.graph_hashes(from_data)
            lost = [] if force else writelog.unreproduced(
                out, writelog.graph_hashes(quads) if replayed else data_hashes)
            if lost:
                shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
                raise DataError(f"{out}: the store holds data that this build would not reproduce "
                                f"(graphs {shown}): writes not in the log {builddir.log_path(out)}; "
                                "keep them as files under data/, or rebuild with --force to discard them")
            tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
            try:
                store = ox.Store(str(builddir.store_dir(tmp)))
                store.bulk_extend(quads)
                store.flush()
                store.optimize()
                del store
                write_dumps(quads, tmp, folded=folded)
                builddir.install_build(tmp, out)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            # what data/ alone gave: a graph that differs from it and from the next build is a write
            writelog.write_manifest(out, data_hashes)
    except OSError as exc:
        raise DataError(f"{out}: could not write the build ({exc.strerror})") from None
    return graph_counts(quads)
