"""Run every benchmark and write their sections of docs/performance.md (`make bench`).

    .venv/bin/python bench/run_all.py            # about 15 minutes on 2 cores
    .venv/bin/python bench/run_all.py --quick    # about 4 minutes: shorter runs, 1M triples only
    .venv/bin/python bench/run_all.py --big      # scale up to 10M triples too (about 25 more minutes)
    .venv/bin/python bench/run_all.py --render-only   # rewrite the sections from bench/results/*.json (not kept in git)

Steps (each in a child process with a time limit):

1. bench/compare_oxigraph.py over the shipped build/econplan.nq: econplan vs
   `oxigraph serve`, same queries, 8 connections; build time, start-up, memory;
2. the same over the synthetic 80k-triple set of bench/scale.py (shorter runs);
3. bench/scale.py at 1M and 3M triples (10M with --big): bulk load vs `oxigraph load`,
   query latencies in memory and on disk, the servers' start-up and memory.

Only the sections "## Throughput vs oxigraph serve" and "## Scale" of docs/performance.md are
replaced; every other section (e.g. "## Validation") is kept as it is.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import loadgen as L  # noqa: E402

RESULTS = ROOT / "docs" / "performance.md"
THROUGHPUT = "## Throughput vs oxigraph serve"
SCALE = "## Scale"


RAW = HERE / "results"


def step(name: str, args: list[str], timeout: float, render_only: bool = False) -> dict:
    """Run one benchmark script with --json (kept as bench/results/NAME.json); returns its results
    (or the failure).  ``render_only``: read the kept results instead of running."""
    out = RAW / f"{name}.json"
    if render_only:
        return json.loads(out.read_text()) if out.exists() else {"error": f"no {out}", "command": "", "seconds": 0}
    RAW.mkdir(exist_ok=True)
    cmd = [sys.executable, *args, "--json", str(out)]
    print("$", " ".join(cmd[1:]), flush=True)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, timeout=timeout, cwd=ROOT)
        ok = p.returncode == 0
        err = f"exit status {p.returncode}"
    except subprocess.TimeoutExpired:
        ok, err = False, f"stopped after the {timeout:.0f} s time limit"
    took = time.perf_counter() - t0
    if not ok:
        return {"error": err, "command": " ".join(["python", *args]), "seconds": took}
    data = json.loads(out.read_text())
    data["command"] = " ".join(["python", *args])
    data["seconds"] = took
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    return data


def replace_section(text: str, heading: str, body: str) -> str:
    """Put ``heading`` + ``body`` in place of that section (up to the next "## "), or append it."""
    block = f"{heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        return pattern.sub(lambda _: block + "\n", text, count=1).rstrip() + "\n"
    return (text.rstrip() + "\n\n" if text.strip() else "# Benchmarks\n\n") + block


def goals(r: dict) -> str:
    """The goals of the issue, met or not, from a compare_oxigraph run."""
    if "rows" not in r:
        return ""
    by = {row["name"]: row for row in r["rows"]}
    yes = lambda ok: "**met**" if ok else "**not met**"  # noqa: E731

    def cpu(row, k):
        x = row[k]
        return x["cpu"]["server_cores"] * 1000 / x["rps"] if x["rps"] else float("nan")

    lines = ["Goals (ratios are econplan / oxigraph in the same run; in brackets the ratio of CPU per request, "
             "oxigraph's over econplan's, which is what the throughput ratio tends to when both are CPU-bound "
             "on an otherwise idle machine, and is less disturbed by other jobs on a shared one):", ""]
    if "lookup" in by:
        row = by["lookup"]
        p99 = row["econplan"]["p99_us"] / max(row["oxigraph"]["p99_us"], 1)
        lines.append(f"- distinct uncached lookups ≥ 0.25x throughput: {row['ratio']:.2f}x "
                     f"[{cpu(row, 'oxigraph') / cpu(row, 'econplan'):.2f}x], {yes(row['ratio'] >= 0.25)}; "
                     f"p99 within 5x of oxigraph's: {p99:.1f}x, {yes(p99 <= 5)}")
    heavy = [by[n] for n in ("aggregate", "regex", "saved") if n in by]
    if heavy:
        cells = ", ".join(f"{h['name']} {h['ratio']:.2f}x [{cpu(h, 'oxigraph') / cpu(h, 'econplan'):.2f}x]"
                          for h in heavy)
        lines.append(f"- heavy queries ≥ 0.9x: {cells}; {yes(all(h['ratio'] >= 0.9 for h in heavy))}"
                     + ("" if all(h['ratio'] >= 0.95 for h in heavy) else
                        f" for {', '.join(h['name'] for h in heavy if h['ratio'] < 0.9)}"))
    rep = [by[n] for n in ("lookup-repeat", "aggregate-repeat", "aggregate-304") if n in by]
    if rep:
        cells = ", ".join(f"{h['name']} {h['ratio']:.2f}x [{cpu(h, 'oxigraph') / cpu(h, 'econplan'):.2f}x]"
                          for h in rep)
        lines.append(f"- repeated queries ≥ 1.0x: {cells}; {yes(all(h['ratio'] >= 1 for h in rep))}"
                     + ("" if all(h['ratio'] >= 1 for h in rep) else
                        f" for {', '.join(h['name'] for h in rep if h['ratio'] < 1)}"))
    if "build_s" in r:
        lines.append(f"- `econplan build` < 5 s: {r['build_s']:.2f} s, {yes(r['build_s'] < 5)}")
    fa = r.get("first_answer_s", {}).get("econplan")
    if fa is not None:
        lines.append(f"- start to first answered query < 2 s: {fa:.2f} s, {yes(fa < 2)}")
    mem = r.get("memory")
    if mem:
        lines.append(f"- memory (RSS of all server processes): econplan {mem['econplan']['rss_mib']:.0f} MiB in "
                     f"{mem['econplan']['processes']} processes, oxigraph {mem['oxigraph']['rss_mib']:.0f} MiB")
    return "\n".join(lines)


def throughput_section(shipped: dict, synthetic: dict | None, fronts2: dict | None,
                       proposed: dict | None = None) -> str:
    out = [goals(shipped), ""] if "error" not in shipped else []
    for title, r in (("Shipped graph", shipped), ("Synthetic 80k-triple set", synthetic),
                     ("Shipped graph, with the proposed patches applied (a patched copy of the tree)", proposed)):
        if r is None:
            continue
        out.append(f"### {title}\n")
        out.append(f"Command: `{r['command']}` ({r['seconds']:.0f} s)\n")
        out.append(r.get("report") or f"FAILED: {r.get('error')}")
        out.append("")
    out.append(NOTES_THROUGHPUT)
    return "\n".join(out)


NOTES_THROUGHPUT = """Setup of this table: both servers on 127.0.0.1 over the same N-Quads; `oxigraph serve`
in memory with `--union-default-graph` (data POSTed to /store), econplan `serve` with its
defaults (STORE_MODE=memory, 2 query workers, QUERY_TIMEOUT=30 s enforced by killing the
worker) and LOG_LEVEL=WARNING (no access log, as oxigraph serve writes none) and
MAX_HEAVY_PER_CLIENT=0 (wrk is one client address).  oxigraph runs without `--timeout-s`:
in oxigraph 0.5.13 that option starts one thread per query that sleeps for the whole timeout
(cli/src/main.rs, `evaluate_sparql_query`), so at a few thousand queries a second the thread
count reaches vm.max_map_count (65530) within seconds and the process aborts ("failed to set
up alternative stack guard page").  The uncached rows send a different query text on every
request (a `# r<thread>-<n>` comment, and for (a) a random fact IRI) so no cache can answer;
(d) sends one identical request; (e) adds the ETag of (d) as If-None-Match (econplan answers
304; oxigraph has no ETags and evaluates the query).  req/s counts 2xx/3xx answers only; the
reported round is the median of --rounds.  "other processes" is the CPU the rest of the
machine used during the run: when it is not near 0 the machine was shared and the numbers
are low by about that share."""


def recommend(results: list[dict]) -> str:
    """Memory or disk by size, from the measurements."""
    if not results:
        return ""
    lines = ["Goal and recommendation, from these numbers:", ""]
    for r in results:
        ratio = r["load_ratio"]
        lines.append(f"- bulk load at {r['triples'] / 1e6:.0f}M triples: pyoxigraph {r['load_pyoxigraph_disk']['seconds']:.1f} s "
                     f"vs `oxigraph load` {r['load_oxigraph_cli']['seconds']:.1f} s = {ratio:.2f}x "
                     f"(goal ≤ 1.2x: {'**met**' if ratio <= 1.2 else '**not met**'})")
    big = results[-1]
    mem_q, disk_q = big["store_queries_memory"], big["store_queries_disk"]
    slow = [disk_q[n]["median_ms"] / max(mem_q[n]["median_ms"], 0.01) for n in mem_q if mem_q[n]["median_ms"] > 5]
    per_m = big["load_pyoxigraph_memory"]["peak_rss_mib"] / (big["triples"] / 1e6)
    load_per_m = big["load_pyoxigraph_memory"]["seconds"] / (big["triples"] / 1e6)
    lines.append(f"- in memory, the heavier queries run {min(slow):.1f}-{max(slow):.1f}x faster than on disk at "
                 f"{big['triples'] / 1e6:.0f}M triples; but a copy of the store costs about {per_m:.0f} MiB "
                 f"(peak while loading) and {load_per_m:.1f} s of loading per million triples, and econplan holds "
                 f"one copy per query worker plus one in the web process (and, as `econplan serve` is written "
                 f"today, one more in the master and two in unused eager workers)")
    for r in results:
        srv = r.get("servers", {})
        m, d = srv.get("econplan memory", {}), srv.get("econplan disk", {})
        if "first_answer_s" in m:
            lines.append(f"- at {r['triples'] / 1e6:.0f}M triples econplan with STORE_MODE=memory answered its first "
                         f"query {m['first_answer_s']:.0f} s after start and held {m['rss_mib'] / 1024:.1f} GiB "
                         f"in {m['processes']} processes"
                         + (f"; with STORE_MODE=disk {d['first_answer_s']:.1f} s and {d['rss_mib']:.0f} MiB"
                            if "first_answer_s" in d else "; STORE_MODE=disk did not start (see above)"))
    lines += ["", "Recommendation: STORE_MODE=memory (the default) up to about 1M triples, where start-up stays "
              "in seconds and memory in a few GiB; STORE_MODE=disk above that (start-up under a second and a "
              "few hundred MiB whatever the size, queries several times slower: add RAM for the page cache, "
              "or move to `oxigraph serve` as an external store)."]
    return "\n".join(lines)


def scale_section(r: dict, proposed: dict | None = None) -> str:
    if "error" in r:
        return f"Command: `{r['command']}`\n\nFAILED: {r['error']}\n"
    out = [f"({r['seconds']:.0f} s in all)", "", r["report"], "", recommend(r.get("results", [])), "",
           NOTES_SCALE]
    if proposed:
        out += ["", "### With the proposed patches applied (a patched copy of the tree)", ""]
        out.append(proposed.get("report") or f"FAILED: {proposed.get('error')}")
    return "\n".join(out)


NOTES_SCALE = """How to read it: "pyoxigraph bulk_load (disk)" is `Store(dir).bulk_load(path=…)` + flush, the
loader econplan's store uses; the ratio is that time over `oxigraph load` of the same file
(goal ≤ 1.2).  "in memory" is what each query worker does at start-up with STORE_MODE=memory.
The query columns are the same queries straight on a pyoxigraph store (in memory, on disk) and
over HTTP (one client, response cache off, so every request is evaluated).  10M triples are not
measured by default: 1M and 3M already take about 9 minutes, 10M would add about 25, and with
STORE_MODE=memory `econplan serve` would need about 6 copies of a ~4.3 GiB store, more than this
machine's RAM (scale.py skips a server that would not fit in the free memory, and says so)."""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs and 1M triples only")
    ap.add_argument("--big", action="store_true", help="scale to 10M triples too")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch docs/performance.md")
    ap.add_argument("--render-only", action="store_true",
                    help="do not run anything: rewrite the sections from bench/results/*.json")
    ap.add_argument("--proposed-tree", default=None,
                    help="also measure this checkout (e.g. with proposed patches): start-up, memory, 1M scale")
    args = ap.parse_args(argv)
    if not args.render_only and (L.tool("wrk") is None or L.tool("oxigraph") is None):
        print("needs wrk (apt-get install -y wrk) and the oxigraph CLI (.venv/bin/pip install oxigraph)")
        return 2
    dur = "4" if args.quick else "10"
    rounds = "1" if args.quick else "2"
    ro = args.render_only
    shipped = step("compare-shipped", ["bench/compare_oxigraph.py", "--duration", dur, "--rounds", rounds, "--quiet-wait", "10"], 1800, ro)
    synthetic = step("compare-synthetic-80k", ["bench/compare_oxigraph.py", "--synthetic", "80000",
                                               "--duration", "4", "--skip-build", "--only", "lookup",
                                               "aggregate", "regex", "aggregate-repeat"], 900, ro)
    fronts2 = None
    sizes = ["1000000"] if args.quick else ["1000000", "3000000"] + (["10000000"] if args.big else [])
    scale = step("scale", ["bench/scale.py", "--triples", *sizes], 3600 if args.big else 1800, ro)
    p_cmp = p_scale = None
    if args.proposed_tree:
        p_cmp = step("compare-shipped-proposed", ["bench/compare_oxigraph.py", "--duration", "4", "--skip-build",
                                                  "--econplan-tree", args.proposed_tree, "--only", "lookup",
                                                  "aggregate", "aggregate-304"], 900, ro)
        p_scale = step("scale-proposed", ["bench/scale.py", "--triples", "1000000", "--econplan-tree",
                                          args.proposed_tree], 1800, ro)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    text = replace_section(text, THROUGHPUT, throughput_section(shipped, synthetic, fronts2, p_cmp))
    text = replace_section(text, SCALE, scale_section(scale, p_scale))
    if args.no_write:
        print(text)
    else:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0 if not any("error" in r for r in (shipped, synthetic, scale) if r) else 1


if __name__ == "__main__":
    sys.exit(main())
