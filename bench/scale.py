"""Scale: synthetic multi-city, multi-year data in econplan's ontology, loaded and queried.

    .venv/bin/python bench/scale.py                        # 1M triples, then 3M
    .venv/bin/python bench/scale.py --triples 1000000 10000000 --json out.json
    .venv/bin/python bench/scale.py --generate-only --triples 80000 --out data.nq
    .venv/bin/python bench/scale.py --triples 100000 --no-servers --load-batch 1476 20000  # quick

The generator is seeded (--seed, default 1): the same arguments give the same bytes.
Its data has the shape of the shipped graph (``econplan export --format nquads``) and
conforms to the shapes (no sh:Violation; warnings only: targets without a baseline,
districts without a Wikidata link): the ontology and shapes graphs as ``econplan build``
puts them into the store; per city and year a report (labels, years, area, source) with
3 paragraphs of 10 sentences (oa:exact with consistent oa:start/oa:end) stating 60 facts
(ep:Observation or, for next year's targets, ep:Target; ep:indicator, ep:refArea,
ep:refPeriod, ep:kind, ep:status, ep:value, ep:valueText, ep:unit, ep:qualifier,
ep:mention found in the sentence, ep:valueStart/End, prov:wasDerivedFrom the sentence; no
two facts of a report with the same key), facts and passages in per-report named graphs,
plus shared indicator, unit and district vocabularies.

For every size it measures:

1. bulk load of the N-Quads file: pyoxigraph ``Store(dir).bulk_load`` (on disk, as
   econplan's build and loads write the store), pyoxigraph ``Store().bulk_load`` (in
   memory, what each query worker does at start in STORE_MODE=memory) and
   ``oxigraph load`` (the Rust CLI) — time and peak RSS of each, in a child process (pyoxigraph's
   time covers load, flush and close, not the interpreter's start or the count of the quads
   made afterwards); ``--load-rounds N`` repeats both, interleaved, and takes the median;
2. representative queries straight on the store, in memory and on disk (median of 3
   after one cold run);
3. ``econplan serve`` over the data with STORE_MODE=memory and =disk, and
   ``oxigraph serve-read-only``: time to the first answered query, the same queries
   over HTTP (one client, response cache off), and the peak RSS of all server processes
   (``--server-modes`` chooses; the memory mode is skipped, with the reason, when its
   copies of the store (one, shared by the query workers, counted twice) would not fit in the free memory);
4. a validated load into the big store (``--load-batch``, default 100k triples): a batch of
   new reports of new cities, written as N-Quads and loaded the way ``econplan load`` does
   (``server.kg.loading.parse_file``, then ``server.kg.writes.load`` on a build folder holding the
   store: the RocksDB store as the base, the SHACL gate, the commit of one change-log record) in a
   child process with a time limit (``--load-timeout``) and a memory limit
   (``--load-mem-limit``); it reports the outcome (accepted, or rejected with the number of
   violations), the wall and CPU time and the time of each stage (parse, base, validation and
   its engine run, commit), whether the focus path or the whole graph was validated
   (writes.FOCUS_LIMIT), and the child's peak RSS — or, if it was
   stopped, which stage it was in.

Everything runs on 127.0.0.1, in a temporary folder that is removed at the end; every
step has a time limit.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen as L  # noqa: E402

EP = "https://w3id.org/econplan/def#"
ID = "https://w3id.org/econplan/id/"
GRAPH = "https://w3id.org/econplan/graph/data/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
RDFS_LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV_DERIVED = "<http://www.w3.org/ns/prov#wasDerivedFrom>"
OA = "http://www.w3.org/ns/oa#"
QB_DATASET = "<http://purl.org/linked-data/cube#dataSet>"
DCT_PART = "<http://purl.org/dc/terms/isPartOf>"

KINDS = [("level", 40), ("growth", 30), ("count", 15), ("share", 15)]
QUALIFIERS = [("exact", 85), ("at-least", 8), ("over", 4), ("more-than", 3)]
UNITS = [("yi-yuan", "亿元", "hundred million yuan", "100000000", "CNY"),
         ("wan-yuan", "万元", "ten thousand yuan", "10000", "CNY"),
         ("percent", "%", "percent", "0.01", "1"),
         ("wan-ren", "万人", "ten thousand people", "10000", "person"),
         ("ge", "个", "items", "1", "1"),
         ("mu", "亩", "mu", "666.67", "m2"),
         ("km", "公里", "kilometre", "1000", "m"),
         ("dun", "吨", "tonne", "1000", "kg")]
TOPICS_ZH = ["地区生产总值", "一般公共预算收入", "固定资产投资", "社会消费品零售总额", "进出口总额",
             "城镇居民人均可支配收入", "农村居民人均可支配收入", "规模以上工业增加值", "数字经济核心产业增加值",
             "研发经费支出", "新增城镇就业", "实际利用外资", "高新技术产业增加值", "服务业增加值", "旅游总收入",
             "保障性租赁住房", "新建学校", "新增养老床位", "轨道交通里程", "单位GDP能耗"]
TOPICS_EN = ["GDP", "general public budget revenue", "fixed-asset investment", "retail sales of consumer goods",
             "total imports and exports", "urban per-capita disposable income", "rural per-capita disposable income",
             "industrial value added above scale", "core digital-economy value added", "R&D spending",
             "new urban jobs", "foreign direct investment used", "high-tech industry value added",
             "services value added", "tourism revenue", "affordable rental housing", "new schools",
             "new elderly-care beds", "metro line length", "energy use per unit of GDP"]
N_INDICATORS = 300
FACTS_PER_REPORT = 60
YEARS = list(range(2000, 2025))


def _pick(rng: random.Random, weighted):
    total = sum(w for _, w in weighted)
    r = rng.uniform(0, total)
    for v, w in weighted:
        r -= w
        if r <= 0:
            return v
    return weighted[-1][0]


def _lit(s: str, lang: str | None = None, dt: str | None = None) -> str:
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if lang:
        return f'"{s}"@{lang}'
    if dt:
        return f'"{s}"^^<{XSD}{dt}>'
    return f'"{s}"'


UNIT_SYMBOL = {slug: zh for slug, zh, *_ in UNITS}
WORDS = {"level": "达到", "growth": "增长", "count": "共", "share": "占比"}


def _schema(out) -> int:
    """The ontology and shapes graphs, as ``econplan build`` puts them into the store: the
    shapes target classes through the ontology's rdfs:subClassOf (ep:Observation is an
    ep:Fact, …), so without them most checks would have nothing to check."""
    import pyoxigraph as ox

    sys.path.insert(0, str(L.ROOT))
    from server.kg.build import _rename_blank_nodes, graph_iri
    from server.kg.loading import parse_file

    quads = []
    for folder in ("ontology", "shapes"):
        for path in sorted((L.ROOT / folder).glob("*.ttl")):
            quads += _rename_blank_nodes(parse_file(path, default_graph=graph_iri(L.ROOT, path)),
                                         str(path.relative_to(L.ROOT)))
    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    out.write(data.decode("utf-8"))
    return len(quads)


AREA_TYPE = f"<{ID}area-type/prefecture-level-city>"


def _area_types(out) -> int:
    """The one area type of the generated cities, as data/vocab/area-types.csv gives it."""
    g = f"<{GRAPH}vocab/area-types>"
    rows = ((RDF_TYPE, f"<{EP}AreaType>"), (RDF_TYPE, f"<{SKOS}Concept>"),
            (RDFS_LABEL, _lit("地级市", "zh")), (RDFS_LABEL, _lit("prefecture-level city", "en")),
            (f"<{SKOS}prefLabel>", _lit("地级市", "zh")), (f"<{SKOS}prefLabel>", _lit("prefecture-level city", "en")),
            (f"<{SKOS}notation>", _lit("prefecture-level city")), (f"<{SKOS}inScheme>", f"<{ID}area-type>"),
            (f"<{EP}adminLevel>", f"<{EP}prefectureLevel>"),
            (f"<{EP}englishLabelStatus>", f"<{EP}editorialTranslation>"))
    for p, o in rows:
        out.write(f"{AREA_TYPE} {p} {o} {g} .\n")
    return len(rows)


def _districts(out, cities: list[tuple[str, str, str]]) -> int:
    n = 0
    g = f"<{GRAPH}vocab/districts>"
    for code, zh, en in cities:
        d = f"<{ID}district/{code}>"
        for p, o in ((RDF_TYPE, f"<{EP}District>"), (RDFS_LABEL, _lit(en, "en")), (RDFS_LABEL, _lit(zh, "zh")),
                     ("<https://schema.org/name>", _lit(zh, "zh")), (f"<{EP}gb2260>", _lit(code)),
                     (f"<{EP}gb2260Wikidata>", _lit(f"{code[:2]} {code[2:4]} {code[4:]}")),
                     (f"<{EP}areaType>", AREA_TYPE)):
            out.write(f"{d} {p} {o} {g} .\n")
            n += 1
    return n


def _vocab(out, rng: random.Random, cities: list[tuple[str, str, str]]) -> int:
    n = 0
    g = f"<{GRAPH}vocab/units>"
    for slug, zh, en, mult, base in UNITS:
        u = f"<{ID}unit/{slug}>"
        for p, o in ((RDF_TYPE, f"<{SKOS}Concept>"), (RDF_TYPE, f"<{EP}Unit>"), (RDFS_LABEL, _lit(en, "en")),
                     (RDFS_LABEL, _lit(zh, "zh")), (f"<{SKOS}inScheme>", f"<{ID}unit>"),
                     (f"<{SKOS}notation>", _lit(slug)), (f"<{EP}symbol>", _lit(zh)),
                     (f"<{EP}multiplier>", _lit(mult, dt="decimal")), (f"<{EP}baseUnit>", _lit(base))):
            out.write(f"{u} {p} {o} {g} .\n")
            n += 1
    g = f"<{GRAPH}vocab/indicators>"
    for i in range(N_INDICATORS):
        t = i % len(TOPICS_ZH)
        zh = f"{TOPICS_ZH[t]}(口径{i // len(TOPICS_ZH) + 1})"
        en = f"{TOPICS_EN[t]} (series {i // len(TOPICS_ZH) + 1})"
        ind = f"<{ID}indicator/synthetic-{i:04d}>"
        for p, o in ((RDF_TYPE, f"<{SKOS}Concept>"), (RDF_TYPE, f"<{EP}Indicator>"),
                     (RDFS_LABEL, _lit(en, "en")), (RDFS_LABEL, _lit(zh, "zh")),
                     (f"<{SKOS}prefLabel>", _lit(en, "en")), (f"<{SKOS}prefLabel>", _lit(zh, "zh")),
                     (f"<{SKOS}inScheme>", f"<{ID}indicator>"), (f"<{SKOS}topConceptOf>", f"<{ID}indicator>"),
                     (f"<{SKOS}notation>", _lit(f"synthetic-{i:04d}")),
                     (f"<{EP}englishLabelStatus>", f"<{EP}editorialTranslation>")):
            out.write(f"{ind} {p} {o} {g} .\n")
            n += 1
    return n + _area_types(out) + _districts(out, cities)


PARAGRAPHS = 3  # of FACTS_PER_REPORT // PARAGRAPHS facts, two a sentence
#: triples of one report: report 7 + dataset 2, paragraphs 9, sentences 10, facts 19 each
PER_REPORT = 9 + PARAGRAPHS * 9 + FACTS_PER_REPORT // 2 * 10 + FACTS_PER_REPORT * 19


def _report(out, rng: random.Random, city: tuple[str, str, str], year: int) -> int:
    """One report, valid against the shapes: paragraphs and sentences whose offsets match
    their text, facts whose mention is in their sentence, ``ep:Target`` for targets (of the
    next year), no two facts with the same key (indicator, period, kind, status, area)."""
    code, zh_city, en_city = city
    slug = f"city-{code}"
    base = f"{ID}{slug}/{year}-plan"
    rep = f"<{base}>"
    g_meta = f"<{GRAPH}{slug}-{year}/00-report>"
    g_src = f"<{GRAPH}source/{slug}-{year}>"
    g_facts = f"<{GRAPH}{slug}-{year}/facts>"
    area = f"<{ID}district/{code}>"
    dataset = f"<{base}/dataset>"
    gyear = lambda y: _lit(str(y), dt="gYear")  # noqa: E731
    lines = [
        f"{rep} {RDF_TYPE} <{EP}Report> {g_meta} .",
        f"{rep} {RDFS_LABEL} {_lit(f'{zh_city}{year}年国民经济和社会发展计划执行情况', 'zh')} {g_meta} .",
        f"{rep} {RDFS_LABEL} {_lit(f'{en_city} plan execution report {year}', 'en')} {g_meta} .",
        f"{rep} <{EP}refArea> {area} {g_meta} .",
        f"{rep} <http://purl.org/dc/terms/temporal> {gyear(year)} {g_meta} .",
        f"{rep} <http://purl.org/dc/terms/temporal> {gyear(year + 1)} {g_meta} .",
        f"{rep} {PROV_DERIVED} <{base}/source.txt> {g_meta} .",
        f"{dataset} {RDF_TYPE} <http://purl.org/linked-data/cube#DataSet> {g_meta} .",
        f"{dataset} <http://purl.org/dc/terms/source> {rep} {g_meta} .",
    ]
    # the facts first (their keys distinct), then the text that states them
    facts, keys = [], set()
    for f in range(FACTS_PER_REPORT):
        kind = _pick(rng, KINDS)
        status = "actual" if rng.random() < 0.65 else "target"
        ind_n = rng.randrange(N_INDICATORS)
        while (ind_n, kind, status) in keys:
            ind_n = rng.randrange(N_INDICATORS)
        keys.add((ind_n, kind, status))
        unit = "percent" if kind in ("growth", "share") else UNITS[rng.randrange(len(UNITS))][0]
        value = f"{rng.uniform(0.1, 20) if kind in ('growth', 'share') else rng.uniform(1, 20000):.1f}"
        facts.append((f, ind_n, kind, status, unit, value))
    offset = 0
    per_para = FACTS_PER_REPORT // PARAGRAPHS
    for pi in range(PARAGRAPHS):
        para_id = f"p{pi + 1:03d}"
        para = f"<{base}/passage/{para_id}>"
        para_start, para_text = offset, ""
        for si in range(per_para // 2):
            pid = f"{para_id}-s{si + 1:02d}"
            passage = f"<{base}/passage/{pid}>"
            text, at = f"{year}年{zh_city}", []
            for f, ind_n, kind, status, unit, value in facts[pi * per_para + si * 2:pi * per_para + si * 2 + 2]:
                if at:
                    text += ","
                text += TOPICS_ZH[ind_n % len(TOPICS_ZH)] + ("预计" if status == "target" else "")
                mention = f"{WORDS[kind]}{value}{UNIT_SYMBOL[unit]}"
                at.append((len(text) + len(WORDS[kind]), mention))
                text += mention
            text += "。"
            start = offset
            offset += len(text)
            para_text += text
            lines += [
                f"{passage} {RDF_TYPE} <{EP}Sentence> {g_src} .",
                f"{passage} {RDFS_LABEL} {_lit('句子 ' + pid, 'zh')} {g_src} .",
                f"{passage} {RDFS_LABEL} {_lit('sentence ' + pid, 'en')} {g_src} .",
                f"{passage} <{OA}exact> {_lit(text)} {g_src} .",
                f"{passage} <{OA}start> {_lit(str(start), dt='integer')} {g_src} .",
                f"{passage} <{OA}end> {_lit(str(offset), dt='integer')} {g_src} .",
                f"{passage} <{EP}passageId> {_lit(pid)} {g_src} .",
                f"{passage} {DCT_PART} {para} {g_src} .",
                f"{passage} <{EP}paragraph> {para} {g_src} .",
                f"{passage} <{EP}report> {rep} {g_src} .",
            ]
            for (f, ind_n, kind, status, unit, value), (pos, mention) in zip(
                    facts[pi * per_para + si * 2:pi * per_para + si * 2 + 2], at):
                ind = f"<{ID}indicator/synthetic-{ind_n:04d}>"
                period = year if status == "actual" else year + 1
                fact = f"<{base}/fact/f{f:03d}>"
                vs = start + pos
                cls = "Target" if status == "target" else "Observation"
                lines += [
                    f"{fact} {RDF_TYPE} <{EP}{cls}> {g_facts} .",
                    f"{fact} {QB_DATASET} {dataset} {g_facts} .",
                    f"{fact} {RDFS_LABEL} {_lit(f'{period}年{TOPICS_ZH[ind_n % len(TOPICS_ZH)]}:{value}', 'zh')} {g_facts} .",
                    f"{fact} {RDFS_LABEL} {_lit(f'{TOPICS_EN[ind_n % len(TOPICS_EN)]}, {kind}, {period}: {value}', 'en')} {g_facts} .",
                    f"{fact} {PROV_DERIVED} {passage} {g_facts} .",
                    f"{fact} <{EP}englishLabelStatus> <{EP}editorialTranslation> {g_facts} .",
                    f"{fact} <{EP}indicator> {ind} {g_facts} .",
                    f"{fact} <{EP}kind> <{EP}{kind}> {g_facts} .",
                    f"{fact} <{EP}mention> {_lit(mention)} {g_facts} .",
                    f"{fact} <{EP}qualifier> <{EP}{_pick(rng, QUALIFIERS)}> {g_facts} .",
                    f"{fact} <{EP}refArea> {area} {g_facts} .",
                    f"{fact} <{EP}refPeriod> {gyear(period)} {g_facts} .",
                    f"{fact} <{EP}report> {rep} {g_facts} .",
                    f"{fact} <{EP}status> <{EP}{status}> {g_facts} .",
                    f"{fact} <{EP}unit> <{ID}unit/{unit}> {g_facts} .",
                    f"{fact} <{EP}value> {_lit(value, dt='decimal')} {g_facts} .",
                    f"{fact} <{EP}valueText> {_lit(value)} {g_facts} .",
                    f"{fact} <{EP}valueStart> {_lit(str(vs), dt='integer')} {g_facts} .",
                    f"{fact} <{EP}valueEnd> {_lit(str(vs + len(value)), dt='integer')} {g_facts} .",
                ]
        lines += [
            f"{para} {RDF_TYPE} <{EP}Paragraph> {g_src} .",
            f"{para} {RDFS_LABEL} {_lit('段落 ' + para_id, 'zh')} {g_src} .",
            f"{para} {RDFS_LABEL} {_lit('paragraph ' + para_id, 'en')} {g_src} .",
            f"{para} <{OA}exact> {_lit(para_text)} {g_src} .",
            f"{para} <{OA}start> {_lit(str(para_start), dt='integer')} {g_src} .",
            f"{para} <{OA}end> {_lit(str(offset), dt='integer')} {g_src} .",
            f"{para} <{EP}passageId> {_lit(para_id)} {g_src} .",
            f"{para} {DCT_PART} {rep} {g_src} .",
            f"{para} <{EP}report> {rep} {g_src} .",
        ]
    out.write("\n".join(lines))
    out.write("\n")
    return len(lines)


def cities_for(reports: int, first: int = 0) -> list[tuple[str, str, str]]:
    """The cities of ``reports`` reports (one a year, YEARS years each), from city number ``first``."""
    n = max(1, -(-reports // len(YEARS)))
    out = []
    for i in range(first, first + n):
        prov, city = 11 + i // 99, i % 99 + 1
        out.append((f"{prov:02d}{city:02d}00", f"合成市{i + 1:03d}", f"Synthetic City {i + 1:03d}"))
    return out


def reports_for(target_triples: int) -> int:
    return max(1, round(target_triples / PER_REPORT))


def generate(path: Path, target_triples: int, seed: int = 1, *, first_city: int = 0,
             batch: bool = False) -> int:
    """Write about ``target_triples`` triples (whole reports) to ``path``; returns the count.

    ``batch``: an addition to a store generated before — only the districts of its cities
    (numbered from ``first_city``, so its IRIs are new) and their reports; no shared
    vocabularies, no ontology or shapes."""
    reports = reports_for(target_triples)
    cities = cities_for(reports, first_city)
    rng = random.Random(seed)
    n = 0
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        if batch:
            n += _districts(out, cities)
        else:
            n += _schema(out)
            n += _vocab(out, rng, cities)
        done = 0
        for year in YEARS:  # city-major inside each year, so that a prefix is a balanced subset
            for city in cities:
                if done >= reports:
                    break
                n += _report(out, random.Random(f"{seed}-{city[0]}-{year}"), city, year)
                done += 1
    return n


# -- queries -------------------------------------------------------------------------------

def queries(area: str, year: int) -> dict[str, str]:
    """Saved-query-like queries, parameters bound as the query library binds them."""
    p = L.PREFIXES
    fact = f"{ID}city-{area}/{year}-plan/fact/"
    return {
        "lookup one fact": p + f"SELECT ?p ?o WHERE {{ <{fact}f007> ?p ?o }}",
        # the saved query headline-indicators-level-and-growth with its parameters bound, and
        # its label block moved before the OPTIONAL (as written it takes ~40 s at 1M triples:
        # see SAVED_AS_WRITTEN)
        "headline of one city-year": p + f"""SELECT ?indicator ?indicatorZh ?indicatorEn ?level ?growth ?sentenceId WHERE {{
  VALUES (?year ?area) {{ ("{year}"^^xsd:gYear <{ID}district/{area}>) }}
  ?growthFact ep:indicator ?indicator ; ep:kind ep:growth ; ep:status ep:actual ;
              ep:refPeriod ?year ; ep:refArea ?area ; ep:value ?growth ; ep:valueStart ?position ;
              prov:wasDerivedFrom/ep:passageId ?sentenceId .
  FILTER NOT EXISTS {{ ?growthFact ep:about ?anything }}
  ?indicator skos:prefLabel ?indicatorZh , ?indicatorEn .
  FILTER (LANG(?indicatorZh) = "zh" && LANG(?indicatorEn) = "en")
  OPTIONAL {{ ?levelFact ep:indicator ?indicator ; ep:kind ep:level ; ep:status ep:actual ;
                         ep:refPeriod ?year ; ep:refArea ?area ; ep:value ?level . }}
}} ORDER BY ?position""",
        "one indicator across cities and years": p + f"""SELECT ?area ?year ?value WHERE {{
  ?f ep:indicator <{ID}indicator/synthetic-0007> ; ep:kind ep:level ; ep:status ep:actual ;
     ep:refArea ?area ; ep:refPeriod ?year ; ep:value ?value .
}} ORDER BY ?area ?year""",
        "GROUP BY over all facts": p + """SELECT ?kind ?status (COUNT(?f) AS ?facts) (AVG(?v) AS ?mean) WHERE {
  ?f ep:kind ?kind ; ep:status ?status ; ep:value ?v .
} GROUP BY ?kind ?status ORDER BY ?kind ?status""",
        "FILTER regex over all sentences": p + """SELECT (COUNT(?s) AS ?n) WHERE {
  ?s oa:exact ?text FILTER(REGEX(?text, "增长1[0-4]\\\\.\\\\d%"))
}""",
    }


SAVED_QUERY = "headline-indicators-level-and-growth"
LABELS = """  ?indicator skos:prefLabel ?indicatorZh , ?indicatorEn .
  FILTER (LANG(?indicatorZh) = "zh" && LANG(?indicatorEn) = "en")
