"""Query execution with a time limit: QueryExecutor (worker processes, SERVER=gunicorn) and
ThreadExecutor (threads of the HTTP process, SERVER=granian; see its docstring and server.wsgi).

What follows describes QueryExecutor; the answers themselves (_answer: formats, the row cap,
streaming) are made the same way by both.

pyoxigraph has no query timeout or cancellation (oxigraph#1926), and a result
must be consumed in the thread that made it.  So every query runs, and is
serialized, inside a worker *process* that holds its own copy of the store.
The web process sends the job over a pipe and waits at most ``timeout``
seconds; if the worker has not answered by then it is killed (SIGKILL), a
replacement is started, and the client gets a 503 with a message.  Other
queries keep being served by the other workers meanwhile.

Workers reload their store when the dataset version changes (after a
validated load), so a load is visible to the next query.

A worker loads the store when it starts and only then joins the pool (it says
"ready" over the pipe), so no query waits for a load or is timed against it.
SELECT results in JSON, CSV and XML are serialized by pyoxigraph itself (in
Rust, about half the cost of building them in Python); the row cap still holds:
the rows of that output are counted, and a result over MAX_ROWS is evaluated
again and cut at MAX_ROWS rows.

Large answers are streamed.  A worker keeps an answer in memory only up to
``Job.stream_after`` bytes (STREAM_AFTER); past that it sends a "head" message
(media type, row count, truncated or not: all known before the first byte, so
the response headers tell the truth) and then the body in CHUNK-sized pieces,
which the web process passes on as they come (HTTP chunked transfer).  To know
the row count of a large SELECT before streaming it, the worker first counts up
to MAX_ROWS + 1 solutions (without keeping them), then evaluates again and
serializes natively into the stream (or, over the cap, renders MAX_ROWS rows
piece by piece with protocol.iter_solutions).  The time limit covers the whole answer: a query stopped
before its first byte is a 503; one stopped while streaming (or whose worker
dies) ends the response without its final chunk, which every HTTP client
reports as an incomplete body, never as a complete 200.
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

from . import vocab as V
from .errors import KGError
from .protocol import (GRAPH_FORMATS, OX_GRAPH_FORMAT, OX_RESULT_FORMAT, RESULT_FORMATS, iter_solutions,
                       negotiate)

log = logging.getLogger("econplan.executor")


def on_stuck() -> None:
    """Called when a query thread (ThreadExecutor) ran past its time limit and cannot be stopped.
    The server that runs queries in threads (server.wsgi.run_granian) replaces this with its
    drain-and-exit; elsewhere (tests, the development server) the query runs to its end."""


class QueryTimeout(KGError):
    status = 503
    code = "timeout"


class Busy(KGError):
    status = 503
    code = "busy"


class EvaluationError(KGError):
    status = 500
    code = "evaluation-failed"


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
# solutions with other whitespace and escapes: tests/test_executor.py) at about half the cost.  TSV stays on iter_solutions, whose
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
        # bindings are parsed.  One pass over the bytes; see tests/test_executor.py.
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


def _worker_main(conn, build_dir: str, mode: str) -> None:  # pragma: no cover - runs in a child
    from .store import KnowledgeGraph

    # Load the store before saying "ready", so that no query waits for it (or is timed
    # against it); a failure is reported on the first job instead.
    try:
        kg = KnowledgeGraph.open(build_dir, mode=mode)
    except Exception:
        kg = None
    _serve_jobs(conn, kg, build_dir, mode)


def _serve_jobs(conn, kg, build_dir: str, mode: str) -> None:  # pragma: no cover - runs in a child
    """Say "ready", then answer jobs until the pipe closes (or a None job)."""
    from .store import KnowledgeGraph

    try:
        conn.send(("ready", os.getpid()))
    except OSError:
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if job is None:
            return
        t0 = time.perf_counter()
        sinks: list[_StreamSink] = []
        try:
            if kg is None or kg.version != job.version:
                kg = KnowledgeGraph.up_to_date(kg, build_dir, mode=mode, version=job.version)
            sink = _answer(conn, kg, job, t0, sinks)
            if sink is not None:
                sink.finish(time.perf_counter() - t0)
            continue
        except OSError:
            return  # the web process went away (or killed the stream)
        except Exception as exc:
            msg = _failure(exc, sinks)
        try:
            conn.send(msg)
        except OSError:
            return


def _zygote_main(sock, build_dir: str, mode: str) -> None:  # pragma: no cover - runs in a child
    """The template process: loads the store once, then forks query workers that share it.

    Single-threaded and idle whenever it forks, so the fork is safe.  Each worker gets its
    end of a new socket pair; the other end goes back to the web process over ``sock`` (a
    SOCK_SEQPACKET socket) with the worker's pid.  Workers are reaped automatically
    (SIGCHLD ignored).  Before forking, the template reloads the store if the data version
    changed (a validated load), so that new workers start from the current data.
    """
    import pickle
    import signal
    import socket
    from multiprocessing.connection import Connection

    from .store import KnowledgeGraph, version_of

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    kg = KnowledgeGraph.open(build_dir, mode=mode)
    sock.send(pickle.dumps(("ready", os.getpid())))
    while True:
        try:
            data = sock.recv(4096)
        except (OSError, KeyboardInterrupt):
            return
        if not data:
            return
        try:
            version = version_of(build_dir)
            if kg.version != version:
                kg = KnowledgeGraph.up_to_date(kg, build_dir, mode=mode, version=version)
            here, there = socket.socketpair()
            pid = os.fork()
        except Exception as exc:
            sock.send(pickle.dumps(("error", f"{type(exc).__name__}: {exc}")))
            continue
        if pid == 0:  # the new worker
            code = 0
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _die_with_parent()
                sock.close()
                here.close()
                _serve_jobs(Connection(there.detach()), kg, build_dir, mode)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        there.close()
        socket.send_fds(sock, [pickle.dumps(("forked", pid))], [here.fileno()])
        here.close()


def _die_with_parent() -> None:  # pragma: no cover - runs in a child
    """Linux: be killed when the parent (the template) exits, e.g. after its web process was."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _zygote_child(fd: int, build_dir: str, mode: str) -> None:  # pragma: no cover - child entry
    import socket

    _zygote_main(socket.socket(fileno=fd), build_dir, mode)


