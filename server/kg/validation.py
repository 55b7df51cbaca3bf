"""SHACL validation of the knowledge graph: engines, focus, report and renderings.

``validate(data, shapes=None, *, engine="turbo", focus=None)`` checks ``data``
(a list of pyoxigraph quads, or a pyoxigraph Store such as the built store)
against the shapes (default: every ``shapes/*.ttl`` file) and returns a
:class:`ValidationReport`.  No Flask and no click here.

What is validated
    Every quad of ``data`` except those in a shapes graph (a named graph whose
    IRI starts with ``https://w3id.org/econplan/graph/shapes/``; the build puts
    each ``shapes/*.ttl`` file into one).  Named graphs are merged: SHACL Core
    and the SPARQL constraints see their union, as queries of the store do.

    The arithmetic rules of ``shapes/arithmetic.ttl`` (instances of
    ``eps:SumRule`` and ``eps:ShareRule``) are added to the data: the SPARQL
    constraints that apply them read them from the data graph, because pySHACL
    does not support ``$shapesGraph``.  Nothing else of the shapes is added.

Engines
    ``turbo`` (default): pyshacl-turbo, the Rust engine, for SHACL Core; it is
    given a fresh in-memory pyoxigraph Store.  The SPARQL-based constraints are
    run by pyoxigraph on that store, one query per constraint for all focus
    nodes (:mod:`server.kg.sparql_constraints`: pyshacl-turbo runs each once per
    focus node, which made them 98% of a large load's validation).
    ``pyshacl``: the reference implementation on a plain rdflib Graph (never
    oxrdflib), whose SPARQL texts are parsed once per process (pySHACL re-sends
    the same text for every focus node; the parse dominated its run time)
    and with the blank-node labels of the store, so that both engines name the
    same nodes.  Both get exactly the same triples
    and shapes (SPARQL texts with comments and indentation removed, which
    pySHACL's per-focus-node regular expressions are sensitive to), without
    inference and without SHACL-AF, and their reports are parsed into the same
    :class:`Result` objects.  ``conforms`` means "no sh:Violation" (warnings
    and infos are allowed), for both engines.

    Where the engines disagree in general (pyshacl-turbo's Store input treats
    simple literals as different from the shapes' strings; its decimal division
    overflows early; rdflib compares strings with numbers; decimals beyond 18
    fractional digits), tests/test_validation.py reproduces each case and says
    which engine the specs side with; the shipped shapes avoid all of them, so
    on them the two engines give the same report.

Report
    :class:`ValidationReport` holds :class:`Result` objects (severity, focus
    node and its zh/en labels from the data, path, value, message in zh and en,
    source shape, constraint component, SPARQL constraint if named, and the
    source sentence when the focus node is ``prov:wasDerivedFrom`` a passage
    with ``oa:exact``), sorted, with ``conforms``, ``counts`` and the renderings
    ``as_text`` (one block per result; deterministic, used for snapshots),
    ``as_table``, ``as_turtle`` (the SHACL report graph) and ``as_json``.

Focus (validate only what a load touches)
    ``focus`` is a set of IRIs, typically the subjects of a load.  It is
    expanded to what the constraints need (:func:`expand_focus`):

    * the nodes themselves;
    * every node that links to one of them (``?n ?p ?focus``): an ``sh:class``
      check, a fact's passage text, a target's report year depend on the node
      linked to, so changing that node can change the referrer's result; for a
      quote's selector, also the fact that cites the quote (two links back);
    * for facts: their area (whether any fact is about an area decides whether
      eps:ReferencedDistrictShape targets it), their indicator (the completeness checks of an indicator
      depend on its facts), every other fact of the same indicator (conflicts,
      breakdowns by ``ep:about``, shares), and every fact of an indicator that
      shares an arithmetic rule with it (sums and shares) -- in the same area
      and period: every fact-to-fact constraint of the shapes joins on
      ``ep:refArea`` and ``ep:refPeriod`` (with many cities and years, the
      other facts of an indicator are mostly other cities' and years');
    * for source gaps: the facts derived from the same passages.

    Node-shape targets are then limited to the expanded set by passing it as
    ``focus_nodes`` to the engine (both engines implement it as "targets ∩
    focus nodes"), so results are reported for those nodes only.  The engine
    is given only the quads that the constraints read for those nodes
    (:func:`focus_subgraph`), not the whole data: the data can be a
    :class:`DataView`, a built store plus the quads of a load, read in place.
    ``whole=True`` gives the engine all the data instead; the tests check that
    the report is the same.  The expansion and the subgraph are sufficient
    over-approximations for the shipped shapes, not a general SHACL dependency
    analysis: a new shape that reads further than one link or across rules
    must extend :func:`expand_focus` and :func:`focus_subgraph`.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox

from . import sparql_constraints
from . import vocab as V
from .errors import KGError, StoreError
from .loading import parse_file

ROOT = Path(__file__).resolve().parents[2]
SHAPES_DIR = ROOT / "shapes"
SHAPES_GRAPH_PREFIX = V.GRAPH + "shapes/"
EPS = V._NS("https://w3id.org/econplan/shapes#")
RULE_CLASSES = (EPS.SumRule, EPS.ShareRule)
RULES_GRAPH = ox.NamedNode(V.GRAPH + "validation/rules")
ENGINES = ("turbo", "pyshacl")
SEVERITIES = ("Violation", "Warning", "Info")
_SH = "http://www.w3.org/ns/shacl#"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

#: Prefixes used to shorten IRIs in the text and table renderings.
DISPLAY_PREFIXES = {**V.PREFIXES, "eps": str(EPS), "qudt": "http://qudt.org/schema/qudt/"}


class ValidationError(KGError):
    """Validation could not run (bad input, unknown engine, engine failure)."""
    status = 400
    code = "validation-error"


# ---------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Result:
    """One SHACL validation result, engine-independent.

    Terms are N-Triples strings (``<iri>``, ``"text"@zh``, ``"5"^^<…#decimal>``,
    ``_:b0``); ``path`` is a SPARQL property path with full IRIs.
    """
    severity: str
    focus: str
    path: str | None
    value: str | None
    message: dict = field(default_factory=dict)
    source_shape: str = ""
    component: str = ""
    constraint: str | None = None
    focus_label: dict = field(default_factory=dict)
    passage: str | None = None
    sentence: str | None = None

    def __hash__(self) -> int:
        return hash(json.dumps(asdict(self), sort_keys=True, ensure_ascii=False))

    def key(self) -> tuple:
        """What two engines must agree on: severity, focus, path, component, shape."""
        return (self.severity, self.focus, self.path or "", self.component, self.source_shape)

    def sort_key(self) -> tuple:
        return (SEVERITIES.index(self.severity) if self.severity in SEVERITIES else 9,
                self.focus, self.path or "", self.component, self.source_shape,
                self.constraint or "", self.value or "", self.message.get("en", ""),
                self.message.get("zh", ""))


@dataclass
class ValidationReport:
    results: list[Result]
    engine: str = "turbo"
    focus: frozenset | None = None

    def __post_init__(self):
        unique = {json.dumps(asdict(r), sort_keys=True, ensure_ascii=False): r for r in self.results}
        self.results = sorted(unique.values(), key=Result.sort_key)

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        counts = {s: 0 for s in SEVERITIES}
        for r in self.results:
            counts[r.severity] = counts.get(r.severity, 0) + 1
        return counts

    def by_severity(self, severity: str) -> list[Result]:
        return [r for r in self.results if r.severity == severity]

    # -- renderings ----------------------------------------------------------
    def summary(self) -> str:
        c = self.counts
        verdict = "conforms" if self.conforms else "does not conform"
        return (f"{verdict}: {c['Violation']} violation(s), {c['Warning']} warning(s), "
                f"{c['Info']} info(s)")

    def as_text(self) -> str:
        """One block per result, sorted; deterministic (used for snapshots)."""
        lines = [self.summary()]
        for r in self.results:
            lines.append("")
            head = f"{r.severity}: {compact(r.source_shape)} ({compact(r.component)})"
            if r.constraint:
                head += f" constraint {compact(r.constraint)}"
            lines.append(head)
            lines.append(f"  focus:    {compact(r.focus)}")
            for lang in ("zh", "en"):
                if r.focus_label.get(lang):
                    lines.append(f"            {r.focus_label[lang]}")
            if r.path:
                lines.append(f"  path:     {compact_path(r.path)}")
            if r.value is not None:
                lines.append(f"  value:    {compact(r.value)}")
            messages = [r.message[lang] for lang in ("zh", "en") if r.message.get(lang)]
            for i, text in enumerate(messages):
                lines.append(("  message:  " if i == 0 else " " * 12) + text)
            if r.sentence is not None:
                lines.append(f"  source:   {compact(r.passage or '')} {r.sentence}")
        return "\n".join(lines) + "\n"

    def as_table(self) -> str:
        """One line per result with aligned columns (display width aware). Results that would
        print the same line (one shape failing two of its constraints on the same node and path)
        are one line, its SHAPE naming the constraints."""
        header = ("SEVERITY", "FOCUS", "PATH", "VALUE", "SHAPE", "MESSAGE")
        lines: dict[tuple, list[str]] = {}
        for r in self.results:
            value = compact(r.value) if r.value is not None else ""
            if _width(value) > 40:
                value = _truncate(value, 40)
            row = (r.severity, compact(r.focus), compact_path(r.path) if r.path else "",
                   value, compact(r.source_shape), r.message.get("en") or r.message.get("zh", ""))
            lines.setdefault(row, []).append(_component_name(r.component))
        rows = [header]
        for row, components in lines.items():
            if len(components) > 1:
                row = row[:4] + (f"{row[4]} ({', '.join(components)})",) + row[5:]
            rows.append(row)
        widths = [max(_width(row[i]) for row in rows) for i in range(len(header) - 1)]
        out = []
        for row in rows:
            cells = [_pad(row[i], widths[i]) for i in range(len(widths))] + [row[-1]]
            out.append("  ".join(cells).rstrip())
        out.append("")
        out.append(self.summary())
        return "\n".join(out) + "\n"

    def as_json(self) -> str:
        data = {"conforms": self.conforms, "counts": self.counts,
                "results": [asdict(r) for r in self.results]}
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def as_turtle(self) -> str:
        """The SHACL validation report graph (sh:ValidationReport), deterministic."""
        sh = V._NS(_SH)
        report = ox.BlankNode("report")
        triples = [ox.Triple(report, V.RDF_TYPE, sh.ValidationReport),
                   ox.Triple(report, sh.conforms, ox.Literal(str(self.conforms).lower(),
                                                             datatype=V.XSD_BOOLEAN))]
        counter = [0]

        def bnode() -> ox.BlankNode:
            counter[0] += 1
            return ox.BlankNode(f"n{counter[0]}")

        for i, r in enumerate(self.results):
            node = ox.BlankNode(f"r{i + 1}")
            triples.append(ox.Triple(report, sh.result, node))
            triples.append(ox.Triple(node, V.RDF_TYPE, sh.ValidationResult))
            triples.append(ox.Triple(node, sh.resultSeverity, sh[r.severity]))
            triples.append(ox.Triple(node, sh.focusNode, _term(r.focus)))
            if r.path:
                triples.append(ox.Triple(node, sh.resultPath, _path_node(r.path, triples, bnode)))
            if r.value is not None:
                triples.append(ox.Triple(node, sh.value, _term(r.value)))
            for lang in ("zh", "en"):
                if r.message.get(lang):
                    triples.append(ox.Triple(node, sh.resultMessage, ox.Literal(r.message[lang], language=lang)))
            triples.append(ox.Triple(node, sh.sourceShape, _term(r.source_shape)))
            triples.append(ox.Triple(node, sh.sourceConstraintComponent, _term(r.component)))
            if r.constraint:
                triples.append(ox.Triple(node, sh.sourceConstraint, _term(r.constraint)))
        prefixes = {k: v for k, v in DISPLAY_PREFIXES.items()}
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes).decode("utf-8")


# ---------------------------------------------------------------------------- term helpers

def _component_name(component: str) -> str:
    """``<http://www.w3.org/ns/shacl#MinCountConstraintComponent>`` -> ``minCount``."""
    name = component.strip("<>").rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    return name[:1].lower() + name[1:] if name else component


