"""The SPARQL endpoint (/sparql, SPARQL 1.1 Protocol), the write API (/load, /update), and the
dataset's descriptions (/api/stats, /.well-known/void)."""
from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, request

from .app import get_kg, get_state, read_body
from ..kg import builddir
from ..kg import vocab as V
from ..kg.errors import KGError
from ..sparql.endpoint import answer_query, check_update
from ..sparql.fairness import client_address
from ..sparql.protocol import GRAPH_FORMATS, ProtocolError, negotiate, parse_sparql_request, without_chunked_encoding

bp = Blueprint("api", __name__)


def run_query(sparql: str, *, accept: str | None, fmt: str | None, default_graphs=(),
              named_graphs=(), substitutions: dict | None = None) -> Response:
    """Run a query through the runner, with ETag revalidation and the answer cache
    (server.sparql.endpoint.answer_query)."""
    reply = answer_query(get_state(), current_app.config, sparql, accept=accept, fmt=fmt,
                         default_graphs=default_graphs, named_graphs=named_graphs,
                         substitutions=substitutions, base_url=request.base_url,
                         if_none_match=request.headers.get("If-None-Match"),
                         client=client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), current_app.config["TRUSTED_PROXIES"]),
                         http10=without_chunked_encoding(request.environ))
    if isinstance(reply.body, bytes):
        resp = Response(reply.body, status=reply.status)
    else:  # a Stream's chunks: sent as they come
        resp = Response(reply.body, status=reply.status, direct_passthrough=True)
    for k, v in reply.headers:
        resp.headers[k] = v
    if reply.status == 304:
        resp.headers.pop("Content-Type", None)
    return resp


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def sparql():
    if request.method == "OPTIONS":
        return Response(status=204)
    cfg = current_app.config
    body = read_body(cfg["MAX_REQUEST_BYTES"], "MAX_REQUEST_BYTES") if request.method == "POST" else b""
    args = {k: request.args.getlist(k) for k in request.args}
    req = parse_sparql_request(request.method, request.headers.get("Content-Type"), args, body)
    fmt = (req.params.get("format") or [None])[0]
    if req.query is None:
        if request.method == "POST":
            raise ProtocolError("no query given: send it as the form field 'query' or as an "
                                "application/sparql-query body")
        if request.method == "GET" and fmt is None and browser_wants_html():
            from .editor import sparql_page

            return sparql_page(service_description_triples())
        return service_description(fmt)
    if not req.query.strip():
        raise ProtocolError("the query is empty")
    return run_query(req.query, accept=request.headers.get("Accept"), fmt=fmt,
                     default_graphs=req.default_graphs, named_graphs=req.named_graphs)


