"""How close can a Python server over pyoxigraph get to ``oxigraph serve``?  Three servers, one run.

    .venv/bin/python bench/ceiling.py                          # lookups, aggregate, regex; 4 rounds of 5 s
    .venv/bin/python bench/ceiling.py --load lookup --rounds 6

Over the shipped build, on 127.0.0.1, with compare_oxigraph.py's loads and wrk (8 connections):

- ``oxigraph``: ``oxigraph serve`` in memory (the engine, natively served; without
  ``--timeout-s``, as in compare_oxigraph.py, see loadgen.oxigraph_server);
- ``bare``: bench/bare_app.py, granian and pyoxigraph as econplan runs them (the same number of
  processes, 4 threads each, the store in memory) with nothing else: the query runs in the HTTP
  thread, no negotiation, cache, limit, timeout or error handling;
- ``econplan``: ``econplan serve`` (QUERY_TIMEOUT 30 s, MAX_HEAVY_PER_CLIENT 0 as in
  compare_oxigraph.py).

The servers take turns, in a rotating order, for ``--rounds`` rounds per load (the machine's
speed drifts between minutes; turns put all three in the same minutes), and the medians are
compared: ``bare / oxigraph`` is the most a Python front over pyoxigraph can reach on this
machine, ``econplan / bare`` what econplan's own work per query costs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen as L  # noqa: E402
from compare_oxigraph import AGGREGATE, LOOKUP, REGEX, fact_iris  # noqa: E402

LOADS = ("lookup", "aggregate", "regex")


def bare_server(nquads: Path, port: int, log_dir: Path) -> L.Server:
    cmd = [sys.executable, str(Path(__file__).resolve().parent / "bare_app.py"), str(nquads), str(port)]
    return L.Server("bare", cmd, f"http://127.0.0.1:{port}/sparql", log_path=log_dir / f"bare-{port}.log")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--load", nargs="*", choices=LOADS, default=list(LOADS))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--duration", type=int, default=5, help="seconds of load per server per round")
    ap.add_argument("--build-dir", default=str(L.ROOT / "build"))
    args = ap.parse_args(argv)

    build = Path(args.build_dir)
    nquads = build / "econplan.nq"
    loads = {"lookup": L.Load("lookup", LOOKUP, fact_iris(nquads), nonce=True),
             "aggregate": L.Load("aggregate", AGGREGATE, nonce=True),
             "regex": L.Load("regex", REGEX, nonce=True)}
    names = ("oxigraph", "bare", "econplan")
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as tmp:
        work = Path(tmp)
        servers = {}
        try:
            servers["oxigraph"] = L.oxigraph_server(L.free_port(), location=None, log_dir=work)
            servers["oxigraph"].start(after_start=L.oxigraph_load_http(nquads))
            servers["bare"] = bare_server(nquads, L.free_port(), work).start()
            servers["econplan"] = L.econplan_server(build, L.free_port(), log_dir=work, env={
                "ECONPLAN_QUERY_TIMEOUT": "30", "ECONPLAN_MAX_HEAVY_PER_CLIENT": "0"}).start()
            print(L.machine_line(L.machine()))
            print(f"{args.rounds} rounds of {args.duration} s per server and load; wrk, 8 connections\n")
            summary = []
            for load_name in args.load:
                load = loads[load_name]
                results: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
                for r in range(args.rounds):
                    order = names[r % 3:] + names[:r % 3]
                    for name in order:
                        server = servers[name]
                        server.check_alive()
                        rps, cpu_ms, p99 = L.measured_turn(server.url, load, duration=args.duration,
                                                           server_pid=server.proc.pid, seed=r + 1,
                                                           what=f"{name} on {load_name}, round {r + 1}")
                        results[name].append((rps, cpu_ms, p99))
                        print(f"{load_name} round {r + 1} {name:9s}: {rps:8.0f} req/s  "
                              f"{cpu_ms:.3f} ms CPU/request  p99 {p99:.2f} ms", flush=True)
                med = {n: tuple(statistics.median(x[i] for x in results[n]) for i in range(3)) for n in names}
                summary.append((load_name, med))
            print()
            print("| load | server | median req/s | median CPU ms/request | median p99 ms |")
            print("|---|---|---:|---:|---:|")
            for load_name, med in summary:
                for n in names:
                    print(f"| {load_name} | {n} | {med[n][0]:.0f} | {med[n][1]:.3f} | {med[n][2]:.2f} |")
            print()
            print("| load | bare / oxigraph | econplan / oxigraph | econplan / bare | p99 econplan / oxigraph |")
            print("|---|---:|---:|---:|---:|")
            for load_name, med in summary:
                ox, bare, ep = med["oxigraph"], med["bare"], med["econplan"]
                print(f"| {load_name} | {bare[0] / ox[0]:.2f}x | {ep[0] / ox[0]:.2f}x | {ep[0] / bare[0]:.2f}x "
                      f"| {ep[2] / ox[2]:.1f}x |")
        finally:
            for server in servers.values():
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