def _child(fd: int, build_dir: str, mode: str) -> None:  # pragma: no cover - child entry
    from multiprocessing.connection import Connection

    _worker_main(Connection(fd), build_dir, mode)


def _spawn_python(entry: str, fd: int, build_dir: str, mode: str):
    """``python -c`` running ``server.executor.<entry>(fd, build_dir, mode)``, with ``fd`` passed.

    A plain subprocess rather than multiprocessing's spawn, so that it does not depend on
    how the parent's __main__ was started (gunicorn, pytest, stdin).
    """
    import subprocess
    import sys

    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # The `server` package is stood in for by an empty module whose path is this folder,
    # so that the child imports executor, store and protocol without server/__init__.py
    # (Flask and the web app: a third of a second at every start).
    code = ("import sys, types; pkg = types.ModuleType('server'); pkg.__path__ = [sys.argv[4]]; "
            f"sys.modules['server'] = pkg; from server.executor import {entry}; "
            f"{entry}(int(sys.argv[1]), sys.argv[2], sys.argv[3])")
    # -P: no current folder on sys.path, so that the child imports the same `server`
    # package as this process (the PYTHONPATH above), whatever folder it runs in
    return subprocess.Popen([sys.executable, "-P", "-c", code, str(fd), build_dir, mode,
                             os.path.dirname(os.path.abspath(__file__))],
                            pass_fds=[fd], env=env, stdin=subprocess.DEVNULL)