_CSV_REMEDY = re.compile(r"csv|CSV")


def for_files(report: "ValidationReport", names) -> "ValidationReport":
    """``report`` with its messages speaking of the RDF file(s) the user gave instead of the
    curated CSV files: the shapes' messages end with how to fix a curated CSV ("…: put … in the
    kind column of facts.csv"), which means nothing to someone validating a Turtle file. That
    remedy becomes "correct it in new.ttl". Files that are CSV keep the messages as they are."""
    names = [str(n) for n in names]
    if not names or any(n.lower().endswith(".csv") for n in names):
        return report
    where = ", ".join(names)
    out = []
    for r in report.results:
        msg = dict(r.message)
        en = msg.get("en")
        if en and _CSV_REMEDY.search(en):
            head, sep, tail = en.rpartition(": ")
            if sep and _CSV_REMEDY.search(tail):
                msg["en"] = f"{head}: correct it in {where}."
        zh = msg.get("zh")
        if zh and _CSV_REMEDY.search(zh):
            head, sep, tail = zh.rpartition(":")
            msg["zh"] = f"{head}:请在 {where} 中改正。" if sep and _CSV_REMEDY.search(tail) else zh
        out.append(replace(r, message=msg))
    return ValidationReport(out, engine=report.engine, focus=report.focus)


