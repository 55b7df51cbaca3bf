"""The HTML side of the app: the "pages" blueprint, whose routes live in one module per
resource (home, queries, editor, entities, docs), the words in i18n, the display of RDF terms in
terms; here the blueprint's setup, the context of every template, the error page and the
Content-Security-Policy that server.web.app's header policy applies.

Every page is rendered in Chinese or English (``?lang=zh|en``, remembered in a cookie; else
Accept-Language; else Chinese).  Pages load only self-hosted assets: the CSP allows scripts from
this server only, and no page has an inline script (data for the scripts travels in
``<script type="application/json">`` blocks and ``data-*`` attributes).  Saved-query parameters
are bound as RDF terms (sparql.library.bind_params) and handed to the runner as N-Triples
substitutions; they are never spliced into the query text.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import escape

from .i18n import lang, pick, t, url_with

bp = Blueprint("pages", __name__)


@bp.record_once
def _setup(state) -> None:
    env = state.app.jinja_env
    env.trim_blocks = True
    env.lstrip_blocks = True

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'{style}; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
#: The two <style> elements that YASGUI's result table (its bundled column-resizer) injects,
#: allowed on the editor page by their hashes rather than by 'unsafe-inline'.  The texts are
#: constants of vendor/yasgui/yasgui.min.js; tests/test_pages.py recomputes the hashes.
EDITOR_STYLE_TEXTS = (
    " .grip-resizable{table-layout:fixed;} .grip-resizable > tbody > tr > td, .grip-resizable > "
    "tbody > tr > th{overflow:hidden} .grip-padding > tbody > tr > td, .grip-padding > tbody > tr "
    "> th{padding-left:0!important; padding-right:0!important;} .grip-container{ height:0px; "
    "position:relative;} .grip-handle{margin-left:-5px; position:absolute; z-index:5; } "
    ".grip-handle .grip-resizable{position:absolute;background-color:red;filter:alpha(opacity=1);"
    "opacity:0;width:10px;height:100%;cursor: col-resize;top:0px} .grip-lastgrip{position:absolute;"
    " width:1px; } .grip-drag{ border-left:1px dotted black;\t} .grip-flex{width:auto!important;} "
    ".grip-handle.grip-disabledgrip .grip-resizable{cursor:default; display:none;}",
    "*{cursor:col-resize!important}",
)


def _sha256(text: str) -> str:
    import base64
    import hashlib

    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


EDITOR_STYLE_HASHES = tuple(_sha256(x) for x in EDITOR_STYLE_TEXTS)


@bp.app_context_processor
def _context():
    if not request:
        return {}
    path = request.path
    active = ("home" if path == "/" else "queries" if path.startswith("/queries") else
              "editor" if path.startswith("/editor") else
              "ontology" if path.startswith(("/ontology", "/def")) else
              "shapes" if path.startswith("/shapes") else None)
    return {"lang": lang, "t": t, "pick": pick, "url_with": url_with, "active": active,
            "html_lang": "zh-Hans" if lang() == "zh" else "en"}


def compress(resp: Response) -> Response:
    """gzip a generated HTML page for a client that accepts it (pages reach 100 kB and more)."""
    if (resp.mimetype != "text/html" or resp.direct_passthrough or resp.status_code != 200 or
            "Content-Encoding" in resp.headers or
            "gzip" not in request.headers.get("Accept-Encoding", "")):
        return resp
    import gzip

    body = resp.get_data()
    if len(body) < 2048:
        return resp
    resp.set_data(gzip.compress(body, compresslevel=6))
    resp.headers["Content-Encoding"] = "gzip"
    resp.vary.add("Accept-Encoding")
    return resp


def error_page(status: int, message: str):
    """An HTML error page (create_app calls this for errors of browser requests)."""
    title = {404: t("status_404"), 400: t("status_400")}.get(status, t("status_other"))
    try:
        html = render_template("error.html", status=status, title=title, message=message)
    except Exception:  # noqa: BLE001 - the error page must not fail itself
        html = (f"<!doctype html><html><head><meta charset=utf-8><title>{status}</title></head>"
                f"<body><h1>{status} {escape(title)}</h1><p>{escape(message)}</p></body></html>")
    resp = Response(html, status=status, mimetype="text/html")
    return resp


@bp.app_template_filter("num")
def _num(n) -> str:
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return str(n)


@bp.app_template_global("static_v")
def static_v(filename: str) -> str:
    """A static URL with the file's mtime, so that browsers refetch changed files."""
    folder = Path(current_app.static_folder or "")
    try:
        stamp = int((folder / filename).stat().st_mtime)
    except OSError:
        stamp = 0
    return url_for("static", filename=filename, v=stamp)


@bp.app_template_global("is_external")
def _is_external(href: str | None) -> bool:
    return bool(href) and href.startswith(("http://", "https://"))


from . import docs, editor, entities, graphs, home, queries, search  # noqa: E402,F401 - their routes join bp
