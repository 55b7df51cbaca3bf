"""The query answer of the SPARQL endpoint, without Flask: checks, ETag revalidation, the one
answer cache, the guard (timeout memo, heavy queries per client, identical queries in flight
evaluated once) and the runner.  Called by the Flask views (server.web.api.run_query), for
/sparql and for saved queries alike.  The guard's state is per process.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from ..kg.errors import KGError
from ..kg.vocab import PREFIXES_FOR_QUERIES
from .calls import check_remote_calls
from .fairness import check_turned_heavy
from .limits import check_query_text
from .runner import NATIVE_MAX_BYTES, Job, QueryTimeout, Stream
from .protocol import ProtocolError, looks_like_update


class ResponseCache:
    """Query responses keyed by (dataset version, request); LRU, thread-safe."""

    def __init__(self, size: int):
        self.size, self._d, self._lock = size, OrderedDict(), Lock()

    def get(self, key):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def put(self, key, value):
        if self.size <= 0:
            return
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)


class TimeoutMemo:
    """Queries that hit the time limit, refused at once for ``seconds`` by every worker process of
    the server: one empty file per query (named by its ETag, which includes the data version) in a
    folder the processes share (server.serve makes it; a lone process uses its own).  A query that
    is not in it costs one failed ``stat``."""

    def __init__(self, folder, seconds: float):
        import os

        self.folder, self.seconds, self._os = folder, float(seconds), os

    def _path(self, key: str) -> str:
        if self.folder is None:  # made on the first timeout
            import tempfile

            self.folder = tempfile.mkdtemp(prefix="econplan-memo-")
        return self._os.path.join(self.folder, key.strip('"'))

    def refused(self, key: str) -> bool:
        if self.seconds <= 0 or self.folder is None:
            return False
        import time

        try:
            return self._os.stat(self._path(key)).st_mtime + self.seconds > time.time()
        except OSError:
            return False

    def remember(self, key: str) -> None:
        if self.seconds <= 0:
            return
        try:
            with open(self._path(key), "wb"):
                pass
        except OSError:  # (the folder is gone: the server is stopping)
            pass


class _Flight:
    """One evaluation that identical requests arriving meanwhile wait for."""

    __slots__ = ("done", "answer", "error")

    def __init__(self):
        self.done = Lock()  # held until the evaluation ends (cheaper than an Event)
        self.done.acquire()
        self.answer = None   # a runner.Answer (a Stream is not shared)
        self.error: KGError | None = None


class Guard:
    """Bookkeeping for heavy queries, in this process: heavy queries per client, and identical
    queries in flight (evaluated once)."""

    def __init__(self):
        self.lock = Lock()
        self.inflight: dict[str, set[int]] = {}  # client -> tickets of its heavy queries
        self.ticket = 0
        self.flights: dict[str, _Flight] = {}          # cache key -> its evaluation in progress

    def once(self, key: str, evaluate, wait: float):
        """``evaluate()``, unless the same request (same key) is being evaluated already: then
        wait for that evaluation and share its answer, or its error (a timeout included).

        Without this, N copies of a pathological query sent at once would hold N query
        workers until the time limit; with it they hold one.  A streamed answer cannot be
        shared: a request that waited for one evaluates its own.
        """
        with self.lock:
            flight = self.flights.get(key)
            leader = flight is None
            if leader:
                flight = self.flights[key] = _Flight()
        if not leader:
            if flight.done.acquire(timeout=wait):
                flight.done.release()  # (for the other waiters)
                if flight.error is not None and flight.error.code != "too-many-heavy-queries":
                    e = flight.error  # (that one was about the other request's client)
                    raise KGError(e.message, status=e.status, code=e.code, **(e.details or {}))
                elif flight.answer is not None:
                    return flight.answer
            return evaluate()
        try:
            answer = evaluate()
            if not isinstance(answer, Stream):
                flight.answer = answer
            return answer
        except KGError as exc:
            flight.error = exc
            raise
        finally:
            with self.lock:
                self.flights.pop(key, None)
            flight.done.release()

    def admit(self, client: str, max_heavy: int) -> None:
        """Called when a query of ``client`` turns heavy: raise TooManyHeavyQueries (429) when the
        client already has ``max_heavy`` heavy queries running (server.sparql.fairness)."""
        if not max_heavy or not self.inflight:
            return
        with self.lock:
            heavy = len(self.inflight.get(client, ()))
        check_turned_heavy(client, heavy, max_heavy)

    def heavy(self, client: str) -> int:
        """Count in a query of ``client`` that has run past HEAVY_AFTER; returns a ticket for
        leave().  Only such queries are counted, so a quick query costs no bookkeeping."""
        with self.lock:
            self.ticket += 1
            self.inflight.setdefault(client, set()).add(self.ticket)
            return self.ticket

    def leave(self, client: str, ticket: int) -> None:
        with self.lock:
            mine = self.inflight.get(client, set())
            mine.discard(ticket)
            if not mine:
                self.inflight.pop(client, None)


@dataclass
class Reply:
    """An HTTP answer: status, the endpoint's own headers, and the body (bytes, or an
    iterable of chunks for a streamed answer)."""
    status: int
    headers: list
    body: object
    version: str | None = None  # the data version it was answered on


def _etag_matches(etag: str, header: str | None) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, as RFC 9110 asks for
    If-None-Match; ``*`` matches any)."""
    if not header:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or (tag[2:] if tag.startswith("W/") else tag) == etag:
            return True
    return False


