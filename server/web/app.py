"""The web app: ``create_app(config)`` is the one place config meets Flask.

One error policy (``_error``: a KGError, or any HTTP error, becomes the JSON envelope, or an
HTML page for a browser) and one header policy (``_headers``: security headers and CSP on
every answer, CORS on the read routes only, caching of vendored assets, gzip of pages) are
registered here; the resources (server.web.api, server.web.pages) only answer.
"""
from __future__ import annotations

import atexit
import logging
import threading
from pathlib import Path

from flask import Flask, current_app, g, jsonify, request

from ..config import load_config
from ..kg.errors import KGError, StoreError

__all__ = ["create_app", "get_kg", "get_state", "get_runner"]

#: the routes that write: never offered to other origins (no CORS), bodies read by read_body
WRITE_ROUTES = ("/load", "/update")


class AppState:
    """What the views need, built once per process: the store (caught up with the build
    folder's version on each request: one stat), the query runner, the answer cache, the
    guard and the saved queries."""

    def __init__(self, config: dict):
        from ..kg import builddir
        from ..kg.store import current_version, version_of
        from ..sparql.endpoint import Guard, ResponseCache, TimeoutMemo

        self.config = config
        self.root = Path(config["ROOT"])
        self.build_dir = Path(config["BUILD_DIR"])
        if not self.build_dir.is_absolute():
            self.build_dir = (self.root / self.build_dir).resolve()
        #: where the data lives: the build folder, or an external store's URL (STORE_URL)
        self.target = config.get("STORE_URL") or self.build_dir
        self._version_of = current_version if config.get("STORE_URL") else version_of
        self._lock = threading.Lock()
        self._kg = None
        self._runner = None
        self._library = None
        self.cache = ResponseCache(config["CACHE_SIZE"])
        self.guard = Guard()
        # server.serve gives one folder to all its worker processes; alone, a process makes its own
        self.memo = TimeoutMemo(config.get("MEMO_DIR"), config["TIMEOUT_MEMO"])
        if config.get("STORE_URL"):
            self.current_kg()  # fail early if unreachable
        elif not builddir.is_built(self.build_dir):
            raise StoreError(f"{self.build_dir}: no built store here; run `econplan build` first")

    def current_kg(self):
        """The store at the current data version: a new version (a load, here or in another
        process) is applied to the store this process holds (KnowledgeGraph.up_to_date)."""
        version = self._version_of(self.target)
        kg = self._kg
        if kg is None or version != kg.version:
            with self._lock:
                if self._kg is None and not self.config.get("STORE_URL"):
                    version = self._version_of(self.target)
                if self._kg is None or version != self._kg.version:
                    from ..kg.store import KnowledgeGraph

                    self._kg = KnowledgeGraph.up_to_date(self._kg, self.target, mode=self.config["STORE_MODE"],
                                                         version=version)
                kg = self._kg
        return kg

    @property
    def kg(self):
        return self.current_kg()

    @property
    def writer_kg(self):
        """For a write: how to get this process's in-memory store at the current version (the
        write's base, server.kg.writes), or None when it has none (disk mode, external store)."""
        if self.config.get("STORE_URL") or self.config["STORE_MODE"] != "memory":
            return None
        return self.current_kg

    @property
    def runner(self):
        if self._runner is None:
            with self._lock:
                if self._runner is None:
                    from ..sparql.runner import Runner

                    cfg = self.config
                    self._runner = Runner(self._kg_for, size=cfg["QUERY_WORKERS"], timeout=cfg["QUERY_TIMEOUT"],
                                          queue_timeout=cfg["QUEUE_TIMEOUT"], memory=cfg["QUERY_MEMORY"],
                                          yield_after=cfg["HEAVY_AFTER"])
                    atexit.register(self._runner.close)
        return self._runner

    def _kg_for(self, version: str):
        """The store for a job made on data ``version`` (the one the request saw, if current)."""
        kg = self._kg
        return kg if kg is not None and kg.version == version else self.current_kg()

    @property
    def library(self):
        if self._library is None:
            from ..sparql.library import load_library

            self._library = load_library(self.root / "queries")
        return self._library

    def close(self):
        if self._runner is not None:
            self._runner.close()
            self._runner = None


