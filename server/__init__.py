"""econplan: a knowledge graph of Chinese city development plans.

``server.kg`` (the data: source, curation, build, store, writes, validation) and
``server.sparql`` (the protocol, the runner, the endpoint, saved queries) import neither
Flask, werkzeug nor click; ``server.web`` is the Flask app, ``server.serve`` the HTTP server
and ``server.cli`` the command line.  ``create_app`` is imported from server.web on first use.
"""
from __future__ import annotations

__all__ = ["create_app"]


def create_app(config: dict | None = None):
    """The Flask app (server.web.app.create_app)."""
    from .web.app import create_app as make

    return make(config)
