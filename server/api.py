"""JSON and SPARQL endpoints: /sparql (SPARQL 1.1 Protocol), /api/stats."""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from threading import Lock

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, request

from . import get_executor, get_kg, get_state
from . import vocab as V
from .errors import KGError
from .executor import Job
from .protocol import (GRAPH_FORMATS, ProtocolError, check_services, looks_like_update, negotiate,
                       parse_sparql_request)

bp = Blueprint("api", __name__)


class ResponseCache:
    """Query responses keyed by (dataset version, request); LRU, thread-safe."""

    def __init__(self, size: int):
        self.size, self._d, self._lock = size, OrderedDict(), Lock()

    def get(self, key):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def put(self, key, value):
        if self.size <= 0:
            return
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)


def _cache() -> ResponseCache:
    state = get_state()
    if state.cache is None:
        state.cache = ResponseCache(current_app.config["CACHE_SIZE"])
    return state.cache


def run_query(sparql: str, *, accept: str | None, fmt: str | None, default_graphs=(),
              named_graphs=(), substitutions: dict | None = None) -> Response:
    """Run a query through the killable executor, with ETag revalidation and a response cache."""
    cfg = current_app.config
    if len(sparql) > cfg["MAX_QUERY_LENGTH"]:
        raise KGError(f"the query is {len(sparql)} characters long; the limit is "
                      f"{cfg['MAX_QUERY_LENGTH']}", status=413)
    if looks_like_update(sparql):
        raise ProtocolError("this endpoint is read-only: send SPARQL Update to /update with a "
                            "token (every change is validated by the SHACL shapes)", status=403)
    check_services(sparql, cfg["SERVICE_ALLOWLIST"].split())
    kg = get_kg()
    key_src = json.dumps([kg.version, sparql, accept or "", fmt or "", list(default_graphs),
                          list(named_graphs), sorted((substitutions or {}).items()),
                          cfg["MAX_ROWS"]], ensure_ascii=False)
    etag = '"' + hashlib.sha1(key_src.encode()).hexdigest()[:20] + '"'
    if etag in request.if_none_match.as_set(True) or request.if_none_match.contains_raw(etag):
        resp = Response(status=304)
        resp.headers["ETag"] = etag
        resp.headers["Cache-Control"] = "no-cache"
        return resp
    cache = _cache()
    answer = cache.get(etag)
    if answer is None:
        answer = get_executor().run(Job(sparql=sparql, accept=accept, format=fmt,
                                        default_graphs=list(default_graphs),
                                        named_graphs=list(named_graphs),
                                        substitutions=substitutions, max_rows=cfg["MAX_ROWS"],
                                        version=kg.version))
        cache.put(etag, answer)
    resp = Response(answer.body, mimetype=answer.media_type)
    if answer.media_type.startswith("text/") or answer.media_type.endswith(("json", "xml")):
        resp.headers["Content-Type"] = f"{answer.media_type}; charset=utf-8"
    resp.headers["ETag"] = etag
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Vary"] = "Accept"
    if answer.rows is not None:
        resp.headers["X-Result-Rows"] = str(answer.rows)
    if answer.truncated:
        resp.headers["X-Result-Truncated"] = "true"
        resp.headers["Warning"] = f'199 - "result truncated to {cfg["MAX_ROWS"]} rows (MAX_ROWS)"'
    return resp


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def sparql():
    if request.method == "OPTIONS":
        return Response(status=204)
    cfg = current_app.config
    body = b""
    if request.method == "POST":
        if request.content_length and request.content_length > cfg["MAX_REQUEST_BYTES"]:
            raise KGError(f"the request body is larger than {cfg['MAX_REQUEST_BYTES']} bytes",
                          status=413)
        body = request.get_data(cache=False)
        if len(body) > cfg["MAX_REQUEST_BYTES"]:
            raise KGError(f"the request body is larger than {cfg['MAX_REQUEST_BYTES']} bytes",
                          status=413)
    args = {k: request.args.getlist(k) for k in request.args}
    req = parse_sparql_request(request.method, request.headers.get("Content-Type"), args, body)
    fmt = (req.params.get("format") or [None])[0]
    if req.query is None:
        return service_description(fmt)
    if not req.query.strip():
        raise ProtocolError("the query is empty")
    return run_query(req.query, accept=request.headers.get("Accept"), fmt=fmt,
                     default_graphs=req.default_graphs, named_graphs=req.named_graphs)


def service_description(fmt: str | None) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint (Turtle by default)."""
    f = negotiate(request.headers.get("Accept"), GRAPH_FORMATS, fmt)
    SD = "http://www.w3.org/ns/sparql-service-description#"
    sd = lambda n: ox.NamedNode(SD + n)  # noqa: E731
    endpoint = ox.NamedNode(request.url_root.rstrip("/") + "/sparql")
    svc = ox.NamedNode(request.url_root.rstrip("/") + "/sparql#service")
    ds = ox.NamedNode(request.url_root.rstrip("/") + "/sparql#dataset")
    dg = ox.NamedNode(request.url_root.rstrip("/") + "/sparql#default-graph")
    t = [
        ox.Triple(svc, V.RDF_TYPE, sd("Service")),
        ox.Triple(svc, sd("endpoint"), endpoint),
        ox.Triple(svc, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(svc, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(svc, sd("feature"), sd("BasicFederatedQuery")),
        ox.Triple(svc, sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(svc, sd("defaultDataset"), ds),
        ox.Triple(ds, V.RDF_TYPE, sd("Dataset")),
        ox.Triple(ds, sd("defaultGraph"), dg),
        ox.Triple(dg, V.RDF_TYPE, sd("Graph")),
        ox.Triple(svc, V.RDFS_LABEL, ox.Literal("杭州市发展计划知识图谱 SPARQL 端点", language="zh")),
        ox.Triple(svc, V.RDFS_LABEL, ox.Literal("econplan SPARQL endpoint", language="en")),
    ]
    for rf in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
               "SPARQL_Results_TSV", "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "TriG", "N-Quads"):
        t.append(ox.Triple(svc, sd("resultFormat"), ox.NamedNode("http://www.w3.org/ns/formats/" + rf)))
    kg = get_kg()
    for gname in sorted(kg.store.named_graphs(), key=lambda n: n.value):
        ng = ox.NamedNode(gname.value + "#description")
        t.append(ox.Triple(ds, sd("namedGraph"), ng))
        t.append(ox.Triple(ng, sd("name"), gname))
    from .protocol import OX_GRAPH_FORMAT

    items = t if f.name not in ("trig", "nquads") else [ox.Quad(x.subject, x.predicate, x.object) for x in t]
    body = ox.serialize(items, format=OX_GRAPH_FORMAT[f.name]) or b""
    return Response(body, mimetype=f.media_type)


@bp.route("/api/stats")
def stats():
    kg = get_kg()
    s = kg.stats()
    return jsonify({"ok": True, "version": kg.version, "triples": s.triples, "facts": s.facts,
                    "lost_values": s.lost, "indicators": s.indicators, "entities": s.entities,
                    "graphs": s.graphs})
