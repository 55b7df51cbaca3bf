"""The protocol core without a server: negotiation, request forms, SERVICE endpoints."""
from __future__ import annotations

import pytest

from server.sparql.calls import ServiceNotAllowed, check_remote_calls, remote_calls
from server.sparql.protocol import (GRAPH_FORMATS, RESULT_FORMATS, ProtocolError, looks_like_update,
                                    negotiate, parse_query_string, parse_sparql_request)


@pytest.mark.parametrize("accept,expected", [
    (None, "json"),
    ("*/*", "json"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("application/sparql-results+xml", "xml"),
    ("application/json", "json"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "xml"),
    ("text/csv;q=0.9, application/sparql-results+xml;q=0.5", "csv"),
    ("text/*;q=0.8, application/sparql-results+json;q=0.1", "csv"),
    ("text/html, */*;q=0.1", "json"),
])
def test_result_negotiation_with_q_values(accept, expected):
    assert negotiate(accept, RESULT_FORMATS).name == expected


@pytest.mark.parametrize("accept,expected", [
    ("text/turtle", "turtle"), ("application/n-triples", "ntriples"), ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "rdfxml"), ("application/trig", "trig"), ("application/n-quads", "nquads"),
    (None, "turtle"),
])
def test_graph_negotiation(accept, expected):
    assert negotiate(accept, GRAPH_FORMATS).name == expected


def test_406_names_the_available_formats():
    with pytest.raises(ProtocolError) as e:
        negotiate("image/png", RESULT_FORMATS)
    assert e.value.status == 406 and "text/csv" in e.value.message


def test_format_parameter_wins_over_accept():
    assert negotiate("text/csv", RESULT_FORMATS, "xml").name == "xml"
    assert negotiate(None, GRAPH_FORMATS, "ttl").name == "turtle"
    with pytest.raises(ProtocolError) as e:
        negotiate(None, RESULT_FORMATS, "yaml")
    assert e.value.status == 406


def test_three_request_forms():
    q = "ASK {}"
    assert parse_sparql_request("GET", None, {"query": [q]}, b"").query == q
    assert parse_sparql_request("POST", "application/x-www-form-urlencoded", {}, b"query=ASK+%7B%7D").query == q
    assert parse_sparql_request("POST", "application/sparql-query; charset=utf-8", {}, q.encode()).query == q


@pytest.mark.parametrize("method,ctype,body,status", [
    ("POST", "text/plain", b"ASK {}", 415),
    ("POST", None, b"ASK {}", 415),
    ("PUT", "application/sparql-query", b"ASK {}", 405),
    ("POST", "application/sparql-query", "ASK {}".encode("utf-16"), 400),
])
def test_bad_request_forms(method, ctype, body, status):
    with pytest.raises(ProtocolError) as e:
        parse_sparql_request(method, ctype, {}, body)
    assert e.value.status == status


def test_two_queries_is_400():
    with pytest.raises(ProtocolError):
        parse_sparql_request("GET", None, {"query": ["ASK {}", "ASK {}"]}, b"")


def test_update_sent_to_query_endpoint_is_403():
    with pytest.raises(ProtocolError) as e:
        parse_sparql_request("POST", "application/x-www-form-urlencoded", {}, b"update=CLEAR+ALL")
    assert e.value.status == 403 and "/update" in e.value.message
    assert looks_like_update("PREFIX a: <x:> # c\n INSERT DATA { <a> <b> <c> }")
    assert not looks_like_update("SELECT * { ?s ?p 'INSERT' }")


def test_dataset_parameters():
    r = parse_sparql_request("GET", None, {"query": ["ASK {}"], "default-graph-uri": ["urn:a", "urn:b"],
                                           "named-graph-uri": ["urn:c"]}, b"")
    assert r.default_graphs == ["urn:a", "urn:b"] and r.named_graphs == ["urn:c"]


def test_service_endpoints_are_found_through_prefixes_comments_and_case():
    q = """PREFIX x: <http://evil.example/>
    SELECT * { service   silent # comment
      x:sparql { ?s ?p ?o } SERVICE <http://a.example/sparql> {} SERVICE ?ep {} }"""
    assert sorted(ep for _, ep in remote_calls(q)) == ["?ep", "http://a.example/sparql", "http://evil.example/sparql"]
    assert remote_calls("SELECT * { ?s ?p 'SERVICE <http://no.example/>' } # SERVICE <http://no/>") == []


def test_service_allow_list():
    check_remote_calls("SELECT * { SERVICE <http://ok.example/sparql> {} }", allowlist=["http://ok.example/sparql"])
    check_remote_calls("SELECT * { SERVICE <http://ok.example/a/sparql> {} }", allowlist="http://ok.example/a/")
    for q in ("SELECT * { SERVICE <http://no.example/sparql> {} }", "SELECT * { SERVICE ?x {} }",
              "SELECT * { SERVICE <http://ok.example/a> {} }", "SELECT * { SERVICE <file:///etc/passwd> {} }"):
        with pytest.raises(ServiceNotAllowed) as e:
            check_remote_calls(q, allowlist=["http://ok.example/sparql", "http://ok.example/a/", "file:///"])
        assert e.value.status == 403 and e.value.code == "service-not-allowed"


def test_the_query_string_parser_is_urllibs_parse_qs():
    """parse_query_string decodes percent escapes its own (faster) way: on 200,000 random strings
    of the characters that matter (escapes valid and not, '+', separators, backslashes, non-ASCII)
    and on real queries it must give exactly what urllib.parse.parse_qs gives."""
    import random
    import urllib.parse

    rnd = random.Random(20261127)
    alphabet = "ab%+=&;/\\x0123456789ABCDEFfzé你\n "
    for _ in range(200_000):
        s = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
        assert parse_query_string(s) == urllib.parse.parse_qs(s, keep_blank_values=True), s
    for q in ['SELECT ?l WHERE { ?s ?p ?l FILTER(CONTAINS(STR(?l), "杭州")) } # 你好 \\ %',
              "PREFIX ep: <https://w3id.org/econplan/def#>\nASK { ?s ep:value 1.5e3 }"]:
        for s in (urllib.parse.urlencode({"query": q, "format": "json"}),
                  urllib.parse.urlencode({"query": q}, quote_via=urllib.parse.quote) + "&x&&y=",
                  urllib.parse.urlencode({"query": q}, encoding="gb18030")):
            assert parse_query_string(s) == urllib.parse.parse_qs(s, keep_blank_values=True), s
