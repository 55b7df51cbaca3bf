"""The query runner: ``Runner.run(job)`` is the one place that knows how a query is run and stopped.

pyoxigraph has no query timeout or cancellation (oxigraph#1926), and a result must be
consumed in the thread that made it.  So every query runs, and is serialized, in a *query
thread* of the HTTP worker process (server.serve), from that process's own store.  The HTTP
thread that took the request waits at most QUERY_TIMEOUT seconds:

- past it the client gets a 503 at once, the query thread is written off (a fresh one takes
  its place) and, if the query is still running a second later, ``on_retire`` is called:
  server.serve then retires the whole worker process (it drains its requests and exits, and
  the supervisor starts a fresh one), since a thread cannot be stopped;
- a *memory watchdog* samples the process's resident memory every 20 ms while queries run;
  past the memory it had when they began plus QUERY_MEMORY, every running query is answered
  503 ``memory-limit`` and the process is retired at once (memory held by the engine cannot
  be given back otherwise);
- a query still running ``yield_after`` seconds after it began (HEAVY_AFTER) *yields*: its
  thread's nice value is raised to YIELD_NICE, so that short queries of other clients get the
  CPU first while it runs on; as a thread cannot lower its nice value again, that thread ends
  with the query, and a fresh one (started at once, by the thread that raised it) takes its place;
- a query refused once it turned heavy (429, server.sparql.fairness) is answered at once and
  its thread written off as at the time limit, but the query runs on (nothing can stop it)
  at the lowest priority; the process is retired only if it is still running a second past
  the query's own time limit, as any runaway query would be.

Query threads get a large stack (QUERY_STACK, virtual: only what is used is resident), so that
deeply nested queries recurse in pyoxigraph's parser far longer before they could overflow it.

SELECT results in JSON, CSV and XML are serialized by pyoxigraph itself (in Rust); the row
cap still holds: the rows of that output are counted, and a result over MAX_ROWS is evaluated
again and cut at MAX_ROWS rows.  Large answers are streamed: a query thread keeps an answer in
memory only up to ``Job.stream_after`` bytes (STREAM_AFTER); past that it sends a "head"
(media type, row count, truncated or not: all known before the first byte, so the response
headers tell the truth) and then the body in CHUNK-sized pieces, through a bounded queue (a
slow client slows the query thread rather than filling memory).  The time limit covers the
whole answer: a query stopped before its first byte is a 503; one stopped while streaming ends
the response without its final chunk, which every HTTP client reports as an incomplete body,
never as a complete 200.
"""
from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from itertools import islice

import pyoxigraph as ox

from ..kg import vocab as V
from ..kg.errors import KGError
from .protocol import (GRAPH_FORMATS, OX_GRAPH_FORMAT, OX_RESULT_FORMAT, RESULT_FORMATS, iter_solutions,
                       negotiate)

log = logging.getLogger("econplan.runner")


def on_retire(reason: str) -> None:
    """Called when this process must go: a query thread ran past its time limit and cannot be
    stopped (``reason`` "timeout"), or the queries' memory passed QUERY_MEMORY ("memory").
    server.serve replaces this with its retire (drain, exit, replaced by the supervisor);
    elsewhere (tests, the development server) the query runs to its end."""


#: the stack size of a query thread (virtual memory; only the pages used become resident)
QUERY_STACK = 256 * 1024 * 1024
#: the nice value of a query thread once its query has run ``yield_after`` seconds (CFS gives a
#: nice-10 thread about a tenth of the CPU of a nice-0 one that competes with it)
YIELD_NICE = 10
_STACK_LOCK = threading.Lock()


