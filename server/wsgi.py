"""Production serving: granian (the default, SERVER=granian) or gunicorn (SERVER=gunicorn).

granian (a Rust HTTP server) runs ``--workers`` HTTP processes; each answers its queries in
its own threads (executor.ThreadExecutor) from its own store, and plain queries on /sparql
skip Flask (fastpath).  No query crosses a process boundary, which is what makes small
queries fast.  A query past QUERY_TIMEOUT gets its 503 at once; as a thread cannot be
stopped, its process then drains and exits (_recycle) and granian forks a fresh one.  The
same happens, one process at a time, after a load in memory mode, once the main process has
loaded the new data (_main_loader), so that the processes share one copy again.  The guard's
timeout memo and per-client counts live in shared memory (server.shared).  See run_granian.

gunicorn runs one front process (16 threads) taking HTTP requests; the queries run in the
query-worker processes of server.executor.QueryExecutor, killed at the time limit.  The app
is created once, in the master, but it touches no RocksDB store there: RocksDB used before a
fork hangs in the child, so the front opens its store after the fork (_post_worker_init).
Any gunicorn setting can be overridden the usual gunicorn way, with the ``GUNICORN_CMD_ARGS``
environment variable.  ``--workers 2`` there runs two fronts, each with its own QUERY_WORKERS
query workers (and, in memory mode, its own template process holding a copy of the store) and
response cache; the per-client limit on heavy queries (MAX_HEAVY_PER_CLIENT), the timeout
memo (TIMEOUT_MEMO) and the coalescing of identical queries in flight are then kept per front.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

from gunicorn.app.base import BaseApplication


class _App(BaseApplication):
    def __init__(self, app, options):
        self.application, self.options = app, options
        super().__init__()

    def load_config(self):
        for k, v in self.options.items():
            self.cfg.set(k, v)
        env = self.cfg.get_cmd_args_from_env()  # GUNICORN_CMD_ARGS
        if env:
            args = self.cfg.parser().parse_args(env)
            for k, v in vars(args).items():
                if v is not None and k != "args":
                    self.cfg.set(k.lower(), v)

    def load(self):
        return self.application


class _StreamAbortLine(logging.Filter):
    """gunicorn logs an iterator's exception with a traceback; a streamed answer cut short on
    purpose (time limit, worker death: server.executor.StreamAborted) gets one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .executor import StreamAborted

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, StreamAborted):
            record.msg, record.args = "streamed answer cut short: %s", (str(exc),)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class _GranianNoise(logging.Filter):
    """Under granian: a streamed answer cut short on purpose is logged once, as one line, by
    the executor; granian's own record of it (the iterator's exception, with a traceback) is
    dropped.  So is its advice against more Python threads than cores: HTTP_THREADS is meant
    to be larger, as the threads mostly wait for queries that run outside the GIL.  And an HTTP
    process that drained and exited on purpose (after a load, or to take a runaway query with
    it: _drain_and_exit) is not reported as granian words it, "Unexpected exit" at ERROR, but as
    what it is, at INFO; an exit that was not ours (a crash) stays an ERROR."""

    #: the shared state of the server's processes (run_granian sets it before granian starts)
    shared = None

    def filter(self, record: logging.LogRecord) -> bool:
        from .executor import StreamAborted

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, StreamAborted):
            return False
        msg = record.getMessage()
        if msg.startswith("Unexpected exit from worker-") and self.shared is not None:
            if self.shared.exited_on_purpose():
                record.msg, record.args = (f"{msg[len('Unexpected exit from '):]} exited on purpose, "
                                           "after draining its requests; a fresh one takes its place"), ()
                record.levelno, record.levelname = logging.INFO, "INFO"
                return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return not (msg.startswith("Configuration allows spawning up to")
                    or "StreamAborted: " in msg and "Traceback" in msg)


def _post_worker_init(worker) -> None:
    """In each front, after the fork: start its query workers (EAGER_WORKERS)."""
    logging.getLogger("gunicorn.error").addFilter(_StreamAbortLine())
    app = worker.app.application
    app.extensions["econplan"].current_kg()  # open the store here, after the fork (see AppState)
    if app.config.get("EAGER_WORKERS"):
        app.extensions["econplan"].executor  # noqa: B018 - starts this front's query workers


def _log_level(config: dict) -> str:
    """LOG_LEVEL as the servers spell it (INFO and DEBUG also turn the access log on)."""
    level = str(config.get("LOG_LEVEL", "INFO")).lower()
    level = {"warn": "warning", "fatal": "critical"}.get(level, level)
    return level if level in ("debug", "info", "warning", "error", "critical") else "info"


