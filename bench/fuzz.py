#!/usr/bin/env python3
"""Fuzzing of the server: random requests (hypothesis), and hostile input against a real server.

    .venv/bin/python bench/fuzz.py [--examples 1000]
        the fuzz tests of tests/test_security.py with a long budget (CI runs them with 60
        examples): random and mutated SPARQL, headers, parameters and RDF bodies; no response
        may be a 5xx (other than the intended timeout) or carry a traceback.
    .venv/bin/python bench/fuzz.py --hostile [--count 300] [--seconds 120] [--seed 1]
                                   [--build-dir DIR] [--skip CASE ...]
        hostile input (issue 19) against `econplan serve` on 127.0.0.1, with a write token:
        deep nesting and long chains of every shape, SERVICE and LOAD tricks aimed at a
        listening socket on 127.0.0.1 that must receive nothing, huge literals, entity
        expansion, deeply nested RDF/XML, N3, chunked bodies under and over the size limit.
        Each answer must have the expected status, never a 5xx other than 503 for a query,
        never a traceback; the server must answer a normal query after every case and still be
        running at the end.

Bounded: at most --count cases and --seconds seconds; every request goes to 127.0.0.1.
Exit status 0 when every case held, 1 otherwise (the failures are listed).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
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
TOKEN = "fuzz-hostile-token"
LOAD_LIMIT = 20_000_000  # MAX_LOAD_BYTES of the fuzzed server: above the parser's 16 MiB token buffer


# -- what is sent -----------------------------------------------------------------------------

def nested(kind: str, n: int) -> str:
    return {
        "braces": lambda: "SELECT*{" + "{" * n + "}" * n + "}",
        "parens": lambda: "SELECT*{?s ?p ?o FILTER(" + "(" * n + "1" + ")" * n + ")}",
        "brackets": lambda: "SELECT*{?s <p> " + "[<p> " * n + "1" + "]" * n + "}",
        "optional": lambda: "SELECT*{" + "?s ?p ?o OPTIONAL{" * n + "?s ?p ?o" + "}" * n + "}",
        "not-exists": lambda: "SELECT*{?s ?p ?o " + "FILTER NOT EXISTS{?s ?p ?o " * n + "}" * n + "}",
        "subselect": lambda: "SELECT*{" + "{SELECT * WHERE " * n + "{?s ?p ?o}" + "}" * n + "}",
        "path": lambda: "SELECT*{?s " + "/".join(["<p>"] * n) + " ?o}",
        "plus": lambda: "SELECT*{BIND(" + "+".join(["1"] * n) + " AS ?x)}",
        "or": lambda: "SELECT*{BIND(" + "||".join(["true"] * n) + " AS ?x)}",
        "union": lambda: "SELECT*{" + " UNION ".join(["{}"] * n) + "}",
        "binds": lambda: "SELECT*{" + "".join(f"BIND(1 AS ?x{i})" for i in range(n)) + "}",
        "collection": lambda: "SELECT*{?s <p> (" + " 1" * n + ")}",
        "triples": lambda: "SELECT*{" + "?s ?p ?o." * n + "}",
    }[kind]()


NESTING_KINDS = ("braces", "parens", "brackets", "optional", "not-exists", "subselect", "path", "plus", "or",
                 "union", "binds", "collection", "triples")


def service_trick(rng: random.Random, port: int) -> tuple[str, bool]:
    """A query or update that names the listener at ``port`` in a disguise; (text, is_update)."""
    host = f"http://127.0.0.1:{port}/"
    iri = rng.choice([f"<{host}x>", f"<http://127.0.0.1\\u003A{port}/x>", "s:x", "<x>", "?e"])
    service = rng.choice(["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "service # c\n silent"])
    lead = rng.choice(["", "BIND(<http://ex/a'b> AS ?z) ", 'BIND("\\u0022" AS ?q) ', "# SERVICE <http://ok/>\n",
                       f"BIND(<{host}v> AS ?e) "])
    tail = rng.choice(["", " # '", ' # """', " # \"", "\n"])
    prologue = rng.choice(["", f"PREFIX s: <{host}> ", f"BASE <{host}> ", f"PREFIX s: <{host}> BASE <{host}> "])
    if rng.random() < 0.3:
        load = rng.choice([f"LOAD <{host}l>", f"LOAD SILENT s:l INTO GRAPH <urn:g>", "LOAD <file:///etc/passwd>"])
        return prologue + (f"PREFIX s: <{host}> " if "s:" in load and "PREFIX" not in prologue else "") + load, True
    if rng.random() < 0.3:
        return f"{prologue}INSERT {{ ?s ?p ?o }} WHERE {{ {lead}{service} {iri} {{ ?s ?p ?o }} }}{tail}", True
    return f"{prologue}SELECT * {{ {lead}{service} {iri} {{ ?s ?p ?o }} }}{tail}", False