def rss() -> int:
    """This process's resident memory in bytes (/proc/self/statm; 0 where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):  # pragma: no cover - not Linux
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class QueryTimeout(KGError):
    status = 503
    code = "timeout"


class Busy(KGError):
    status = 503
    code = "busy"


class EvaluationError(KGError):
    status = 500
    code = "evaluation-failed"


class MemoryLimit(KGError):
    status = 503
    code = "memory-limit"


@dataclass
class Job:
    sparql: str
    accept: str | None = None
    format: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    substitutions: dict[str, str] | None = None  # variable -> N-Triples term
    max_rows: int = 10000
    version: str = "0"
    base_iri: str | None = None
    stream_after: int = 1 << 20  # bytes kept in memory before the answer is streamed


@dataclass
class Answer:
    body: bytes
    media_type: str
    truncated: bool
    rows: int | None
    elapsed: float


class StreamAborted(Exception):
    """A streamed answer that could not be finished (time limit, worker death, engine error).

    Raised from the body iterator after the headers went out: the server then closes the
    connection without the final chunk, so that the client sees an incomplete response.
    """


@dataclass
class Stream:
    """A large answer: headers now, the body as an iterator of chunks (see module docstring)."""
    media_type: str
    truncated: bool
    rows: int | None
    chunks: object  # Iterator[bytes]


CHUNK = 64 * 1024


def _parse_term(nt: str):
    quad = next(iter(ox.parse(f"<urn:s> <urn:p> {nt} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    return quad.object


# Result formats that the worker serializes with pyoxigraph's own (Rust) serializer: their
# output is the same as protocol.iter_solutions' (JSON and CSV byte for byte, XML the same
# solutions with other whitespace and escapes: tests/test_runner.py) at about half the cost.  TSV stays on iter_solutions, whose
# terms are written in full N-Triples form (pyoxigraph abbreviates numbers).
NATIVE_FORMATS = frozenset({"json", "csv", "xml"})
# A native serialization kept in memory is abandoned past this size (then the result is
# counted and streamed), so a huge result never costs more than this much memory.
NATIVE_MAX_BYTES = 8 * 1024 * 1024


class _TooBig(Exception):
    pass


class _CappedSink:
    """A write-only file for QuerySolutions.serialize that refuses more than ``limit`` bytes."""

    def __init__(self, limit: int):
        self.parts: list[bytes] = []
        self.size, self.limit = 0, limit

    def write(self, b) -> int:
        self.size += len(b)
        if self.size > self.limit:
            raise _TooBig()
        self.parts.append(bytes(b))
        return len(b)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


#: every "},{" of a SPARQL JSON answer, with the quote and the character after it when they follow
_BOUNDARY = re.compile(rb'\},\{("[^},])?')


def count_rows(body: bytes, fmt: str, variables: list[str] | None = None) -> int:
    """Solutions in a serialized SELECT result (pyoxigraph's JSON, XML or CSV output)."""
    if fmt == "json":
        # pyoxigraph writes the solutions as {"v":{...},"w":{...}} one after the other, separated
        # by a comma, so every boundary between two solutions reads },{ and, when the next one
        # binds something, },{" and the first letter of a variable's name.  The text },{ can
        # also be in a value (a literal's); there, a quote right after it is the value's closing
        # quote (a quote inside a value is escaped), followed by } or , (the term's end, or its
        # datatype or language).  So when every },{ is followed by a quote and then by neither
        # } nor ,, each is a boundary between two solutions that bind something, and no boundary
        # is missed: the count is exact.  Otherwise (an empty solution {}, braces in a value) the
        # bindings are parsed.  One pass over the bytes; see tests/test_runner.py.
        start = body.find(b'"bindings":[')
        if start < 0:
            raise ValueError("not a SPARQL JSON result")
        first = body[start + 12:start + 14]
        found = _BOUNDARY.findall(body, start + 12)
        if b"" not in found and (first == b'{"' or (first == b"]}" and not found)):
            return len(found) + (1 if first == b'{"' else 0)
        import json

        return len(json.loads(body)["results"]["bindings"])
    if fmt == "xml":  # "<" inside values is escaped, so every <result> is a solution
        return body.count(b"<result>") + body.count(b"<result/>")
    if fmt == "csv":  # quoted values may hold line breaks: let the csv module read them
        import csv
        import io

        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) - 1
    raise ValueError(fmt)


class _StreamSink:
    """A write-only file that keeps the answer until it passes ``threshold`` bytes, then streams it.

    ``head`` is (media type, rows, truncated): sent once, before the first chunk.  ``finish``
    sends either the whole answer ("ok") or the rest of the stream and "end".
    """

    def __init__(self, conn, threshold: int, head: tuple):
        self.conn, self.threshold, self.head = conn, threshold, head
        self.parts: list[bytes] = []
        self.size = self.pending = 0
        self.streaming = False

    def write(self, b) -> int:
        b = bytes(b) if not isinstance(b, bytes) else b
        self.parts.append(b)
        self.size += len(b)
        self.pending += len(b)
        if not self.streaming and self.size > self.threshold:
            self.conn.send(("head",) + self.head)
            self.streaming = True
            self._flush()  # the first chunk follows the head at once: headers and body go out together
        elif self.streaming and self.pending >= CHUNK:
            self._flush()
        return len(b)

    def flush(self) -> None:
        pass

    def _flush(self) -> None:
        if self.parts:
            self.conn.send(("chunk", b"".join(self.parts)))
        self.parts, self.pending = [], 0

    def finish(self, elapsed: float) -> None:
        if self.streaming:
            self._flush()
            self.conn.send(("end",))
        else:
            media_type, rows, truncated = self.head
            self.conn.send(("ok", Answer(b"".join(self.parts), media_type, truncated, rows, elapsed)))


