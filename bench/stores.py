"""The stores side by side: load time and query latencies on the embedded store, `oxigraph serve`,
Virtuoso and Fuseki, over the same synthetic data (bench/scale.py's generator), in one run.

    .venv/bin/python bench/stores.py                       # 1M triples
    .venv/bin/python bench/stores.py --triples 100000 --stores embedded oxigraph virtuoso

For each store:

* load: the embedded store, ``pyoxigraph.Store().bulk_load`` of the N-Quads dump (what every
  query worker does at start in STORE_MODE=memory); an external store, ``econplan --store URL
  push`` of the same dump (what a user runs), timed as one command;
* queries: bench/scale.py's saved-query-like queries (a fact lookup, the headline saved query
  with its parameters bound, one indicator across cities and years, a GROUP BY over all facts, a
  regex over all sentences), sent the way econplan sends them (``RemoteStore.query``, with each
  store's dialect) or run on the embedded store directly: one cold run, then the median of 3.

Each external store runs on 127.0.0.1 with a throwaway database (tests/external_stores.py) and
is stopped at the end. A store that cannot be started here is reported as such, with the reason.
Prints a Markdown table; ``--json FILE`` keeps the numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

import pyoxigraph as ox  # noqa: E402

import scale  # noqa: E402
from external_stores import STORES, free_port  # noqa: E402

ECONPLAN = str(Path(sys.executable).parent / "econplan")
OXIGRAPH = str(Path(sys.executable).parent / "oxigraph")


class Oxigraph:
    """`oxigraph serve` on 127.0.0.1, on disk in a temporary folder, union default graph."""

    kind = "oxigraph"

    def __init__(self, work: Path, location: Path | None = None):
        import urllib.request

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = location or Path(tempfile.mkdtemp(prefix="oxi-", dir=work))
        self.log = open(self.dir.parent / f"oxigraph-{self.port}.log", "wb")
        self.proc = subprocess.Popen([OXIGRAPH, "serve", "--location", str(self.dir), "--bind",
                                      f"127.0.0.1:{self.port}", "--union-default-graph"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/query?query=ASK%7B%7D", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("oxigraph serve did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


def timed_queries(run, qs: dict[str, str], runs: int = 3) -> dict:
    out = {}
    for name, q in qs.items():
        times, rows, error = [], None, None
        for i in range(runs + 1):
            t0 = time.perf_counter()
            try:
                res = run(q + f"\n# run {i}")
                rows = len(list(res))
            except Exception as exc:  # noqa: BLE001 - reported, not hidden
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
                break
            times.append(time.perf_counter() - t0)
        out[name] = {"rows": rows, "error": error, "cold_ms": times[0] * 1000 if times else None,
                     "median_ms": statistics.median(times[1:]) * 1000 if len(times) > 1 else None}
    return out


def measure(kind: str, nq: Path, build: Path, qs: dict, work: Path, timeout: float) -> dict:
    r: dict = {"store": kind}
    if kind == "embedded":
        t0 = time.perf_counter()
        store = ox.Store()
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        r["load_s"] = time.perf_counter() - t0
        r["quads"] = len(store)
        r["queries"] = timed_queries(lambda q: store.query(q, use_default_graph_as_union=True), qs)
        return r
    try:
        server = Oxigraph(work) if kind == "oxigraph" else STORES[kind](work)
    except Exception as exc:  # noqa: BLE001
        r["unavailable"] = str(exc).splitlines()[0]
        return r
    try:
        r["version"] = server_version(server)
        env = dict(os.environ, ECONPLAN_STORE_TIMEOUT=str(timeout))
        t0 = time.perf_counter()
        p = subprocess.run([ECONPLAN, "--build-dir", str(build), "--store", server.url, "push"],
                           capture_output=True, text=True, timeout=timeout, env=env)
        r["load_s"] = time.perf_counter() - t0
        if p.returncode != 0:
            r["load_error"] = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
            if kind != "oxigraph" or "payloads are limited" not in r["load_error"]:
                return r
            # oxigraph serve takes updates of at most 128 MiB: fill its folder with `oxigraph load`
            # (the CLI's bulk loader) and serve that, so that the queries can still be compared
            server.stop()
            t0 = time.perf_counter()
            subprocess.run([OXIGRAPH, "load", "--location", str(server.dir), "--file", str(nq)],
                           check=True, capture_output=True, timeout=timeout)
            r["cli_load_s"] = time.perf_counter() - t0
            server = Oxigraph(work, location=server.dir)
        from server.kg.remote import RemoteStore

        store = RemoteStore(server.url, timeout=timeout)
        rows = list(store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                                "FILTER(?g != <https://w3id.org/econplan/graph/meta>) }"))
        r["quads"] = int(rows[0]["n"].value)  # econplan's graphs, less its meta graph
        r["queries"] = timed_queries(store.query, qs)
    finally:
        server.stop()
    return r


def server_version(server) -> str:
    if server.kind == "virtuoso":
        v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "virtuoso-opensource-7-bin"],
                           capture_output=True, text=True).stdout
        return f"Virtuoso (Debian virtuoso-opensource-7-bin {v})"
    if server.kind == "oxigraph":
        return subprocess.run([OXIGRAPH, "--version"], capture_output=True, text=True).stdout.strip()
    return server.kind


def table(results: list[dict], qs: dict) -> str:
    head = ["", *(r["store"] for r in results)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cell(r, f):
        if "unavailable" in r:
            return "not available"
        if "load_error" in r and "cli_load_s" not in r:
            return "load failed"
        return f(r)

    lines.append("| load (s) | " + " | ".join(
        cell(r, lambda r: f"{r['load_s']:.1f}" if "cli_load_s" not in r else
             f"push refused; `oxigraph load` {r['cli_load_s']:.1f}") for r in results) + " |")
    lines.append("| quads seen | " + " | ".join(cell(r, lambda r: f"{r['quads']:,}") for r in results) + " |")
    for name in qs:
        def q(r, name=name):
            x = r["queries"][name]
            if x["error"]:
                return "error"
            return f"{x['median_ms']:.0f} ({x['cold_ms']:.0f} cold; {x['rows']} rows)"
        lines.append(f"| {name} (ms) | " + " | ".join(cell(r, q) for r in results) + " |")
    notes = [f"- {r['store']}: {r['unavailable']}" for r in results if "unavailable" in r]
    notes += [f"- {r['store']}: load failed: {r['load_error']}" for r in results if "load_error" in r]
    notes += [f"- {r['store']}, {name}: {x['error']}" for r in results for name, x in r.get("queries", {}).items()
              if x["error"]]
    return "\n".join(lines + ([""] + notes if notes else []))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--stores", nargs="+", default=["embedded", "oxigraph", "virtuoso", "fuseki"],
                    choices=["embedded", "oxigraph", "virtuoso", "fuseki"])
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed for one store's load")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stores-bench-") as tmp:
        work = Path(tmp)
        nq = work / "data.nq"
        t0 = time.perf_counter()
        n = scale.generate(nq, args.triples)
        print(f"generated {n:,} triples in {time.perf_counter() - t0:.1f} s", flush=True)
        build = work / "build"
        build.mkdir()
        os.link(nq, build / "econplan.nq")
        area, year = scale.cities_for(1)[0][0], 2015
        qs = scale.queries(area, year)
        results = []
        for kind in args.stores:
            print(f"{kind} …", flush=True)
            r = measure(kind, nq, build, qs, work, args.timeout)
            print(json.dumps(r, ensure_ascii=False), flush=True)
            results.append(r)
    print()
    print(f"{n:,} triples (bench/scale.py, seed 1); {platform.machine()}, {os.cpu_count()} cores; "
          f"median of 3 after one cold run, in ms")
    print()
    print(table(results, qs))
    if args.json:
        args.json.write_text(json.dumps({"triples": n, "results": results}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
