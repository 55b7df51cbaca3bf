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
from server.kg import builddir
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
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns("*.log", builddir.LOCK))
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


def _state(out: Path) -> tuple:
    """What a write may change in a build folder: the dumps, the change log, the version."""
    from server.kg import builddir

    log = builddir.log_path(out)
    return (builddir.dump(out).read_bytes(), builddir.trig(out).read_bytes(),
            log.read_bytes() if log.exists() else b"", builddir.version_of(out))


def test_cli_rejected_load_changes_nothing(built, tmp_path):
    out = copy_build(built, tmp_path / "b")
    before = _state(out)
    f = tmp_path / "bad.ttl"
    f.write_text(BAD)
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Violation" in r.stdout and "rejected" in r.stderr
    assert _state(out) == before


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


def test_a_load_is_one_record_in_the_change_log_and_compact_folds_it(built, tmp_path):
    """A load leaves the dumps as they were and appends one record to the change log (the version
    gains "+1"); another process (the CLI's query) applies it; the same load again adds nothing
    and writes nothing; an update logs its difference and its text; `econplan compact` folds the
    records into the dumps without changing the version, keeping every line of the old dump as
    written ("6.0"^^xsd:decimal stays) and the dump's mode, and the TriG dump and the RocksDB store
    then hold what the dump holds; the log stays whole (a build replays it)."""
    import pyoxigraph as ox

    from server.kg import builddir
    from server.kg.writes import update

    out = copy_build(built, tmp_path / "b")
    dump = builddir.dump(out)
    os.chmod(dump, 0o644)
    old, base = dump.read_bytes(), builddir.version_of(out)
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 0 and "loaded: +2" in r.stdout, r.stdout + r.stderr
    assert dump.read_bytes() == old and builddir.version_of(out) == base + "+1"
    [rec] = builddir.records(out, 0)
    assert (rec.seq, rec.op, rec.removed) == (1, "load", [])
    assert sorted(q.object.value for q in rec.added) == ["GDP", "GRP"]
    r = run("--build-dir", out, "query", "--format", "csv",
            "SELECT ?l WHERE { GRAPH <https://example.org/corrections> { indicator:gdp skos:altLabel ?l } } ORDER BY ?l")
    assert r.stdout.split() == ["l", "GDP", "GRP"], r.stdout + r.stderr
    log = builddir.log_path(out).read_bytes()
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 0 and "loaded: +0" in r.stdout, r.stdout + r.stderr
    assert builddir.log_path(out).read_bytes() == log
    res = update(out, 'DELETE DATA { GRAPH <https://example.org/corrections> { <https://w3id.org/econplan/id/indicator/gdp> '
                      '<http://www.w3.org/2004/02/skos/core#altLabel> "GRP"@en } } ; '
                      'INSERT DATA { GRAPH <https://example.org/corrections> { <https://w3id.org/econplan/id/indicator/gdp> '
                      '<http://www.w3.org/2004/02/skos/core#altLabel> "GDP (total)"@en } }')
    assert (res.added, res.removed) == (1, 1) and builddir.version_of(out) == base + "+2"
    [_, upd] = builddir.records(out, 0)
    assert upd.op == "update" and "DELETE DATA" in upd.text and len(upd.removed) == len(upd.added) == 1
    assert dump.read_bytes() == old
    log = builddir.log_path(out).read_bytes()
    r = run("--build-dir", out, "compact")
    assert r.returncode == 0 and "folded 2 write(s)" in r.stdout, r.stdout + r.stderr
    head, new = dump.read_bytes().split(b"\n", 1)
    old = old.split(b"\n", 1)[1]
    assert head.startswith(b"# econplan-dump ") and b" folded=2 " in head
    assert builddir.version_of(out) == base + "+2" and builddir.pending(out) == 0
    assert builddir.log_path(out).read_bytes() == log
    assert new.startswith(old) and os.stat(dump).st_mode & 0o777 == 0o644
    assert sorted(new[len(old):].decode().splitlines()) == sorted(
        f'<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2004/02/skos/core#altLabel> "{v}"@en '
        f'<https://example.org/corrections> .' for v in ("GDP", "GDP (total)"))
    assert b'"6.0"^^<http://www.w3.org/2001/XMLSchema#decimal>' in new
    data = _dataset(dump, ox.RdfFormat.N_QUADS)
    assert _dataset(builddir.trig(out), ox.RdfFormat.TRIG) == data
    assert builddir.store_is_current(out) and _dataset(ox.Store.read_only(str(builddir.store_dir(out)))) == data
    r = run("--build-dir", out, "compact")
    assert r.returncode == 0 and "nothing to fold" in r.stdout and dump.read_bytes().split(b"\n", 1)[1] == new


