"""Serving: one HTTP server (granian), one supervisor, N worker processes.

granian (a Rust HTTP server) runs ``--workers`` HTTP worker processes, each with the whole
Flask app and its own store (in STORE_MODE=memory the main process loads the store before it
starts them, so that they share that copy until a write changes it).  Every request takes
the same path: granian's HTTP layer, the WSGI app (``Front``: counts the requests in flight),
Flask.  Queries run in query threads of the worker (server.sparql.runner).

A worker *retires* (``retire``) when it holds a query it cannot stop: one past QUERY_TIMEOUT
(the client had its 503 at once) or past QUERY_MEMORY (every query running there had its
503).  It closes its keep-alive connections (``Connection: close``) so that clients go
elsewhere, stops listening once another worker listens (two workers retiring at once take
turns, so that the port always has a listener), waits for its requests in flight (its writes up to LOAD_TIMEOUT:
a load is never cut), then exits with RETIRED; the supervisor starts a fresh one.  After a
write no process is replaced: each applies the change on its next request.

The supervisor is granian's own main process with one method replaced (``Supervisor``, the one
place here that knows granian's internals): granian's loop stops the whole server when a
worker dies within 5.5 s of being started ("Worker crash loop detected"), so that a request
that crashes a worker (a segfault in the engine) sent a few times in a row would end the
service.  Ours never exits on crashes: it replaces the dead worker, after a pause that grows
with quick successive crashes of the same worker (up to MAX_BACKOFF seconds).
"""
from __future__ import annotations

import logging
import os
import threading
import time

from granian.server.mp import MPServer

log = logging.getLogger("econplan")

#: the exit code of a worker that retired on purpose (see retire)
RETIRED = 75
#: Python threads per HTTP worker: requests handled at once by each (more wait in granian's
#: queue).  Copies of one query waiting for its single evaluation each hold one.
HTTP_THREADS = 8
#: seconds during which a retiring worker closes every connection after its answer
CLOSE_FOR = 2.0
#: the longest pause before a worker that keeps crashing is started again
MAX_BACKOFF = 5.0


class Supervisor(MPServer):
    """granian's multi-process server, whose main loop replaces dead workers without ever
    giving up (see the module docstring).  Relies on these granian internals (tested by
    tests/test_serve.py, so that an upgrade that changes them fails there): ``_serve_loop``,
    ``main_loop_interrupt``, ``interrupt_signal``, ``interrupt_children``, ``reload_signal``,
    ``wrks`` (each with ``inner``, a multiprocessing.Process), ``respawned_wrks``,
    ``_respawn_workers`` and ``_reload``."""

    def _serve_loop(self, spawn_target, target_loader):
        streak: dict[int, int] = {}
        while True:
            self.main_loop_interrupt.wait()
            if self.interrupt_signal:
                break
            if self.interrupt_children:
                dead = list(dict.fromkeys(self.interrupt_children))
                self.interrupt_children.clear()
                self.main_loop_interrupt.clear()
                pause = 0.0
                for idx in dead:
                    code = self.wrks[idx].inner.exitcode
                    if code == RETIRED:
                        streak[idx] = 0
                        log.info("worker-%d retired; a fresh one takes its place", idx + 1)
                        continue
                    quick = time.monotonic() - self.respawned_wrks.get(idx, 0) < 5.5
                    streak[idx] = streak.get(idx, 0) + 1 if quick else 0
                    pause = max(pause, min(MAX_BACKOFF, 0.25 * (2 ** streak[idx]) if streak[idx] else 0.0))
                    how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                    log.error("worker-%d died (%s); a fresh one takes its place%s", idx + 1, how,
                              f" in {pause:.2f} s" if pause else "")
                if pause:
                    time.sleep(pause)
                self._respawn_workers(dead, spawn_target, target_loader)
            if self.reload_signal:
                self._reload(spawn_target, target_loader)