def billion_laughs(rng: random.Random) -> bytes:
    decl = rng.choice(["<!DOCTYPE r [", "<!doctype r [", "<! DOCTYPE r [", "<!DOCTYPE r SYSTEM 'x' ["])
    ents = '<!ENTITY l0 "lollollollol">' + "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">'
                                                   for i in range(1, 10))
    doc = (f'<?xml version="1.0"?>{decl}{ents}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
           ' xmlns:e="http://e/"><rdf:Description rdf:about="http://e/s"><e:p>&l9;</e:p></rdf:Description></rdf:RDF>')
    return doc.encode(rng.choice(["utf-8", "utf-8", "utf-16"]))


# -- how it is sent ---------------------------------------------------------------------------

class Listener:
    """A socket on 127.0.0.1 that records every connection it is offered."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.hits.append(conn.recv(200))
            except OSError:
                self.hits.append(b"(connected)")
            conn.close()

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def request(port: int, method: str, path: str, body=None, headers=None, timeout: float = 60.0):
    """(status, body) of one request; status 0 when no answer came.  A server may answer (413)
    and close before the whole body is sent: the answer is read all the same.  A streamed answer
    cut short (the time limit passed while it was sent) gives its status and b"(cut short)"."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            if headers is not None and headers.get("Transfer-Encoding") == "chunked":
                conn.putrequest(method, path)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders()
                for piece in body:
                    conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                conn.send(b"0\r\n\r\n")
            else:
                conn.request(method, path, body=body, headers=headers or {})
        except OSError as exc:
            if conn.sock is None:  # no connection at all
                return 0, str(exc).encode()
            # else the server may have answered before it read the whole body: see below
        r = conn.getresponse()
        try:
            return r.status, r.read()
        except http.client.IncompleteRead:
            return r.status, b"(cut short)"
    except (OSError, http.client.HTTPException) as exc:
        return 0, str(exc).encode()
    finally:
        conn.close()