def run_gunicorn(config: dict, *, host: str, port: int, workers: int | None = None) -> None:
    """Serve with gunicorn: one front, ``workers`` query-worker processes (None: 2)."""
    from . import create_app

    workers = workers or 2

    eager = bool(config.get("EAGER_WORKERS", True))
    # Query workers are started in the front after gunicorn forks it, never in the master
    # (a pool made before the fork would be shared by every front with --workers 2).
    config = dict(config, SERVER="gunicorn", QUERY_WORKERS=max(1, workers), EAGER_WORKERS=False)
    app = create_app(config)
    app.config["EAGER_WORKERS"] = eager
    level = _log_level(config)
    # One access-log line per request at INFO and DEBUG (it costs about 0.1 ms of CPU a
    # request, a tenth of a cached answer); LOG_LEVEL=WARNING or above turns it off.
    access = "-" if level in ("debug", "info") else None
    _App(app, {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread",
               "threads": 16, "timeout": int(config["QUERY_TIMEOUT"]) + 30,
               "accesslog": access, "errorlog": "-", "loglevel": level,
               "post_worker_init": _post_worker_init}).run()


# -- SERVER=granian: queries in the HTTP processes, a process recycled on a timeout ------------

_BIRTH = time.monotonic()
_recycling = threading.Event()
#: granian treats a worker that exits within 5.5 s of being (re)started as a crash loop and stops
#: the whole server; a process that must go waits until it is older than this.
MIN_AGE = 6.0


#: seconds during which a process about to exit closes every connection after its answer
#: (Connection: close), so that keep-alive clients reconnect elsewhere first: then, when it
#: exits, no connection is left that a client might be writing a request on
CLOSE_FOR = 2.0


def _stop_listening() -> None:  # pragma: no cover - runs in a process about to exit
    """Shut this process's listening socket (granian gives each process its own, SO_REUSEPORT):
    the kernel then sends new connections to the other processes.  (granian's accept loop spins
    on the dead socket meanwhile: this is done only for the process's last second or two.)"""
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


def _drain_and_exit(grace: float, shared, front) -> None:  # pragma: no cover - ends the process (tested from outside)
    age = time.monotonic() - _BIRTH
    if age < MIN_AGE - CLOSE_FOR:
        time.sleep(MIN_AGE - CLOSE_FOR - age)
    waited = False
    while not shared.take_exit_turn():
        waited = True  # another process is on its way out: let its replacement start first
        time.sleep(0.2)
    if waited:
        time.sleep(1.0)
    front.closing = True
    time.sleep(CLOSE_FOR)
    _stop_listening()  # no new connection comes here; those just accepted get their answer
    time.sleep(0.5)
    # granian's graceful stop (SIGTERM) never ends once the listening socket is shut (its accept
    # loop keeps retrying), so the process exits by itself once its requests are done, those on
    # connections it accepted or kept alive before included: none open, none begun for 1 s.
    # granian's supervisor (respawn_failed_workers) then forks a fresh one.
    deadline = time.monotonic() + grace
    seen, quiet_since = front.started, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if front.started != seen or front.inflight > 0:
            seen, quiet_since = front.started, time.monotonic()
        elif time.monotonic() - quiet_since >= 1.0:
            break
    if front.inflight > 0:
        logging.getLogger("econplan").warning("process %s: %d requests still open after %.0f s; exiting",
                                              os.getpid(), front.inflight, grace)
    shared.note_exit_on_purpose()
    os._exit(0)


def _recycle(grace: float, shared, front, why: str | None = None) -> None:
    """executor.on_stuck under granian: a query passed its time limit inside this process,
    where nothing can stop it; the process stops serving and exits, taking the query along.
    Also used when the process holds data that the main process has replaced (``why``)."""
    if _recycling.is_set():
        return
    _recycling.set()
    logging.getLogger("econplan").warning(
        "process %s: %s; this process finishes its open requests and exits, and a fresh one takes its "
        "place", os.getpid(), why or "a query passed the time limit and cannot be stopped in place")
    threading.Thread(target=_drain_and_exit, args=(grace, shared, front), daemon=True, name="econplan-recycle").start()


# -- after a load (STORE_MODE=memory): one shared copy of the new data again ------------------

def _announce(version: str, master: int) -> None:
    """In an HTTP process that has just reloaded the data (a load changed it, here, in another
    process or by the CLI): ask the main process (SIGUSR1) to load it too (_load_in_main).  Every
    process that reloads asks; the main process loads once, the other requests find nothing new."""
    logging.getLogger("econplan").info("data version %s: asking the main process to load it", version)
    os.kill(master, signal.SIGUSR1)


