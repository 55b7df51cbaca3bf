"""Validated writes: loads of RDF files and SPARQL Updates, all or nothing.

Every write takes the write lock (one writer at a time, across processes:
``fcntl.flock``), validates the data as it would be after the write against the
SHACL shapes (on a violation it raises :class:`ValidationFailed` with the report,
and nothing on disk has changed), then commits.  The commit point is always one
``os.replace`` of a complete, fsynced N-Quads dump over ``econplan.nq``: a crash
(even ``kill -9``) before it leaves the old dump, after it the new one.  The TriG
dump and the RocksDB store are then derived from it again (``reconcile`` does so
at start-up if a crash interrupted that).

Two paths lead there:

*Append* (a load that adds quads without blank nodes to a local build whose store
matches its dump: the usual load).  Nothing is copied up front.  The built RocksDB
store is opened read-only and seen, together with the new quads, through a
:class:`~server.kg.validation.DataView`; the SHACL engine gets only the part of it
that the load's subjects, expanded, read (:func:`~server.kg.validation.focus_subgraph`),
so the gate's cost follows the load, not the store.  The commit writes a copy of
the dump plus the new quads (sorted among themselves; the file is a valid dump,
no longer sorted as a whole) and renames it over the old one; the TriG dump is
extended the same way, and the store is a checkpoint of the old one (hard links)
with the new quads added, swapped in.  ``appends.log`` records the dump's version
and size before and after, so that processes holding the old data in memory add
the appended lines instead of reloading (``KnowledgeGraph.catch_up``).

*Copy* (SPARQL Updates, loads that replace graphs, loads with blank nodes, and
external stores): the current graph is copied into an in-memory *staging*
store, the change applied there and validated (by focus when a load touches at
most ``FOCUS_LIMIT`` subjects, else whole), and the commit writes the whole
store as a sorted dump and rebuilds the TriG dump and the RocksDB store from it.

The ontology and shapes graphs cannot be written either way (403): they change
only through the repository and ``econplan build``.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from . import vocab as V
from . import writelog
from .errors import DataError, KGError, QueryError, ValidationFailed
from .store import current_version, query_error, version_of

PROTECTED_GRAPH_PREFIXES = (V.GRAPH + "ontology/", V.GRAPH + "shapes/")
#: Above this many subjects a load is validated whole rather than by focus.
FOCUS_LIMIT = 500


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
    from .remote import is_remote

    if is_remote(target):  # one writer at a time on this machine for that store
        import hashlib

        return Path(tempfile.gettempdir()) / f"econplan-{hashlib.sha1(str(target).encode()).hexdigest()[:12]}.lock"
    return Path(target) / ".write.lock"


@contextmanager
def write_lock(build_dir, timeout: float = 60.0):
    path = _lock_path(build_dir)
    with open(path, "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise KGError("another write is in progress; try again later", status=409) from None
                time.sleep(0.05)
        try:
            _remove_leftovers(build_dir)
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


#: What a write makes in the build folder and removes when it ends, unless killed (kill -9).
LEFTOVERS = (".econplan.nq.*", ".append-*", ".reconcile-*", ".store-old", "appends.log.tmp")


def _remove_leftovers(build_dir) -> None:
    """Remove what an interrupted write left behind (the holder of the write lock knows that no
    other write is running); a temporary dump of a big store is gigabytes."""
    if _is_remote(build_dir):
        return
    for pattern in LEFTOVERS:
        for path in Path(build_dir).glob(pattern):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _staging(build_dir) -> ox.Store:
    from .remote import is_remote
    from .store import _remote_for

    store = ox.Store()
    if is_remote(build_dir):
        store.bulk_extend([q for q in _remote_for(str(build_dir)) if q.graph_name != _META])
        return store
    dump = Path(build_dir) / "econplan.nq"
    if not dump.exists():
        raise KGError(f"{build_dir}: no built store here; run `econplan build` first", status=503)
    # parse + bulk_extend keeps the dump's blank-node labels (bulk_load renames them), so an
    # unchanged graph is written back byte for byte
    store.bulk_extend(list(ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS)))
    return store


def _check_graph_allowed(graph: str) -> None:
    if graph.startswith(PROTECTED_GRAPH_PREFIXES):
        raise WriteForbidden(f"graph {graph} holds the ontology or the shapes; change it in the "
                             "repository and run `econplan build`")


def _shape_quads(store: ox.Store) -> list[ox.Quad]:
    """The quads of the store's shapes graphs (read graph by graph, not by scanning the store)."""
    return [q for g in store.named_graphs() if g.value.startswith(V.GRAPH + "shapes/")
            for q in store.quads_for_pattern(None, None, None, g)]


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
    """Atomically replace the dump (the commit point), then re-derive TriG and RocksDB.

    For an external store: replace every changed named graph and the version in one
    SPARQL Update request (one transaction in the store).
    """
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
    build_dir = Path(build_dir)
    written = _dump_as_written(build_dir, store)
    data = ox.serialize(written, format=ox.RdfFormat.N_QUADS) or b""
    _replace_dump(build_dir, lambda fh: fh.write(data))  # <- commit point
    reconcile(build_dir, quads=written)
    return version_of(build_dir)