"""


def _child_saved(nq: str, area: str, year: str) -> None:  # runs in a child process
    """queries/<SAVED_QUERY>.rq as written (parameters bound as the query library binds them:
    substitutions), and the same with its label block moved before the OPTIONAL."""
    import pyoxigraph as ox

    text = (L.ROOT / "queries" / f"{SAVED_QUERY}.rq").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("#+"))
    store = ox.Store()
    store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
    subs = {ox.Variable("year"): ox.Literal(year, datatype=ox.NamedNode(XSD + "gYear")),
            ox.Variable("area"): ox.NamedNode(f"{ID}district/{area}")}
    out = {}
    variants = {"as written": text}
    if LABELS in text and "  OPTIONAL {" in text:
        variants["labels before OPTIONAL"] = text.replace(LABELS, "").replace("  OPTIONAL {", LABELS + "  OPTIONAL {", 1)
    for name, q in variants.items():
        t0 = time.perf_counter()
        rows = sum(1 for _ in store.query(q, use_default_graph_as_union=True, substitutions=subs))
        out[name] = {"ms": (time.perf_counter() - t0) * 1000, "rows": rows}
    print(json.dumps(out))


def _child_load(kind: str, nq: str, target: str) -> None:  # runs in a child process
    """Bulk-load ``nq``; the time covers the load, the flush and closing the store (what
    `oxigraph load` does before it exits), not the count of the quads, made afterwards."""
    import gc

    import pyoxigraph as ox

    t0 = time.perf_counter()
    if kind == "disk":
        store = ox.Store(target)
        store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
        store.flush()
        del store
        gc.collect()
        seconds = time.perf_counter() - t0
        n = len(ox.Store.read_only(target))
    else:
        store = ox.Store()
        store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
        seconds = time.perf_counter() - t0
        n = len(store)
    print(json.dumps({"seconds": seconds, "quads": n}))


def _child_query(kind: str, nq: str, target: str, qs: str) -> None:  # runs in a child process
    import pyoxigraph as ox

    store = ox.Store(target) if kind == "disk" else ox.Store()
    if kind == "memory":
        store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
    out = {}
    for name, q in json.loads(qs).items():
        times, rows = [], 0
        for _ in range(4):
            t0 = time.perf_counter()
            res = store.query(q, use_default_graph_as_union=True)
            body = res.serialize(format=ox.QueryResultsFormat.JSON)
            times.append(time.perf_counter() - t0)
            rows = len(json.loads(body)["results"]["bindings"])
        out[name] = {"cold_ms": times[0] * 1000, "median_ms": statistics.median(times[1:]) * 1000, "rows": rows}
    print(json.dumps(out))


def _child_vload(build: str, batch: str, events: str, engine: str) -> None:  # runs in a child process
    """econplan's validated load of ``batch`` into the build folder ``build``, as `econplan load`
    does it (server.kg.loading.parse_file, then server.kg.writes.load), timed by stage.

    The stages are timed by wrapping module functions of server.kg.writes, server.kg.validation and
    server.kg.build in this process (the code under test is not changed); each start and end is
    appended to ``events`` (JSON lines, flushed), so that a run stopped at its time limit still
    tells how far it got."""
    import functools
    import resource

    sys.path.insert(0, str(L.ROOT))
    import pyoxigraph as ox

    from server.kg import validation as VAL
    from server.kg import writes as W
    from server.kg.errors import ValidationFailed
    from server.kg.loading import parse_file

    t_start = time.perf_counter()
    log = open(events, "a", buffering=1)
    stages: dict[str, dict] = {}

    def peak_mib() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def event(**kw):
        log.write(json.dumps({"t": round(time.perf_counter() - t_start, 3), "peak_rss_mib": round(peak_mib()), **kw}) + "\n")

    def timed(name, fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            event(stage=name, at="start")
            t0 = time.perf_counter()
            result = None
            try:
                result = fn(*a, **kw)
                return result
            finally:
                dt = time.perf_counter() - t0
                st = stages.setdefault(name, {"seconds": 0.0, "calls": 0})
                if isinstance(result, (set, frozenset)):  # expand_focus: the nodes validated
                    st["nodes"] = len(result)
                st["seconds"] += dt
                st["calls"] += 1
                st["peak_rss_mib_after"] = peak_mib()
                event(stage=name, at="end", seconds=round(dt, 3))
        return wrapper

    # writes.load calls these as module globals; validate_staging imports validate at call time
    from server.kg import builddir as BD

    W._base = timed("base (the store, brought up to date and opened)", W._base)
    VAL.validate = timed("validation", VAL.validate)  # writes imports it at call time
    VAL.data_store = timed("validation: engine input (copy of the store)", VAL.data_store)
    VAL.expand_focus = timed("validation: focus expansion", VAL.expand_focus)
    VAL.focus_subgraph = timed("validation: focus subgraph", VAL.focus_subgraph)
    VAL._run_turbo = timed("validation: pyshacl-turbo", VAL._run_turbo)
    VAL._run_pyshacl = timed("validation: pySHACL", VAL._run_pyshacl)
    VAL._with_context = timed("validation: report context", VAL._with_context)
    BD.commit = timed("commit (change log record, fsync)", BD.commit)

    event(stage="parse", at="start")
    t0 = time.perf_counter()
    quads = parse_file(Path(batch))
    parse_s = time.perf_counter() - t0
    subjects = {q.subject for q in quads}
    named = {s for s in subjects if isinstance(s, ox.NamedNode)}
    from server.kg import builddir as BDIR

    info = BDIR.dump_info(build)  # the store's quads (builddir keeps the count), to name the path writes.load takes
    before = info.quads if info is not None else None
    whole = len(named) != len(subjects) or (len(named) > W.FOCUS_LIMIT and before is not None
                                            and before < W.WHOLE_RATIO * len(named))
    path = "whole graph" if whole else "focus subgraph"
    event(stage="parse", at="end", seconds=round(parse_s, 3), quads=len(quads), subjects=len(named), path=path)
    out = {"parse_s": parse_s, "quads": len(quads), "subjects": len(named), "focus_limit": W.FOCUS_LIMIT,
           "path": path}
    event(stage="load", at="start")
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    try:
        res = W.load(Path(build), quads, engine=engine)
        out.update(outcome="accepted", added=res.added, triples_after=res.triples,
                   warnings=W._count(res.report, "Warning"), infos=W._count(res.report, "Info"))
    except ValidationFailed as exc:
        counts = exc.report.counts if exc.report is not None else {}
        out.update(outcome="rejected", violations=counts.get("Violation"), warnings=counts.get("Warning"),
                   first=[r.as_text() if hasattr(r, "as_text") else str(r.key()) for r in exc.report.results[:3]]
                   if exc.report is not None else [])
    out["load_s"] = time.perf_counter() - t0
    out["load_cpu_s"] = time.process_time() - cpu0
    event(stage="load", at="end", seconds=round(out["load_s"], 3))
    out["stages"] = stages
    print(json.dumps(out))


def timed_peak(cmd: list[str], timeout: float) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command (through os.wait4)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.time() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            raise subprocess.TimeoutExpired(cmd, timeout)
        time.sleep(0.05)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise RuntimeError(f"{cmd[:3]} exited with {p.returncode}")
    return time.perf_counter() - t0, ru.ru_maxrss / 1024


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemoryLimit(RuntimeError):
    pass


def child_peak(args: list[str], timeout: float, *, mem_limit_mib: float | None = None,
               stderr: Path | None = None) -> tuple[dict, float, float]:
    """This script with ``args`` in a child process: its last line of output (JSON), wall seconds
    and the peak RSS of that child alone (os.wait4).

    ``mem_limit_mib``: stop the child (MemoryLimit) when its RSS goes above it, sampled
    every 0.05 s — the machine is shared. ``stderr``: keep the child's standard error there."""
    t0 = time.perf_counter()
    err = open(stderr, "ab") if stderr else subprocess.DEVNULL
    try:
        with tempfile.TemporaryFile() as out:
            p = subprocess.Popen([sys.executable, __file__, *args], stdout=out, stderr=err)
            deadline = time.time() + timeout
            over = 0.0
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if mem_limit_mib and (rss := _rss_mib(p.pid)) > mem_limit_mib:
                    over = rss
                if time.time() > deadline or over:
                    p.kill()
                    _, _, ru = os.wait4(p.pid, 0)
                    exc = (MemoryLimit(f"stopped at {over:.0f} MiB RSS (limit {mem_limit_mib:.0f} MiB) "
                                       f"after {time.perf_counter() - t0:.0f} s") if over
                           else subprocess.TimeoutExpired(args, timeout))
                    exc.peak_rss_mib = ru.ru_maxrss / 1024  # what it had reached
                    raise exc
                time.sleep(0.05)
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read().decode()
    finally:
        if stderr:
            err.close()
    if p.returncode:
        raise RuntimeError(f"child {args[:2]} exited with {p.returncode}")
    return json.loads(text.strip().splitlines()[-1]), time.perf_counter() - t0, ru.ru_maxrss / 1024


