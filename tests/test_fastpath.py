"""The WSGI fast path (server.fastpath) answers plain /sparql queries without Flask; the Flask
view answers everything else.  For the same request both must give the same status, headers
and body: each request below goes through both, on the same app and the real store."""
from __future__ import annotations

import urllib.parse

import pytest
from werkzeug.test import EnvironBuilder

from conftest import ROOT
from server import create_app
from server.fastpath import FastPath

GDP = ("PREFIX ep: <https://w3id.org/econplan/def#> SELECT ?v WHERE { ?f ep:indicator ?i ; ep:value ?v . "
       "?i <http://www.w3.org/2004/02/skos/core#notation> ?n } ORDER BY ?v LIMIT 3")
ROWS = "SELECT ?s WHERE { ?s a <https://w3id.org/econplan/def#Observation> } ORDER BY ?s"


@pytest.fixture(scope="module")
def app(built):
    app = create_app({"ROOT": str(ROOT), "BUILD_DIR": str(built), "EAGER_WORKERS": False,
                      "MAX_ROWS": 5, "MAX_QUERY_LENGTH": 2000, "LOG_LEVEL": "WARNING"})
    app.extensions["econplan"].run_queries_in_threads()
    yield app
    app.extensions["econplan"].close()


def call(wsgi, method="GET", query_string="", body=b"", headers=None, path="/sparql"):
    environ = EnvironBuilder(method=method, path=path, query_string=query_string, data=body,
                             headers=headers or {}).get_environ()
    got = {}

    def start_response(status, hdrs, exc_info=None):
        got["status"], got["headers"] = status, hdrs

    out = wsgi(environ, start_response)
    try:
        data = b"".join(out)
    finally:
        getattr(out, "close", lambda: None)()
    headers = sorted((k.lower(), v) for k, v in got["headers"] if k.lower() not in ("date", "server"))
    return got["status"], headers, data


