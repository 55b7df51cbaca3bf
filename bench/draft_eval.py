"""How good is ``econplan draft``?  Precision, recall and per-field accuracy against a gold set.

    .venv/bin/python bench/draft_eval.py                 # Hangzhou: the curated facts are the gold
    .venv/bin/python bench/draft_eval.py --dev           # the development set in bench/draft-dev/
    .venv/bin/python bench/draft_eval.py --heldout       # the held-out set in bench/draft-heldout/
    .venv/bin/python bench/draft_eval.py --blind         # the first blind set in bench/draft-blind/
    .venv/bin/python bench/draft_eval.py --blind 5       # the fifth blind set in bench/draft-blind5/
    .venv/bin/python bench/draft_eval.py --errors        # also list misses, extras and field errors

Matching: a proposal matches a gold fact when the sentence and the value as written agree
(``value_text``; for a gold fact written in Chinese numerals, the proposal's value as written must
be in the gold mention and its number equal the gold value).  Several gold facts with the same
value in one sentence are matched one to one, in text order.  Gold facts whose value the source
lost (empty value) cannot be proposed and are left out of the gold.

Fields are compared on matched pairs: unit (a unit written as its symbol in
``data/vocab/units.csv``, ``‰``, is its slug, ``per-mille``), kind, qualifier (a proposed ``range`` is compared as
it is), period (the year; a cumulative ``../2023`` is compared as 2023 and counted separately),
status, indicator (the proposed scheme IRI's slug equals the gold slug; on the development set a
gold indicator written ``new:…`` is right when the drafter also proposed a new indicator).
"""
from __future__ import annotations

import argparse
import csv
import functools
import platform
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIELDS = ("unit", "kind", "qualifier", "period", "status", "indicator")
GOALS = {"recall": 0.97, "precision": 0.95, "unit": 0.98, "kind": 0.92, "qualifier": 0.92,
         "period": 0.92, "status": 0.92, "indicator": 0.8}


@dataclass
class Gold:
    sentence: str
    value_text: str
    mention: str
    unit: str
    kind: str
    qualifier: str
    period: str
    status: str
    indicator: str
    where: str
    cumulative: bool = False