def _answer(conn, kg, job: Job, t0: float, sinks: list | None = None) -> _StreamSink | None:
    """Evaluate ``job`` and send its answer (whole, or streamed through a _StreamSink).

    Every _StreamSink made is appended to ``sinks``, so that the caller knows, if this
    raises, whether the head had gone out already (then the stream must be failed)."""
    sinks = [] if sinks is None else sinks

    def stream_sink(head: tuple) -> _StreamSink:
        sink = _StreamSink(conn, job.stream_after, head)
        sinks.append(sink)
        return sink

    subs = None
    if job.substitutions:
        subs = {ox.Variable(k): _parse_term(v) for k, v in job.substitutions.items()}

    def evaluate():
        return kg.query(job.sparql, substitutions=subs, default_graph=job.default_graphs or None,
                        named_graphs=job.named_graphs or None, base_iri=job.base_iri)

    result, max_rows = evaluate(), job.max_rows
    if isinstance(result, ox.QueryBoolean):
        fmt = negotiate(job.accept, RESULT_FORMATS, job.format)
        body = result.serialize(format=OX_RESULT_FORMAT[fmt.name])
        conn.send(("ok", Answer(body, fmt.media_type, False, None, time.perf_counter() - t0)))
        return None
    if isinstance(result, ox.QuerySolutions):
        fmt = negotiate(job.accept, RESULT_FORMATS, job.format)
        variables = [v.value for v in result.variables]
        count = None  # solutions, counted up to max_rows + 1, when known
        if fmt.name in NATIVE_FORMATS:
            small = _CappedSink(min(job.stream_after, NATIVE_MAX_BYTES))
            try:
                result.serialize(small, format=OX_RESULT_FORMAT[fmt.name])
                body = small.getvalue()
                rows = count_rows(body, fmt.name, variables)
                if rows <= max_rows:
                    conn.send(("ok", Answer(body, fmt.media_type, False, rows, time.perf_counter() - t0)))
                    return None
                count = rows
            except Exception:
                if small.size <= small.limit:
                    raise
                # too large to keep: count the solutions, then stream them natively if they
                # are all to be sent
                count = sum(1 for _ in islice(evaluate(), max_rows + 1))
                if count <= max_rows:
                    sink = stream_sink((fmt.media_type, count, False))
                    evaluate().serialize(sink, format=OX_RESULT_FORMAT[fmt.name])
                    return sink
            result = evaluate()
        if count is None:  # TSV: keep at most max_rows + 1 solutions to know the count
            rows_list = [tuple(sol[v] for v in variables) for sol in islice(result, max_rows + 1)]
            count, rows_iter = len(rows_list), iter(rows_list[:max_rows])
        else:
            rows_iter = (tuple(sol[v] for v in variables) for sol in islice(result, max_rows))
        sink = stream_sink((fmt.media_type, min(count, max_rows), count > max_rows))
        for piece in iter_solutions(variables, rows_iter, fmt):
            sink.write(piece.encode())
        return sink
    fmt = negotiate(job.accept, GRAPH_FORMATS, job.format)
    triples = list(islice(result, max_rows + 1))
    truncated = len(triples) > max_rows
    triples = triples[:max_rows]
    if fmt.name in ("trig", "nquads"):
        triples = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
    kwargs = {"prefixes": V.PREFIXES} if fmt.name in ("turtle", "trig", "rdfxml") else {}
    sink = stream_sink((fmt.media_type, len(triples), truncated))
    ox.serialize(triples, sink, format=OX_GRAPH_FORMAT[fmt.name], **kwargs)
    return sink


