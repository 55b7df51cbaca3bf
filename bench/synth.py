"""Synthetic data shaped like econplan's, for the validation benchmark (bench/validate.py).

``generate(n_triples, seed=1)`` returns pyoxigraph quads: reports of imaginary
cities and years, each with its paragraphs and sentences (``oa:exact`` with
correct offsets) and facts (indicator, period, kind, unit, qualifier, status,
value as written, mention, ``prov:wasDerivedFrom`` a sentence, labels in zh and
en, Data Cube dataset) as the build writes them, plus the shared indicators,
units and districts they use.  Every report also states the city-level
government investment plan (the indicators of the shipped arithmetic rules, so
that the sum and share checks run) and targets for the next year.

The data conforms to the shapes: validating it gives no violation, only
warnings (one per city: no Wikidata link; the plan indicators' targets have no
baseline) and the rounding notes (sh:Info) the plan blocks contain on purpose.  The same
arguments give the same quads (``random.Random(seed)``); the size is reached
within one report (about 1,650 triples).

    .venv/bin/python bench/synth.py 10000 > synth.nq     # N-Quads on standard output
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.kg import vocab as V  # noqa: E402

XSD = V.XSD
GRAPH = V.GRAPH + "data/synth/"
N_INDICATORS = 200
FACTS_PER_SENTENCE = 2
SENTENCES_PER_PARAGRAPH = 3
PARAGRAPHS = 10

UNITS = [("yi-yuan", "亿元", "hundred million yuan", "100000000.0", "CNY"),
         ("percent", "%", "percent", "0.01", "ratio"),
         ("count", "个", "count (items)", "1.0", "count")]
KINDS = [("level", "yi-yuan", "总量", "level"), ("growth", "percent", "增速", "growth"),
         ("count", "count", "数量", "count")]


def _lit(text, lang=None):
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def _typed(text, dt):
    return ox.Literal(text, datatype=dt)


def _vocab(add) -> None:
    for slug, sym, en, mult, base in UNITS:
        s = V.unit(slug)
        add(s, V.RDF_TYPE, V.EP.Unit)
        add(s, V.RDFS_LABEL, _lit(sym, "zh"))
        add(s, V.RDFS_LABEL, _lit(en, "en"))
        add(s, V.SKOS.notation, _lit(slug))
        add(s, V.EP.multiplier, _typed(mult, XSD.decimal))
        add(s, V.EP.baseUnit, _lit(base))
        add(s, V.EP.symbol, _lit(sym))
    for i in range(N_INDICATORS):
        s = V.indicator(f"synth-{i:03d}")
        add(s, V.RDF_TYPE, V.EP.Indicator)
        add(s, V.RDFS_LABEL, _lit(f"合成指标{i:03d}", "zh"))
        add(s, V.RDFS_LABEL, _lit(f"synthetic indicator {i:03d}", "en"))
        add(s, V.SKOS.prefLabel, _lit(f"合成指标{i:03d}", "zh"))
        add(s, V.SKOS.notation, _lit(f"synth-{i:03d}"))
        add(s, V.SKOS.inScheme, V.INDICATOR_SCHEME)
    for slug, zh, en in (("gov-investment-projects", "政府投资项目", "government investment projects"),
                         ("gov-investment-preliminary", "前期项目", "preliminary projects"),
                         ("gov-investment-new-start", "新开工项目", "new projects"),
                         ("gov-investment-continuing", "续建项目", "continuing projects"),
                         ("gov-investment-final-accounts", "决算项目", "final-accounts projects"),
                         ("gov-investment-planned", "政府投资", "government planned investment"),
                         ("gov-investment-fiscal-funded-investment", "财政出资投资", "budget-funded investment"),
                         ("gov-investment-land-revenue-investment", "土地出让收益投资", "land-revenue investment")):
        s = V.indicator(slug)
        add(s, V.RDF_TYPE, V.EP.Indicator)
        add(s, V.RDFS_LABEL, _lit(zh, "zh"))
        add(s, V.RDFS_LABEL, _lit(en, "en"))
        add(s, V.SKOS.notation, _lit(slug))
        add(s, V.SKOS.inScheme, V.INDICATOR_SCHEME)


def _district(add, code: str, n: int) -> ox.NamedNode:
    s = V.district(code)
    add(s, V.RDF_TYPE, V.EP.District)
    add(s, V.RDFS_LABEL, _lit(f"合成市{n}", "zh"))
    add(s, V.RDFS_LABEL, _lit(f"Synthetic City {n}", "en"))
    add(s, V.EP.gb2260, _lit(code))
    add(s, V.EP.gb2260Wikidata, _lit(f"{code[:2]} {code[2:4]} {code[4:]}"))
    return s


class _Report:
    """One report: its paragraphs, sentences and facts, with consistent offsets."""

    def __init__(self, add, rng: random.Random, city: str, area: ox.NamedNode, year: int):
        self.add, self.rng, self.area, self.year = add, rng, area, year
        self.base = f"{V.ID}{city}/{year}-plan"
        self.report = ox.NamedNode(self.base)
        self.dataset = ox.NamedNode(self.base + "/dataset")
        self.pos = 0
        add(self.report, V.RDF_TYPE, V.EP.Report)
        add(self.report, V.RDFS_LABEL, _lit(f"{city} {year} 年计划报告", "zh"))
        add(self.report, V.RDFS_LABEL, _lit(f"{city} report on the {year} plan", "en"))
        add(self.report, V.DCTERMS.temporal, _typed(str(year), XSD.gYear))
        add(self.report, V.DCTERMS.temporal, _typed(str(year + 1), XSD.gYear))
        add(self.report, V.DCTERMS.spatial, area)
        add(self.report, V.PROV.wasDerivedFrom, ox.NamedNode(self.base + "/source.txt"))
        add(self.dataset, V.RDF_TYPE, V.QB.DataSet)
        add(self.dataset, V.RDFS_LABEL, _lit(f"{city} {year} 数据", "zh"))
        add(self.dataset, V.RDFS_LABEL, _lit(f"{city} {year} figures", "en"))

    def passage(self, pid: str, text: str, paragraph: ox.NamedNode | None, start: int) -> ox.NamedNode:
        add = self.add
        s = ox.NamedNode(f"{self.base}/passage/{pid}")
        add(s, V.RDF_TYPE, V.EP.Sentence if paragraph else V.EP.Paragraph)
        add(s, V.EP.passageId, _lit(pid))
        add(s, V.OA.exact, _lit(text))
        add(s, V.OA.start, _typed(str(start), XSD.integer))
        add(s, V.OA.end, _typed(str(start + len(text)), XSD.integer))
        add(s, V.EP.report, self.report)
        add(s, V.DCTERMS.isPartOf, paragraph or self.report)
        if paragraph:
            add(s, V.EP.paragraph, paragraph)
        add(s, V.RDFS_LABEL, _lit(f"{'句子' if paragraph else '段落'} {pid}", "zh"))
        add(s, V.RDFS_LABEL, _lit(f"{'sentence' if paragraph else 'paragraph'} {pid}", "en"))
        return s

    def fact(self, fid, indicator, kind, unit, status, period, value: str, mention: str, sentence, start) -> None:
        add = self.add
        s = ox.NamedNode(f"{self.base}/fact/{fid}")
        add(s, V.RDF_TYPE, V.EP.Target if status == "target" else V.EP.Observation)
        add(s, V.QB.dataSet, self.dataset)
        add(s, V.RDFS_LABEL, _lit(f"{period}年{fid}:{value}", "zh"))
        add(s, V.RDFS_LABEL, _lit(f"{fid}, {period}: {value}", "en"))
        add(s, V.EP.indicator, indicator)
        add(s, V.EP.refArea, self.area)
        add(s, V.EP.refPeriod, _typed(str(period), XSD.gYear))
        add(s, V.EP.kind, V.EP_KIND[kind])
        add(s, V.EP.unit, V.unit(unit))
        add(s, V.EP.qualifier, V.EP.exact)
        add(s, V.EP.status, V.EP_STATUS[status])
        add(s, V.EP.value, _typed(value, XSD.decimal))
        add(s, V.EP.valueText, _lit(value))
        add(s, V.EP.valueStart, _typed(str(start), XSD.integer))
        add(s, V.EP.valueEnd, _typed(str(start + len(value)), XSD.integer))
        add(s, V.EP.mention, _lit(mention))
        add(s, V.PROV.wasDerivedFrom, sentence)
        add(s, V.EP.report, self.report)

    def figures(self, pi: int, items: list[tuple]) -> None:
        """A paragraph whose sentences state ``items``: (fid, indicator, kind, unit, status, period, value)."""
        chunks = [items[i:i + FACTS_PER_SENTENCE] for i in range(0, len(items), FACTS_PER_SENTENCE)]
        sentences = []
        for chunk in chunks:
            parts, offsets, text = [], [], ""
            for fid, ind, kind, unit, status, period, value in chunk:
                word = {"level": "总量", "growth": "增长", "count": "数量"}[kind]
                prefix = f"{fid}{word}"
                offsets.append(len(text) + len(prefix))
                piece = f"{prefix}{value}{'%' if unit == 'percent' else '亿元' if unit == 'yi-yuan' else '个'}"
                parts.append(piece)
                text += piece + ","
            sentences.append((text[:-1] + "。", chunk, offsets, parts))
        para_text = "".join(t for t, *_ in sentences)
        pstart = self.pos
        paragraph = self.passage(f"p{pi:03d}", para_text, None, pstart)
        at = pstart
        for si, (text, chunk, offsets, parts) in enumerate(sentences, start=1):
            sentence = self.passage(f"p{pi:03d}-s{si:02d}", text, paragraph, at)
            for (fid, ind, kind, unit, status, period, value), off, mention in zip(chunk, offsets, parts):
                self.fact(fid, ind, kind, unit, status, period, value, mention, sentence, at + off)
            at += len(text)
        self.pos = at


def _value(rng: random.Random, kind: str) -> str:
    if kind == "level":
        return f"{rng.randint(10, 99999)}.{rng.randint(0, 9)}"
    if kind == "growth":
        return f"{rng.randint(0, 15)}.{rng.randint(0, 9)}"
    return str(rng.randint(1, 999))


def generate(n_triples: int, seed: int = 1) -> list[ox.Quad]:
    """About ``n_triples`` quads (at least one report), the same for the same arguments."""
    rng = random.Random(seed)
    quads: list[ox.Quad] = []
    vocab = ox.NamedNode(GRAPH + "vocab")

    def adder(graph):
        return lambda s, p, o: quads.append(ox.Quad(s, p, o, graph))

    _vocab(adder(vocab))
    n = 0
    while True:
        n += 1
        city, code, year = f"synth-city-{n:05d}", f"{(n // 100) % 100 + 10:02d}{n % 100:02d}00", 2020 + n % 4
        graph = ox.NamedNode(f"{GRAPH}{city}/{year}")
        add = adder(graph)
        area = _district(add, code, n)
        rep = _Report(add, rng, city, area, year)
        chosen = rng.sample(range(N_INDICATORS), (PARAGRAPHS - 1) * SENTENCES_PER_PARAGRAPH * FACTS_PER_SENTENCE // 2)
        items = []
        for i in chosen:
            kind, unit, *_ = KINDS[i % len(KINDS)]
            ind = V.indicator(f"synth-{i:03d}")
            items.append((f"synth-{i:03d}-{year}", ind, kind, unit, "actual", year, _value(rng, kind)))
            items.append((f"synth-{i:03d}-target-{year + 1}", ind, kind, unit, "target", year + 1, _value(rng, kind)))
        per = SENTENCES_PER_PARAGRAPH * FACTS_PER_SENTENCE
        for pi in range(PARAGRAPHS - 1):
            rep.figures(pi + 1, items[pi * per:(pi + 1) * per])
        # the city-level government investment plan: stages add up, funding sources off by 0.1
        stages = [rng.randint(10, 200) for _ in range(4)]
        fiscal, land = rng.randint(1000, 5000), rng.randint(1000, 5000)
        nxt = year + 1
        rep.figures(PARAGRAPHS, [
            (f"gov-investment-projects-{nxt}", V.indicator("gov-investment-projects"), "count", "count", "target", nxt, str(sum(stages))),
            (f"gov-investment-preliminary-{nxt}", V.indicator("gov-investment-preliminary"), "count", "count", "target", nxt, str(stages[0])),
            (f"gov-investment-new-start-{nxt}", V.indicator("gov-investment-new-start"), "count", "count", "target", nxt, str(stages[1])),
            (f"gov-investment-continuing-{nxt}", V.indicator("gov-investment-continuing"), "count", "count", "target", nxt, str(stages[2])),
            (f"gov-investment-final-accounts-{nxt}", V.indicator("gov-investment-final-accounts"), "count", "count", "target", nxt, str(stages[3])),
            (f"gov-investment-planned-{nxt}", V.indicator("gov-investment-planned"), "level", "yi-yuan", "target", nxt, f"{(fiscal + land + 1) / 10:.1f}"),
            (f"gov-investment-fiscal-{nxt}", V.indicator("gov-investment-fiscal-funded-investment"), "level", "yi-yuan", "target", nxt, f"{fiscal / 10:.1f}"),
            (f"gov-investment-land-{nxt}", V.indicator("gov-investment-land-revenue-investment"), "level", "yi-yuan", "target", nxt, f"{land / 10:.1f}"),
        ])
        if len(quads) >= n_triples:
            return quads


if __name__ == "__main__":  # pragma: no cover
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    sys.stdout.buffer.write(ox.serialize(generate(size), format=ox.RdfFormat.N_QUADS) or b"")
