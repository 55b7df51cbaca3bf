"""A WSGI app that answers every request with the same bytes (bench/ceiling.py's bare server).

The bytes are read once from the file named by BARE_ANSWER.  It reads the request body (as a
server must, to keep the connection usable) and does nothing else.
"""
import os

_ANSWER = open(os.environ["BARE_ANSWER"], "rb").read()
_HEADERS = [("Content-Type", "application/sparql-results+json"), ("Content-Length", str(len(_ANSWER)))]


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("200 OK", _HEADERS)
    return [_ANSWER]


def _flask_app():
    """The same answer from a Flask app with one route and nothing else: the least any request
    that takes a Flask path costs."""
    from flask import Flask, Response, request

    flask_app = Flask("bare")

    @flask_app.route("/sparql", methods=["GET", "POST"])
    def sparql():
        request.get_data()
        return Response(_ANSWER, content_type="application/sparql-results+json")

    return flask_app


flask = _flask_app()