def qs(**params) -> str:
    return urllib.parse.urlencode(params)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CASES = {
    "select, default format": dict(query_string=qs(query=GDP)),
    "select as XML": dict(query_string=qs(query=GDP), headers={"Accept": "application/sparql-results+xml"}),
    "select as CSV": dict(query_string=qs(query=GDP), headers={"Accept": "text/csv"}),
    "select as TSV, ?format=": dict(query_string=qs(query=GDP, format="tsv")),
    "select over MAX_ROWS": dict(query_string=qs(query=ROWS)),
    "POST form": dict(method="POST", body=qs(query=GDP).encode(), headers=FORM),
    "POST direct": dict(method="POST", body=GDP.encode(), headers={"Content-Type": "application/sparql-query"}),
    "ASK": dict(query_string=qs(query="ASK { ?s ?p ?o }")),
    "CONSTRUCT as Turtle": dict(query_string=qs(query="CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"),
                                headers={"Accept": "text/turtle"}),
    "DESCRIBE": dict(query_string=qs(query="DESCRIBE ?s WHERE { ?s a <https://w3id.org/econplan/def#Observation> } LIMIT 1")),
    "default-graph-uri": dict(query_string=qs(query="SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                              **{"default-graph-uri": "https://w3id.org/econplan/graph/data/vocab/units"})),
    "syntax error": dict(query_string=qs(query="SELECT ?x WHERE {\n  ?x ?y }}")),
    "no acceptable format": dict(query_string=qs(query=GDP), headers={"Accept": "image/png"}),
    "unknown ?format=": dict(query_string=qs(query=GDP, format="yaml")),
    "query too long": dict(query_string=qs(query="ASK {}" + " " * 2000)),
    "an update": dict(query_string=qs(query="INSERT DATA { <urn:a> <urn:b> <urn:c> }")),
    "an update with a SERVICE": dict(query_string=qs(
        query="INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")),
    "undeclared usual prefixes": dict(query_string=qs(query="SELECT ?l WHERE { indicator:gdp skos:prefLabel ?l }")),
    "SERVICE not allowed": dict(query_string=qs(query="SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")),
    "unicode and a nonce": dict(query_string=qs(query='SELECT ?l WHERE { ?s ?p ?l FILTER(CONTAINS(STR(?l), "杭州")) } LIMIT 2 # 你好')),
}
# answered by the Flask app in both cases (the fast path passes them on)
PASSED_ON = {
    "service description": dict(),
    "OPTIONS": dict(method="OPTIONS"),
    "HEAD": dict(method="HEAD", query_string=qs(query=GDP)),
    "POST without a content type": dict(method="POST", body=b"query=ASK%7B%7D"),
    "two queries": dict(query_string=qs(query=GDP) + "&" + qs(query=GDP)),
    "empty query": dict(query_string=qs(query="  ")),
}


def test_updates_are_refused_as_such_whatever_else_is_wrong_with_them(app):
    """An update is recognised only once it failed to parse as a query (a query pays nothing for
    the check), and still gets the read-only 403 before a SERVICE refusal."""
    for name in ("an update", "an update with a SERVICE"):
        status, _, body = call(FastPath(app), **CASES[name])
        assert status.startswith("403") and b"/update" in body and b"allow-list" not in body, body
    status, _, body = call(FastPath(app), **CASES["SERVICE not allowed"])
    assert status.startswith("403") and b"allow-list" in body


def test_the_usual_prefixes_may_be_left_undeclared_and_a_query_s_own_win(app):
    status, _, body = call(FastPath(app), **CASES["undeclared usual prefixes"])
    assert status.startswith("200") and "地区生产总值".encode() in body, body
    # its own ep: (another namespace) is used, not the usual one: nothing matches
    own = "PREFIX skos: <urn:not-skos#> SELECT ?l WHERE { indicator:gdp skos:prefLabel ?l }"
    status, _, body = call(FastPath(app), query_string=qs(query=own))
    assert status.startswith("200") and b'"bindings":[]' in body, body
    # a syntax error is reported with its line and column, as before
    status, _, body = call(FastPath(app), query_string=qs(query="SELECT ?x WHERE {\n  ?x skos:y }}"))
    assert status.startswith("400") and b'"line":2' in body, body


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_fast_path_answers_as_the_flask_app_does(app, name):
    fast = FastPath(app)
    a = call(fast, **CASES[name])
    assert fast.answered == 1, "the fast path passed this request on"
    b = call(app, **CASES[name])
    assert a == b
    assert a[0].split()[0] in ("200", "400", "403", "406", "413"), a[0]
    if a[0].startswith("200"):
        assert a[2].strip() and a[2] not in (b'{"head":{"vars":["n"]},"results":{"bindings":[]}}',)


def test_the_fast_path_revalidates_as_the_flask_app_does(app):
    fast = FastPath(app)
    status, headers, _ = call(fast, query_string=qs(query=GDP))
    etag = dict(headers)["etag"]
    a = call(fast, query_string=qs(query=GDP), headers={"If-None-Match": etag})
    b = call(app, query_string=qs(query=GDP), headers={"If-None-Match": etag})
    assert a == b and a[0].startswith("304")
    assert fast.answered == 2


@pytest.mark.parametrize("name", sorted(PASSED_ON))
def test_other_requests_are_passed_on_to_the_flask_app(app, name):
    fast = FastPath(app)
    a = call(fast, **PASSED_ON[name])
    assert fast.answered == 0
    assert a == call(app, **PASSED_ON[name])


def test_other_paths_are_the_flask_apps(app):
    fast = FastPath(app)
    for path in ("/", "/api/stats", "/queries", "/sparql/"):
        assert call(fast, path=path) == call(app, path=path)
    assert fast.answered == 0


ALT = ("SELECT ?l WHERE { <https://w3id.org/econplan/id/indicator/gdp> "
       "<http://www.w3.org/2004/02/skos/core#altLabel> ?l } ORDER BY ?l")


def test_a_repeated_request_is_replayed_until_the_data_changes(built, tmp_path):
    """A byte-identical request gets the answer kept for it (without parsing, key or guard),
    but only on the data version it was made on: after a load (here by the CLI, another
    process) the same request is answered anew, from the new data."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "b"
    shutil.copytree(built, path, ignore=shutil.ignore_patterns("*.log", ".write.lock"))
    app = create_app({"ROOT": str(ROOT), "BUILD_DIR": str(path), "EAGER_WORKERS": False, "LOG_LEVEL": "WARNING"})
    app.extensions["econplan"].run_queries_in_threads()
    try:
        fast = FastPath(app)
        requests = [dict(query_string=qs(query=ALT)),
                    dict(query_string=qs(query=ALT), headers={"Accept": "text/csv"}),
                    dict(method="POST", body=qs(query=ALT).encode(), headers=FORM),
                    dict(method="POST", body=ALT.encode(), headers={"Content-Type": "application/sparql-query"})]
        first = [call(fast, **r) for r in requests]
        assert fast.replayed == 0 and len(fast.replies) == len(requests)
        again = [call(fast, **r) for r in requests]
        assert again == first and fast.replayed == len(requests)
        assert [call(app, **r) for r in requests] == first  # what the Flask app says, too
        # a large answer is left to the response cache (the replayed answers are kept small)
        big = dict(query_string=qs(query="SELECT * WHERE { ?s ?p ?o } LIMIT 2000"))
        assert call(fast, **big) == call(fast, **big)
        assert len(call(fast, **big)[2]) > 65536
        assert fast.replayed == len(requests) and len(fast.replies) == len(requests)
        # a conditional request is answered (304), not replayed
        etag = dict(first[0][1])["etag"]
        assert call(fast, headers={"If-None-Match": etag}, **requests[0])[0].startswith("304")
        assert fast.replayed == len(requests)
        # a load by another process changes the data version
        f = tmp_path / "alt.ttl"
        f.write_text('<https://w3id.org/econplan/id/indicator/gdp> '
                     '<http://www.w3.org/2004/02/skos/core#altLabel> "Gross regional product"@en .\n')
        r = subprocess.run([str(Path(sys.executable).parent / "econplan"), "--root", str(ROOT), "--build-dir",
                            str(path), "load", str(f), "--graph", "https://example.org/alt"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        after = [call(fast, **r) for r in requests]
        assert fast.replayed == len(requests), "an answer made on the old data was replayed"
        for old, new in zip(first, after):
            assert old[0] == new[0] and old[2] != new[2] and "Gross regional product".encode() in new[2]
        assert [call(app, **r) for r in requests] == after
    finally:
        app.extensions["econplan"].close()
