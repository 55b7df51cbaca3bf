"""Named graphs: ``/graph/<path>`` (the graph IRIs under https://w3id.org/econplan/graph/)
dereference to a page giving the graph's size and downloads, or to its RDF by Accept
(``?format=`` wins): Turtle, JSON-LD (compact), N-Triples, TriG and N-Quads (those two with
the graph's name)."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Response, render_template, request
import pyoxigraph as ox

from ..kg import vocab as V
from ..kg.errors import NotFoundError
from ..sparql.protocol import OX_GRAPH_FORMAT, Format, negotiate
from .app import get_kg
from .pages import bp
from .terms import Terms, _used_prefixes

GRAPH_PAGE_FORMATS = (
    Format("html", "text/html", ("application/xhtml+xml",)),
    Format("turtle", "text/turtle", ("application/x-turtle",)),
    Format("jsonld", "application/ld+json", ("application/json",)),
    Format("ntriples", "application/n-triples", ("text/plain",)),
    Format("trig", "application/trig"),
    Format("nquads", "application/n-quads"),
)
SUFFIX = {"turtle": "ttl", "jsonld": "jsonld", "ntriples": "nt", "trig": "trig", "nquads": "nq"}


@bp.app_template_filter("graph_url")
def graph_url(iri: str) -> str:
    """The page of a graph IRI on this site (/graph/…), else the IRI itself."""
    return "/graph/" + quote(iri[len(V.GRAPH):], safe="/-._~") if iri.startswith(V.GRAPH) else iri


@bp.route("/graph/<path:path>")
def named_graph(path: str):
    kg = get_kg()
    node = ox.NamedNode(V.GRAPH + path)
    if not kg.store.contains_named_graph(node):
        raise NotFoundError(f"no named graph {node.value}; /sparql lists them")
    fmt = negotiate(request.headers.get("Accept"), GRAPH_PAGE_FORMATS, request.args.get("format"))
    if fmt.name == "html":
        resp = Response(_graph_html(kg, node), mimetype="text/html")
    else:
        quads = list(kg.store.quads_for_pattern(None, None, None, node))
        if fmt.name in ("trig", "nquads"):
            body = ox.serialize(quads, format=OX_GRAPH_FORMAT[fmt.name]) or b""
        else:
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
            if fmt.name == "jsonld":
                from ..kg import jsonld

                body = jsonld.dumps(jsonld.to_jsonld(triples)).encode("utf-8")
            else:
                kwargs = {"prefixes": _used_prefixes(triples)} if fmt.name == "turtle" else {}
                body = ox.serialize(triples, format=OX_GRAPH_FORMAT[fmt.name], **kwargs) or b""
        resp = Response(body, mimetype=fmt.media_type)
        resp.headers["Content-Type"] = f"{fmt.media_type}; charset=utf-8"
        name = path.replace("/", "-") + "." + SUFFIX[fmt.name]
        resp.headers["Content-Disposition"] = f'inline; filename="{name}"'
    resp.vary.add("Accept")
    return resp


def _graph_html(kg, node) -> str:
    terms = Terms(kg)
    triples = subjects = 0
    seen = set()
    types: dict = {}
    for q in kg.store.quads_for_pattern(None, None, None, node):
        triples += 1
        if q.subject not in seen:
            seen.add(q.subject)
            subjects += 1
        if q.predicate == V.RDF_TYPE:
            types[q.object] = types.get(q.object, 0) + 1
    top = sorted(types.items(), key=lambda kv: -kv[1])[:15]
    here = "/graph/" + node.value[len(V.GRAPH):]
    downloads = [(label, here + "?" + urlencode({"format": name}), media)
                 for name, label, media in (("turtle", "Turtle", "text/turtle"), ("trig", "TriG", "application/trig"),
                                            ("nquads", "N-Quads", "application/n-quads"),
                                            ("ntriples", "N-Triples", "application/n-triples"),
                                            ("jsonld", "JSON-LD", "application/ld+json"))]
    query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{node.value}> {{ ?s ?p ?o }} }} LIMIT 100"
    return render_template("graph.html", iri=node.value, triples=triples, subjects=subjects,
                           types=[(terms.value(t_), n) for t_, n in top], downloads=downloads,
                           editor="/editor?" + urlencode({"query": query}))
