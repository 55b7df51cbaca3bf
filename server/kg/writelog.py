"""What `econplan build` does with the writes: replay the change log, and guard what it would lose.

Every committed write (``writes.load``, ``writes.update``; so ``econplan load``, ``econplan
import-csv``, ``POST/PUT /load`` and ``POST /update``) is one record of the build folder's change
log (``econplan.changes``, server.kg.builddir).  ``econplan build`` builds ``data/`` and then
replays the log in order (:func:`replay`): a load's quads are added, a replacing load first
empties the graphs it names, an update's text runs again; so a rebuild keeps every write, and
the log is kept for the next build.  A build also records a hash of every named graph that
``data/`` alone gave (``build-manifest.json``); before replacing the store it compares the
store's graphs with that record and with what it is about to write, and stops when the store
holds a graph that neither ``data/`` at the last build nor this build produces (a write that is
not in the log, for example a log that was removed), unless it is forced.  A graph that only a
curator's edit of ``data/`` changed equals the record and passes.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyoxigraph as ox

from . import builddir
from .errors import DataError

MANIFEST = builddir.MANIFEST


def replay(build_dir: Path, quads: list[ox.Quad], rename) -> tuple[list[ox.Quad], int]:
    """``quads`` with every logged write applied in order, and the number of the last record;
    ``rename(quads, salt)`` names blank nodes.

    Loads are applied to the list as they are; an update runs on a store (which writes
    literals in their canonical form, as the update's own commit did)."""
    current = list(quads)
    last = 0
    for rec in builddir.all_records(build_dir):
        last = rec.seq
        try:
            if rec.op in ("load", "replace"):
                new = rename(rec.added, f"changes/{rec.seq}")
                if rec.op == "replace":
                    graphs = set(rec.graphs) | {q.graph_name for q in new}
                    current = [q for q in current if q.graph_name not in graphs]
                current.extend(new)
            elif rec.op == "update":
                store = ox.Store()
                store.bulk_extend(current)
                store.update(rec.text, base_iri=rec.base) if rec.base else store.update(rec.text)
                current = list(store)
        except (SyntaxError, OSError, ValueError) as exc:
            raise DataError(f"{builddir.log_path(build_dir)}: cannot replay record {rec.seq} ({exc})",
                            path=str(builddir.log_path(build_dir))) from None
    info = builddir.dump_info(build_dir)
    return current, max(last, info.folded if info else 0)


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
    target = builddir.path(out, MANIFEST)
    tmp = target.with_name("." + target.name + ".tmp")
    tmp.write_bytes(json.dumps(hashes, indent=0, sort_keys=True).encode())
    tmp.replace(target)


def unreproduced(out: Path, new_hashes: dict[str, str]) -> list[str]:
    """Graphs the current data holds that neither data/ at the last build nor this build gives."""
    out = Path(out)
    if not builddir.is_built(out):
        return []
    try:
        last = json.loads(builddir.path(out, MANIFEST).read_text())
    except (OSError, ValueError):
        last = {}
    try:
        current = graph_hashes(builddir.current_quads(out))  # the dump and the change log
    except (OSError, SyntaxError):
        return []
    blank = "0" * 32
    return [g or "(default graph)" for g, h in current.items()
            if h != last.get(g, blank) and h != new_hashes.get(g, blank)]
