"""The knowledge graph over a pyoxigraph store: query, stats, describe.

The build writes two things under ``build/``: an on-disk RocksDB store (the
durable copy that validated loads write to) and N-Quads/TriG dumps.  A
:class:`KnowledgeGraph` serves queries either from that on-disk store or from
an in-memory copy of it (the default: 2.5-3x faster on heavy queries; the HTTP worker
processes share the copy the main process loaded before starting them, see server/serve.py).

Queries see the union of all named graphs as their default graph, as in
Fuseki's ``unionDefaultGraph``, unless the request names its default graphs.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from . import vocab as V
from .errors import QueryError, StoreError

_LINE_COL = re.compile(r"(\d+):(\d+)")


def query_error(exc: SyntaxError) -> QueryError:
    """A pyoxigraph parse error as a one-line QueryError with line and column."""
    msg = str(exc).strip().splitlines()[0]
    m = _LINE_COL.search(msg)
    line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    text = msg if msg.startswith("error") or msg.startswith("Parser") else f"error: {msg}"
    return QueryError(f"SPARQL syntax {text}", line=line, column=col)


@dataclass
class Stats:
    triples: int
    graphs: dict[str, int]
    facts: int
    lost: int
    indicators: int
    entities: dict[str, int]


class KnowledgeGraph:
    """A pyoxigraph store plus the version that identifies its content."""

    def __init__(self, store: ox.Store, *, path: Path | None = None, version: str | None = None,
                 dump_size: int | None = None):
        self.store = store
        self.path = path
        self.version = version or "0"
        #: in memory mode, the size of the dump this store was loaded from (for catch_up)
        self.dump_size = dump_size
        self.lock = threading.RLock()

    # -- opening -------------------------------------------------------------
    @classmethod
    def open(cls, build_dir: Path, *, mode: str = "memory") -> "KnowledgeGraph":
        """Open the built store: ``memory`` loads the N-Quads dump, ``disk`` opens RocksDB."""
        from .remote import RemoteStore, is_remote

        if is_remote(build_dir):
            remote = RemoteStore(str(build_dir))
            return cls(remote, path=None, version=remote.version())
        build_dir = Path(build_dir)
        dump = build_dir / "econplan.nq"
        if not dump.exists():
            raise StoreError(f"{build_dir}: no built store here; run `econplan build` first")
        version = version_of(build_dir)
        dump_size = None
        if mode == "memory":
            before = _file_key(dump)
            store = ox.Store()
            store.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
            if before is not None and _file_key(dump) == before and version_of(build_dir) == version:
                dump_size = before[2]  # the file read is the one the version names
        elif mode == "disk":
            # Read-only: every worker process opens the same RocksDB folder, and
            # writes never go through these handles (they replace the folder; see writes.py).
            try:
                store = ox.Store.read_only(str(build_dir / "store"))
            except OSError as exc:
                raise StoreError(f"{build_dir / 'store'}: cannot open the store ({exc})") from None
        else:
            raise StoreError(f"unknown store mode {mode!r}; use memory or disk")
        return cls(store, path=build_dir, version=version, dump_size=dump_size)

    def catch_up(self, version: str) -> "KnowledgeGraph | None":
        """This in-memory store brought to ``version`` by adding what loads appended since it
        was loaded (``appends.log``, written by writes.py's append path), or None when that is
        not how the dump got there (a build, a copying write): then reload it whole.

        The store is extended in place by one transaction: pyoxigraph's Store guarantees
        repeatable read, so a query running meanwhile sees the data before or after it, not a
        mix.  The returned KnowledgeGraph shares the store.
        """
        if self.path is None or self.dump_size is None or not isinstance(self.store, ox.Store):
            return None
        start, end = self.dump_size, None
        cur = self.version
        for entry in read_appends(self.path):
            if entry[0] == cur and (end or start) == entry[1]:
                cur, end = entry[2], entry[3]
        if cur != version or end is None:
            return None
        dump = Path(self.path) / "econplan.nq"
        try:
            with open(dump, "rb") as fh:
                st = os.fstat(fh.fileno())
                if st.st_size != end:
                    return None
                fh.seek(start)
                tail = fh.read(end - start)
            if os.stat(dump).st_ino != st.st_ino or version_of(self.path) != version:
                return None  # replaced while it was read
            quads = list(ox.parse(tail, format=ox.RdfFormat.N_QUADS))
        except (OSError, SyntaxError):
            return None
        self.store.extend(quads)
        return KnowledgeGraph(self.store, path=self.path, version=version, dump_size=end)

    @classmethod
    def up_to_date(cls, kg: "KnowledgeGraph | None", target, *, mode: str, version: str) -> "KnowledgeGraph":
        """``kg`` caught up with ``version`` (:meth:`catch_up`), else the store at ``target``
        opened anew: what a process does when the data version has changed."""
        caught = kg.catch_up(version) if kg is not None else None
        return caught or cls.open(target, mode=mode)

    @classmethod
    def from_quads(cls, quads) -> "KnowledgeGraph":
        store = ox.Store()
        store.bulk_extend(list(quads))
        return cls(store, version=hashlib.sha1(str(len(store)).encode()).hexdigest()[:12])

    # -- querying ------------------------------------------------------------
    def query(self, sparql: str, *, substitutions: dict | None = None,
              default_graph: list | None = None, named_graphs: list | None = None,
              base_iri: str | None = None):
        """Run a SPARQL query; syntax errors become QueryError with line and column."""
        kwargs = {"substitutions": substitutions} if substitutions else {}
        if base_iri:
            kwargs["base_iri"] = base_iri
        if default_graph:
            kwargs["default_graph"] = [ox.NamedNode(g) if isinstance(g, str) else g
                                       for g in default_graph]
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) if isinstance(g, str) else g
                                      for g in named_graphs]
        # The usual prefixes (ep:, skos:, ...) may be left undeclared.  Handing them to the parser
        # costs about 10 us a query, a quarter of a lookup's, so a query is parsed without them
        # first; only one that does not parse so is parsed again with them.  A query that parses
        # without them declares every prefix it uses, and its own declarations would win anyway.
        try:
            return self.store.query(sparql, **kwargs)
        except SyntaxError:
            pass
        try:
            return self.store.query(sparql, prefixes=V.PREFIXES_FOR_QUERIES, **kwargs)
        except SyntaxError as exc:
            raise query_error(exc) from None

    def select(self, sparql: str, **kwargs) -> list[dict[str, object]]:
        """A SELECT as a list of {variable: term} rows (unbound variables omitted)."""
        result = self.query(sparql, **kwargs)
        names = [v.value for v in result.variables]
        rows = []
        for sol in result:
            row = {}
            for n in names:
                t = sol[n]
                if t is not None:
                    row[n] = t
            rows.append(row)
        return rows

    def ask(self, sparql: str, **kwargs) -> bool:
        return bool(self.query(sparql, **kwargs))

    def __len__(self) -> int:
        return len(self.store)

    def graphs(self) -> dict[str, int]:
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                           "GROUP BY ?g ORDER BY ?g")
        return {r["g"].value: int(r["n"].value) for r in rows}

    def stats(self) -> Stats:
        count = lambda q: int(self.select(q)[0]["n"].value)  # noqa: E731
        entities = {}
        for cls in ("Indicator", "Project", "Policy", "Domain", "District", "Passage"):
            entities[cls] = count(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a/rdfs:subClassOf* ep:{cls} }}")
        return Stats(
            triples=len(self.store), graphs=self.graphs(),
            facts=count("SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f ep:indicator ?i }"),
            lost=count("SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f ep:valueLost true }"),
            indicators=entities["Indicator"], entities=entities)

    def describe(self, iri: str) -> list[ox.Quad]:
        """Every quad with ``iri`` as subject, plus those with it as object."""
        node = ox.NamedNode(iri)
        out = list(self.store.quads_for_pattern(node, None, None, None))
        out += list(self.store.quads_for_pattern(None, None, node, None))
        return out


def current_version(target) -> str:
    """The content version of a build folder or of an external store (by its URL)."""
    from .remote import is_remote

    if is_remote(target):
        return _remote_for(str(target)).version()
    return version_of(Path(target))


_REMOTES: dict = {}


def _remote_for(url: str):
    from .remote import RemoteStore

    if url not in _REMOTES:
        _REMOTES[url] = RemoteStore(url)
    return _REMOTES[url]


_VERSIONS: dict = {}  # dump path -> (its stat key, version): one stat a call once known
_DUMP_PATHS: dict = {}  # build folder -> the path of its dump


APPENDS = "appends.log"


def read_appends(build_dir) -> list[tuple[str, int, str, int]]:
    """The appends recorded in the build folder: (version before, dump size before, version
    after, dump size after), oldest first; a load that appended its quads to the dump wrote one."""
    try:
        lines = (Path(build_dir) / APPENDS).read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) == 4 and parts[1].isdigit() and parts[3].isdigit():
            out.append((parts[0], int(parts[1]), parts[2], int(parts[3])))
    return out


def _file_key(path) -> tuple | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def version_of(build_dir: Path) -> str:
    """The content version of a build: the hash of its N-Quads dump (cached by mtime)."""
    dump = _DUMP_PATHS.get(build_dir)
    if dump is None:  # (the join costs as much as the stat: it is done once per build)
        dump = _DUMP_PATHS[build_dir] = os.path.join(build_dir, "econplan.nq")
    try:
        st = os.stat(dump)
    except FileNotFoundError:
        return "0"
    key = (st.st_ino, st.st_mtime_ns, st.st_size)
    known = _VERSIONS.get(dump)
    if known is not None and known[0] == key:
        return known[1]
    version = _version_from_stamp(Path(build_dir))
    if version != "0":
        _VERSIONS[dump] = (key, version)
    return version


def _version_from_stamp(build_dir: Path) -> str:
    dump = Path(build_dir) / "econplan.nq"
    stamp = Path(build_dir) / "VERSION"
    try:
        st = os.stat(dump)
        if stamp.exists():
            cached = stamp.read_text().split()
            if len(cached) == 2 and cached[0] == f"{st.st_mtime_ns}:{st.st_size}":
                return cached[1]
        with open(dump, "rb") as fh:  # streamed: the dump of a big store is gigabytes
            digest = hashlib.file_digest(fh, "sha256").hexdigest()[:16]
        try:
            stamp.write_text(f"{st.st_mtime_ns}:{st.st_size} {digest}\n")
        except OSError:
            pass
        return digest
    except FileNotFoundError:
        return "0"