def _nt(term) -> str:
    """An rdflib or pyoxigraph term as an N-Triples string."""
    if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        return str(term)
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    if isinstance(term, rdflib.Literal):
        return str(ox.Literal(str(term), language=term.language,
                              datatype=ox.NamedNode(term.datatype) if term.datatype and not term.language else None))
    raise TypeError(f"not an RDF term: {term!r}")


def _term(nt: str):
    """An N-Triples term string back to a pyoxigraph term."""
    quads = list(ox.parse(f"<urn:x:s> <urn:x:p> {nt} .".encode(), format=ox.RdfFormat.N_TRIPLES))
    return quads[0].object


def compact(nt: str | None) -> str:
    """Shorten ``<iri>`` with the display prefixes; literals keep their lexical form."""
    if nt is None:
        return ""
    if nt.startswith("<") and nt.endswith(">"):
        return _compact_iri(nt[1:-1])
    if nt.startswith('"'):
        m = re.match(r'^(".*")\^\^<(.+)>$', nt, re.S)
        if m:
            return f"{m.group(1)}^^{_compact_iri(m.group(2))}"
    return nt


def _compact_iri(iri: str) -> str:
    best = None
    for prefix, ns in DISPLAY_PREFIXES.items():
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z0-9_.\-]*", iri[len(ns):] or ""):
            if best is None or len(ns) > len(best[1]):
                best = (prefix, ns)
    return f"{best[0]}:{iri[len(best[1]):]}" if best else f"<{iri}>"


def compact_path(path: str | None) -> str:
    if not path:
        return ""
    return re.sub(r"<([^>]+)>", lambda m: _compact_iri(m.group(1)), path)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _truncate(text: str, width: int) -> str:
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            return out + "…"
        out += ch
    return out


def _lang_of(literal) -> str:
    lang = getattr(literal, "language", None)
    if lang:
        return lang.split("-")[0].lower()
    return "zh" if _CJK.search(str(literal)) else "en"


# ---------------------------------------------------------------------------- paths

def _path_from_report(graph, node) -> str:
    """A SHACL path node of an rdflib report graph as a SPARQL path with full IRIs."""
    import rdflib
    from rdflib.collection import Collection

    sh = rdflib.Namespace(_SH)
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if (node, rdflib.RDF.first, None) in graph:
        items = [_path_from_report(graph, n) for n in Collection(graph, node)]
        return "(" + "/".join(items) + ")" if len(items) > 1 else items[0]
    for pred, fmt in ((sh.inversePath, "^{}"), (sh.zeroOrMorePath, "{}*"),
                      (sh.oneOrMorePath, "{}+"), (sh.zeroOrOnePath, "{}?")):
        inner = graph.value(node, pred)
        if inner is not None:
            text = _path_from_report(graph, inner)
            if not (text.startswith("<") or text.startswith("(")):
                text = f"({text})"
            return fmt.format(text)
    alt = graph.value(node, sh.alternativePath)
    if alt is not None:
        return "(" + "|".join(_path_from_report(graph, n) for n in Collection(graph, alt)) + ")"
    return f"_:{node}"


def _path_node(path: str, triples: list, bnode) -> ox.NamedNode | ox.BlankNode:
    """A SPARQL path string (as produced by _path_from_report) back to SHACL path triples."""
    sh = V._NS(_SH)
    rdf = V.RDF
    path = path.strip()

    def split(text: str, sep: str) -> list[str]:
        parts, depth, cur = [], 0, ""
        for ch in text:
            if ch in "(<":
                depth += 1
            elif ch in ")>":
                depth -= 1
            if ch == sep and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        return parts

    if path.startswith("<") and path.endswith(">") and path.count("<") == 1:
        return ox.NamedNode(path[1:-1])
    if path.startswith("^"):
        node = bnode()
        triples.append(ox.Triple(node, sh.inversePath, _path_node(path[1:], triples, bnode)))
        return node
    if path[-1] in "*+?" and not path.endswith(">"):
        node = bnode()
        pred = {"*": sh.zeroOrMorePath, "+": sh.oneOrMorePath, "?": sh.zeroOrOnePath}[path[-1]]
        triples.append(ox.Triple(node, pred, _path_node(path[:-1], triples, bnode)))
        return node
    if path.startswith("(") and path.endswith(")"):
        inner = path[1:-1]
        seq = split(inner, "/")
        alt = split(inner, "|")
        items = seq if len(seq) > 1 else alt
        nodes = [_path_node(p, triples, bnode) for p in items]
        head = rdf.nil
        for n in reversed(nodes):
            cell = bnode()
            triples.append(ox.Triple(cell, rdf.first, n))
            triples.append(ox.Triple(cell, rdf.rest, head))
            head = cell
        if len(alt) > 1 and len(seq) == 1:
            node = bnode()
            triples.append(ox.Triple(node, sh.alternativePath, head))
            return node
        return head
    return ox.NamedNode(path.strip("<>"))


