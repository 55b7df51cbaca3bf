"""Production serving with gunicorn (a well-kept WSGI server; Flask's server is for development).

One gunicorn worker process with threads takes HTTP requests; the queries
themselves run in the query-worker processes of server.executor, which is
where parallelism and the hard timeout come from.
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _App(BaseApplication):
    def __init__(self, app, options):
        self.application, self.options = app, options
        super().__init__()

    def load_config(self):
        for k, v in self.options.items():
            self.cfg.set(k, v)

    def load(self):
        return self.application


def run_gunicorn(config: dict, *, host: str, port: int, workers: int = 2) -> None:
    from . import create_app

    config = dict(config, QUERY_WORKERS=max(1, workers))
    app = create_app(config)
    _App(app, {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread",
               "threads": 16, "timeout": int(config["QUERY_TIMEOUT"]) + 30,
               "accesslog": "-", "errorlog": "-", "loglevel": "info"}).run()