class PeakSampler:
    """Samples the RSS of a process tree every 0.2 s in a thread; ``peak`` in MiB."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, L.memory(self.pid)["rss_mib"])
            except Exception:
                pass
            self._stop.wait(0.2)

    def stop(self) -> float:
        self._stop.set()
        self._t.join(2)
        return self.peak


def _mem_available_mib() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return 0.0


def http_queries(url: str, qs: dict[str, str], runs: int = 3, timeout: float = 60) -> dict:
    out = {}
    for name, q in qs.items():
        times, status, rows = [], None, None
        for i in range(runs + 1):
            t0 = time.perf_counter()
            try:
                status, headers, body = L.sparql_post(url, q + f"\n# run {i}", timeout=timeout)
            except OSError:  # no answer within the client's limit
                status = "no answer"
            times.append(time.perf_counter() - t0)
            if status != 200:
                break
            rows = L.rows_of(body)
        out[name] = {"status": status, "rows": rows, "cold_ms": times[0] * 1000,
                     "median_ms": statistics.median(times[1:]) * 1000 if len(times) > 1 else None}
    return out


SERVER_MODES = {"memory": ("econplan memory", "memory"), "disk": ("econplan disk", "disk"),
                "oxigraph": ("oxigraph", None)}


def _build_folder(build: Path, nq: Path, store: Path, triples: int | None = None) -> Path:
    """A build folder over the generated data, as `econplan build` leaves one: the N-Quads dump
    (a hard link to the generated file), the RocksDB store (moved there), the version stamp."""
    sys.path.insert(0, str(L.ROOT))
    from server.kg import builddir

    build.mkdir()
    os.link(nq, builddir.dump(build))
    shutil.move(str(store), str(builddir.store_dir(build)))
    builddir.trig(build).write_bytes(b"")
    builddir.path(build, builddir.STORE_STAMP).write_text(builddir.version_of(build) + "\n")
    if triples is not None:
        builddir.set_count(build, triples)
    return build


def validated_load(size: int, work: Path, build: Path, seed: int, batch_triples: int, *, timeout: float,
                   mem_limit_mib: float | None, first: int, engine: str = "turbo") -> dict:
    """Step 4: econplan's validated load (parse, stage, SHACL gate, commit) of a batch of new
    reports — of new cities numbered from ``first``, so new IRIs — into the build folder
    holding the big store."""
    batch = work / f"batch-{batch_triples}.nq"
    out: dict = {"batch_target_triples": batch_triples, "engine": engine, "time_limit_s": timeout,
                 "first_city": first}
    out["batch_triples"] = generate(batch, batch_triples, seed, first_city=first, batch=True)
    out["batch_reports"] = reports_for(batch_triples)
    events = work / f"vload-{batch_triples}.events"
    events.unlink(missing_ok=True)
    (work / "vload.stderr").unlink(missing_ok=True)
    if mem_limit_mib is None:  # what the machine has free now, less a margin for the others
        mem_limit_mib = 0.8 * _mem_available_mib()
    out["mem_limit_mib"] = mem_limit_mib
    print(f"[{size}] validated load of {out['batch_triples']} triples ({out['batch_reports']} reports of "
          f"new cities): limit {timeout:.0f} s, {mem_limit_mib / 1024:.1f} GiB RSS", flush=True)
    try:
        res, wall, peak = child_peak(["_vload", str(build), str(batch), str(events), engine], timeout,
                                     mem_limit_mib=mem_limit_mib, stderr=work / "vload.stderr")
        out.update(res, wall_s=wall, peak_rss_mib=peak, finished=True)
    except (subprocess.TimeoutExpired, MemoryLimit, RuntimeError) as exc:
        out["peak_rss_mib"] = getattr(exc, "peak_rss_mib", None)
        why = (f"did not finish within the time limit of {timeout:.0f} s" if isinstance(exc, subprocess.TimeoutExpired)
               else f"memory limit: {exc}" if isinstance(exc, MemoryLimit) else str(exc))
        out.update(finished=False, error=why)
        err = (work / "vload.stderr").read_text(errors="replace").strip().splitlines() if (work / "vload.stderr").exists() else []
        if err and not isinstance(exc, (subprocess.TimeoutExpired, MemoryLimit)):
            out["error"] += ": " + err[-1][:300]
    # what the events say (also how far a stopped run got)
    evs = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
    done = {}
    running = {}
    for e in evs:
        if e["at"] == "start":
            running[e["stage"]] = e["t"]
        else:
            running.pop(e["stage"], None)
            done[e["stage"]] = done.get(e["stage"], 0) + e["seconds"]
        if e["stage"] == "parse" and e["at"] == "end":
            out.setdefault("quads", e.get("quads"))
            out.setdefault("subjects", e.get("subjects"))
            out.setdefault("path", e.get("path"))
    out["events_peak_rss_mib"] = max((e["peak_rss_mib"] for e in evs), default=None)
    if not out["finished"]:
        out["events"] = evs
        out["stages_done"] = done
        out["running_at_stop"] = running  # stage -> seconds since the child started
    if out["finished"]:
        msg = (f"{out['outcome']} in {out['load_s']:.1f} s (CPU {out.get('load_cpu_s', 0):.1f} s, validation {out['stages'].get('validation', {}).get('seconds', 0):.1f} s, "
               f"{out['path']}, {out['subjects']} subjects), peak {peak:.0f} MiB")
    else:
        msg = f"{out['error']}; running then: {', '.join(running) or '-'}"
    print(f"[{size}] validated load: {msg}", flush=True)
    return out


def measure(size: int, work: Path, seed: int, *, servers: bool, timeout: float,
            econplan_tree: str | None = None, server_modes=("memory", "disk", "oxigraph"),
            load_batches=(100_000,), load_timeout: float | None = None,
            load_mem_limit_mib: float | None = None, rounds: int = 1) -> dict:
    r: dict = {"target_triples": size}
    nq = work / f"scale-{size}.nq"
    t0 = time.perf_counter()
    r["triples"] = generate(nq, size, seed)
    r["generate_s"] = time.perf_counter() - t0
    r["file_mib"] = nq.stat().st_size / 2**20
    print(f"[{size}] generated {r['triples']} triples ({r['file_mib']:.0f} MiB) in {r['generate_s']:.1f} s", flush=True)

    # 1. loaders: `rounds` times each, interleaved; the median round counts (the disk loads vary by
    # +-20% from run to run on a shared machine)
    disk, oxdir = work / f"pyox-{size}", work / f"oxigraph-{size}"
    pyox_runs, ox_runs = [], []
    for i in range(max(1, rounds)):
        for d in (disk, oxdir):
            shutil.rmtree(d, ignore_errors=True)
        res, wall, peak = child_peak(["_load", "disk", str(nq), str(disk)], timeout)
        pyox_runs.append({"seconds": res["seconds"], "process_seconds": wall, "peak_rss_mib": peak,
                          "quads": res["quads"]})
        wall, peak = timed_peak([L.tool("oxigraph"), "load", "--location", str(oxdir), "--file", str(nq)], timeout)
        ox_runs.append({"seconds": wall, "peak_rss_mib": peak})
        print(f"[{size}] bulk load round {i + 1}: pyoxigraph {pyox_runs[-1]['seconds']:.1f} s, "
              f"oxigraph load {wall:.1f} s", flush=True)

    def median_run(runs):
        return sorted(runs, key=lambda x: x["seconds"])[(len(runs) - 1) // 2]

    r["load_pyoxigraph_disk"] = dict(median_run(pyox_runs), rounds=[x["seconds"] for x in pyox_runs])
    r["load_oxigraph_cli"] = dict(median_run(ox_runs), rounds=[x["seconds"] for x in ox_runs])
    res, wall, peak = child_peak(["_load", "memory", str(nq), ""], timeout)
    r["load_pyoxigraph_memory"] = {"seconds": res["seconds"], "process_seconds": wall, "peak_rss_mib": peak,
                                   "quads": res["quads"]}
    r["load_ratio"] = r["load_pyoxigraph_disk"]["seconds"] / r["load_oxigraph_cli"]["seconds"]
    print(f"[{size}] bulk load (median of {len(pyox_runs)}): pyoxigraph disk "
          f"{r['load_pyoxigraph_disk']['seconds']:.1f} s, memory {r['load_pyoxigraph_memory']['seconds']:.1f} s, "
          f"oxigraph load {r['load_oxigraph_cli']['seconds']:.1f} s", flush=True)

    # 2. queries on the store
    area, year = cities_for(1)[0][0], 2015
    qs = queries(area, year)
    for kind, target in (("memory", ""), ("disk", str(disk))):
        res, wall, peak = child_peak(["_query", kind, str(nq), target, json.dumps(qs)], timeout)
        r[f"store_queries_{kind}"] = res
        r[f"store_{kind}_peak_rss_mib"] = peak
    try:
        res, _, _ = child_peak(["_saved", str(nq), area, str(year)], min(timeout, 150))
        r["saved_query_as_written"] = res
    except (subprocess.TimeoutExpired, RuntimeError) as exc:
        r["saved_query_as_written"] = {"error": str(exc)[:200]}
    print(f"[{size}] store queries done", flush=True)
    build = _build_folder(work / f"build-{size}", nq, disk, r["triples"])
    if servers:
        servers_step(r, build, oxdir, work, qs, size, timeout=timeout, econplan_tree=econplan_tree,
                     modes=server_modes)
    # 4. validated loads into the big store (they change the build folder: last), one after
    # the other, each of new cities
    first = len(cities_for(reports_for(size)))
    r["validated_loads"] = []
    for n in load_batches:
        if n <= 0:
            continue
        r["validated_loads"].append(validated_load(size, work, build, seed, n, timeout=load_timeout or timeout,
                                                   mem_limit_mib=load_mem_limit_mib, first=first))
        first += len(cities_for(reports_for(n)))
    return r


def servers_step(r: dict, build: Path, oxdir: Path, work: Path, qs: dict, size: int, *, timeout: float,
                 econplan_tree: str | None, modes) -> None:
    """3. the servers over the build folder and over `oxigraph load`'s store."""
    r["servers"] = {}
    # econplan in memory mode holds one copy of the store, loaded by the main process before it
    # starts the HTTP workers (they share it; a worker that scans everything copies part of its
    # pages).  Count two copies, and do not start it if they would not fit in what the machine
    # has free now.
    per_copy = r["load_pyoxigraph_memory"]["peak_rss_mib"]
    need = 2 * per_copy
    free = _mem_available_mib()
    for key, (name, mode) in SERVER_MODES.items():
        if key not in modes:
            r["servers"][name] = {"error": "skipped: not asked for (--server-modes)"}
            continue
        port = L.free_port()
        if mode == "memory" and need > 0.7 * free:
            r["servers"][name] = {"error": f"skipped: would need about {need / 1024:.1f} GiB "
                                           f"(2 copies of {per_copy:.0f} MiB), {free / 1024:.1f} GiB free"}
            print(f"[{size}] {name}: {r['servers'][name]['error']}", flush=True)
            continue
        if mode:
            srv = L.econplan_server(build, port, log_dir=work, pythonpath=econplan_tree, env={
                "ECONPLAN_STORE_MODE": mode, "ECONPLAN_CACHE_SIZE": "0", "ECONPLAN_QUERY_TIMEOUT": "60"})
        else:
            srv = L.oxigraph_server(port, location=oxdir, log_dir=work)
        try:
            srv.start(deadline_s=timeout)
            sampler = PeakSampler(srv.proc.pid)
            res = http_queries(srv.url, qs, timeout=90)
            idle = L.memory(srv.proc.pid)
            peak = sampler.stop()
            r["servers"][name] = {"first_answer_s": srv.first_answer_s, "queries": res,
                                  "rss_mib": idle["rss_mib"], "pss_mib": idle.get("pss_mib"), "peak_sampled_mib": max(peak, idle["rss_mib"]),
                                  "peak_rss_mib": idle["peak_rss_mib"],
                                  "processes": idle["processes"]}
            print(f"[{size}] {name}: first answer {srv.first_answer_s:.1f} s", flush=True)
        except RuntimeError as exc:  # it did not start: say why, go on with the others
            msg = str(exc).strip().splitlines()[-1]
            r["servers"][name] = {"error": msg.split(" (IO error")[0] + (" (RocksDB lock held)" if "lock" in msg else "")}
            print(f"[{size}] {name}: FAILED: {r['servers'][name]['error']}", flush=True)
        finally:
            srv.stop()


