"""Data views on entity pages: an indicator's facts (table, chart, sub-indicators, plan status),
an area's facts grouped by indicator with its projects, and what the report says about a
project, policy or event (sentences, facts, district, work area).

Values are shown as written (ep:valueText, else the digits of the mention) through
server.kg.numbers; chart values are in the unit's base, divided for a readable axis."""
from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

import pyoxigraph as ox

from ..kg import numbers as N
from ..kg import vocab as V
from .terms import Terms, _int_of

FACTS_QUERY = """
SELECT ?node ?f ?ind ?area ?period ?kind ?status ?qual ?value ?valueText ?mention ?unit ?sentence ?lost ?start
WHERE {
  %s
  OPTIONAL { ?f ep:indicator ?ind }
  OPTIONAL { ?f ep:refArea ?area }
  OPTIONAL { ?f ep:refPeriod ?period }
  OPTIONAL { ?f ep:kind ?kind }
  OPTIONAL { ?f ep:status ?status }
  OPTIONAL { ?f ep:qualifier ?qual }
  OPTIONAL { ?f ep:value ?value }
  OPTIONAL { ?f ep:valueText ?valueText }
  OPTIONAL { ?f ep:mention ?mention }
  OPTIONAL { ?f ep:unit ?unit }
  OPTIONAL { ?f prov:wasDerivedFrom ?sentence }
  OPTIONAL { ?f ep:valueLost ?lost }
  OPTIONAL { ?f ep:valueStart ?start }
}"""

#: how the facts are selected: ?node is substituted with the page's node
SELECTORS = {
    "indicator": "?f ep:indicator ?node .",
    "area": "{ ?f ep:refArea ?node } UNION { ?f ep:about ?node } ?f a ep:Fact .",
    "fact": "VALUES ?f { %s }",  # the node in N-Triples form (str of a pyoxigraph NamedNode)
}


def _v(row, key):
    t = row.get(key)
    return t.value if t is not None else None


def _short(node) -> str:
    """passage:p005-s01, or the last segment of another source's IRI (2023-headline.csv#row=5)."""
    if node is None:
        return ""
    from .terms import compact

    c = compact(node.value)
    return c if c != node.value else node.value.rstrip("/").rsplit("/", 1)[-1]


def _units(kg) -> dict:
    cache = getattr(kg, "_econplan_units", None)
    if cache is None:
        cache = N.units(kg)
        try:
            kg._econplan_units = cache
        except AttributeError:
            pass
    return cache


def fact_rows(kg, terms: Terms, node, selector: str) -> list[dict]:
    """One row per fact selected by ``selector`` (a key of SELECTORS), unique by fact."""
    lg = terms.lang
    units = _units(kg)
    rows, seen = [], set()
    where = SELECTORS[selector] % node if selector == "fact" else SELECTORS[selector]
    for r in kg.select(FACTS_QUERY % where, substitutions={ox.Variable("node"): node}):
        f = r["f"]
        if f in seen:
            continue
        seen.add(f)
        unit = units.get(_v(r, "unit") or "", N.Unit(symbol=""))
        words = _v(r, "valueText")
        if words is not None and N.parse(words) is None and r.get("value") is not None:  # 十, 首, 百
            rd = N.readable_words(words, _v(r, "value"), unit, qualifier=_v(r, "qual"), kind=_v(r, "kind"), lang=lg)
        else:
            if words is not None:
                value, mention = words, None
            else:
                value, mention = _v(r, "value"), _v(r, "mention")
            rd = N.readable(value, unit, qualifier=_v(r, "qual"), kind=_v(r, "kind"), lang=lg, mention=mention)
        area, ind, sentence = r.get("area"), r.get("ind"), r.get("sentence")
        status = _v(r, "status")
        rows.append({
            "fact": terms.value(f), "node": f, "sentence_node": sentence,
            "indicator": terms.value(ind) if ind is not None else None,
            "indicator_iri": ind.value if ind is not None else "",
            "area": terms.value(area) if area is not None else None,
            "area_iri": area.value if area is not None else "",
            "period": _v(r, "period") or "",
            "kind": N.kind_label(_v(r, "kind"), lg) if r.get("kind") is not None else "",
            "kind_slug": N.slug(_v(r, "kind")) if r.get("kind") is not None else "",
            "status": N.status_label(status, lg) if status else "",
            "status_slug": N.slug(status) if status else "",
            "qualifier": rd.qualifier if r.get("qual") is not None else "",
            "text": rd.text, "note": rd.note, "written": rd.written,
            "base_value": rd.base_value, "base": unit.base, "symbol": unit.symbol,
            "sort": str(rd.base_value) if rd.base_value is not None else "",
            "sentence": terms.value(sentence) if sentence is not None else None,
            "sentence_short": _short(sentence),
            "order": _int_of(r.get("start")) if r.get("start") is not None else 10 ** 9,
        })
    rows.sort(key=lambda x: (x["indicator"].text if x["indicator"] else "", x["period"],
                             x["area"].text if x["area"] else "", x["order"]))
    return rows


