"""Search over the graph's named things, saved queries and the report's sentences.

One index is built per data version (:func:`index_for`): every labelled indicator, area,
project, policy, event, work area, domain and other named entity, every saved query's title and
description (zh and en, from the ``#+`` headers of ``queries/*.rq``), every sentence's text and
the questions the data cannot answer (docs/cannot-answer.yaml).
:func:`search` matches in Python over that index, so a user's text never reaches a SPARQL string
or a regular expression.

Matching is by substring over the whole label or sentence, not by word tokens, so Chinese needs
no spaces (生产总值 finds 地区生产总值); letters are compared case-insensitively and full-width
forms as their ASCII equivalents (ＧＤＰ finds GDP), one character for one, so that the match
offsets point into the text as stored. Several words separated by spaces must all occur.

Ranking inside a group: a label equal to the query, then a label starting with it, then a label
containing it, then a match in other text (a sentence, a query's description); shorter labels
first within a tier. Each group is capped (``limit``) and reports its full count.
"""
from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import KGError

MAX_QUERY_LENGTH = 100
DEFAULT_LIMIT = 10
MAX_LIMIT = 100

EP = "https://w3id.org/econplan/def#"
SCHEMA = "https://schema.org/"

# Groups in display order, with their zh/en headings.
GROUPS = {
    "cannot": {"zh": "数据无法回答的问题", "en": "What the data cannot answer"},
    "indicator": {"zh": "指标", "en": "Indicators"},
    "area": {"zh": "地区", "en": "Areas"},
    "project": {"zh": "项目", "en": "Projects"},
    "policy": {"zh": "政策", "en": "Policies"},
    "event": {"zh": "事件", "en": "Events"},
    "workarea": {"zh": "工作领域", "en": "Work areas"},
    "domain": {"zh": "投资领域", "en": "Investment domains"},
    "entity": {"zh": "其他名称", "en": "Other named things"},
    "query": {"zh": "保存的查询", "en": "Saved queries"},
    "sentence": {"zh": "报告原文", "en": "Sentences of the report"},
}

# A class (or a class it is a subclass of) -> group.  Checked in this order.
_CLASS_GROUPS = [
    (EP + "Indicator", "indicator"),
    (EP + "District", "area"),
    (SCHEMA + "AdministrativeArea", "area"),
    ("http://schema.org/AdministrativeArea", "area"),
    (EP + "Project", "project"),
    (SCHEMA + "Project", "project"),
    (EP + "Policy", "policy"),
    (EP + "Event", "event"),
    (SCHEMA + "Event", "event"),
    ("http://schema.org/Event", "event"),
    (EP + "WorkArea", "workarea"),
    (EP + "Domain", "domain"),
]

# Labelled things that are not named entities of the report (its structure, the vocabulary).
_NOT_ENTITIES = {EP + c for c in (
    "Fact", "Observation", "Target", "Passage", "Sentence", "Paragraph", "Report", "Unit",
    "SourceRow", "SourceGap", "FactKind", "Qualifier", "FactStatus", "PlanStatus", "AreaType",
    "AdminLevel", "PlanAssessment")}

# Label properties, best first (the display label is the first one present per language).
_LABEL_PROPS = [
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    SCHEMA + "name",
    "http://www.w3.org/2004/02/skos/core#altLabel",
    EP + "nbsName",
]

_ENTITY_QUERY = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?s ?type ?p ?label WHERE {
  VALUES ?p { %s }
  ?s a ?type ; ?p ?label .
  FILTER (isIRI(?s) && isLiteral(?label))
}
""" % " ".join(f"<{p}>" for p in _LABEL_PROPS)

#: an area's parent, to tell apart areas of one name (鼓楼区 of 南京, 徐州, 开封, 福州)
_WITHIN_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?s ?label WHERE {
  ?s a <%sDistrict> ; <%scontainedInPlace> ?p . ?p rdfs:label ?label
  FILTER (isIRI(?s) && isLiteral(?label))
}
""" % (EP, SCHEMA)