class _Worker:
    """A query worker that loads its own store: a child process talking over a socket pair."""

    def __init__(self, build_dir: str, mode: str):
        import socket
        from multiprocessing.connection import Connection

        parent, child = socket.socketpair()
        self.proc = _spawn_python("_child", child.fileno(), build_dir, mode)
        self.pid = self.proc.pid
        child.close()
        self.conn = Connection(parent.detach())

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(2)
        except Exception:  # pragma: no cover
            pass
        self.conn.close()


class _ForkedWorker:
    """A query worker forked by the template process (_Zygote): it shares the template's store.

    It is not this process's child, so it is tracked and killed through a pidfd (which
    cannot point to another process even if the pid is reused)."""

    def __init__(self, pid: int, conn):
        import select

        self.pid, self.conn = pid, conn
        try:
            self.pidfd = os.pidfd_open(pid)
        except OSError:  # already gone: the first recv will say so
            self.pidfd = None
        self._select = select

    def kill(self) -> None:
        import signal

        if self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                self._select.select([self.pidfd], [], [], 2)  # readable once it has exited
            except OSError:
                pass
            os.close(self.pidfd)
            self.pidfd = None
        self.conn.close()


class _Zygote:
    """The template process of STORE_MODE=memory: one store in memory, shared (copy-on-write)
    by every query worker it forks; a killed worker's replacement starts in milliseconds,
    without loading anything."""

    def __init__(self, build_dir: str, mode: str, start_timeout: float):
        import pickle
        import socket

        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = _spawn_python("_zygote_child", child.fileno(), build_dir, mode)
        child.close()
        self.lock = threading.Lock()
        self.sock.settimeout(start_timeout)
        try:
            data = self.sock.recv(4096)
        except OSError:
            data = b""
        if not data or pickle.loads(data)[0] != "ready":
            self.close()
            raise OSError("the query-worker template did not start (could it load the store?)")

    def fork(self, timeout: float) -> _ForkedWorker:
        import pickle
        import socket
        from multiprocessing.connection import Connection

        with self.lock:
            self.sock.settimeout(timeout)  # it may first reload the store (after a load)
            self.sock.send(b"fork")
            data, fds, _, _ = socket.recv_fds(self.sock, 4096, 1)
        if not data:
            raise OSError("the query-worker template has stopped")
        msg = pickle.loads(data)
        if msg[0] != "forked" or not fds:
            for fd in fds:
                os.close(fd)
            raise OSError(f"the query-worker template could not fork: {msg[1:]}")
        return _ForkedWorker(msg[1], Connection(fds[0]))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            self.sock.close()
            self.proc.kill()
            self.proc.wait(2)
        except Exception:  # pragma: no cover
            pass


def _wait(wait, limit: float, slow) -> bool:
    """``wait(limit)``, calling ``slow[1]()`` once ``slow[0]`` seconds have passed without an
    answer (``slow`` may be None); a callback that returns False ends the wait as a timeout does."""
    if slow is None or slow[0] >= limit:
        return wait(limit)
    after, callback = slow
    t0 = time.monotonic()
    if wait(max(0.0, after)):
        return True
    if callback() is False:  # stop the query now (it is refused: server.sparql.fairness)
        return False
    return wait(max(0.0, limit - (time.monotonic() - t0)))


class _StreamBody:
    """The body of a Stream: QueryExecutor._stream's chunks, plus a close() that gives the
    worker back even if nobody ever asked for a chunk (a HEAD request, an error before the
    body was sent): closing a generator that never started does not run its ``finally``."""

    def __init__(self, executor: "QueryExecutor", worker, deadline: float, limit: float):
        self._executor, self._worker = executor, worker
        self._chunks = executor._stream(worker, deadline, limit)
        self._started = False

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        self._started = True
        return next(self._chunks)

    def close(self) -> None:
        if not self._started:  # the worker is in the middle of an answer: replace it
            self._started = True
            self._executor._replace(self._worker)
        self._chunks.close()

    def __del__(self):  # a response dropped without being closed (an error on the way out)
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


