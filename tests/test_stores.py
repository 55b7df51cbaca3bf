"""External stores, each a real server on 127.0.0.1 (the backends in ECONPLAN_TEST_BACKENDS other
than the embedded one: `oxigraph serve` in `make test`, Virtuoso and Fuseki in `make test-stores`).

* values survive `econplan --store URL push`: every quad, datatype and language tag, compared
  quad for quad with the embedded store;
* a validated load whose connection to the store is cut mid-write (a proxy on 127.0.0.1 that
  drops every connection after N bytes) leaves the store as it was, and the next load works;
* the per-store adapters: endpoints, authentication, dataset isolation, error lines.
"""
from __future__ import annotations

import socket
import subprocess
import urllib.parse
import sys
import threading
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import BACKENDS, OxigraphServer, make_build_dir
from external_stores import STORES

from server.kg.stores import Virtuoso, adapter_for, display_url, parse_store_url
from server.kg.remote import RemoteStore

EXTERNAL = [b for b in BACKENDS if b != "embedded"]
META = "https://w3id.org/econplan/graph/meta"
STAGING = "https://w3id.org/econplan/graph/staging/"
ECONPLAN = str(Path(sys.executable).parent / "econplan")


def start(kind, log_dir):
    return OxigraphServer(log_dir) if kind == "oxigraph" else STORES[kind](log_dir)


@pytest.fixture(scope="module", params=EXTERNAL)
def store(request, tmp_path_factory):
    s = start(request.param, tmp_path_factory.mktemp(request.param))
    yield s
    s.stop()


def content(url) -> set:
    """Every quad econplan sees in the store, less its meta graph (version marker)."""
    return {q for q in RemoteStore(url) if q.graph_name.value != META}


def has_bnode(q) -> bool:
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)


def canonical(quads) -> set:
    """The quads with blank nodes, with their labels made canonical (the store picks its own)."""
    ds = ox.Dataset(q for q in quads if has_bnode(q))
    ds.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(ds)


def econplan(*args, timeout=600):
    return subprocess.run([ECONPLAN, *map(str, args)], capture_output=True, text=True, timeout=timeout)


# -- values survive the round trip -------------------------------------------------------------

def test_push_keeps_every_value_datatype_and_language_tag(store, built, tmp_path):
    build = make_build_dir(tmp_path / "b", ox.parse(path=str(built / "econplan.nq"), format=ox.RdfFormat.N_QUADS))
    r = econplan("--build-dir", build, "--store", store.url, "push")
    assert r.returncode == 0, r.stderr
    assert "***" in r.stdout or "@" not in store.url  # a password is never printed
    embedded = ox.Store()
    embedded.bulk_load(path=str(build / "econplan.nq"), format=ox.RdfFormat.N_QUADS)
    local = set(embedded)
    remote = content(store.url)
    assert len(remote) == len(local)
    # every quad without a blank node is the same term for term: IRIs, lexical forms (as the
    # embedded store keeps them: pyoxigraph, like Virtuoso, keeps a decimal's value, "5.0" as "5"),
    # datatypes and language tags
    plain_local = {q for q in local if not has_bnode(q)}
    plain_remote = {q for q in remote if not has_bnode(q)}
    assert plain_local - plain_remote == set()
    assert plain_remote - plain_local == set()
    assert canonical(remote) == canonical(local)
    # every datatype and language tag is there, as often as in the build
    kinds = lambda qs: Counter((q.object.datatype.value, q.object.language)  # noqa: E731
                               for q in qs if isinstance(q.object, ox.Literal))
    assert kinds(remote) == kinds(local)
    assert {"zh", "en"} <= {lang for _, lang in kinds(local)}


# -- a load whose connection dies mid-write ------------------------------------------------------