class _GranianNoise(logging.Filter):
    """Drops what granian logs and the supervisor words better: its "Unexpected exit" of a
    worker (the supervisor says whether it retired or died), its advice against more threads
    than cores (they mostly wait for queries that run outside the GIL), and its traceback of
    a streamed answer cut short on purpose (the runner logs that in one line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not (msg.startswith(("Unexpected exit from worker-", "Configuration allows spawning up to"))
                    or "StreamAborted" in msg)


class Front:
    """The WSGI app a worker serves: the Flask app, with the requests in flight counted (a
    retiring worker waits for them) and, while it retires, ``Connection: close`` on every
    answer."""

    def __init__(self, app):
        self.app = app
        self.closing = False
        self.inflight = 0   # requests not yet answered in full (a stream counts until closed)
        self.writes = 0     # of which, writes (/load, /update)
        self.started = 0    # requests ever begun here
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        write = environ.get("PATH_INFO", "").startswith(("/load", "/update"))
        with self._lock:
            self.inflight += 1
            self.started += 1
            self.writes += write
        done = _Once(self._done, write)
        if self.closing:
            start_response = _closing(start_response)
        try:
            body = self.app(environ, start_response)
        except BaseException:
            done()
            raise
        if isinstance(body, list):
            done()
            return body
        return _Counted(body, done)

    def _done(self, write: bool) -> None:
        with self._lock:
            self.inflight -= 1
            self.writes -= write


class _Once:
    def __init__(self, fn, arg):
        self.fn, self.arg, self.called = fn, arg, False

    def __call__(self):
        if not self.called:
            self.called = True
            self.fn(self.arg)


class _Counted:
    """A response body that is not a list (streamed), counted in flight until closed."""

    def __init__(self, body, done):
        self.body, self._done = body, done
        self._it = iter(body)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def close(self):
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


# -- retiring a worker ----------------------------------------------------------------------

_retiring = threading.Event()


def retire(front: Front, reason: str, *, grace: float, load_timeout: float) -> None:
    """End this worker process soon (see the module docstring); ``reason``: "timeout" or
    "memory" (then at once: the memory cannot be given back, and grows meanwhile)."""
    if _retiring.is_set():
        return
    _retiring.set()
    why = {"timeout": "a query passed the time limit and cannot be stopped in place",
           "memory": "queries passed the memory limit"}.get(reason, reason)
    log.warning("worker %s: %s; it finishes its requests and exits, and a fresh one takes its place",
                os.getpid(), why)
    threading.Thread(target=_drain_and_exit, args=(front, reason, grace, load_timeout), daemon=True,
                     name="econplan-retire").start()


#: the folder where each worker that listens has a file named by its pid (set in each worker)
_peers: dict = {"dir": None}
#: the longest a retiring worker keeps listening while it waits for another one to listen
PEER_WAIT = 10.0


def _listening(flag: bool) -> None:
    """Say whether this worker listens (its file in the peers folder)."""
    folder = _peers["dir"]
    if folder is None:
        return
    path = os.path.join(folder, str(os.getpid()))
    try:
        if flag:
            open(path, "w").close()
        else:
            os.unlink(path)
    except OSError:
        pass


def _another_listens() -> bool:
    """Whether another live worker listens (so that closing this one's socket refuses nobody)."""
    folder = _peers["dir"]
    if folder is None:
        return True
    try:
        names = os.listdir(folder)
    except OSError:
        return True
    for name in names:
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            os.kill(int(name), 0)
            return True
        except ProcessLookupError:
            try:  # a worker that died without saying so
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass
        except OSError:
            return True
    return False


def _stop_listening_after_another() -> None:  # pragma: no cover - runs in a process about to exit
    """Stop listening once another worker listens, checked and done under one lock so that two
    retiring workers cannot both close at once (up to PEER_WAIT; then it closes anyway)."""
    import fcntl

    folder, start = _peers["dir"], time.monotonic()
    while True:
        try:
            fh = open(os.path.join(folder, ".lock"), "a") if folder else None
        except OSError:
            fh = None
        try:
            if fh is not None:
                fcntl.flock(fh, fcntl.LOCK_EX)
            if _another_listens() or fh is None or time.monotonic() - start > PEER_WAIT:
                _listening(False)
                _stop_listening()
                return
        finally:
            if fh is not None:
                fh.close()  # releases the lock
        time.sleep(0.05)


def _drain_and_exit(front: Front, reason: str, grace: float, load_timeout: float) -> None:  # pragma: no cover - ends the process (tested from outside)
    front.closing = True
    # memory: at once, for the runaway query keeps growing until the process ends; its 503 and
    # the other answers in flight are given first (each is a few kB, written in milliseconds)
    urgent = reason == "memory"
    if not urgent:
        time.sleep(CLOSE_FOR)
    # Two workers retiring at once would leave the port with no listener (connections refused
    # until a fresh one starts): a worker keeps listening until another one does (PEER_WAIT).
    if urgent:
        _listening(False)
        _stop_listening()
    else:
        _stop_listening_after_another()  # no new connection comes here; those accepted get answers
    start = time.monotonic()
    seen, quiet_since = front.started, start
    while True:
        time.sleep(0.01 if urgent else 0.05)
        now = time.monotonic()
        if front.writes > 0 and now - start < load_timeout:
            continue  # a load or update is never cut by a retire (up to LOAD_TIMEOUT)
        if front.started != seen or front.inflight > 0:
            seen, quiet_since = front.started, now
        if now - quiet_since >= (0.05 if urgent else 1.0) or now - start >= (0.5 if urgent else grace):
            break
    if front.inflight > 0:
        log.warning("worker %s: %d requests still open; exiting", os.getpid(), front.inflight)
    os._exit(RETIRED)


def _stop_listening() -> None:  # pragma: no cover - runs in a process about to exit
    """Shut this process's listening socket (granian gives each worker its own, SO_REUSEPORT):
    the kernel then sends new connections to the other workers."""
    import socket

    for name in os.listdir("/proc/self/fd"):
        try:
            s = socket.socket(fileno=os.dup(int(name)))
        except (OSError, ValueError):
            continue
        try:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                s.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        finally:
            s.close()


def _die_with_parent() -> None:  # pragma: no cover - runs in a worker
    """Linux: be killed when the main process goes (a worker left behind would serve on)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _reconcile_apart(build_dir) -> None:
    """Fold the change log into the dumps and bring the RocksDB store up to date
    (server.kg.builddir: compact, reconcile) in a child process: RocksDB used here, before the
    workers are forked, would leave its background threads behind in them."""
    from .kg import builddir
    from .kg.errors import StoreError

    def reconcile(build_dir):
        with builddir.writer(build_dir):
            builddir.compact(build_dir)
            builddir.reconcile(build_dir, locked=True)

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            reconcile(build_dir)
            code = 0
        except BaseException:
            logging.getLogger("econplan").exception("could not rebuild the store from its dump")
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise StoreError(f"{build_dir}: the store could not be brought up to date with its dump "
                         "and change log (see the log above)")


def default_workers() -> int:
    """HTTP worker processes by default: one per CPU this process may use, at least 2."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(2, cpus)


def _log_level(config: dict) -> str:
    level = str(config.get("LOG_LEVEL", "INFO")).lower()
    level = {"warn": "warning", "fatal": "critical"}.get(level, level)
    return level if level in ("debug", "info", "warning", "error", "critical") else "info"


def check_port(host: str, port: int) -> None:
    """Fail with one line when HOST:PORT is taken. The probe binds without SO_REUSEPORT, so a
    server already listening there (granian's workers bind with SO_REUSEPORT) makes it fail
    instead of silently sharing the port and part of its traffic."""
    import errno
    import socket

    from .kg.errors import KGError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise KGError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    family, socktype, proto, _, addr = infos[0]
    with socket.socket(family, socktype, proto) as probe:
        try:
            probe.bind(addr)
        except OSError as exc:
            why = ("the port is already in use (is another server running there?)"
                   if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc))
            raise KGError(f"cannot serve on {host}:{port}: {why}") from None


