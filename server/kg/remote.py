"""An external SPARQL 1.1 store (Fuseki, Virtuoso, GraphDB, QLever, ``oxigraph serve`` …).

:class:`RemoteStore` offers the part of ``pyoxigraph.Store``'s interface that
econplan uses (``query``, ``quads_for_pattern``, ``named_graphs``,
``contains_named_graph``, ``len``, iteration), implemented with the SPARQL 1.1
Protocol, so that :class:`~server.store.KnowledgeGraph`, the pages, the saved
queries and the validated writes work unchanged on top of it.

Results come back as real pyoxigraph result objects (parsed from SPARQL JSON
or N-Triples), so rendering, row caps and content negotiation are the same as
for the embedded store.

Endpoints, authentication, the dialect and how graphs are replaced differ per
store: the URL's scheme names the store (``http://`` oxigraph serve,
``fuseki+http://``, ``virtuoso+http://``) and its adapter in
:mod:`server.kg.stores` does the rest (docs/stores.md).
"""
from __future__ import annotations

import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pyoxigraph as ox

from . import vocab as V
from .errors import KGError, QueryError, StoreError

# what differs per store (endpoints, authentication, dialect, how graphs are replaced)
from .stores import adapter_for, display_url

META_GRAPH = ox.NamedNode(V.GRAPH + "meta")
_EMPTY = ox.Store()
DATASET = ox.NamedNode(V.BASE + "dataset")

