"""Production serving with gunicorn (a well-kept WSGI server; Flask's server is for development).

One gunicorn worker process (the "front", 16 threads) takes HTTP requests; the
queries themselves run in the query-worker processes of server.executor, which
is where parallelism and the hard timeout come from.  The app is created once, in
the master, but it touches no RocksDB store there: RocksDB used before a fork
hangs in the child, so the front opens its store after the fork (here).

Any gunicorn setting can be overridden the usual gunicorn way, with the
``GUNICORN_CMD_ARGS`` environment variable.  ``--workers 2`` runs two fronts,
so that HTTP handling can use a second core when one is free (see
bench/RESULTS.md), each with its own QUERY_WORKERS query workers (and, in memory
mode, its own template process holding a copy of the store) and response cache;
but the per-client limit on heavy queries (MAX_HEAVY_PER_CLIENT), the timeout memo
(TIMEOUT_MEMO) and the coalescing of identical queries in flight are then kept per
front, so they are not exact.
"""
from __future__ import annotations

import logging
import os

from gunicorn.app.base import BaseApplication


class _App(BaseApplication):
    def __init__(self, app, options):
        self.application, self.options = app, options
        super().__init__()

    def load_config(self):
        for k, v in self.options.items():
            self.cfg.set(k, v)
        env = self.cfg.get_cmd_args_from_env()  # GUNICORN_CMD_ARGS
        if env:
            args = self.cfg.parser().parse_args(env)
            for k, v in vars(args).items():
                if v is not None and k != "args":
                    self.cfg.set(k.lower(), v)

    def load(self):
        return self.application


class _StreamAbortLine(logging.Filter):
    """gunicorn logs an iterator's exception with a traceback; a streamed answer cut short on
    purpose (time limit, worker death: server.executor.StreamAborted) gets one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .executor import StreamAborted

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, StreamAborted):
            record.msg, record.args = "streamed answer cut short: %s", (str(exc),)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _post_worker_init(worker) -> None:
    """In each front, after the fork: start its query workers (EAGER_WORKERS)."""
    logging.getLogger("gunicorn.error").addFilter(_StreamAbortLine())
    app = worker.app.application
    app.extensions["econplan"].current_kg()  # open the store here, after the fork (see AppState)
    if app.config.get("EAGER_WORKERS"):
        app.extensions["econplan"].executor  # noqa: B018 - starts this front's query workers


def run_gunicorn(config: dict, *, host: str, port: int, workers: int = 2) -> None:
    from . import create_app

    eager = bool(config.get("EAGER_WORKERS", True))
    # Query workers are started in the front after gunicorn forks it, never in the master
    # (a pool made before the fork would be shared by every front with --workers 2).
    config = dict(config, QUERY_WORKERS=max(1, workers), EAGER_WORKERS=False)
    app = create_app(config)
    app.config["EAGER_WORKERS"] = eager
    level = str(config.get("LOG_LEVEL", "INFO")).lower()
    level = {"warn": "warning", "fatal": "critical"}.get(level, level)
    if level not in ("debug", "info", "warning", "error", "critical"):
        level = "info"
    # One access-log line per request at INFO and DEBUG (it costs about 0.1 ms of CPU a
    # request, a tenth of a cached answer); LOG_LEVEL=WARNING or above turns it off.
    access = "-" if level in ("debug", "info") else None
    _App(app, {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread",
               "threads": 16, "timeout": int(config["QUERY_TIMEOUT"]) + 30,
               "accesslog": access, "errorlog": "-", "loglevel": level,
               "post_worker_init": _post_worker_init}).run()
