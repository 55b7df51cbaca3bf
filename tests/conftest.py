"""Shared fixtures: the real build of the shipped data, in a temporary folder."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.build import build  # noqa: E402
from server.curation import load_dataset  # noqa: E402
from server.store import KnowledgeGraph  # noqa: E402


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
