"""Build the development set's gold files from the hand annotations.

    .venv/bin/python bench/draft_dev_gold.py   # bench/draft-dev/, bench/draft-heldout/, bench/draft-blind/, bench/draft-blind2/, bench/draft-blind3/, bench/draft-blind4/, bench/draft-blind5/ and bench/draft-blind6/

Each ``bench/draft-dev/NAME.annot.csv`` is written by hand (sentence, a mention copied from the
sentence, the value as written and the fields); this script checks every row against
``NAME.txt`` (cleaned with the drafter's cleaning step) and writes ``NAME.gold.csv`` in exactly the
columns of ``econplan draft``, with the offsets computed from the mention.  It never reads the
drafter's output.
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.kg.draft import COLUMNS, INDICATOR_BASE, IndicatorScheme, clean_text, read_text  # noqa: E402
from server.kg.curation import words_to_number  # noqa: E402
from server.kg.source import passages  # noqa: E402


def build(dev_dir: Path, data_dir: Path) -> int:
    slugs = set(IndicatorScheme.load(data_dir).labels.values())
    n = 0
    for annot in sorted(dev_dir.glob("*.annot.csv")):
        stem = annot.name[: -len(".annot.csv")]
        text = clean_text(read_text(dev_dir / f"{stem}.txt"))
        meta = dict(line.split("=", 1) for line in
                    (dev_dir / f"{stem}.meta").read_text(encoding="utf-8").splitlines() if "=" in line)
        sentences = {p.id: p for p in passages(text) if p.is_sentence}
        rows = []
        with annot.open(encoding="utf-8", newline="") as fh:
            for line, r in enumerate(csv.DictReader(fh), start=2):
                s = sentences[r["sentence"]]
                where = f"{annot}:{line}"
                if s.text.count(r["mention"]) != 1:
                    raise SystemExit(f"{where}: mention {r['mention']!r} is not once in {s.id}")
                m0 = s.text.index(r["mention"])
                k = r["mention"].find(r["value_text"])
                if k < 0:
                    raise SystemExit(f"{where}: {r['value_text']!r} is not in the mention")
                start = s.start + m0 + k
                ind = r["indicator"]
                if ind and not ind.startswith("new:"):
                    if ind not in slugs:
                        raise SystemExit(f"{where}: {ind} is not in the shared scheme")
                    ind = INDICATOR_BASE + ind
                else:
                    ind = ""
                value = r["value_text"]
                if not re.fullmatch(r"-?\d+(?:\.\d+)?(?:[%％]?[-－—~～至到]\d+(?:\.\d+)?)?", value):  # -3.93 as written
                    value = format(words_to_number(value).normalize(), "f")  # 首 → 1, 两 → 2
                rows.append({"sentence": s.id, "start": start, "end": start + len(r["value_text"]),
                             "value_text": r["value_text"], "value": value,
                             "unit": r["unit"], "kind": r["kind"], "qualifier": r["qualifier"],
                             "period": r["period"], "status": r["status"], "indicator": ind,
                             "indicator_label": r["indicator_label"], "area": meta.get("area", ""),
                             "confidence": "1.00"})
        with (dev_dir / f"{stem}.gold.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        n += len(rows)
    return n


if __name__ == "__main__":
    for folder in ("draft-dev", "draft-heldout", "draft-blind", "draft-blind2", "draft-blind3",
                   "draft-blind4", "draft-blind5", "draft-blind6"):
        print(f"bench/{folder}: {build(ROOT / 'bench' / folder, ROOT / 'data')} gold quantities written")