# ---------------------------------------------------------------------------- inputs

def shape_files(shapes_dir: Path = SHAPES_DIR) -> list[Path]:
    return sorted(p for p in Path(shapes_dir).glob("*.ttl") if p.is_file())


def _as_quads(source) -> list[ox.Quad]:
    if source is None:
        return []
    if isinstance(source, ox.Store):
        return list(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        files = shape_files(path) if path.is_dir() else [path]
        return [q for f in files for q in parse_file(f)]
    out = []
    for item in source:
        if isinstance(item, ox.Quad):
            out.append(item)
        elif isinstance(item, ox.Triple):
            out.append(ox.Quad(item.subject, item.predicate, item.object, ox.DefaultGraph()))
        elif isinstance(item, (str, Path)):
            out.extend(_as_quads(item))
        else:
            raise ValidationError(f"cannot validate {type(item).__name__}: expected quads, triples or files")
    return out


_PARSED: dict = {}  # shape files' stat keys -> their quads


def _shape_file_quads(source) -> list[ox.Quad]:
    """The quads of shape files (a file or a folder), parsed once while the files are unchanged:
    the same blank-node labels each time, so that the compiled shapes are reused."""
    path = Path(source)
    files = shape_files(path) if path.is_dir() else [path]
    try:
        key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        return _as_quads(source)
    if key not in _PARSED:
        if len(_PARSED) > 16:
            _PARSED.clear()
        _PARSED[key] = _as_quads(source)
    return list(_PARSED[key])


def load_shapes(shapes=None) -> list[ox.Quad]:
    """The shapes as quads: ``None`` means every ``shapes/*.ttl``; else files, a folder or quads."""
    source = SHAPES_DIR if shapes is None else shapes
    quads = _shape_file_quads(source) if isinstance(source, (str, Path)) else _as_quads(source)
    if not quads:
        raise ValidationError("no shapes to validate with")
    return quads


def rule_quads(shapes_quads) -> list[ox.Quad]:
    """The arithmetic rules (eps:SumRule, eps:ShareRule instances) of the shapes, as data."""
    rules = {q.subject for q in shapes_quads
             if q.predicate == V.RDF_TYPE and q.object in RULE_CLASSES}
    return [ox.Quad(q.subject, q.predicate, q.object, RULES_GRAPH)
            for q in shapes_quads if q.subject in rules]


def _is_shapes_graph(g) -> bool:
    return isinstance(g, ox.NamedNode) and g.value.startswith(SHAPES_GRAPH_PREFIX)


def data_store(data, shapes_quads=()) -> ox.Store:
    """A fresh in-memory store with the data (minus shapes graphs) plus the arithmetic rules."""
    store = ox.Store()
    if isinstance(data, (ox.Store, DataView)):
        base = data.base if isinstance(data, DataView) else data
        store.bulk_extend(base)  # (bulk_load would rename the blank nodes)
        for g in list(store.named_graphs()):
            if _is_shapes_graph(g):
                store.remove_graph(g)
        if isinstance(data, DataView):
            for q in data.removed:
                store.remove(q)
            store.bulk_extend(list(data.extra))
    else:
        store.bulk_extend(q for q in _as_quads(data) if not _is_shapes_graph(q.graph_name))
    rules = rule_quads(shapes_quads)
    if rules:
        store.bulk_extend(rules)
    return store


# ---------------------------------------------------------------------------- views

class DataView:
    """The data a validation reads, without copying it.

    ``base`` (a pyoxigraph Store: typically the built RocksDB store, opened read-only)
    plus the ``added`` quads, minus the shapes graphs, plus the arithmetic rules as
    data: what :func:`data_store` would build, but read in place.  It offers the two
    methods the focus path needs: ``quads_for_pattern`` (both parts) and ``select`` (the rows
    of a SELECT on each part: a join across the two parts is not seen, and aggregates must be
    merged by the caller; :func:`focus_subgraph` relies on every node with quads in both parts
    being a subject of the added quads, hence in the focus and taken whole).
    """

    def __init__(self, base: ox.Store, added=(), shapes_quads=(), removed=(), pairs=None):
        self.base = base
        #: ``base``'s (indicator, status, period) pairs (:func:`fact_pairs`), when the caller keeps them
        self.pairs = pairs
        #: quads of ``base`` that the view leaves out (a write removes them)
        self.removed = set(removed)
        self.extra = ox.Store()
        self.extra.bulk_extend([q for q in added if not _is_shapes_graph(q.graph_name)]
                               + rule_quads(shapes_quads))

    def quads_for_pattern(self, s, p, o, g=None):
        removed = self.removed
        for q in self.base.quads_for_pattern(s, p, o, g):
            if not _is_shapes_graph(q.graph_name) and not (removed and q in removed):
                yield q
        yield from self.extra.quads_for_pattern(s, p, o, g)

    def select(self, sparql: str) -> list:
        return [row for part in (self.base, self.extra)
                for row in part.query(sparql, use_default_graph_as_union=True)]


def _as_view(data, shapes_quads):
    if isinstance(data, DataView):
        return data
    if isinstance(data, ox.Store):
        return DataView(data, (), shapes_quads)
    return DataView(ox.Store(), _as_quads(data), shapes_quads)


# ---------------------------------------------------------------------------- focus

def expand_focus(store: ox.Store, focus: Iterable) -> set[str]:
    """The IRIs whose results can change when the ``focus`` IRIs change (see the module doc)."""
    nodes = _named(focus)
    out: set[ox.NamedNode] = set(nodes)
    for f in nodes:
        out |= _subjects(store, None, f)                          # referrers
        out |= {a for a in _objects(store, f, V.EP.refArea) if isinstance(a, ox.NamedNode)}
        # a fact's area: whether facts are about it decides eps:ReferencedDistrictShape's target
        for q in store.quads_for_pattern(None, V.OA.hasSelector, f, None):  # a quote's selector:
            out |= _subjects(store, None, q.subject)              # the fact that cites the quote
        if any(True for _ in store.quads_for_pattern(f, V.RDF_TYPE, V.EP.SourceGap, None)):
            for passage in _objects(store, f, V.PROV.wasDerivedFrom):
                out |= _subjects(store, V.PROV.wasDerivedFrom, passage)
    indicators, partners = fact_partners(store, nodes)
    return {n.value for n in out | indicators | partners}


def fact_partners(store, nodes) -> tuple[set, set]:
    """The indicators of the facts among ``nodes``, and the facts their constraints compare them
    with: every fact of the same indicator, or of an indicator that shares an arithmetic rule
    with it, in the same area and period (every fact-to-fact constraint of the shapes joins on
    ``ep:refArea`` and ``ep:refPeriod``, so a fact without them is nobody's partner).  Found with
    a query by place rather than by reading every fact of the indicators: with many cities and
    years, those are mostly other places'."""
    indicators: set = set()
    places: set = set()  # (area, period) of the facts
    for f in nodes:
        indicators |= _objects(store, f, V.EP.indicator)
        places |= {(a, p) for a in _values(store, f, V.EP.refArea) for p in _values(store, f, V.EP.refPeriod)}
    related = set(indicators)
    for rule in {q.subject for c in RULE_CLASSES for q in store.quads_for_pattern(None, V.RDF_TYPE, c, None)}:
        named = {q.object for q in store.quads_for_pattern(rule, None, None, None)}
        if named & indicators:  # a rule that names one of the indicators
            related |= {o for o in named if isinstance(o, ox.NamedNode) and o.value.startswith(V.ID + "indicator/")}
    partners: set = set()
    if not related:
        return indicators, partners
    # A fact without an area or a period is nobody's partner: every such constraint requires both.
    ep = {k: f"<{V.EP[k].value}>" for k in ("indicator", "refArea", "refPeriod")}
    inds = " ".join(str(i) for i in related if not isinstance(i, ox.BlankNode))
    blank = {(a, p) for a, p in places if isinstance(a, ox.BlankNode) or isinstance(p, ox.BlankNode)}
    rows = sorted(f"({a} {p})" for a, p in places - blank)
    for i in range(0, len(rows), 500):
        q = (f"SELECT DISTINCT ?f WHERE {{ VALUES (?a ?p) {{ {' '.join(rows[i:i + 500])} }} "
             f"?f {ep['refArea']} ?a ; {ep['refPeriod']} ?p ; {ep['indicator']} ?i . VALUES ?i {{ {inds} }} }}")
        partners |= {row["f"] for row in _select(store, q) if isinstance(row["f"], ox.NamedNode)}
    for a, p in blank:  # a blank-node area or period cannot be written in a query
        for ind in related:
            partners |= {f for f in _subjects(store, V.EP.indicator, ind)
                         if a in _values(store, f, V.EP.refArea) and p in _values(store, f, V.EP.refPeriod)}
    return indicators, partners


_PAIR_PREDICATES = (V.EP.indicator, V.EP.status, V.EP.refPeriod)


def _pairs_query(values: str | None) -> str:
    """One fact for each (indicator, status, period) of the facts (of the indicators ``values``).
    Sub-selects, so that the store joins whole scans of ep:status and ep:refPeriod (a hash join)
    rather than looking both up fact by fact: 0.9 s instead of 8 s at 10M triples."""
    ep = {k: f"<{V.EP[k].value}>" for k in ("indicator", "status", "refPeriod")}
    bound = f"VALUES ?i {{ {values} }} " if values is not None else ""
    return (f"SELECT ?i ?s ?p (SAMPLE(?f) AS ?fact) WHERE {{ "
            f"{{ SELECT ?f ?i WHERE {{ {bound}?f {ep['indicator']} ?i }} }} "
            f"{{ SELECT ?f ?s WHERE {{ ?f {ep['status']} ?s }} }} "
            f"{{ SELECT ?f ?p WHERE {{ ?f {ep['refPeriod']} ?p }} }} }} GROUP BY ?i ?s ?p")


def fact_pairs(store: ox.Store) -> dict:
    """``{indicator: {(status, period): fact}}``: one fact of ``store`` for each (indicator,
    status, period) its facts have (what :func:`focus_subgraph` takes for an indicator).  A
    process that holds a store computes it once (a scan of the facts: 1.7 s at 10M triples in
    memory) and keeps it up to date with :func:`pairs_after`, instead of querying it each load."""
    out: dict = {}
    for row in store.query(_pairs_query(None), use_default_graph_as_union=True):
        out.setdefault(row["i"], {})[(row["s"], row["p"])] = row["fact"]
    return out


def pairs_after(pairs: dict | None, store: ox.Store, records) -> dict | None:
    """``pairs`` of a store after ``records`` (server.kg.builddir records, already applied to
    ``store``), or None when a record removed an ep:indicator, ep:status or ep:refPeriod (a
    kept fact could be gone: compute them again)."""
    if pairs is None:
        return None
    touched: set = set()
    for rec in records:
        if any(q.predicate in _PAIR_PREDICATES for q in rec.removed):
            return None
        touched |= {q.subject for q in rec.added if q.predicate in _PAIR_PREDICATES}
    if not touched:
        return pairs
    new = {i: dict(v) for i, v in pairs.items()}
    for f in touched:
        for i in _values(store, f, V.EP.indicator):
            for s in _values(store, f, V.EP.status):
                for p in _values(store, f, V.EP.refPeriod):
                    new.setdefault(i, {}).setdefault((s, p), f)
    return new


def _select(store, sparql: str) -> list:
    if isinstance(store, DataView):
        return store.select(sparql)
    return list(store.query(sparql, use_default_graph_as_union=True))


def _named(nodes) -> set:
    return {n if isinstance(n, ox.NamedNode) else ox.NamedNode(str(n).strip("<>")) for n in nodes}


def _subjects(store, p, o) -> set:
    return {q.subject for q in store.quads_for_pattern(None, p, o, None) if isinstance(q.subject, ox.NamedNode)}


def _objects(store, s, p) -> set:
    return {q.object for q in store.quads_for_pattern(s, p, None, None) if isinstance(q.object, ox.NamedNode)}


def _values(store: ox.Store, s, p) -> set:
    return {q.object for q in store.quads_for_pattern(s, p, None, None)}


def focus_subgraph(view, nodes: Iterable[str]) -> list[ox.Quad]:
    """The quads that validating the (expanded) focus ``nodes`` reads, for the shipped shapes.

    ``view`` is a :class:`DataView` (or anything with its two methods).  The engine is then
    given these quads instead of the whole data, and ``focus_nodes`` limits its targets to
    ``nodes``: its work no longer grows with the store.  What the shapes read from a focus
    node, and so what is taken:

    * the node's own quads (every property shape and SPARQL constraint starts there), and
      those of the blank nodes it reaches;
    * one link further: the quads of every node it links to (``sh:class`` reads their
      ``rdf:type``; a fact's passage text, a target's report year, a sentence's paragraph);
    * the ``skos:broader`` chain from there (the cycle check follows ``skos:broader*``), and the
      selector of a source quote reached that way (``ep:sourceQuote/oa:hasSelector/oa:exact``);
    * what is derived from the same passages as a focus node, with its quads (a lost number
      looks for the ``ep:SourceGap`` of its passage);
    * for an indicator, its facts' ``ep:indicator``/``ep:status``/``ep:refPeriod``: one fact
      for each (status, period) pair the indicator has (the baseline check asks only whether
      such a pair exists; one real fact per pair answers it the same as all of them, and a
      fact's other pairs are its own, so no pair is made up);
    * the facts a fact among ``nodes`` is compared with (:func:`fact_partners`: same indicator,
      area and period; arithmetic parts and wholes), with their quads and one link further:
      the expansion adds them to the focus only for the load's own nodes, but a node that the
      expansion added (a fact that refers to a changed node) is checked against its own;
    * the class hierarchy (every ``rdfs:subClassOf``: targets and ``sh:class`` follow it)
      and every arithmetic rule (``eps:SumRule``, ``eps:ShareRule``) with its quads.

    Like the expansion, this is an over-approximation for the shipped shapes, not a general
    SHACL dependency analysis; ``tests/test_validation.py`` checks, on every shape fixture and
    on the shipped graph, that the report is the same as when validating the whole data.
    """
    nodes = _named(nodes)
    out: set[ox.Quad] = set()
    described: set = set()

    def describe(n) -> set:
        """Add the quads of ``n`` (and of the blank nodes it reaches); return its objects."""
        todo, objects = [n], set()
        while todo:
            x = todo.pop()
            if x in described:
                continue
            described.add(x)
            for q in view.quads_for_pattern(x, None, None, None):
                out.add(q)
                if isinstance(q.object, ox.BlankNode):
                    todo.append(q.object)
                elif isinstance(q.object, ox.NamedNode):
                    objects.add(q.object)
        return objects

    hop: set = set()
    for n in nodes | fact_partners(view, nodes)[1]:
        hop |= describe(n)
    for n in hop:
        describe(n)
        for q in view.quads_for_pattern(n, V.OA.hasSelector, None, None):  # a source quote's words
            describe(q.object)                                   # (eps:Fact-valueInQuote reads them)
    chain = list(nodes | hop)
    seen = set(chain)
    while chain:                                                   # skos:broader*
        x = chain.pop()
        for q in view.quads_for_pattern(x, V.SKOS.broader, None, None):
            out.add(q)
            if q.object not in seen:
                seen.add(q.object)
                chain.append(q.object)
    passages = {q.object for n in nodes for q in view.quads_for_pattern(n, V.PROV.wasDerivedFrom, None, None)}
    for passage in passages:                                       # same passage
        for q in view.quads_for_pattern(None, V.PROV.wasDerivedFrom, passage, None):
            describe(q.subject)
    indicators = [n for n in nodes if any(True for _ in view.quads_for_pattern(None, V.EP.indicator, n, None))]
    kept = getattr(view, "pairs", None)
    for i in range(0, len(indicators), 1000):                      # (status, period) pairs
        chunk = indicators[i:i + 1000]
        query = _pairs_query(" ".join(str(n) for n in chunk))
        if kept is not None:  # the base's, kept by the caller; the added part's queried
            rows = [{"i": n, "s": s, "p": p, "fact": f} for n in chunk for (s, p), f in kept.get(n, {}).items()]
            rows += list(view.extra.query(query, use_default_graph_as_union=True))
        else:
            rows = view.select(query)
        picked: dict = {}
        for row in rows:  # one fact per pair (the view's two parts may each give one)
            picked.setdefault((row["i"], row["s"], row["p"]), row["fact"])
        for (ind, status, period), fact in picked.items():
            for p, o in ((V.EP.indicator, ind), (V.EP.status, status), (V.EP.refPeriod, period)):
                out.update(view.quads_for_pattern(fact, p, o, None))
    out.update(view.quads_for_pattern(None, V.RDFS.subClassOf, None, None))
    for cls in RULE_CLASSES:                                       # the arithmetic rules
        for q in list(view.quads_for_pattern(None, V.RDF_TYPE, cls, None)):
            describe(q.subject)
    return sorted(out, key=str)


# ---------------------------------------------------------------------------- engines

class _SameLabels(dict):
    """An rdflib N-Triples ``bnode_context`` that keeps each blank node's label."""

    def get(self, key, default=None):
        return key


@lru_cache(maxsize=8)
def _rdflib_graph_from_nt(nt: bytes):
    import rdflib

    g = rdflib.Graph()
    g.parse(data=nt.decode("utf-8"), format="nt")
    return g


def _triples_nt(store_or_quads) -> bytes:
    """All triples (named graphs merged) as N-Triples bytes."""
    if isinstance(store_or_quads, ox.Store):
        res = store_or_quads.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                   use_default_graph_as_union=True)
        triples = sorted(set(res), key=str)
    else:
        triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in store_or_quads}, key=str)
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_SELECT = ox.NamedNode(_SH + "select")


def compact_sparql(text: str) -> str:
    """``text`` with comments removed and whitespace runs outside strings and IRIs collapsed.

    A semantic no-op.  pySHACL runs several regular expressions over the text of
    a SPARQL constraint for every focus node; the indentation of the shapes
    file costs it about a third of its time on the shipped data.
    """
    out: list[str] = []
    i, n, space = 0, len(text), False
    while i < n:
        c = text[i]
        if c.isspace():
            space, i = True, i + 1
            continue
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            space = True
            continue
        if space and out:
            out.append(" ")
        space = False
        if c in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + len(quote))
            out.append(text[i:j])
            i = j
            continue
        m = _IRIREF.match(text, i) if c == "<" else None
        if m:
            out.append(m.group(0))
            i = m.end()
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _compact_selects(shapes_quads) -> list[ox.Quad]:
    return [ox.Quad(q.subject, q.predicate, ox.Literal(compact_sparql(q.object.value)), q.graph_name)
            if q.predicate == _SELECT and isinstance(q.object, ox.Literal) else q
            for q in shapes_quads]


@lru_cache(maxsize=8)
def _shapes_nt(shapes_quads: tuple) -> bytes:
    """The shapes as the engines take them (SPARQL compacted), as N-Triples; cached by the quads."""
    return _triples_nt(_compact_selects(shapes_quads))


