"""The SPARQL endpoint on a real server on 127.0.0.1, read by real clients."""
from __future__ import annotations

import concurrent.futures
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pyoxigraph as ox
import pytest

from conftest import LiveServer

PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
GDP = ("PREFIX ep: <https://w3id.org/econplan/def#> "
       "PREFIX indicator: <https://w3id.org/econplan/id/indicator/> "
       "SELECT ?v WHERE { ?f ep:indicator indicator:gdp ; ep:kind ep:level ; ep:value ?v ; "
       "ep:refArea <https://w3id.org/econplan/id/district/330100> }")


def http(url, *, data=None, headers=None, method=None, timeout=60):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()  # (case-insensitive names)
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def q(live, query, accept=None, **params):
    url = live.url + "/sparql?" + urllib.parse.urlencode({"query": query, **params})
    return http(url, headers={"Accept": accept} if accept else {})


@pytest.fixture(scope="module")
def limited(built):
    # (the copies of a query waiting for its one evaluation each hold one of the HTTP threads of
    # their process, server.serve.HTTP_THREADS; the kernel may send all of them to one process)
    server = LiveServer(built, env={"ECONPLAN_QUERY_TIMEOUT": "2", "ECONPLAN_MAX_ROWS": "5",
                                    "ECONPLAN_MAX_REQUEST_BYTES": "4000"},
                        workers=2)
    yield server
    server.stop()


def test_sparqlwrapper_json_xml_csv(live):
    from SPARQLWrapper import CSV, JSON, XML, SPARQLWrapper

    sw = SPARQLWrapper(live.url + "/sparql")
    sw.setQuery(GDP)
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["results"]["bindings"][0]["v"]["value"] == "20059"
    sw.setReturnFormat(XML)
    assert "20059" in sw.query().convert().toxml()
    sw.setReturnFormat(CSV)
    assert b"20059" in sw.query().convert()
    sw.setMethod("POST")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["results"]["bindings"][0]["v"]["value"] == "20059"


def test_sparqlwrapper_construct_gives_a_graph(live):
    from SPARQLWrapper import TURTLE, SPARQLWrapper

    sw = SPARQLWrapper(live.url + "/sparql")
    sw.setQuery("CONSTRUCT { ?d ?p ?o } WHERE { ?d a <https://w3id.org/econplan/def#District> ; ?p ?o }")
    sw.setReturnFormat(TURTLE)
    import rdflib

    g = rdflib.Graph().parse(data=sw.query().convert(), format="turtle")
    assert len(g) > 100


def test_rdflib_sparqlstore_reads_results(live):
    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    g = rdflib.Graph(store=SPARQLStore(live.url + "/sparql"))
    rows = list(g.query(GDP))
    assert [str(r[0]) for r in rows] == ["20059"]
    assert rows[0][0].datatype == rdflib.XSD.decimal


@pytest.mark.parametrize("accept,fmt", [
    ("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"), ("text/tab-separated-values", "tsv")])
def test_select_formats(live, accept, fmt):
    status, headers, body = q(live, GDP, accept)
    assert status == 200 and headers["Content-Type"].startswith(accept)
    if fmt == "csv":  # CSV results are lossy by design; pyoxigraph does not parse them
        import csv
        import io

        assert list(csv.reader(io.StringIO(body.decode()))) == [["v"], ["20059"]]
        return
    parsed = ox.parse_query_results(body, format={"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                                                   "tsv": ox.QueryResultsFormat.TSV}[fmt])
    assert [s["v"].value for s in parsed] == ["20059"]


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/ld+json",
                                    "application/rdf+xml", "application/trig", "application/n-quads"])
def test_construct_and_describe_formats(live, accept):
    for query in ("CONSTRUCT WHERE { <https://w3id.org/econplan/id/district/330109> ?p ?o }",
                  "DESCRIBE <https://w3id.org/econplan/id/district/330109>"):
        status, headers, body = q(live, query, accept)
        assert status == 200 and headers["Content-Type"].startswith(accept)
        triples = list(ox.parse(body, format=ox.RdfFormat.from_media_type(accept)))
        assert len(triples) >= 5


