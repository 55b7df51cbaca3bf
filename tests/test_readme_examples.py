"""Every ```sh and ```python block of the README, run as written against a real server and a
copy of the real build. Only what must differ on a test machine is substituted: the port
(8000 -> a free port, 7878 -> another), oxigraph's data folder (/data/oxi -> a temporary one),
and `serve` is given that free port. The commands run in a folder that looks like a checkout
(ontology/, data/, shapes/, queries/, .venv and Makefile linked to this one) with its own build/.
A block that is not listed in BLOCKS below fails the test, so a new README example needs a check."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, LiveServer, free_port

FENCE = re.compile(r"^```(sh|python)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer((ROOT / "README.md").read_text(encoding="utf-8"))]


def block(start: str) -> str:
    found = [code for _, code in blocks() if code.lstrip().startswith(start)]
    assert len(found) == 1, f"the README has {len(found)} blocks starting with {start!r}"
    return found[0]


# The first words of every block and the test that runs it.
BLOCKS = {
    "make run": "test_quick_start",
    "curl -s http://127.0.0.1:8000/sparql": "test_curl_csv",
    "curl -s 'http://127.0.0.1:8000/search": "test_curl_search",
    "from SPARQLWrapper import SPARQLWrapper": "test_python_sparqlwrapper",
    ".venv/bin/econplan query": "test_cli_query",
    ".venv/bin/econplan passages | head": "test_closed_pipe",
    "cat > new.ttl": "test_validate_and_load",
    "oxigraph serve": "test_external_oxigraph",
}


def test_every_block_is_checked():
    assert len(blocks()) == len(BLOCKS)
    for kind, code in blocks():
        assert any(code.lstrip().startswith(k) for k in BLOCKS), f"an unchecked README block:\n{code}"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory, built) -> Path:
    """A folder like the repository's root, with its own copy of the build."""
    d = tmp_path_factory.mktemp("checkout")
    for name in ("ontology", "data", "shapes", "queries", "Makefile", "pyproject.toml", "server"):
        (d / name).symlink_to(ROOT / name)
    # the installed environment, with its own install stamp, so that `make` finds it current
    (d / ".venv").mkdir()
    for entry in (ROOT / ".venv").iterdir():
        if entry.name != ".installed-stamp":
            (d / ".venv" / entry.name).symlink_to(entry)
    (d / ".venv" / ".installed-stamp").touch()
    shutil.copytree(built, d / "build", ignore=shutil.ignore_patterns("server-*.log", "oxigraph-*.log"))
    return d


@pytest.fixture(scope="module")
def server(checkout):
    s = LiveServer(checkout / "build")
    yield s
    s.stop()