class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that forwards to ``port`` and, once ``budget`` bytes of update
    requests (``POST <path>``, headers and body) have gone to the store, over all connections,
    cuts every connection. Queries pass uncounted."""

    def __init__(self, port: int, budget: int, path: str):
        self.port, self.budget, self.sent, self.cut = port, budget, 0, False
        self.path = f"POST {path} ".encode()
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.listen_port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.cut:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.port))
            self.conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src, dst, counted):
        try:
            first = True
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if first and counted:  # a connection to the store carries one request
                    counted = data.startswith(self.path)
                first = False
                if counted:
                    with self.lock:
                        room = self.budget - self.sent
                        self.sent += len(data)
                        if room < len(data):
                            dst.sendall(data[:max(room, 0)])
                            self._cut()
                            return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _cut(self):
        self.cut = True
        for s in self.conns:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            except OSError:
                pass

    def close(self):
        self.sock.close()
        self._cut()


def via(url: str, port: int) -> str:
    """The same store URL with the host and port of the proxy."""
    import urllib.parse

    kind, base, user, password = parse_store_url(url)
    parts = urllib.parse.urlsplit(base)
    auth = f"{user}:{password}@" if user else ""
    prefix = "" if kind == "oxigraph" else kind + "+"
    return f"{prefix}http://{auth}127.0.0.1:{port}{parts.path}"


def store_port(url: str) -> int:
    import urllib.parse

    return urllib.parse.urlsplit(parse_store_url(url)[1]).port


def test_a_load_cut_mid_write_leaves_the_store_as_it_was(store, built, tmp_path):
    build = make_build_dir(tmp_path / "b", ox.parse(path=str(built / "econplan.nq"), format=ox.RdfFormat.N_QUADS))
    r = econplan("--build-dir", build, "--store", store.url, "push")
    assert r.returncode == 0, r.stderr
    before = content(store.url)
    # a valid load big enough to need several requests on a store that stages: a copy of the
    # cleaned source text (4,416 triples) in a new graph
    source = [q for q in before if q.graph_name.value.endswith("/source/report-clean")]
    assert len(source) > 4000
    nt = tmp_path / "copy.nt"
    nt.write_bytes(ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in source],
                                format=ox.RdfFormat.N_TRIPLES))
    graph = "https://example.org/copy-of-the-source"
    port = store_port(store.url)
    update_path = urllib.parse.urlsplit(adapter_for(store.url).update_url).path
    outcomes = Counter()
    # about the size of the data in update requests: cuts at fractions of it land early, in the
    # middle and late in the write; then larger budgets until the load gets through
    size = len(urllib.parse.urlencode({"update": nt.read_text(encoding="utf-8")}))
    # (a store that takes the load in one request needs fewer cuts to show the same)
    fractions = ((0.02, 0.3, 0.6, 0.9, 1.2, 1.6, 2.2, 3.0, 4.5, 8.0) if store.kind == "virtuoso"
                 else (0.02, 0.6, 1.2, 3.0, 8.0))
    budgets = [int(size * f) for f in fractions]
    for budget in budgets:
        proxy = CuttingProxy(port, budget, update_path)
        try:
            r = econplan("--store", via(store.url, proxy.listen_port), "load", nt, "--graph", graph, timeout=300)
        finally:
            proxy.close()
        now = content(store.url)
        if r.returncode == 0:  # the budget outlasted the whole load
            outcomes["done"] += 1
            break
        assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
        assert proxy.sent > budget  # the cut did happen in an update request
        outcomes["cut"] += 1
        assert now == before, f"a load cut after {budget} of {size} bytes of updates changed the store"
    assert outcomes["cut"] >= 3 if store.kind == "virtuoso" else outcomes["cut"] >= 1, outcomes
    # and a load without a cut afterwards works, leaving no staging graph behind
    if outcomes["done"]:
        assert content(store.url) == before | {ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(graph))
                                               for q in source}
        r = econplan("--store", store.url, "load", nt, "--graph", graph, "--replace", timeout=300)
        assert r.returncode == 0, r.stderr
    else:
        r = econplan("--store", store.url, "load", nt, "--graph", graph, timeout=300)
        assert r.returncode == 0, r.stderr
    assert content(store.url) == before | {ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(graph)) for q in source}
    if store.kind == "virtuoso":
        raw = RemoteStore(store.url).raw_select(
            f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{STAGING}")) }}')
        assert raw == []


# -- the adapters --------------------------------------------------------------------------------

def test_store_urls_name_the_adapter_and_hide_the_password():
    a = adapter_for("virtuoso+http://dba:s3cret@127.0.0.1:8890/")
    assert (a.kind, a.query_url, a.update_url) == ("virtuoso", "http://127.0.0.1:8890/sparql",
                                                   "http://127.0.0.1:8890/sparql-auth")
    assert adapter_for("virtuoso+http://127.0.0.1:8890").update_url == "http://127.0.0.1:8890/sparql"
    f = adapter_for("fuseki+http://127.0.0.1:3030/econplan")
    assert (f.kind, f.query_url, f.update_url, f.gsp_url) == (
        "fuseki", "http://127.0.0.1:3030/econplan/query", "http://127.0.0.1:3030/econplan/update",
        "http://127.0.0.1:3030/econplan/data")
    o = adapter_for("http://127.0.0.1:7878")
    assert (o.kind, o.query_url, o.update_url) == ("oxigraph", "http://127.0.0.1:7878/query", "http://127.0.0.1:7878/update")
    assert display_url("virtuoso+http://dba:s3cret@h:1") == "virtuoso+http://dba:***@h:1"
    with pytest.raises(ValueError, match="unknown store kind"):
        adapter_for("graphdb+http://127.0.0.1:7200")


def test_virtuoso_results_are_read_as_the_standard_spells_them():
    v = Virtuoso("http://127.0.0.1:1")
    body = (b'{"head":{"vars":["b","t"]},"results":{"bindings":[{"b":{"type": "bnode", "value": "nodeID://b10076"},'
            b'"t":{"type":"typed-literal","datatype":"http://www.w3.org/2001/XMLSchema#boolean","value":"1"}}]}}')
    rows = list(ox.parse_query_results(v.json_results(body), format=ox.QueryResultsFormat.JSON))
    assert rows[0]["b"] == ox.BlankNode("b10076")
    assert rows[0]["t"] == ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))


def _virtuoso_queries_see_econplan_graphs_only(tmp_path, kind="virtuoso"):
    """Virtuoso's default graph is every graph it holds (its system graphs too): econplan's
    queries see only the graphs econplan wrote, and nothing at all before the first write."""
    s = start(kind, tmp_path)
    try:
        store = RemoteStore(s.url)
        all_graphs = {r["g"].value for r in store.raw_select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
        assert "http://www.openlinksw.com/schemas/virtrdf#" in all_graphs  # the quirk is real
        assert len(store) == 0 and list(store.named_graphs()) == []
        g = ox.NamedNode("https://example.org/g")
        store.replace_graphs({g: [ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"),
                                          ox.Literal("x", language="zh-hans"), g)]}, "v1")
        store = RemoteStore(s.url)
        assert {x.value for x in store.named_graphs()} == {g.value, META}
        assert [str(q.object) for q in store.quads_for_pattern(None, None, None, None) if q.graph_name == g] == ['"x"@zh-hans']
        assert store.version() == "v1"
        rows = list(store.query("SELECT ?o WHERE { ?s ?p ?o }"))
        assert [r["o"] for r in rows] == [ox.Literal("x", language="zh-hans")]
        # anonymous updates are refused by Virtuoso: the adapter's authentication is what writes
        anon = RemoteStore(s.url.replace(f"dba:{s.password}@", ""))
        with pytest.raises(Exception, match="permission|SR186"):
            anon.replace_graphs({g: []}, "v2")
        assert RemoteStore(s.url).version() == "v1"
        # an error body's first line is the message
        with pytest.raises(Exception, match="Virtuoso .*Error"):
            store.update("INSERT DATA { GRAPH <https://example.org/g> { <a:b> <a:c> 'x'^^<http://www.w3.org/2001/XMLSchema#integer> } }")
    finally:
        s.stop()


if "virtuoso" in EXTERNAL:  # only where Virtuoso is one of the backends under test
    test_virtuoso_queries_see_econplan_graphs_only = _virtuoso_queries_see_econplan_graphs_only


# -- saved queries and entity pages: the same answers as on the embedded store -------------------

PAGES = ["/id/district/330109", "/id/district/330100", "/id/hangzhou/2023-plan/fact/gdp-2023",
         "/id/hangzhou/2023-plan/passage/p005-s01", "/id/hangzhou/2023-plan", "/id/indicator/gdp",
         "/id/unit/yi-yuan", "/def/Fact", "/def/refArea"]


@pytest.fixture(scope="module")
def apps(store, built, root, tmp_path_factory):
    """Flask's test client over the embedded store and over the external one, same data."""
    from server import create_app

    build = make_build_dir(tmp_path_factory.mktemp("pages") / "b",
                           ox.parse(path=str(built / "econplan.nq"), format=ox.RdfFormat.N_QUADS))
    r = econplan("--build-dir", build, "--store", store.url, "push")
    assert r.returncode == 0, r.stderr
    made = []
    for cfg in ({"BUILD_DIR": str(build)}, {"BUILD_DIR": str(build), "STORE_URL": store.url}):
        app = create_app(dict(cfg, ROOT=str(root), QUERY_WORKERS=1, LOG_LEVEL="WARNING"))
        app.testing = True
        made.append(app)
    yield made[0].test_client(), made[1].test_client(), made[0]
    for app in made:
        app.extensions["econplan"].close()


