"""The checks made before the engine sees a query (server.sparql.lexer, limits, calls) and the safe
RDF parser (server.kg.rdfparse), without a server.  The engine's crashes are shown for real, in a
child process, so that a limit raised past a crash fails here."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.kg.errors import KGError
from server.kg.rdfparse import parse_rdf
from server.sparql.calls import ServiceNotAllowed, UncheckableCall, check_remote_calls, remote_calls
from server.sparql.lexer import EscapeOutsideToken, tokenize
from server.sparql.limits import (MAX_LIST_ITEMS, MAX_NESTING, MAX_OPERATORS, QueryTooComplex,
                                  check_query_text, measure)

ROOT = Path(__file__).resolve().parent.parent

# -- shapes of query text --------------------------------------------------------------------


def braces(n):
    return "SELECT*{" + "{" * n + "}" * n + "}"


def parens(n):
    return "SELECT*{?s ?p ?o FILTER(" + "(" * n + "1" + ")" * n + ")}"


def optionals(n):
    return "SELECT*{" + "?s ?p ?o OPTIONAL{" * n + "?s ?p ?o" + "}" * n + "}"


def not_exists(n):
    return "SELECT*{?s ?p ?o " + "FILTER NOT EXISTS{?s ?p ?o " * n + "}" * n + "}"


def path(n):
    return "SELECT*{?s " + "/".join(["<p>"] * n) + " ?o}"


def plus_chain(n):
    return "SELECT*{BIND(" + "+".join(["1"] * n) + " AS ?x)}"


def binds(n):
    return "SELECT*{" + "".join(f"BIND(1 AS ?x{i}) " for i in range(n)) + "}"


def collection(n):
    return "SELECT*{?s <http://e/p> (" + " 1" * n + ")}"


def unions(n):
    return "SELECT*{" + " UNION ".join(["{?s ?p ?o}"] * n) + "}"


#: The crashers of issue 19 and their relatives: each kills pyoxigraph 0.5.13 (SIGSEGV).
CRASHERS = {"braces-2500": braces(2500), "parens-5000": parens(5000), "optional-3000": optionals(3000),
            "not-exists-3000": not_exists(3000), "path-20000": path(20000), "plus-10000": plus_chain(10000),
            "binds-3000": binds(3000), "collection-5000": collection(5000), "union-10000": unions(10000)}

_CHILD = r"""
import sys, pyoxigraph as ox
s = ox.Store()
s.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("1")))
for q in sys.stdin.read().split("\0"):
    try:
        r = s.query(q, base_iri="http://e/")
        next(iter(r), None)
    except SyntaxError:
        pass