def _read_only(sparql: str) -> None:
    """Raise 403 if ``sparql`` is an update: called only once it was refused for another reason
    (it did not parse as a query, or names a SERVICE), so that an update sent to /sparql gets the
    same 403 whatever else is wrong with it, while a query pays nothing for the check."""
    if looks_like_update(sparql):
        raise ProtocolError("this endpoint is read-only: send SPARQL Update to /update with a "
                            "token (every change is validated by the SHACL shapes)", status=403)


def check_query(sparql: str, cfg, *, base_iri: str | None = None) -> None:
    """Every check a query's text passes before it is evaluated: the one place for them (the
    query path of /sparql and of saved queries both come through answer_query).  First the
    length and the structural limits that keep pyoxigraph's parser from crashing
    (server.sparql.limits), then the endpoints it would call, read from its parse
    (server.sparql.calls)."""
    if len(sparql) > cfg["MAX_QUERY_LENGTH"]:
        raise KGError(f"the query is {len(sparql)} characters long; the limit is "
                      f"{cfg['MAX_QUERY_LENGTH']}", status=413)
    try:
        check_query_text(sparql)
        check_remote_calls(sparql, allowlist=cfg["SERVICE_ALLOWLIST"], base_iri=base_iri,
                           prefixes=PREFIXES_FOR_QUERIES)
    except KGError:
        _read_only(sparql)
        raise


def check_update(sparql_update: str, cfg, *, base_iri: str | None = None) -> None:
    """Every check an update's text passes before it is applied (the one place for them: /update
    calls it before server.kg.writes.update): the same structural limits as a query's, and its
    LOAD and SERVICE endpoints held to the same allow-list."""
    check_query_text(sparql_update, update=True)
    check_remote_calls(sparql_update, update=True, allowlist=cfg["SERVICE_ALLOWLIST"], base_iri=base_iri,
                       prefixes=PREFIXES_FOR_QUERIES)