def start_server(build_dir: Path, port: int, allowlist: str) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "econplan"
    cmd = ([str(exe)] if exe.exists() else [sys.executable, "-m", "server"]) + [
        "--root", str(ROOT), "--build-dir", str(build_dir), "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "2"]
    env = dict(os.environ, ECONPLAN_WRITE_TOKEN=TOKEN, ECONPLAN_MAX_LOAD_BYTES=str(LOAD_LIMIT),
               ECONPLAN_QUERY_TIMEOUT="5", ECONPLAN_SERVICE_ALLOWLIST=allowlist)
    log = open(build_dir / f"fuzz-server-{port}.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited at start; see {log.name}")
        if request(port, "GET", "/api/stats", timeout=2)[0] == 200:
            return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def fuzz_graph_size(port: int) -> int:
    """Triples in the graph the fuzz loads into (-1 when the count cannot be had)."""
    q = "SELECT (COUNT(*) AS ?n) { GRAPH <https://example.org/fuzz> { ?s ?p ?o } }"
    status, body = request(port, "GET", "/sparql?" + urllib.parse.urlencode({"query": q}),
                           headers={"Accept": "text/csv"}, timeout=30)
    return int(body.split()[-1]) if status == 200 else -1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the run ------------------------------------------------------------------------------------

def hostile(args) -> int:
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="econplan-fuzz-"))
    try:
        build_dir = tmp / "build"
        if args.build_dir:
            shutil.copytree(args.build_dir, build_dir, ignore=shutil.ignore_patterns("*.log"))
        else:
            sys.path.insert(0, str(ROOT))
            from server.kg.build import build
            build(ROOT, build_dir)
        listener = Listener()
        port = free_port()
        proc = start_server(build_dir, port, allowlist="http://allowed.invalid/")
        failures: list[str] = []
        seen: dict[str, dict[int, int]] = {}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        t_end = time.monotonic() + args.seconds
        cases = ["nesting", "service", "huge-literal", "entities", "deep-xml", "n3", "chunked-under-limit",
                 "chunked-over-limit", "chunked-query"]
        cases = [c for c in cases if c not in (args.skip or [])]
        n = 0
        while n < args.count and time.monotonic() < t_end and cases:
            case = cases[n % len(cases)]
            n += 1
            t0 = time.monotonic()
            if case == "nesting":
                kind = rng.choice(NESTING_KINDS)
                depth = int(10 ** rng.uniform(0.5, 4.4))
                label = f"nesting {kind} {depth}"
                status, body = request(port, "POST", "/sparql", nested(kind, depth).encode(),
                                       {"Content-Type": "application/sparql-query"})
                ok = {200, 400, 413, 503}
            elif case == "service":
                text, update = service_trick(rng, listener.port)
                label = f"service {'update' if update else 'query'} {text[:90]!r}"
                status, body = request(port, "POST", "/update" if update else "/sparql", text.encode(),
                                       {"Content-Type": "application/sparql-update" if update
                                        else "application/sparql-query", **auth})
                ok = {400, 403}
            elif case == "huge-literal":
                size = rng.choice([1_000, 17 << 20, LOAD_LIMIT + 1])  # fits; over the token buffer; over the body limit
                label = f"huge literal {size}"
                status, body = request(port, "POST", "/load?graph=https://example.org/fuzz",
                                       b'<https://example.org/fuzz/s> <http://www.w3.org/2000/01/rdf-schema#comment> "'
                                       + b"a" * size + b'" .', {"Content-Type": "text/turtle", **auth})
                ok = {201, 204, 422} if size < (16 << 20) else {413}
            elif case == "entities":
                label = "billion laughs"
                status, body = request(port, "POST", "/load?graph=https://example.org/fuzz", billion_laughs(rng),
                                       {"Content-Type": "application/rdf+xml", **auth})
                ok = {400, 415}
                if time.monotonic() - t0 > 2:
                    failures.append(f"{label}: took {time.monotonic() - t0:.1f} s")
            elif case == "deep-xml":
                depth = rng.choice([1500, 5000, 40000])
                label = f"RDF/XML nested {depth} deep"
                status, body = request(port, "POST", "/load?graph=https://example.org/fuzz",
                                       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
                                       b"<rdf:Description>" + b"<e:p><rdf:Description>" * depth
                                       + b"</rdf:Description></e:p>" * depth + b"</rdf:Description></rdf:RDF>",
                                       {"Content-Type": "application/rdf+xml", **auth})
                ok = {400}
                if time.monotonic() - t0 > 2:
                    failures.append(f"{label}: took {time.monotonic() - t0:.1f} s")
            elif case == "n3":
                label = "n3"
                status, body = request(port, "POST", "/load?graph=https://example.org/fuzz",
                                       b"{ <urn:a> <urn:b> <urn:c> } <urn:d> <urn:e> .", {"Content-Type": "text/n3", **auth})
                ok = {415}
            elif case.startswith("chunked"):
                over = case == "chunked-over-limit"
                total = LOAD_LIMIT * 3 // 2 if over else 1_000_000
                line = b"<https://example.org/fuzz/s> <http://www.w3.org/2000/01/rdf-schema#comment> \"x\" .\n"
                pieces = [line * 100] * (total // (len(line) * 100) + 1)
                if case == "chunked-query":
                    label = "chunked query"
                    status, body = request(port, "POST", "/sparql", [b"SELECT * {", b" ?s ?p ?o } LIMIT 1"],
                                           {"Content-Type": "application/sparql-query", "Transfer-Encoding": "chunked"})
                    ok = {200}
                else:
                    label = f"{case} ({sum(map(len, pieces))} bytes)"
                    before = fuzz_graph_size(port) if over else None
                    status, body = request(port, "POST", "/load?graph=https://example.org/fuzz", pieces,
                                           {"Content-Type": "application/n-triples", "Transfer-Encoding": "chunked", **auth})
                    ok = {413} if over else {201, 204, 422}
                    if over and fuzz_graph_size(port) != before:
                        failures.append(f"{label}: refused, yet the graph changed")
            seen.setdefault(case, {}).setdefault(status, 0)
            seen[case][status] += 1
            if status not in ok:
                failures.append(f"{label}: {status} (expected {sorted(ok)}): {body[:160]!r}")
            if b"Traceback" in body:
                failures.append(f"{label}: a traceback in the answer")
            alive = request(port, "GET", "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}),
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
            if alive[0] != 200 or proc.poll() is not None:
                failures.append(f"after {label}: a normal query got {alive[0]}; server running: {proc.poll() is None}")
                if proc.poll() is not None:
                    break
        time.sleep(0.5)
        listener.close()
        if listener.hits:
            failures.append(f"the listener on 127.0.0.1:{listener.port} was reached: {listener.hits[:3]}")
        running = proc.poll() is None
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not running:
            failures.append("the server was not running at the end")
        died = [ln for ln in (build_dir / f"fuzz-server-{port}.log").read_text(errors="replace").splitlines()
                if " died " in ln]
        if died:  # the supervisor replaces a dead worker: its log line is the only trace
            failures.append(f"worker processes died: {died[:3]}")
        print(f"{n} hostile cases in {args.seconds - max(0.0, t_end - time.monotonic()):.0f} s (seed {args.seed})")
        for case, statuses in seen.items():
            print(f"  {case}: " + ", ".join(f"{s}×{k}" for s, k in sorted(statuses.items())))
        for f in failures:
            print("FAIL", f)
        print(json.dumps({"cases": n, "failures": len(failures)}))
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=1000, help="hypothesis examples per fuzz test")
    ap.add_argument("--hostile", action="store_true", help="hostile input against a real server instead")
    ap.add_argument("--count", type=int, default=300, help="(--hostile) most cases")
    ap.add_argument("--seconds", type=float, default=120.0, help="(--hostile) most seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--build-dir", type=Path, help="(--hostile) a build to copy (default: build one)")
    ap.add_argument("--skip", nargs="*", help="(--hostile) cases to leave out")
    args = ap.parse_args()
    if args.hostile:
        return hostile(args)
    env = dict(os.environ, ECONPLAN_FUZZ_EXAMPLES=str(args.examples))
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(ROOT / "tests" / "test_security.py"), "-k", "fuzz"], env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
