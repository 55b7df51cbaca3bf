"""A validated load into an external store whose connection is cut mid-write leaves the store as
it was (a proxy cuts the update requests after a byte budget).  Apart from tests/test_stores.py so
that this long test runs on another test worker."""
from __future__ import annotations

import socket
import threading
import urllib.parse
from collections import Counter

import pyoxigraph as ox
import pytest

from conftest import make_build_dir
from server.kg.remote import RemoteStore
from server.kg.stores import adapter_for, parse_store_url
from test_stores import EXTERNAL, STAGING, content, econplan, start
from server.kg import builddir


@pytest.fixture(scope="module", params=EXTERNAL)
def store(request, tmp_path_factory):
    s = start(request.param, tmp_path_factory.mktemp(request.param))
    yield s
    s.stop()


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
    build = make_build_dir(tmp_path / "b", ox.parse(path=str(builddir.dump(built)), format=ox.RdfFormat.N_QUADS))
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

