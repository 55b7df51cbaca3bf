"""The package configuration: an install prints no warnings of ours. setuptools warns ("Package
'server.web.static' is absent from the `packages` configuration") for every importable folder
under the package that the configuration leaves out; the folders of templates and static files
are such folders."""
from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parent.parent


def test_every_folder_of_the_package_is_a_configured_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    if isinstance(config["packages"], list):
        packages = set(config["packages"])
    else:
        find = config["packages"]["find"]
        packages = set(find_namespace_packages(where=str(ROOT), include=find["include"],
                                               exclude=find.get("exclude", [])))
    folders = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "server").rglob("*")
               if p.is_dir() and p.name != "__pycache__" and p.name.isidentifier()
               and all(part.isidentifier() for part in p.relative_to(ROOT).parts)}
    folders.add("server")
    assert folders - packages == set()
    assert "server.web.templates" in packages and "server.web.static.vendor.yasgui" in packages
    assert config.get("package-dir") == {"": "."}  # a flat layout installed editable without a notice