def report(results: list[dict], machine: dict, command: str) -> str:
    out = [f"Command: `{command}`", f"Machine: {L.machine_line(machine)}.", ""]
    out.append("| triples | N-Quads | generate | pyoxigraph bulk_load (disk) | `oxigraph load` | ratio | "
               "pyoxigraph bulk_load (memory) |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        d, o, m = r["load_pyoxigraph_disk"], r["load_oxigraph_cli"], r["load_pyoxigraph_memory"]

        out.append(f"| {r['triples']:,} | {r['file_mib']:.0f} MiB | {r['generate_s']:.1f} s | "
                   f"{d['seconds']:.1f} s (peak {d['peak_rss_mib']:.0f} MiB) | {o['seconds']:.1f} s "
                   f"(peak {o['peak_rss_mib']:.0f} MiB) | {r['load_ratio']:.2f}x | {m['seconds']:.1f} s "
                   f"(peak {m['peak_rss_mib']:.0f} MiB) |")
    out.append("")
    for r in results:
        d, o = r["load_pyoxigraph_disk"], r["load_oxigraph_cli"]
        if len(d.get("rounds", [])) > 1:
            out.append(f"Bulk load at {r['triples']:,}, every round (the median is in the table): pyoxigraph "
                       + ", ".join(f"{x:.1f}" for x in d["rounds"]) + " s; `oxigraph load` "
                       + ", ".join(f"{x:.1f}" for x in o["rounds"]) + " s.")
            out.append("")
    for r in results:
        names = list(r["store_queries_memory"])
        cols = ["store in memory", "store on disk"]
        srv = r.get("servers", {})
        cols += [f"HTTP {k}" for k in srv]
        out.append(f"Queries at {r['triples']:,} triples (median of 3 warm runs, ms; rows):")
        out.append("")
        out.append("| query | rows | " + " | ".join(cols) + " |")
        out.append("|---|---:|" + "---:|" * len(cols))
        for n in names:
            cells = [f"{r['store_queries_memory'][n]['median_ms']:.1f}", f"{r['store_queries_disk'][n]['median_ms']:.1f}"]
            for k, v in srv.items():
                if "error" in v:
                    cells.append("skipped" if v["error"].startswith("skipped") else "did not start")
                    continue
                q = v["queries"][n]
                cells.append(f"{q['median_ms']:.1f}" if q["status"] == 200 and q["median_ms"] is not None
                             else f"HTTP {q['status']}")
            out.append(f"| {n} | {r['store_queries_memory'][n]['rows']} | " + " | ".join(cells) + " |")
        out.append("")
        sv = r.get("saved_query_as_written", {})
        if sv and "error" not in sv:
            cells = "; ".join(f"{k}: {v['ms']:.0f} ms ({v['rows']} rows)" for k, v in sv.items())
            out.append(f"The saved query `queries/{SAVED_QUERY}.rq` (year 2015, first city; in memory, "
                       f"pyoxigraph): {cells}.")
            out.append("")
        elif sv:
            out.append(f"The saved query `queries/{SAVED_QUERY}.rq` as written: {sv['error']}")
            out.append("")
        if srv:
            out.append("| server | start to first answer | RSS after the queries | PSS after the queries "
                       "| peak RSS (sum of each process's peak) |")
            out.append("|---|---:|---:|---:|---:|")
            for k, v in srv.items():
                if "error" in v:
                    out.append(f"| {k} | {'' if v['error'].startswith('skipped') else 'did not start: '}"
                               f"{v['error']} | | | |")
                    continue
                pss = f"{v['pss_mib']:.0f} MiB" if v.get("pss_mib") is not None else "–"
                out.append(f"| {k} | {v['first_answer_s']:.1f} s | {v['rss_mib']:.0f} MiB ({v['processes']} processes) "
                           f"| {pss} | {v['peak_rss_mib']:.0f} MiB |")
            out.append("")
            out.append("RSS counts the pages that processes share (the query workers' store is the template's) "
                       "once per process; PSS divides each shared page among its sharers, so the PSS sum is the "
                       "memory really used.")
            out.append("")
    if any(r.get("validated_loads") for r in results):
        out += validated_load_report(results)
    return "\n".join(out)


def _s(stages: dict, name: str) -> str:
    v = stages.get(name)
    return f"{v['seconds']:.1f} s" if v else "-"


STAGE_COLUMNS = ["base (the store, brought up to date and opened)", "validation", "validation: pyshacl-turbo",
                 "commit (change log record, fsync)"]


def validated_load_report(results: list[dict]) -> list[str]:
    out = ["Validated load into the big store: a batch of new reports (new cities, so new IRIs; valid "
           "data) as N-Quads, through `econplan load`'s path — `server.kg.loading.parse_file`, then "
           "`server.kg.writes.load` — in a child process with a time limit; stages timed by wrapping the "
           "module functions. The base is the RocksDB store (opened read-only; `econplan load` has no store "
           "in memory). Path \"focus subgraph\": the SHACL gate on the part of the store plus the batch that "
           "the batch's subjects (expanded) read; \"whole graph\" (blank-node subjects, or more than FOCUS_LIMIT "
           "subjects in a store of less than WHOLE_RATIO quads for each): the gate on a copy of the whole data. "
           "The commit appends one record to the change log "
           "(fsync). Wall time and the child's CPU time (user + system) of `writes.load`. Several batches: one "
           "after the other, each into the store as the previous one left it.", "",
           "| store | batch | subjects → path | outcome | parse | `writes.load` wall | CPU | base | validation | "
           "of which pyshacl-turbo | commit | peak RSS |",
           "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    notes = []
    rows = []
    for r in results:
        store = r["triples"]
        for v in r.get("validated_loads", []):
            rows.append((store, r, v))
            store += v.get("added") or 0
    for store, r, v in rows:
        head = f"| {store:,} | {v['batch_triples']:,} | "
        subj = f"{v['subjects']:,} → {v['path']}" if v.get("subjects") is not None else "?"
        nodes = v.get("stages", {}).get("validation: focus expansion", {}).get("nodes")
        if nodes is not None:
            subj += f" ({nodes:,} nodes after expansion)"
        if v["finished"]:
            st = v["stages"]
            outcome = (f"accepted (+{v['added']:,}; {v.get('warnings', 0)} warnings)" if v["outcome"] == "accepted"
                       else f"rejected: {v['violations']} violations")
            cells = [_s(st, c) for c in STAGE_COLUMNS]
            cpu = f"{v['load_cpu_s']:.1f} s" if v.get("load_cpu_s") is not None else "-"
            out.append(head + f"{subj} | {outcome} | {v['parse_s']:.1f} s | {v['load_s']:.1f} s | {cpu} | "
                       + " | ".join(cells) + f" | {v['peak_rss_mib']:.0f} MiB |")
        else:
            done, running = v.get("stages_done", {}), v.get("running_at_stop", {})

            def cell(name):
                if name in done:
                    return f"{done[name]:.1f} s"
                if name in running:
                    return f"**running** (since {running[name]:.0f} s)"
                return "-"

            peak = v.get("peak_rss_mib") or v.get("events_peak_rss_mib") or 0
            out.append(head + f"{subj} | **not finished**: {v['error']} | {cell('parse')} | {cell('load')} | - | "
                       + " | ".join(cell(c) for c in STAGE_COLUMNS) + f" | {peak:.0f} MiB when stopped |")
        if v.get("path") == "whole graph":
            notes.append(f"{v['batch_triples']:,} triples into {store:,}: the batch touches {v['subjects']:,} "
                         f"subjects, more than FOCUS_LIMIT ({v.get('focus_limit', 500)}), so `writes.load` "
                         f"validates the whole staged graph, not only what the load touches")
    out.append("")
    out += [f"- {n}" for n in notes]
    if notes:
        out.append("")
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_load":
        _child_load(*argv[1:4])
        return 0
    if argv and argv[0] == "_saved":
        _child_saved(*argv[1:4])
        return 0
    if argv and argv[0] == "_query":
        _child_query(*argv[1:5])
        return 0
    if argv and argv[0] == "_vload":
        _child_vload(*argv[1:5])
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, nargs="+", default=[1_000_000, 3_000_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-servers", action="store_true", help="skip the HTTP servers (step 3)")
    ap.add_argument("--server-modes", nargs="+", choices=list(SERVER_MODES), default=list(SERVER_MODES),
                    help="which servers step 3 starts (econplan with STORE_MODE=memory / =disk, oxigraph)")
    ap.add_argument("--load-batch", type=int, nargs="+", default=[100_000],
                    help="step 4: triples of the batch loaded through the SHACL gate into the big store "
                         "(several: one load after the other; 0: skip); a batch of 1476 triples is one "
                         "report, few enough subjects for the focus path")
    ap.add_argument("--load-timeout", type=float, default=None,
                    help="time limit of step 4, seconds (default: --timeout)")
    ap.add_argument("--load-mem-limit", type=float, default=None,
                    help="stop step 4 above this RSS, GiB (default: 80%% of the memory free when it starts)")
    ap.add_argument("--timeout", type=float, default=900, help="time limit of each step, seconds")
    ap.add_argument("--load-rounds", type=int, default=1,
                    help="bulk-load the file this many times with each loader, interleaved; the median counts")
    ap.add_argument("--generate-only", action="store_true", help="only write --out and stop")
    ap.add_argument("--out", help="with --generate-only: the N-Quads file to write")
    ap.add_argument("--workdir", help="where to put the files (default: a temporary folder, removed)")
    ap.add_argument("--econplan-tree", default=None,
                    help="serve the `server` package of another checkout (e.g. a patched copy)")
    ap.add_argument("--keep", action="store_true", help="keep the working folder (logs, stores)")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args(argv)
    if args.generate_only:
        n = generate(Path(args.out), args.triples[0], args.seed)
        print(f"{n} triples -> {args.out}")
        return 0
    machine = L.machine()
    results = []
    tmp = tempfile.mkdtemp(prefix="bench-scale-", dir=args.workdir)
    try:
        for size in args.triples:
            sub = Path(tmp) / str(size)
            sub.mkdir()
            results.append(measure(size, sub, args.seed, servers=not args.no_servers, timeout=args.timeout,
                                   econplan_tree=args.econplan_tree, server_modes=args.server_modes,
                                   load_batches=args.load_batch, load_timeout=args.load_timeout,
                                   load_mem_limit_mib=args.load_mem_limit * 1024 if args.load_mem_limit else None,
                                   rounds=args.load_rounds))
            if not args.keep:
                shutil.rmtree(sub, ignore_errors=True)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    command = "python bench/scale.py " + " ".join(argv)
    text = report(results, machine, command.strip())
    print()
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "results": results, "report": text},
                                              indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
