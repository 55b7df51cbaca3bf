"""The comparison benchmarks still run (a smoke test: one short round; no timing is checked,
speed is measured by running them, see docs/performance.md)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.kg import builddir

ROOT = Path(__file__).resolve().parent.parent

def require_wrk() -> None:
    """wrk and the oxigraph CLI are installed by `make test` (tests/setup-system.sh, the [test]
    extras): their absence is a failure, not a reason to skip the benchmark smoke test."""
    if shutil.which("wrk") is None or shutil.which("oxigraph", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("needs wrk (tests/setup-system.sh installs it) and the oxigraph CLI (the [test] extras)")


def run(*args: str) -> str:
    out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


def test_compare_oxigraph_reports_the_processes_that_ran(built, tmp_path):
    import json

    require_wrk()
    from server.serve import default_workers

    out = run("bench/compare_oxigraph.py", "--data", str(builddir.dump(built)), "--only", "lookup",
              "--duration", "0.5", "--rounds", "2", "--quiet-wait", "0", "--skip-build",
              "--json", str(tmp_path / "r.json"))
    result = json.loads((tmp_path / "r.json").read_text())
    # counted on the live server (the children of `econplan serve`), not taken from this tree
    assert result["http_processes"] == default_workers()
    assert f"granian, {default_workers()} HTTP processes" in out
    assert "(a) distinct lookups" in out and not result["problems"]
    # each round's ratio, from the two turns of that round
    (row,) = result["rows"]
    assert len(row["round_ratios"]) == 2 and all(x > 0 for x in row["round_ratios"])
    assert "Ratio (econplan / oxigraph) of each round" in out


def test_ceiling_measures_oxigraph_a_bare_app_flask_and_econplan(built):
    """bench/ceiling.py (the repeated-lookup ceiling of a Python answer path) runs its four servers
    and reports each one's ratio to oxigraph; one short round, no timing checked."""
    require_wrk()
    out = run("bench/ceiling.py", "--build-dir", str(built), "--rounds", "1", "--duration", "0.5",
              "--warm-up", "0", "--quiet-wait", "0")
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"oxigraph", "bare", "flask", "econplan"} <= set(rows), out
    assert "1.00x" in rows["oxigraph"] and all(" 0 |" not in rows[n] for n in rows), out