_CLASS_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?c ?super WHERE { ?c rdfs:subClassOf+ ?super FILTER(isIRI(?c) && isIRI(?super)) }
"""

_SENTENCE_QUERY = """
PREFIX ep:   <https://w3id.org/econplan/def#>
PREFIX oa:   <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?s ?text (COUNT(DISTINCT ?f) AS ?facts) WHERE {
  ?s a ep:Sentence ; oa:exact ?text .
  OPTIONAL { ?f prov:wasDerivedFrom ?s ; ep:indicator ?i }
} GROUP BY ?s ?text
"""


class SearchError(KGError):
    status = 400
    code = "bad-search"


# -- folding: one character for one, so offsets stay valid --------------------------------

def _fold_char(c: str) -> str:
    n = unicodedata.normalize("NFKC", c)
    if len(n) != 1:
        n = c
    f = n.casefold()
    if len(f) != 1:
        f = n.lower()
        if len(f) != 1:
            f = n
    return f


def fold(text: str) -> str:
    """``text`` case-folded and with full-width forms as ASCII, of the same length."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)


def normalize_query(q: str | None) -> str:
    """The query as searched: stripped, inner whitespace collapsed; an error if too long or empty."""
    q = " ".join((q or "").split())
    if not q:
        raise SearchError("the search text is empty")
    if len(q) > MAX_QUERY_LENGTH:
        raise SearchError(f"the search text is {len(q)} characters long; at most {MAX_QUERY_LENGTH} are searched")
    return q


def _spans(folded_text: str, terms: list[str]) -> list[tuple[int, int]] | None:
    """Every occurrence of every term, merged; None if some term does not occur. Where the
    terms occur together as the query was written, those occurrences."""
    if len(terms) > 1 and " ".join(terms) in folded_text:
        terms = [" ".join(terms)]
    found = []
    for t in terms:
        start = folded_text.find(t)
        if start < 0:
            return None
        while start >= 0:
            found.append((start, start + len(t)))
            start = folded_text.find(t, start + 1)
    found.sort()
    merged: list[list[int]] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


# -- the index -------------------------------------------------------------------------------

@dataclass
class _Text:
    text: str
    folded: str
    lang: str
    kind: str  # "label" (ranked exact/prefix/substring) or "text" (ranked as other text)
    field: str = ""


@dataclass
class _Item:
    group: str
    key: str  # IRI, or the saved query's slug
    labels: dict = field(default_factory=dict)  # lang -> display label
    texts: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class SearchIndex:
    """The searchable texts of one data version."""
    version: str
    items: list

    def __len__(self) -> int:
        return len(self.items)


def _group_of(types: set[str], supers: dict[str, set[str]]) -> str | None:
    closure = set(types)
    for t in types:
        closure |= supers.get(t, set())
    for cls, group in _CLASS_GROUPS:
        if cls in closure:
            return group
    if closure & _NOT_ENTITIES:
        return None
    # other named things: instances of a class of the econplan or schema.org vocabularies
    if any(t.startswith((EP, SCHEMA, "http://schema.org/", "http://xmlns.com/foaf/0.1/"))
           for t in types):
        return "entity"
    return None


ID_BASE = "https://w3id.org/econplan/id/"


def read_query_headers(folder: Path) -> list[dict]:
    """slug, title and description (zh/en) of every ``*.rq`` in ``folder``, from its ``#+`` header."""
    out = []
    for path in sorted(Path(folder).glob("*.rq")):
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#+"):
                break
            lines.append(line[3:] if line.startswith("#+ ") else "")
        try:
            header = yaml.safe_load("\n".join(lines)) or {}
        except yaml.YAMLError:
            continue  # the query library reports malformed headers; search just skips them
        if not isinstance(header, dict):
            continue

        def both(value):
            if isinstance(value, dict):
                return {k: str(v) for k, v in value.items() if k in ("zh", "en") and v}
            return {"en": str(value)} if value else {}
        out.append({"slug": path.stem, "title": both(header.get("title")),
                    "description": both(header.get("description"))})
    return out