def answer_query(state, cfg, sparql: str, *, accept: str | None, fmt: str | None, default_graphs=(),
                 named_graphs=(), substitutions: dict | None = None, base_url: str,
                 if_none_match: str | None = None, client: str = "-", http10: bool = False) -> Reply:
    """Answer a read query; raises KGError (the caller renders it) for anything but an answer.

    ``http10``: the request came over HTTP/1.0, which has no chunked encoding, so that a streamed
    answer cut short (at the time limit) would end just as a whole one does, and the client could
    not tell.  Such a client gets its answer whole, with a Content-Length, up to NATIVE_MAX_BYTES
    (8 MiB); only a larger one is streamed (that is all that HTTP/1.0 allows without holding it all).

    Costs are kept off the usual path, a query that parses and runs quickly: an update sent
    here is recognised only once it has failed to parse as a query (_read_only), and a query
    is counted as heavy for MAX_HEAVY_PER_CLIENT only if it is still running HEAVY_AFTER
    seconds after it started (the runner calls back), and only then can it be refused (429)."""
    check_query(sparql, cfg, base_iri=base_url)
    kg = state.current_kg()
    # repr() of a tuple of strings and numbers is unambiguous, and cheaper than json.dumps
    key_src = repr((kg.version, base_url, sparql, accept or "", fmt or "", tuple(default_graphs),
                    tuple(named_graphs), tuple(sorted(substitutions.items())) if substitutions else (),
                    cfg["MAX_ROWS"]))
    etag = '"' + hashlib.sha1(key_src.encode()).hexdigest()[:20] + '"'
    if _etag_matches(etag, if_none_match):
        return Reply(304, [("ETag", etag), ("Cache-Control", "no-cache")], b"", kg.version)
    cache = state.cache
    answer = cache.get(etag)
    if answer is None:
        if state.memo.refused(etag):
            raise QueryTimeout("this query was stopped at the time limit a moment ago on the same data, "
                               "so it is refused for now (TIMEOUT_MEMO); make it more selective or add a LIMIT")
        guard = state.guard
        job = Job(sparql=sparql, accept=accept, format=fmt, default_graphs=list(default_graphs),
                  named_graphs=list(named_graphs), substitutions=substitutions,
                  max_rows=cfg["MAX_ROWS"], version=kg.version, base_iri=base_url,
                  stream_after=max(cfg["STREAM_AFTER"], NATIVE_MAX_BYTES) if http10 else cfg["STREAM_AFTER"])
        max_heavy = cfg["MAX_HEAVY_PER_CLIENT"]

        def evaluate():
            tickets = []

            def turned_heavy():  # only a query that turns heavy can be refused (server.sparql.fairness)
                guard.admit(client, max_heavy)  # 429 past MAX_HEAVY_PER_CLIENT: the runner lets it go
                tickets.append(guard.heavy(client))

            slow = (cfg["HEAVY_AFTER"], turned_heavy) if max_heavy else None
            try:
                return state.runner.run(job, slow=slow)
            except QueryTimeout:
                state.memo.remember(etag)
                raise
            finally:
                for ticket in tickets:
                    guard.leave(client, ticket)

        try:
            answer = guard.once(etag, evaluate, wait=cfg["QUERY_TIMEOUT"] + cfg["QUEUE_TIMEOUT"] + 5)
        except KGError as exc:
            if exc.code == "bad-query":
                _read_only(sparql)
            raise
        # a large answer is sent as it comes, not cached (nor one sent whole only for HTTP/1.0)
        if not isinstance(answer, Stream) and len(answer.body) <= cfg["STREAM_AFTER"]:
            cache.put(etag, answer)
    media_type = answer.media_type
    if media_type.startswith("text/") or media_type.endswith(("json", "xml")):
        media_type += "; charset=utf-8"
    headers = [("Content-Type", media_type), ("ETag", etag), ("Cache-Control", "no-cache"),
               ("Vary", "Accept")]
    if answer.rows is not None:
        headers.append(("X-Result-Rows", str(answer.rows)))
    if answer.truncated:
        headers.append(("X-Result-Truncated", "true"))
        headers.append(("Warning", f'199 - "result truncated to {cfg["MAX_ROWS"]} rows (MAX_ROWS)"'))
    return Reply(200, headers, answer.chunks if isinstance(answer, Stream) else answer.body, kg.version)
