"""Validated loads: all or nothing, on the CLI and over HTTP, and safe against kill -9."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BACKENDS, LiveServer, start_backend
from test_endpoint import http

BIN = Path(sys.executable).parent / "econplan"
TOKEN = "load-test-token"

GOOD = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://w3id.org/econplan/id/indicator/gdp> skos:altLabel "GDP"@en , "GRP"@en .
"""
# A growth rate given in 亿元, and a fact with no unit: both violations.
BAD = """@prefix ep: <https://w3id.org/econplan/def#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/econplan/id/hangzhou/2023-plan/fact/gdp-growth-2023> ep:unit <https://w3id.org/econplan/id/unit/yi-yuan> .
"""


def copy_build(built: Path, dest: Path) -> Path:
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns("*.log", ".write.lock"))
    return dest


def run(*args, timeout=300):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_cli_load_commits_a_valid_file(built, tmp_path):
    out = copy_build(built, tmp_path / "b")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "loaded: +2" in r.stdout
    r = run("--build-dir", out, "query", "--format", "csv",
            "SELECT ?l WHERE { GRAPH <https://example.org/corrections> { indicator:gdp skos:altLabel ?l } } ORDER BY ?l")
    assert r.stdout.split() == ["l", "GDP", "GRP"]


def test_cli_rejected_load_changes_nothing(built, tmp_path):
    out = copy_build(built, tmp_path / "b")
    before = {n: (out / n).read_bytes() for n in ("econplan.nq", "econplan.trig")}
    f = tmp_path / "bad.ttl"
    f.write_text(BAD)
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Violation" in r.stdout and "rejected" in r.stderr
    for n, data in before.items():
        assert (out / n).read_bytes() == data


def test_cli_load_syntax_error_names_line_and_column(built, tmp_path):
    out = copy_build(built, tmp_path / "b")
    f = tmp_path / "broken.ttl"
    f.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b "unterminated .\n')
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/g")
    assert r.returncode != 0 and "broken.ttl:" in r.stderr and "Traceback" not in r.stderr


def test_cli_load_cannot_touch_the_shapes(built, tmp_path):
    out = copy_build(built, tmp_path / "b")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    r = run("--build-dir", out, "load", f, "--graph", "https://w3id.org/econplan/graph/shapes/econplan-shapes")
    assert r.returncode != 0 and "shapes" in r.stderr


def _dataset(path_or_store, fmt=None) -> set:
    """The quads of a dump or store as the store holds them (e.g. decimals in canonical form),
    blank nodes written as "_:" (parsing a file names them afresh)."""
    import pyoxigraph as ox

    store = path_or_store
    if not isinstance(store, ox.Store):
        store = ox.Store()
        store.load(path=str(path_or_store), format=fmt)
    out = {}
    for q in store:
        key = " ".join("_:" if isinstance(x, ox.BlankNode) else str(x)
                       for x in (q.subject, q.predicate, q.object, q.graph_name))
        out[key] = out.get(key, 0) + 1
    return {f"{k} x{n}" if n > 1 else k for k, n in out.items()}