def shapes_graph(shapes_quads):
    """The shapes as an rdflib Graph (cached by content)."""
    return _rdflib_graph_from_nt(_shapes_nt(tuple(shapes_quads)))


@lru_cache(maxsize=8)
def _turbo_program(nt: bytes):
    import pyshacl_turbo

    return pyshacl_turbo.compile_shapes(_rdflib_graph_from_nt(nt))


def _run_turbo(store: ox.Store, shapes_nt: bytes, focus_nodes):
    import pyshacl_turbo

    program = _turbo_program(shapes_nt)
    try:
        conforms, report, text = program.validate(store, focus_nodes=focus_nodes)
    except pyshacl_turbo.ValidationFailure as exc:
        raise ValidationError(f"pyshacl-turbo could not validate: {exc}") from None
    if not hasattr(report, "triples"):
        raise ValidationError(f"pyshacl-turbo could not validate: {text}")
    return report


def _run_sparql(store: ox.Store, plan, focus) -> list[Result]:
    """The SPARQL constraints that pyshacl-turbo is not given (see server/kg/sparql_constraints.py),
    run by pyoxigraph on the triples of ``store`` (named graphs merged: a triple in two graphs is
    one triple, as the engines see it)."""
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    try:
        return sparql_constraints.evaluate(store, plan, focus, Result, _lang_of)
    except (ValueError, SyntaxError, OSError) as exc:
        raise ValidationError(f"a SPARQL constraint could not run: {str(exc).splitlines()[0]}") from None