def get_state() -> AppState:
    return current_app.extensions["econplan"]


def get_kg():
    return get_state().current_kg()


def get_runner():
    return get_state().runner


def read_body(limit: int, setting: str) -> bytes:
    """The request body, read with an explicit limit: more than ``limit`` bytes, announced
    (Content-Length) or sent (a chunked body), is 413 before anything is done with it."""
    too_big = KGError(f"the body is larger than {limit} bytes ({setting})", status=413)
    if request.content_length is not None and request.content_length > limit:
        raise too_big
    stream = request.environ.get("wsgi.input")
    if request.content_length is None and stream is not None and \
            "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        parts, size = [], 0
        while True:
            piece = stream.read(min(65536, limit + 1 - size))
            if not piece:
                break
            parts.append(piece)
            size += len(piece)
            if size > limit:
                raise too_big
        return b"".join(parts)
    body = request.get_data(cache=False)
    if len(body) > limit:
        raise too_big
    return body


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app. ``config`` overrides settings (see server.config.SETTINGS)."""
    cfg = load_config(config or {})
    logging.basicConfig(level=getattr(logging, str(cfg["LOG_LEVEL"]).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__)
    app.config.update(cfg)
    # werkzeug's own cap, for bodies read without read_body (forms); read_body gives the 413s
    app.config["MAX_CONTENT_LENGTH"] = max(cfg["MAX_REQUEST_BYTES"], cfg["MAX_LOAD_BYTES"]) + 1
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["econplan"] = AppState(cfg)

    from . import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    _register_errors(app, pages)
    app.after_request(_headers)
    return app


# -- the one error policy ---------------------------------------------------------------------

def _register_errors(app: Flask, pages) -> None:
    def _kg_error(exc: KGError):
        if exc.status >= 500 and exc.code not in ("timeout", "busy", "memory-limit"):
            logging.getLogger("econplan").error("%s %s: %s", request.method, request.path, exc.message)
        if _wants_html():
            return pages.error_page(exc.status, exc.message)
        return jsonify(exc.to_dict()), exc.status

    messages = {
        404: lambda e: f"nothing at {request.path}",
        405: lambda e: f"method {request.method} is not allowed on {request.path}",
        413: lambda e: f"the request body is larger than this server accepts ({app.config['MAX_CONTENT_LENGTH'] - 1} bytes)",
        400: lambda e: f"bad request: {getattr(e, 'description', '')}",
    }

    @app.errorhandler(Exception)
    def _error(exc):
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, KGError):
            return _kg_error(exc)
        if isinstance(exc, HTTPException):
            code = exc.code or 500
            message = messages[code](exc) if code in messages else (exc.description or exc.name)
            return _kg_error(KGError(message, status=code))
        logging.getLogger("econplan").exception("unhandled error on %s %s", request.method, request.path)
        return _kg_error(KGError("internal error; it has been logged", status=500))


def _wants_html() -> bool:
    if request.path.startswith(("/sparql", "/update", "/load", "/api")) or \
            request.path.endswith((".json", ".csv", ".tsv", ".ttl")):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]


# -- the one header policy --------------------------------------------------------------------

def _headers(resp):
    from .i18n import LANG_COOKIE
    from .pages import CSP, compress

    h = resp.headers
    extra = g.get("csp_style", ())
    h["Content-Security-Policy"] = CSP.format(style="".join(" " + x for x in extra))
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["CORS"] and not request.path.startswith(WRITE_ROUTES):
        h["Access-Control-Allow-Origin"] = "*"
        h["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        h["Access-Control-Allow-Headers"] = "Content-Type, Accept, If-None-Match"
        h["Access-Control-Expose-Headers"] = "ETag, X-Result-Truncated, X-Result-Rows"
    if "set_lang_cookie" in g:
        resp.set_cookie(LANG_COOKIE, g.set_lang_cookie, max_age=365 * 24 * 3600,
                        samesite="Lax", httponly=True, path="/")
    if resp.mimetype == "text/html":
        resp.vary.add("Accept-Language")
        resp.vary.add("Cookie")
    if request.path.startswith("/static/vendor/"):
        h["Cache-Control"] = "public, max-age=86400"
    return compress(resp)
