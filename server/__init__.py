"""econplan web app: ``create_app(config)`` is the one place config meets Flask."""
from __future__ import annotations

import atexit
import logging
import threading
from pathlib import Path

from flask import Flask, current_app, g, jsonify, request

from .config import load_config
from .errors import KGError

__all__ = ["create_app", "get_kg", "get_executor"]


class AppState:
    """What the views need, built once per process; reloads when the data version changes."""

    def __init__(self, config: dict):
        from .store import KnowledgeGraph, current_version, version_of

        self.config = config
        self.root = Path(config["ROOT"])
        self.build_dir = Path(config["BUILD_DIR"])
        if not self.build_dir.is_absolute():
            self.build_dir = (self.root / self.build_dir).resolve()
        #: where the data lives: the build folder, or an external store's URL (STORE_URL)
        self.target = config.get("STORE_URL") or self.build_dir
        # a build folder's version costs one os.stat (store.version_of); a remote one, a query
        self._version_of = current_version if config.get("STORE_URL") else version_of
        self._lock = threading.Lock()
        # The web process reads (pages, stats) from the RocksDB store, read-only, when there is
        # one: in STORE_MODE=memory the one in-memory copy is the query workers' (they share
        # it; see executor), so the web process does not hold a second one.
        self.front_mode = config["STORE_MODE"]
        #: queries run in threads of this process, from its own store (run_queries_in_threads)
        self.query_threads = False
        if self.front_mode == "memory" and not config.get("STORE_URL") and (self.build_dir / "store").is_dir():
            self.front_mode = "disk"
        self._kg = None
        if config.get("STORE_URL"):
            self._kg = KnowledgeGraph.open(self.target, mode=self.front_mode)  # fail early if unreachable
        elif not (self.build_dir / "econplan.nq").exists():
            from .errors import StoreError

            raise StoreError(f"{self.build_dir}: no built store here; run `econplan build` first")
        # Otherwise the store is opened on first use, not here: under gunicorn this runs in the
        # master before it forks the web processes, and RocksDB used before a fork hangs in the
        # child (its background threads are not forked).  wsgi.py opens it right after the fork.
        self._executor = None
        self._library = None
        self.cache = None
        self.guard = None
        self.shared = None  # a server.shared.SharedGuardState when several processes serve
        #: called with the new version when this process has reloaded the data after a change
        self.on_new_version = None

    def current_kg(self):
        version = self._version_of(self.target)
        if self._kg is None or version != self._kg.version:
            with self._lock:
                if self._kg is None and not self.config.get("STORE_URL"):
                    from .writes import reconcile

                    reconcile(self.build_dir)  # finish a write that a crash interrupted
                    version = self._version_of(self.target)
                if self._kg is None or version != self._kg.version:
                    from .store import KnowledgeGraph

                    before = self._kg
                    self._kg = KnowledgeGraph.up_to_date(before, self.target, mode=self.front_mode,
                                                         version=version)
                    if before is not None and self.on_new_version is not None:
                        self.on_new_version(self._kg.version)
        return self._kg

    @property
    def loaded_version(self) -> str | None:
        """The version of the data this process holds now (None before the first query)."""
        return self._kg.version if self._kg is not None else None

    @property
    def kg(self):
        return self.current_kg()

    @property
    def executor(self):
        if self._executor is None:
            with self._lock:
                if self._executor is None:
                    from .executor import QueryExecutor

                    if self.query_threads:
                        from .executor import ThreadExecutor

                        self._executor = ThreadExecutor(
                            self._kg_for, size=self.config["QUERY_WORKERS"],
                            timeout=self.config["QUERY_TIMEOUT"], queue_timeout=self.config["QUEUE_TIMEOUT"])
                    else:
                        self._executor = QueryExecutor(
                            str(self.target), size=self.config["QUERY_WORKERS"],
                            mode=self.config["STORE_MODE"], timeout=self.config["QUERY_TIMEOUT"],
                            queue_timeout=self.config["QUEUE_TIMEOUT"])
                    atexit.register(self._executor.close)
        return self._executor

    def _kg_for(self, version: str):
        """The store for a job made on data ``version`` (the one the request saw, if current)."""
        kg = self._kg
        return kg if kg is not None and kg.version == version else self.current_kg()

    def run_queries_in_threads(self) -> None:
        """SERVER=granian: queries run in threads of this process, from this process's own store
        (in memory in STORE_MODE=memory), instead of in query-worker processes."""
        self.query_threads = True
        self.front_mode = self.config["STORE_MODE"]
        self._kg = None if not self.config.get("STORE_URL") else self._kg

    @property
    def library(self):
        if self._library is None:
            try:
                from .query_library import load_library
            except ImportError:  # pragma: no cover - during development
                return {}
            self._library = load_library(self.root / "queries")
        return self._library

    def close(self):
        if self._executor is not None:
            self._executor.close()
            self._executor = None


def get_state() -> AppState:
    return current_app.extensions["econplan"]


def get_kg():
    return get_state().current_kg()


def get_executor():
    return get_state().executor


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app. ``config`` overrides settings (see server.config.SETTINGS)."""
    cfg = load_config(config or {})
    logging.basicConfig(level=getattr(logging, str(cfg["LOG_LEVEL"]).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__)
    app.config.update(cfg)
    app.config["MAX_CONTENT_LENGTH"] = max(cfg["MAX_REQUEST_BYTES"], cfg["MAX_LOAD_BYTES"])
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["econplan"] = AppState(cfg)
    if cfg["EAGER_WORKERS"]:
        app.extensions["econplan"].executor  # start the query workers now, not on the first query

    from . import api

    app.register_blueprint(api.bp)
    try:
        from . import pages
    except ImportError:  # pragma: no cover - pages are optional during development
        pages = None
    if pages is not None:
        app.register_blueprint(pages.bp)

    @app.errorhandler(KGError)
    def _kg_error(exc: KGError):
        if exc.status >= 500 and exc.code not in ("timeout", "busy"):
            logging.getLogger("econplan").error("%s %s: %s", request.method, request.path, exc.message)
        if _wants_html() and pages is not None:
            return pages.error_page(exc.status, exc.message)
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(404)
    def _not_found(exc):
        return _kg_error(KGError(f"nothing at {request.path}", status=404))

    @app.errorhandler(405)
    def _method(exc):
        return _kg_error(KGError(f"method {request.method} is not allowed on {request.path}", status=405))

    @app.errorhandler(413)
    def _too_large(exc):
        return _kg_error(KGError("the request body is larger than this server accepts "
                                 f"({app.config['MAX_CONTENT_LENGTH']} bytes)", status=413))

    @app.errorhandler(400)
    def _bad_request(exc):
        return _kg_error(KGError(f"bad request: {getattr(exc, 'description', '')}", status=400))

    @app.errorhandler(Exception)
    def _internal(exc):
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return _kg_error(KGError(exc.description or exc.name, status=exc.code or 500))
        logging.getLogger("econplan").exception("unhandled error on %s %s", request.method, request.path)
        return _kg_error(KGError("internal error; it has been logged", status=500))

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        if app.config["CORS"]:
            resp.headers["Access-Control-Allow-Origin"] = "*"
            resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            resp.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept, Authorization, If-None-Match"
            resp.headers["Access-Control-Expose-Headers"] = "ETag, X-Result-Truncated, X-Result-Rows"
        return resp

    return app


def _wants_html() -> bool:
    if request.path.startswith(("/sparql", "/update", "/load", "/api")) or \
            request.path.endswith((".json", ".csv", ".tsv", ".ttl")):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]