def build_index(kg, queries_dir: Path | None = None, unanswered: list[dict] | None = None) -> SearchIndex:
    """Read every searchable text from ``kg`` (anything with ``select(sparql)`` returning rows of
    pyoxigraph terms, and a ``version``), from the saved queries in ``queries_dir`` and from the
    questions the data cannot answer (``unanswered``: docs/cannot-answer.yaml's questions, each
    with an ``id`` and zh/en ``question`` and ``why``), so that a search for what the report does
    not give (各区 投资) says so."""
    supers: dict[str, set[str]] = {}
    for r in kg.select(_CLASS_QUERY):
        supers.setdefault(r["c"].value, set()).add(r["super"].value)

    types: dict[str, set[str]] = {}
    labels: dict[str, list[tuple[int, str, str]]] = {}
    prop_rank = {p: i for i, p in enumerate(_LABEL_PROPS)}
    for r in kg.select(_ENTITY_QUERY):
        s = r["s"].value
        types.setdefault(s, set()).add(r["type"].value)
        lit = r["label"]
        lang = getattr(lit, "language", None) or ""
        labels.setdefault(s, []).append((prop_rank[r["p"].value], lang, lit.value))

    items = []
    for s, ts in types.items():
        group = _group_of(ts, supers)
        if group is None or s.startswith(EP):  # terms of the ontology are not entities
            continue
        if group == "entity" and not s.startswith(ID_BASE):  # the dataset's publisher, ...
            continue
        item = _Item(group=group, key=s)
        seen = set()
        for rank, lang, text in sorted(labels[s]):
            item.labels.setdefault(lang or "en", text)
            if (lang, text) in seen:
                continue
            seen.add((lang, text))
            item.texts.append(_Text(text, fold(text), lang, "label"))
        items.append(item)

    within: dict[str, dict[str, str]] = {}
    for r in kg.select(_WITHIN_QUERY):
        within.setdefault(r["s"].value, {})[getattr(r["label"], "language", None) or "en"] = r["label"].value
    for item in items:
        if item.group == "area" and item.key in within:
            item.extra["within"] = within[item.key]

    for r in kg.select(_SENTENCE_QUERY):
        s = r["s"].value
        text = r["text"].value
        items.append(_Item(group="sentence", key=s, labels={"zh": s.rsplit("/", 1)[-1]},
                           texts=[_Text(text, fold(text), "zh", "text", "text")],
                           extra={"facts": int(r["facts"].value)}))

    if queries_dir is not None and Path(queries_dir).is_dir():
        for h in read_query_headers(queries_dir):
            item = _Item(group="query", key=h["slug"], labels=dict(h["title"]) or {"en": h["slug"]})
            for lang, text in h["title"].items():
                item.texts.append(_Text(text, fold(text), lang, "label", "title"))
            item.texts.append(_Text(h["slug"], fold(h["slug"]), "", "label", "slug"))
            for lang, text in h["description"].items():
                item.texts.append(_Text(text, fold(text), lang, "text", "description"))
            items.append(item)
    for q in unanswered or []:
        item = _Item(group="cannot", key=q["id"], labels=dict(q["question"]))
        for lang, text in q["question"].items():
            item.texts.append(_Text(text, fold(text), lang, "label", "question"))
        for lang, text in q["why"].items():
            item.texts.append(_Text(text, fold(text), lang, "text", "why"))
        items.append(item)
    return SearchIndex(version=str(getattr(kg, "version", "")), items=items)


_cache: dict = {}
_cache_lock = threading.Lock()


def index_for(kg, queries_dir: Path | None = None, unanswered: list[dict] | None = None) -> SearchIndex:
    """The index of ``kg``'s data version, built once per version (and queries folder)."""
    key = (str(getattr(kg, "version", "")), str(queries_dir), bool(unanswered))
    with _cache_lock:
        hit = _cache.get("index")
        if hit is not None and hit[0] == key and getattr(kg, "version", None) is not None:
            return hit[1]
    index = build_index(kg, queries_dir, unanswered)
    with _cache_lock:
        _cache["index"] = (key, index)
    return index


# -- searching -------------------------------------------------------------------------------

TIERS = ("exact", "prefix", "substring", "text")


def _match_item(item: _Item, q: str, terms: list[str]):
    """The best (tier, text) of ``item`` for the query, or None."""
    best = None
    for t in item.texts:
        spans = _spans(t.folded, terms)
        if spans is None:
            continue
        if t.kind == "label":
            tier = 0 if t.folded == q else 1 if t.folded.startswith(q) else 2
        else:
            tier = 3
        cand = (tier, len(t.text), t, spans)
        if best is None or cand[:2] < best[:2]:
            best = cand
    return best