def test_a_load_is_appended_and_the_trig_dump_and_the_store_match_the_dump(built, tmp_path):
    """A load without blank nodes into a local build takes the append path: the new dump is the
    old one plus the new quads (sorted); the TriG dump and the RocksDB store hold exactly what
    the dump holds; the stamp says so (a start-up has nothing to rebuild); loading the same
    file again adds nothing and writes nothing; a later SPARQL Update (the copying path) keeps
    every line of the dump as it was and adds its own."""
    import pyoxigraph as ox

    from server.kg.store import version_of
    from server.kg.writes import _reconciled, update

    out = copy_build(built, tmp_path / "b")
    old = (out / "econplan.nq").read_bytes()
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 0 and "loaded: +2" in r.stdout, r.stdout + r.stderr
    new = (out / "econplan.nq").read_bytes()
    assert new.startswith(old)
    added = sorted(new[len(old):].decode().splitlines())
    assert len(added) == 2 and all("skos/core#altLabel" in line and "<https://example.org/corrections> ." in line
                                   for line in added)
    dump = _dataset(out / "econplan.nq", ox.RdfFormat.N_QUADS)
    assert _dataset(out / "econplan.trig", ox.RdfFormat.TRIG) == dump
    assert _dataset(ox.Store.read_only(str(out / "store"))) == dump
    assert (out / "store.version").read_text().strip() == version_of(out) and _reconciled(out)
    assert not list(out.glob(".append-*")) and not list(out.glob(".econplan.nq.*"))
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 0 and "loaded: +0" in r.stdout, r.stdout + r.stderr
    assert (out / "econplan.nq").read_bytes() == new
    update(out, 'INSERT DATA { GRAPH <https://example.org/corrections> { <https://w3id.org/econplan/id/indicator/gdp> '
                '<http://www.w3.org/2004/02/skos/core#altLabel> "GDP (total)"@en } }')
    lines = (out / "econplan.nq").read_bytes().decode().splitlines()
    after = _dataset(out / "econplan.nq", ox.RdfFormat.N_QUADS)
    assert after - dump == {'<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2004/02/skos/core#altLabel> '
                            '"GDP (total)"@en <https://example.org/corrections>'}
    assert lines[:-1] == new.decode().splitlines() and "GDP (total)" in lines[-1]
    assert _dataset(ox.Store.read_only(str(out / "store"))) == after


def test_a_write_removes_what_an_interrupted_write_left_behind(built, tmp_path):
    """A write killed with kill -9 leaves its temporary dump or folders; the next write (which
    holds the write lock, so none of them is in use) removes them, and nothing else."""
    from server.kg.writes import LEFTOVERS

    out = copy_build(built, tmp_path / "b")
    left = [out / ".econplan.nq.abc123", out / "appends.log.tmp", out / ".append-xyz", out / ".reconcile-xyz",
            out / ".store-old"]
    left[0].write_bytes(b"<a> <b> <c> <d> .\n")
    left[1].write_text("half a line")
    for d in left[2:]:
        (d / "store").mkdir(parents=True)
        (d / "store" / "000001.sst").write_bytes(b"x")
    assert len(left) == len(LEFTOVERS)
    keep = out / "notes.txt"
    keep.write_text("mine")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(p.exists() for p in left)
    assert keep.read_text() == "mine" and (out / "store").is_dir() and (out / "econplan.nq").exists()


def test_a_store_in_memory_catches_up_with_appends_instead_of_reloading(built, tmp_path):
    """In memory mode, a process holding the data of before one or more appending loads adds
    the appended lines (appends.log says which) instead of loading the whole dump again, and
    then holds exactly what a fresh load holds; after a copying write (a SPARQL Update) it
    cannot, and reloads."""
    import pyoxigraph as ox

    from server.kg.loading import parse_file
    from server.kg.store import KnowledgeGraph, read_appends, version_of
    from server.kg.writes import load, update

    out = copy_build(built, tmp_path / "b")
    kg = KnowledgeGraph.open(out, mode="memory")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    load(out, parse_file(f), graph="https://example.org/corrections")
    (tmp_path / "more.ttl").write_text(GOOD.replace('"GRP"@en', '"gross regional product"@en'))
    load(out, parse_file(tmp_path / "more.ttl"), graph="https://example.org/more")
    assert len(read_appends(out)) == 2
    caught = kg.catch_up(version_of(out))
    assert caught is not None and caught.version == version_of(out) and caught.store is kg.store
    fresh = KnowledgeGraph.open(out, mode="memory")
    assert _dataset(caught.store) == _dataset(fresh.store)
    assert len(caught.store) == len(fresh.store)
    assert KnowledgeGraph.open(out, mode="memory").catch_up("0" * 16) is None  # no such append
    update(out, 'INSERT DATA { GRAPH <https://example.org/more> { <https://w3id.org/econplan/id/indicator/gdp> '
                '<http://www.w3.org/2004/02/skos/core#altLabel> "GDP (total)"@en } }')
    assert caught.catch_up(version_of(out)) is None  # a copying write: reload
    # and the app's state takes that path: after an appending load, same store object, new data
    from server.config import load_config
    from server.web.app import AppState

    state = AppState(load_config({"BUILD_DIR": str(out), "STORE_MODE": "memory"}, environ={}))
    held = state.current_kg()
    load(out, parse_file(f), graph="https://example.org/third")
    now = state.current_kg()
    assert now.version == version_of(out) != held.version and now.store is held.store
    assert ox.NamedNode("https://example.org/third") in set(now.store.named_graphs())
    assert KnowledgeGraph.open(out, mode="disk").catch_up(version_of(out)) is None
    assert ox.NamedNode("https://example.org/more") in set(fresh.store.named_graphs())


