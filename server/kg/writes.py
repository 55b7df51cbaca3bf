"""Validated writes: loads of RDF files and SPARQL Updates, all or nothing.

Every write holds the build folder's write lock (:func:`server.kg.builddir.writer`: one
writer at a time, across the server's worker processes and the CLI), computes what it changes
against the current data (the *base*), validates the data as it would be after the write
against the SHACL shapes (on a violation it raises :class:`ValidationFailed` with the report,
and nothing on disk has changed), then commits: one record appended to the change log and
fsynced (:func:`server.kg.builddir.commit`), holding the removed and the added quads (what
processes apply) and the operation (what ``econplan build`` replays over ``data/``: the loaded
quads, the graphs a load replaced, an update's text).  A crash (even ``kill -9``) before the
fsync leaves the old state (a torn record is ignored), after it the new one.  Nothing else is
written: the dumps and the RocksDB store are brought up to date by compaction (``econplan
compact``, and at the server's start) and by :func:`server.kg.builddir.reconcile`.

The base is the caller's in-memory store when it has one (a server worker in memory mode,
caught up with the log under the lock), else the RocksDB store (brought up to date, opened
read-only).  It is never copied for a load: the shapes engine gets, through a
:class:`~server.kg.validation.DataView` (base, minus the removed quads, plus the added ones),
only the part that the changed subjects, expanded, read
(:func:`~server.kg.validation.focus_subgraph`), so the gate's cost follows the load, not the
store; with blank-node subjects, a replacement that removed something (what the removed quads
named, indicators and areas among them, would expand to most of the data anyway), or above
``FOCUS_LIMIT`` changed subjects in a store of less than ``WHOLE_RATIO`` quads for each, the
whole data is validated.  A SPARQL Update runs on an in-memory copy of the base (the only write that copies
it), and its difference from the base is what is validated and logged, so that every process
replays the same change.  Blank nodes of a load get fresh labels, so that they cannot meet the
store's.

External stores (``--store URL``) take another path: a staging copy, then one SPARQL Update
request that replaces the changed graphs.

The ontology and shapes graphs cannot be written (403): they change only through the
repository and ``econplan build``.
"""
from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from . import builddir
from . import vocab as V
from .errors import DataError, KGError, QueryError, ValidationFailed
from .store import current_version, query_error

PROTECTED_GRAPH_PREFIXES = (V.GRAPH + "ontology/", V.GRAPH + "shapes/")
#: Above this many changed subjects, and with less than WHOLE_RATIO quads in the store for each,
#: a write is validated whole rather than by focus (blank-node subjects: always whole).
FOCUS_LIMIT = 500
WHOLE_RATIO = 100


class WriteForbidden(KGError):
    status = 403
    code = "forbidden"


@dataclass
class WriteResult:
    added: int
    removed: int
    triples: int
    version: str
    report: object | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        d = {"ok": True, "added": self.added, "removed": self.removed, "triples": self.triples,
             "version": self.version, "seconds": round(self.seconds, 3)}
        if self.report is not None:
            d["warnings"] = _count(self.report, "Warning")
            d["infos"] = _count(self.report, "Info")
        return d


def _count(report, severity: str) -> int:
    counts = getattr(report, "counts", None) or {}
    for k, v in counts.items():
        if str(k).endswith(severity):
            return v
    return 0


def _lock_path(target) -> Path:
    import hashlib
    import tempfile

    # an external store: one writer at a time on this machine for that store
    return Path(tempfile.gettempdir()) / f"econplan-{hashlib.sha1(str(target).encode()).hexdigest()[:12]}.lock"


@contextmanager
def write_lock(build_dir, timeout: float = 60.0):
    """The one writer: the build folder's lock (server.kg.builddir.writer)."""
    if _is_remote(build_dir):
        with builddir.locked(_lock_path(build_dir), timeout):
            yield
        return
    with builddir.writer(build_dir, timeout):
        yield