print("survived", flush=True)
"""


def _engine_survives(queries: list[str], seconds: float = 5) -> bool:
    """Whether a fresh pyoxigraph process parses and starts each query without dying.  A child
    still working after ``seconds`` (slow evaluation) has survived the parse: it counts as alive."""
    p = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    try:
        out, _ = p.communicate("\0".join(queries).encode(), timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return True
    return p.returncode == 0 and b"survived" in out


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_each_crasher_is_refused_before_the_engine(name):
    with pytest.raises(QueryTooComplex) as e:
        check_query_text(CRASHERS[name])
    err = e.value
    assert err.status == 400 and err.code == "query-too-complex"
    assert err.details["value"] > err.details["maximum"] and err.details["limit"] in err.message


def test_the_crashers_really_crash_the_engine():
    """The thresholds in server.sparql.limits are real: nested braces past 2,500 kill the process."""
    # (a long wait: a child still running when it ends counts as alive, and on a busy machine
    # starting Python and pyoxigraph alone can take seconds; a crash ends the child at once)
    assert not _engine_survives([braces(2500)], seconds=120)
    assert not _engine_survives([binds(3000)], seconds=120)


def test_the_engine_survives_every_shape_at_the_limits():
    """Each shape at exactly the limits (all three at once where they combine) runs in a fresh
    process: the limits are below every crash."""
    depth = MAX_NESTING - 2
    at_limits = [
        braces(depth), parens(depth - 2), optionals(depth - 1), not_exists(depth - 1),
        # deep NOT EXISTS + a long chain of triple patterns + a long collection in one query
        "SELECT*{?s ?p ?o " + "FILTER NOT EXISTS{?s ?p ?o " * (depth - 4)
        + "".join(f"?s <http://e/p> ?x{i} . " for i in range(MAX_OPERATORS - 2 * depth))
        + "?s <http://e/p> (" + " 1" * (MAX_LIST_ITEMS - 1) + ")" + "}" * (depth - 4) + "}",
        binds(MAX_LIST_ITEMS // 2 - 1),
        path(MAX_OPERATORS - 5), plus_chain(MAX_OPERATORS - 5), unions(MAX_OPERATORS // 2 - 5),
    ]
    for q in at_limits:
        check_query_text(q)  # within the limits
    for q in at_limits:
        assert _engine_survives([q]), q[:80]


def test_saved_queries_pass_with_room_to_spare():
    files = sorted((ROOT / "queries").glob("*.rq"))
    assert len(files) > 20
    for f in files:
        text = f.read_text(encoding="utf-8")
        check_query_text(text)
        s = measure(text)
        assert s.nesting * 5 < MAX_NESTING and s.operators * 5 < MAX_OPERATORS, f.name


def test_data_blocks_and_values_are_not_counted():
    check_query_text("INSERT DATA { " + "<urn:a> <urn:b> 1 . " * 5000 + "}", update=True)
    check_query_text("SELECT * { VALUES (?a ?b) { " + "(1 2) " * 3000 + "} }")
    with pytest.raises(QueryTooComplex):
        check_query_text("INSERT { <urn:a> <urn:b> 1 } WHERE { " + "?s <urn:b> ?o . " * 2000 + "}", update=True)


# -- the tokenizer ---------------------------------------------------------------------------

def test_tokenizer_reads_iris_strings_comments_and_less_than():
    toks = tokenize("SELECT ?x { BIND(<http://ex/a'b> AS ?z) FILTER(?a<3 && ?b <= 4) "
                    "?s ex:a\\'b '''x''y''' . } # SERVICE <http://no/> '")
    kinds = [(t.kind, t.text) for t in toks]
    assert ("iri", "http://ex/a'b") in kinds and ("punct", "<") in kinds and ("punct", "<=") in kinds
    assert ("pname", "ex:a\\'b") in kinds and ("string", "'''x''y'''") in kinds
    assert all(t.text != "SERVICE" for t in toks)  # it was in a comment
    assert [t.text for t in tokenize('SELECT ("\\u0022" AS ?x) {}')][2] == '"\\u0022"'
    assert tokenize("SELECT * { <http://a/\\u0078> ?p ?o }")[3].text == "http://a/x"


def test_an_escape_outside_strings_and_iris_is_refused():
    with pytest.raises(EscapeOutsideToken) as e:
        check_query_text("SELECT * { \\u003Fs ?p ?o }")
    assert e.value.status == 400


# -- remote calls ----------------------------------------------------------------------------

TRICKS = {
    "apostrophe": "SELECT ?secret { BIND(<http://ex/a'b> AS ?z) SERVICE <http://127.0.0.1:9/x3> {?secret ?p ?o} } # '",
    "comments": "SELECT * { # SERVICE <http://ok/>\n service # x\n silent <http://127.0.0.1:9/x> {?s ?p ?o} }",
    "base": "BASE <http://127.0.0.1:9/> SELECT * { SERVICE <x> {?s ?p ?o} }",
    "prefix": "PREFIX s: <http://127.0.0.1:9/> SELECT * { SERVICE s:x {?s ?p ?o} }",
    "escape-in-iri": "SELECT * { SERVICE <http://127.0.0.1\\u003A9/x> {?s ?p ?o} }",
    "quote-escape": 'SELECT * { BIND("\\u0022" AS ?x) SERVICE <http://127.0.0.1:9/q> {?s ?p ?o} } # """',
    "in-exists": "SELECT * { ?s ?p ?o FILTER EXISTS { SERVICE <http://127.0.0.1:9/e> {?s ?p ?o} } }",
    "variable": "SELECT * { BIND(<http://127.0.0.1:9/v> AS ?e) SERVICE ?e {?s ?p ?o} }",
    "file": "SELECT * { SERVICE <file:///etc/passwd> {?s ?p ?o} }",
}
UPDATE_TRICKS = {
    "load": "LOAD <http://127.0.0.1:9/x>",
    "load-into": "PREFIX s: <http://127.0.0.1:9/> LOAD SILENT s:x INTO GRAPH <urn:g>",
    "insert-where": "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/y> {?s ?p ?o} }",
    "file": "LOAD <file:///etc/passwd>",
}


@pytest.mark.parametrize("name", sorted(TRICKS))
def test_service_tricks_are_refused(name):
    with pytest.raises(KGError) as e:
        check_remote_calls(TRICKS[name], allowlist="http://ok.example/")
    assert e.value.status in (400, 403), e.value.message


@pytest.mark.parametrize("name", sorted(UPDATE_TRICKS))
def test_load_and_service_in_updates_are_refused(name):
    with pytest.raises(ServiceNotAllowed):
        check_remote_calls(UPDATE_TRICKS[name], update=True, allowlist="http://ok.example/")


