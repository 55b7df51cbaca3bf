#!/usr/bin/env python3
"""The fuzz tests of tests/test_security.py with a long budget (CI runs them with 60 examples).

    .venv/bin/python bench/fuzz.py [--examples 1000]

Random and mutated SPARQL, headers, query-string parameters and RDF bodies are sent to the
app; it passes when no response is a 5xx (other than the intended timeout) or carries a
traceback. Bounded: hypothesis stops after the given number of examples per test.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--examples", type=int, default=1000)
args = ap.parse_args()
env = dict(os.environ, ECONPLAN_FUZZ_EXAMPLES=str(args.examples))
sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(ROOT / "tests" / "test_security.py"), "-k", "fuzz"], env=env, cwd=ROOT))
