"""The query answer of the SPARQL endpoint, without Flask: checks, ETag revalidation, the
response cache, the guard (timeout memo, heavy queries per client, identical queries in
flight evaluated once) and the killable executor.

Two callers: the Flask view (server.api.run_query) and the WSGI fast path (server.fastpath),
which answers plain query requests on /sparql without Flask's per-request cost.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from .errors import KGError
from .executor import NATIVE_MAX_BYTES, Job, QueryTimeout, Stream
from .protocol import ProtocolError, looks_like_update
from .sparql.calls import check_remote_calls
from .sparql.fairness import check_turned_heavy
from .sparql.limits import check_query_text
from .vocab import PREFIXES_FOR_QUERIES


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


class _Flight:
    """One evaluation that identical requests arriving meanwhile wait for."""

    __slots__ = ("done", "answer", "error")

    def __init__(self):
        self.done = Lock()  # held until the evaluation ends (cheaper than an Event)
        self.done.acquire()
        self.answer = None   # an executor.Answer (a Stream is not shared)
        self.error: KGError | None = None


class Guard:
    """Bookkeeping for heavy queries: timeouts to refuse, heavy queries per client, and
    identical queries in flight (evaluated once).  The first two are shared by the server's
    processes when ``shared`` (a server.shared.SharedGuardState) is given; the coalescing of
    identical queries is per process."""

    def __init__(self, shared=None):
        self.shared = shared
        if shared is not None:  # the shared tables answer these
            self.refuse_until, self.remember_timeout = shared.refuse_until, shared.remember_timeout
            self.admit, self.heavy, self.leave = shared.admit, shared.heavy, shared.leave
        self.lock = Lock()
        self.timed_out: dict[str, float] = {}          # cache key -> refuse until (monotonic)
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

    def refuse_until(self, key: str) -> float | None:
        import time

        with self.lock:
            until = self.timed_out.get(key)
            if until is not None and until < time.monotonic():
                del self.timed_out[key]
                until = None
            return until

    def remember_timeout(self, key: str, seconds: float) -> None:
        import time

        if seconds > 0:
            with self.lock:
                if len(self.timed_out) > 10000:
                    self.timed_out.clear()
                self.timed_out[key] = time.monotonic() + seconds

    def admit(self, client: str, max_heavy: int) -> None:
        """Raise 429 when ``client`` already has ``max_heavy`` heavy queries running (see heavy)."""
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


def _guard(state) -> Guard:
    if state.guard is None:
        with state._lock:
            if state.guard is None:
                state.guard = Guard(state.shared)
    return state.guard


def _cache(state, size: int) -> ResponseCache:
    if state.cache is None:
        with state._lock:
            if state.cache is None:
                state.cache = ResponseCache(size)
    return state.cache


@dataclass
class Reply:
    """An HTTP answer: status, the endpoint's own headers, and the body (bytes, or an
    iterable of chunks for a streamed answer)."""
    status: int
    headers: list
    body: object
    version: str | None = None  # the data version it was answered on


def _etag_matches(etag: str, header: str | None) -> bool:
    if not header:
        return False
    from werkzeug.http import parse_etags

    etags = parse_etags(header)
    return etag in etags.as_set(True) or etags.contains_raw(etag)


def _read_only(sparql: str) -> None:
    """Raise 403 if ``sparql`` is an update: called only once it was refused for another reason
    (it did not parse as a query, or names a SERVICE), so that an update sent to /sparql gets the
    same 403 whatever else is wrong with it, while a query pays nothing for the check."""
    if looks_like_update(sparql):
        raise ProtocolError("this endpoint is read-only: send SPARQL Update to /update with a "
                            "token (every change is validated by the SHACL shapes)", status=403)


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
    seconds after it started (the executor calls back)."""
    if len(sparql) > cfg["MAX_QUERY_LENGTH"]:
        raise KGError(f"the query is {len(sparql)} characters long; the limit is "
                      f"{cfg['MAX_QUERY_LENGTH']}", status=413)
    try:  # before the engine sees the text: limits that keep its parser from crashing, then SERVICE
        check_query_text(sparql), check_remote_calls(sparql, allowlist=cfg["SERVICE_ALLOWLIST"], base_iri=base_url, prefixes=PREFIXES_FOR_QUERIES)
    except KGError:
        _read_only(sparql)
        raise
    kg = state.current_kg()
    # repr() of a tuple of strings and numbers is unambiguous, and cheaper than json.dumps
    key_src = repr((kg.version, base_url, sparql, accept or "", fmt or "", tuple(default_graphs),
                    tuple(named_graphs), tuple(sorted(substitutions.items())) if substitutions else (),
                    cfg["MAX_ROWS"]))
    etag = '"' + hashlib.sha1(key_src.encode()).hexdigest()[:20] + '"'
    if _etag_matches(etag, if_none_match):
        return Reply(304, [("ETag", etag), ("Cache-Control", "no-cache")], b"", kg.version)
    cache = _cache(state, cfg["CACHE_SIZE"])
    answer = cache.get(etag)
    if answer is None:
        guard = _guard(state)
        if guard.refuse_until(etag) is not None:
            raise QueryTimeout("this query was stopped at the time limit a moment ago on the same data, "
                               "so it is refused for now (TIMEOUT_MEMO); make it more selective or add a LIMIT")
        job = Job(sparql=sparql, accept=accept, format=fmt, default_graphs=list(default_graphs),
                  named_graphs=list(named_graphs), substitutions=substitutions,
                  max_rows=cfg["MAX_ROWS"], version=kg.version, base_iri=base_url,
                  stream_after=max(cfg["STREAM_AFTER"], NATIVE_MAX_BYTES) if http10 else cfg["STREAM_AFTER"])
        max_heavy = cfg["MAX_HEAVY_PER_CLIENT"]

        def evaluate():
            tickets, refused = [], []

            def turned_heavy():  # only a query that turns heavy can be refused (sparql.fairness)
                try:
                    guard.admit(client, max_heavy)
                except KGError as exc:
                    refused.append(exc)
                    return False  # stop it
                tickets.append(guard.heavy(client))

            slow = (cfg["HEAVY_AFTER"], turned_heavy) if max_heavy else None
            try:
                return state.executor.run(job, slow=slow)
            except QueryTimeout:
                if refused:
                    raise refused[0] from None
                guard.remember_timeout(etag, cfg["TIMEOUT_MEMO"])
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