def _blank_out(text: str) -> str:
    """The query with comments, strings and IRIs replaced by spaces (same length)."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        c = text[i]
        if c == "<":
            j = text.find(">", i)
            if j != -1 and not any(ch in text[i:j] for ch in " \n\t{}\"'"):
                for k in range(i, j + 1):
                    out[k] = " "
                i = j + 1
                continue
            i += 1
        elif c in "\"'":
            delim = c * 3 if text.startswith(c * 3, i) else c
            j = i + len(delim)
            while j < n and not text.startswith(delim, j):
                j += 2 if text[j] == "\\" else 1
            for k in range(i, min(n, j + len(delim))):
                out[k] = " "
            i = j + len(delim)
        elif c == "#":
            j = text.find("\n", i)
            j = n if j == -1 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        else:
            i += 1
    return "".join(out)


def with_prefixes(query: str, prefixes: dict | None) -> str:
    if not prefixes:
        return query
    declared = set(re.findall(r"(?i)PREFIX\s+([\w.-]*):", _blank_out(query)))
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items() if p not in declared)
    return head + query


def with_bindings(query: str, substitutions: dict | None) -> str:
    """Bind variables as RDF terms by an inline VALUES block at the start of the WHERE group.

    The terms are serialized by pyoxigraph (N-Triples syntax, escaped), never as raw text,
    so a value cannot change the query's structure.
    """
    if not substitutions:
        return query
    blank = _blank_out(query)
    m = re.search(r"(?i)\bWHERE\s*\{", blank)
    if m:
        pos = m.end()
    else:  # SELECT * { … } without the WHERE keyword: the first group after the projection
        m = re.search(r"\{", blank[re.search(r"(?i)\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", blank).end():])
        if not m:
            raise QueryError("cannot find the WHERE clause to bind the parameters in")
        pos = re.search(r"(?i)\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", blank).end() + m.end()
    names = [v.value if hasattr(v, "value") else str(v).lstrip("?") for v in substitutions]
    terms = [str(t) for t in substitutions.values()]
    block = f" VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(terms)}) }} "
    return query[:pos] + block + query[pos:]


class RemoteStore:
    """The subset of ``pyoxigraph.Store`` econplan needs, over the SPARQL 1.1 Protocol."""

    def __init__(self, url: str, *, kind: str = "oxigraph", query_url: str | None = None,
                 update_url: str | None = None, timeout: float | None = None):
        try:
            self.adapter = adapter_for(url, None if kind == "oxigraph" else kind)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        self.url = display_url(url)
        self.query_url = query_url or self.adapter.query_url
        self.update_url = update_url or self.adapter.update_url
        # seconds for one request; a push of millions of triples may need more (ECONPLAN_STORE_TIMEOUT)
        self.timeout = timeout or float(os.environ.get("ECONPLAN_STORE_TIMEOUT") or 60.0)
        self._version = (0.0, "0")
        self._lock = threading.Lock()

    # -- HTTP -------------------------------------------------------------------------
    def _post(self, url: str, data: dict, accept: str, timeout: float | None = None) -> tuple[str, bytes]:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        req = urllib.request.Request(url, data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
        try:
            with self.adapter.open(req, timeout or self.timeout) as r:
                return r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            msg = self.adapter.error_line(e.read()) or e.reason
            if e.code == 400:
                raise QueryError(f"the store rejected the request: {msg}") from None
            raise StoreError(f"the store at {url} answered {e.code}: {msg}") from None
        except (urllib.error.URLError, OSError) as e:
            raise StoreError(f"cannot reach the store at {url}: {getattr(e, 'reason', e)}") from None

    # -- pyoxigraph.Store-like interface ------------------------------------------------
    def query(self, query: str, *, prefixes=None, use_default_graph_as_union=False,
              default_graph=None, named_graphs=None, substitutions=None, base_iri=None):
        # Parse it here first (an empty store answers at once): syntax errors then have the same
        # message, line and column as with the embedded store, and garbage is not forwarded.
        form = _EMPTY.query(query, prefixes=prefixes or None, substitutions=substitutions or None)
        text = with_bindings(with_prefixes(query, prefixes), substitutions)
        if base_iri and not re.search(r"(?i)^\s*BASE\b", _blank_out(text)):
            text = f"BASE <{base_iri}>\n" + text
        data: dict = {"query": text}
        if default_graph:
            gs = default_graph if isinstance(default_graph, list) else [default_graph]
            data["default-graph-uri"] = [g.value for g in gs if isinstance(g, ox.NamedNode)]
        if named_graphs:
            data["named-graph-uri"] = [g.value for g in named_graphs]
        data["query"] = self.adapter.prepare_query(text, self, bool(default_graph or named_graphs))
        ctype, body = self._post(self.query_url, data, self.adapter.accept(isinstance(form, ox.QueryTriples)))
        ctype = ctype.split(";")[0].strip().lower()
        if ctype in ("application/sparql-results+json", "application/json"):
            return ox.parse_query_results(self.adapter.json_results(body), format=ox.QueryResultsFormat.JSON)
        fmt = ox.RdfFormat.from_media_type(ctype) or ox.RdfFormat.N_TRIPLES
        return _Triples([ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(body, format=fmt)])

    def update(self, update: str, *, base_iri=None) -> None:
        if base_iri:
            update = f"BASE <{base_iri}>\n" + update
        self._post(self.update_url, {"update": update}, "*/*")

    def quads_for_pattern(self, s=None, p=None, o=None, g=None):
        term = lambda t, v: str(t) if t is not None else v  # noqa: E731
        if g is None:
            # econplan keeps every triple in a named graph; the default graph of a store that
            # serves the union of its graphs (as it must for econplan) would only repeat them.
            q = f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ {term(s, '?s')} {term(p, '?p')} {term(o, '?o')} }} }}"
        elif isinstance(g, ox.DefaultGraph):
            q = f"SELECT ?s ?p ?o WHERE {{ {term(s, '?s')} {term(p, '?p')} {term(o, '?o')} }}"
        else:
            q = f"SELECT ?s ?p ?o WHERE {{ GRAPH {g} {{ {term(s, '?s')} {term(p, '?p')} {term(o, '?o')} }} }}"
        for row in self.query(q):
            graph = g if g is not None else row["g"]
            yield ox.Quad(s or row["s"], p or row["p"], o or row["o"], graph)

    def named_graphs(self):
        for row in self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
            yield row["g"]

    def contains_named_graph(self, g) -> bool:
        return bool(self.query(f"ASK {{ GRAPH {g} {{ ?s ?p ?o }} }}"))

    def __len__(self) -> int:
        rows = list(self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))
        return int(rows[0]["n"].value)

    def __iter__(self):
        return iter(list(self.quads_for_pattern()))

    # -- versions and writes ----------------------------------------------------------------
    def version(self) -> str:
        """The dataset version econplan wrote last (cached for a second)."""
        with self._lock:
            at, v = self._version
            if time.monotonic() - at < 1.0:
                return v
        rows = list(self.query(f"SELECT ?v WHERE {{ GRAPH {META_GRAPH} {{ {DATASET} <{V.DEF}version> ?v }} }}"))
        v = rows[0]["v"].value if rows else "0"
        with self._lock:
            self._version = (time.monotonic(), v)
        return v

    def replace_graphs(self, graphs: dict, version: str) -> None:
        """Replace each named graph with its new quads, and set the version, so that readers see
        the old state or the new one, never a mix: one update request where that is one
        transaction (oxigraph, Fuseki), staging graphs and a swap elsewhere (Virtuoso); see
        :mod:`server.kg.stores`.
        """
        self.adapter.replace_graphs(self, graphs, version)
        with self._lock:
            self._version = (0.0, "0")

    def raw_select(self, query: str):
        """A SELECT sent as written (no dialect rewriting), for the adapters' own bookkeeping."""
        _, body = self._post(self.query_url, {"query": query}, "application/sparql-results+json")
        return list(ox.parse_query_results(self.adapter.json_results(body), format=ox.QueryResultsFormat.JSON))

    blank_out = staticmethod(lambda text: _blank_out(text))


class _Triples(list):
    """A CONSTRUCT/DESCRIBE result from a remote store (a list of pyoxigraph Triples)."""


def is_remote(target: str) -> bool:
    return re.match(r"^(\w+\+)?https?://", str(target)) is not None


def ensure_available(store: RemoteStore) -> None:
    try:
        store.query("ASK {}")
    except KGError as exc:
        raise StoreError(f"the external store is not usable: {exc.message}") from None