def test_the_endpoints_are_read_from_the_parse():
    assert remote_calls(TRICKS["apostrophe"]) == [("SERVICE", "http://127.0.0.1:9/x3")]
    assert remote_calls(TRICKS["quote-escape"]) == [("SERVICE", "http://127.0.0.1:9/q")]
    assert remote_calls(TRICKS["prefix"]) == [("SERVICE", "http://127.0.0.1:9/x")]
    assert remote_calls(UPDATE_TRICKS["load-into"], update=True) == [("LOAD", "http://127.0.0.1:9/x")]
    assert remote_calls("SELECT * { ?service <urn:load> 'SERVICE <http://x/>' }") == []
    check_remote_calls("SELECT * { SERVICE <http://ok.example/sparql> {?s ?p ?o} }", allowlist="http://ok.example/")
    check_remote_calls("SELECT * { SERVICE ep:x {?s ?p ?o} }", allowlist="https://w3id.org/econplan/",
                       prefixes={"ep": "https://w3id.org/econplan/"})


def test_unparseable_text_naming_service_is_refused():
    with pytest.raises(UncheckableCall):
        check_remote_calls("SELECT * { SERVICE <http://ok.example/> { ?s ?p ?o ", allowlist="http://ok.example/")
    with pytest.raises(UncheckableCall):  # relative IRIs are not resolved by two parsers
        check_remote_calls("BASE <http://ok.example/> SELECT * { SERVICE <x> {?s ?p ?o} }",
                           allowlist="http://ok.example/")


# -- uploaded RDF ----------------------------------------------------------------------------

def billion_laughs() -> bytes:
    ents = '<!ENTITY l0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE r [{ents}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
            '02/22-rdf-syntax-ns#" xmlns:e="http://e/"><rdf:Description rdf:about="http://e/s">'
            '<e:p>&l9;</e:p></rdf:Description></rdf:RDF>').encode()


def test_billion_laughs_exhausts_the_engine_and_is_refused_at_once():
    doc = billion_laughs()
    assert len(doc) < 1100
    child = ("import resource, sys, pyoxigraph as ox\n"
             "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
             "list(ox.parse(sys.stdin.buffer.read(), format=ox.RdfFormat.RDF_XML))\nprint('parsed')\n")
    r = subprocess.run([sys.executable, "-c", child], input=doc, capture_output=True, timeout=120)
    assert r.returncode != 0 and b"parsed" not in r.stdout  # it asked for more than 1 GiB
    t0 = time.perf_counter()
    with pytest.raises(KGError) as e:
        parse_rdf(doc, ox.RdfFormat.RDF_XML)
    assert time.perf_counter() - t0 < 0.05
    assert e.value.status == 400 and e.value.code == "xml-doctype"
    with pytest.raises(KGError) as e:
        parse_rdf(doc.decode().encode("utf-16"), ox.RdfFormat.RDF_XML)
    assert e.value.status == 415


def test_n3_is_refused_and_a_huge_token_is_413():
    with pytest.raises(KGError) as e:
        parse_rdf(b"{ <urn:a> <urn:b> <urn:c> } <urn:d> <urn:e> .", ox.RdfFormat.N3)
    assert e.value.status == 415 and e.value.code == "n3-not-accepted"
    with pytest.raises(KGError) as e:
        parse_rdf(b'<urn:s> <urn:p> "' + b"a" * (17 << 20) + b'" .', ox.RdfFormat.TURTLE)
    assert e.value.status == 413 and e.value.code == "token-too-large"
    assert len(parse_rdf(b'<urn:s> <urn:p> "ok" .', ox.RdfFormat.TURTLE)) == 1


def test_the_raw_count_shortcut_never_passes_what_the_tokenizer_refuses():
    from server.sparql.limits import _surely_within

    shapes = [braces, parens, optionals, not_exists, path, plus_chain, binds, collection, unions]
    for shape in shapes:
        for n in (1, 5, 20, 50, 99, 100, 101, 150, 300, 499, 500, 501, 990, 1001):
            text = shape(n)
            s = measure(text)
            within = s.nesting <= MAX_NESTING and s.operators <= MAX_OPERATORS and s.list_items <= MAX_LIST_ITEMS
            if _surely_within(text):
                assert within, (shape.__name__, n)
    # strings, IRIs and comments only make the shortcut more careful, never less
    assert not _surely_within("SELECT * { ?s ?p '" + "{" * 101 + "' }")
    check_query_text("SELECT * { ?s ?p '" + "{" * 101 + "' }")


def test_deeply_nested_rdfxml_is_refused_before_the_parser():
    def nest(n):
        return (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
                b'<rdf:Description>' + b"<e:p><rdf:Description>" * n + b"</rdf:Description></e:p>" * n
                + b"</rdf:Description></rdf:RDF>")
    assert len(parse_rdf(nest(200), ox.RdfFormat.RDF_XML)) == 200
    t0 = time.perf_counter()
    with pytest.raises(KGError) as e:
        parse_rdf(nest(20000), ox.RdfFormat.RDF_XML)  # 15 s in pyoxigraph's parser
    assert e.value.status == 400 and e.value.code == "xml-too-deep"
    assert time.perf_counter() - t0 < 1.0