def test_a_load_with_blank_nodes_is_validated_and_committed_whole(built, tmp_path):
    """Blank nodes could clash with the dump's labels, so such a load copies the store (the
    path every write took before appends); it still commits, and the derived stores match."""
    import pyoxigraph as ox

    out = copy_build(built, tmp_path / "b")
    f = tmp_path / "bnode.ttl"
    f.write_text('<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2000/01/rdf-schema#seeAlso> '
                 '[ <http://www.w3.org/2000/01/rdf-schema#label> "a note"@en ] .\n')
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/notes")
    assert r.returncode == 0 and "loaded: +2" in r.stdout, r.stdout + r.stderr
    dump = _dataset(out / "econplan.nq", ox.RdfFormat.N_QUADS)
    assert _dataset(ox.Store.read_only(str(out / "store"))) == dump
    assert '<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2000/01/rdf-schema#seeAlso> _: <https://example.org/notes>' in dump


@pytest.mark.slow
def test_kill_9_during_a_load_leaves_old_or_new_state(built, tmp_path):
    """kill -9 at several moments of a load: the dump is the old one or the complete new one."""
    big = tmp_path / "big.nt"
    with big.open("w") as fh:
        for i in range(30000):
            fh.write(f"<https://example.org/s{i}> <http://www.w3.org/2000/01/rdf-schema#comment> \"note {i}\" .\n")
    reference = copy_build(built, tmp_path / "ref")
    old = (reference / "econplan.nq").read_bytes()
    r = run("--build-dir", reference, "load", big, "--graph", "https://example.org/big")
    assert r.returncode == 0, r.stderr
    new = (reference / "econplan.nq").read_bytes()
    assert new != old
    seen = set()
    for i, delay in enumerate((0.3, 0.8, 1.3, 1.8, 2.5, 3.2)):
        out = copy_build(built, tmp_path / f"k{i}")
        proc = subprocess.Popen([str(BIN), "--build-dir", str(out), "load", str(big), "--graph",
                                 "https://example.org/big"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        dump = (out / "econplan.nq").read_bytes()
        assert dump in (old, new), f"half-written store after kill at {delay}s"
        seen.add("old" if dump == old else "new")
        # and the store opens and answers afterwards (a restart on the same directory)
        r = run("--build-dir", out, "query", "--format", "csv", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert r.returncode == 0, r.stderr
    assert "old" in seen  # at least one kill landed before the commit


# -- HTTP -------------------------------------------------------------------------------------

class Snapshot:
    """The whole content of a backend, to show that a rejected write changed nothing."""

    def __init__(self, path, oxi):
        self.path, self.oxi = path, oxi

    def __call__(self) -> bytes:
        if self.oxi is None:
            return (self.path / "econplan.nq").read_bytes()
        from server.kg.remote import RemoteStore

        return "\n".join(sorted(str(q) for q in RemoteStore(self.oxi.url))).encode()


@pytest.fixture(scope="module", params=BACKENDS)
def writable(request, built, tmp_path_factory):
    """A writable server on each backend: the embedded store, and an external `oxigraph serve`."""
    path = copy_build(built, tmp_path_factory.mktemp("w") / "b")
    server, oxi = start_backend(request.param, path, env={"ECONPLAN_WRITE_TOKEN": TOKEN,
                                                          "ECONPLAN_MAX_LOAD_BYTES": "100000"}, workers=1)
    server.oxi = oxi
    yield Snapshot(path, oxi), server
    server.stop()
    if oxi:
        oxi.stop()


def auth(ctype):
    return {"Content-Type": ctype, "Authorization": f"Bearer {TOKEN}"}


def count(server, graph):
    q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    import urllib.parse

    status, _, body = http(server.url + "/sparql?" + urllib.parse.urlencode({"query": q}))
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_http_load_201_then_204_then_visible(writable):
    _, server = writable
    g = "https://example.org/http-load"
    status, headers, body = http(server.url + f"/load?graph={g}", data=GOOD.encode(), headers=auth("text/turtle"))
    assert status == 201, body
    assert json.loads(body)["added"] == 2
    assert count(server, g) == 2
    status, headers, body = http(server.url + f"/load?graph={g}", method="POST", headers=auth("application/n-triples"),
                                 data=b'<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2004/02/skos/core#altLabel> "GDP (nominal)"@en .\n')
    assert status == 204 and headers["X-Triples-Added"] == "1"
    assert count(server, g) == 3
    status, _, _ = http(server.url + f"/load?graph={g}", method="PUT", data=GOOD.encode(), headers=auth("text/turtle"))
    assert status == 204 and count(server, g) == 2


@pytest.mark.parametrize("accept,check", [
    ("application/json", lambda b: json.loads(b)["error"]["report"]["conforms"] is False),
    ("text/plain", lambda b: b"Violation" in b and b"ep:unit" in b),
])
def test_http_load_violation_is_422_with_report(writable, accept, check):
    snapshot, server = writable
    before = snapshot()
    headers = auth("text/turtle")
    headers["Accept"] = accept
    status, _, body = http(server.url + "/load?graph=https://example.org/bad", data=BAD.encode(), headers=headers)
    assert status == 422 and check(body), body[:500]
    assert snapshot() == before


def test_http_load_syntax_error_is_400_with_line_and_column(writable):
    _, server = writable
    status, _, body = http(server.url + "/load?graph=https://example.org/x", headers=auth("text/turtle"),
                           data=b'@prefix ex: <http://example.org/> .\nex:a ex:b "oops .\n')
    err = json.loads(body)["error"]
    assert status == 400 and err["line"] == 2 and "column" in err


def test_http_load_unknown_format_is_415(writable):
    _, server = writable
    status, _, _ = http(server.url + "/load?graph=https://example.org/x", headers=auth("application/x-foo"), data=b"x")
    assert status == 415


def test_update_correction_commits(writable):
    _, server = writable
    upd = ('INSERT DATA { GRAPH <https://example.org/upd> { <https://w3id.org/econplan/id/indicator/cpi> '
           '<http://www.w3.org/2004/02/skos/core#altLabel> "CPI"@en } }')
    status, _, body = http(server.url + "/update", data=upd.encode(), headers=auth("application/sparql-update"))
    assert status == 200, body
    assert count(server, "https://example.org/upd") == 1


def test_update_that_violates_is_422_and_changes_nothing(writable):
    snapshot, server = writable
    before = snapshot()
    upd = ("DELETE WHERE { GRAPH ?g { <https://w3id.org/econplan/id/hangzhou/2023-plan/fact/gdp-2023> "
           "<https://w3id.org/econplan/def#unit> ?u } }")
    status, _, body = http(server.url + "/update", data=upd.encode(),
                           headers=dict(auth("application/sparql-update"), Accept="application/json"))
    assert status == 422, body
    assert snapshot() == before


def test_update_cannot_change_the_ontology(writable):
    _, server = writable
    upd = "CLEAR GRAPH <https://w3id.org/econplan/graph/ontology/econplan>"
    status, _, body = http(server.url + "/update", data=upd.encode(), headers=auth("application/sparql-update"))
    assert status == 403


def _chunked(server, path: str, body_pieces, headers: dict) -> tuple[int, bytes]:
    """POST with Transfer-Encoding: chunked (no Content-Length), as http.client sends an iterable."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.request("POST", path, body=body_pieces, headers=headers, encode_chunked=True)
        r = conn.getresponse()
        return r.status, r.read()
    except (ConnectionError, http.client.HTTPException):
        return 0, b""  # (the server may close the connection after its 413, before reading all)
    finally:
        conn.close()


@pytest.mark.parametrize("route", ["/load?graph=https://example.org/chunked", "/update"])
def test_a_chunked_body_over_the_limit_is_413_and_writes_nothing(writable, route):
    """MAX_LOAD_BYTES is 100,000 here: 300 kB sent chunked (no Content-Length) is refused with 413
    and nothing is committed (it used to be cut at the limit and committed)."""
    snapshot, server = writable
    before = snapshot()
    line = b'<https://example.org/s> <http://www.w3.org/2000/01/rdf-schema#label> "%d" .\n'
    if route == "/update":
        pieces = [b"INSERT DATA { GRAPH <https://example.org/chunked> {\n"] + \
                 [line % i for i in range(5000)] + [b"} }"]
        ctype = "application/sparql-update"
    else:
        pieces = [line % i for i in range(5000)]
        ctype = "application/n-triples"
    assert sum(map(len, pieces)) > 300_000
    status, body = _chunked(server, route, iter(pieces), auth(ctype))
    assert status in (413, 0), (status, body[:300])
    if status:
        assert b"MAX_LOAD_BYTES" in body
    assert count(server, "https://example.org/chunked") == 0
    assert snapshot() == before
    # a chunked body under the limit is taken whole
    status, body = _chunked(server, "/load?graph=https://example.org/chunked-small",
                            iter([line % i for i in range(3)]), auth("application/n-triples"))
    assert status in (201, 204), body  # (204: the graph was there from the other route's run)
    assert count(server, "https://example.org/chunked-small") == 3


def test_write_routes_send_no_cors_headers_and_read_routes_do(writable):
    _, server = writable
    for path in ("/load", "/update"):
        status, headers, _ = http(server.url + path, method="OPTIONS",
                                  headers={"Origin": "http://x.example", "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "authorization"})
        assert "Access-Control-Allow-Origin" not in headers, (path, headers)
        status, headers, _ = http(server.url + path, data=b"x", headers=auth("text/turtle"))
        assert "Access-Control-Allow-Origin" not in headers, (path, headers)
    status, headers, _ = http(server.url + "/sparql?query=ASK%7B%7D")
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert "Authorization" not in headers.get("Access-Control-Allow-Headers", "")


def test_an_update_calling_a_service_off_the_allow_list_is_403_and_changes_nothing(writable):
    snapshot, server = writable
    before = snapshot()
    update = ("INSERT { GRAPH <https://example.org/fetched> { ?s ?p ?o } } "
              "WHERE { SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o } }")
    status, _, body = http(server.url + "/update", data=update.encode(), headers=auth("application/sparql-update"))
    assert status == 403 and b"SERVICE_ALLOWLIST" in body, body
    assert snapshot() == before


def test_server_restarts_cleanly_on_the_same_store(writable):
    snapshot, server = writable
    server.stop()
    env = {"ECONPLAN_WRITE_TOKEN": TOKEN}
    if server.oxi is not None:
        env["ECONPLAN_STORE_URL"] = server.oxi.url
    again = LiveServer(snapshot.path, env=env, workers=1)
    try:
        assert count(again, "https://example.org/http-load") == 2
    finally:
        again.stop()


def test_backup_and_restore_by_copying_the_dump(built, tmp_path):
    """The README's backup: copy econplan.nq; restore: copy it back and start (reconcile rebuilds)."""
    out = copy_build(built, tmp_path / "b")
    backup = tmp_path / "backup.nq"
    shutil.copy(out / "econplan.nq", backup)
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    assert run("--build-dir", out, "load", f, "--graph", "https://example.org/after-backup").returncode == 0
    shutil.copy(backup, out / "econplan.nq")
    server = LiveServer(out, workers=1)
    try:
        assert count(server, "https://example.org/after-backup") == 0
        from server.kg.store import KnowledgeGraph

        disk = KnowledgeGraph.open(out, mode="disk")  # the RocksDB store was rebuilt from the dump
        assert not disk.store.contains_named_graph(__import__("pyoxigraph").NamedNode("https://example.org/after-backup"))
    finally:
        server.stop()


def test_a_server_that_rebuilt_the_store_at_start_still_takes_loads(built, tmp_path):
    """A start after an interrupted write rebuilds the RocksDB store from the dump (reconcile).
    That must not happen in the main process, which forks the HTTP worker processes:
    RocksDB used there first made every later load hang."""
    path = copy_build(built, tmp_path / "b")
    (path / "store.version").write_text("stale\n")  # as a crash between the dump and the store leaves it
    server = LiveServer(path, env={"ECONPLAN_WRITE_TOKEN": TOKEN, "ECONPLAN_STORE_MODE": "memory"}, workers=2)
    try:
        assert (path / "store.version").read_text().strip() != "stale"  # rebuilt
        g = "https://example.org/after-rebuild"
        status, _, body = http(server.url + f"/load?graph={g}", data=GOOD.encode(), headers=auth("text/turtle"),
                               timeout=30)
        assert status == 201, body
        assert count(server, g) == 2
    finally:
        server.stop()


def test_every_process_answers_from_the_new_data_after_a_load(built, tmp_path):
    """Two HTTP processes, each keeping answers for repeated requests: after a load over HTTP
    (taken by one process) and after one by the CLI (another program), every answer, whichever
    process gives it, is from the new data."""
    import urllib.parse

    path = copy_build(built, tmp_path / "b")
    server = LiveServer(path, env={"ECONPLAN_WRITE_TOKEN": TOKEN}, workers=2)
    try:
        q = ("SELECT ?l WHERE { <https://w3id.org/econplan/id/indicator/gdp> "
             "<http://www.w3.org/2004/02/skos/core#altLabel> ?l } ORDER BY ?l")
        url = server.url + "/sparql?" + urllib.parse.urlencode({"query": q})

        def labels() -> set:
            seen = set()
            for _ in range(30):  # a new connection each: both processes answer some
                status, _, body = http(url, headers={"Accept": "text/csv"})
                assert status == 200, body
                seen.add(tuple(body.decode().split()[1:]))
            return seen

        before = labels()
        assert len(before) == 1 and "GRP" not in next(iter(before))  # (GDP is a shipped label)
        status, _, body = http(server.url + "/load?graph=https://example.org/http", data=GOOD.encode(),
                               headers=auth("text/turtle"))
        assert status == 201, body
        after_http = labels()
        assert len(after_http) == 1 and "GRP" in next(iter(after_http))
        f = tmp_path / "cli.ttl"
        f.write_text('<https://w3id.org/econplan/id/indicator/gdp> '
                     '<http://www.w3.org/2004/02/skos/core#altLabel> "Gross regional product"@en .\n')
        r = run("--build-dir", path, "load", f, "--graph", "https://example.org/cli")
        assert r.returncode == 0, r.stdout + r.stderr
        after_cli = labels()
        assert len(after_cli) == 1 and "product" in next(iter(after_cli))
    finally:
        server.stop()


def test_a_copying_write_keeps_every_literal_as_written_and_the_dump_file_mode(built, tmp_path):
    """An update (which goes through a staging copy of the store) rewrote the whole dump from the
    store, which keeps a literal's value, not its text: "6.0"^^xsd:decimal came back as "6", and
    the new dump was 0600.  Now every line the update does not change stays byte for byte, and
    the dump keeps its mode."""
    from server.kg.writes import update

    out = copy_build(built, tmp_path / "b")
    dump = out / "econplan.nq"
    os.chmod(dump, 0o644)
    before = dump.read_bytes().splitlines()
    written = [ln for ln in before if b'"6.0"^^<http://www.w3.org/2001/XMLSchema#decimal>' in ln]
    assert written, "the data should hold a decimal written with a trailing zero"
    update(out, 'INSERT DATA { GRAPH <https://example.org/more> { <https://w3id.org/econplan/id/indicator/gdp> '
                '<http://www.w3.org/2004/02/skos/core#altLabel> "GDP (total)"@en } }')
    after = dump.read_bytes().splitlines()
    assert set(before) <= set(after) and len(after) == len(before) + 1
    assert all(ln in after for ln in written)
    assert os.stat(dump).st_mode & 0o777 == 0o644
    update(out, 'DELETE DATA { GRAPH <https://example.org/more> { <https://w3id.org/econplan/id/indicator/gdp> '
                '<http://www.w3.org/2004/02/skos/core#altLabel> "GDP (total)"@en } }')
    assert sorted(dump.read_bytes().splitlines()) == sorted(before)
