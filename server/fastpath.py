"""The fast path: plain SPARQL queries on /sparql answered without Flask.

A lookup costs ``oxigraph serve`` under 0.1 ms of CPU; Flask's request and response
objects, routing and hooks cost ten times that (bench/RESULTS.md, "Where the lookup
throughput goes").  So under SERVER=granian the WSGI callable is this middleware: a GET or
POST on /sparql that carries a query goes straight to server.endpoint.answer_query (the same
function the Flask view calls: the same checks, ETag, cache, guard and executor) and is
answered here, with the headers the Flask app would add.  Everything else (other paths,
OPTIONS and HEAD, the service description, a body without a length or over the limit, a
request the protocol parser refuses) is passed to the Flask app unchanged, so that it is
answered, and its error worded, in one place.  tests/test_fastpath.py checks that both paths
give the same status, headers and body for the same requests.

A request byte-identical to one answered before with a 200 (see _replay_key) is given the same
answer again, without parsing, as long as the data version has not changed since: the version
is checked on every request, so no answer outlives a load, whoever made it.
"""
from __future__ import annotations

import io
import json
import logging
import threading
from .endpoint import answer_query
from .sparql.fairness import client_address
from .errors import KGError
from .protocol import parse_query_string, parse_sparql_request, without_chunked_encoding

log = logging.getLogger("econplan")

def _status(code: int) -> str:  # as werkzeug writes it
    from werkzeug.http import HTTP_STATUS_CODES

    return f"{code} {HTTP_STATUS_CODES.get(code, 'UNKNOWN').upper()}"


_REASONS = {code: _status(code) for code in (200, 304, 400, 403, 404, 406, 413, 415, 429, 500, 503)}


def static_headers(cfg) -> list[tuple[str, str]]:
    """The headers that the Flask app's after-request hooks add to a /sparql answer
    (server.create_app._headers and server.pages._security_headers)."""
    from .pages import CSP

    out = [("X-Content-Type-Options", "nosniff")]
    if cfg["CORS"]:
        out += [("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Content-Type, Accept, Authorization, If-None-Match"),
                ("Access-Control-Expose-Headers", "ETag, X-Result-Truncated, X-Result-Rows")]
    out += [("Content-Security-Policy", CSP.format(style="")),
            ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY"),
            ("Cross-Origin-Opener-Policy", "same-origin")]
    return out