def _failure(exc: Exception, sinks: list) -> tuple:
    """The message that reports ``exc`` (a KGError, or an engine failure) to the waiting side:
    an error with its status, or, once a stream has begun, a "fail" that cuts it short."""
    if isinstance(exc, KGError):
        msg = ("error", exc.status, exc.message, exc.code, exc.details)
    else:  # evaluation failure inside the engine
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = ("error", 500, f"query evaluation failed: {text}", "evaluation-failed", {})
    if any(s.streaming for s in sinks):  # too late for a status: end the stream as failed
        msg = ("fail", msg[2])
    return msg

def _wait(wait, limit: float, marks) -> bool:
    """``wait(limit)``, calling each ``callback`` of ``marks`` ((seconds, callback) pairs) once that
    many seconds have passed without an answer.  A KGError a callback raises (the query is
    refused once it turned heavy: server.sparql.fairness) is raised from here."""
    t0 = time.monotonic()
    for after, callback in sorted(marks, key=lambda m: m[0]):
        if after >= limit:
            break
        if wait(max(0.0, after - (time.monotonic() - t0))):
            return True
        callback()
    return wait(max(0.0, limit - (time.monotonic() - t0)))

# -- query threads ------------------------------------------------------------------------------

class _Channel:
    """What a query thread sends for one job (the ``conn`` of _answer): the first message is
    handed over directly; after a "head" (a streamed answer) the chunks go through a bounded
    queue, so that a slow client slows the query thread instead of filling memory."""

    __slots__ = ("first", "msg", "chunks", "closed", "abandoned", "finished", "done", "lock", "tid",
                 "answered", "yielded")

    def __init__(self):
        self.first = threading.Lock()  # released when the first message is there
        self.first.acquire()
        self.msg = None
        self.chunks: queue.Queue | None = None
        self.closed = False      # the reader is gone: the next send raises
        self.abandoned = False   # the job passed its time limit: its thread must not serve again
        self.finished = False    # the thread has finished with this job ...
        self.done = threading.Lock()  # ... and released this
        self.done.acquire()
        self.lock = threading.Lock()  # orders "finished" against "abandoned"
        self.tid = 0  # the native id of the thread working on it
        self.answered = False  # the first message is there (``first`` released)
        self.yielded = False  # its thread runs at YIELD_NICE (Runner._yield)

    def wait_done(self, timeout: float) -> bool:
        if self.done.acquire(timeout=max(0.0, timeout)):
            self.done.release()
            return True
        return False

    def send(self, msg) -> None:
        if self.chunks is None:
            with self.lock:
                if self.closed:
                    raise OSError("the client has gone")
                if msg[0] == "head":
                    self.chunks = queue.Queue(16)
                self.msg, self.answered = msg, True
                self.first.release()
                return
        if self.closed:
            raise OSError("the client has gone")
        while not self.closed:
            try:
                self.chunks.put(msg, timeout=0.2)
                return
            except queue.Full:
                continue
        raise OSError("the client has gone")