def _dump_as_written(build_dir: Path, store: ox.Store) -> list[ox.Quad]:
    """The quads of the new dump for the content of ``store``: every quad of the old dump that
    ``store`` still holds, as it was written (a store keeps a literal's value, not its text:
    "19.0" of xsd:decimal would come back as "19"), then the quads ``store`` adds, sorted."""
    kept, seen = [], ox.Store()
    for quad in ox.parse(path=str(build_dir / "econplan.nq"), format=ox.RdfFormat.N_QUADS):
        if quad in store:
            kept.append(quad)
            seen.add(quad)
    from .build import sort_quads

    return kept + sort_quads(q for q in store if q not in seen)


def reconcile(build_dir: Path, quads=None) -> bool:
    """Make the TriG dump and the RocksDB store match the committed N-Quads dump.

    Cheap when they already match (compares a stamp); returns True if it rebuilt.  Without
    ``quads`` (at start-up, to finish a write that a crash interrupted) it takes the write
    lock, since several web processes may start at once; with ``quads`` the caller (a
    commit) holds it already.
    """
    build_dir = Path(build_dir)
    if _reconciled(build_dir):
        return False
    if quads is not None:
        return _rebuild(build_dir, quads)
    with write_lock(build_dir):
        if _reconciled(build_dir):  # another process did it meanwhile
            return False
        return _rebuild(build_dir, list(ox.parse(path=str(build_dir / "econplan.nq"), format=ox.RdfFormat.N_QUADS)))


def _reconciled(build_dir: Path) -> bool:
    stamp = build_dir / "store.version"
    return stamp.exists() and stamp.read_text().strip() == version_of(build_dir) and (build_dir / "store").exists()


def _rebuild(build_dir: Path, quads) -> bool:
    from .build import write_dumps

    version = version_of(build_dir)
    stamp = build_dir / "store.version"
    tmp = Path(tempfile.mkdtemp(prefix=".reconcile-", dir=build_dir))
    try:
        write_dumps(quads, tmp)
        os.replace(tmp / "econplan.trig", build_dir / "econplan.trig")
        store = ox.Store(str(tmp / "store"))
        store.bulk_extend(quads)
        store.flush()
        del store
        _swap_store(build_dir, tmp / "store")
        stamp.write_text(version + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return True


def load(build_dir: Path, quads: list[ox.Quad], *, graph: str | None = None,
         replace: bool = False, engine: str = "turbo", progress=None) -> WriteResult:
    """Load quads (triples go to ``graph``) after validating the result; all or nothing."""
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
    with write_lock(build_dir):
        if not replace and _appendable(build_dir, moved):
            result = _append(build_dir, moved, engine=engine, progress=progress, t0=t0)
            if result.added:
                writelog.record_load(build_dir, moved, replace=False)  # replayed by `econplan build`
            return result
        store = _staging(build_dir)
        original = _copy(store) if _is_remote(build_dir) else None
        removed = 0
        if replace:
            graphs = {q.graph_name for q in moved} | ({target} if target else set())
            for g in graphs:
                if store.contains_named_graph(g):
                    removed += sum(1 for _ in store.quads_for_pattern(None, None, None, g))
                    store.remove_graph(g)
        present = len(store)
        if progress:
            progress(0, len(moved))
        step = max(1, len(moved) // 50)
        for i in range(0, len(moved), step):
            store.extend(moved[i:i + step])
            if progress:
                progress(min(i + step, len(moved)), len(moved))
        added = len(store) - present
        focus = {q.subject for q in moved if isinstance(q.subject, ox.NamedNode)}
        # Validate only what the load touches while that is cheaper than validating all:
        # expanding the focus costs a few ms a node, a full validation a few seconds.  A
        # replacement that removed something is validated whole (what the removed quads
        # named, indicators and areas among them, would expand to most of the data anyway).
        if removed or len(focus) > FOCUS_LIMIT or any(isinstance(q.subject, ox.BlankNode) for q in moved):
            focus = None
        report = validate_staging(store, engine=engine, focus=focus)
        if added == 0 and removed == 0:
            return WriteResult(0, 0, len(store), current_version(build_dir), report,
                               time.perf_counter() - t0)
        version = _commit(build_dir, store, original)
        writelog.record_load(build_dir, moved, replace=replace)  # replayed by `econplan build`
        return WriteResult(added, removed, len(store), version, report, time.perf_counter() - t0)


def _appendable(build_dir, quads: list[ox.Quad]) -> bool:
    """Whether a load can take the append path: a local build whose store matches its dump,
    and no blank nodes (their labels could clash with the dump's)."""
    if _is_remote(build_dir) or not _reconciled(Path(build_dir)):
        return False
    return not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))


