"""The knowledge graph over a pyoxigraph store: query, stats, describe.

The build folder (``build/``, see server.kg.builddir) holds N-Quads/TriG dumps, the change
log of the writes since (validated loads and updates commit there) and an on-disk RocksDB
store kept up to date with both.  A
:class:`KnowledgeGraph` serves queries either from that on-disk store or from
an in-memory copy of it (the default: 2.5-3x faster on heavy queries; the HTTP worker
processes share the copy the main process loaded before starting them, see server/serve.py).

Queries see the union of all named graphs as their default graph, as in
Fuseki's ``unionDefaultGraph``, unless the request names its default graphs.
"""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from . import vocab as V
from .builddir import version_of  # noqa: F401 - the version of a build folder
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

    def __init__(self, store: ox.Store, *, path: Path | None = None, version: str | None = None):
        self.store = store
        self.path = path
        self.version = version or "0"
        self.lock = threading.RLock()

    #: a RocksDB store opened read-only: a new version is opened anew, not applied
    store_mode_disk = False
    _pairs = None

    def pairs(self) -> dict:
        """The store's (indicator, status, period) pairs (server.kg.validation.fact_pairs), computed
        once and then kept up to date as records are applied (:meth:`catch_up`)."""
        if self._pairs is None:
            from .validation import fact_pairs

            self._pairs = fact_pairs(self.store)
        return self._pairs

    # -- opening -------------------------------------------------------------
    @classmethod
    def open(cls, build_dir: Path, *, mode: str = "memory") -> "KnowledgeGraph":
        """Open the built store: ``memory`` loads the N-Quads dump and applies the change log's
        records beyond it (server.kg.builddir), ``disk`` opens RocksDB (brought up to date first)."""
        from . import builddir
        from .remote import RemoteStore, is_remote

        if is_remote(build_dir):
            remote = RemoteStore(str(build_dir))
            return cls(remote, path=None, version=remote.version())
        build_dir = Path(build_dir)
        if not builddir.is_built(build_dir):
            raise StoreError(f"{build_dir}: no built store here; run `econplan build` first")
        if mode == "memory":
            for _ in range(5):
                info = builddir.dump_info(build_dir)
                version = builddir.version_of(build_dir)
                # parsed, then added: the store keeps the dump's blank-node labels (bulk_load
                # renames them), so that the log's records, written with those labels, apply to it
                store = ox.Store()
                store.bulk_extend(ox.parse(path=str(builddir.dump(build_dir)), format=ox.RdfFormat.N_QUADS))
                now = builddir.dump_info(build_dir)
                if now is None or now.key != info.key:
                    continue  # compacted or rebuilt while it was read
                build = builddir.split_version(version)[0]
                kg = cls(store, path=build_dir, version=f"{build}+{info.folded}" if info.folded else build)
                caught = kg.catch_up(builddir.version_of(build_dir))
                if caught is not None:
                    return caught
            raise StoreError(f"{build_dir}: the data kept changing while it was loaded; try again")
        if mode == "disk":
            # Read-only: every worker process opens the same RocksDB folder, and writes never go
            # through these handles (reconcile replaces the folder; see builddir).
            builddir.reconcile(build_dir)
            try:
                store = ox.Store.read_only(str(builddir.store_dir(build_dir)))
            except OSError as exc:
                raise StoreError(f"{builddir.store_dir(build_dir)}: cannot open the store ({exc})") from None
            kg = cls(store, path=build_dir, version=builddir.store_version(build_dir) or "0")
            kg.store_mode_disk = True
            return kg
        raise StoreError(f"unknown store mode {mode!r}; use memory or disk")

    def catch_up(self, version: str) -> "KnowledgeGraph | None":
        """This in-memory store brought to ``version`` by applying the change log's records it
        lacks (server.kg.builddir), or None when ``version`` does not follow from this one (a
        build, a log that lacks them, a store on disk): then open it anew.

        The records are applied in place: pyoxigraph's Store guarantees repeatable read, so a
        query running meanwhile sees each record's change whole or not at all.  The returned
        KnowledgeGraph shares the store.
        """
        from . import builddir

        if self.path is None or not isinstance(self.store, ox.Store) or self.store_mode_disk:
            return None
        have_build, have = builddir.split_version(self.version)
        build, want = builddir.split_version(version)
        if build != have_build or want < have:
            return None
        pairs = self._pairs
        if want > have:
            recs = builddir.records(self.path, have, want)
            if recs is None:
                return None
            builddir.apply(self.store, recs)
            if pairs is not None:
                from .validation import pairs_after

                pairs = pairs_after(pairs, self.store, recs)
        caught = KnowledgeGraph(self.store, path=self.path, version=version)
        caught._pairs = pairs
        return caught

    @classmethod
    def up_to_date(cls, kg: "KnowledgeGraph | None", target, *, mode: str, version: str) -> "KnowledgeGraph":
        """``kg`` caught up with ``version`` (:meth:`catch_up`), else the store at ``target``
        opened anew: what a process does when the data version has changed."""
        caught = kg.catch_up(version) if kg is not None else None
        return caught if caught is not None else cls.open(target, mode=mode)

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

    def __bool__(self) -> bool:  # (not len(): counting a big store takes seconds)
        return True

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