class Runner:
    """Queries run in ``size`` threads of this process, from its store (``open_kg(version)``).

    pyoxigraph releases the GIL while it evaluates, so the HTTP threads keep going meanwhile.
    A thread cannot be killed: a query past its time limit gets its 503 at once, its thread is
    written off and replaced, and if the query is still running ``grace`` seconds later,
    ``on_retire("timeout")`` is called.  ``memory`` (bytes, 0: no limit) is QUERY_MEMORY: see
    the module docstring.  ``run(job)`` gives an Answer or a Stream, or raises a KGError.
    """

    grace = 1.0

    def __init__(self, open_kg, *, size: int = 2, timeout: float = 30.0, queue_timeout: float = 10.0,
                 memory: int = 0, yield_after: float = 1.0):
        self.open_kg, self.size = open_kg, max(1, size)
        self.yield_after = yield_after
        self.timeout, self.queue_timeout, self.memory = timeout, queue_timeout, max(0, int(memory))
        self._running: set = set()  # channels of the jobs being evaluated (for the memory watchdog)
        self._running_lock = threading.Lock()
        self._baseline = 0  # resident memory when the running queries began
        #: set once the queries' memory passed the limit: this process takes no more queries
        self.refusing = False
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._free: queue.SimpleQueue = queue.SimpleQueue()  # a permit per thread not busy with a job
        for _ in range(self.size):
            self._free.put(1)
        self._closed = False
        for _ in range(self.size):
            self._start_thread()

    def _start_thread(self) -> None:
        with _STACK_LOCK:  # threading.stack_size is process-wide: set it for this thread only
            before = threading.stack_size(QUERY_STACK)
            try:
                threading.Thread(target=self._serve, daemon=True, name="econplan-query-thread").start()
            finally:
                threading.stack_size(before)

    # -- the memory watchdog ----------------------------------------------------------------
    def _begin(self, ch) -> None:
        if not self.memory:
            return
        with self._running_lock:
            first = not self._running
            self._running.add(ch)
            if first:
                self._baseline = rss()
                threading.Thread(target=self._watch_memory, daemon=True, name="econplan-memory-watch").start()

    def _end(self, ch) -> None:
        if self.memory:
            with self._running_lock:
                self._running.discard(ch)

    def _watch_memory(self) -> None:
        limit = self._baseline + self.memory
        while True:
            with self._running_lock:
                if not self._running:
                    return
            used = rss()
            if used > limit:
                break
            time.sleep(0.02)
        with self._running_lock:
            running, self._running = list(self._running), set()
            self.refusing = True
        mib = self.memory / 1048576
        log.warning("queries passed the memory limit (%.0f MiB over %.0f MiB); they are answered 503 "
                    "and this process is replaced", mib, self._baseline / 1048576)
        message = (f"the query was stopped: it needed more than {mib:.0f} MiB of memory (QUERY_MEMORY); "
                   "make it more selective or add a LIMIT")
        for ch in running:
            self._abandon(ch, ("error", 503, message, "memory-limit", {}), watch=False)
        if not self._closed:
            on_retire("memory")

    def _serve(self) -> None:
        tid = threading.get_native_id()
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, ch = item
            ch.tid = tid
            t0 = time.perf_counter()
            sinks: list[_StreamSink] = []
            msg = None
            try:
                kg = self.open_kg(job.version)
                self._begin(ch)
                sink = _answer(ch, kg, job, t0, sinks)
                if sink is not None:
                    sink.finish(time.perf_counter() - t0)
            except OSError:
                pass  # the reader went away (a client that hung up on a stream)
            except Exception as exc:
                msg = _failure(exc, sinks)
            if msg is not None:
                try:
                    ch.send(msg)
                except OSError:
                    pass
            self._end(ch)
            with ch.lock:
                ch.finished = True
                abandoned, yielded = ch.abandoned, ch.yielded
            ch.done.release()
            if abandoned:  # written off at its limit; a new thread has taken this one's place
                log.info("a query stopped at its limit has finished in the background")
                return
            self._free.put(1)
            if yielded:  # it keeps its raised nice value: it ends, its replacement is there (_yield)
                return

    def _yield(self, ch: _Channel) -> None:
        """The job on ``ch`` has run ``yield_after`` seconds: its thread yields the CPU to others."""
        with ch.lock:  # under the lock: the thread cannot finish and take another job meanwhile
            if ch.finished or not ch.tid:
                return  # done, or still waiting for a thread (using no CPU)
            try:
                os.setpriority(os.PRIO_PROCESS, ch.tid, YIELD_NICE)
            except (OSError, AttributeError):  # pragma: no cover - not Linux
                return
            ch.yielded = True
        if not self._closed:  # its replacement, started here: a thread inherits its creator's nice value
            self._start_thread()

    def _abandon(self, ch: _Channel, error: tuple | None = None, watch: bool = True,
                 until: float | None = None) -> bool:
        """The job on ``ch`` passed its limit, or was refused: write its thread off and replace it
        (False if the thread has just finished after all).  ``error``: the message that answers
        the waiting request (or ends its stream) now, if it has not had its answer yet.
        ``until``: the job's deadline (time.monotonic()) when it is let go before it; the process
        is retired only if the query is still running ``grace`` seconds after that."""
        with ch.lock:
            if ch.finished:
                return False
            ch.abandoned = ch.closed = True
            if error is not None:
                if not ch.answered:
                    ch.msg, ch.answered = error, True
                    ch.first.release()
                elif ch.chunks is not None:
                    try:
                        ch.chunks.put_nowait(("fail", error[2]))
                    except queue.Full:
                        pass  # the reader fails at its deadline instead
            replaced = ch.yielded  # it yielded earlier: its replacement runs already
        try:  # until its process goes, the runaway query gets only the CPU nobody else wants
            os.setpriority(os.PRIO_PROCESS, ch.tid, 19)
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            pass
        if not self._closed:
            if not replaced:
                self._start_thread()
            self._free.put(1)
        if watch:
            threading.Thread(target=self._watch, args=(ch, until), daemon=True, name="econplan-stuck-watch").start()
        return True

    def _watch(self, ch: _Channel, until: float | None = None) -> None:
        wait = self.grace if until is None else until - time.monotonic() + self.grace
        if ch.wait_done(wait):
            return  # it noticed (it was writing, not evaluating), or it ended within its time limit
        log.warning("a query written off (answered 503 at the time limit, or 429 when it turned heavy) "
                    "is still running past its time limit; it cannot be stopped inside this process")
        if not self._closed:
            on_retire("timeout")

    def _watch_hung_up(self, ch: _Channel, deadline: float) -> None:
        """A client hung up on a stream: the thread stops at its next write, unless it is inside
        the engine; then it is held to the time limit like any other."""
        if not ch.wait_done(deadline - time.monotonic()):
            self._abandon(ch)

    def run(self, job: Job, timeout: float | None = None, slow=None) -> Answer | Stream:
        """The answer to ``job``: whole (Answer), or headers now and the body streamed (Stream).

        ``slow``: (seconds, callback); the callback is called if the query has not answered
        after that many seconds (server.sparql.endpoint counts it as heavy then)."""
        limit = self.timeout if timeout is None else timeout
        if self.refusing:
            raise Busy("this worker process is being replaced (the memory limit was passed); "
                       "try again in a moment")
        try:
            self._free.get(timeout=self.queue_timeout)
        except queue.Empty:
            raise Busy("all query threads are busy; try again in a moment") from None
        deadline = time.monotonic() + limit
        ch = _Channel()
        self._jobs.put((job, ch))
        try:
            marks = [(self.yield_after, lambda: self._yield(ch))] + ([slow] if slow else [])
            answered = _wait(lambda t: ch.first.acquire(timeout=t), limit, marks)
        except KGError as refusal:  # refused once it turned heavy (429): the request is answered now
            if self._abandon(ch, until=deadline):
                log.info("a query refused with %d (%s) runs on in the background: the engine cannot stop "
                         "it; its thread is replaced, and it is held to the time limit like any other",
                         refusal.status, refusal.code)
                raise
            answered = ch.first.acquire(timeout=1.0)  # it has just finished: its answer stands
        if not answered and self._abandon(ch):
            log.warning("query exceeded %.1fs; its thread is written off", limit)
            raise QueryTimeout(f"the query was stopped after {limit:g} s (the time limit); "
                               "make it more selective or add a LIMIT")
        msg = ch.msg
        if msg[0] == "head":
            _, media_type, rows, truncated = msg
            return Stream(media_type, truncated, rows, _ThreadStream(self, ch, deadline, limit))
        if msg[0] == "ok":
            return msg[1]
        _, status, message, code, details = msg
        raise KGError(message, status=status, code=code, **(details or {}))

    def close(self) -> None:
        self._closed = True
        for _ in range(self.size):
            self._jobs.put(None)