def test_a_write_removes_what_an_interrupted_write_left_behind(built, tmp_path):
    """A write killed with kill -9 leaves its temporary dump or folders; the next write (which
    holds the write lock, so none of them is in use) removes them, and nothing else."""
    from server.kg import builddir

    out = copy_build(built, tmp_path / "b")
    left = [out / f".{builddir.DUMP}.abc123", out / f".{builddir.LOG}.tmp", out / f".{builddir.STORE_STAMP}.tmp",
            out / ".append-xyz", out / ".reconcile-xyz", out / ".store-old", out / ".build-xyz"]
    left[0].write_bytes(b"<a> <b> <c> <d> .\n")
    left[1].write_text("half a line")
    left[2].write_text("half a")
    for d in left[3:]:
        (d / "store").mkdir(parents=True)
        (d / "store" / "000001.sst").write_bytes(b"x")
    assert len(left) == len(builddir.LEFTOVERS)
    keep = out / "notes.txt"
    keep.write_text("mine")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/corrections")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(p.exists() for p in left)
    assert keep.read_text() == "mine" and builddir.store_dir(out).is_dir() and builddir.dump(out).exists()


def test_a_store_in_memory_applies_the_log_instead_of_reloading(built, tmp_path):
    """In memory mode, a process holding the data of before some writes (loads, an update that
    removes, a load with blank nodes) applies their records to the store it holds, and then holds
    exactly what a fresh open holds; after a compaction of what it holds it only takes the new
    version; after a build (a new dump) it cannot, and reopens."""
    import pyoxigraph as ox

    from server.kg import builddir
    from server.kg.build import build
    from server.kg.loading import parse_file
    from server.kg.store import KnowledgeGraph
    from server.kg.writes import load, update

    out = copy_build(built, tmp_path / "b")
    kg = KnowledgeGraph.open(out, mode="memory")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    load(out, parse_file(f), graph="https://example.org/corrections")
    (tmp_path / "bn.ttl").write_text('<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2000/01/rdf-schema#seeAlso> '
                                     '[ <http://www.w3.org/2000/01/rdf-schema#label> "a note"@en ] .\n')
    load(out, parse_file(tmp_path / "bn.ttl"), graph="https://example.org/notes")
    update(out, 'DELETE DATA { GRAPH <https://example.org/corrections> { <https://w3id.org/econplan/id/indicator/gdp> '
                '<http://www.w3.org/2004/02/skos/core#altLabel> "GRP"@en } }')
    assert builddir.pending(out) == 3
    caught = kg.catch_up(builddir.version_of(out))
    assert caught is not None and caught.version == builddir.version_of(out) and caught.store is kg.store
    fresh = KnowledgeGraph.open(out, mode="memory")
    assert set(caught.store) == set(fresh.store)  # blank-node labels included: the dump's and the log's
    assert len(caught.store) == len(fresh.store) == len(kg.store)
    update(out, 'DELETE WHERE { GRAPH <https://example.org/notes> { ?s ?p ?o } }')  # blank-node quads
    again = caught.catch_up(builddir.version_of(out))
    assert again.store is kg.store and set(again.store) == set(KnowledgeGraph.open(out, mode="memory").store)
    assert not list(kg.store.quads_for_pattern(None, None, None, ox.NamedNode("https://example.org/notes")))
    assert KnowledgeGraph.open(out, mode="memory").catch_up("0" * 16) is None  # not from this store
    with builddir.writer(out):
        builddir.compact(out)
    folded = again.catch_up(builddir.version_of(out))
    assert folded is not None and folded.store is kg.store and folded.version == builddir.version_of(out)
    # and the app's state takes that path: after a load, same store object, new data
    from server.config import load_config
    from server.web.app import AppState

    state = AppState(load_config({"BUILD_DIR": str(out), "STORE_MODE": "memory"}, environ={}))
    held = state.current_kg()
    load(out, parse_file(f), graph="https://example.org/third")
    now = state.current_kg()
    assert now.version == builddir.version_of(out) != held.version and now.store is held.store
    assert ox.NamedNode("https://example.org/third") in set(now.store.named_graphs())
    assert KnowledgeGraph.open(out, mode="disk").catch_up(builddir.version_of(out)) is None
    log = builddir.log_path(out).read_bytes()
    build(Path(__file__).resolve().parents[1], out)  # data/ and the replayed writes
    assert builddir.pending(out) == 0 and builddir.log_path(out).read_bytes() == log  # the log stays
    assert now.catch_up(builddir.version_of(out)) is None  # another dump: opened anew
    assert KnowledgeGraph.open(out, mode="memory").store.contains_named_graph(ox.NamedNode("https://example.org/third"))


