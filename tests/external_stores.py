"""Real external stores for the tests, each on 127.0.0.1 with a throwaway database, stopped afterwards.

`tests/setup-stores.sh` installs what they need (Debian's Virtuoso; Fuseki's jar where it can be
fetched). A store whose software is missing FAILS the tests that asked for it (it does not
skip): `make test-stores` is asked for on purpose.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

VIRTUOSO = shutil.which("virtuoso-t") or "/usr/bin/virtuoso-t"
ISQL = shutil.which("isql-vt") or "/usr/bin/isql-vt"
FUSEKI_JAR = Path(os.environ.get("FUSEKI_JAR", "/opt/econplan-stores/jena-fuseki-server.jar"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the store exited ({proc.returncode}): {log.read_text(errors='replace')[-1500:]}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the store did not answer {url} within {seconds:.0f} s")


class ExternalStore:
    kind = ""
    url = ""

    def push(self, build_dir: Path) -> None:
        econplan = Path(sys.executable).parent / "econplan"
        r = subprocess.run([str(econplan), "--build-dir", str(build_dir), "--store", self.url, "push"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = ., {d}
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 4
TransactionAfterImageLimit = 1500000000

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
MaxClientConnections = 10
ServerThreads = 10
MaxKeepAlives = 10

[SPARQL]
; no silent truncation of results and no "anytime" partial answers: econplan reads whole results
ResultSetMaxRows = 100000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
MaxSortedTopRows = 100000000
"""


class VirtuosoServer(ExternalStore):
    """Debian's `virtuoso-t` with its own virtuoso.ini and database in a temporary folder,
    SQL and HTTP on free ports of 127.0.0.1, a fresh random password for the `dba` account."""

    kind = "virtuoso"

    def __init__(self, log_dir: Path | None = None, buffers: int = 40000):
        if not Path(VIRTUOSO).exists():
            raise RuntimeError(f"{VIRTUOSO} is missing: run `bash tests/setup-stores.sh` as root")
        self.dir = Path(tempfile.mkdtemp(prefix="virtuoso-"))
        self.sql_port, self.http_port = free_port(), free_port()
        (self.dir / "virtuoso.ini").write_text(VIRTUOSO_INI.format(
            d=self.dir, sql=self.sql_port, http=self.http_port, buffers=buffers, dirty=buffers * 3 // 4))
        self.log = self.dir / "stdout.log"
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(self.dir / "virtuoso.ini")],
                                         cwd=self.dir, stdout=fh, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.http_port}"
        try:
            _wait(self.base + "/sparql?query=ASK%7B%7D", self.proc, self.log)
            self.password = secrets.token_hex(8)
            self.isql(f"USER_SET_PASSWORD('dba', '{self.password}');", password="dba")
        except Exception:
            self.stop()
            raise
        self.url = f"virtuoso+http://dba:{self.password}@127.0.0.1:{self.http_port}"

    def isql(self, sql: str, password: str | None = None) -> str:
        r = subprocess.run([ISQL, f"127.0.0.1:{self.sql_port}", "dba", password or self.password,
                            f"exec={sql}"], capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or "*** Error" in r.stdout + r.stderr:
            raise RuntimeError(f"isql {sql!r}: {(r.stdout + r.stderr).strip()[-500:]}")
        return r.stdout


FUSEKI_CONFIG = """\
PREFIX fuseki: <http://jena.apache.org/fuseki#>
PREFIX rdf:    <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX tdb2:   <http://jena.apache.org/2016/tdb#>
PREFIX ja:     <http://jena.hpl.hp.com/2005/11/Assembler#>

<#service> rdf:type fuseki:Service ;
    fuseki:name "econplan" ;
    fuseki:endpoint [ fuseki:operation fuseki:query ; fuseki:name "query" ] ;
    fuseki:endpoint [ fuseki:operation fuseki:update ; fuseki:name "update" ] ;
    fuseki:endpoint [ fuseki:operation fuseki:gsp-rw ; fuseki:name "data" ] ;
    fuseki:dataset <#dataset> .

<#dataset> rdf:type tdb2:DatasetTDB2 ;
    tdb2:location "{d}/tdb2" ;
    tdb2:unionDefaultGraph true .
"""


class FusekiServer(ExternalStore):
    """fuseki-main (`jena-fuseki-server.jar`) on Java 17 with a TDB2 dataset in a temporary folder,
    the union of the named graphs as the default graph, updates allowed, on 127.0.0.1."""

    kind = "fuseki"

    def __init__(self, log_dir: Path | None = None):
        if not FUSEKI_JAR.exists():
            raise RuntimeError(f"{FUSEKI_JAR} is missing: run `bash tests/setup-stores.sh` as root "
                               "(it needs the Maven artifacts of jena-fuseki-main)")
        self.dir = Path(tempfile.mkdtemp(prefix="fuseki-"))
        (self.dir / "config.ttl").write_text(FUSEKI_CONFIG.replace("{d}", str(self.dir)))
        self.port = free_port()
        self.log = self.dir / "stdout.log"
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(["java", "-Xmx2g", "-jar", str(FUSEKI_JAR), "--localhost",
                                          "--port", str(self.port), "--config", str(self.dir / "config.ttl")],
                                         cwd=self.dir, stdout=fh, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}/econplan"
        try:
            _wait(self.base + "/query?query=ASK%7B%7D", self.proc, self.log)
        except Exception:
            self.stop()
            raise
        self.url = f"fuseki+{self.base}"


STORES = {"virtuoso": VirtuosoServer, "fuseki": FusekiServer}