def _chart_panels(rows: list[dict], lang: str, apart: frozenset = frozenset()) -> list[dict]:
    """One chart per (kind, unit base) with at least two values: x the period, colour the area,
    dashed targets; values divided for a readable axis (numbers.axis_scale).  Areas in ``apart``
    (the country, provinces) get charts of their own: on one axis with cities, the country's
    126万亿元 would flatten every city's line."""
    groups: "OrderedDict[tuple, list]" = OrderedDict()
    for r in rows:
        if r["base_value"] is None or not r["period"]:
            continue
        wide = bool(r["area"] and r["area"].href and r["area"].href.rsplit("/", 1)[-1] in apart)
        groups.setdefault((r["kind_slug"], r["base"], r["symbol"] if r["base"] == "" else "", wide),
                          []).append(r)
    panels = []
    for (kind, base, symbol, wide), rs in sorted(groups.items(), key=lambda kv: (kv[0][3], -len(kv[1]))):
        if len(rs) < 2 or (wide and len({r["period"][:4] for r in rs}) < 2):
            continue  # (the country alone in one year says nothing a table does not)
        scale = N.axis_scale([r["base_value"] for r in rs], base, lang, symbol or rs[0]["symbol"])
        points = [{
            "period": r["period"][:4], "area": r["area"].text if r["area"] else "",
            "status": r["status"], "value": float(Decimal(r["base_value"]) / scale.divisor),
            "label": r["text"],
        } for r in rs]
        title = rs[0]["kind"] or ""
        panels.append({"title": title, "axis": scale.title, "points": points})
    return panels[:3]


def _wide_areas(kg) -> frozenset:
    """The codes of the areas above a city (the country, provinces and autonomous regions; not the
    province-level municipalities, which are cities), charted apart from cities."""
    return frozenset(q.subject.value.rsplit("/", 1)[-1] for t in ("country", "province", "autonomous region")
                     for q in kg.store.quads_for_pattern(None, V.EP.areaType, V.area_type(t), None))


def indicator_view(kg, terms: Terms, node) -> dict:
    rows = fact_rows(kg, terms, node, "indicator")
    subs = []
    for s in terms.subjects(V.SKOS.broader, node):
        n = len(kg.select("SELECT ?node ?f WHERE { ?f ep:indicator ?node }", substitutions={ox.Variable("node"): s}))
        subs.append({"ind": terms.value(s), "facts": n})
    subs.sort(key=lambda x: x["ind"].text)
    broader = [terms.value(b) for b in terms.objects(node, V.SKOS.broader)]
    # plan status: per area and year, what the report gives (actual, target) and the plan
    # assessment (ep:PlanAssessment: met / unmet, the reason for a shortfall)
    cells: "OrderedDict[tuple, dict]" = OrderedDict()
    for r in rows:
        key = (r["area_iri"], r["period"][:4])
        c = cells.setdefault(key, _status_cell(r["area"], r["period"][:4]))
        (c["actual"] if r["status_slug"] == "actual" else c["target"]).append(r["text"])
    for a in kg.select(PLAN_QUERY, substitutions={ox.Variable("node"): node}):
        area, year = a.get("area"), (_v(a, "year") or "")[:4]
        key = (area.value if area is not None else "", year)
        c = cells.setdefault(key, _status_cell(terms.value(area) if area is not None else None, year))
        c["plan_status"] = N.plan_status_label(a["status"].value, terms.lang)
        c["plan_status_slug"] = N.slug(a["status"].value)
        c["assessment"] = terms.value(a["a"])
        reason = _pick(terms.objects(a["a"], V.EP.shortfallReason), terms.lang)
        c["reason"] = reason
    status_rows = sorted(cells.values(), key=lambda c: (c["area"].text if c["area"] else "", c["year"]))
    return {"rows": rows, "subs": subs, "broader": broader, "status_rows": status_rows,
            "chart": _chart_panels(rows, terms.lang, _wide_areas(kg))}


PLAN_QUERY = """
SELECT ?node ?a ?area ?year ?status WHERE {
  ?a ep:assessedIndicator ?node ; ep:planStatus ?status .
  OPTIONAL { ?a ep:refArea ?area }
  OPTIONAL { ?a ep:refPeriod ?year }
}"""


def _status_cell(area, year: str) -> dict:
    return {"area": area, "year": year, "actual": [], "target": [], "plan_status": None,
            "plan_status_slug": "", "assessment": None, "reason": None}


def _pick(literals: list, lang: str) -> str | None:
    """The literal in ``lang``, else any."""
    best = None
    for lit in literals:
        if isinstance(lit, ox.Literal):
            if (lit.language or "").startswith(lang):
                return lit.value
            best = best or lit.value
    return best


