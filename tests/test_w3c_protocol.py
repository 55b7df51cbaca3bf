"""Replays the W3C SPARQL 1.1 Protocol tests against a real server on 127.0.0.1.

Query tests go to /sparql; update tests go to the token-protected /update (the
manifest's paths all start with /sparql/, and it allows mapping them).  Each
test starts from a fresh store holding the datasets it names.
"""
from __future__ import annotations

import http.client
import json
from pathlib import Path
from xml.etree import ElementTree

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF, RDFS

from conftest import LiveServer, ROOT, make_build_dir

W3C = ROOT / "tests" / "w3c" / "sparql11-protocol"  # a copy of the W3C suite, with its LICENSE.md
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
TOKEN = "w3c-test-token"

#: Tests that do not apply here, with the reason.  (Empty: all 34 apply.)
def _list(g, node):
    return list(rdflib.collection.Collection(g, node)) if node else []


def load_manifest():
    if not (W3C / "manifest.ttl").exists():
        return []
    g = rdflib.Graph()
    g.parse(W3C / "manifest.ttl", format="turtle", publicID="file://" + str(W3C) + "/manifest.ttl")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for t in _list(g, g.value(manifest, MF.entries)):
        name = str(t).split("#")[-1]
        data = []
        for gd in g.objects(t, UT.graphData):
            file = Path(str(g.value(gd, UT.graph)).replace("file://", ""))
            data.append((W3C / file.name, str(g.value(gd, RDFS.label))))
        reqs = []
        for r in _list(g, g.value(g.value(t, MF.action), HT.requests)):
            body = g.value(r, HT.body)
            headers = {str(g.value(h, HT.fieldName)).lower(): str(g.value(h, HT.fieldValue))
                       for h in _list(g, g.value(r, HT.headers))}
            resp = g.value(r, HT.resp)
            reqs.append({
                "method": str(g.value(r, HT.methodName)),
                "path": str(g.value(r, HT.absolutePath)),
                "headers": headers,
                "body": str(g.value(body, CNT.chars)) if body else None,
                "encoding": str(g.value(body, CNT.characterEncoding) or "UTF-8") if body else None,
                "status": {str(s).rsplit("StatusCode", 1)[1][0] for s in g.objects(resp, MF.expectedStatus)},
                "boolean": g.value(resp, MF.expectedBoolean),
                "format": str(g.value(resp, MF.expectedFormat) or ""),
            })
        tests.append((name, data, reqs))
    return tests


TESTS = load_manifest()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    path = tmp_path_factory.mktemp("w3c")
    make_build_dir(path, [])
    server = LiveServer(path, env={"ECONPLAN_WRITE_TOKEN": TOKEN}, workers=1)
    yield path, server
    server.stop()


def _reset(path: Path, data) -> None:
    quads = []
    for file, graph in data:
        quads += [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(graph))
                  for q in ox.parse(path=str(file), format=ox.RdfFormat.N_TRIPLES)]
    make_build_dir(path, quads)


def _is_update(req) -> bool:
    ctype = req["headers"].get("content-type", "")
    body = req["body"] or ""
    return ("sparql-update" in ctype or body.startswith("update=") or "update=" in req["path"]
            or "using-graph-uri" in req["path"] or "using-named-graph-uri" in req["path"])


def _send(server, req):
    path = req["path"].replace("/sparql/", "/update" if _is_update(req) else "/sparql", 1)
    headers = dict(req["headers"])
    if _is_update(req):
        headers["authorization"] = f"Bearer {TOKEN}"
    data = None
    if req["body"] is not None:
        data = req["body"].encode("utf-16" if req["encoding"].upper() == "UTF-16" else "utf-8")
    # http.client, not urllib: urllib adds a form Content-Type to every POST, and the
    # tests about a *missing* Content-Type must send none.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(req["method"], path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type", ""), resp.read()
    finally:
        conn.close()


def _boolean(ctype: str, body: bytes) -> bool:
    if "json" in ctype:
        return json.loads(body)["boolean"]
    root = ElementTree.fromstring(body)
    return root.find("{http://www.w3.org/2005/sparql-results#}boolean").text.strip() == "true"


def test_manifest_has_34_tests():
    assert len(TESTS) == 34, f"the W3C manifest in {W3C} should hold 34 protocol tests"


@pytest.mark.parametrize("name,data,reqs", TESTS, ids=[t[0] for t in TESTS])
def test_w3c_protocol(scratch, name, data, reqs):
    path, server = scratch
    _reset(path, data)
    for i, req in enumerate(reqs):
        status, ctype, body = _send(server, req)
        assert str(status)[0] in req["status"], (
            f"request {i + 1}: {req['method']} {req['path']} -> {status} {body[:300]!r}")
        assert b"Traceback" not in body
        if req["format"] == "boolean":
            value = _boolean(ctype, body)
            if req["boolean"] is not None:
                assert value == bool(req["boolean"].toPython())
        elif req["format"] == "tabular":
            assert any(t in ctype for t in ("sparql-results", "csv", "tab-separated"))
        elif req["format"] == "RDF":
            fmt = ox.RdfFormat.from_media_type(ctype.split(";")[0])
            assert fmt is not None, ctype
            list(ox.parse(body, format=fmt))