def test_format_parameter(live):
    status, headers, body = q(live, GDP, None, format="csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")


def test_406_names_formats(live):
    status, _, body = q(live, GDP, "image/png")
    assert status == 406 and b"text/csv" in body


def test_malformed_query_400_with_line_and_column(live):
    status, _, body = q(live, "SELECT * WHERE {\n  ?s ?p }")
    err = json.loads(body)["error"]
    assert status == 400 and err["line"] == 2 and err["column"] > 0
    assert b"Traceback" not in body


def test_update_at_sparql_is_403_pointing_to_load_path(live):
    for data, ctype in ((b"update=CLEAR+ALL", "application/x-www-form-urlencoded"),
                        (b"query=INSERT+DATA+%7B%3Ca%3E+%3Cb%3E+%3Cc%3E%7D", "application/x-www-form-urlencoded")):
        status, _, body = http(live.url + "/sparql", data=data, headers={"Content-Type": ctype})
        assert status == 403 and b"/update" in body


def test_wrong_content_type_is_415(live):
    status, _, _ = http(live.url + "/sparql", data=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert status == 415


def test_service_description(live):
    status, headers, body = http(live.url + "/sparql", headers={"Accept": "text/turtle"})
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    store = ox.Store()
    store.load(body, format=ox.RdfFormat.TURTLE)
    assert store.query(f"ASK {{ ?s <http://www.w3.org/ns/sparql-service-description#endpoint> <{live.url}/sparql> }}")


def test_cors(live):
    status, headers, _ = q(live, GDP)
    assert headers.get("Access-Control-Allow-Origin") == "*"
    status, headers, _ = http(live.url + "/sparql", method="OPTIONS",
                              headers={"Origin": "http://x.example", "Access-Control-Request-Method": "POST"})
    assert status in (200, 204) and "POST" in headers.get("Access-Control-Allow-Methods", "")


def test_etag_revalidation_gives_304(live):
    status, headers, _ = q(live, GDP)
    etag = headers["ETag"]
    url = live.url + "/sparql?" + urllib.parse.urlencode({"query": GDP})
    status, _, body = http(url, headers={"If-None-Match": etag})
    assert status == 304 and body == b""


def test_row_cap_says_it_truncated(limited):
    status, headers, body = q(limited, "SELECT ?s WHERE { ?s ?p ?o }", "application/sparql-results+json")
    assert status == 200 and headers.get("X-Result-Truncated") == "true"
    assert len(json.loads(body)["results"]["bindings"]) == 5


def test_request_size_cap_is_413(limited):
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 5000
    status, _, _ = http(limited.url + "/sparql", data=big.encode(),
                        headers={"Content-Type": "application/sparql-query"})
    assert status == 413


def test_timeout_really_stops_the_query_while_others_are_served(limited):
    """A cartesian product is killed at the limit with 503; a normal query answers meanwhile."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        t0 = time.monotonic()
        slow = pool.submit(q, limited, PATHOLOGICAL)
        time.sleep(0.3)
        t1 = time.monotonic()
        status, _, body = q(limited, GDP)
        fast_done = time.monotonic()
        assert status == 200 and b"20059" in body
        assert not slow.done(), "the normal query should be answered while the slow one still runs"
        status, _, body = slow.result()
        slow_elapsed = time.monotonic() - t0
    assert status == 503 and b"stopped after 2 s" in body
    assert fast_done - t1 < 2, fast_done - t1
    assert 2 <= slow_elapsed < 8, slow_elapsed
    # and the server keeps working afterwards, with a fresh worker
    for _ in range(3):
        status, _, body = q(limited, GDP)
        assert status == 200
    # the same query on the same data is refused at once for a while, by every worker process
    # (TIMEOUT_MEMO: the one that ran it has been replaced meanwhile)
    for _ in range(4):
        t0 = time.monotonic()
        status, _, body = q(limited, PATHOLOGICAL)
        assert status == 503 and b"TIMEOUT_MEMO" in body and time.monotonic() - t0 < 1


def test_identical_queries_in_flight_are_evaluated_once(limited):
    """Four copies of one pathological query sent together hold one query worker, not both:
    a normal query is answered at once meanwhile, and every copy gets the 503."""
    slow = PATHOLOGICAL.replace("?i }", "?i } LIMIT 7")  # not refused by an earlier TIMEOUT_MEMO
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(q, limited, slow) for _ in range(4)]
        time.sleep(0.5)
        t0 = time.monotonic()
        status, _, body = q(limited, GDP + " LIMIT 3")
        took = time.monotonic() - t0
        assert status == 200 and b"20059" in body
        # without coalescing, both workers were busy until the 2 s limit (checked first: a copy
        # can only have finished by now if this answer took over 1.5 s, or if the copy ended early)
        assert took < 1.0, took
        assert not any(f.done() for f in futures), [f.result()[:2] for f in futures if f.done()]
        answers = [f.result() for f in futures]
    assert [a[0] for a in answers] == [503] * 4
    assert all(b"stopped after 2 s" in a[2] for a in answers)


def test_heavy_queries_per_client_are_limited(built):
    """With two long queries of its own in flight, a client's next query that turns long too is
    stopped with 429; its quick queries are answered meanwhile (server.sparql.fairness).  The
    count is kept by each worker process: one worker here, so that all three reach the same count."""
    limited = LiveServer(built, env={"ECONPLAN_QUERY_TIMEOUT": "2", "ECONPLAN_QUERY_WORKERS": "4"}, workers=1)
    try:
        slow = [PATHOLOGICAL.replace("?i }", f"?i }} LIMIT {n}") for n in (1, 2, 3)]
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(q, limited, s) for s in slow[:2]]
            time.sleep(0.4)
            third = pool.submit(q, limited, slow[2])  # turns heavy at 1.4 s, while the two are (1-2 s)
            time.sleep(0.9)  # the two are now heavy (HEAVY_AFTER = 1 s)
            status, _, body = q(limited, GDP + " LIMIT 1")
            assert status == 200 and b"20059" in body  # a quick query of the same client
            status, _, body = third.result()
            assert status == 429 and b"MAX_HEAVY_PER_CLIENT" in body
            assert [f.result()[0] for f in futures] == [503, 503]
        deadline = time.monotonic() + 30  # (the worker retires for the runaway queries meanwhile)
        while True:
            status, _, body = q(limited, GDP + " LIMIT 2")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert status == 200, body
    finally:
        limited.stop()


def test_client_errors_never_500(live):
    cases = [("GET", "/sparql?query=%FF%FE", None, None), ("GET", "/sparql?query=", None, None),
             ("POST", "/sparql", b"query=%", "application/x-www-form-urlencoded"),
             ("GET", "/sparql?query=SELECT%20*%20%7B%7D&default-graph-uri=not%20an%20iri", None, None)]
    for method, path, data, ctype in cases:
        status, _, body = http(live.url + path, data=data, method=method,
                               headers={"Content-Type": ctype} if ctype else {})
        assert 400 <= status < 500, (path, status, body)
        assert b"Traceback" not in body


def test_disk_mode_serves_from_the_rocksdb_store(built):
    """STORE_MODE=disk: the front and the query workers open the same store read-only."""
    server = LiveServer(built, env={"ECONPLAN_STORE_MODE": "disk"}, workers=2)
    try:
        status, _, body = q(server, GDP)
        assert status == 200 and b"20059" in body
        status, _, body = http(server.url + "/api/stats")
        assert status == 200 and json.loads(body)["facts"] > 300
    finally:
        server.stop()
