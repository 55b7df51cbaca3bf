"""Shared benchmark plumbing: servers on 127.0.0.1, a wrk driver, memory of process trees.

Nothing here talks to anything but 127.0.0.1, and every wait has a deadline.

* :class:`Server` starts a command, waits until a probe query is answered (and
  records how long that took), reports the RSS of its whole process tree, and
  stops the tree (SIGTERM, then SIGKILL) at the end.
* :func:`wrk` runs ``wrk`` with a generated Lua script: a fixed query or a
  template whose ``{{SUBJECT}}`` is replaced by a random IRI from a list, with an
  optional per-request nonce comment (so no two request bodies are the same and
  no response cache can help), as ``POST application/sparql-query``.  The Lua
  ``done`` hook prints requests, errors and exact p50/p99 as JSON.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

PREFIXES = """PREFIX ep: <https://w3id.org/econplan/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
JSON_RESULTS = "application/sparql-results+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name: str) -> str | None:
    """A command from the venv first, then PATH."""
    p = VENV_BIN / name
    if p.exists():
        return str(p)
    return shutil.which(name)


# -- HTTP (stdlib, for probes and correctness checks, not for load) -------------------------

def sparql_post(url: str, query: str, *, accept: str = JSON_RESULTS, headers: dict | None = None,
                timeout: float = 30.0):
    """POST a query; returns (status, headers, body)."""
    h = {"Content-Type": "application/sparql-query", "Accept": accept}
    h.update(headers or {})
    req = urllib.request.Request(url, data=query.encode(), headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()  # (case-insensitive names)
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def rows_of(body: bytes) -> int:
    return len(json.loads(body)["results"]["bindings"])


# -- process trees ---------------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (granian's HTTP processes, for ``econplan serve``)."""
    return _children().get(pid, [])


def tree(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(pid: int) -> dict:
    """RSS (now), peak RSS (VmHWM) and PSS of every process of the tree, in MiB."""
    pids = tree(pid)
    rss = sum(_status_kb(p, "VmRSS") for p in pids)
    hwm = sum(_status_kb(p, "VmHWM") for p in pids)
    pss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
        except OSError:
            pass
    return {"processes": len(pids), "rss_mib": rss / 1024, "peak_rss_mib": hwm / 1024,
            "pss_mib": pss / 1024}


# -- servers ---------------------------------------------------------------------------

@dataclass
class Server:
    name: str
    cmd: list[str]
    url: str                      # the query endpoint
    env: dict = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    first_answer_s: float | None = None

    def start(self, probe: str = "ASK { ?s ?p ?o }", deadline_s: float = 120.0,
              after_start=None) -> "Server":
        """Start, then poll with ``probe`` until it is answered; ``after_start`` runs once
        the port accepts connections (used to load oxigraph's in-memory store)."""
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, env=dict(os.environ, **self.env), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + deadline_s
        loaded = after_start is None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path else ""
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
            try:
                if not loaded:
                    with socket.create_connection(("127.0.0.1", int(self.url.split(":")[2].split("/")[0])),
                                                  timeout=1):
                        pass
                    after_start(self)
                    loaded = True
                status, _, _ = sparql_post(self.url, probe, timeout=5)
                if status == 200:
                    self.first_answer_s = time.perf_counter() - self.started_at
                    return self
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {deadline_s:.0f} s")

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path else ""
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")

    def memory(self) -> dict:
        return memory(self.proc.pid)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own process group: this server's tree only
        except ProcessLookupError:
            return
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def econplan_server(build_dir: Path, port: int, *, query_workers: int | None = None,
                    env: dict | None = None, log_dir: Path | None = None,
                    pythonpath: str | None = None) -> Server:
    """``econplan serve`` on 127.0.0.1:``port``; ``pythonpath``: serve another checkout's
    ``server`` package (e.g. a patched copy) with this venv."""
    econplan = tool("econplan")
    cmd = ([econplan] if econplan else [sys.executable, "-m", "server"]) + [
        "--root", str(ROOT), "--build-dir", str(build_dir), "serve", "--host", "127.0.0.1",
        "--port", str(port)]
    if query_workers:
        cmd += ["--workers", str(query_workers)]
    e = {"ECONPLAN_LOG_LEVEL": "WARNING"}
    if pythonpath:
        e["PYTHONPATH"] = pythonpath
        cmd[cmd.index("--root") + 1] = pythonpath
    e.update(env or {})
    return Server("econplan", cmd, f"http://127.0.0.1:{port}/sparql", env=e,
                  log_path=(log_dir / f"econplan-{port}.log") if log_dir else None)


def oxigraph_server(port: int, *, location: Path | None, timeout_s: int = 0,
                    log_dir: Path | None = None) -> Server:
    """``oxigraph serve`` in memory (location None; load with :func:`oxigraph_load_http`)
    or ``serve-read-only`` over a store made by ``oxigraph load``.

    ``timeout_s`` 0 leaves out ``--timeout-s``: in oxigraph 0.5.13 that option spawns one
    thread per query that sleeps for the whole timeout, so under a few thousand req/s the
    thread count reaches vm.max_map_count within seconds and the server aborts.
    """
    ox = tool("oxigraph")
    if ox is None:
        raise SystemExit("the oxigraph CLI is missing: .venv/bin/pip install oxigraph")
    cmd = [ox, "serve" if location is None else "serve-read-only"]
    if location is not None:
        cmd += ["--location", str(location)]
    cmd += ["--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    if timeout_s:
        cmd += ["--timeout-s", str(timeout_s)]
    return Server("oxigraph", cmd, f"http://127.0.0.1:{port}/query",
                  log_path=(log_dir / f"oxigraph-{port}.log") if log_dir else None)


def oxigraph_load_http(nquads: Path):
    """An ``after_start`` hook: POST the N-Quads file to the server's /store."""
    def load(server: Server) -> None:
        base = server.url.rsplit("/", 1)[0]
        req = urllib.request.Request(base + "/store", data=Path(nquads).read_bytes(),
                                     headers={"Content-Type": "application/n-quads"}, method="POST")
        with urllib.request.urlopen(req, timeout=600) as r:
            r.read()
    return load


def oxigraph_load_cli(nquads: Path, location: Path, *, timeout_s: float = 1800) -> float:
    """``oxigraph load`` into a fresh directory; returns wall seconds."""
    shutil.rmtree(location, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([tool("oxigraph"), "load", "--location", str(location), "--file", str(nquads)],
                   check=True, timeout=timeout_s, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


# -- CPU accounting (the machine may be shared: say how busy it was) -----------------------

def _machine_busy_s() -> float:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU (in cores) used during a span: the whole machine, a server's process tree, our children."""

    def __init__(self, server_pid: int | None = None):
        import resource

        self.pid = server_pid
        self._res = resource
        self.t0 = time.perf_counter()
        self.m0 = _machine_busy_s()
        self.s0 = _tree_cpu_s(server_pid) if server_pid else 0.0
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.c0 = r.ru_utime + r.ru_stime

    def stop(self) -> dict:
        el = time.perf_counter() - self.t0
        m = _machine_busy_s() - self.m0
        srv = (_tree_cpu_s(self.pid) - self.s0) if self.pid else 0.0
        r = self._res.getrusage(self._res.RUSAGE_CHILDREN)
        kids = r.ru_utime + r.ru_stime - self.c0
        return {"machine_cores": m / el, "server_cores": srv / el, "loadgen_cores": kids / el,
                "other_cores": max(0.0, (m - srv - kids) / el)}


def wait_quiet(max_wait: float = 60.0, threshold: float = 0.3, window: float = 1.0) -> float:
    """Wait (at most ``max_wait`` s) until the machine's CPU use over ``window`` s is below
    ``threshold`` cores; returns the last reading (cores busy)."""
    deadline = time.time() + max_wait
    while True:
        m0, t0 = _machine_busy_s(), time.perf_counter()
        time.sleep(window)
        busy = (_machine_busy_s() - m0) / (time.perf_counter() - t0)
        if busy < threshold or time.time() > deadline:
            return busy


# -- wrk ---------------------------------------------------------------------------------

def _lua_str(s: str) -> str:
    """A double-quoted Lua string; every byte outside printable ASCII as a decimal escape."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        out.append(c if 32 <= b < 127 and c not in '"\\' else f"\\{b:03d}")
    return '"' + "".join(out) + '"'


LUA = r"""
local template = %(template)s
local subjects = { %(subjects)s }
local nonce = %(nonce)s
local headers = { ["Content-Type"] = "application/sparql-query", ["Accept"] = %(accept)s %(extra)s }
local path = %(path)s
local counter = 0
local threads = {}
local tid = 0

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(%(seed)d + tid * 7919)
  if #subjects == 0 and not nonce then
    fixed = wrk.format("POST", path, headers, template)
  end
end

function request()
  if fixed then return fixed end
  counter = counter + 1
  local q = template
  if #subjects > 0 then
    local s = subjects[math.random(#subjects)]
    q = string.gsub(q, "{{SUBJECT}}", function() return s end)
  end
  if nonce then
    q = q .. "\n# r" .. tid .. "-" .. counter
  end
  return wrk.format("POST", path, headers, q)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"requests\": %%d, \"duration_us\": %%d, \"bytes\": %%d, \"connect\": %%d, \"read\": %%d, " ..
    "\"write\": %%d, \"status\": %%d, \"timeout\": %%d, \"p50_us\": %%d, \"p90_us\": %%d, \"p99_us\": %%d, " ..
    "\"max_us\": %%d, \"mean_us\": %%f}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass
class Load:
    """What to send: a query (or template with {{SUBJECT}}) and how to vary it."""
    name: str
    template: str
    subjects: list[str] = field(default_factory=list)
    nonce: bool = False
    headers: dict = field(default_factory=dict)
    accept: str = JSON_RESULTS


def wrk(url: str, load: Load, *, duration: float, connections: int = 8, threads: int = 1,
        seed: int = 1, timeout_s: int = 35, server_pid: int | None = None) -> dict:
    """Run wrk against ``url`` for ``duration`` seconds; returns the parsed summary
    (with the CPU used meanwhile by the machine, the server's process tree and wrk)."""
    exe = tool("wrk")
    if exe is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    host_part, _, path = url.partition("//")[2].partition("/")
    extra = "".join(f", [{_lua_str(k)}] = {_lua_str(v)}" for k, v in load.headers.items())
    lua = LUA % {
        "template": _lua_str(load.template),
        "subjects": ", ".join(_lua_str(s) for s in load.subjects),
        "nonce": "true" if load.nonce else "false",
        "accept": _lua_str(load.accept), "extra": extra, "path": _lua_str("/" + path), "seed": seed,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write(lua)
        script = f.name
    try:
        cmd = [exe, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
               "--timeout", f"{timeout_s}s", "-s", script, f"http://{host_part}/{path}"]
        meter = CpuMeter(server_pid)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + timeout_s + 30)
        cpu = meter.stop()
    finally:
        os.unlink(script)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[len("WRKJSON "):])
    secs = r["duration_us"] / 1e6
    r["all_rps"] = r["requests"] / secs if secs else 0.0
    r["rps"] = (r["requests"] - r["status"]) / secs if secs else 0.0  # answered with 2xx/3xx
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    r["cpu"] = cpu
    return r


def measured_turn(url: str, load: Load, *, duration: float, server_pid: int, seed: int,
                  what: str, detail: dict | None = None) -> tuple[float, float, float]:
    """One server's turn in an interleaved comparison (ab_lookups.py, ceiling.py): wait for a
    quiet machine, run wrk, refuse a turn with errors; returns (req/s, CPU ms of the server's
    process tree per request, p99 ms).  ``detail``, if given, receives wrk's whole output and
    ``spread``: the connections each process of the server held halfway through the turn."""
    wait_quiet(10)
    spread: list[int] = []
    sampler = None
    if detail is not None:  # (ss runs once, halfway through: a few ms of CPU)
        port = urllib.parse.urlsplit(url).port
        sampler = threading.Timer(duration / 2, lambda: spread.extend(connections_per_process(port)))
        sampler.start()
    try:
        out = wrk(url, load, duration=duration, server_pid=server_pid, seed=seed)
    finally:
        if sampler is not None:
            sampler.cancel()
            sampler.join()
    if detail is not None:
        detail.update(out, spread=spread)
    if out["errors"]:
        raise SystemExit(f"{what}: {out['errors']} errors")
    cpu_ms = out["cpu"]["server_cores"] * (out["duration_us"] / 1e6) / out["requests"] * 1000
    return out["rps"], cpu_ms, out["p99_us"] / 1000


def connections_per_process(port: int) -> list[int]:
    """How many established client connections each process listening on ``port`` holds, most
    first (from ``ss``; empty where ss is missing).  With several HTTP processes the kernel
    hands each connection to one of them: 8 connections over 3 processes often split 4/3/1."""
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(Counter(re.findall(r"pid=(\d+)", out)).values(), reverse=True)


# -- machine ---------------------------------------------------------------------------

def machine() -> dict:
    import platform

    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
    except OSError:
        pass
    versions = {}
    try:
        import pyoxigraph

        versions["pyoxigraph"] = pyoxigraph.__version__
    except Exception:  # pragma: no cover
        versions["pyoxigraph"] = "?"
    ox = tool("oxigraph")
    if ox:
        versions["oxigraph"] = subprocess.run([ox, "--version"], capture_output=True, text=True,
                                              timeout=10).stdout.strip()
    w = tool("wrk")
    if w:
        v = subprocess.run([w, "--version"], capture_output=True, text=True, timeout=10)
        versions["wrk"] = (v.stdout or v.stderr).splitlines()[0].split(" Copyright")[0].strip()
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "nproc": os.cpu_count(),
            "loadavg": " ".join(open("/proc/loadavg").read().split()[:3]),
            "ram_gib": round(mem / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), **versions}


def machine_line(m: dict) -> str:
    return (f"{m['date']}; {m['nproc']} cores, {m['ram_gib']} GiB RAM, {m['cpu']}; Python {m['python']}, "
            f"pyoxigraph {m.get('pyoxigraph')}, {m.get('oxigraph', 'oxigraph ?')}, {m.get('wrk', 'wrk ?')}; "
            f"load average at the start {m.get('loadavg', '?')}")