def run(config: dict, *, host: str, port: int, workers: int | None = None) -> None:
    """Serve until SIGINT/SIGTERM: ``workers`` HTTP worker processes (None: default_workers()).
    A port already in use is an error before anything starts (check_port)."""
    import shutil
    import tempfile

    check_port(host, port)
    workers = workers or default_workers()
    memo_dir = tempfile.mkdtemp(prefix="econplan-memo-")  # the workers' shared TIMEOUT_MEMO
    config = dict(config, MEMO_DIR=memo_dir)
    try:
        _run(config, host=host, port=port, workers=workers)
    finally:
        shutil.rmtree(memo_dir, ignore_errors=True)


def _run(config: dict, *, host: str, port: int, workers: int) -> None:
    from granian.constants import Interfaces, RuntimeModes
    from granian.log import LOGGING_CONFIG, LogLevels

    from .sparql import runner
    from .web.app import create_app

    app = create_app(config)
    state = app.extensions["econplan"]
    if not config.get("STORE_URL"):
        _reconcile_apart(state.build_dir)
        if config["STORE_MODE"] == "memory":
            state.current_kg()  # loaded before the fork: shared, copy-on-write, by the workers
    grace = float(config["QUERY_TIMEOUT"]) + 10
    load_timeout = float(config["LOAD_TIMEOUT"])
    master = os.getpid()
    peers = os.path.join(config["MEMO_DIR"], "listening") if config.get("MEMO_DIR") else None
    if peers:
        os.makedirs(peers, exist_ok=True)

    def load(_target=None):
        _die_with_parent()
        if os.getppid() != master:
            os._exit(1)
        _retiring.clear()
        _peers["dir"] = peers
        front = Front(app)
        runner.on_retire = lambda reason: retire(front, reason, grace=grace, load_timeout=load_timeout)
        state.runner  # noqa: B018 - this worker's query threads
        _listening(True)
        return front

    level = _log_level(config)
    log_config = {
        "formatters": dict(LOGGING_CONFIG["formatters"], generic={
            "()": "logging.Formatter", "fmt": "%(asctime)s [%(levelname)s] %(message)s"}),
        "filters": {"noise": {"()": _GranianNoise}},
        "handlers": {k: dict(v, filters=["noise"]) for k, v in LOGGING_CONFIG["handlers"].items()},
    }
    server = Supervisor("econplan", address=host, port=port, interface=Interfaces.WSGI,
                        log_dictconfig=log_config, workers=max(1, workers), blocking_threads=HTTP_THREADS,
                        backlog=2048, runtime_mode=RuntimeModes.st, respawn_failed_workers=True,
                        log_level=LogLevels(level), log_access=level in ("debug", "info"),
                        workers_kill_timeout=int(max(grace, load_timeout)) + 5)
    server.serve(target_loader=load, wrap_loader=False)
