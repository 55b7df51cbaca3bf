"""Search (server/kg/search.py) and what the data cannot answer (server/kg/unanswerable.py):
thin views; a page for browsers, the same as JSON for ``Accept: application/json`` or
``?format=json``; and the site icon at /favicon.ico."""
from __future__ import annotations

from html import escape as html_escape
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app, jsonify, render_template, request

from ..kg.errors import KGError
from .app import get_kg, get_state
from .i18n import lang
from .pages import bp
from .terms import local_url

SEARCH_TEXTS = {
    "title": ("搜索", "Search"),
    "label": ("搜索指标、地区、项目、政策、保存的查询和报告原文",
              "Search indicators, areas, projects, policies, saved queries and the report's sentences"),
    "button": ("搜索", "Search"),
    "none": ("没有找到“{q}”。", "Nothing found for “{q}”."),
    "more": ("另有 {n} 条", "{n} more"),
    "facts": ("{n} 个事实", "{n} facts"),
    "within": ("属{name}", "in {name}"),
    "cannot": ("数据无法回答的问题", "What the data cannot answer"),
}


def _wants_json() -> bool:
    return request.args.get("format") == "json" or request.accept_mimetypes.best_match(
        ["text/html", "application/json"]) == "application/json"


@bp.route("/search")
def search_page():
    from ..kg import search as S

    lg = lang()
    q = request.args.get("q", "")
    limit = request.args.get("limit", str(S.DEFAULT_LIMIT))
    if not limit.isdigit():
        raise KGError("limit must be a positive whole number", status=400)
    as_json = _wants_json()
    words = {k: v[0 if lg == "zh" else 1] for k, v in SEARCH_TEXTS.items()}
    if not q.strip() and not as_json:
        return render_template("search.html", q="", result=None, words=words)
    from ..kg import unanswerable

    root = get_state().root
    index = S.index_for(get_kg(), root / "queries", unanswerable.load(root)["questions"])
    result = S.search(index, q, lang=lg, limit=int(limit))
    for g_ in result["groups"]:
        for r in g_["results"]:
            if "slug" in r:
                r["url"] = "/queries/" + quote(r["slug"])
            elif "id" in r:
                r["url"] = "/cannot-answer#" + quote(r["id"])
            else:
                r["url"] = local_url(r["iri"]) or r["iri"]
            r["html"] = S.highlight(r["snippet"]["text"], r["snippet"]["spans"], escape=html_escape)
    if as_json:
        return jsonify({"ok": True, **result})
    return render_template("search.html", q=result["query"], result=result, words=words)


@bp.route("/cannot-answer")
def cannot_answer():
    """What the data cannot answer (docs/cannot-answer.yaml), as a page or JSON."""
    from ..kg import unanswerable

    state = get_state()
    doc = unanswerable.load(state.root)
    if _wants_json():
        return jsonify({"ok": True, **doc})
    library = state.library
    titles = {slug: library[slug].title for q in doc["questions"] for slug in q["queries"] if slug in library}
    return render_template("cannot_answer.html", doc=doc, titles=titles)


@bp.route("/favicon.ico")
def favicon():
    """The icon browsers ask for at the root (a copy of favicon.svg as a 16/32-pixel ICO)."""
    folder = Path(current_app.static_folder or "")
    resp = Response((folder / "favicon.ico").read_bytes(), mimetype="image/vnd.microsoft.icon")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp
