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
    want = request.args.get("query")
    g.csp_style = EDITOR_STYLE_HASHES
    return render_template("editor.html", config=config, queries=list(library.values()),
                           selected=want if want in library else "")


@bp.route("/editor/prefixes.json")
def editor_prefixes():
    """The prefixes for the editor's PREFIX autocompletion (instead of prefix.cc)."""
    return jsonify(dict(V.PREFIXES))


# -- entity pages and their RDF -------------------------------------------------------------