def browser_wants_html() -> bool:
    """A browser's request: text/html (or XHTML) is the first type of its Accept header, as
    Chrome and Firefox send it; machines (*/*, RDF types, no Accept) are not browsers."""
    entries = []
    for part in (request.headers.get("Accept") or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if bits[0]:
            entries.append((bits[0].lower(), q))
    if not entries:
        return False
    top = max(q for _, q in entries)
    first = next(m for m, q in entries if q == top)  # the first type listed with the top quality
    return top > 0 and first in ("text/html", "application/xhtml+xml")


def service_description(fmt: str | None) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint (Turtle by default)."""
    f = negotiate(request.headers.get("Accept"), GRAPH_FORMATS, fmt)
    t = service_description_triples()
    from ..sparql.protocol import OX_GRAPH_FORMAT

    items = t if f.name not in ("trig", "nquads") else [ox.Quad(x.subject, x.predicate, x.object) for x in t]
    body = ox.serialize(items, format=OX_GRAPH_FORMAT[f.name]) or b""
    resp = Response(body, mimetype=f.media_type)
    resp.vary.add("Accept")
    return resp


def service_description_triples() -> list:
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
        ox.Triple(svc, V.RDFS_LABEL, ox.Literal("城市发展计划知识图谱 SPARQL 端点", language="zh")),
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
    return t


@bp.route("/api/stats")
def stats():
    kg = get_kg()
    s = kg.stats()
    return jsonify({"ok": True, "version": kg.version, "triples": s.triples, "facts": s.facts,
                    "lost_values": s.lost, "indicators": s.indicators, "entities": s.entities,
                    "graphs": s.graphs})


# -- validated writes ------------------------------------------------------------------

def _require_token() -> None:
    """Every write needs the configured bearer token, compared in constant time."""
    import hmac

    token = current_app.config.get("WRITE_TOKEN")
    if not token:
        raise KGError("writes are disabled on this server (no WRITE_TOKEN configured)", status=403)
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        exc = KGError("this endpoint needs a token: send Authorization: Bearer <token>", status=401)
        raise exc
    given = auth[len("Bearer "):].strip().encode()
    if not hmac.compare_digest(given, str(token).encode()):
        raise KGError("the token is not valid", status=403)


def _write_body() -> bytes:
    return read_body(current_app.config["MAX_LOAD_BYTES"], "MAX_LOAD_BYTES")


def _rejected(exc) -> Response:
    """422 with the SHACL report, as JSON (default) or text by Accept."""
    report = exc.report
    best = request.accept_mimetypes.best_match(["application/json", "text/plain", "text/turtle"])
    if best == "text/plain" and request.accept_mimetypes["text/plain"] > request.accept_mimetypes["application/json"]:
        return Response(exc.message + "\n\n" + report.as_text(), status=422, mimetype="text/plain")
    if best == "text/turtle" and request.accept_mimetypes["text/turtle"] > request.accept_mimetypes["application/json"]:
        return Response(report.as_turtle(), status=422, mimetype="text/turtle")
    d = exc.to_dict()
    d["error"]["report"] = json.loads(report.as_json())
    return Response(json.dumps(d, ensure_ascii=False), status=422, mimetype="application/json")


@bp.route("/load", methods=["POST", "PUT"])
def load_rdf():
    """Graph Store Protocol style: POST adds to ?graph=IRI, PUT replaces it; validated first."""
    from ..kg.errors import ValidationFailed
    from ..kg.loading import format_for, parse_bytes
    from ..kg.writes import load

    _require_token()
    body = _write_body()
    graph = request.args.get("graph")
    ctype = request.headers.get("Content-Type")
    if not ctype:
        raise KGError("give the body's Content-Type (text/turtle, application/n-triples, "
                      "application/trig, application/n-quads, application/ld+json, "
                      "application/rdf+xml)", status=415)
    try:
        fmt = format_for(ctype)
    except KGError as exc:
        raise KGError(exc.message, status=415) from None
    if graph and not graph.startswith(("http://", "https://", "urn:")):
        raise KGError(f"graph {graph!r} is not an absolute IRI", status=400)
    quads = parse_bytes(body, fmt, where="body")
    state = get_state()
    existed = bool(graph) and get_kg().store.contains_named_graph(ox.NamedNode(graph))
    try:
        result = load(state.target, quads, graph=graph, replace=request.method == "PUT", kg=state.writer_kg)
    except ValidationFailed as exc:
        return _rejected(exc)
    if existed:
        resp = Response(status=204)
    else:
        resp = jsonify(result.to_dict())
        resp.status_code = 201
    resp.headers["X-Triples-Added"] = str(result.added)
    resp.headers["X-Triples-Removed"] = str(result.removed)
    resp.headers["X-Dataset-Version"] = result.version
    return resp


@bp.route("/update", methods=["GET", "POST"])
def sparql_update():
    """SPARQL 1.1 Update, token-protected, applied to a staging copy, validated, then committed."""
    from ..kg.errors import ValidationFailed
    from ..kg.writes import update

    _require_token()
    body = _write_body() if request.method == "POST" else b""
    args = {k: request.args.getlist(k) for k in request.args}
    req = parse_sparql_request(request.method, request.headers.get("Content-Type"), args, body,
                               kind="update")
    if not req.update or not req.update.strip():
        raise ProtocolError("no update given (form field 'update' or a direct POST body)")
    check_update(req.update, current_app.config, base_iri=request.base_url)
    try:
        result = update(get_state().target, req.update, using_graphs=req.default_graphs,
                        using_named_graphs=req.named_graphs, base_iri=request.base_url,
                        kg=get_state().writer_kg)
    except ValidationFailed as exc:
        return _rejected(exc)
    return jsonify(result.to_dict())


@bp.route("/.well-known/void")
def void_description():
    """DCAT and VoID description of the dataset, with live counts and this server's URLs."""
    from ..sparql.protocol import OX_GRAPH_FORMAT

    f = negotiate(request.headers.get("Accept"), GRAPH_FORMATS, request.args.get("format"))
    kg = get_kg()
    ds_iri = "https://w3id.org/econplan/dataset"
    triples = list(kg.query(f"""
        CONSTRUCT {{ ?s ?p ?o }} WHERE {{
          GRAPH <{V.GRAPH}data/dataset> {{ ?s ?p ?o }} }}"""))
    root = request.url_root.rstrip("/")
    ds = ox.NamedNode(ds_iri)
    VOID = "http://rdfs.org/ns/void#"
    void = lambda n: ox.NamedNode(VOID + n)  # noqa: E731
    dec = lambda n: ox.Literal(str(n), datatype=V.XSD_INTEGER)  # noqa: E731
    triples += [
        ox.Triple(ds, void("sparqlEndpoint"), ox.NamedNode(root + "/sparql")),
        ox.Triple(ds, void("dataDump"), ox.NamedNode(root + "/dumps/" + builddir.DUMP)),
        ox.Triple(ds, void("dataDump"), ox.NamedNode(root + "/dumps/" + builddir.TRIG)),
        ox.Triple(ds, void("triples"), dec(len(kg))),
    ]
    counts = kg.select("SELECT (COUNT(DISTINCT ?s) AS ?e) (COUNT(DISTINCT ?c) AS ?k) WHERE { ?s a ?c }")[0]
    triples.append(ox.Triple(ds, void("entities"), dec(counts["e"].value)))
    triples.append(ox.Triple(ds, void("classes"), dec(counts["k"].value)))
    for frag, pred, ns in (("links-wikidata", V.OWL_SAMEAS.value, "http://www.wikidata.org/entity/Q"),
                           ("links-geonames", V.OWL_SAMEAS.value, "https://sws.geonames.org/"),
                           ("links-wikidata-properties", V.SKOS.closeMatch.value, "http://www.wikidata.org/entity/P")):
        n = kg.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{pred}> ?o FILTER(STRSTARTS(STR(?o), '{ns}')) }}")[0]["n"].value
        triples.append(ox.Triple(ox.NamedNode(f"{ds_iri}#{frag}"), void("triples"), dec(n)))
    items = triples if f.name not in ("trig", "nquads") else [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
    kwargs = {"prefixes": dict(V.PREFIXES, void=VOID, dcat="http://www.w3.org/ns/dcat#")} \
        if f.name in ("turtle", "trig") else {}
    return Response(ox.serialize(items, format=OX_GRAPH_FORMAT[f.name], **kwargs) or b"", mimetype=f.media_type)