def _num(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def read_gold_facts(paths: list[Path]) -> list[Gold]:
    """Curated facts.csv files (data/README.md), or gold files in the draft's own columns."""
    out = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as fh:
            for n, rec in enumerate(csv.DictReader(fh), start=2):
                draft_format = "passage" not in rec      # the draft's own columns (sentence, …)
                if draft_format:
                    value = rec.get("value_text") or ""
                else:   # curated: value, and value_text only for Chinese numerals
                    value = (rec.get("value") or "").strip() and \
                        ((rec.get("value_text") or "").strip() or rec.get("value") or "")
                value = value.strip()
                if not value:
                    continue
                period = (rec.get("period") or "").strip()
                mention = rec.get("mention") or value
                indicator = rec.get("indicator") or ""
                if draft_format:
                    indicator = _slug(indicator) if indicator else "new:"
                out.append(Gold(rec.get("passage") or rec.get("sentence") or "", value, mention,
                                rec.get("unit") or "", rec.get("kind") or "level",
                                rec.get("qualifier") or "exact", period.removeprefix("../"),
                                rec.get("status") or "actual", indicator, f"{path.name}:{n}",
                                period.startswith("../")
                                or (rec.get("cumulative") or "").strip() == "yes"))
    return out


def read_draft(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _matches(g: Gold, p: dict) -> bool:
    if p["sentence"] != g.sentence:
        return False
    if p["value_text"] == g.value_text:
        return True
    gv, pv = _num(g.value_text), _num(p["value"])
    return gv is not None and gv == pv and p["value_text"] in g.mention and \
        not p["value_text"].isascii()


def _slug(indicator: str) -> str:
    return indicator.rstrip("/").rsplit("/", 1)[-1] if indicator else ""


@functools.lru_cache(maxsize=1)
def _unit_symbols() -> dict[str, str]:
    """Symbol or other spelling -> slug, of data/vocab/units.csv (‰ -> per-mille)."""
    out: dict[str, str] = {}
    with (ROOT / "data" / "vocab" / "units.csv").open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            for w in [rec["symbol"], *(rec["aliases"] or "").split("|")]:
                if w.strip():
                    out.setdefault(w.strip(), rec["slug"])
    return out


def _unit(unit: str) -> str:
    """A unit as a slug: an annotation writes a unit the vocabulary lacked as written (‰,
    万公顷); once data/vocab/units.csv has it, its symbol there names the same unit."""
    return unit if not unit else _unit_symbols().get(unit, unit)


def field_ok(name: str, g: Gold, p: dict) -> bool:
    if name == "unit":
        return _unit(p["unit"]) == _unit(g.unit)
    if name == "period":
        return p["period"].removeprefix("../") == g.period
    if name == "indicator":
        if g.indicator.startswith("new:") or not g.indicator:
            return not p["indicator"]
        return _slug(p["indicator"]) == g.indicator
    return p[name] == getattr(g, name)


@dataclass
class Score:
    gold: int
    proposed: int
    matched: int
    fields: dict[str, float]
    cumulative_gold: int
    cumulative_marked: int
    pairs: list
    misses: list
    extras: list

    @property
    def precision(self) -> float:
        return self.matched / self.proposed if self.proposed else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 0.0


def score(gold: list[Gold], proposed: list[dict]) -> Score:
    """Pair proposals with gold facts (same sentence, same value as written; one to one)."""
    by_sentence: dict[str, list[dict]] = defaultdict(list)
    for p in proposed:
        by_sentence[p["sentence"]].append(p)
    used: set[int] = set()
    pairs, misses = [], []
    for g in gold:
        cand = [p for p in by_sentence.get(g.sentence, []) if id(p) not in used and _matches(g, p)]
        if cand:
            cand.sort(key=lambda p: (p["value_text"] != g.value_text, int(p["start"])))
            used.add(id(cand[0]))
            pairs.append((g, cand[0]))
        else:
            misses.append(g)
    extras = [p for p in proposed if id(p) not in used]
    fields = {f: (sum(field_ok(f, g, p) for g, p in pairs) / len(pairs) if pairs else 0.0)
              for f in FIELDS}
    cum = [(g, p) for g, p in pairs if g.cumulative]
    return Score(len(gold), len(proposed), len(pairs), fields, len(cum),
                 sum(p["period"].startswith("../") for g, p in cum), pairs, misses, extras)


def report(name: str, s: Score, seconds: float | None = None) -> str:
    lines = [f"## {name}",
             f"gold quantities {s.gold}, proposed {s.proposed}, matched {s.matched}",
             f"recall    {s.recall:.3f}   (goal {GOALS['recall']})",
             f"precision {s.precision:.3f}   (goal {GOALS['precision']})"]
    for f in FIELDS:
        lines.append(f"{f:<9} {s.fields[f]:.3f}   (goal {GOALS[f]})")
    lines.append(f"cumulative gold facts matched {s.cumulative_gold}, marked ../YEAR "
                 f"{s.cumulative_marked}")
    if seconds is not None:
        lines.append(f"drafting took {seconds:.2f} s")
    return "\n".join(lines)


def errors(s: Score) -> str:
    out = ["# misses"] + [f"{g.where}\t{g.sentence}\t{g.value_text}\t{g.mention}" for g in s.misses]
    out += ["# extras"] + [f"{p['sentence']}\t{p['value_text']}\t{p['unit']}" for p in s.extras]
    out += ["# field errors"]
    for g, p in s.pairs:
        for f in FIELDS:
            if not field_ok(f, g, p):
                got = p[f]
                want = g.period if f == "period" else getattr(g, f)
                out.append(f"{g.where}\t{g.sentence}\t{g.value_text}\t{f}: {got!r} != {want!r}"
                           f"\t{g.mention}")
    return "\n".join(out)


def run_hangzhou(data_dir: Path) -> tuple[Score, float]:
    from server.kg.draft import Drafter, IndicatorScheme, clean_text, read_text

    text = clean_text(read_text(data_dir / "source" / "report-clean.txt"))
    t0 = time.perf_counter()
    rows = Drafter(IndicatorScheme.load(data_dir), 2023, "").draft(text)
    seconds = time.perf_counter() - t0
    facts = sorted((data_dir / "hangzhou" / "2023-plan").glob("*.facts.csv"))
    if not facts:
        raise SystemExit(f"error: no curated facts in {data_dir / 'hangzhou' / '2023-plan'}")
    gold = read_gold_facts(facts)
    return score(gold, [q.row() for q in rows]), seconds


def run_dev(dev_dir: Path, data_dir: Path) -> tuple[Score, float]:
    """Each ``NAME.txt`` in the dev folder with its ``NAME.gold.csv`` and ``NAME.meta`` (year, area,
    and ``part`` for an excerpt of only the plan or the review: ``econplan draft --part``)."""
    from server.kg.draft import Drafter, IndicatorScheme, clean_text, read_text

    scheme = IndicatorScheme.load(data_dir)
    gold, proposed, seconds = [], [], 0.0
    texts = sorted(dev_dir.glob("*.txt"))
    if not texts:
        raise SystemExit(f"error: no development texts in {dev_dir}")
    for txt in texts:
        meta = dict(line.split("=", 1) for line in
                    txt.with_suffix(".meta").read_text(encoding="utf-8").split("\n")
                    if "=" in line)
        text = clean_text(read_text(txt))
        t0 = time.perf_counter()
        rows = Drafter(scheme, int(meta["year"]), meta.get("area", "").strip(),
                       meta.get("part", "auto").strip()).draft(text)
        seconds += time.perf_counter() - t0
        prefix = txt.stem + ":"
        for q in rows:
            r = q.row()
            r["sentence"] = prefix + r["sentence"]
            proposed.append(r)
        for g in read_gold_facts([txt.with_suffix(".gold.csv")]):
            g.sentence = prefix + g.sentence
            gold.append(g)
    return score(gold, proposed), seconds


BLIND_SETS = (1, 2, 3, 4, 5, 6)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data")
    ap.add_argument("--dev", action="store_true", help="score the development set only")
    ap.add_argument("--dev-dir", type=Path, default=ROOT / "bench" / "draft-dev")
    ap.add_argument("--heldout", action="store_true",
                    help="score the held-out set (bench/draft-heldout/): other cities' text, "
                         "annotated and never used to change the drafter")
    ap.add_argument("--blind", nargs="?", const=1, type=int, choices=BLIND_SETS, metavar="N",
                    help="score the Nth blind set (bench/draft-blind/, bench/draft-blindN/): other "
                         "cities' text, annotated and committed before the drafter first ran on it")
    ap.add_argument("--gold", type=Path, help="score a draft CSV (--draft) against this gold file")
    ap.add_argument("--draft", type=Path, help="a draft CSV written by `econplan draft`")
    ap.add_argument("--errors", action="store_true", help="list misses, extras and field errors")
    args = ap.parse_args(argv)
    print(f"machine: {platform.node()} {platform.machine()} {platform.python_implementation()} "
          f"{platform.python_version()}")
    if args.gold or args.draft:
        if not (args.gold and args.draft):
            print("error: give both --gold and --draft", file=sys.stderr)
            return 2
        s = score(read_gold_facts([args.gold]), read_draft(args.draft))
        print(report(f"{args.draft} against {args.gold}", s))
    elif args.blind:
        folder = "draft-blind" if args.blind == 1 else f"draft-blind{args.blind}"
        s, sec = run_dev(ROOT / "bench" / folder, args.data)
        print(report(f"blind set {args.blind} (other cities; annotated before the drafter ran on it)",
                     s, sec))
    elif args.heldout:
        s, sec = run_dev(ROOT / "bench" / "draft-heldout", args.data)
        print(report("held-out set (other cities; never tuned on)", s, sec))
    elif args.dev:
        s, sec = run_dev(args.dev_dir, args.data)
        print(report("development set (other cities; the rules were checked on it)", s, sec))
    else:
        s, sec = run_hangzhou(args.data)
        print(report("Hangzhou 2023 (curated facts)", s, sec))
    if args.errors:
        print(errors(s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