_PREPARED: dict = {}


def _prepared_query(text: str, graph):
    """``text`` parsed once per process (keyed by the text: pySHACL declares every prefix it uses)."""
    from rdflib.plugins.sparql import prepareQuery

    lines = text.split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith("PREFIX "):
        n += 1
    key = "\n".join(sorted(lines[:n]) + lines[n:])  # pySHACL writes the PREFIX lines in set order
    query = _PREPARED.get(key)
    if query is None:
        if len(_PREPARED) > 1024:
            _PREPARED.clear()
        query = _PREPARED[key] = prepareQuery(key, initNs=dict(graph.namespaces()))
    return query


@lru_cache(maxsize=1)
def _caching_graph_class():
    """An rdflib Graph that parses each SPARQL text once (pySHACL re-sends it per focus node).

    ``Graph.query(text)`` parses and translates the text and then evaluates it;
    pySHACL calls it with the same text for every focus node of a SPARQL
    constraint, and parsing dominates (369 s instead of 25 s on the shipped
    data).  This subclass memoizes the parse (``prepareQuery`` with the graph's
    namespaces, exactly what ``Graph.query`` does; the key is the text alone,
    since pySHACL writes a PREFIX line for every prefix it knows and rdflib
    binds new ``ns1``-style prefixes to the graph while a report is built) and
    evaluates as before, so results are unchanged.  It is a plain in-memory
    rdflib Graph, not oxrdflib.
    """
    import rdflib

    class CachingGraph(rdflib.Graph):
        def query(self, query_object, processor="sparql", result="sparql", initNs=None,
                  initBindings=None, use_store_provided=True, **kwargs):
            if isinstance(query_object, str) and not initNs:
                query_object = _prepared_query(query_object, self)
            return super().query(query_object, processor, result, initNs, initBindings,
                                 use_store_provided, **kwargs)

    return CachingGraph


def _run_pyshacl(store: ox.Store, shapes_nt: bytes, focus_nodes):
    import pyshacl

    data = _caching_graph_class()()
    # keep the blank-node labels of the store, so that results name the same nodes for both engines
    data.parse(data=_triples_nt(store).decode("utf-8"), format="nt", bnode_context=_SameLabels())
    conforms, report, text = pyshacl.validate(
        data, shacl_graph=_rdflib_graph_from_nt(shapes_nt), inference="none", advanced=False,
        allow_warnings=True, allow_infos=True, focus_nodes=focus_nodes)
    if not hasattr(report, "triples"):
        raise ValidationError(f"pySHACL could not validate: {text}")
    return report


