"""econplan vs `oxigraph serve`, side by side over the same data, with the same queries.

    .venv/bin/python bench/compare_oxigraph.py                 # shipped build/econplan.nq, 10 s per query
    .venv/bin/python bench/compare_oxigraph.py --duration 5 --synthetic 80000 --json out.json

Starts both servers on 127.0.0.1 (free ports), checks that both give the same
number of rows for every query, then drives each query with wrk (8 connections)
for --duration seconds against each server in turn and prints a table:
query, oxigraph req/s, p50, p99, econplan req/s, p50, p99, ratio (econplan / oxigraph
req/s).  Also: `econplan build` time of the shipped graph, time from starting
each server to its first answered query, and the RSS of each server's process tree.

Both servers run with a 30 s query timeout (oxigraph --timeout-s 30, econplan
QUERY_TIMEOUT=30).  oxigraph is by default
`oxigraph serve` with an in-memory store loaded over HTTP (econplan's workers
also query an in-memory store); --oxigraph-store disk uses `oxigraph load` +
`serve-read-only` instead.  Everything stops by itself; total time is about
2 x (number of queries) x duration + start-up.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen as L  # noqa: E402

TIMEOUT_S = 30

LOOKUP = L.PREFIXES + "SELECT ?p ?o WHERE { <{{SUBJECT}}> ?p ?o }"
AGGREGATE = L.PREFIXES + """SELECT ?indicator ?kind (COUNT(?f) AS ?facts) (SUM(?v) AS ?total) (MAX(?v) AS ?max)
WHERE { ?f ep:indicator ?indicator ; ep:kind ?kind . OPTIONAL { ?f ep:value ?v } }
GROUP BY ?indicator ?kind ORDER BY DESC(?facts) ?indicator ?kind"""
REGEX = L.PREFIXES + """SELECT ?s ?text WHERE {
  ?s rdfs:label|oa:exact ?text
  FILTER(REGEX(?text, "亿元|万人|增长\\\\d", "i"))
}"""
SAVED = L.PREFIXES + """SELECT ?growthFact ?indicator ?year ?area ?growth ?level ?sentenceId ?indicatorZh ?indicatorEn
WHERE {
  ?growthFact ep:indicator ?indicator ; ep:kind ep:growth ; ep:status ep:actual ;
              ep:refPeriod ?year ; ep:refArea ?area ; ep:value ?growth ; ep:valueStart ?position ;
              prov:wasDerivedFrom/ep:passageId ?sentenceId .
  FILTER NOT EXISTS { ?growthFact ep:about ?anything }
  OPTIONAL { ?levelFact ep:indicator ?indicator ; ep:kind ep:level ; ep:status ep:actual ;
                        ep:refPeriod ?year ; ep:refArea ?area ; ep:value ?level .
             FILTER NOT EXISTS { ?levelFact ep:about ?something } }
  ?indicator skos:prefLabel ?indicatorZh , ?indicatorEn .
  FILTER (LANG(?indicatorZh) = "zh" && LANG(?indicatorEn) = "en")
}
ORDER BY ?position ?growthFact"""


def fact_iris(nq: Path, limit: int = 5000, seed: int = 7) -> list[str]:
    """Subjects of ep:indicator triples in the dump (the facts), at most ``limit``, shuffled."""
    needle = b" <https://w3id.org/econplan/def#indicator> "
    out = []
    with open(nq, "rb") as f:
        for line in f:
            if needle in line and line.startswith(b"<"):
                out.append(line[1:line.index(b">")].decode())
    out = sorted(set(out))
    random.Random(seed).shuffle(out)
    return out[:limit]


def loads(facts: list[str], etag: str | None) -> list[tuple[str, str, L.Load]]:
    """(group, label, load) for every row of the table."""
    out = [
        ("uncached", "(a) distinct lookups (one fact's triples)", L.Load("lookup", LOOKUP, facts, nonce=True)),
        ("heavy", "(b) GROUP BY aggregate", L.Load("aggregate", AGGREGATE, nonce=True)),
        ("heavy", "(c) FILTER regex scan", L.Load("regex", REGEX, nonce=True)),
        ("heavy", "saved query: headline indicators", L.Load("saved", SAVED, nonce=True)),
        ("repeated", "(d) repeated lookup (same fact)", L.Load("lookup-repeat", LOOKUP.replace("{{SUBJECT}}", facts[0]))),
        ("repeated", "(d) repeated GROUP BY aggregate", L.Load("aggregate-repeat", AGGREGATE)),
        ("repeated", "(e) repeated aggregate, If-None-Match", L.Load(
            "aggregate-304", AGGREGATE, headers={"If-None-Match": etag} if etag else {})),
    ]
    return out


GOALS = {"uncached": 0.35, "heavy": 0.95, "repeated": 1.0}


def timed_build() -> float:
    econplan = L.tool("econplan")
    with tempfile.TemporaryDirectory(prefix="econplan-build-") as tmp:
        t0 = time.perf_counter()
        subprocess.run([econplan, "--root", str(L.ROOT), "--build-dir", tmp, "build"], check=True,
                       timeout=300, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def prepare_build_dir(nq: Path, work: Path) -> Path:
    """A build folder econplan can serve from, holding ``nq`` (store made like `econplan build`)."""
    import pyoxigraph as ox

    b = work / "econplan-build"
    b.mkdir()
    shutil.copyfile(nq, b / "econplan.nq")
    sys.path.insert(0, str(L.ROOT))
    from server.kg.store import version_of

    version = version_of(b)
    store = ox.Store(str(b / "store"))
    store.bulk_load(path=str(b / "econplan.nq"), format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store
    (b / "econplan.trig").write_bytes(b"")
    (b / "store.version").write_text(version + "\n")
    return b


def check_same(ox_url: str, ep_url: str, queries: list[tuple[str, str]]) -> list[str]:
    """Every query gives the same row count on both servers (and status 200)."""
    problems = []
    for name, q in queries:
        s1, _, b1 = L.sparql_post(ox_url, q)
        s2, _, b2 = L.sparql_post(ep_url, q)
        if s1 != 200 or s2 != 200:
            problems.append(f"{name}: status oxigraph {s1}, econplan {s2}: {b2[:200]!r}")
            continue
        n1, n2 = L.rows_of(b1), L.rows_of(b2)
        if n1 != n2:
            problems.append(f"{name}: {n1} rows from oxigraph, {n2} from econplan")
    return problems


def fmt_ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def table(rows: list[dict]) -> str:
    head = ("| query | oxigraph req/s | p50 ms | p99 ms | econplan req/s | p50 ms | p99 ms | ratio | goal |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---|")
    lines = [head]
    for r in rows:
        o, e = r["oxigraph"], r["econplan"]
        goal = r["goal"]
        lines.append(f"| {r['label']} | {o['rps']:.0f} | {fmt_ms(o['p50_us'])} | {fmt_ms(o['p99_us'])} | "
                     f"{e['rps']:.0f} | {fmt_ms(e['p50_us'])} | {fmt_ms(e['p99_us'])} | "
                     f"{r['ratio']:.2f}x | {goal} |")
    return "\n".join(lines)


def cpu_table(rows: list[dict]) -> str:
    """CPU per request of each server (its whole process tree), and what else ran meanwhile."""
    lines = ["| query | oxigraph CPU ms/req | econplan CPU ms/req | wrk cores (ox / ep) | "
             "other processes, cores (ox / ep) |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        o, e = r["oxigraph"], r["econplan"]
        per = lambda x: x["cpu"]["server_cores"] * 1000 / x["rps"] if x["rps"] else float("nan")  # noqa: E731
        lines.append(f"| {r['label']} | {per(o):.3f} | {per(e):.3f} | {o['cpu']['loadgen_cores']:.2f} / "
                     f"{e['cpu']['loadgen_cores']:.2f} | {o['cpu']['other_cores']:.2f} / {e['cpu']['other_cores']:.2f} |")
    return "\n".join(lines)


def judge(group: str, o: dict, e: dict) -> tuple[float, str]:
    ratio = e["rps"] / o["rps"] if o["rps"] else float("inf")
    need = GOALS[group]
    ok = ratio >= need
    text = f"≥{need:g}x: {'met' if ok else 'NOT met'}"
    if group == "uncached":
        p99ok = e["p99_us"] <= 3 * o["p99_us"]
        text += f"; p99 {e['p99_us'] / max(o['p99_us'], 1):.1f}x (≤3x: {'met' if p99ok else 'NOT met'})"
    if e["errors"] or o["errors"]:
        text += f"; errors ox {o['errors']} ep {e['errors']}"
    return ratio, text


def run(args) -> dict:
    nq = Path(args.data).resolve()
    result = {"machine": L.machine(), "data": str(nq), "duration_s": args.duration,
              "connections": args.connections, "oxigraph_store": args.oxigraph_store,
              "query_workers": args.query_workers, "command": "python bench/compare_oxigraph.py " + " ".join(sys.argv[1:])}
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        work = Path(tmp)
        if args.synthetic:
            import scale

            nq = work / "synthetic.nq"
            n = scale.generate(nq, target_triples=args.synthetic, seed=1)
            result["data"] = f"synthetic ({n} triples, bench/scale.py seed 1)"
        triples = sum(1 for _ in open(nq, "rb"))
        result["triples"] = triples
        if not args.skip_build:
            result["build_s"] = min(timed_build() for _ in range(args.build_runs))
        facts = fact_iris(nq)
        build_dir = L.ROOT / "build" if (not args.synthetic and nq == (L.ROOT / "build" / "econplan.nq").resolve()) \
            else prepare_build_dir(nq, work)

        # oxigraph
        ox_loc = None
        if args.oxigraph_store == "disk":
            ox_loc = work / "oxigraph-db"
            result["oxigraph_load_s"] = L.oxigraph_load_cli(nq, ox_loc)
        oxs = L.oxigraph_server(L.free_port(), location=ox_loc, timeout_s=args.oxigraph_timeout, log_dir=work)
        eps = L.econplan_server(build_dir, L.free_port(), log_dir=work, query_workers=args.query_workers,
                                pythonpath=args.econplan_tree,
                                env={"ECONPLAN_QUERY_TIMEOUT": str(TIMEOUT_S),
                                     # wrk is one client address: the per-client limit on heavy
                                     # queries would answer 429 to most of its 8 connections
                                     "ECONPLAN_MAX_HEAVY_PER_CLIENT": "0",
                                     **dict(args.env)})
        try:
            oxs.start(after_start=L.oxigraph_load_http(nq) if ox_loc is None else None)
            eps.start()
            # what runs, whichever tree (--econplan-tree) is served
            result["http_processes"] = len(L.children(eps.proc.pid))
            result["first_answer_s"] = {"oxigraph": oxs.first_answer_s, "econplan": eps.first_answer_s}
            probe = [("lookup", LOOKUP.replace("{{SUBJECT}}", facts[0])), ("aggregate", AGGREGATE),
                     ("regex", REGEX), ("saved", SAVED)]
            result["problems"] = check_same(oxs.url, eps.url, probe)
            _, headers, _ = L.sparql_post(eps.url, AGGREGATE)
            etag = headers.get("ETag")
            s304, _, _ = L.sparql_post(eps.url, AGGREGATE, headers={"If-None-Match": etag or ""})
            if s304 != 304:
                result["problems"].append(f"If-None-Match answered {s304}, not 304")
            rows = []
            for group, label, load in loads(facts, etag):
                if args.only and load.name not in args.only:
                    continue
                per = {}
                for rnd in range(args.rounds):
                    # the first turn of a round goes to each server in turn (the machine drifts)
                    for srv in ((oxs, eps) if rnd % 2 == 0 else (eps, oxs)):
                        srv.check_alive()
                        L.wait_quiet(args.quiet_wait)
                        try:
                            L.wrk(srv.url, load, duration=1, connections=args.connections)  # warm-up
                            r = L.wrk(srv.url, load, duration=args.duration, connections=args.connections,
                                      threads=args.threads, server_pid=srv.proc.pid)
                        except RuntimeError:
                            time.sleep(0.5)
                            srv.check_alive()  # raises with the server's log when it died
                            raise
                        per.setdefault(srv.name, []).append(r)
                # the ratio of each round (the two servers' turns are next to each other), and
                # the round with the median throughput of each server
                round_ratios = [e["rps"] / o["rps"] if o["rps"] else float("inf")
                                for o, e in zip(per["oxigraph"], per["econplan"])]
                per = {k: sorted(v, key=lambda x: x["rps"])[len(v) // 2] for k, v in per.items()}
                ratio, goal = judge(group, per["oxigraph"], per["econplan"])
                rows.append({"group": group, "label": label, "name": load.name, "ratio": ratio,
                             "goal": goal, "round_ratios": round_ratios, **per})
                print(f"  {label}: oxigraph {per['oxigraph']['rps']:.0f} req/s, "
                      f"econplan {per['econplan']['rps']:.0f} req/s ({ratio:.2f}x)", flush=True)
            result["rows"] = rows
            result["memory"] = {"oxigraph": oxs.memory(), "econplan": eps.memory()}
        finally:
            eps.stop()
            oxs.stop()
    return result


def report(r: dict) -> str:
    m = r["machine"]
    out = [f"Data: {r['data']} ({r['triples']} triples); {r['connections']} connections, "
           f"{r['duration_s']:g} s per query per server; oxigraph store: {r['oxigraph_store']}; "
           + f"econplan: granian, {r.get('http_processes') or r.get('query_workers') or 2} HTTP processes, "
             "each with its query threads, "
           + f"QUERY_TIMEOUT {TIMEOUT_S} s.",
           f"Machine: {L.machine_line(m)}.", "", table(r["rows"]), "",
           "CPU used meanwhile (the machine may be shared; 'other' is everything but the server and wrk):",
           "", cpu_table(r["rows"]), ""]
    if any(len(row.get("round_ratios", ())) > 1 for row in r["rows"]):
        out.append("Ratio (econplan / oxigraph) of each round, in order:")
        out.append("")
        for row in r["rows"]:
            out.append(f"- {row['label']}: " + ", ".join(f"{x:.2f}x" for x in row["round_ratios"]))
        out.append("")
    if "build_s" in r:
        out.append(f"- `econplan build` of the shipped graph: {r['build_s']:.2f} s "
                   f"(goal < 5 s: {'met' if r['build_s'] < 5 else 'NOT met'})")
    fa = r["first_answer_s"]
    out.append(f"- start to first answered query: econplan {fa['econplan']:.2f} s "
               f"(goal < 2 s: {'met' if fa['econplan'] < 2 else 'NOT met'}), oxigraph {fa['oxigraph']:.2f} s"
               + (" (includes loading the data over HTTP)" if r["oxigraph_store"] == "memory" else ""))
    mem = r["memory"]
    for k in ("oxigraph", "econplan"):
        v = mem[k]
        out.append(f"- memory after the run, {k}: RSS {v['rss_mib']:.0f} MiB over {v['processes']} "
                   f"process(es) (peak {v['peak_rss_mib']:.0f} MiB, PSS {v['pss_mib']:.0f} MiB)")
    errs = [f"{row['label']}: {s} {row[s]['errors']} errors ({row[s]['status']} non-2xx/3xx)"
            for row in r["rows"] for s in ("oxigraph", "econplan") if row[s]["errors"]]
    if errs:
        out.append("- errors: " + "; ".join(errs))
    if r["problems"]:
        out.append("- PROBLEMS: " + "; ".join(r["problems"]))
    else:
        out.append("- both servers give the same row counts for every query (checked before the run)")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(L.ROOT / "build" / "econplan.nq"), help="N-Quads file to serve")
    ap.add_argument("--synthetic", type=int, default=0,
                    help="instead of --data, generate this many triples with bench/scale.py (e.g. 80000)")
    ap.add_argument("--duration", type=float, default=10, help="seconds of load per query per server")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure each query this many times per server (interleaved, each server first "
                    "in every other round); report the median round and every round's ratio")
    ap.add_argument("--quiet-wait", type=float, default=30,
                    help="before each measurement wait up to this many seconds for the machine to be idle")
    ap.add_argument("--econplan-tree", default=None,
                    help="serve the `server` package of another checkout (e.g. a patched copy)")
    ap.add_argument("--oxigraph-store", choices=["memory", "disk"], default="memory")
    ap.add_argument("--oxigraph-timeout", type=int, default=0,
                    help="oxigraph --timeout-s (default 0: off; with it oxigraph 0.5.13 leaks a sleeping "
                    "thread per query and aborts under load)")
    ap.add_argument("--only", nargs="*", help="only these loads (lookup, aggregate, regex, saved, "
                    "lookup-repeat, aggregate-repeat, aggregate-304)")
    ap.add_argument("--skip-build", action="store_true", help="do not time `econplan build`")
    ap.add_argument("--build-runs", type=int, default=3, help="time the build this many times, keep the best")
    ap.add_argument("--query-workers", type=int, default=None,
                    help="econplan serve --workers (HTTP worker processes; default: the CLI's)")
    ap.add_argument("--env", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="extra environment for the econplan server (e.g. ECONPLAN_QUERY_WORKERS 3)")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args(argv)
    r = run(args)
    text = report(r)
    print()
    print(text)
    r["report"] = text
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
