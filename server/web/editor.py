"""The SPARQL editor page (YASGUI, self-hosted)."""
from __future__ import annotations

from flask import g, jsonify, render_template, request, url_for

from ..kg import vocab as V
from .i18n import lang, pick
from .pages import EDITOR_STYLE_HASHES, bp
from .queries import _library


DEFAULT_EDITOR_QUERY = """SELECT ?fact ?label ?value ?unit WHERE {
  ?fact ep:indicator indicator:gdp ;
        ep:value ?value ;
        ep:unit/ep:symbol ?unit ;
        rdfs:label ?label .
  FILTER (LANG(?label) = "%s")
}
LIMIT 20
"""


def _prefix_block() -> str:
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in V.PREFIXES.items())


@bp.route("/editor")
def editor():
    library = _library()
    config = {
        "endpoint": request.url_root.rstrip("/") + url_for("api.sparql"),
        "prefixes": dict(V.PREFIXES),
        "prefixesUrl": url_for("pages.editor_prefixes"),
        "defaultQuery": _prefix_block() + "\n" + DEFAULT_EDITOR_QUERY % lang(),
        "queries": [{"slug": q.slug, "title": pick(q.title), "sparql": q.sparql}
                    for q in library.values()],
        "tabName": "查询" if lang() == "zh" else "Query",
    }
    # ?query=<slug> opens that saved query (its text and title) and runs it once; any other
    # ?query= is a query text (YASGUI's share links), opened but not run
    want = request.args.get("query", "")
    if want in library:
        q = library[want]
        config["initial"] = {"slug": want, "title": pick(q.title), "sparql": q.sparql, "run": True}
    elif want.strip():
        config["initial"] = {"slug": "", "title": config["tabName"], "sparql": want, "run": False}
    g.csp_style = EDITOR_STYLE_HASHES
    return render_template("editor.html", config=config, queries=list(library.values()),
                           selected=want if want in library else "")


@bp.route("/editor/prefixes.json")
def editor_prefixes():
    """The prefixes for the editor's PREFIX autocompletion (instead of prefix.cc)."""
    return jsonify(dict(V.PREFIXES))


# -- entity pages and their RDF -------------------------------------------------------------


def sparql_page(triples: list):
    """What a browser gets at /sparql without a query: the endpoint explained, the service
    description rendered (its named graphs linked), links to the editor and to the description
    in RDF (machines get that by their Accept header)."""
    import pyoxigraph as ox

    from .terms import _used_prefixes

    SD = "http://www.w3.org/ns/sparql-service-description#"
    graphs = [tr.object.value for tr in triples if tr.predicate.value == SD + "name"]
    formats = sorted({tr.object.value.rsplit("/", 1)[-1].replace("_", " ")
                      for tr in triples if tr.predicate.value == SD + "resultFormat"})
    turtle = (ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes={
        "sd": SD, "rdfs": "http://www.w3.org/2000/01/rdf-schema#", **{k: v for k, v in _used_prefixes(triples).items()}}) or b"").decode()
    endpoint = request.url_root.rstrip("/") + url_for("api.sparql")
    resp = render_template("sparql.html", endpoint=endpoint, graphs=graphs, formats=formats,
                           turtle=turtle, graph_base=V.GRAPH, example="SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    from flask import make_response

    out = make_response(resp)
    out.vary.add("Accept")
    return out