def _append(build_dir: Path, moved: list[ox.Quad], *, engine: str, progress, t0: float) -> WriteResult:
    """Add quads without copying the store: validate what they touch, then append.

    The built RocksDB store is opened read-only and, with the new quads, seen through a
    :class:`~server.kg.validation.DataView`; only the part of it that the load's subjects
    (expanded) read goes to the SHACL engine.  On success the new quads are appended to
    the N-Quads dump (a copy of it plus them, fsynced, renamed over it: the commit point),
    to the TriG dump, and to a checkpoint of the RocksDB store (hard links, then the new
    quads), which replaces the store.  The caller holds the write lock.
    """
    from .build import sort_quads
    from .validation import DataView, validate

    base = ox.Store.read_only(str(build_dir / "store"))
    new = sort_quads(q for q in moved if q not in base)
    if progress:
        progress(len(moved), len(moved))
    shapes = _shape_quads(base)
    view = DataView(base, new, shapes)
    focus = {q.subject for q in (new or moved) if isinstance(q.subject, ox.NamedNode)}
    report = _gate(validate(view, shapes or None, engine=engine, focus=focus))
    triples = len(base) + len(new)
    if not new:
        return WriteResult(0, 0, triples, current_version(build_dir), report, time.perf_counter() - t0)
    before = (version_of(build_dir), os.stat(build_dir / "econplan.nq").st_size)
    _append_to_dump(build_dir, new)  # <- commit point
    _extend_derived(build_dir, base, new)
    version = version_of(build_dir)
    _record_append(build_dir, before, (version, os.stat(build_dir / "econplan.nq").st_size))
    return WriteResult(len(new), 0, triples, version, report, time.perf_counter() - t0)


def _record_append(build_dir: Path, before: tuple, after: tuple) -> None:
    """Note in ``appends.log`` that the dump of version ``after`` is the dump of ``before`` plus
    appended lines, so that a process holding ``before`` in memory adds the tail instead of
    reloading it all (KnowledgeGraph.catch_up).  Advisory: without it, processes reload."""
    from .store import APPENDS, read_appends

    lines = [f"{a} {b} {c} {d}" for a, b, c, d in read_appends(build_dir)[-99:]]
    lines.append(f"{before[0]} {before[1]} {after[0]} {after[1]}")
    tmp = build_dir / (APPENDS + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, build_dir / APPENDS)


def _copy_file(src: Path, out) -> None:
    """Append the file ``src`` to the open binary file ``out``, in the kernel where it can."""
    out.flush()
    with open(src, "rb") as fh:
        size, done = os.fstat(fh.fileno()).st_size, 0
        try:
            while done < size:
                n = os.copy_file_range(fh.fileno(), out.fileno(), size - done)
                if n == 0:
                    break
                done += n
        except OSError:  # no copy_file_range between these files: copy through user space
            pass
        fh.seek(done)
        out.seek(0, os.SEEK_END)
        shutil.copyfileobj(fh, out, 1 << 24)


def _append_to_dump(build_dir: Path, new: list[ox.Quad]) -> None:
    """The dump plus ``new`` replaces the dump (the commit point)."""
    def write(fh):
        _copy_file(build_dir / "econplan.nq", fh)
        fh.write(ox.serialize(new, format=ox.RdfFormat.N_QUADS) or b"")

    _replace_dump(build_dir, write)