class QueryExecutor:
    """A pool of ``size`` worker processes serving queries with a hard timeout.

    A worker joins the pool once it has its store and said "ready" (so a query never
    waits for, or is timed against, a store load); a killed worker's replacement joins the
    same way while the others keep serving.  In STORE_MODE=memory the workers are forked
    from a template process (_Zygote) that loaded the store once: they share one copy of
    it, and a replacement is ready in milliseconds.  In disk mode (RocksDB, opened by each
    worker in an instant) and with an external store, each worker opens its own.
    """

    START_TIMEOUT = 600.0  # seconds a new worker (or the template) may take to load the store

    def __init__(self, build_dir: str, *, size: int = 2, mode: str = "memory",
                 timeout: float = 30.0, queue_timeout: float = 10.0, shared: bool | None = None):
        from .remote import is_remote

        self.build_dir, self.mode = str(build_dir), mode
        self.timeout, self.queue_timeout = timeout, queue_timeout
        self._idle: queue.Queue = queue.Queue()
        self._all: set = set()
        self._lock = threading.Lock()
        self._closed = False
        #: whether workers are forked from a template holding the one in-memory store
        self.shared = (mode == "memory" and not is_remote(self.build_dir) and hasattr(os, "fork")
                       and hasattr(os, "pidfd_open")) if shared is None else shared
        self._zygote: _Zygote | None = None
        self._zygote_lock = threading.Lock()
        self.ready = threading.Event()  # set once the first worker is ready
        for _ in range(max(1, size)):
            self._start_worker()

    def _start_worker(self, delay: float = 0.0) -> None:
        threading.Thread(target=self._spawn, args=(delay,), daemon=True,
                         name="econplan-query-worker-start").start()

    def _new_worker(self):
        if not self.shared:
            return _Worker(self.build_dir, self.mode)
        with self._zygote_lock:  # one template, started by whichever spawn needs it first
            if self._closed:
                raise OSError("closed")
            if self._zygote is None or not self._zygote.alive():
                if self._zygote is not None:
                    log.error("the query-worker template stopped; starting a new one")
                    self._zygote.close()
                self._zygote = _Zygote(self.build_dir, self.mode, self.START_TIMEOUT)
            zygote = self._zygote
        return zygote.fork(self.START_TIMEOUT)

    def _spawn(self, delay: float) -> None:
        if delay:
            time.sleep(delay)
        if self._closed:
            return
        try:
            w = self._new_worker()
        except OSError as exc:
            if not self._closed:
                log.error("could not start a query worker (%s); trying again", exc)
                self._start_worker(delay=min(30.0, 1.0 + delay * 2))
            return
        with self._lock:
            self._all.add(w)
        try:
            ok = w.conn.poll(self.START_TIMEOUT) and w.conn.recv()[0] == "ready"
        except (EOFError, OSError):
            ok = False
        if not ok or self._closed:
            if not self._closed:
                log.error("query worker %s did not start; trying again", w.pid)
            self._discard(w)
            if not self._closed:
                self._start_worker(delay=min(30.0, 1.0 + delay * 2))
            return
        self._idle.put(w)
        self.ready.set()

    def _discard(self, w) -> None:
        w.kill()
        with self._lock:
            self._all.discard(w)

    def _replace(self, w) -> None:
        self._discard(w)
        if not self._closed:
            self._start_worker()

    def run(self, job: Job, timeout: float | None = None, slow=None) -> Answer | Stream:
        """The answer to ``job``: whole (Answer), or headers now and the body streamed (Stream).

        ``slow``: (seconds, callback); the callback is called if the query has not answered
        after that many seconds (server.endpoint counts it as heavy then)."""
        limit = self.timeout if timeout is None else timeout
        wait_until = time.monotonic() + self.queue_timeout
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, wait_until - time.monotonic()))
            except queue.Empty:
                if not self.ready.is_set():
                    raise Busy("the query workers are still loading the store; try again in a moment") from None
                raise Busy("all query workers are busy; try again in a moment") from None
            try:
                gone = worker.conn.poll(0)  # an idle worker has nothing to say, unless it died
            except (OSError, EOFError):
                gone = True
            if not gone:
                break
            log.error("idle query worker %s had stopped; replacing it", worker.pid)
            self._replace(worker)
        deadline = time.monotonic() + limit
        try:
            worker.conn.send(job)
            if not _wait(worker.conn.poll, limit, slow):
                log.warning("query exceeded %.1fs; killing worker %s", limit, worker.pid)
                self._replace(worker)
                worker = None
                raise QueryTimeout(f"the query was stopped after {limit:g} s (the time limit); "
                                   "make it more selective or add a LIMIT")
            msg = worker.conn.recv()
        except (EOFError, OSError):
            if worker is not None:
                self._replace(worker)
            raise EvaluationError("the query worker stopped unexpectedly; the query was not answered") from None
        except BaseException:  # e.g. a job that cannot be sent: the worker is still clean
            if worker is not None:
                self._idle.put(worker)
            raise
        if msg[0] == "head":
            _, media_type, rows, truncated = msg
            return Stream(media_type, truncated, rows, _StreamBody(self, worker, deadline, limit))
        self._idle.put(worker)
        if msg[0] == "ok":
            return msg[1]
        _, status, message, code, details = msg
        raise KGError(message, status=status, code=code, **(details or {}))

    def _stream(self, worker, deadline: float, limit: float):
        """The chunks of a streamed answer; the worker is the stream's until it ends.

        Ends by raising StreamAborted (so that the response is cut short, never completed)
        when the time limit passes, the worker dies or the engine fails mid-answer; the
        worker is then replaced.  A client that hangs up closes this generator: the worker
        is replaced too (it may be in the middle of a write).
        """
        finished = False
        try:
            while True:
                left = deadline - time.monotonic()
                try:
                    if left <= 0 or not worker.conn.poll(left):
                        log.warning("streamed answer exceeded %.1fs; killing worker %s", limit, worker.pid)
                        raise StreamAborted(f"the answer was stopped after {limit:g} s (the time limit)")
                    msg = worker.conn.recv()
                except (EOFError, OSError):
                    raise StreamAborted("the query worker stopped in the middle of the answer") from None
                if msg[0] == "chunk":
                    yield msg[1]
                elif msg[0] == "end":
                    finished = True
                    return
                else:
                    raise StreamAborted(f"the answer failed in the middle: {msg[1]}")
        finally:
            if finished:
                self._idle.put(worker)
            else:
                self._replace(worker)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        if self._zygote_lock.acquire(timeout=2):  # (a spawn may be waiting for a slow start)
            try:
                if self._zygote is not None:
                    self._zygote.close()
                    self._zygote = None
            finally:
                self._zygote_lock.release()
        for w in workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        for w in workers:
            w.kill()