class _ThreadStream:
    """The body of a Stream from a query thread.  Ends by raising StreamAborted (so that the
    response is cut short, never completed) when the time limit passes or the engine fails
    mid-answer; a client that hangs up calls close()."""

    def __init__(self, executor: Runner, ch: _Channel, deadline: float, limit: float):
        self.executor, self.ch, self.deadline, self.limit = executor, ch, deadline, limit
        self.finished = False

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        if self.finished:
            raise StopIteration
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self._fail()
                raise self._aborted(f"the answer was stopped after {self.limit:g} s (the time limit)")
            try:
                msg = self.ch.chunks.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if msg[0] == "chunk":
                return msg[1]
            self.finished = True
            if msg[0] == "end":
                raise StopIteration
            raise self._aborted(f"the answer failed in the middle: {msg[1]}")

    @staticmethod
    def _aborted(why: str) -> StreamAborted:
        # one line in the log (the WSGI server then drops the connection without the last chunk)
        log.warning("streamed answer cut short: %s", why)
        return StreamAborted(why)

    def _fail(self) -> None:
        self.finished = True
        log.warning("streamed answer exceeded %.1fs; its thread is written off", self.limit)
        self.ch.closed = True
        self.executor._abandon(self.ch)

    def close(self) -> None:
        if not self.finished:  # the client hung up: the thread's next send fails and it goes on
            self.finished = True
            self.ch.closed = True
            threading.Thread(target=self.executor._watch_hung_up, args=(self.ch, self.deadline),
                             daemon=True, name="econplan-hangup-watch").start()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