def sh(code: str, cwd: Path, timeout: int = 120, pipefail: bool = True) -> subprocess.CompletedProcess:
    """``code`` run by bash in ``cwd``, stopping at the first failing command."""
    opts = ["-e", "-o", "pipefail"] if pipefail else ["-e"]
    return subprocess.run(["bash", *opts, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def on_port(code: str, port: int) -> str:
    return code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")


def stop_group(proc: subprocess.Popen) -> None:
    """Stop the process group this test started (the shell or make and what they started)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_curl_csv(server, checkout):
    r = sh(on_port(block("curl -s http://127.0.0.1:8000/sparql"), server.port), checkout)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].strip() == "kind,value,unit,sentence"
    assert any(",20059,亿元," in line and "全市地区生产总值实现20059亿元" in line for line in lines), r.stdout[:500]


def test_curl_search(server, checkout):
    r = sh(on_port(block("curl -s 'http://127.0.0.1:8000/search"), server.port), checkout)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    ind = next(g for g in doc["groups"] if g["type"] == "indicator")
    first = ind["results"][0]  # the indicator, found by its alternative label 生产总值
    assert first["label"] == "地区生产总值" and first["text"] == "生产总值" and first["spans"] == [[0, 4]]
    assert all(len(g["results"]) <= 2 for g in doc["groups"])


def test_python_sparqlwrapper(server, checkout):
    code = on_port(block("from SPARQLWrapper"), server.port)
    r = subprocess.run([sys.executable, "-c", code], cwd=checkout, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 10 and all(re.search(r" \d+(\.\d+)?$", line) for line in lines), r.stdout


def test_cli_query(checkout):
    r = sh(block(".venv/bin/econplan query"), checkout)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "地区生产总值@zh" in r.stdout and "gross regional product (GDP)@en" in r.stdout
    last = r.stdout.rstrip("\n").splitlines()[-1]
    doc = json.loads(last)
    assert doc["results"]["bindings"][0]["value"]["value"] == "20059"
    assert r.stdout.endswith("}\n")  # JSON ends its line


def test_closed_pipe(checkout):
    # as in an interactive shell (no pipefail): the pipeline's status is head's
    r = sh(block(".venv/bin/econplan passages | head"), checkout, pipefail=False)
    assert r.stderr == "" and r.returncode == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("p001-s01\t")
    # the writer itself ends as a process ended by SIGPIPE does, and says nothing (the reader
    # is gone before the writer starts: the output, ~50 kB, would fit a pipe's buffer)
    r = sh(".venv/bin/econplan passages | true; echo ${PIPESTATUS[0]}", checkout, pipefail=False)
    assert r.stderr == "" and r.stdout.strip() == "141"


def test_validate_and_load(checkout):
    code = block("cat > new.ttl")
    r = sh(code, checkout, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert "conforms: 0 violation(s)" in r.stdout
    assert "loaded: +1 -0 triples" in r.stdout
    ask = sh(".venv/bin/econplan query 'ASK { GRAPH <https://example.org/g> { indicator:gdp skos:altLabel \"GRP\"@en } }' --format json",
             checkout)
    assert json.loads(ask.stdout)["boolean"] is True


@pytest.mark.slow
def test_quick_start(checkout):
    """`make run` builds and serves (on a free port here); `make test` is this very suite, so it
    is only dry-run (make -n) to check that its commands exist."""
    code = block("make run")
    assert "make run" in code and "make test" in code
    port = free_port()
    dry = sh("make -n test", checkout)
    assert dry.returncode == 0 and "pytest" in dry.stdout
    proc = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=checkout, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats", timeout=2) as resp:
                    stats = json.load(resp)
                break
            except OSError:
                assert time.time() < deadline, "make run did not serve within 120 s"
                time.sleep(0.5)
        assert stats.get("facts", 0) > 300 or "triples" in json.dumps(stats)
    finally:
        stop_group(proc)


@pytest.mark.slow
def test_external_oxigraph(checkout, tmp_path):
    if not (ROOT / ".venv" / "bin" / "oxigraph").exists():
        pytest.fail("the oxigraph CLI is missing (it is a test dependency: pip install -e '.[test]')")
    oxi_port, port = free_port(), free_port()
    code = block("oxigraph serve")
    code = code.replace("127.0.0.1:7878", f"127.0.0.1:{oxi_port}").replace("/data/oxi", str(tmp_path / "oxi"))
    code = re.sub(r" serve$", f" serve --port {port}", code, flags=re.M)
    assert f"serve --port {port}" in code
    env = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}")
    proc = subprocess.Popen(["bash", "-e", "-c", code], cwd=checkout, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 180
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            try:
                q = urllib.request.quote("SELECT (COUNT(*) AS ?n) WHERE { ?f ep:indicator indicator:gdp }")
                req = urllib.request.Request(f"http://127.0.0.1:{port}/sparql?query={q}",
                                             headers={"Accept": "application/sparql-results+json"})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    n = int(json.load(resp)["results"]["bindings"][0]["n"]["value"])
                break
            except OSError:
                assert time.time() < deadline, "the oxigraph example did not serve within 180 s"
                time.sleep(0.5)
        assert n >= 3
        # the answer came from oxigraph: it holds the pushed data
        req = urllib.request.Request(f"http://127.0.0.1:{oxi_port}/query?query="
                                     + urllib.request.quote("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"),
                                     headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert int(json.load(resp)["results"]["bindings"][0]["n"]["value"]) > 10000
    finally:
        stop_group(proc)