def test_a_torn_record_at_the_end_of_the_log_is_ignored_then_cut_off(built, tmp_path):
    """A record cut short (a crash in the middle of its write, before the fsync that commits it)
    fails its length or checksum: readers stop before it, the version is the one before it, and
    the next write cuts it off and appends its own record."""
    import struct
    import zlib

    from server.kg import builddir
    from server.kg.loading import parse_file
    from server.kg.store import KnowledgeGraph
    from server.kg.writes import load

    out = copy_build(built, tmp_path / "b")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    load(out, parse_file(f), graph="https://example.org/first")
    version, log = builddir.version_of(out), builddir.log_path(out)
    good = log.read_bytes()
    ox = __import__("pyoxigraph")
    payload = builddir.encode(builddir.Record(2, "load", [], [ox.Quad(
        ox.NamedNode("https://example.org/x"), ox.NamedNode("https://example.org/p"), ox.Literal("torn"),
        ox.NamedNode("https://example.org/torn"))], delta=1))
    seq = struct.pack(">Q", 2)
    whole = struct.pack(">4sIQI", b"EPC2", len(payload), 2, zlib.crc32(payload, zlib.crc32(seq))) + payload
    log.write_bytes(good + whole)  # (whole, it is a record)
    assert builddir.version_of(out).endswith("+2")
    for torn in (whole[:7], whole[:-5], whole[:-1] + b"X"):  # cut in the header, in the payload; bad checksum
        log.write_bytes(good + torn)
        assert builddir.version_of(out) == version and builddir.pending(out) == 1
        kg = KnowledgeGraph.open(out, mode="memory")
        assert kg.version == version
        assert not kg.store.contains_named_graph(ox.NamedNode("https://example.org/torn"))
    (tmp_path / "more.ttl").write_text(GOOD.replace('"GRP"@en', '"gross regional product"@en'))
    load(out, parse_file(tmp_path / "more.ttl"), graph="https://example.org/second")
    data = log.read_bytes()
    assert data.startswith(good) and b"torn" not in data and builddir.pending(out) == 2
    graphs = {g.value for g in KnowledgeGraph.open(out, mode="memory").store.named_graphs()}
    assert {"https://example.org/first", "https://example.org/second"} <= graphs
    assert "https://example.org/torn" not in graphs