def _main_loader(state):
    """The main process's SIGUSR1 handler: load the data version now current, record it in the
    shared state, and so make every HTTP process born with an older one drain and exit
    (_watch_main_version), one at a time, through the path a runaway query takes (closing
    connections first, then the listening socket); granian forks each replacement from this
    process, so that they all share its one copy.  A signal arriving during a load is handled
    after it (not nested)."""
    busy, again = [False], [False]

    def handler(signum, frame):
        if busy[0]:
            again[0] = True
            return
        busy[0] = True
        try:
            while True:
                again[0] = False
                _load_in_main(state)
                if not again[0]:
                    break
        finally:
            busy[0] = False
    return handler


def _load_in_main(state) -> None:
    before = state.loaded_version
    try:
        kg = state.current_kg()
    except Exception:  # noqa: BLE001 - the processes keep their own copies; they still serve
        logging.getLogger("econplan").exception("main process: could not load the new data version")
        return
    if kg.version == before:
        return  # another process's request for the same version: loaded already
    _give_back_memory()  # the old copy's pages, which the new processes would otherwise inherit
    state.shared.set_main_version(kg.version)
    logging.getLogger("econplan").info("main process: data version %s loaded; replacing the HTTP "
                                       "processes so that they share it", kg.version)


def _watch_main_version(born: str, grace: float, shared, front) -> None:  # pragma: no cover - a thread of an HTTP process
    """In each HTTP process: once the main process holds a newer data version than the one this
    process was born with, drain and exit (one process at a time; see _drain_and_exit)."""
    while not _recycling.is_set():
        time.sleep(0.5)
        main = shared.main_version()
        if main and main != born:
            _recycle(grace, shared, front, why=f"the main process now holds data version {main}")
            return