def _term(b: dict, kind: str):
    """A SPARQL JSON term (Virtuoso says "typed-literal" where the standard says "literal")."""
    return (b.get("type").replace("typed-literal", "literal"), b["value"], b.get("datatype"), b.get("xml:lang"))


#: saved queries a store cannot answer, with the store's error (docs/stores.md)
KNOWN_DEFECTS = {
    # Virtuoso 7.2.5 fails this query's ORDER BY (any sort key) with "SR128: Numeric value out of
    # range for <temporary space column>"; without ORDER BY it answers the same 7 rows
    ("virtuoso", "growth-above-threshold"): "SR128",
    # its SPARQL compiler: "SP031: SPARQL: Internal error: ssg_print_scalar_expn (): unsupported
    # mode for 'not(X)'" (a 400 to the client: the store refused the query)
    ("virtuoso", "share-recomputation-checks"): "SP031",
}


def test_saved_queries_answer_as_on_the_embedded_store(apps, store):
    import json
    import re

    embedded, external, app = apps
    with app.app_context():
        library = dict(app.extensions["econplan"].library)
    assert len(library) >= 20
    compared = 0
    for slug, q in library.items():
        if q.kind == "construct":
            continue
        args = {"fact": "https://w3id.org/econplan/id/hangzhou/2023-plan/fact/gdp-2023"} if q.param("fact") else {}
        a = embedded.get(f"/queries/{slug}.json", query_string=args)
        b = external.get(f"/queries/{slug}.json", query_string=args)
        if (store.kind, slug) in KNOWN_DEFECTS:  # pinned: the day the store answers, this fails
            assert a.status_code == 200 and b.status_code in (400, 503), slug
            assert KNOWN_DEFECTS[store.kind, slug] in b.get_data(as_text=True), slug
            continue
        assert (a.status_code, b.status_code) == (200, 200), (slug, b.get_data(as_text=True)[:300])
        ja, jb = json.loads(a.data), json.loads(b.data)
        if "boolean" in ja:
            assert ja["boolean"] == jb["boolean"], slug
            continue
        # the standard leaves the order of GROUP_CONCAT's items open, and engines differ on an
        # empty one (oxigraph: unbound; Virtuoso: ""): those columns are compared as bags of words
        concat = set(re.findall(r"(?is)GROUP_CONCAT\s*\(.*?\)\s+AS\s+\?(\w+)", q.sparql))

        def rows(j):
            out = []
            for row in j["results"]["bindings"]:
                cells = {k: _term(v, store.kind) for k, v in row.items() if k not in concat}
                cells.update({k: tuple(sorted(row[k]["value"].split())) if k in row else () for k in concat})
                out.append(tuple(sorted(cells.items())))
            return sorted(out)

        assert rows(ja) == rows(jb), slug
        compared += 1
    assert compared >= 20


def test_entity_pages_are_the_same_as_on_the_embedded_store(apps, store):
    embedded, external, _ = apps
    import re

    version = re.compile(r"[0-9a-f]{16}")
    for path in PAGES:
        a, b = embedded.get(path, headers={"Accept": "text/html"}), external.get(path, headers={"Accept": "text/html"})
        assert (a.status_code, b.status_code) == (200, 200), path
        ta, tb = version.sub("V", a.get_data(as_text=True)), version.sub("V", b.get_data(as_text=True))
        # the same links and texts; their order may differ (the page lists a thing's types and
        # values in the order the store gives them)
        pieces = lambda html: sorted(re.findall(r"<a [^>]*>[^<]*</a>|>[^<]+<", html))  # noqa: E731
        assert pieces(ta) == pieces(tb), path
        assert len(pieces(ta)) > 20