def _replace_dump(build_dir: Path, write) -> None:
    """What ``write(file)`` writes, fsynced, renamed over ``econplan.nq``: the commit point of
    every write (a crash before the rename leaves the old dump, after it the new one)."""
    fd, tmp = tempfile.mkstemp(prefix=".econplan.nq.", dir=build_dir)
    try:
        try:  # the new dump keeps the old one's permissions (mkstemp makes it 0600)
            os.fchmod(fd, os.stat(build_dir / "econplan.nq").st_mode & 0o7777)
        except FileNotFoundError:
            os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, build_dir / "econplan.nq")
        dirfd = os.open(build_dir, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _extend_derived(build_dir: Path, base: ox.Store, new: list[ox.Quad]) -> None:
    """The TriG dump and the RocksDB store, each extended by ``new`` (after an append).

    TriG allows prefix directives anywhere and a graph in several blocks, so the old
    dump plus the new quads' TriG is the new dump.  The store: a checkpoint of the
    current one (hard links to its files), the new quads added, then swapped in.
    If this is interrupted, start-up rebuilds both from the committed dump (reconcile).
    """
    version = version_of(build_dir)
    tmp = Path(tempfile.mkdtemp(prefix=".append-", dir=build_dir))
    try:
        with open(tmp / "econplan.trig", "wb") as fh:
            if (build_dir / "econplan.trig").exists():
                _copy_file(build_dir / "econplan.trig", fh)
            fh.write(ox.serialize(new, format=ox.RdfFormat.TRIG, prefixes=V.PREFIXES) or b"")
        os.replace(tmp / "econplan.trig", build_dir / "econplan.trig")
        base.backup(str(tmp / "store"))
        store = ox.Store(str(tmp / "store"))
        store.extend(new)
        store.flush()
        del store
        _swap_store(build_dir, tmp / "store")
        (build_dir / "store.version").write_text(version + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_store(build_dir: Path, fresh: Path) -> None:
    old = build_dir / "store"
    trash = build_dir / ".store-old"
    shutil.rmtree(trash, ignore_errors=True)
    if old.exists():
        old.rename(trash)
    fresh.rename(old)
    shutil.rmtree(trash, ignore_errors=True)


def update(build_dir: Path, sparql_update: str, *, engine: str = "turbo",
           using_graphs=(), using_named_graphs=(), base_iri: str | None = None) -> WriteResult:
    """Apply a SPARQL 1.1 Update to a staging copy, validate, then commit; all or nothing."""
    t0 = time.perf_counter()
    if using_graphs or using_named_graphs:
        import re

        from ..sparql.protocol import _strip_comments_and_strings

        if re.search(r"(?i)\b(USING|WITH)\b", _strip_comments_and_strings(sparql_update)):
            raise QueryError("using-graph-uri/using-named-graph-uri conflict with USING or WITH in "
                             "the update; give the dataset one way")
    build_dir = build_dir if _is_remote(build_dir) else Path(build_dir)
    with write_lock(build_dir):
        store = _staging(build_dir)
        original = _copy(store) if _is_remote(build_dir) else None
        before = {q for q in store if isinstance(q.graph_name, ox.NamedNode)
                  and q.graph_name.value.startswith(PROTECTED_GRAPH_PREFIXES)}
        count_before = len(store)
        text = _with_using(sparql_update, using_graphs, using_named_graphs)
        try:
            store.update(text, base_iri=base_iri) if base_iri else store.update(text)
        except SyntaxError as exc:
            raise query_error(exc) from None
        except OSError as exc:
            raise KGError(f"the update failed: {exc}", status=400) from None
        after = {q for q in store if isinstance(q.graph_name, ox.NamedNode)
                 and q.graph_name.value.startswith(PROTECTED_GRAPH_PREFIXES)}
        if before != after:
            raise WriteForbidden("the update would change the ontology or the shapes graph; "
                                 "change them in the repository and run `econplan build`")
        report = validate_staging(store, engine=engine)
        version = _commit(build_dir, store, original)
        writelog.record_update(build_dir, text, base_iri)  # replayed by `econplan build`
        diff = len(store) - count_before
        return WriteResult(max(0, diff), max(0, -diff), len(store), version, report,
                           time.perf_counter() - t0)


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
