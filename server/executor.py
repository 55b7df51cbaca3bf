"""Killable query execution: a small pool of worker processes.

pyoxigraph has no query timeout or cancellation (oxigraph#1926), and a result
must be consumed in the thread that made it.  So every query runs, and is
serialized, inside a worker *process* that holds its own copy of the store.
The web process sends the job over a pipe and waits at most ``timeout``
seconds; if the worker has not answered by then it is killed (SIGKILL), a
replacement is started, and the client gets a 503 with a message.  Other
queries keep being served by the other workers meanwhile.

Workers reload their store when the dataset version changes (after a
validated load), so a load is visible to the next query.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from .errors import KGError

log = logging.getLogger("econplan.executor")


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


@dataclass
class Answer:
    body: bytes
    media_type: str
    truncated: bool
    rows: int | None
    elapsed: float


def _parse_term(nt: str):
    import pyoxigraph as ox

    quad = next(iter(ox.parse(f"<urn:s> <urn:p> {nt} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    return quad.object


def _worker_main(conn, build_dir: str, mode: str) -> None:  # pragma: no cover - runs in a child
    import pyoxigraph as ox

    from .protocol import render
    from .store import KnowledgeGraph

    kg = None
    while True:
        try:
            job = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if job is None:
            return
        t0 = time.perf_counter()
        try:
            if kg is None or kg.version != job.version:
                kg = KnowledgeGraph.open(build_dir, mode=mode)
            subs = None
            if job.substitutions:
                subs = {ox.Variable(k): _parse_term(v) for k, v in job.substitutions.items()}
            result = kg.query(job.sparql, substitutions=subs,
                              default_graph=job.default_graphs or None,
                              named_graphs=job.named_graphs or None, base_iri=job.base_iri)
            r = render(result, job.accept, job.format, max_rows=job.max_rows)
            conn.send(("ok", Answer(r.body, r.media_type, r.truncated, r.rows,
                                    time.perf_counter() - t0)))
        except KGError as exc:
            conn.send(("error", exc.status, exc.message, exc.code, exc.details))
        except Exception as exc:  # evaluation failure inside the engine
            conn.send(("error", 500, f"query evaluation failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                       "evaluation-failed", {}))


def _child(fd: int, build_dir: str, mode: str) -> None:  # pragma: no cover - child entry
    from multiprocessing.connection import Connection

    _worker_main(Connection(fd), build_dir, mode)


class _Worker:
    """A query worker: a plain child process (python -c), talking over a socket pair.

    A plain subprocess rather than multiprocessing's spawn, so that it does not
    depend on how the parent's __main__ was started (gunicorn, pytest, stdin).
    """

    def __init__(self, ctx, build_dir: str, mode: str):
        import os
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        parent, child = socket.socketpair()
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        code = "import sys; from server.executor import _child; _child(int(sys.argv[1]), sys.argv[2], sys.argv[3])"
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(child.fileno()), build_dir, mode],
                                     pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL)
        child.close()
        self.conn = Connection(parent.detach())

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(2)
        except Exception:  # pragma: no cover
            pass
        self.conn.close()


class QueryExecutor:
    """A pool of ``size`` worker processes serving queries with a hard timeout."""

    def __init__(self, build_dir: str, *, size: int = 2, mode: str = "memory",
                 timeout: float = 30.0, queue_timeout: float = 10.0):
        self.build_dir, self.mode = str(build_dir), mode
        self.timeout, self.queue_timeout = timeout, queue_timeout
        self._ctx = None
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(max(1, size)):
            self._idle.put(_Worker(self._ctx, self.build_dir, self.mode))

    def _replace(self) -> None:
        if not self._closed:
            self._idle.put(_Worker(self._ctx, self.build_dir, self.mode))

    def run(self, job: Job, timeout: float | None = None) -> Answer:
        limit = self.timeout if timeout is None else timeout
        try:
            worker = self._idle.get(timeout=self.queue_timeout)
        except queue.Empty:
            raise Busy("all query workers are busy; try again in a moment") from None
        try:
            worker.conn.send(job)
            if not worker.conn.poll(limit):
                log.warning("query exceeded %.1fs; killing worker %s", limit, worker.proc.pid)
                worker.kill()
                threading.Thread(target=self._replace, daemon=True).start()
                worker = None
                raise QueryTimeout(f"the query was stopped after {limit:g} s (the time limit); "
                                   "make it more selective or add a LIMIT")
            msg = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            if worker is not None:
                worker.kill()
                threading.Thread(target=self._replace, daemon=True).start()
                worker = None
            raise EvaluationError("the query worker stopped unexpectedly; the query was not answered")
        finally:
            if worker is not None:
                self._idle.put(worker)
        if msg[0] == "ok":
            return msg[1]
        _, status, message, code, details = msg
        raise KGError(message, status=status, code=code, **(details or {}))

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            try:
                w.conn.send(None)
            except OSError:
                pass
            w.kill()
