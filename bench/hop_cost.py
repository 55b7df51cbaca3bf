#!/usr/bin/env python3
"""Where the distinct-lookup throughput goes: oxigraph serve vs Python front ends, with and
without the hop to a killable query worker.

    .venv/bin/pip install uvicorn uvloop httptools   # optional: the uvicorn row is skipped without them
    .venv/bin/python bench/hop_cost.py [--duration 8] [--connections 8]

Every server gets the same distinct lookups (one fact's triples, a nonce comment in each
request so no two are alike), POSTed as a form by wrk on 127.0.0.1, one after the other:

1. ``oxigraph serve``, in memory (the reference);
2. in-process: a raw WSGI function that runs the query on a pyoxigraph store in its own
   process and serializes it natively, under granian (a Rust HTTP server), 2 processes.
   Nothing can stop such a query at a time limit: this is the ceiling for Python, not a design;
   the same with the query handed to another thread and awaited with a deadline (the mechanism of
   econplan's SERVER=granian, without its checks, cache and protocol handling); and the same under
   uvicorn (ASGI), the query in a thread that the event loop awaits with a deadline;
3. the hop: the same raw WSGI function, but the query goes to econplan's killable
   QueryExecutor (2 worker processes) as it does in econplan; under granian and under gunicorn;
4. ``econplan serve`` as shipped (granian; queries in threads of the HTTP processes, which
   exit after a timeout; the fast path past Flask; the checks, ETag, cache), and with
   SERVER=gunicorn (Flask, the hop to the query-worker processes).

It prints req/s, p50, p99 and the ratio to oxigraph.  Everything stops by itself.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

APP = '''
import os, sys, threading
from urllib.parse import parse_qs
sys.path.insert(0, os.environ["ECONPLAN_ROOT"])
NQ = os.path.join(os.environ["ECONPLAN_BUILD"], "econplan.nq")

if os.environ.get("MODE") == "inproc":
    import pyoxigraph as ox
    store = ox.Store()
    store.bulk_load(path=NQ, format=ox.RdfFormat.N_QUADS)

    def run(q):
        return store.query(q, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
else:
    from server.sparql.runner import Job, QueryExecutor
    from server.kg.store import version_of
    VERSION = version_of(os.environ["ECONPLAN_BUILD"])
    _ex, _lock = None, threading.Lock()

    def run(q):
        global _ex
        if _ex is None:
            with _lock:
                if _ex is None:
                    _ex = QueryExecutor(os.environ["ECONPLAN_BUILD"], size=2, mode="memory", timeout=30)
                    _ex.ready.wait(120)
        return _ex.run(Job(sparql=q, format="json", version=VERSION)).body


async def asgi(scope, receive, send):
    """The watchdog design (not econplan's): the query runs in a thread of the HTTP process and
    the event loop waits for it with a deadline; past it, the loop answers 503 and the process
    would stop accepting, drain its other requests and exit (the runaway query dies with it),
    to be replaced by the supervisor.  Only the normal path is measured here."""
    import asyncio

    if scope["type"] != "http":
        return
    body = b""
    while True:
        m = await receive()
        body += m.get("body", b"")
        if not m.get("more_body"):
            break
    q = parse_qs(body.decode())["query"][0]
    try:
        out, status = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, run, q), 30), 200
    except asyncio.TimeoutError:
        out, status = b'{"ok":false,"error":{"status":503,"code":"timeout"}}', 503
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/sparql-results+json"),
                            (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})


_pool = None


def wsgi(environ, start_response):
    global _pool
    n = int(environ.get("CONTENT_LENGTH") or 0)
    q = parse_qs(environ["wsgi.input"].read(n).decode())["query"][0]
    if os.environ.get("DEADLINE"):  # the query in another thread, awaited with a deadline
        if _pool is None:
            import concurrent.futures
            _pool = concurrent.futures.ThreadPoolExecutor(8)
        out = _pool.submit(run, q).result(30)
    else:
        out = run(q)
    start_response("200 OK", [("Content-Type", "application/sparql-results+json"),
                              ("Content-Length", str(len(out)))])
    return [out]
'''

LUA = '''
local n = 0
request = function()
  n = n + 1
  local body = "query=" .. "%s" .. "%%20%%23" .. n .. "-" .. math.random(1000000000)
  return wrk.format("POST", "%s", {["Content-Type"]="application/x-www-form-urlencoded",
                                  ["Accept"]="application/sparql-results+json"}, body)
end
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, path: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url + path, data=b"query=ASK%7B%7D",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            if urllib.request.urlopen(req, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def wrk(url: str, path: str, subject: str, duration: float, connections: int, tmp: Path) -> dict:
    from urllib.parse import quote

    script = tmp / f"lookup{path.replace('/', '-')}.lua"
    q = quote(f"SELECT ?p ?o WHERE {{ <{subject}> ?p ?o }}", safe="")
    script.write_text(LUA % (q, path))
    base = ["wrk", "-t1", f"-c{connections}", "-s", str(script), "--latency", url + path]
    subprocess.run(base[:3] + ["-d2s"] + base[3:], capture_output=True, timeout=30)  # warm-up
    out = subprocess.run(base[:3] + [f"-d{duration:g}s"] + base[3:], capture_output=True, text=True,
                         timeout=duration + 30).stdout

    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else float("nan")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "errors": int(non2xx.group(1)) if non2xx else 0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=8)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--build-dir", default=str(ROOT / "build"))
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    sys.path.insert(0, str(ROOT))
    from server.kg.store import KnowledgeGraph

    subject = KnowledgeGraph.open(build).select(
        "SELECT ?f WHERE { ?f a <https://w3id.org/econplan/def#Observation> } ORDER BY ?f LIMIT 1")[0]["f"].value
    tmp = Path(tempfile.mkdtemp(prefix="hop-cost-"))
    (tmp / "hopapp.py").write_text(APP)
    env = dict(os.environ, ECONPLAN_ROOT=str(ROOT), ECONPLAN_BUILD=str(build), PYTHONPATH=str(tmp),
               ECONPLAN_LOG_LEVEL="WARNING", ECONPLAN_CACHE_SIZE="0")
    has_granian = importlib.util.find_spec("granian") is not None
    runs = []

    def server(name, cmd, path, extra_env=None, load_nq=False):
        port = free_port()
        cmd = [c.replace("{port}", str(port)) for c in cmd]
        log = open(tmp / f"{name}.log", "wb")
        p = subprocess.Popen(cmd, env=dict(env, **(extra_env or {})), cwd=tmp, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(url, path)
            if load_nq:
                req = urllib.request.Request(url + "/store", data=(build / "econplan.nq").read_bytes(),
                                             headers={"Content-Type": "application/n-quads"})
                urllib.request.urlopen(req, timeout=120).read()
            r = wrk(url, path, subject, args.duration, args.connections, tmp)
            runs.append((name, r))
            print(f"  {name}: {r['rps']:.0f} req/s", flush=True)
        finally:
            os.killpg(p.pid, 15)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
            log.close()

    oxi = BIN / "oxigraph"
    server("oxigraph serve (memory)", [str(oxi), "serve", "--bind", "127.0.0.1:{port}", "--union-default-graph"],
           "/query", load_nq=True)
    granian = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", "{port}",
               "--no-log", "hopapp:wsgi"]
    if has_granian:
        server("in-process, granian, 2 processes (not killable)", granian[:-1] + ["--workers", "2", "hopapp:wsgi"],
               "/sparql", {"MODE": "inproc"})
        server("in-process in a thread with a deadline, granian, 2 processes (econplan's mechanism, "
               "nothing around it)", granian[:-1] + ["--workers", "2", "--blocking-threads", "4", "hopapp:wsgi"],
               "/sparql", {"MODE": "inproc", "DEADLINE": "1"})
        server("hop to 2 killable workers, granian (8 threads)",
               granian[:-1] + ["--workers", "1", "--blocking-threads", "8", "hopapp:wsgi"], "/sparql")
    if importlib.util.find_spec("uvicorn") is not None:
        server("in-process in a thread with a deadline, uvicorn, 2 processes (watchdog design)",
               [sys.executable, "-m", "uvicorn", "hopapp:asgi", "--host", "127.0.0.1", "--port", "{port}",
                "--workers", "2", "--no-access-log", "--log-level", "warning"], "/sparql", {"MODE": "inproc"})
    server("hop to 2 killable workers, gunicorn gthread (16 threads)",
           [str(BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "16", "-b", "127.0.0.1:{port}",
            "hopapp:wsgi"], "/sparql")
    ep = [str(BIN / "econplan"), "--root", str(ROOT), "--build-dir", str(build), "serve", "--port", "{port}"]
    server("econplan serve (as shipped: granian, query threads, fast path)", ep, "/sparql")
    server("econplan serve, SERVER=gunicorn (query-worker processes)", ep, "/sparql", {"ECONPLAN_SERVER": "gunicorn"})
    ref = runs[0][1]["rps"]
    print(f"\n{args.connections} connections, {args.duration:g} s each, distinct lookups of one fact's triples"
          + ("" if has_granian else "; granian is not installed: its rows are skipped"))
    print("\n| server | req/s | p50 ms | p99 ms | non-2xx | ratio to oxigraph |\n|---|---:|---:|---:|---:|---:|")
    for name, r in runs:
        print(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {r['rps'] / ref:.2f}x |")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
