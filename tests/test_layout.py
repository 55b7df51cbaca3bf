"""The layout's boundaries: the core (server.kg, server.sparql) imports neither Flask, werkzeug
nor click; `import server` does not load Flask (create_app is imported on first use)."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

CHECK = """
import importlib, pkgutil, sys
import server
assert "flask" not in sys.modules, "import server loaded flask"
import server.kg, server.sparql, server.config
names = []
for pkg in (server.kg, server.sparql):
    for m in pkgutil.iter_modules(pkg.__path__):
        names.append(pkg.__name__ + "." + m.name)
        importlib.import_module(names[-1])
print(len(names))
print(",".join(sorted(m for m in ("flask", "werkzeug", "click", "jinja2", "rdflib") if m in sys.modules)))
"""


def test_the_core_imports_neither_flask_werkzeug_nor_click():
    r = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    count, loaded = r.stdout.splitlines()
    assert int(count) >= 14  # every module of server/kg and server/sparql was imported
    assert loaded == "", f"the core loaded {loaded}"  # (rdflib: server.sparql.calls imports it when used)


def test_every_module_is_in_its_folder():
    """server/ holds the four parts and nothing else at the top but the entry points."""
    top = sorted(p.name for p in (ROOT / "server").glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py", "config.py", "serve.py"], top
    for part in ("kg", "sparql", "web"):
        assert (ROOT / "server" / part / "__init__.py").exists()
