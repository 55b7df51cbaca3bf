"""What differs between the external SPARQL 1.1 stores econplan runs on: one adapter per store.

:class:`~server.remote.RemoteStore` speaks the SPARQL 1.1 Protocol; everything that depends on
which server answers lives here, each quirk with the reason for it:

* the three endpoints (query, update, Graph Store Protocol) derived from the ``--store`` URL;
* authentication for updates;
* how a set of named graphs is replaced (one request, or staging graphs and a swap);
* the dialect: what a query must say so that it sees econplan's graphs and nothing else,
  how a write must be spelled to be accepted, and how an error body reads.

The store is named by the URL's scheme: ``http://host:7878`` is ``oxigraph serve``;
``fuseki+http://host:3030/econplan`` is Fuseki's dataset ``econplan``;
``virtuoso+http://dba:secret@host:8890`` is Virtuoso (the user and password, or the
``ECONPLAN_STORE_PASSWORD`` environment variable, are used for updates).

This module imports neither flask, werkzeug nor click.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import urllib.parse
import urllib.request

import pyoxigraph as ox

BASE = "https://w3id.org/econplan/"
DEF = BASE + "def#"
META_GRAPH = ox.NamedNode(BASE + "graph/meta")
STAGING = BASE + "graph/staging/"
DATASET = ox.NamedNode(BASE + "dataset")
VERSION = ox.NamedNode(DEF + "version")
#: one triple per live econplan graph, in the meta graph (written by the Virtuoso adapter)
HAS_GRAPH = ox.NamedNode(DEF + "graph")
#: a graph no store holds: the dataset of a query while econplan has written no graph yet
NO_GRAPH = ox.NamedNode(BASE + "graph/none")


class Adapter:
    """``oxigraph serve`` (and the default for a plain ``http(s)://`` URL).

    Endpoints: URL/query, URL/update, URL/store. One SPARQL Update request is one
    transaction, so :meth:`replace_graphs` sends every change and the version marker in one
    request. The server must run with ``--union-default-graph``.
    """

    kind = "oxigraph"
    paths = ("query", "update", "store")

    def __init__(self, base: str, user: str | None = None, password: str | None = None):
        self.base = base.rstrip("/")
        self.user, self.password = user, password
        self.query_url, self.update_url, self.gsp_url = (f"{self.base}/{p}" for p in self.paths)
        self._opener = urllib.request.build_opener()

    # -- HTTP --------------------------------------------------------------------------------
    def open(self, req: urllib.request.Request, timeout: float):
        return self._opener.open(req, timeout=timeout)

    def error_line(self, body: bytes) -> str:
        """The one line of an error body that says what went wrong."""
        lines = [ln.strip() for ln in body[:2000].decode("utf-8", "replace").splitlines() if ln.strip()]
        return lines[0] if lines else ""

    # -- dialect -----------------------------------------------------------------------------
    def prepare_query(self, text: str, store, explicit_dataset: bool) -> str:
        return text

    def json_results(self, body: bytes) -> bytes:
        """SPARQL JSON results as the standard spells them."""
        return body

    def accept(self, graph_result: bool) -> str:
        """The Accept header of a query (``graph_result``: CONSTRUCT or DESCRIBE)."""
        return "application/sparql-results+json, application/n-triples;q=0.9"

    # -- writes ------------------------------------------------------------------------------
    def replace_graphs(self, store, graphs: dict, version: str) -> None:
        """Replace each named graph with its quads and set the version, in ONE update request."""
        parts = []
        for g, quads in graphs.items():
            parts.append(f"DROP SILENT GRAPH {g}")
            if quads:
                body = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
                parts.append(f"INSERT DATA {{ GRAPH {g} {{\n{body}\n}} }}")
        parts.append(f"DROP SILENT GRAPH {META_GRAPH}")
        parts.append(f'INSERT DATA {{ GRAPH {META_GRAPH} {{ {DATASET} {VERSION} "{version}" }} }}')
        store.update(" ;\n".join(parts))


class Fuseki(Adapter):
    """Apache Jena Fuseki with a TDB2 dataset: the URL is the dataset's (``…:3030/econplan``).

    * Endpoints: Fuseki's defaults for a dataset, URL/query, URL/update, URL/data.
    * One SPARQL Update request is one TDB2 write transaction, so the plain one-request
      replacement of :class:`Adapter` is atomic here.
    * The default graph is TDB2's own unnamed graph unless the dataset is configured with
      ``tdb2:unionDefaultGraph true`` (see docs/stores.md); econplan keeps every triple in a named
      graph and needs the union.
    * Errors come back as ``text/plain`` bodies (``Error 400: Parse error: …`` followed by the
      request echoed); the first line is the message.
    """

    kind = "fuseki"
    paths = ("query", "update", "data")


class Virtuoso(Adapter):
    """OpenLink Virtuoso 7 (``virtuoso-opensource``): the URL is the HTTP server's root.

    Quirks, each measured on Virtuoso 07.20.3229 (Debian's 7.2.5 package):

    * One endpoint, URL/sparql, takes queries and updates. The anonymous SPARQL account may not
      write ("SR186: No permission to execute procedure DB.DBA.SPARQL_INSERT_DICT_CONTENT"):
      with a user in the URL updates go to URL/sparql-auth with HTTP digest authentication,
      without one to URL/sparql (the SPARQL account then needs the SPARQL_UPDATE role).
      Graph Store Protocol: URL/sparql-graph-crud-auth (unused by econplan).
    * The default graph of a query is every graph in the database, Virtuoso's own system graphs
      (``virtrdf#``, ``ldp#``, ``localuriqaserver/sparql``) and any other application's data
      included. Each query therefore names its dataset with ``DEFINE input:default-graph-uri``
      and ``input:named-graph-uri``: the graphs econplan wrote (a list kept in econplan's meta
      graph), plus the meta graph among the named graphs. A query that names its own dataset
      (FROM, FROM NAMED, or the protocol parameters) is left as it is.
    * An update request with several operations is not one transaction: when a later
      operation fails at run time the earlier ones stay applied (seen with an INSERT DATA
      followed by an operation raising an error). A single DELETE/INSERT … WHERE operation is one
      SQL statement and is applied whole or not at all. So a replacement writes the new
      graphs into staging graphs (in as many requests as needed; no reader sees them, as they
      are not in the list), then swaps them in with ONE DELETE/INSERT operation that empties the
      old graphs, copies the staged ones and rewrites the meta graph, then drops the staging
      graphs. A failure before the swap leaves the live graphs and the list untouched; the next
      replacement drops what an interrupted one left in staging.
    * ``INSERT DATA`` refuses blank nodes ("SP031: Blank node … is not allowed in a constant
      clause"): triples with blank nodes are written with ``INSERT { … } WHERE { }``, all of one
      graph's in the same request so that a blank node stays one node.
    * Very long requests: the staging writes are cut into requests of at most
      :attr:`chunk` triples.
    * With a dataset named by defines (or FROM, or the protocol's parameters), a graph outside it
      matches once with nothing bound: ``SELECT (COUNT(*) AS ?n) { GRAPH <absent> { ?s ?p ?o } }``
      answers 1. A graph in the dataset that holds nothing matches nothing, as it should: so
      ``GRAPH <iri>`` with an IRI outside econplan's graphs is sent as ``GRAPH <…/graph/none>``,
      an empty graph named in every dataset. A graph IRI given through VALUES or BIND is not
      rewritten and still meets the defect (econplan's own queries and saved queries do not).
    * ``ASK`` is answered as a row set (``__ASK_RETVAL``), and wrongly: with a
      ``DEFINE input:default-graph-uri`` it answers true for ``ASK { GRAPH <absent> { ?s ?p ?o } }``.
      An ASK is therefore sent as ``SELECT (1 AS ?econplan_ask) … LIMIT 1`` and the row set read
      back as the boolean.
    * A CONSTRUCT or DESCRIBE asked for with SPARQL JSON first comes back as s/p/o rows of
      SPARQL JSON; graph results are asked for as N-Triples only.
    * ``DEFINE input:default-graph-uri`` alone leaves ``GRAPH ?g`` ranging over every graph in
      the database: both defines are needed.
    * Blank nodes come back in SPARQL JSON results as ``nodeID://b10076`` (not a blank node
      label; in N-Triples the same node is ``_:b10076``): the prefix is removed before parsing.
    * Typed literals of the numeric and boolean types are kept as values, not as written:
      ``"5.0"^^xsd:decimal`` reads back ``"5"``, as it does from econplan's embedded store
      (pyoxigraph also keeps values; the written form is in the build's N-Quads dump), but
      ``"true"^^xsd:boolean`` reads back ``"1"``: booleans are turned back into ``true`` and
      ``false`` (what the embedded store answers). Decimals beyond about 15 significant digits
      lose digits (Virtuoso's issue 114; econplan's data has none: the round-trip test would
      show it). ``xsd:integer``, ``xsd:gYear``, ``xsd:date``, ``xsd:string`` and language tags
      come back as the embedded store gives them.
    * Errors are ``text/plain``: ``Virtuoso 37000 Error SP030: …`` followed by the query
      echoed; the first line is the message.
    """

    kind = "virtuoso"
    chunk = 2000

    def __init__(self, base: str, user: str | None = None, password: str | None = None):
        super().__init__(base, user, password)
        self.query_url = f"{self.base}/sparql"
        self.gsp_url = f"{self.base}/sparql-graph-crud-auth"
        if user:
            self.update_url = f"{self.base}/sparql-auth"
            mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            mgr.add_password(None, self.base, user, password or "")
            self._auth_opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(mgr))
        else:
            self.update_url = f"{self.base}/sparql"
            self._auth_opener = self._opener
        self._graphs: tuple[float, list[str]] = (0.0, [])
        self._lock = threading.Lock()

    def open(self, req, timeout):
        opener = self._auth_opener if req.full_url == self.update_url else self._opener
        return opener.open(req, timeout=timeout)

    # -- reads -------------------------------------------------------------------------------
    def live_graphs(self, store) -> list[str]:
        """The graphs econplan wrote, from the meta graph (cached for a second)."""
        with self._lock:
            at, graphs = self._graphs
            if time.monotonic() - at < 1.0:
                return graphs
        rows = store.raw_select(f"SELECT ?g WHERE {{ GRAPH {META_GRAPH} {{ {DATASET} {HAS_GRAPH} ?g }} }}")
        graphs = sorted(r["g"].value for r in rows)
        with self._lock:
            self._graphs = (time.monotonic(), graphs)
        return graphs

    def forget(self) -> None:
        with self._lock:
            self._graphs = (0.0, [])

    def accept(self, graph_result):
        # asked for JSON first, Virtuoso answers a CONSTRUCT with s/p/o rows of SPARQL JSON
        return "application/n-triples" if graph_result else "application/sparql-results+json"

    def prepare_query(self, text, store, explicit_dataset):
        blank = store.blank_out(text)
        if explicit_dataset or re.search(r"(?i)\bFROM\b", blank):
            return text
        graphs = self.live_graphs(store)
        named = set(graphs) | {META_GRAPH.value, NO_GRAPH.value}
        text = _outside_to_none(text, blank, named)
        text = _ask_as_select(text, store.blank_out(text))
        defines = "".join(f"DEFINE input:default-graph-uri <{g}>\n" for g in graphs or [NO_GRAPH.value])
        defines += "".join(f"DEFINE input:named-graph-uri <{g}>\n" for g in sorted(named))
        return defines + text

    _NODE_ID = re.compile(rb'("type":\s*"bnode",\s*"value":\s*")nodeID://')
    _BOOLEAN = re.compile(rb'("datatype":\s*"http://www.w3.org/2001/XMLSchema#boolean",\s*"value":\s*")([01])"')

    def json_results(self, body):
        head = body[:200]
        if b'"__ASK_RETVAL"' in head or b'"econplan_ask"' in head:  # an ASK, answered as rows
            yes = b'"value": "1"' in body or b'"value":"1"' in body
            return b'{"head": {}, "boolean": %s}' % (b"true" if yes else b"false")
        body = self._NODE_ID.sub(rb"\1", body)
        return self._BOOLEAN.sub(lambda m: m.group(1) + (b'true"' if m.group(2) == b"1" else b'false"'), body)

    # -- writes ------------------------------------------------------------------------------
    @staticmethod
    def staging_of(g) -> ox.NamedNode:
        return ox.NamedNode(STAGING + hashlib.sha256(g.value.encode()).hexdigest()[:24])

    def replace_graphs(self, store, graphs: dict, version: str) -> None:
        # 1. what an interrupted replacement left in staging
        for row in store.raw_select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                                    f"FILTER(STRSTARTS(STR(?g), \"{STAGING}\")) }}"):
            store.update(f"DROP SILENT GRAPH {row['g']}")
        # 2. the new graphs, into staging graphs
        live = set(self.live_graphs_uncached(store))
        for g, quads in graphs.items():
            if quads:
                self._stage(store, self.staging_of(g), quads)
                live.add(g.value)
            else:
                live.discard(g.value)
        meta = [ox.Quad(DATASET, VERSION, ox.Literal(version), META_GRAPH)]
        meta += [ox.Quad(DATASET, HAS_GRAPH, ox.NamedNode(g), META_GRAPH) for g in sorted(live)]
        self._stage(store, self.staging_of(META_GRAPH), meta)
        # 3. the swap: ONE operation (one statement, all or nothing)
        targets = list(graphs) + [META_GRAPH]
        olds = " ".join(f"({g})" for g in targets)
        news = " ".join(f"({self.staging_of(g)} {g})" for g in targets)
        store.update(
            "DELETE { GRAPH ?g { ?s ?p ?o } } INSERT { GRAPH ?t { ?s2 ?p2 ?o2 } } WHERE {\n"
            f"  {{ VALUES (?g) {{ {olds} }} GRAPH ?g {{ ?s ?p ?o }} }}\n"
            f"  UNION {{ VALUES (?st ?t) {{ {news} }} GRAPH ?st {{ ?s2 ?p2 ?o2 }} }}\n}}")
        self.forget()
        # 4. the staging graphs are no longer needed (left over, they are dropped by the next one)
        store.update(" ;\n".join(f"DROP SILENT GRAPH {self.staging_of(g)}" for g in targets))

    def live_graphs_uncached(self, store) -> list[str]:
        self.forget()
        return self.live_graphs(store)

    def _stage(self, store, staging: ox.NamedNode, quads) -> None:
        plain = [q for q in quads if not _has_bnode(q)]
        with_bnodes = [q for q in quads if _has_bnode(q)]
        for i in range(0, len(plain), self.chunk):
            body = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in plain[i:i + self.chunk])
            store.update(f"INSERT DATA {{ GRAPH {staging} {{\n{body}\n}} }}")
        if with_bnodes:
            body = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in with_bnodes)
            store.update(f"INSERT {{ GRAPH {staging} {{\n{body}\n}} }} WHERE {{ }}")


def _outside_to_none(text: str, blank: str, named: set) -> str:
    """``GRAPH <iri>`` for a graph outside the dataset as ``GRAPH <…/graph/none>`` (for Virtuoso;
    see there). ``blank`` is ``text`` with its IRIs, strings and comments blanked out."""
    out, last = [], 0
    for m in re.finditer(r"(?i)\bGRAPH\b", blank):
        j = m.end()
        while j < len(text) and text[j].isspace():
            j += 1
        if text.startswith("<", j):
            k = text.find(">", j)
            if k != -1 and text[j + 1:k] not in named:
                out += [text[last:j], f"<{NO_GRAPH.value}>"]
                last = k + 1
    return "".join(out) + text[last:]


def _ask_as_select(text: str, blank: str) -> str:
    """``ASK { P }`` as ``SELECT (1 AS ?econplan_ask) { P } LIMIT 1`` (for Virtuoso; see there)."""
    m = re.search(r"(?i)\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", blank)
    if not m or m.group(1).upper() != "ASK":
        return text
    text = text[:m.start()] + "SELECT (1 AS ?econplan_ask)" + text[m.end():]
    blank = blank[:m.start()] + "SELECT (1 AS ?econplan_ask)" + blank[m.end():]
    if re.search(r"(?i)\bLIMIT\s+\d+\s*(OFFSET\s+\d+\s*)?$", blank):
        return text
    tail = re.search(r"(?is)\bVALUES\b[^{}]*\{[^{}]*\}\s*$", blank)
    at = tail.start() if tail else len(text)
    return text[:at] + "\nLIMIT 1\n" + text[at:]


def _has_bnode(q) -> bool:
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)


ADAPTERS = {a.kind: a for a in (Adapter, Fuseki, Virtuoso)}


def parse_store_url(url: str) -> tuple[str, str, str | None, str | None]:
    """``kind+http://user:password@host:port/path`` → (kind, http URL without the user, user, password)."""
    m = re.match(r"^(?:(\w+)\+)?(https?://.*)$", url.strip())
    if not m:
        raise ValueError(f"not a store URL: {url!r}")
    kind, rest = (m.group(1) or "oxigraph").lower(), m.group(2)
    parts = urllib.parse.urlsplit(rest)
    user = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password) if parts.password else None
    if user and password is None:
        password = os.environ.get("ECONPLAN_STORE_PASSWORD")
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return kind, urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), user, password


def adapter_for(url: str, kind: str | None = None) -> Adapter:
    k, base, user, password = parse_store_url(url)
    k = kind or k
    if k not in ADAPTERS:
        raise ValueError(f"unknown store kind {k!r}; use {', '.join(ADAPTERS)}")
    return ADAPTERS[k](base, user, password)


def display_url(url: str) -> str:
    """The store URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)
