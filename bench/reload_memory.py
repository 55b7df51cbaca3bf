"""Memory of `econplan serve` (granian, STORE_MODE=memory) before and after a validated load.

    .venv/bin/python bench/reload_memory.py                      # 1M synthetic triples
    .venv/bin/python bench/reload_memory.py --triples 300000 --json out.json

The HTTP processes share the store that the main process loaded before forking them.  A load
changes the data: each HTTP process then reloads its own copy (to answer from the new data at
once), and the first asks the main process to load the new data and replace the processes
(granian's graceful reload), so that one shared copy is left.  This prints the PSS (shared
pages divided among their sharers: the memory really used) and RSS of the whole server

1. after start and a few queries,
2. just after a one-triple HTTP load, once every HTTP process has answered from the new data
   (each holds its own copy: the peak of the cycle),
3. once the HTTP processes have been replaced,

and the time from the load's answer to the replacement.  Data: bench/scale.py's generator
(--seed), made into a build folder the way `econplan build` leaves one.  127.0.0.1 only; the
server is stopped at the end.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loadgen as L  # noqa: E402
import scale  # noqa: E402

TOKEN = "bench-reload-token"
ALT = ("SELECT ?l WHERE { <https://w3id.org/econplan/id/indicator/gdp> "
       "<http://www.w3.org/2004/02/skos/core#altLabel> ?l }")


def children(pid: int) -> set[int]:
    try:
        return {int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()}
    except OSError:
        return set()


def get(url: str, query: str) -> bytes:
    with urllib.request.urlopen(url + "?" + urllib.parse.urlencode({"query": query}), timeout=300) as r:
        return r.read()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2, help="HTTP processes")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args(argv)
    from server.kg.writes import reconcile

    machine = L.machine()
    r: dict = {"command": "python bench/reload_memory.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp:
        build = Path(tmp) / "build"
        build.mkdir()
        r["triples"] = scale.generate(build / "econplan.nq", args.triples, args.seed)
        t0 = time.perf_counter()
        reconcile(build)  # the TriG dump and the RocksDB store, as `econplan build` leaves them
        print(f"{r['triples']:,} triples; build folder made in {time.perf_counter() - t0:.1f} s", flush=True)
        srv = L.econplan_server(build, L.free_port(), query_workers=args.workers, log_dir=Path(tmp),
                                env={"ECONPLAN_WRITE_TOKEN": TOKEN, "ECONPLAN_LOG_LEVEL": "INFO",
                                     "ECONPLAN_STORE_MODE": "memory", "ECONPLAN_SERVER": "granian"})
        srv.start(deadline_s=600)
        try:
            r["first_answer_s"] = srv.first_answer_s
            for _ in range(4 * args.workers):  # new connections: every process answers some
                get(srv.url, ALT)
            r["before"] = srv.memory()
            print(f"before the load: {r['before']}", flush=True)
            before = children(srv.proc.pid)
            body = b'<https://w3id.org/econplan/id/indicator/gdp> <http://www.w3.org/2004/02/skos/core#altLabel> "GRP"@en .\n'
            req = urllib.request.Request(srv.url.rsplit("/", 1)[0] + "/load?graph=https://example.org/bench",
                                         data=body, method="POST",
                                         headers={"Content-Type": "application/n-triples",
                                                  "Authorization": f"Bearer {TOKEN}"})
            t0 = time.perf_counter()
            with urllib.request.urlopen(req, timeout=1800) as resp:
                assert resp.status == 201, resp.status
            r["load_s"] = time.perf_counter() - t0
            t_loaded = time.perf_counter()
            for _ in range(4 * args.workers):
                assert b"GRP" in get(srv.url, ALT)
            r["after_load"] = srv.memory()
            print(f"after the load ({r['load_s']:.1f} s), every process on the new data: {r['after_load']}",
                  flush=True)
            deadline = time.perf_counter() + 600
            while time.perf_counter() < deadline:
                now = children(srv.proc.pid)
                if len(now) == args.workers and not now & before:
                    break
                time.sleep(0.5)
            else:
                raise SystemExit("the HTTP processes were not replaced within 600 s")
            r["replaced_after_s"] = time.perf_counter() - t_loaded
            for _ in range(4 * args.workers):
                assert b"GRP" in get(srv.url, ALT)
            r["after_replacement"] = srv.memory()
            print(f"after the replacement ({r['replaced_after_s']:.1f} s after the load): "
                  f"{r['after_replacement']}", flush=True)
        finally:
            srv.stop()
    lines = [f"Command: `{r['command']}`", f"Machine: {L.machine_line(machine)}.", "",
             f"{r['triples']:,} triples, {args.workers} HTTP processes, STORE_MODE=memory; first answer after "
             f"{r['first_answer_s']:.1f} s; the one-triple load took {r['load_s']:.1f} s; the processes were "
             f"replaced {r['replaced_after_s']:.1f} s after it.", "",
             "| moment | processes | PSS MiB | RSS MiB (sum) |", "|---|---:|---:|---:|"]
    for label, key in (("before the load", "before"), ("after the load, each process on the new data", "after_load"),
                       ("after the replacement", "after_replacement")):
        m = r[key]
        lines.append(f"| {label} | {m['processes']} | {m['pss_mib']:.0f} | {m['rss_mib']:.0f} |")
    print()
    print("\n".join(lines))
    r["report"] = "\n".join(lines)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
