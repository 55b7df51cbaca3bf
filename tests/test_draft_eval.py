"""bench/draft_eval.py on a tiny gold file: matching, precision/recall and per-field accuracy."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import draft_eval as E  # noqa: E402

HEADER = "sentence,start,end,value_text,value,unit,kind,qualifier,period,status,indicator,indicator_label,area,confidence\n"
GDP = "https://w3id.org/econplan/id/indicator/gdp"

# three gold quantities (the draft's own columns): two in p001-s01, one in p002-s01
GOLD = HEADER + (
    f"p001-s01,8,13,20059,20059,yi-yuan,level,exact,2023,actual,{GDP},地区生产总值,330100,1.00\n"
    f"p001-s01,17,20,5.6,5.6,percent,growth,exact,2023,actual,{GDP},地区生产总值,330100,1.00\n"
    "p002-s01,40,43,524,524,enterprise,count,exact,../2023,actual,,强村公司,330100,1.00\n")
# the drafter found two of them (one with a wrong kind and a period not marked cumulative) and one extra
DRAFT = HEADER + (
    f"p001-s01,8,13,20059,20059,yi-yuan,level,exact,2023,actual,{GDP},地区生产总值,330100,0.90\n"
    "p002-s01,40,43,524,524,enterprise,level,exact,2023,actual,,强村公司,330100,0.70\n"
    "p002-s01,50,53,127,127,count,count,exact,2023,actual,,飞地抱团项目,330100,0.70\n")


def write(tmp_path: Path):
    gold, draft = tmp_path / "gold.csv", tmp_path / "draft.csv"
    gold.write_text(GOLD, encoding="utf-8")
    draft.write_text(DRAFT, encoding="utf-8")
    return gold, draft


def test_scores_on_a_tiny_gold_file(tmp_path):
    gold, draft = write(tmp_path)
    s = E.score(E.read_gold_facts([gold]), E.read_draft(draft))
    assert (s.gold, s.proposed, s.matched) == (3, 3, 2)
    assert abs(s.recall - 2 / 3) < 1e-9 and abs(s.precision - 2 / 3) < 1e-9
    assert s.fields["unit"] == 1.0 and s.fields["kind"] == 0.5
    assert s.fields["period"] == 1.0          # ../2023 and 2023 are the same year
    assert (s.cumulative_gold, s.cumulative_marked) == (1, 0)
    assert s.fields["indicator"] == 1.0       # gdp = gdp; a new indicator = a new indicator
    assert [g.value_text for g in s.misses] == ["5.6"]
    assert [p["value_text"] for p in s.extras] == ["127"]


def test_same_value_twice_in_a_sentence_is_matched_one_to_one(tmp_path):
    gold = tmp_path / "g.csv"
    gold.write_text(HEADER + "p001-s01,1,3,10,10,count,count,exact,2024,target,,a,,1\n"
                    "p001-s01,9,11,10,10,count,count,exact,2024,target,,b,,1\n", encoding="utf-8")
    draft = tmp_path / "d.csv"
    draft.write_text(HEADER + "p001-s01,1,3,10,10,count,count,exact,2024,target,,a,,1\n", encoding="utf-8")
    s = E.score(E.read_gold_facts([gold]), E.read_draft(draft))
    assert (s.matched, s.recall, s.precision) == (1, 0.5, 1.0)


def test_curated_facts_are_a_gold_file_too(tmp_path):
    facts = tmp_path / "x.facts.csv"
    facts.write_text("id,passage,mention,value,unit,kind,qualifier,status,period,indicator,about,area,note\n"
                     "a,p009-s03,累计上线条,,strip,count,exact,actual,2023,i,,,value lost\n"
                     "b,p017-s05,两项工作,2,item,count,exact,actual,2023,i,,,\n", encoding="utf-8")
    gold = E.read_gold_facts([facts])
    assert [g.value_text for g in gold] == ["2"]   # a lost value cannot be proposed: not in the gold
    prop = [{"sentence": "p017-s05", "start": "9", "end": "10", "value_text": "两", "value": "2",
             "unit": "item", "kind": "count", "qualifier": "exact", "period": "2023",
             "status": "actual", "indicator": "", "indicator_label": "", "area": "", "confidence": "0.6"}]
    assert E.score(gold, prop).matched == 1         # written in Chinese in the gold's mention


def test_command_line(tmp_path):
    gold, draft = write(tmp_path)
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "draft_eval.py"), "--gold", str(gold),
                        "--draft", str(draft), "--errors"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "recall    0.667" in r.stdout and "precision 0.667" in r.stdout and "kind      0.500" in r.stdout
    assert "# misses" in r.stdout and "5.6" in r.stdout.split("# extras")[0]


def test_a_different_value_in_the_same_sentence_does_not_match(tmp_path):
    gold = tmp_path / "g.csv"
    gold.write_text(HEADER + "p001-s01,1,3,10,10,count,count,exact,2024,target,,a,,1\n", encoding="utf-8")
    draft = tmp_path / "d.csv"
    draft.write_text(HEADER + "p001-s01,5,7,11,11,count,count,exact,2024,target,,a,,1\n"
                     "p002-s01,1,3,10,10,count,count,exact,2024,target,,a,,1\n", encoding="utf-8")
    s = E.score(E.read_gold_facts([gold]), E.read_draft(draft))
    assert (s.matched, s.recall, s.precision) == (0, 0.0, 0.0)


@pytest.mark.parametrize("folder,at_least", [("draft-dev", 50), ("draft-heldout", 50),
                                             ("draft-blind", 40), ("draft-blind2", 80),
                                             ("draft-blind3", 110), ("draft-blind4", 60),
                                             ("draft-blind5", 170), ("draft-blind6", 150)])
def test_every_gold_value_is_written_in_its_sentence(folder, at_least):
    """Each gold quantity of the development, held-out and blind sets is at start-end of the
    cleaned text, inside the sentence it names, and every excerpt has its URL."""
    from server.kg.draft import clean_text, read_text
    from server.kg.source import passages

    texts = sorted((ROOT / "bench" / folder).glob("*.txt"))
    assert texts, f"no texts in bench/{folder}"
    n = 0
    for txt in texts:
        meta = txt.with_suffix(".meta").read_text(encoding="utf-8")
        assert "url=http" in meta, txt
        text = clean_text(read_text(txt))
        sentences = {p.id: p for p in passages(text) if p.is_sentence}
        gold = txt.with_name(txt.stem + ".gold.csv")
        with gold.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                s = sentences[row["sentence"]]
                a, b = int(row["start"]), int(row["end"])
                assert text[a:b] == row["value_text"], (gold.name, row)
                assert s.start <= a < b <= s.end, (gold.name, row)
                n += 1
    assert n >= at_least


@pytest.mark.parametrize("folder", ["draft-dev", "draft-heldout", "draft-blind", "draft-blind2",
                                    "draft-blind3", "draft-blind4", "draft-blind5",
                                    "draft-blind6"])
def test_gold_files_are_what_the_annotations_give(folder, tmp_path):
    """Each NAME.gold.csv is exactly what bench/draft_dev_gold.py writes from NAME.annot.csv, so a
    gold file is never edited by hand after the annotation (and a negative value such as -3.93 is
    kept as written)."""
    import shutil

    import draft_dev_gold

    src = ROOT / "bench" / folder
    work = tmp_path / folder
    shutil.copytree(src, work, ignore=shutil.ignore_patterns("*.gold.csv"))
    n = draft_dev_gold.build(work, ROOT / "data")
    assert n > 0
    golds = sorted(p.name for p in src.glob("*.gold.csv"))
    assert golds == sorted(p.name for p in work.glob("*.gold.csv"))
    for name in golds:
        assert (work / name).read_text(encoding="utf-8") == (src / name).read_text(encoding="utf-8"), name


def test_a_unit_written_as_its_symbol_is_its_slug(tmp_path):
    # an annotation writes a unit the vocabulary lacked as written (‰); once data/vocab/units.csv
    # has it, its symbol there is that unit; another unit is still another unit
    gold = tmp_path / "g.csv"
    gold.write_text(HEADER + "p001-s01,3,7,5.46,5.46,‰,share,exact,2024,actual,,出生率,,1\n"
                    "p001-s01,9,11,32,32,μg/m3,level,exact,2024,actual,,浓度,,1\n"
                    "p001-s01,20,22,12,12,万吨,level,exact,2024,actual,,产量,,1\n", encoding="utf-8")
    draft = tmp_path / "d.csv"
    draft.write_text(HEADER + "p001-s01,3,7,5.46,5.46,per-mille,share,exact,2024,actual,,出生率,,1\n"
                     "p001-s01,9,11,32,32,microgram-per-cubic-metre,level,exact,2024,actual,,浓度,,1\n"
                     "p001-s01,20,22,12,12,percent,level,exact,2024,actual,,产量,,1\n",
                     encoding="utf-8")
    s = E.score(E.read_gold_facts([gold]), E.read_draft(draft))
    assert s.matched == 3 and abs(s.fields["unit"] - 2 / 3) < 1e-9