def _give_back_memory() -> None:
    """Free what a replaced store left, after a reload (glibc keeps freed memory for reuse;
    malloc_trim returns it to the system); without it the HTTP processes forked next inherit
    those pages too.  After a catch-up (KnowledgeGraph.catch_up) there is little to free."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _reconcile_apart(build_dir) -> None:
    """Finish an interrupted write (writes.reconcile) in a child process, not here: rebuilding
    the RocksDB store in this process, which granian then forks, would leave RocksDB's
    background threads behind, and the HTTP processes' writes would hang (seen: a load after a
    start that had to rebuild never answered)."""
    from .errors import StoreError
    from .writes import reconcile

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
        raise StoreError(f"{build_dir}: the store could not be brought up to date with econplan.nq "
                         "(see the log above)")


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity: a container's or taskset's limit)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return list(range(os.cpu_count() or 1))


def http_processes(pin: bool = False) -> int:
    """The default number of HTTP processes under granian: with PIN_CPUS (``pin``), one per CPU
    this process may use; without, one more than that.  At least 2 either way.

    Each process serialises its Python work on its own GIL.  Unpinned, a request spends much of
    its time waiting for its GIL or for the engine, and an extra process has work ready
    meanwhile: on 2 cores, 3 processes against 2 (bench/RESULTS.md "Stop 14"): distinct lookups
    1.16x, the GROUP BY aggregate 1.06x, the regex scan 0.97x; 4 processes did as well on
    lookups (1.13x) but the regex scan fell to 0.83x, in every round.  Pinned, a process's
    threads share one CPU and an extra process would have to share one with another, unevenly:
    2 pinned processes against 3 unpinned (stop 16): the aggregate 1.05-1.08x, the regex scan
    1.06-1.09x, but distinct lookups 0.90x and repeated ones about 0.7x.  The processes share
    the in-memory store, loaded before the fork; each adds its own Python heap (about 80 MiB
    PSS after a benchmark run)."""
    cores = len(allowed_cpus())
    return max(2, cores if pin else cores + 1)


def _for_every_thread(apply) -> None:
    """``apply(tid)`` for every thread of this process (threads started later inherit the CPU
    affinity and scheduling policy of the thread that starts them)."""
    for tid in os.listdir("/proc/self/task"):
        try:
            apply(int(tid))
        except (OSError, ValueError):  # a thread that has just ended
            pass


def pin_process(cpu: int) -> None:
    """Pin every thread of this process to ``cpu`` (PIN_CPUS)."""
    _for_every_thread(lambda tid: os.sched_setaffinity(tid, {cpu}))


def batch_process() -> None:
    """Put every thread of this process under the SCHED_BATCH policy (the SCHED_BATCH setting)."""
    _for_every_thread(lambda tid: os.sched_setscheduler(tid, os.SCHED_BATCH, os.sched_param(0)))


def run_granian(config: dict, *, host: str, port: int, workers: int | None = None) -> None:
    """Serve with granian (a Rust HTTP server): ``workers`` processes, each answering queries in
    its own threads from its own store (no hop to a query-worker process; plain queries on
    /sparql skip Flask: server.fastpath).  A query past QUERY_TIMEOUT gets its 503 at once, and
    its process, where the query cannot be stopped, drains and exits (_recycle); granian starts
    a new one.  In STORE_MODE=memory the store is loaded once, here, before the processes are
    forked, so they share it until a load changes it.  With PIN_CPUS each process, as it
    starts, pins itself to the CPU with the fewest processes (server.shared.claim_cpu: a
    replacement takes the CPU of the process it replaces); with SCHED_BATCH (the default) its
    threads run under that scheduling policy.  ``workers`` None: http_processes()."""
    from granian import Granian
    from granian.constants import Interfaces, RuntimeModes
    from granian.log import LogLevels

    from . import create_app, executor
    from .fastpath import FastPath

    pin = bool(config.get("PIN_CPUS")) and hasattr(os, "sched_setaffinity")
    batch = bool(config.get("SCHED_BATCH")) and hasattr(os, "SCHED_BATCH")
    cpus = allowed_cpus()
    workers = workers or http_processes(pin)

    config = dict(config, SERVER="granian", EAGER_WORKERS=False)
    app = create_app(config)
    state = app.extensions["econplan"]
    state.run_queries_in_threads()
    from .shared import SharedGuardState

    state.shared = SharedGuardState()  # made before the fork: one for every process
    _GranianNoise.shared = state.shared
    # After a load the processes are replaced one at a time so that they share the new data
    # again (_main_loader); a single process would leave no one to serve meanwhile, so it keeps
    # its own copy instead.
    shared_store = not config.get("STORE_URL") and state.front_mode == "memory"
    replace_after_load = shared_store and workers > 1
    if not config.get("STORE_URL"):
        _reconcile_apart(state.build_dir)
        if shared_store:
            # loaded before the fork: shared, copy-on-write, by every process
            state.shared.set_main_version(state.current_kg().version)
    level = _log_level(config)
    grace = float(config["QUERY_TIMEOUT"]) + 10

    master = os.getpid()

    def load(_target=None):
        global _BIRTH
        executor._die_with_parent()  # a process left behind by a killed master would serve on
        if os.getppid() != master:
            os._exit(1)
        _BIRTH = time.monotonic()
        _recycling.clear()
        if pin:  # before this process starts its query threads, which inherit it
            pin_process(state.shared.claim_cpu(cpus))
        if batch:  # (the same)
            batch_process()
        front = FastPath(app)
        executor.on_stuck = lambda: _recycle(grace, state.shared, front)
        if replace_after_load:
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # (the main process's handler, inherited)
            state.on_new_version = lambda version: _announce(version, master)
            born = state.shared.main_version()  # the data this process was forked with
            threading.Thread(target=_watch_main_version, args=(born, grace, state.shared, front),
                             daemon=True, name="econplan-version-watch").start()
        state.executor  # noqa: B018 - this process's query threads
        return front

    from granian.log import LOGGING_CONFIG

    log_config = {
        "formatters": dict(LOGGING_CONFIG["formatters"], generic={
            "()": "logging.Formatter", "fmt": "%(asctime)s [%(levelname)s] %(message)s"}),
        "filters": {"noise": {"()": _GranianNoise}},
        "handlers": {k: dict(v, filters=["noise"]) for k, v in LOGGING_CONFIG["handlers"].items()},
    }
    server = Granian("econplan", address=host, port=port, interface=Interfaces.WSGI,
                     log_dictconfig=log_config,
                     workers=max(1, workers), blocking_threads=int(config["HTTP_THREADS"]), backlog=2048,
                     # one I/O thread on a single-threaded runtime: for WSGI granian's default is the
                     # multi-threaded one, a few percent slower here (7 of 9 interleaved runs; bench/
                     # RESULTS.md, stop 15)
                     runtime_mode=RuntimeModes.st,
                     respawn_failed_workers=True, log_level=LogLevels(level),
                     log_access=level in ("debug", "info"), workers_kill_timeout=int(config["QUERY_TIMEOUT"]) + 5)
    if replace_after_load:
        signal.signal(signal.SIGUSR1, _main_loader(state))
    server.serve(target_loader=load, wrap_loader=False)