def area_view(kg, terms: Terms, node) -> dict:
    rows = fact_rows(kg, terms, node, "area")
    groups: "OrderedDict[str, dict]" = OrderedDict()
    for r in rows:
        key = r["indicator_iri"]
        g = groups.setdefault(key, {"indicator": r["indicator"], "rows": []})
        g["rows"].append(r)
    ordered = [r for g in sorted(groups.values(), key=lambda g: g["indicator"].text if g["indicator"] else "")
               for r in g["rows"]]
    assessments = []
    for a in kg.select(AREA_PLAN_QUERY, substitutions={ox.Variable("node"): node}):
        assessments.append({
            "indicator": terms.value(a["ind"]), "year": (_v(a, "year") or "")[:4],
            "plan_status": N.plan_status_label(a["status"].value, terms.lang),
            "plan_status_slug": N.slug(a["status"].value), "assessment": terms.value(a["a"]),
            "reason": _pick(terms.objects(a["a"], V.EP.shortfallReason), terms.lang)})
    assessments.sort(key=lambda x: (x["year"], x["plan_status_slug"] != "unmet", x["indicator"].text))
    named = named_things(kg, terms, node)
    by_report = any(V.EP.Report in terms.objects(r, V.RDF_TYPE)
                    for r in terms.subjects(V.DCTERMS.spatial, node))
    return {"groups": list(groups.values()), "rows": ordered, "total": len(rows),
            "named": named, "named_total": sum(len(g["things"]) for g in named), "named_by_report": by_report,
            "assessments": assessments}


AREA_PLAN_QUERY = """
SELECT ?node ?a ?ind ?year ?status WHERE {
  ?a a ep:PlanAssessment ; ep:refArea ?node ; ep:assessedIndicator ?ind ; ep:planStatus ?status .
  OPTIONAL { ?a ep:refPeriod ?year }
}"""


#: the kinds of named things an area page lists, most specific class first (a pilot is typed
#: ep:Pilot, ep:Programme and ep:Policy: it is shown once, as a pilot); the order of the groups
NAMED_KINDS = ("Project", "Zone", "Organization", "Event", "Pilot", "Programme", "Policy", "Platform")
_KIND_PRIORITY = ("Pilot", "Programme", "Policy", "Project", "Zone", "Organization", "Event", "Platform")

NAMED_QUERY = """
SELECT DISTINCT ?node ?e ?cls ?district WHERE {
  { ?e ep:district ?node }
  UNION
  { ?report a ep:Report ; dcterms:spatial ?node . ?e ep:report ?report }
  ?e a ?cls .
  VALUES ?cls { %s }
  OPTIONAL { ?e ep:district ?district }
}""" % " ".join(f"ep:{k}" for k in NAMED_KINDS)


def named_things(kg, terms: Terms, node) -> list[dict]:
    """The named things located in an area, grouped by kind: those the text places in it
    (ep:district) and, for an area a report is about (its dcterms:spatial), everything that
    report names. A thing placed in another division shows it."""
    found: "dict[ox.NamedNode, dict]" = {}
    for r in kg.select(NAMED_QUERY, substitutions={ox.Variable("node"): node}):
        e = r["e"]
        item = found.setdefault(e, {"classes": set(), "districts": set()})
        item["classes"].add(r["cls"].value[len(V.DEF):])
        if r.get("district") is not None and r["district"] != node:
            item["districts"].add(r["district"])
    groups: "dict[str, list]" = {k: [] for k in NAMED_KINDS}
    for e, item in found.items():
        kind = next(k for k in _KIND_PRIORITY if k in item["classes"])
        groups[kind].append({"thing": terms.value(e),
                             "districts": sorted((terms.value(d) for d in item["districts"]),
                                                 key=lambda v: v.text)})
    out = []
    for kind in NAMED_KINDS:
        items = sorted(groups[kind], key=lambda x: x["thing"].text)
        if items:
            out.append({"kind": kind.lower(), "class": terms.value(V.EP[kind]), "things": items})
    return out


def about_view(kg, terms: Terms, node) -> dict:
    """A project, policy or event: its sentences (its own, then its facts'), its facts, district,
    domain and work area (its own, else its facts')."""
    rows = fact_rows(kg, terms, node, "area")
    sources = list(terms.objects(node, V.PROV.wasDerivedFrom))
    for r in sorted(rows, key=lambda x: x["order"]):
        sources.append(r["sentence_node"])
    sentences, seen = [], set()
    for s in sources:
        if s is None or s in seen:
            continue
        seen.add(s)
        exact = terms.one(s, V.OA.exact)
        if isinstance(exact, ox.Literal):
            sentences.append({"passage": terms.value(s), "text": exact.value})
    district = [terms.value(d) for d in terms.objects(node, V.EP.district)]
    domain = [terms.value(d) for d in terms.objects(node, V.EP.domain)]
    work_nodes = list(terms.objects(node, V.EP.workArea))
    if not work_nodes:
        for r in rows:
            for w in terms.objects(r["node"], V.EP.workArea):
                if w not in work_nodes:
                    work_nodes.append(w)
    work = [terms.value(w) for w in work_nodes]
    return {"rows": rows, "sentences": sentences, "district": district, "domain": domain, "work": work}