def snippet(text: str, spans: list[tuple[int, int]], width: int = 80) -> tuple[str, list[tuple[int, int]], bool, bool]:
    """At most ``width`` characters of ``text`` around its first span, the spans shifted into it,
    and whether text was cut at the start and at the end."""
    if len(text) <= width or not spans:
        return text, list(spans), False, False
    a, b = spans[0]
    start = max(0, min(a - (width - (b - a)) // 2, len(text) - width))
    end = min(len(text), start + width)
    shifted = [(max(x, start) - start, min(y, end) - start) for x, y in spans if y > start and x < end]
    return text[start:end], shifted, start > 0, end < len(text)


def search(index: SearchIndex, q: str, *, lang: str = "zh", limit: int = DEFAULT_LIMIT,
           groups: list[str] | None = None) -> dict:
    """Search ``index`` for ``q``.

    Returns ``{"query": q, "total": n, "groups": [{"type", "title", "total", "results": [...]}]}``
    with groups in the order of :data:`GROUPS` (only those with results). A result is
    ``{"type", "iri" (or "slug" for a saved query, "id" for a question the data cannot
    answer), "label" (display label in ``lang``), "text"
    (the text that matched), "lang" (its language), "field", "match" (exact|prefix|substring|text),
    "spans" ([[start, end], …] code-point offsets into text), "snippet" ({"text", "spans",
    "cut_start", "cut_end"})}`` plus ``"facts"`` (facts drawn from it) for a sentence.
    """
    q = normalize_query(q)
    if not isinstance(limit, int) or limit < 1:
        raise SearchError("limit must be a positive whole number")
    limit = min(limit, MAX_LIMIT)
    if groups is not None:
        bad = [g for g in groups if g not in GROUPS]
        if bad:
            raise SearchError(f"unknown result type {bad[0]!r}; one of {', '.join(GROUPS)}")
    fq = fold(q)
    terms = fq.split(" ")
    found: dict[str, list] = {}
    for item in index.items:
        if groups is not None and item.group not in groups:
            continue
        m = _match_item(item, fq, terms)
        if m is not None:
            found.setdefault(item.group, []).append((m, item))

    out_groups = []
    total = 0
    lang = lang if lang in ("zh", "en") else "zh"
    for g, titles in GROUPS.items():
        hits = found.get(g)
        if not hits:
            continue
        # labels: shorter first; other text (sentences): in the order of the report
        hits.sort(key=lambda h: (h[0][0], h[0][1] if h[0][0] < 3 else 0,
                                 h[0][2].text if h[0][0] < 3 else "", h[1].key))
        results = []
        for (tier, _, t, spans), item in hits[:limit]:
            # a label is shown whole (up to 200 characters), other text around its match
            snip, sspans, cut_a, cut_b = snippet(t.text, spans, 200 if t.kind == "label" else 80)
            r = {"type": g, {"query": "slug", "cannot": "id"}.get(g, "iri"): item.key,
                 "label": item.labels.get(lang) or next(iter(item.labels.values()), item.key),
                 "text": t.text, "lang": t.lang, "field": t.field or "label", "match": TIERS[tier],
                 "spans": [list(s) for s in spans],
                 "snippet": {"text": snip, "spans": [list(s) for s in sspans],
                             "cut_start": cut_a, "cut_end": cut_b}}
            r.update(item.extra)
            if isinstance(r.get("within"), dict):  # an area's parent, in the page's language
                r["within"] = r["within"].get(lang) or next(iter(r["within"].values()))
            results.append(r)
        total += len(hits)
        out_groups.append({"type": g, "title": titles[lang], "total": len(hits), "results": results})
    return {"query": q, "total": total, "groups": out_groups}


def highlight(text: str, spans, open_tag: str = "<mark>", close_tag: str = "</mark>", escape=None) -> str:
    """``text`` with each span wrapped in the tags; ``escape`` (e.g. ``html.escape``) is applied to
    the text between them, never to the tags."""
    esc = escape or (lambda s: s)
    out, pos = [], 0
    for a, b in spans:
        out.append(esc(text[pos:a]))
        out.append(open_tag + esc(text[a:b]) + close_tag)
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out)