def test_two_loads_from_two_processes_at_once_are_both_committed(built, tmp_path):
    """The one writer: two `econplan load` started together on one build folder wait while another
    process holds the write lock, then take it in turn; both commit (two records, in some order)
    and neither is lost."""
    from server.kg import builddir
    from server.kg.store import KnowledgeGraph

    out = copy_build(built, tmp_path / "b")
    procs = []
    with builddir.writer(out):
        for i in range(2):
            f = tmp_path / f"p{i}.ttl"
            f.write_text(GOOD.replace('"GRP"@en', f'"from process {i}"@en'))
            procs.append(subprocess.Popen([str(BIN), "--build-dir", str(out), "load", str(f), "--graph",
                                           f"https://example.org/p{i}"], stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
        time.sleep(4)  # time enough for both to load and validate
        assert builddir.pending(out) == 0 and all(p.poll() is None for p in procs)  # both wait
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0 and "loaded: +2" in stdout, stdout + stderr
    assert builddir.pending(out) == 2
    added = [{q.graph_name.value for q in rec.added} for rec in builddir.records(out, 0)]
    assert sorted(map(sorted, added)) == [["https://example.org/p0"], ["https://example.org/p1"]]
    store = KnowledgeGraph.open(out, mode="memory").store
    for i in range(2):
        labels = {q.object.value for q in store.quads_for_pattern(None, None, None, __import__("pyoxigraph").NamedNode(f"https://example.org/p{i}"))}
        assert labels == {"GDP", f"from process {i}"}


def test_a_load_with_blank_nodes_gets_fresh_labels_and_is_committed(built, tmp_path):
    """Blank nodes of a load get labels of their own (they cannot meet the store's), are validated
    (the whole data: their subjects are blank) and logged; the store on disk then matches."""
    import pyoxigraph as ox

    from server.kg import builddir

    out = copy_build(built, tmp_path / "b")
    f = tmp_path / "bnode.ttl"
    f.write_text('<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2000/01/rdf-schema#seeAlso> '
                 '[ <http://www.w3.org/2000/01/rdf-schema#label> "a note"@en ] .\n')
    r = run("--build-dir", out, "load", f, "--graph", "https://example.org/notes")
    assert r.returncode == 0 and "loaded: +2" in r.stdout, r.stdout + r.stderr
    [rec] = builddir.records(out, 0)
    added = rec.added
    labels = {t.value for q in added for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)}
    assert len(labels) == 1
    dump_labels = {t.value for q in ox.parse(path=str(builddir.dump(out)), format=ox.RdfFormat.N_QUADS)
                   for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)}
    assert not labels & dump_labels
    builddir.reconcile(out)
    expected = ox.Store()
    expected.extend(builddir.current_quads(out))
    assert set(ox.Store.read_only(str(builddir.store_dir(out)))) == set(expected)