@lru_cache(maxsize=8)
def _message_templates(shapes_nt: bytes) -> tuple:
    """The shapes' language-tagged sh:message texts as patterns: a SPARQL constraint's message
    reaches pySHACL's report substituted and without its language tag; matching it with its
    template gives the tag back (an English message that quotes Chinese words stays English)."""
    out = []
    for t in ox.parse(shapes_nt, format=ox.RdfFormat.N_TRIPLES):
        if t.predicate.value == _SH + "message" and isinstance(t.object, ox.Literal) and \
                t.object.language:
            pattern = re.sub(r"\\\{\\[?$]\w+\\\}", "(?s:.*?)", re.escape(t.object.value))
            out.append((re.compile(pattern), t.object.language.split("-")[0].lower()))
    return tuple(out)


def _message_lang(message, templates: tuple) -> str:
    if getattr(message, "language", None):
        return _lang_of(message)
    text = str(message)
    return next((lang for pattern, lang in templates if pattern.fullmatch(text)), None) or \
        _lang_of(message)


def _results_from_report(report, shapes_nt: bytes) -> list[Result]:
    import rdflib

    sh = rdflib.Namespace(_SH)
    templates = _message_templates(shapes_nt)
    results = []
    for node in report.objects(None, sh.result):
        sev = report.value(node, sh.resultSeverity)
        severity = str(sev).rsplit("#", 1)[-1] if sev is not None else "Violation"
        focus = report.value(node, sh.focusNode)
        path = report.value(node, sh.resultPath)
        value = report.value(node, sh.value)
        messages: dict[str, str] = {}
        for m in sorted(report.objects(node, sh.resultMessage), key=str):
            messages.setdefault(_message_lang(m, templates), str(m))
        constraint = report.value(node, sh.sourceConstraint)
        results.append(Result(
            severity=severity,
            focus=_nt(focus),
            path=_path_from_report(report, path) if path is not None else None,
            value=_nt(value) if value is not None else None,
            message=messages,
            source_shape=_nt(report.value(node, sh.sourceShape)),
            component=_nt(report.value(node, sh.sourceConstraintComponent)),
            constraint=_nt(constraint) if isinstance(constraint, rdflib.URIRef) else None,
        ))
    return results


_CONTEXT_QUERY = """
SELECT ?n ?label ?passage ?text WHERE {
  VALUES ?n { %s }
  { ?n rdfs:label ?label }
  UNION { ?n prov:wasDerivedFrom ?passage . ?passage oa:exact ?text }
}"""


def _with_context(store: ox.Store, results: list[Result]) -> list[Result]:
    """Add the focus node's labels (zh/en) and source sentence from the data."""
    nodes = sorted({r.focus for r in results if r.focus.startswith("<")})
    labels: dict[str, dict] = {}
    sources: dict[str, list] = {}
    for i in range(0, len(nodes), 500):
        q = _CONTEXT_QUERY % " ".join(nodes[i:i + 500])
        for row in store.query(q, prefixes=V.PREFIXES_FOR_QUERIES, use_default_graph_as_union=True):
            n = str(row["n"])
            if row["label"] is not None:
                lang = row["label"].language or ""
                if lang in ("zh", "en"):
                    cur = labels.setdefault(n, {})
                    cur[lang] = min(cur.get(lang, row["label"].value), row["label"].value)
            if row["passage"] is not None:
                sources.setdefault(n, []).append((str(row["passage"]), row["text"].value))
    out = []
    for r in results:
        src = sorted(set(sources.get(r.focus, [])))
        out.append(Result(**{**asdict(r), "focus_label": labels.get(r.focus, {}),
                             "passage": " ".join(p for p, _ in src) if src else None,
                             "sentence": " / ".join(t for _, t in src) if src else None}))
    return out


# ---------------------------------------------------------------------------- entry point

def validate(data, shapes=None, *, engine: str = "turbo", focus=None,
             whole: bool = False) -> ValidationReport:
    """Validate ``data`` (quads, a pyoxigraph Store or a :class:`DataView`) against ``shapes``.

    With ``focus``, only the part of the data that the expanded focus reads is given to the
    engine (:func:`focus_subgraph`); ``whole=True`` gives it all the data instead (same
    report, slower: kept to check that claim).  See the module doc.
    """
    if engine not in ENGINES:
        raise ValidationError(f"unknown validation engine {engine!r}; use one of {', '.join(ENGINES)}")
    if data is None:
        raise StoreError("nothing to validate")
    if hasattr(data, "store") and isinstance(getattr(data, "store"), ox.Store):
        data = data.store  # a KnowledgeGraph
    shapes_quads = load_shapes(shapes)
    focus_nodes = None
    expanded = None
    store = data_store(data, shapes_quads) if focus is None or whole else None
    if focus is not None:
        view = store if whole else _as_view(data, shapes_quads)
        expanded = frozenset(expand_focus(view, focus))
        if not expanded:
            return ValidationReport([], engine=engine, focus=expanded)
        if store is None:
            store = data_store(focus_subgraph(view, expanded), shapes_quads)
        focus_nodes = sorted(expanded)
    if engine == "turbo":
        plan = sparql_constraints.split(shapes_quads)
        rest_nt = _shapes_nt(tuple(plan.rest))
        results = _results_from_report(_run_turbo(store, rest_nt, focus_nodes), rest_nt)
        results += _run_sparql(store, plan, expanded)
    else:
        nt = _shapes_nt(tuple(shapes_quads))
        results = _results_from_report(_run_pyshacl(store, nt, focus_nodes), nt)
    if expanded is not None:
        # Both engines already limit targets to focus_nodes; this only guards the contract.
        results = [r for r in results if r.focus[1:-1] in expanded]
    return ValidationReport(_with_context(store, results), engine=engine, focus=expanded)
