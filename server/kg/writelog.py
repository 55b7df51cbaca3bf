"""The write log: every committed load, import and update, replayed by `econplan build`.

A write (``writes.load``, ``writes.update``; so ``econplan load``, ``econplan import-csv``,
``POST/PUT /load`` and ``POST /update``) commits to the store and then appends one entry
to ``<BUILD_DIR>/writes/``: ``NNNNNN-add.nq`` (the quads a load added, in their graphs),
``NNNNNN-replace.nq`` (a load that replaced the graphs it names) or ``NNNNNN-update.rq``
(the text of a SPARQL Update, with ``#base <IRI>`` on its first line when it had one).
``econplan build`` builds ``data/`` and then replays the log in order, so a rebuild keeps
every write.  A build also records a hash of every named graph that ``data/`` alone gave
(``build-manifest.json``); before replacing the store it compares the store's graphs with
that record and with what it is about to write, and stops when the store holds a graph
that neither ``data/`` at the last build nor this build produces (a write that was not
logged, or a log that was removed), unless it is forced.  A graph that only a curator's
edit of ``data/`` changed equals the record and passes.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyoxigraph as ox

from .errors import DataError

LOG_DIR = "writes"
MANIFEST = "build-manifest.json"


def _next_name(log: Path, kind: str, ext: str) -> Path:
    log.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[:6]) for p in log.iterdir() if p.name[:6].isdigit()]
    return log / f"{max(numbers, default=0) + 1:06d}-{kind}.{ext}"


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _external(build_dir) -> bool:
    """An external store (a URL, or an open remote store) keeps its own log, not our build folder."""
    from .remote import is_remote

    return not isinstance(build_dir, (str, Path)) or is_remote(str(build_dir))


def record_load(build_dir, quads, *, replace: bool) -> None:
    """Log a committed load (``quads`` already in their named graphs)."""
    if _external(build_dir):
        return  # an external store: its own durability, not our build
    path = _next_name(Path(build_dir) / LOG_DIR, "replace" if replace else "add", "nq")
    _write(path, ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS) or b"")


def record_update(build_dir, text: str, base_iri: str | None = None) -> None:
    """Log a committed SPARQL Update."""
    if _external(build_dir):
        return
    path = _next_name(Path(build_dir) / LOG_DIR, "update", "rq")
    head = f"#base <{base_iri}>\n" if base_iri else ""
    _write(path, (head + text).encode("utf-8"))


def entries(build_dir: Path) -> list[Path]:
    log = Path(build_dir) / LOG_DIR
    if not log.is_dir():
        return []
    return sorted(p for p in log.iterdir() if p.name[:6].isdigit() and not p.name.startswith("."))


def replay(build_dir: Path, quads: list[ox.Quad], rename) -> list[ox.Quad]:
    """``quads`` with every logged write applied in order; ``rename(quads, salt)`` names blank nodes.

    Loads are applied to the list as they are; an update runs on a store (which writes
    literals in their canonical form, as the update's own commit did)."""
    current = list(quads)
    for path in entries(build_dir):
        try:
            if path.suffix == ".nq":
                new = rename(list(ox.parse(path.read_bytes(), format=ox.RdfFormat.N_QUADS)),
                             f"writes/{path.name}")
                if path.stem.endswith("-replace"):
                    graphs = {q.graph_name for q in new}
                    current = [q for q in current if q.graph_name not in graphs]
                current.extend(new)
            elif path.suffix == ".rq":
                text = path.read_text(encoding="utf-8")
                base = None
                if text.startswith("#base <"):
                    base = text[len("#base <"):text.index(">")]
                store = ox.Store()
                store.bulk_extend(current)
                store.update(text, base_iri=base) if base else store.update(text)
                current = list(store)
        except (SyntaxError, OSError, ValueError) as exc:
            raise DataError(f"{path}: cannot replay this logged write ({exc})", path=str(path)) from None
    return current


def graph_hashes(quads) -> dict[str, str]:
    """A hash of each named graph's content (order-independent), on the literals' canonical
    forms ("6.0"^^xsd:decimal = "6"): a write that copies the store rewrites them so."""
    store = ox.Store()
    store.bulk_extend(list(quads))
    acc: dict[str, int] = {}
    for q in store:
        g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        h = int.from_bytes(hashlib.sha256(f"{q.subject} {q.predicate} {q.object}".encode()).digest()[:16], "big")
        acc[g] = (acc.get(g, 0) + h) % (1 << 128)
    return {g: f"{v:032x}" for g, v in sorted(acc.items())}


def write_manifest(out: Path, hashes: dict[str, str]) -> None:
    _write(Path(out) / MANIFEST, json.dumps(hashes, indent=0, sort_keys=True).encode())


def unreproduced(out: Path, new_hashes: dict[str, str]) -> list[str]:
    """Graphs the current store holds that neither data/ at the last build nor this build gives."""
    out = Path(out)
    dump = out / "econplan.nq"
    if not dump.exists():
        return []
    try:
        last = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        last = {}
    try:
        current = graph_hashes(ox.parse(dump.read_bytes(), format=ox.RdfFormat.N_QUADS))
    except (OSError, SyntaxError):
        return []
    blank = "0" * 32
    return [g or "(default graph)" for g, h in current.items()
            if h != last.get(g, blank) and h != new_hashes.get(g, blank)]
