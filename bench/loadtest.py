#!/usr/bin/env python3
"""Bounded load test: 32 clients, saved + editor-style queries, one pathological query a second.

    .venv/bin/python bench/loadtest.py [--seconds 40] [--clients 32] [--build-dir build]

Starts `econplan serve` on 127.0.0.1 (a free port), measures the normal
queries' latency at idle (one client), then under load, and samples the
memory (RSS) of every server process.  It passes when
  * no request fails except the intended timeouts of the pathological queries,
  * the normal queries' p99 under load is within 3x of their p99 at idle,
  * memory stays bounded (the peak is within 1.5x of the memory after warm-up).
Traffic goes to 127.0.0.1 only; the whole run stops by itself (< 90 s).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
EDITOR = [
    "SELECT ?l ?v WHERE { ?f ep:indicator ?i ; ep:value ?v . ?i skos:prefLabel ?l FILTER(lang(?l)='zh') } LIMIT 20",
    "SELECT ?k (COUNT(*) AS ?n) WHERE { ?f ep:kind ?k } GROUP BY ?k",
    "SELECT * WHERE { ?f prov:wasDerivedFrom/oa:exact ?t FILTER(CONTAINS(?t, '亿元')) } LIMIT 10",
    "DESCRIBE district:330109",
    "SELECT ?p ?l WHERE { ?p a ep:Project ; rdfs:label ?l FILTER(lang(?l)='en') } ORDER BY ?l",
    "ASK { ?f ep:valueLost true }",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def saved_queries() -> list[str]:
    out = []
    for p in sorted((ROOT / "queries").glob("*.rq")):
        text = p.read_text(encoding="utf-8")
        if "$" not in text and "params:" not in text:  # parameter-free ones, sent as plain SPARQL
            out.append(text)
    return out or EDITOR


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


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def query(self, q: str) -> tuple[int, float, bytes]:
        body = urllib.parse.urlencode({"query": q})
        t0 = time.perf_counter()
        try:
            self.conn.request("POST", "/sparql", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/sparql-results+json, text/turtle;q=0.9"})
            r = self.conn.getresponse()
            data = r.read()
            return r.status, time.perf_counter() - t0, data
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, time.perf_counter() - t0, b""


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--build-dir", default=str(ROOT / "build"))
    ap.add_argument("--timeout", type=float, default=3, help="the server's QUERY_TIMEOUT")
    ap.add_argument("--think", type=float, default=0.2,
                    help="mean pause (s, exponential) between one client's requests, as people "
                         "and dashboards do; 0 makes every client a closed loop that saturates the server")
    args = ap.parse_args()
    args.seconds = min(args.seconds, 60)
    port = free_port()
    econplan = Path(sys.executable).parent / "econplan"
    # All simulated clients share 127.0.0.1, so the per-address limit of long queries
    # (MAX_HEAVY_PER_CLIENT, tested in tests/test_endpoint.py) is turned off here; the response
    # cache is off too, so that every request is evaluated.
    env = dict(os.environ, ECONPLAN_QUERY_TIMEOUT=str(args.timeout), ECONPLAN_CACHE_SIZE="0",
               ECONPLAN_LOG_LEVEL="WARNING", ECONPLAN_MAX_HEAVY_PER_CLIENT="0")
    server = subprocess.Popen([str(econplan), "--root", str(ROOT), "--build-dir", args.build_dir, "serve",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                if Client(port).query("ASK {}")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        normal = saved_queries() + EDITOR
        # idle: one client, each normal query several times
        c = Client(port)
        idle = []
        for _ in range(5):
            for q in normal:
                status, dt, _ = c.query(q)
                if status == 200:
                    idle.append(dt)
        mem_warm = rss_of_tree(server.pid)
        stop = time.monotonic() + args.seconds
        lat, failures, timeouts, patho_sent = [], [], [], 0
        mem_peak = mem_warm
        lock = threading.Lock()

        def worker(i):
            cl = Client(port)
            rnd = random.Random(i)
            while time.monotonic() < stop:
                if args.think > 0:
                    time.sleep(rnd.expovariate(1 / args.think))
                q = rnd.choice(normal)
                status, dt, body = cl.query(q)
                with lock:
                    if status == 200:
                        lat.append(dt)
                    else:
                        failures.append((status, body[:200]))

        def pathological():
            nonlocal patho_sent
            while time.monotonic() < stop:
                t = time.monotonic()

                def one():
                    status, dt, body = Client(port).query(PATHOLOGICAL)
                    with lock:
                        (timeouts if status == 503 else failures).append((status, body[:200]))
                threading.Thread(target=one, daemon=True).start()
                patho_sent += 1
                time.sleep(max(0, 1 - (time.monotonic() - t)))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
        threads.append(threading.Thread(target=pathological))
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            mem_peak = max(mem_peak, rss_of_tree(server.pid))
            time.sleep(0.5)
        time.sleep(args.timeout + 1)  # let the last pathological queries finish
        idle_p99, load_p99 = pct(idle, 99), pct(lat, 99)
        rows = [
            ("idle: normal queries", len(idle), pct(idle, 50) * 1000, idle_p99 * 1000),
            (f"load: {args.clients} clients, normal", len(lat), pct(lat, 50) * 1000, load_p99 * 1000),
        ]
        print(f"{'phase':40} {'requests':>9} {'p50 ms':>9} {'p99 ms':>9}")
        for name, n, p50, p99 in rows:
            print(f"{name:40} {n:>9} {p50:>9.1f} {p99:>9.1f}")
        print(f"pathological queries sent: {patho_sent}, answered 503 (timeout): {len(timeouts)}")
        print(f"failures (anything else): {len(failures)} {failures[:3]}")
        print(f"throughput under load: {len(lat) / args.seconds:.0f} req/s")
        print(f"memory: after warm-up {mem_warm / 2**20:.0f} MiB, peak {mem_peak / 2**20:.0f} MiB")
        ok = not failures and load_p99 <= 3 * idle_p99 and mem_peak <= 1.5 * mem_warm
        print(f"p99 ratio load/idle: {load_p99 / idle_p99:.2f} (goal <= 3)")
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