def _staging(build_dir) -> ox.Store:
    from .remote import is_remote
    from .store import _remote_for

    store = ox.Store()
    if is_remote(build_dir):
        store.bulk_extend([q for q in _remote_for(str(build_dir)) if q.graph_name != _META])
        return store
    raise KGError(f"{build_dir}: not an external store")


def _check_graph_allowed(graph: str) -> None:
    if graph.startswith(PROTECTED_GRAPH_PREFIXES):
        raise WriteForbidden(f"graph {graph} holds the ontology or the shapes; change it in the "
                             "repository and run `econplan build`")


def _shape_quads(store: ox.Store) -> list[ox.Quad]:
    """The quads of the store's shapes graphs: the graphs that hold a node shape, read graph
    by graph (listing every named graph of a big store takes seconds)."""
    graphs = {q.graph_name for q in store.quads_for_pattern(None, V.RDF_TYPE, V.SH.NodeShape, None)
              if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(V.GRAPH + "shapes/")}
    return [q for g in sorted(graphs, key=str) for q in store.quads_for_pattern(None, None, None, g)]


def validate_staging(store: ox.Store, *, engine: str = "turbo", focus=None):
    """Validate a staging store with the shapes it carries; raise ValidationFailed on violations."""
    from .validation import validate

    shapes = _shape_quads(store)
    return _gate(validate(store, shapes or None, engine=engine, focus=focus))


def _gate(report):
    """``report``, or ValidationFailed if it has a violation."""
    if not report.conforms:
        n = sum(1 for r in report.results if str(r.severity).endswith("Violation"))
        raise ValidationFailed(f"rejected: {n} SHACL violation(s); nothing was changed", report=report)
    return report


