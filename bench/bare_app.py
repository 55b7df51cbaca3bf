"""The least a Python server over pyoxigraph can do for a SPARQL query: the ceiling.

    .venv/bin/python bench/bare_app.py build/econplan.nq 8900      # serves POST /sparql on :8900
    .venv/bin/python bench/bare_app.py build/econplan.nq 8900 2 4 pin   # 2 processes, 4 threads, pinned
    .venv/bin/python bench/bare_app.py build/econplan.nq 8900 3 4 nobatch   # SCHED_OTHER

granian, as econplan runs it (WSGI, the single-threaded runtime, as many processes as ``econplan
serve`` starts by default, 4 threads each, the store loaded in memory once before the fork;
with ``pin``, one process per CPU, each pinned to its own, as ``econplan serve`` with PIN_CPUS;
the threads under SCHED_BATCH, as with econplan's default SCHED_BATCH, unless ``nobatch``), with
an application that does nothing but read the body, run the query in the HTTP thread over the
union of the graphs and answer its JSON results.  No content negotiation, ETag, cache, per-client limit, error
handling, timeout (so no query can be stopped), or anything else econplan does.  bench/ceiling.py runs it beside ``oxigraph serve``
and econplan, so that econplan's distance to the engine can be split into what the platform
costs (this app against oxigraph) and what econplan's own work costs (econplan against this
app).  It is a measuring instrument, not a server to use.
"""
from __future__ import annotations

import sys

import pyoxigraph as ox
from granian import Granian
from granian.constants import Interfaces, RuntimeModes

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
from server.shared import SharedGuardState  # noqa: E402
from server.serve import (  # noqa: E402  (as econplan serve does)
    allowed_cpus, batch_process, http_processes, pin_process)

JSON = ox.QueryResultsFormat.JSON
STORE = ox.Store()


def app(environ, start_response):
    query = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode()
    body = STORE.query(query, use_default_graph_as_union=True).serialize(format=JSON)
    start_response("200 OK", [("Content-Type", "application/sparql-results+json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def main(argv: list[str]) -> None:
    nquads, port = argv[0], int(argv[1])
    pin, batch = "pin" in argv[4:], "nobatch" not in argv[4:]
    workers = int(argv[2]) if len(argv) > 2 else http_processes(pin)
    threads = int(argv[3]) if len(argv) > 3 else 4
    STORE.bulk_load(path=nquads, format=ox.RdfFormat.N_QUADS)  # before the fork: shared
    cpus, shared = allowed_cpus(), SharedGuardState()  # made before the fork, as econplan's

    def load(_target=None):  # in each process, after the fork
        if pin:
            pin_process(shared.claim_cpu(cpus))
        if batch:
            batch_process()
        return app

    Granian("bare", address="127.0.0.1", port=port, interface=Interfaces.WSGI, workers=workers,
            blocking_threads=threads, backlog=2048, runtime_mode=RuntimeModes.st, log_enabled=False).serve(
        target_loader=load, wrap_loader=False)


if __name__ == "__main__":
    main(sys.argv[1:])
