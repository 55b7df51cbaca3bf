"""Two econplan servers side by side on one query load: before/after a change, or two settings.

    .venv/bin/python bench/ab_lookups.py --a-tree /tmp/old-checkout                # old code vs this tree
    .venv/bin/python bench/ab_lookups.py --b-env ECONPLAN_HTTP_THREADS 2 --rounds 6  # a setting
    .venv/bin/python bench/ab_lookups.py --a-workers 2 --b-workers 4               # process count

Both servers run at once on 127.0.0.1 (an idle one costs nothing) over the shipped build; wrk
drives one of compare_oxigraph.py's loads (``--load``: by default "(a) distinct lookups", 8
connections, a random fact's triples, a nonce in every request) against A, then B, then B
again and A, for ``--rounds`` rounds.  It prints every round and the medians: requests per
second, the CPU time the server's process tree spent per request, latency percentiles, and how
many of the 8 connections each HTTP process held (the kernel splits them unevenly, e.g.
4/3/1).  The machine's speed drifts by tens of percent between minutes; interleaving puts A
and B in the same minutes, and CPU per request varies less than throughput.  Use it to decide whether a change helps, then quote the ratio to
``oxigraph serve`` from compare_oxigraph.py.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen as L  # noqa: E402
from compare_oxigraph import AGGREGATE, LOOKUP, REGEX, fact_iris  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a-tree", help="serve A from the `server` package of this checkout (default: this tree)")
    ap.add_argument("--b-tree", help="serve B from the `server` package of this checkout (default: this tree)")
    ap.add_argument("--a-env", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    ap.add_argument("--b-env", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    ap.add_argument("--a-workers", type=int, help="econplan serve --workers for A (default: its default)")
    ap.add_argument("--b-workers", type=int, help="econplan serve --workers for B (default: its default)")
    ap.add_argument("--load", choices=["lookup", "aggregate", "regex"], default="lookup")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--duration", type=int, default=5, help="seconds of load per server per round")
    ap.add_argument("--build-dir", default=str(L.ROOT / "build"))
    args = ap.parse_args(argv)

    build = Path(args.build_dir)
    if args.load == "lookup":
        load = L.Load("lookup", LOOKUP, fact_iris(build / "econplan.nq"), nonce=True)
    else:
        load = L.Load(args.load, AGGREGATE if args.load == "aggregate" else REGEX, nonce=True)
    sides = (("A", args.a_tree, args.a_env, args.a_workers), ("B", args.b_tree, args.b_env, args.b_workers))
    label = {n: f"{n} ({tree or 'this tree'}{' ' + str(dict(env)) if env else ''}{f', --workers {w}' if w else ''})"
             for n, tree, env, w in sides}
    servers = {}
    try:
        for name, tree, env, workers in sides:
            port = L.free_port()
            server = L.econplan_server(build, port, env=dict(env), pythonpath=tree, query_workers=workers)
            server.start()
            servers[name] = (server, port)
        print(L.machine_line(L.machine()))
        results: dict[str, list[tuple[float, float, float]]] = {"A": [], "B": []}
        for r in range(args.rounds):
            for name in ("A", "B") if r % 2 == 0 else ("B", "A"):
                server, port = servers[name]
                detail: dict = {}
                rps, cpu_ms, p99 = L.measured_turn(f"http://127.0.0.1:{port}/sparql", load,
                                                   duration=args.duration, server_pid=server.proc.pid,
                                                   seed=r + 1, what=f"{name} in round {r + 1}", detail=detail)
                results[name].append((rps, cpu_ms, p99, detail["p90_us"] / 1000, detail["max_us"] / 1000))
                print(f"round {r + 1} {name}: {rps:8.0f} req/s  {cpu_ms:.3f} ms CPU/request  "
                      f"p50 {detail['p50_us'] / 1000:.2f}  p90 {detail['p90_us'] / 1000:.2f}  p99 {p99:.2f}  "
                      f"max {detail['max_us'] / 1000:.1f} ms  connections per process "
                      f"{'/'.join(map(str, detail['spread'])) or '?'}", flush=True)
        print()
        print("| server | median req/s | median CPU ms/request | median p90 ms | median p99 ms | median max ms |")
        print("|---|---:|---:|---:|---:|---:|")
        med = {}
        for name in ("A", "B"):
            rps, cpu, p99, p90, top = (statistics.median(x[i] for x in results[name]) for i in range(5))
            med[name] = (rps, cpu)
            print(f"| {label[name]} | {rps:.0f} | {cpu:.3f} | {p90:.2f} | {p99:.2f} | {top:.1f} |")
        print(f"\nB/A: throughput {med['B'][0] / med['A'][0]:.2f}x, CPU per request {med['B'][1] / med['A'][1]:.2f}x")
    finally:
        for server, _ in servers.values():
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
