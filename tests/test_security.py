"""Hostile input: SSRF through SERVICE, writes without a token, limits, fuzzed requests."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LiveServer
from test_endpoint import http, q

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def guarded(built, tmp_path_factory):
    import shutil

    path = tmp_path_factory.mktemp("guarded")
    shutil.copytree(built, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.log"))
    server = LiveServer(path, env={"ECONPLAN_WRITE_TOKEN": TOKEN, "ECONPLAN_MAX_QUERY_LENGTH": "2000",
                                   "ECONPLAN_MAX_LOAD_BYTES": "20000"}, workers=1)
    yield server
    server.stop()


def test_service_to_a_host_off_the_allow_list_makes_no_connection(live):
    """A listening socket on 127.0.0.1 must receive nothing when a query names it in SERVICE."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    received = []

    def watch():
        end = time.time() + 3
        while time.time() < end:
            try:
                conn, _ = listener.accept()
                received.append(conn.recv(1000))
                conn.close()
            except OSError:
                pass

    t = threading.Thread(target=watch)
    t.start()
    for query in (f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
                  f"PREFIX x: <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE SILENT x:sparql {{ ?s ?p ?o }} }}",
                  f"SELECT * WHERE {{ BIND(<http://127.0.0.1:{port}/sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
                  f"SELECT * WHERE {{ service # hidden\n <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"):
        status, _, body = q(live, query)
        assert status == 403, body
    t.join()
    listener.close()
    assert received == []


@pytest.mark.parametrize("method,path,ctype,body", [
    ("POST", "/load?graph=https://example.org/g", "text/turtle", b"<urn:a> <urn:b> <urn:c> ."),
    ("PUT", "/load?graph=https://example.org/g", "text/turtle", b"<urn:a> <urn:b> <urn:c> ."),
    ("POST", "/update", "application/sparql-update", b"INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }"),
    ("POST", "/update", "application/x-www-form-urlencoded", b"update=CLEAR+ALL"),
])
def test_every_write_route_needs_the_token(guarded, method, path, ctype, body):
    before = http(guarded.url + "/api/stats")[2]
    for auth, expected in ((None, 401), ("Bearer wrong", 403), ("Basic dXNlcjpwYXNz", 401), ("Bearer  x ", 403)):
        headers = {"Content-Type": ctype}
        if auth:
            headers["Authorization"] = auth
        status, _, resp = http(guarded.url + path, data=body, headers=headers, method=method)
        assert status == expected, (auth, status, resp)
    assert json.loads(http(guarded.url + "/api/stats")[2])["triples"] == json.loads(before)["triples"]


def test_writes_are_disabled_without_a_configured_token(live):
    status, _, body = http(live.url + "/update", data=b"CLEAR ALL", method="POST",
                           headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer x"})
    assert status == 403 and b"disabled" in body


def test_query_length_limit(guarded):
    status, _, body = q(guarded, "SELECT * WHERE { ?s ?p ?o } #" + "x" * 3000)
    assert status == 413


def test_load_size_limit(guarded):
    status, _, _ = http(guarded.url + "/load?graph=https://example.org/g", method="POST", data=b"#" * 30000,
                        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
    assert status == 413


def test_token_is_not_in_the_code_or_pages(root, live):
    for p in list((root / "server").rglob("*.py")) + list((root / "server").rglob("*.html")):
        assert TOKEN not in p.read_text(encoding="utf-8", errors="ignore")
    status, _, body = http(live.url + "/")
    assert b"WRITE_TOKEN=" not in body


# -- fuzzing ------------------------------------------------------------------------------------

SEED_QUERIES = [
    "SELECT ?v WHERE { ?f ep:indicator indicator:gdp ; ep:value ?v }",
    "ASK { ?s a ep:District }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s a ep:Unit ; ?p ?o } LIMIT 20",
    "DESCRIBE district:330109",
    "SELECT ?k (COUNT(*) AS ?n) WHERE { ?f ep:kind ?k } GROUP BY ?k ORDER BY DESC(?n)",
    "SELECT * WHERE { ?f prov:wasDerivedFrom/oa:exact ?t FILTER(CONTAINS(?t, '亿元')) } LIMIT 3",
]


@st.composite
def mutated_query(draw):
    base = draw(st.sampled_from(SEED_QUERIES))
    ops = draw(st.lists(st.tuples(st.sampled_from(["ins", "del", "dup"]), st.integers(0, 10_000),
                                  st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=4)),
                        max_size=4))
    s = base
    for op, pos, txt in ops:
        i = pos % (len(s) + 1)
        if op == "ins":
            s = s[:i] + txt + s[i:]
        elif op == "del":
            s = s[:i] + s[i + len(txt) + 1:]
        else:
            s = s[:i] + s[i:i + 8] + s[i:]
    return s


@pytest.fixture(scope="module")
def client(built):
    from server import create_app

    app = create_app({"BUILD_DIR": str(built), "QUERY_TIMEOUT": 10, "QUERY_WORKERS": 1})
    yield app.test_client()
    app.extensions["econplan"].close()


def _check(resp):
    body = resp.get_data()
    assert b"Traceback" not in body and b'File "' not in body
    if resp.status_code >= 500:
        # the only 5xx we allow is the intended timeout of a pathological query
        assert json.loads(body)["error"]["code"] == "timeout", body[:300]


# CI runs a short budget; `bench/fuzz.py` runs the same tests with a long one.
FUZZ = settings(max_examples=int(__import__("os").environ.get("ECONPLAN_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@FUZZ
@given(query=st.one_of(mutated_query(), st.text(max_size=200)))
def test_fuzz_queries(client, query):
    _check(client.get("/sparql", query_string={"query": query}))
    _check(client.post("/sparql", data=query.encode("utf-8", "surrogatepass"),
                       content_type="application/sparql-query"))


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)


@FUZZ
@given(accept=HEADER_TEXT, ctype=HEADER_TEXT, params=st.dictionaries(
    st.sampled_from(["query", "format", "default-graph-uri", "named-graph-uri", "update", "x", "graph"]),
    st.text(max_size=40), max_size=4), body=st.binary(max_size=200))
def test_fuzz_headers_params_and_bodies(client, accept, ctype, params, body):
    headers = {"Accept": accept, "Content-Type": ctype}
    for path in ("/sparql", "/api/stats", "/.well-known/void", "/load", "/update"):
        _check(client.post(path, query_string=params, data=body, headers=headers))
        _check(client.get(path, query_string=params, headers=headers))


@FUZZ
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))),
       ctype=st.sampled_from(["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml",
                              "application/trig", "application/n-quads", "text/plain", ""]))
def test_fuzz_rdf_bodies_on_load(built, body, ctype):
    app = _fuzz_write_app(built)
    resp = app.test_client().post("/load?graph=https://example.org/fuzz", data=body,
                                  headers={"Content-Type": ctype, "Authorization": f"Bearer {TOKEN}"})
    _check(resp)


_APPS = {}


def _fuzz_write_app(built):
    """One app over a private copy of the build, so fuzzed loads cannot touch other tests' data."""
    if "app" not in _APPS:
        import shutil
        import tempfile
        from pathlib import Path

        from server import create_app

        path = Path(tempfile.mkdtemp(prefix="fuzz-build-"))
        shutil.copytree(built, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.log"))
        _APPS["app"] = create_app({"BUILD_DIR": str(path), "WRITE_TOKEN": TOKEN, "QUERY_WORKERS": 1})
    return _APPS["app"]