# -- queries in threads of this process (SERVER=granian) ----------------------------------------

class _Channel:
    """What a query thread sends for one job (the ``conn`` of _answer): the first message is
    handed over directly; after a "head" (a streamed answer) the chunks go through a bounded
    queue, so that a slow client slows the query thread instead of filling memory."""

    __slots__ = ("first", "msg", "chunks", "closed", "abandoned", "finished", "done", "lock", "tid")

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

    def wait_done(self, timeout: float) -> bool:
        if self.done.acquire(timeout=max(0.0, timeout)):
            self.done.release()
            return True
        return False

    def send(self, msg) -> None:
        if self.closed:
            raise OSError("the client has gone")
        if self.chunks is None:
            if msg[0] == "head":
                self.chunks = queue.Queue(16)
            self.msg = msg
            self.first.release()
            return
        while not self.closed:
            try:
                self.chunks.put(msg, timeout=0.2)
                return
            except queue.Full:
                continue
        raise OSError("the client has gone")


class ThreadExecutor:
    """Queries run in ``size`` threads of this process, from its store (``open_kg(version)``).

    No pipe, pickling or process wake-up between the request and the engine: this is what
    makes SERVER=granian fast.  pyoxigraph releases the GIL while it evaluates, so the HTTP
    threads keep going meanwhile.  A thread cannot be killed: a query past its time limit
    gets its 503 at once, its thread is written off and replaced, and if the query is still
    running ``grace`` seconds later, ``on_stuck`` is called, whose job is to end the whole
    process soon (server.wsgi: drain, exit, and the supervisor starts a fresh process).
    The interface is QueryExecutor's: ``run(job)`` gives an Answer or a Stream, or raises.
    """

    grace = 1.0

    def __init__(self, open_kg, *, size: int = 2, timeout: float = 30.0, queue_timeout: float = 10.0):
        self.open_kg, self.size = open_kg, max(1, size)
        self.timeout, self.queue_timeout = timeout, queue_timeout
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._free: queue.SimpleQueue = queue.SimpleQueue()  # a permit per thread not busy with a job
        for _ in range(self.size):
            self._free.put(1)
        self._closed = False
        for _ in range(self.size):
            self._start_thread()

    def _start_thread(self) -> None:
        threading.Thread(target=self._serve, daemon=True, name="econplan-query-thread").start()

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
                sink = _answer(ch, self.open_kg(job.version), job, t0, sinks)
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
            with ch.lock:
                ch.finished = True
                abandoned = ch.abandoned
            ch.done.release()
            if abandoned:  # written off at the time limit; a new thread has taken this one's place
                log.warning("a query stopped at the time limit has finished in the background")
                return
            self._free.put(1)

    def _abandon(self, ch: _Channel) -> bool:
        """The job on ``ch`` passed its time limit: write its thread off and replace it (False if
        the thread has just finished after all)."""
        with ch.lock:
            if ch.finished:
                return False
            ch.abandoned = ch.closed = True
        try:  # until its process goes, the runaway query gets only the CPU nobody else wants
            os.setpriority(os.PRIO_PROCESS, ch.tid, 19)
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            pass
        if not self._closed:
            self._start_thread()
            self._free.put(1)
        threading.Thread(target=self._watch, args=(ch,), daemon=True, name="econplan-stuck-watch").start()
        return True

    def _watch(self, ch: _Channel) -> None:
        if ch.wait_done(self.grace):
            return  # it noticed (it was writing, not evaluating)
        log.warning("a query stopped at the time limit is still running; it cannot be stopped "
                    "inside this process")
        if not self._closed:
            on_stuck()

    def _watch_hung_up(self, ch: _Channel, deadline: float) -> None:
        """A client hung up on a stream: the thread stops at its next write, unless it is inside
        the engine; then it is held to the time limit like any other."""
        if not ch.wait_done(deadline - time.monotonic()):
            self._abandon(ch)

    def run(self, job: Job, timeout: float | None = None, slow=None) -> Answer | Stream:
        """See QueryExecutor.run."""
        limit = self.timeout if timeout is None else timeout
        try:
            self._free.get(timeout=self.queue_timeout)
        except queue.Empty:
            raise Busy("all query threads are busy; try again in a moment") from None
        deadline = time.monotonic() + limit
        ch = _Channel()
        self._jobs.put((job, ch))
        if not _wait(lambda t: ch.first.acquire(timeout=t), limit, slow) and self._abandon(ch):
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
    """The body of a Stream from a query thread (see _StreamBody, its process twin)."""

    def __init__(self, executor: ThreadExecutor, ch: _Channel, deadline: float, limit: float):
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
