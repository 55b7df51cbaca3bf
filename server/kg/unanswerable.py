"""docs/cannot-answer.yaml: the questions the report does not support, for a page to render.

:func:`load` reads and checks the file's shape (every text in zh and en); :func:`problems` runs
its ``absent``/``present`` ASK queries against a graph and checks its ``gap`` and ``queries``
references, so that the page never says something the data contradicts.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import DataError

FILE = Path("docs") / "cannot-answer.yaml"
TEXTS = ("question", "why", "instead")


def load(root: Path) -> dict:
    """The document: ``{"title": {zh, en}, "intro": {zh, en}, "questions": [...]}``."""
    path = Path(root) / FILE
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: {exc}".splitlines()[0]) from None
    for key in ("title", "intro"):
        if not isinstance(doc.get(key), dict) or not {"zh", "en"} <= set(doc[key]):
            raise DataError(f"{path}: '{key}' needs a zh and an en text")
    seen = set()
    for i, q in enumerate(doc.get("questions") or []):
        where = f"{path}: question {i + 1} ({q.get('id', '?')})"
        if not q.get("id") or q["id"] in seen:
            raise DataError(f"{where}: needs a unique id")
        seen.add(q["id"])
        for key in TEXTS:
            if not isinstance(q.get(key), dict) or not all(q[key].get(lang) for lang in ("zh", "en")):
                raise DataError(f"{where}: '{key}' needs a zh and an en text")
        q.setdefault("queries", [])
        q.setdefault("absent", [])
        q.setdefault("present", [])
    if not seen:
        raise DataError(f"{path}: no questions")
    return doc


def problems(kg, doc: dict, queries_dir: Path | None = None) -> list[str]:
    """What in ``doc`` the graph ``kg`` (anything with ``ask(sparql)``) contradicts: an
    ``absent`` query that is true, a ``present`` one that is false, a missing ``gap`` or query."""
    out = []
    for q in doc["questions"]:
        for sparql in q["absent"]:
            if kg.ask(sparql):
                out.append(f"{q['id']}: the data has what the page says it lacks: {sparql.strip()}")
        for sparql in q["present"]:
            if not kg.ask(sparql):
                out.append(f"{q['id']}: the data lacks what the page says it has: {sparql.strip()}")
        if q.get("gap") and not kg.ask(f"ASK {{ <{q['gap']}> a <https://w3id.org/econplan/def#SourceGap> }}"):
            out.append(f"{q['id']}: no source gap {q['gap']}")
        if queries_dir is not None:
            for slug in q["queries"]:
                if not (Path(queries_dir) / f"{slug}.rq").is_file():
                    out.append(f"{q['id']}: no saved query {slug}")
    return out