def _commit(build_dir, store: ox.Store, before: ox.Store | None = None) -> str:
    """For an external store: replace every changed named graph and the version in one
    SPARQL Update request (one transaction in the store)."""
    from .build import sort_quads
    from .remote import is_remote
    from .store import _remote_for

    quads = sort_quads(store)
    if is_remote(build_dir):
        import hashlib

        graphs = {}
        names = {q.graph_name for q in quads} | ({q.graph_name for q in before} if before is not None else set())
        for g in names:
            if isinstance(g, ox.DefaultGraph) or g == _META:
                continue
            new = sorted(store.quads_for_pattern(None, None, None, g), key=str)
            old = sorted(before.quads_for_pattern(None, None, None, g), key=str) if before is not None else None
            if new != old:
                graphs[g] = new
        version = hashlib.sha256(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").hexdigest()[:16]
        _remote_for(str(build_dir)).replace_graphs(graphs, version)
        return version
    raise KGError(f"{build_dir}: not an external store")


def load(build_dir: Path, quads: list[ox.Quad], *, graph: str | None = None,
         replace: bool = False, engine: str = "turbo", progress=None, kg=None) -> WriteResult:
    """Load quads (triples go to ``graph``) after validating the result; all or nothing.

    ``kg``: a callable giving the caller's in-memory KnowledgeGraph at the current version (a
    server worker's), used as the base; without it, the RocksDB store is."""
    t0 = time.perf_counter()
    build_dir = build_dir if _is_remote(build_dir) else Path(build_dir)
    target = ox.NamedNode(graph) if graph else None
    if graph:
        _check_graph_allowed(graph)
    moved = []
    for q in quads:
        g = q.graph_name
        if isinstance(g, ox.DefaultGraph):
            if target is None:
                raise DataError("triples without a graph: give --graph IRI (or ?graph=IRI)")
            q = ox.Quad(q.subject, q.predicate, q.object, target)
        else:
            _check_graph_allowed(g.value)
        moved.append(q)
    if _is_remote(build_dir):
        return _remote_load(build_dir, moved, target, replace=replace, engine=engine, t0=t0)
    moved = _fresh_blank_nodes(moved)
    with write_lock(build_dir):
        base, held = _base(build_dir, kg)
        if progress:
            progress(0, len(moved))
        removed, graphs = [], set()
        if replace:
            keep = ox.Store()  # (a store compares literals by value: "6.0" and "6" of xsd:decimal are one)
            keep.bulk_extend(moved)
            graphs = {q.graph_name for q in moved} | ({target} if target else set())
            removed = [q for g in graphs for q in base.quads_for_pattern(None, None, None, g) if q not in keep]
        added = list(dict.fromkeys(q for q in moved if q not in base))
        if progress:
            progress(len(moved), len(moved))
        # the record: processes remove ``removed`` and add every loaded quad (adding one that is
        # there changes nothing); a build replays the load (replacing the graphs it names)
        record = builddir.Record(0, "replace" if replace else "load", removed, list(dict.fromkeys(moved)),
                                 graphs=sorted(graphs, key=str) if replace else [])
        return _validate_and_commit(build_dir, base, removed, added, record, engine=engine, t0=t0, held=held)


def _fresh_blank_nodes(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The quads with each blank node given a new, unique label (the same one for each use)."""
    if not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object)):
        return quads
    prefix, names = "l" + uuid.uuid4().hex[:12], {}

    def fresh(t):
        if isinstance(t, ox.BlankNode):
            if t not in names:
                names[t] = ox.BlankNode(f"{prefix}x{len(names)}")
            return names[t]
        return t

    return [ox.Quad(fresh(q.subject), q.predicate, fresh(q.object), q.graph_name) for q in quads]


def _base(build_dir: Path, kg) -> tuple:
    """The current data (the caller holds the write lock) and the KnowledgeGraph holding it: the
    caller's in-memory store caught up with the log, else the RocksDB store brought up to date
    and opened read-only (and None)."""
    if kg is not None:
        held = kg()
        if isinstance(held.store, ox.Store) and not held.store_mode_disk \
                and held.version == builddir.version_of(build_dir):
            return held.store, held
    if not builddir.is_built(build_dir):
        raise KGError(f"{build_dir}: no built store here; run `econplan build` first", status=503)
    builddir.reconcile(build_dir, locked=True)
    return ox.Store.read_only(str(builddir.store_dir(build_dir))), None


def _validate_and_commit(build_dir: Path, base: ox.Store, removed: list, added: list,
                         record: builddir.Record, *, engine: str, t0: float, held=None) -> WriteResult:
    """Validate base - removed + added (by focus when it can), then commit ``record``."""
    from .validation import DataView, validate

    shapes = _shape_quads(base)
    # a server worker keeps its store's (indicator, status, period) pairs: no scan of the facts
    view = DataView(base, added, shapes, removed=removed, pairs=held.pairs() if held is not None else None)
    subjects = {q.subject for q in (*added, *removed)}
    focus = {s for s in subjects if isinstance(s, ox.NamedNode)}
    before = builddir.triples(build_dir, base)
    # Validate only what the write touches while that is cheaper than validating all: expanding
    # the focus costs a few ms a node, a full validation seconds per 100k triples of the data.
    if removed or len(focus) != len(subjects) or (len(focus) > FOCUS_LIMIT and before < WHOLE_RATIO * len(subjects)):
        focus = None
    report = _gate(validate(view, shapes or None, engine=engine, focus=focus))
    triples = before - len(removed) + len(added)
    if not added and not removed:
        return WriteResult(0, 0, triples, builddir.version_of(build_dir), report, time.perf_counter() - t0)
    record.delta = len(added) - len(removed)
    version = builddir.commit(build_dir, record)  # <- commit point
    return WriteResult(len(added), len(removed), triples, version, report, time.perf_counter() - t0)


def _remote_load(target, moved, graph, *, replace: bool, engine: str, t0: float) -> WriteResult:
    """A load into an external store: a staging copy, validated, the changed graphs replaced."""
    with write_lock(target):
        store = _staging(target)
        original = _copy(store)
        removed = 0
        if replace:
            for g in {q.graph_name for q in moved} | ({graph} if graph else set()):
                if store.contains_named_graph(g):
                    removed += sum(1 for _ in store.quads_for_pattern(None, None, None, g))
                    store.remove_graph(g)
        present = len(store)
        store.extend(moved)
        added = len(store) - present
        focus = {q.subject for q in moved if isinstance(q.subject, ox.NamedNode)}
        if replace or len(focus) > FOCUS_LIMIT or any(isinstance(q.subject, ox.BlankNode) for q in moved):
            focus = None
        report = validate_staging(store, engine=engine, focus=focus)
        if added == 0 and removed == 0:
            return WriteResult(0, 0, len(store), current_version(target), report, time.perf_counter() - t0)
        version = _commit(target, store, original)
        return WriteResult(added, removed, len(store), version, report, time.perf_counter() - t0)


def update(build_dir: Path, sparql_update: str, *, engine: str = "turbo",
           using_graphs=(), using_named_graphs=(), base_iri: str | None = None, kg=None) -> WriteResult:
    """Apply a SPARQL 1.1 Update to a staging copy, validate the difference, then commit it;
    all or nothing."""
    t0 = time.perf_counter()
    if using_graphs or using_named_graphs:
        import re

        from ..sparql.protocol import _strip_comments_and_strings

        if re.search(r"(?i)\b(USING|WITH)\b", _strip_comments_and_strings(sparql_update)):
            raise QueryError("using-graph-uri/using-named-graph-uri conflict with USING or WITH in "
                             "the update; give the dataset one way")
    remote = _is_remote(build_dir)
    build_dir = build_dir if remote else Path(build_dir)
    with write_lock(build_dir):
        base, held = (_staging(build_dir), None) if remote else _base(build_dir, kg)
        store = ox.Store()
        store.bulk_extend(base)  # keeps the blank-node labels
        text = _with_using(sparql_update, using_graphs, using_named_graphs)
        try:
            store.update(text, base_iri=base_iri) if base_iri else store.update(text)
        except SyntaxError as exc:
            raise query_error(exc) from None
        except OSError as exc:
            raise KGError(f"the update failed: {exc}", status=400) from None
        removed = [q for q in base if q not in store]
        added = [q for q in store if q not in base]
        if any(isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(PROTECTED_GRAPH_PREFIXES)
               for q in (*removed, *added)):
            raise WriteForbidden("the update would change the ontology or the shapes graph; "
                                 "change them in the repository and run `econplan build`")
        if remote:
            report = validate_staging(store, engine=engine)
            version = _commit(build_dir, store, base)
            return WriteResult(len(added), len(removed), len(store), version, report, time.perf_counter() - t0)
        record = builddir.Record(0, "update", removed, added, text=text, base=base_iri)
        return _validate_and_commit(build_dir, base, removed, added, record, engine=engine, t0=t0, held=held)


def reconcile(build_dir) -> bool:
    """Bring the RocksDB store up to date with the committed data (server.kg.builddir.reconcile)."""
    return builddir.reconcile(build_dir)


_META = ox.NamedNode(V.GRAPH + "meta")


def _is_remote(target) -> bool:
    from .remote import is_remote

    return is_remote(target)


def _copy(store: ox.Store) -> ox.Store:
    other = ox.Store()
    other.bulk_extend(list(store))
    return other


def _with_using(text: str, using, using_named) -> str:
    """Apply protocol using-graph-uri / using-named-graph-uri as USING clauses before WHERE.

    Only for single-operation DELETE/INSERT … WHERE updates; other forms ignore them,
    as the protocol allows (they have no WHERE clause to scope).
    """
    if not (using or using_named):
        return text
    import re

    clauses = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in using_named)
    m = list(re.finditer(r"(?i)\bWHERE\s*\{", text))
    if len(m) != 1:
        return text
    i = m[0].start()
    return text[:i] + clauses + " " + text[i:]
