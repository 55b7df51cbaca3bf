"""Issue 19 against a real server on 127.0.0.1: crashing queries, SERVICE and LOAD tricks with a
listening socket that must receive nothing, N3, billion laughs, a token over the parser's buffer.
(The crash containment and the memory ceiling are tested with the server: tests/test_serve.py.)"""
from __future__ import annotations

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import LiveServer
from test_endpoint import http
from test_query_checks import CRASHERS, TRICKS, UPDATE_TRICKS, billion_laughs

TOKEN = "hostile-token-for-tests"


class Endpoint:
    """A SPARQL endpoint on 127.0.0.1 that records every request and answers one row (?x "called")."""

    def __init__(self):
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                owner.requests.append(f"{self.command} {self.path}")
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                body = json.dumps({"head": {"vars": ["x"]},
                                   "results": {"bindings": [{"x": {"type": "literal", "value": "called"}}]}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def endpoints():
    forbidden, allowed = Endpoint(), Endpoint()
    yield forbidden, allowed
    forbidden.close()
    allowed.close()


@pytest.fixture(scope="module")
def server(built, tmp_path_factory, endpoints):
    path = tmp_path_factory.mktemp("hostile")
    shutil.copytree(built, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.log"))
    _, allowed = endpoints
    s = LiveServer(path, env={"ECONPLAN_WRITE_TOKEN": TOKEN,
                              "ECONPLAN_SERVICE_ALLOWLIST": f"http://127.0.0.1:{allowed.port}/allowed/"}, workers=2)
    yield s
    s.stop()


def post_query(server, text):
    return http(server.url + "/sparql", data=text.encode(), headers={"Content-Type": "application/sparql-query",
                                                                      "Accept": "application/sparql-results+json"})


def post_update(server, text):
    return http(server.url + "/update", data=text.encode(), headers={"Content-Type": "application/sparql-update",
                                                                      "Authorization": f"Bearer {TOKEN}"})


def load(server, body, ctype, graph="https://example.org/hostile"):
    return http(server.url + "/load?graph=" + graph, data=body, method="POST",
                headers={"Content-Type": ctype, "Authorization": f"Bearer {TOKEN}"}, timeout=120)


def triples(server) -> int:
    status, _, body = post_query(server, "SELECT (COUNT(*) AS ?n) { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def workers(server) -> set[int]:
    """The process ids of the server's HTTP worker processes (the supervisor's children)."""
    pid = server.proc.pid
    return {int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()}


def test_crashers_sent_again_and_again_get_400_and_the_server_answers_after(server):
    """Each shape that crashed pyoxigraph's parser (tests/test_query_checks.py shows it in a child
    process) is refused before the engine sees it, every time, and no worker process dies (the
    same processes are there before and after: the supervisor would have replaced a dead one)."""
    before = workers(server)
    assert len(before) == 2
    for _ in range(3):
        for name, text in CRASHERS.items():
            status, _, body = post_query(server, text)
            assert status in (400, 413), (name, body[:300])  # 413: longer than MAX_QUERY_LENGTH
            err = json.loads(body)["error"]
            assert err["code"] in ("query-too-complex", "too-large") and "limit is" in err["message"], name
        status, _, body = post_update(server, "INSERT { <urn:a> <urn:b> 1 } WHERE { " + CRASHERS["braces-2500"][8:-1] + "}")
        assert status == 400 and json.loads(body)["error"]["code"] == "query-too-complex"
    status, _, body = post_query(server, "SELECT (1 + 1 AS ?two) {}")
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["two"]["value"] == "2"
    assert server.proc.poll() is None and workers(server) == before
    log = server.log_text()
    assert " died " not in log and "Segmentation" not in log and "crash" not in log.lower(), log[-2000:]


def _port(text: str, port: int) -> str:
    return text.replace("127.0.0.1:9/", f"127.0.0.1:{port}/").replace("127.0.0.1\\u003A9/", f"127.0.0.1\\u003A{port}/")


def test_service_and_load_tricks_reach_nothing(server, endpoints):
    forbidden, _ = endpoints
    before = triples(server)
    for name, text in TRICKS.items():
        status, _, body = post_query(server, _port(text, forbidden.port))
        assert status in (400, 403), (name, body[:300])
        assert json.loads(body)["error"]["code"] in ("service-not-allowed", "service-uncheckable"), name
    for name, text in UPDATE_TRICKS.items():
        status, _, body = post_update(server, _port(text, forbidden.port))
        assert status in (400, 403), (name, body[:300])
    status, _, _ = http(server.url + "/sparql?query=" + __import__("urllib.parse").parse.quote(
        _port(TRICKS["apostrophe"], forbidden.port)))
    assert status == 403
    time.sleep(0.5)
    assert forbidden.requests == []
    assert triples(server) == before


def test_an_allowed_endpoint_is_called(server, endpoints):
    forbidden, allowed = endpoints
    status, _, body = post_query(server, f"SELECT ?x {{ SERVICE <http://127.0.0.1:{allowed.port}/allowed/sparql> {{ ?x ?p ?o }} }}")
    assert status == 200, body[:300]
    assert json.loads(body)["results"]["bindings"][0]["x"]["value"] == "called"
    assert any(r.startswith("POST /allowed/sparql") for r in allowed.requests)
    # the same host and port outside the allowed path prefix is refused
    status, _, _ = post_query(server, f"SELECT ?x {{ SERVICE <http://127.0.0.1:{allowed.port}/other> {{ ?x ?p ?o }} }}")
    assert status == 403
    assert not any("/other" in r for r in allowed.requests) and forbidden.requests == []


def test_n3_is_refused_with_415(server):
    before = triples(server)
    status, _, body = load(server, b"{ <urn:a> <urn:b> <urn:c> } <urn:d> <urn:e> .", "text/n3")
    assert status == 415 and json.loads(body)["error"]["code"] == "n3-not-accepted"
    assert triples(server) == before


def test_billion_laughs_is_refused_in_milliseconds(server):
    t0 = time.perf_counter()
    status, _, body = load(server, billion_laughs(), "application/rdf+xml")
    assert status == 400 and json.loads(body)["error"]["code"] == "xml-doctype"
    assert time.perf_counter() - t0 < 1.0
    assert server.proc.poll() is None


def test_a_token_over_the_parsers_buffer_is_413_not_500(server):
    status, _, body = load(server, b'<urn:s> <urn:p> "' + b"a" * (17 << 20) + b'" .', "text/turtle")
    assert status == 413, body[:300]
    err = json.loads(body)["error"]
    assert err["code"] == "token-too-large" and "\n" not in err["message"] and "Traceback" not in body.decode()


def test_the_hostile_fuzz_runs_briefly(built):
    """bench/fuzz.py --hostile, a short bounded run: every case gets its expected answer (a
    chunked body over the limit: 413 and nothing written), nothing reaches the listening socket,
    the server answers after each case."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    r = subprocess.run([sys.executable, "bench/fuzz.py", "--hostile", "--count", "24", "--seconds", "90",
                        "--seed", "7", "--build-dir", str(built)],
                       cwd=root, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary == {"cases": 24, "failures": 0}
    for case in ("nesting", "service", "huge-literal", "entities", "deep-xml", "n3", "chunked-under-limit",
                 "chunked-over-limit", "chunked-query"):
        assert f"  {case}: " in r.stdout
