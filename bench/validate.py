"""Validation benchmark: time and peak memory of server.kg.validation.validate, pySHACL vs pyshacl-turbo.

    .venv/bin/python bench/validate.py                       # 10k and 100k triples, both engines
    .venv/bin/python bench/validate.py --sizes 10000 100000 1000000 --timeout 600 --timeout-1m 120

Data: bench/synth.py (seeded, shaped like the shipped graph: reports with
passages and facts, plus the city-level investment plan the arithmetic rules
check) together with ontology/econplan.ttl, written once per size as N-Quads to
a temporary folder.  Every run is a fresh child process that loads the file,
then calls ``validate(quads, engine=...)`` with the default shapes (shapes/*.ttl):

* ``validate s``: wall time of that call (it includes building the engine's
  input: a pyoxigraph Store for turbo, an rdflib Graph for pySHACL; the shapes
  are compiled/parsed once per process and that is included too);
* ``peak RSS MB``: the child's ``ru_maxrss`` after the call, and ``RSS before``
  the same just before it (the data already loaded as Python quads), so the
  difference is what validation added at its peak (Rust allocations included,
  which tracemalloc would miss);
* the counts of violations, warnings and infos (they must be equal between engines).

Every run has a time limit (``--timeout``, ``--timeout-1m`` for sizes of a
million triples and more); pySHACL is skipped above ``--pyshacl-max`` (100k) with
a note.  The table goes to standard output; ``--json FILE`` also writes the rows.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _child(path: str, engine: str) -> None:
    import pyoxigraph as ox

    from server.kg.validation import validate

    t0 = time.perf_counter()
    quads = list(ox.parse(path=path, format=ox.RdfFormat.N_QUADS))
    load = time.perf_counter() - t0
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    report = validate(quads, engine=engine)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"triples": len(quads), "load_s": round(load, 2), "validate_s": round(seconds, 2),
                      "rss_before_mb": round(before / 1024, 1), "peak_rss_mb": round(peak / 1024, 1),
                      **{k.lower(): v for k, v in report.counts.items()}}))


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("pyshacl-turbo", "pyshacl", "rdflib", "pyoxigraph"))
    return (f"{platform.machine()}, {os.cpu_count()} CPUs (nproc), {mem}, Linux {platform.release()}, "
            f"Python {platform.python_version()}; {pkgs}")


def run(sizes, engines, timeout, timeout_big, pyshacl_max, seed) -> list[dict]:
    import pyoxigraph as ox

    import synth
    from server.kg.loading import parse_file

    ontology = parse_file(ROOT / "ontology" / "econplan.ttl")
    rows = []
    with tempfile.TemporaryDirectory(prefix="econplan-bench-") as tmp:
        for size in sizes:
            path = Path(tmp) / f"synth-{size}.nq"
            path.write_bytes(ox.serialize(synth.generate(size, seed=seed) + ontology,
                                          format=ox.RdfFormat.N_QUADS) or b"")
            for engine in engines:
                row = {"size": size, "engine": engine}
                limit = timeout_big if size >= 1_000_000 else timeout
                if engine == "pyshacl" and size > pyshacl_max:
                    row["note"] = f"skipped: pySHACL above {pyshacl_max:,} triples"
                    rows.append(row)
                    continue
                t0 = time.perf_counter()
                try:
                    out = subprocess.run([sys.executable, __file__, "--child", str(path), engine],
                                         capture_output=True, text=True, timeout=limit)
                    if out.returncode != 0:
                        row["note"] = "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:80]
                    else:
                        row.update(json.loads(out.stdout.strip().splitlines()[-1]))
                except subprocess.TimeoutExpired:
                    row["note"] = f"timeout: stopped after {limit} s"
                row["wall_s"] = round(time.perf_counter() - t0, 1)
                rows.append(row)
                print(_line(row), file=sys.stderr, flush=True)
    return rows


COLUMNS = [("size", "size", "{:,}"), ("triples", "triples", "{:,}"), ("engine", "engine", "{}"),
           ("validate_s", "validate s", "{:.2f}"), ("rss_before_mb", "RSS before MB", "{:.0f}"),
           ("peak_rss_mb", "peak RSS MB", "{:.0f}"), ("violation", "V", "{}"), ("warning", "W", "{}"),
           ("info", "I", "{}"), ("note", "note", "{}")]


def _line(row: dict) -> str:
    return "  ".join(f"{h}=" + (f.format(row[k]) if k in row else "-") for k, h, f in COLUMNS)


def table(rows: list[dict]) -> str:
    cells = [[h for _, h, _ in COLUMNS]]
    for row in rows:
        cells.append([f.format(row[k]) if k in row and row[k] is not None else "" for k, _, f in COLUMNS])
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    lines = ["| " + " | ".join(c[i].ljust(widths[i]) for i in range(len(COLUMNS))) + " |" for c in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--engines", nargs="+", default=["pyshacl", "turbo"], choices=["pyshacl", "turbo"])
    ap.add_argument("--timeout", type=float, default=900, help="seconds per run below 1M triples")
    ap.add_argument("--timeout-1m", type=float, default=120, help="seconds per run from 1M triples")
    ap.add_argument("--pyshacl-max", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", nargs=2, metavar=("NQUADS", "ENGINE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    rows = run(args.sizes, args.engines, args.timeout, args.timeout_1m, args.pyshacl_max, args.seed)
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