@pytest.mark.slow
def test_kill_9_during_a_load_leaves_old_or_new_state(built, tmp_path):
    """kill -9 at several moments of a load: the data is the old one or the complete new one
    (the version, and what a fresh process reads), and the next write works."""
    from server.kg import builddir

    big = tmp_path / "big.nt"
    with open(big, "w") as fh:
        for i in range(30000):
            fh.write(f"<https://example.org/s{i}> <http://www.w3.org/2000/01/rdf-schema#comment> \"note {i}\" .\n")
    reference = copy_build(built, tmp_path / "ref")
    old_version = builddir.version_of(reference)
    old = len(builddir.current_quads(reference))
    r = run("--build-dir", reference, "load", big, "--graph", "https://example.org/big")
    assert r.returncode == 0, r.stderr
    new_version = builddir.version_of(reference)
    assert new_version != old_version and len(builddir.current_quads(reference)) == old + 30000
    seen = set()
    for i, delay in enumerate((0.3, 0.8, 1.3, 1.8, 2.5, 3.2)):
        out = copy_build(built, tmp_path / f"k{i}")
        proc = subprocess.Popen([str(BIN), "--build-dir", str(out), "load", str(big), "--graph",
                                 "https://example.org/big"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        version = builddir.version_of(out)
        assert version in (old_version, new_version), f"half-written state after kill at {delay}s"
        seen.add("old" if version == old_version else "new")
        # and the store opens and answers afterwards (a restart on the same directory)
        r = run("--build-dir", out, "query", "--format", "csv", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert r.returncode == 0, r.stderr
        assert int(r.stdout.split()[1]) == (old if version == old_version else old + 30000)
    assert "old" in seen  # at least one kill landed before the commit


@pytest.mark.slow
def test_kill_9_during_a_compaction_leaves_the_same_data(built, tmp_path):
    """kill -9 at several moments of `econplan compact`: the data is the same before, during and
    after (the log folded in the new dump, or the old dump with its log), and it opens."""
    from server.kg import builddir

    big = tmp_path / "big.nt"
    with open(big, "w") as fh:
        for i in range(30000):
            fh.write(f"<https://example.org/s{i}> <http://www.w3.org/2000/01/rdf-schema#comment> \"note {i}\" .\n")
    logged = copy_build(built, tmp_path / "logged")
    r = run("--build-dir", logged, "load", big, "--graph", "https://example.org/big")
    assert r.returncode == 0, r.stderr
    version, data = builddir.version_of(logged), sorted(map(str, builddir.current_quads(logged)))
    seen = set()
    for i, delay in enumerate((0.2, 0.6, 1.0, 1.5, 2.2, 3.0)):
        out = copy_build(logged, tmp_path / f"k{i}")
        proc = subprocess.Popen([str(BIN), "--build-dir", str(out), "compact"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen.add("old" if builddir.version_of(out) == version else "new")
        assert sorted(map(str, builddir.current_quads(out))) == data, f"other data after a kill at {delay}s"
        r = run("--build-dir", out, "query", "--format", "csv", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert r.returncode == 0 and int(r.stdout.split()[1]) == len(data), r.stdout + r.stderr
    assert "old" in seen


# -- HTTP -------------------------------------------------------------------------------------

class Snapshot:
    """The whole content of a backend, to show that a rejected write changed nothing."""

    def __init__(self, path, oxi):
        self.path, self.oxi = path, oxi

    def __call__(self) -> bytes:
        if self.oxi is None:
            from server.kg import builddir

            return "\n".join(sorted(str(q) for q in builddir.current_quads(self.path))).encode()
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
    """The README's backup: copy econplan.nq, then econplan.changes; restore: copy both back and
    start (reconcile rebuilds the store from them)."""
    from server.kg import builddir

    out = copy_build(built, tmp_path / "b")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    assert run("--build-dir", out, "load", f, "--graph", "https://example.org/before-backup").returncode == 0
    assert run("--build-dir", out, "compact").returncode == 0
    backup, backup_log = tmp_path / "backup.nq", tmp_path / "backup.changes"
    shutil.copy(builddir.dump(out), backup)
    shutil.copy(builddir.log_path(out), backup_log)
    assert run("--build-dir", out, "load", f, "--graph", "https://example.org/after-backup").returncode == 0
    assert run("--build-dir", out, "compact").returncode == 0
    assert run("--build-dir", out, "load", f, "--graph", "https://example.org/after-compact").returncode == 0
    shutil.copy(backup, builddir.dump(out))
    shutil.copy(backup_log, builddir.log_path(out))
    server = LiveServer(out, workers=1)
    try:
        assert count(server, "https://example.org/before-backup") == 2
        assert count(server, "https://example.org/after-backup") == 0
        assert count(server, "https://example.org/after-compact") == 0
        from server.kg.store import KnowledgeGraph

        disk = KnowledgeGraph.open(out, mode="disk")  # the RocksDB store was rebuilt from the dump
        assert not disk.store.contains_named_graph(__import__("pyoxigraph").NamedNode("https://example.org/after-backup"))
    finally:
        server.stop()


def test_a_server_that_rebuilt_the_store_at_start_still_takes_loads(built, tmp_path):
    """A start after an interrupted write rebuilds the RocksDB store from the dump (reconcile).
    That must not happen in the main process, which forks the HTTP worker processes:
    RocksDB used there first made every later load hang."""
    from server.kg import builddir

    path = copy_build(built, tmp_path / "b")
    stamp = builddir.path(path, builddir.STORE_STAMP)
    stamp.write_text("stale\n")  # as a crash between the dump and the store leaves it
    server = LiveServer(path, env={"ECONPLAN_WRITE_TOKEN": TOKEN, "ECONPLAN_STORE_MODE": "memory"}, workers=2)
    try:
        assert stamp.read_text().strip() != "stale"  # rebuilt
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


def test_one_log_is_applied_by_processes_and_replayed_by_a_build(built, root, tmp_path):
    """The change log serves both readers: a process holding the data applies its records, and
    `econplan build` replays the same records over data/ (a load, a load that replaces a graph,
    an update with its base IRI) and keeps the log, so the next build replays them again."""
    import pyoxigraph as ox

    from server.kg import builddir
    from server.kg.build import build
    from server.kg.loading import parse_file
    from server.kg.store import KnowledgeGraph
    from server.kg.writes import load, update

    out = copy_build(built, tmp_path / "b")
    held = KnowledgeGraph.open(out, mode="memory")
    f = tmp_path / "good.ttl"
    f.write_text(GOOD)
    g1, g2 = "https://example.org/replaced", "https://example.org/updated"
    load(out, parse_file(f), graph=g1)
    (tmp_path / "other.ttl").write_text(GOOD.replace('"GDP"@en , "GRP"@en', '"gross regional product"@en'))
    load(out, parse_file(tmp_path / "other.ttl"), graph=g1, replace=True)
    update(out, f'INSERT DATA {{ GRAPH <{g2}> {{ <note> <http://www.w3.org/2000/01/rdf-schema#label> "a note"@en }} }}',
           base_iri="https://example.org/base/")
    assert [r.op for r in builddir.records(out, 0)] == ["load", "replace", "update"]

    def labels(store, g):
        return sorted(q.object.value for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g)))

    caught = held.catch_up(builddir.version_of(out))
    assert labels(caught.store, g1) == ["gross regional product"] and labels(caught.store, g2) == ["a note"]
    log = builddir.log_path(out).read_bytes()
    for _ in range(2):
        build(root, out)
        rebuilt = KnowledgeGraph.open(out, mode="memory").store
        assert labels(rebuilt, g1) == ["gross regional product"] and labels(rebuilt, g2) == ["a note"]
        assert ox.NamedNode("https://example.org/base/note") in {q.subject for q in rebuilt.quads_for_pattern(
            None, None, None, ox.NamedNode(g2))}
        assert builddir.log_path(out).read_bytes() == log and builddir.pending(out) == 0
    assert builddir.version_of(out).endswith("+3")


def test_a_worker_validates_with_the_fact_pairs_it_keeps_as_with_the_query(built, tmp_path):
    """A server worker keeps its store's (indicator, status, period) pairs (validation.fact_pairs)
    and brings them up to date as it applies records; a load validated with them gives the report
    that the same load validated by querying them gives, and the kept pairs are those a fresh scan
    of the store gives."""
    import pyoxigraph as ox

    from server.kg import vocab as V
    from server.kg.store import KnowledgeGraph
    from server.kg.validation import fact_pairs
    from server.kg.writes import load

    a, b = copy_build(built, tmp_path / "a"), copy_build(built, tmp_path / "b")
    held = {"kg": KnowledgeGraph.open(a, mode="memory")}
    held["kg"].pairs()

    def current():
        v = builddir.version_of(a)
        if held["kg"].version != v:
            held["kg"] = KnowledgeGraph.up_to_date(held["kg"], a, mode="memory", version=v)
        return held["kg"]

    gdp = ox.NamedNode("https://w3id.org/econplan/id/hangzhou/2023-plan/fact/gdp-2023")
    for year in ("2031", "2032"):  # a target with no baseline: the indicator's baseline warning
        new = ox.NamedNode(f"{gdp.value}-target-{year}")
        quads = [ox.Quad(new, q.predicate,
                         ox.Literal(year, datatype=V.XSD_GYEAR) if q.predicate == V.EP.refPeriod
                         else V.EP.target if q.predicate == V.EP.status
                         else V.EP.Target if q.object == V.EP.Observation else q.object)
                 for q in held["kg"].store.quads_for_pattern(gdp, None, None, None)]
        kept = load(a, quads, graph="https://example.org/targets", kg=current)
        queried = load(b, quads, graph="https://example.org/targets")
        assert kept.report.as_text() == queried.report.as_text()
        assert f"for {year}" in kept.report.as_text()
        now = current()
        assert now._pairs is not None  # brought up to date, not computed again
        assert {i: set(v) for i, v in now._pairs.items()} == {i: set(v) for i, v in fact_pairs(now.store).items()}
