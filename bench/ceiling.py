"""The ceiling of a Python answer path: a repeated small lookup against `oxigraph serve`.

    .venv/bin/python bench/ceiling.py           # the build in build/, 5 interleaved rounds of 2 s

The repeated-lookup floor (>= 1.0x `oxigraph serve`) asks a Python server to answer a
byte-identical request as fast as a Rust one.  This script measures how close any Python
answer path on granian can come, whatever it does before answering, by serving three
things side by side on the same machine, in interleaved rounds, with the same wrk load:

- `oxigraph serve` over the data (in memory, loaded over HTTP);
- a *bare* WSGI app (`bench/bare_app.py`) on granian with econplan's worker count and
  threads, which answers every request with oxigraph's answer bytes, read once at start:
  no parsing, no routing, no store, no cache lookup.  Nothing written in Python on this
  server can be faster;
- the same answer from a Flask app with one route and nothing else (`bare_app:flask`): the
  least a request that takes a Flask path costs;
- `econplan serve` (the answer cache behind the whole Flask path).

Each ratio is that server's requests per second over oxigraph's in the same round.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen as L  # noqa: E402
from compare_oxigraph import LOOKUP, fact_iris  # noqa: E402

ROOT = L.ROOT


def bare_server(name: str, port: int, answer: Path, *, workers: int, threads: int, log_dir: Path) -> L.Server:
    exe = L.tool("granian")
    if exe is None:
        raise SystemExit("granian is missing: make install")
    cmd = [exe, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--blocking-threads", str(threads), "--log-level", "warning",
           "bare_app:" + ("app" if name == "bare" else "flask")]
    return L.Server(name, cmd, f"http://127.0.0.1:{port}/sparql",
                    env={"BARE_ANSWER": str(answer), "PYTHONPATH": str(Path(__file__).resolve().parent)},
                    log_path=log_dir / f"{name}-{port}.log")


def run(args) -> dict:
    from server.serve import HTTP_THREADS

    nq = Path(args.build_dir).resolve() / "econplan.nq"
    facts = fact_iris(nq)
    query = LOOKUP.replace("{{SUBJECT}}", facts[0])
    load = L.Load("lookup-repeat", query)
    result = {"machine": L.machine(), "data": str(nq), "rounds": {}}
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as tmp:
        work = Path(tmp)
        oxs = L.oxigraph_server(L.free_port(), location=None, log_dir=work)
        eps = L.econplan_server(Path(args.build_dir).resolve(), L.free_port(), log_dir=work,
                                env={"ECONPLAN_MAX_HEAVY_PER_CLIENT": "0"})
        servers = [oxs]
        try:
            oxs.start(after_start=L.oxigraph_load_http(nq))
            status, _, body = L.sparql_post(oxs.url, query)
            if status != 200 or L.rows_of(body) == 0:
                raise SystemExit(f"oxigraph did not answer the lookup ({status})")
            answer = work / "answer.json"
            answer.write_bytes(body)
            eps.start()
            workers = len(L.children(eps.proc.pid))
            servers = [oxs]
            for name in ("bare", "flask"):
                servers.append(bare_server(name, L.free_port(), answer, workers=workers,
                                           threads=HTTP_THREADS, log_dir=work).start())
            servers.append(eps)
            result["workers"], result["threads"] = workers, HTTP_THREADS
            for rnd in range(args.rounds):
                order = servers if rnd % 2 == 0 else list(reversed(servers))
                per = {}
                for srv in order:
                    srv.check_alive()
                    L.wait_quiet(args.quiet_wait)
                    if args.warm_up:
                        L.wrk(srv.url, load, duration=args.warm_up, connections=args.connections)
                    per[srv.name] = L.wrk(srv.url, load, duration=args.duration,
                                          connections=args.connections, server_pid=srv.proc.pid)
                for name, r in per.items():
                    result["rounds"].setdefault(name, []).append(r["rps"])
                print(f"round {rnd + 1}: " + ", ".join(f"{n} {r['rps']:.0f} req/s" for n, r in per.items()),
                      flush=True)
        finally:
            for srv in servers[::-1]:
                srv.stop()
            eps.stop()
            oxs.stop()
    return result


def report(r: dict) -> str:
    rounds = r["rounds"]
    ox = rounds["oxigraph"]
    lines = [f"Machine: {L.machine_line(r['machine'])}",
             f"Data: {r['data']}; granian: {r['workers']} worker processes x {r['threads']} threads "
             f"(econplan's defaults) for both Python servers; wrk 8 connections, one repeated lookup.",
             "",
             "| server | req/s (median round) | ratio to oxigraph (median of rounds) | ratios of each round |",
             "|---|---:|---:|---|"]
    for name in ("oxigraph", "bare", "flask", "econplan"):
        ratios = [a / b for a, b in zip(rounds[name], ox)]
        lines.append(f"| {name} | {statistics.median(rounds[name]):.0f} | {statistics.median(ratios):.2f}x | "
                     + ", ".join(f"{x:.2f}x" for x in ratios) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=str(ROOT / "build"), help="a built folder (its econplan.nq is served)")
    ap.add_argument("--warm-up", type=float, default=1, help="seconds of load before each measured turn")
    ap.add_argument("--duration", type=float, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--quiet-wait", type=float, default=1)
    args = ap.parse_args(argv)
    if not (Path(args.build_dir) / "econplan.nq").exists():
        raise SystemExit(f"{args.build_dir}: no build here; run `econplan build` first")
    print(report(run(args)))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
