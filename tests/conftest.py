"""Shared fixtures: the real build of the shipped data, in a temporary folder."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.kg.build import build  # noqa: E402
from server.kg.curation import load_dataset  # noqa: E402
from server.kg.store import KnowledgeGraph  # noqa: E402


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A real build (store + dumps) of the shipped data."""
    out = tmp_path_factory.mktemp("build")
    build(ROOT, out)
    return out


@pytest.fixture(scope="session")
def kg(built) -> KnowledgeGraph:
    """The built graph, loaded in memory as the server does."""
    return KnowledgeGraph.open(built, mode="memory")


@pytest.fixture(scope="session")
def dataset():
    return load_dataset(ROOT / "data")


# -- real servers on 127.0.0.1 -------------------------------------------------------------

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``econplan serve`` in a subprocess on 127.0.0.1, stopped at teardown."""

    def __init__(self, build_dir: Path, env: dict | None = None, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = dict(os.environ, **(env or {}))
        econplan = Path(sys.executable).parent / "econplan"
        cmd = ([str(econplan)] if econplan.exists() else [sys.executable, "-m", "server"]) + [
            "--root", str(ROOT), "--build-dir", str(build_dir), "serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", str(workers)]
        self.log = open(Path(build_dir) / f"server-{self.port}.log", "wb")
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(Path(build_dir) / f'server-{self.port}.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/api/stats", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start within 60 s")

    def log_text(self) -> str:
        """What the server has written to its log so far (also after stop())."""
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def make_build_dir(path: Path, quads) -> Path:
    """A build folder holding exactly ``quads`` (dump + store), as `econplan build` would write."""
    import pyoxigraph as ox

    from server.kg import builddir
    from server.kg.build import sort_quads

    path.mkdir(parents=True, exist_ok=True)
    data = ox.serialize(sort_quads(quads), format=ox.RdfFormat.N_QUADS) or b""
    builddir.replace_dump(path, lambda fh: fh.write(data))
    builddir.reconcile(path)
    return path


class OxigraphServer:
    """`oxigraph serve` (the Rust server from the `oxigraph` package) on 127.0.0.1, in memory,
    serving the union of its graphs as the default graph, as econplan expects of a store."""

    kind = "oxigraph"

    def __init__(self, log_dir: Path):
        exe = Path(sys.executable).parent / "oxigraph"
        if not exe.exists():
            pytest.fail("the oxigraph CLI is not installed: `make test` installs it (the [test] extras)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(log_dir) / f"oxigraph-{self.port}.log", "wb")
        self.proc = subprocess.Popen([str(exe), "serve", "--bind", f"127.0.0.1:{self.port}",
                                      "--union-default-graph"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/query?query=ASK%7B%7D", timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("oxigraph serve did not start")

    def push(self, build_dir: Path) -> None:
        econplan = Path(sys.executable).parent / "econplan"
        r = subprocess.run([str(econplan), "--build-dir", str(build_dir), "--store", self.url, "push"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()


#: the backends of the backend-parametrised tests; `make test-stores` sets "virtuoso,fuseki"
BACKENDS = [b.strip() for b in os.environ.get("ECONPLAN_TEST_BACKENDS", "embedded,oxigraph").split(",") if b.strip()]


def start_backend(kind: str, build_dir: Path, env: dict | None = None, workers: int = 2):
    """An econplan server over the embedded store in ``build_dir``, or over an external store
    (`oxigraph serve`, Virtuoso, Fuseki) holding the same data. Returns (server, store-or-None)."""
    from external_stores import STORES

    env = dict(env or {})
    oxi = None
    if kind != "embedded":
        oxi = OxigraphServer(build_dir) if kind == "oxigraph" else STORES[kind](build_dir)
        try:
            oxi.push(build_dir)
        except BaseException:
            oxi.stop()
            raise
        env["ECONPLAN_STORE_URL"] = oxi.url
    return LiveServer(build_dir, env=env, workers=workers), oxi


@pytest.fixture(scope="session", params=BACKENDS)
def live(request, built, tmp_path_factory):
    """A real server over the shipped data (read-only: no write token), on each backend:
    the embedded pyoxigraph store and an external `oxigraph serve`."""
    server, oxi = start_backend(request.param, built)
    server.backend = request.param
    yield server
    server.stop()
    if oxi:
        oxi.stop()
