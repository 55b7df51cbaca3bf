"""Large answers are streamed (HTTP chunked), with truthful headers, and cut short on a kill.

A real server on 127.0.0.1 with a small STREAM_AFTER, read by real clients
(http.client, SPARQLWrapper, rdflib's SPARQLStore) and by a raw socket where the test needs
to see the bytes on the wire.
"""
from __future__ import annotations

import csv
import io
import json
import socket
import time
import urllib.parse

import pyoxigraph as ox
import pytest

from conftest import LiveServer

# every triple but the areas' (3215 ep:District of data/vocab/areas.csv, about 40k triples): an
# answer of the size the 3 s time limit below is set for, ordered
ALL = ('SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER (!STRSTARTS(STR(?s), "https://w3id.org/econplan/id/district/")) } '
       "ORDER BY ?s ?p ?o")


def all_rows(kg) -> int:
    return len(list(kg.query(ALL)))
# a cartesian product: 18k triples x LIMIT; hundreds of MB as JSON if read to the end
HUGE = "SELECT ?s ?p ?o ?x WHERE { ?s ?p ?o . ?x a <https://w3id.org/econplan/def#District> } LIMIT 400000"


@pytest.fixture(scope="module")
def streaming(built):
    server = LiveServer(built, env={"ECONPLAN_STREAM_AFTER": "20000", "ECONPLAN_MAX_ROWS": "1000000",
                                    "ECONPLAN_QUERY_TIMEOUT": "3"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def capped(built):
    server = LiveServer(built, env={"ECONPLAN_STREAM_AFTER": "2000", "ECONPLAN_MAX_ROWS": "700"})
    yield server
    server.stop()


def raw_get(server, query: str, accept: str):
    """(status line, headers, reader, socket) of a GET /sparql over a raw HTTP/1.1 socket."""
    return raw_get_path(server, "/sparql?" + urllib.parse.urlencode({"query": query}), accept)


def raw_get_path(server, path: str, accept: str | None = None, version: str = "HTTP/1.1"):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    extra = f"Accept: {accept}\r\n" if accept else ""
    sock.sendall(f"GET {path} {version}\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n".encode())
    f = sock.makefile("rb")
    status = f.readline().decode().strip()
    headers = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, f, sock


def assert_answers_at_once(server, within: float) -> None:
    """A small query is answered within ``within`` seconds: no query worker is held."""
    t0 = time.monotonic()
    status, headers, f, sock = raw_get(server, "ASK { ?s ?p ?o }", "application/sparql-results+json")
    with sock:
        assert status.endswith("200 OK")
        assert json.loads(f.read(int(headers["content-length"])))["boolean"] is True
    assert time.monotonic() - t0 < within


def read_chunked(f, stop_after: int | None = None) -> tuple[bytes, bool | None]:
    """The body of a chunked response and whether it ended properly (the final 0-size chunk);
    with ``stop_after``, stops (None) at the first chunk boundary past that many bytes."""
    body = []
    while stop_after is None or sum(map(len, body)) < stop_after:
        size_line = f.readline()
        if not size_line:
            return b"".join(body), False
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            f.readline()
            return b"".join(body), True
        data = f.read(size)
        body.append(data)
        if len(data) < size or f.read(2) != b"\r\n":
            return b"".join(body), False
    return b"".join(body), None


def expected_rows(kg, query):
    return [tuple(s[v] for v in ("s", "p", "o")) for s in kg.query(query)]


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_a_large_select_is_streamed_complete_with_exact_headers(streaming, kg, accept):
    status, headers, f, sock = raw_get(streaming, ALL, accept)
    with sock:
        assert status.endswith("200 OK")
        assert headers.get("transfer-encoding") == "chunked" and "content-length" not in headers
        body, complete = read_chunked(f)
    assert complete
    n = all_rows(kg)
    assert n > 20000 and headers["x-result-rows"] == str(n) and "x-result-truncated" not in headers
    if "json" in accept:
        assert len(json.loads(body)["results"]["bindings"]) == n
    elif "xml" in accept:
        assert body.count(b"<result>") == n and body.rstrip().endswith(b"</sparql>")
    elif accept == "text/csv":
        rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
        assert rows[0] == ["s", "p", "o"] and len(rows) == n + 1
    else:
        assert body.decode().count("\n") == n + 1
    assert len(body) > 20000  # bigger than STREAM_AFTER: it was streamed, not a small answer


def test_streamed_json_equals_the_store_answer(streaming, kg):
    """Not just the right row count: the same solutions, in the same order (blank nodes aside:
    their labels differ between two loads of the dump)."""
    query = ALL.replace("}", "FILTER(!isBlank(?s) && !isBlank(?o)) }")
    status, headers, f, sock = raw_get(streaming, query, "application/sparql-results+json")
    with sock:
        body, complete = read_chunked(f)
    assert complete and headers.get("transfer-encoding") == "chunked"
    got = json.loads(body)["results"]["bindings"]
    want = ox.parse_query_results(
        kg.query(query).serialize(format=ox.QueryResultsFormat.JSON), format=ox.QueryResultsFormat.JSON)
    want = json.loads(want.serialize(format=ox.QueryResultsFormat.JSON))["results"]["bindings"]
    assert len(got) > 10000 and got == want


def test_small_answers_are_not_streamed(streaming):
    status, headers, f, sock = raw_get(streaming, "SELECT ?p WHERE { ?s ?p ?o } LIMIT 3",
                                       "application/sparql-results+json")
    with sock:
        assert status.endswith("200 OK") and "content-length" in headers
        assert "transfer-encoding" not in headers
        assert len(json.loads(f.read(int(headers["content-length"])))["results"]["bindings"]) == 3


def test_a_large_construct_is_streamed(streaming, kg):
    status, headers, f, sock = raw_get(streaming, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                       "application/n-triples")
    with sock:
        assert headers.get("transfer-encoding") == "chunked"
        body, complete = read_chunked(f)
    assert complete
    triples = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
    assert len(triples) == len(kg) == int(headers["x-result-rows"])


def test_a_streamed_answer_over_the_row_cap_says_so_in_its_headers(capped):
    for accept in ("application/sparql-results+json", "text/csv"):
        status, headers, f, sock = raw_get(capped, ALL, accept)
        with sock:
            assert headers.get("transfer-encoding") == "chunked"
            assert headers.get("x-result-truncated") == "true" and headers["x-result-rows"] == "700"
            body, complete = read_chunked(f)
        assert complete
        if "json" in accept:
            assert len(json.loads(body)["results"]["bindings"]) == 700
        else:
            assert len(list(csv.reader(io.StringIO(body.decode(), newline="")))) == 701


def test_real_clients_read_streamed_answers(streaming, kg):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore
    from SPARQLWrapper import JSON, SPARQLWrapper

    sw = SPARQLWrapper(streaming.url + "/sparql")
    sw.setQuery(ALL)
    sw.setReturnFormat(JSON)
    assert len(sw.query().convert()["results"]["bindings"]) == all_rows(kg)
    store = SPARQLStore(streaming.url + "/sparql", returnFormat="json")
    assert len(list(store.query(ALL))) == all_rows(kg)


def test_a_slow_reader_is_cut_off_at_the_time_limit_never_given_a_complete_200(streaming):
    """The time limit covers the whole answer: a client that stops reading past it gets a
    response without its final chunk, and the worker is freed for the others."""
    status, headers, f, sock = raw_get(streaming, HUGE, "application/sparql-results+json")
    with sock:
        assert status.endswith("200 OK") and headers.get("transfer-encoding") == "chunked"
        assert read_chunked(f, stop_after=100_000)[1] is None
        time.sleep(4.5)  # QUERY_TIMEOUT is 3 s
        body, complete = read_chunked(f)
    assert not complete
    # the server goes on answering (the stopped worker was replaced)
    status, headers, f, sock = raw_get(streaming, "ASK { ?s ?p ?o }", "application/sparql-results+json")
    with sock:
        assert status.endswith("200 OK")
        assert json.loads(f.read(int(headers["content-length"])))["boolean"] is True
    log = streaming.log.name
    time.sleep(0.5)
    text = open(log, encoding="utf-8", errors="replace").read()
    assert "streamed answer cut short" in text and "Traceback" not in text


def test_a_client_that_hangs_up_mid_stream_frees_the_worker(streaming):
    for _ in range(3):  # more than QUERY_WORKERS: each hang-up must give its worker back
        status, headers, f, sock = raw_get(streaming, HUGE, "application/sparql-results+json")
        assert headers.get("transfer-encoding") == "chunked"
        assert read_chunked(f, stop_after=50_000)[1] is None
        sock.close()
    assert_answers_at_once(streaming, within=10)


def _rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_the_web_process_does_not_hold_a_streamed_answer(streaming):
    """~50 MB of JSON goes through the web process while its memory stays flat: it passes
    chunks on, it never holds the answer (nor does it cache it)."""
    import threading

    # the HTTP worker processes (each runs its queries too)
    children = open(f"/proc/{streaming.proc.pid}/task/{streaming.proc.pid}/children").read().split()
    fronts = [int(c) for c in children]
    query = HUGE.replace("LIMIT 400000", "LIMIT 180000")
    before = {pid: _rss_kib(pid) for pid in fronts}
    peak, done = dict(before), threading.Event()

    def sample():
        while not done.is_set():
            for pid in fronts:
                peak[pid] = max(peak[pid], _rss_kib(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        status, headers, f, sock = raw_get(streaming, query, "application/sparql-results+json")
        with sock:
            body, complete = read_chunked(f)
    finally:
        done.set()
        sampler.join()
    assert complete and headers.get("transfer-encoding") == "chunked"
    assert len(body) > 40_000_000 and body.count(b'{"s":') == 180000
    grew = max(peak[pid] - before[pid] for pid in fronts)
    assert grew < 15_000, (before, peak)  # KiB: well under the answer's 40+ MB


def test_streams_nobody_reads_give_their_worker_back(capped):
    """HEAD on a saved query's data gets the headers of a (streamed) answer and no body; its
    worker is freed all the same: three of them, with two query workers, and the server
    still answers at once."""
    import http.client

    path = "/queries/headline-indicators-level-and-growth.json"
    status, headers, f, sock = raw_get_path(capped, path)
    with sock:
        assert headers.get("transfer-encoding") == "chunked"  # bigger than STREAM_AFTER here
        body, complete = read_chunked(f)
        assert complete and b"20059" in body
    for _ in range(3):
        c = http.client.HTTPConnection("127.0.0.1", capped.port, timeout=30)
        c.request("HEAD", path)
        r = c.getresponse()
        assert r.status == 200 and r.read() == b""
        c.close()
    assert_answers_at_once(capped, within=5)


@pytest.mark.parametrize("path", [
    "/sparql?" + urllib.parse.urlencode({"query": ALL}),    # the SPARQL endpoint
    "/queries/headline-indicators-level-and-growth.json",  # a saved query as an API
])
def test_http10_clients_get_answers_whole_with_a_length(capped, path):
    """HTTP/1.0 has no chunked encoding: a streamed answer cut short at the time limit would end
    like a whole one.  So an HTTP/1.0 client gets the answer that HTTP/1.1 streams (it is larger
    than STREAM_AFTER here) whole, with a Content-Length, and the same bytes."""
    status, headers, f, sock = raw_get_path(capped, path, "application/sparql-results+json")
    with sock:
        assert status.endswith("200 OK") and headers.get("transfer-encoding") == "chunked"
        streamed, complete = read_chunked(f)
        assert complete and len(streamed) > 2000
    status, headers, f, sock = raw_get_path(capped, path, "application/sparql-results+json", "HTTP/1.0")
    with sock:
        body = f.read()  # an HTTP/1.0 body ends when the server closes the connection
    assert status.endswith("200 OK"), status
    assert "transfer-encoding" not in headers
    assert headers.get("content-length") == str(len(body))
    assert body == streamed
