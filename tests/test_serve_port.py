"""`econplan serve` on a port already taken: one line on stderr, exit 1, nothing started, and the
running server keeps all of its traffic (no SO_REUSEPORT sharing)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, LiveServer


def test_busy_port_is_an_error(built):
    first = LiveServer(built, workers=1)
    try:
        econplan = Path(sys.executable).parent / "econplan"
        r = subprocess.run([str(econplan), "--root", str(ROOT), "--build-dir", str(built), "serve",
                            "--host", "127.0.0.1", "--port", str(first.port), "--workers", "1"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1
        assert r.stderr.strip() == (f"error: cannot serve on 127.0.0.1:{first.port}: the port is "
                                    "already in use (is another server running there?)")
        assert "Traceback" not in r.stderr and "Listening" not in r.stdout + r.stderr
        assert first.proc.poll() is None  # the first server is untouched
    finally:
        first.stop()
