#!/usr/bin/env python3
"""Bounded load test: 32 wrk clients, saved + editor-style queries, one pathological query a second.

    .venv/bin/python bench/loadtest.py [--seconds 40] [--clients 32] [--think 0.2] [--timeout 3] [--build-dir build]

Starts `econplan serve` on 127.0.0.1 (a free port) with the response cache off, sends every
normal query once (warm-up; each must answer 200), then measures the normal queries' latency
  * at idle: wrk, 1 connection, no pause, about 5 s over the normal mix;
  * under load: wrk, --clients connections (2 threads) for --seconds (at most 60), each
    request a random normal query, each connection pausing an exponential --think seconds
    (mean) before each request (bench/loadtest.lua's delay()), while a Python thread sends
    one pathological query (a cartesian product) a second, which should be cut off with 503
    after the server's QUERY_TIMEOUT (--timeout);
and samples the memory (RSS) of every server process meanwhile.  The clients are wrk (C,
epoll), so the load generator does not add its own latency (in-process Python threads
did: their GIL contention on 2 cores inflated the measured times).  The normal queries are
the parameter-free saved queries (queries/*.rq with `#+ params: []`) plus editor-style
queries, POSTed as application/x-www-form-urlencoded `query=...`.  It passes when
  * no request fails except the intended timeouts (503) of the pathological queries
    (a non-2xx answer or a socket error on a normal query is a failure),
  * the normal queries' p99 under load is within 3x of their p99 at idle,
  * memory stays bounded (the peak is within 1.5x of the memory after warm-up).
Exit status 0 on PASS, 1 on FAIL.  Traffic goes to 127.0.0.1 only; the whole run stops by
itself, about --seconds + 15 s after the server answers (wrk, the pathological queries and
the server's start all have deadlines; the server is stopped in any case).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "loadtest.lua"
PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
EDITOR = [
    "SELECT ?l ?v WHERE { ?f ep:indicator ?i ; ep:value ?v . ?i skos:prefLabel ?l FILTER(lang(?l)='zh') } LIMIT 20",
    "SELECT ?k (COUNT(*) AS ?n) WHERE { ?f ep:kind ?k } GROUP BY ?k",
    "SELECT * WHERE { ?f prov:wasDerivedFrom/oa:exact ?t FILTER(CONTAINS(?t, '亿元')) } LIMIT 10",
    "DESCRIBE district:330109",
    "SELECT ?p ?l WHERE { ?p a ep:Project ; rdfs:label ?l FILTER(lang(?l)='en') } ORDER BY ?l",
    "ASK { ?f ep:valueLost true }",
]
ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"
IDLE_SECONDS = 5
WRK_TIMEOUT = 10  # wrk's own per-request timeout (s); larger than the server's QUERY_TIMEOUT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def saved_queries() -> list[tuple[str, str]]:
    """(name, text) of the parameter-free saved queries: a `#+ params: []` header, or no
    params header and no `$` placeholder."""
    out = []
    for p in sorted((ROOT / "queries").glob("*.rq")):
        text = p.read_text(encoding="utf-8")
        header = re.search(r"^#\+\s*params:(.*)$", text, re.M)
        if (header and header.group(1).strip() == "[]") or (not header and "$" not in text):
            out.append((p.stem, text))
    return out


def rss_of_tree(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    children = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().split(") ")[1].split()[1])
                children.setdefault(ppid, []).append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    while todo:
        p = todo.pop()
        try:
            for line in (Path("/proc") / str(p) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return total


def body_of(q: str) -> str:
    """The form body `query=...`: url-encoded, so ASCII only and without newlines."""
    return urllib.parse.urlencode({"query": q})


def post(port: int, q: str, timeout: float = 60) -> tuple[int, float, bytes]:
    """One query on a fresh connection: (status or 0 on a socket error, seconds, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.perf_counter()
    try:
        conn.request("POST", "/sparql", body=body_of(q), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": ACCEPT})
        r = conn.getresponse()
        data = r.read()
        return r.status, time.perf_counter() - t0, data
    except (OSError, http.client.HTTPException) as e:
        return 0, time.perf_counter() - t0, repr(e).encode()
    finally:
        conn.close()


def start_wrk(port: int, bodies: str, *, connections: int, threads: int, seconds: int,
              think: float, seed: int) -> subprocess.Popen:
    exe = shutil.which("wrk") or "/usr/bin/wrk"
    env = dict(os.environ, LOADTEST_BODIES=bodies, LOADTEST_THINK_MS=str(think * 1000),
               LOADTEST_SEED=str(seed))
    cmd = [exe, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
           "--timeout", f"{WRK_TIMEOUT}s", "-s", str(LUA), f"http://127.0.0.1:{port}/sparql"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_wrk(proc: subprocess.Popen, deadline_s: float) -> dict:
    """Wait for wrk (killing it after ``deadline_s``) and parse its LOADTEST_JSON line."""
    try:
        out, err = proc.communicate(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    line = next((ln for ln in out.splitlines() if ln.startswith("LOADTEST_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary (exit {proc.returncode}):\n{out}\n{err}")
    r = json.loads(line[len("LOADTEST_JSON "):])
    r["socket_errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=40, help="load phase length (s, at most 60)")
    ap.add_argument("--clients", type=int, default=32, help="wrk connections under load")
    ap.add_argument("--build-dir", default=str(ROOT / "build"))
    ap.add_argument("--timeout", type=float, default=3, help="the server's QUERY_TIMEOUT (s)")
    ap.add_argument("--distinct-pathological", action="store_true",
                    help="make every pathological query different (a numbered comment), so that neither the "
                         "timeout memo nor coalescing spares any: each one runs to the time limit (each "
                         "then costs its HTTP worker process, which is replaced)")
    ap.add_argument("--think", type=float, default=0.2,
                    help="mean pause (s, exponential) between one client's requests, as people "
                         "and dashboards do; 0 makes every client a closed loop that saturates the server")
    args = ap.parse_args()
    seconds = int(max(1, min(round(args.seconds), 60)))
    clients = max(1, args.clients)
    if not LUA.exists():
        raise SystemExit(f"missing {LUA}")
    if not (shutil.which("wrk") or Path("/usr/bin/wrk").exists()):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    port = free_port()
    econplan = Path(sys.executable).parent / "econplan"
    # All wrk connections share 127.0.0.1, so the per-address limit of long queries
    # (MAX_HEAVY_PER_CLIENT, tested in tests/test_endpoint.py) is turned off here; the response
    # cache is off too, so that every request is evaluated.
    env = dict(os.environ, ECONPLAN_QUERY_TIMEOUT=str(args.timeout), ECONPLAN_CACHE_SIZE="0",
               ECONPLAN_LOG_LEVEL="WARNING", ECONPLAN_MAX_HEAVY_PER_CLIENT="0")
    server = subprocess.Popen([str(econplan), "--root", str(ROOT), "--build-dir", args.build_dir, "serve",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp = tempfile.TemporaryDirectory(prefix="loadtest-")
    wrk_proc = None
    try:
        deadline = time.time() + 30
        while time.time() < deadline and server.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                if post(port, "ASK {}", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            print(f"FAIL: the server did not answer within 30 s (exit status {server.poll()})")
            return 1
        saved = saved_queries()
        normal = saved + [(f"editor-{i + 1}", q) for i, q in enumerate(EDITOR)]
        bodies = Path(tmp.name) / "bodies.txt"
        bodies.write_text("".join(body_of(q) + "\n" for _, q in normal), encoding="ascii")

        # warm-up: every normal query once; each must answer 200 (else every wrk run would fail)
        failures: list[tuple[str, int, bytes]] = []
        warm = []
        for name, q in normal:
            status, dt, body = post(port, q, timeout=WRK_TIMEOUT)
            warm.append((dt, name, status))
            if status != 200:
                failures.append((name, status, body[:200]))
        mem_warm = rss_of_tree(server.pid)

        # idle: one wrk connection, no pause
        idle = finish_wrk(start_wrk(port, str(bodies), connections=1, threads=1, seconds=IDLE_SECONDS,
                                    think=0, seed=1), IDLE_SECONDS + WRK_TIMEOUT + 10)

        # load: wrk + the pathological thread; memory sampled meanwhile
        patho: list[tuple[float, int, float]] = []  # (sent at s, status, seconds)
        lock = threading.Lock()
        t_start = time.monotonic()
        stop = t_start + seconds

        def one(at: float):
            query = PATHOLOGICAL + (f" # {at:.3f}" if args.distinct_pathological else "")
            status, dt, body = post(port, query, timeout=args.timeout + WRK_TIMEOUT)
            with lock:
                patho.append((at, status, dt))
                if status != 503:
                    failures.append(("pathological", status, body[:200]))

        senders: list[threading.Thread] = []

        def pathological():
            while time.monotonic() < stop:
                t = time.monotonic()
                th = threading.Thread(target=one, args=(t - t_start,), daemon=True)
                th.start()
                senders.append(th)
                time.sleep(max(0, 1 - (time.monotonic() - t)))

        wrk_proc = start_wrk(port, str(bodies), connections=clients, threads=min(2, clients),
                             seconds=seconds, think=args.think, seed=2)
        pt = threading.Thread(target=pathological, daemon=True)
        pt.start()
        mem_peak = mem_warm
        while wrk_proc.poll() is None and time.monotonic() < stop + WRK_TIMEOUT + 5:
            mem_peak = max(mem_peak, rss_of_tree(server.pid))
            time.sleep(0.5)
        load = finish_wrk(wrk_proc, max(1, stop + WRK_TIMEOUT + 10 - time.monotonic()))
        # let the last pathological queries finish (each has its own socket timeout too)
        pt.join(5)
        end = time.monotonic() + args.timeout + 2
        for th in list(senders):
            th.join(max(0, end - time.monotonic()))
            mem_peak = max(mem_peak, rss_of_tree(server.pid))
        unanswered = sum(th.is_alive() for th in senders)
        if unanswered:
            failures.append(("pathological", 0, f"{unanswered} still unanswered".encode()))

        for name, r in (("idle", idle), ("load", load)):
            if r["status"]:
                failures.append((f"{name}: normal queries", r["status"], b"non-2xx answers (wrk)"))
            if r["socket_errors"]:
                failures.append((f"{name}: normal queries", 0, (
                    f"socket errors (wrk): connect {r['connect']}, read {r['read']}, "
                    f"write {r['write']}, timeout {r['timeout']}").encode()))
        idle_p99, load_p99 = idle["p99_us"] / 1000, load["p99_us"] / 1000
        print(f"{'phase':40} {'requests':>9} {'p50 ms':>9} {'p99 ms':>9}")
        print(f"{'idle: normal queries (wrk, 1 conn)':40} {idle['requests']:>9} "
              f"{idle['p50_us'] / 1000:>9.1f} {idle_p99:>9.1f}")
        print(f"{f'load: {clients} clients (wrk), normal':40} {load['requests']:>9} "
              f"{load['p50_us'] / 1000:>9.1f} {load_p99:>9.1f}")
        print(f"normal queries: {len(saved)} saved (parameter-free) + {len(EDITOR)} editor-style; "
              f"slowest at warm-up: " + ", ".join(f"{n} {dt * 1000:.0f} ms" for dt, n, _ in sorted(warm)[-3:][::-1]))
        n503 = sum(1 for _, s, _ in patho if s == 503)
        print(f"pathological queries sent: {len(senders)}, answered 503 (timeout): {n503}")
        if patho:
            ps = sorted(patho)
            later = [dt for _, _, dt in ps[1:]]
            print(f"pathological latency: first {ps[0][2] * 1000:.0f} ms; later ones "
                  + (f"min {min(later) * 1000:.0f} / median {sorted(later)[len(later) // 2] * 1000:.0f} / "
                     f"max {max(later) * 1000:.0f} ms" if later else "none")
                  + "; by send time (s: ms): " + ", ".join(f"{at:.0f}: {dt * 1000:.0f}" for at, _, dt in ps))
        print(f"failures (anything else): {len(failures)} {failures[:3]}")
        secs = load["duration_us"] / 1e6
        print(f"throughput under load: {load['requests'] / secs if secs else 0:.0f} req/s "
              f"(think {args.think:g} s mean)")
        print(f"memory: after warm-up {mem_warm / 2**20:.0f} MiB, peak {mem_peak / 2**20:.0f} MiB")
        ratio = load_p99 / idle_p99 if idle_p99 else float("inf")
        ok = not failures and ratio <= 3 and mem_peak <= 1.5 * mem_warm
        print(f"p99 ratio load/idle: {ratio:.2f} (goal <= 3)")
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        if wrk_proc is not None and wrk_proc.poll() is None:
            wrk_proc.kill()
            wrk_proc.wait(5)
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