class FastPath:
    """WSGI middleware around the Flask app ``app`` (see the module docstring)."""

    def __init__(self, app):
        self.app = app
        self.state = app.extensions["econplan"]
        self.cfg = app.config
        self.static = static_headers(app.config)
        self.answered = 0  # requests answered here rather than by the Flask app (for the tests)
        #: answers replayed for byte-identical requests (see _replay_key), each with the data
        #: version it was made on: request -> (version, status line, headers, body)
        self.replies: dict = {}
        self.replies_size = max(0, int(app.config["CACHE_SIZE"]))
        self.replayed = 0  # of the answered requests, those given a replayed answer
        #: set when this process is about to exit (server.wsgi): every answer then closes its
        #: connection, so that keep-alive clients move to another process before this one goes
        self.closing = False
        #: requests in this process not yet answered in full (a streamed answer counts until its
        #: close()); a process about to exit waits for them (server.wsgi._drain_and_exit)
        self.inflight = 0
        self.started = 0  # requests ever begun here
        self._count = threading.Lock()

    def __call__(self, environ, start_response):
        with self._count:
            self.inflight += 1
            self.started += 1
        counted = False
        try:
            body = self._answer(environ, start_response)
            if not isinstance(body, list):
                body, counted = _Counted(body, self._done), True
            return body
        finally:
            if not counted:
                self._done()

    def _done(self) -> None:
        with self._count:
            self.inflight -= 1

    def _answer(self, environ, start_response):
        if self.closing:
            start_response = _closing(start_response)
        method = environ["REQUEST_METHOD"]
        if environ.get("PATH_INFO") != "/sparql" or environ.get("SCRIPT_NAME") or method not in ("GET", "POST"):
            return self.app(environ, start_response)
        key = None
        if self.replies_size and "HTTP_IF_NONE_MATCH" not in environ and method == "GET":
            key = _replay_key(environ, b"")
            out = self._replay(key, start_response)
            if out is not None:
                return out
        body = b""
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or -1)
            except ValueError:
                length = -1
            if length < 0 or length > self.cfg["MAX_REQUEST_BYTES"]:
                return self.app(environ, start_response)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)  # for the Flask app, should it answer
            if self.replies_size and "HTTP_IF_NONE_MATCH" not in environ and length <= _REPLAY_BODY:
                key = _replay_key(environ, body)
                out = self._replay(key, start_response)
                if out is not None:
                    return out
        args = parse_query_string(environ.get("QUERY_STRING", ""))
        try:
            req = parse_sparql_request(method, environ.get("CONTENT_TYPE"), args, body)
        except KGError:
            return self.app(environ, start_response)  # the Flask app words the error
        if req.query is None or not req.query.strip():
            return self.app(environ, start_response)
        fmt = (req.params.get("format") or [None])[0]
        self.answered += 1
        try:
            reply = answer_query(self.state, self.cfg, req.query, accept=environ.get("HTTP_ACCEPT"), fmt=fmt,
                                 default_graphs=req.default_graphs, named_graphs=req.named_graphs,
                                 base_url=_base_url(environ), if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
                                 client=client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), self.cfg["TRUSTED_PROXIES"]),
                                 http10=without_chunked_encoding(environ))
        except KGError as exc:
            if exc.status >= 500 and exc.code not in ("timeout", "busy"):
                log.error("%s %s: %s", method, "/sparql", exc.message)
            out = json.dumps(exc.to_dict(), ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            start_response(_REASONS.get(exc.status) or _status(exc.status),
                           [("Content-Type", "application/json"), ("Content-Length", str(len(out)))] + self.static)
            return [out]
        except Exception:
            log.exception("unhandled error on %s %s", method, "/sparql")
            out = json.dumps(KGError("internal error; it has been logged", status=500).to_dict(),
                             separators=(",", ":")).encode() + b"\n"
            start_response("500 INTERNAL SERVER ERROR",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(out)))] + self.static)
            return [out]
        headers = reply.headers + self.static
        if isinstance(reply.body, bytes):
            if reply.status == 304:
                start_response("304 NOT MODIFIED", headers)
                return []
            status, headers = _REASONS[reply.status], headers + [("Content-Length", str(len(reply.body)))]
            if key is not None and reply.status == 200 and len(reply.body) <= _REPLAY_ANSWER:
                self._keep(key, (reply.version, status, headers, reply.body))
            start_response(status, headers)
            return [reply.body]
        start_response(_REASONS[reply.status], headers)
        return reply.body  # a streamed answer: its close() gives the worker back

    def _replay(self, key, start_response):
        """The answer kept for ``key``, if it was made on the current data version (else None)."""
        hit = self.replies.get(key)
        if hit is None:
            return None
        try:
            if hit[0] != self.state.current_kg().version:
                return None
        except Exception:  # noqa: BLE001 - the store cannot be read: the usual path says why
            return None
        self.answered += 1
        self.replayed += 1
        start_response(hit[1], hit[2])
        return [hit[3]]

    def _keep(self, key, reply) -> None:
        replies = self.replies
        replies[key] = reply
        while len(replies) > self.replies_size:  # the oldest goes first
            try:
                del replies[next(iter(replies))]
            except (KeyError, RuntimeError, StopIteration):  # another thread got there first
                break


#: POST bodies up to this size are keys of the replayed answers (longer ones are answered anew)
_REPLAY_BODY = 16384
#: answers up to this size are replayed (so the replayed answers of a process take at most
#: CACHE_SIZE x 64 KiB; a larger answer is found in the response cache after the parsing, whose
#: cost is small beside sending it)
_REPLAY_ANSWER = 65536


def _replay_key(environ, body: bytes) -> tuple:
    """Everything of a /sparql request that its answer depends on: the method, the query
    string, the body and its type, Accept, and what makes the base URL (server.endpoint keys
    its cache and ETag on the same, once parsed).  A request without If-None-Match whose key
    was answered with a 200 on the current data version gets that answer again, without
    parsing, checks, cache key or guard: all of them would give the same result."""
    return (environ["REQUEST_METHOD"], environ.get("QUERY_STRING", ""), body, environ.get("CONTENT_TYPE"),
            environ.get("HTTP_ACCEPT"), environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"), environ.get("SERVER_PORT"))


class _Counted:
    """A response body that is not a list (streamed), counted in flight until closed."""

    def __init__(self, body, done):
        self.body, self._done, self._closed = body, done, False
        self._it = iter(body)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


def _closing(start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, list(headers) + [("Connection", "close")], exc_info)
    return start


_BASE_URLS: dict = {}


def _base_url(environ) -> str:
    """What Flask's request.base_url gives (scheme, host, path, no query string): werkzeug's
    own answer, kept for each host a client names."""
    key = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SERVER_NAME"),
           environ.get("SERVER_PORT"))
    url = _BASE_URLS.get(key)
    if url is None:
        from werkzeug.wsgi import get_current_url

        url = get_current_url(environ, strip_querystring=True)
        if len(_BASE_URLS) > 1000:
            _BASE_URLS.clear()
        _BASE_URLS[key] = url
    return url
