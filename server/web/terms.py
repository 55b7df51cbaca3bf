"""RDF terms as the pages show them: labels, links, values, and statistics cached per data version."""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from ..kg import vocab as V
from .i18n import lang

# -- terms: labels, links, display -------------------------------------------------------

LABEL_PREDICATES = (V.RDFS_LABEL, V.SKOS.prefLabel, V.SCHEMA.name, V.DCTERMS.title, V.SH.name)
BASE = V.BASE
SHAPES_NS = BASE + "shapes#"
SHAPES_DOC = BASE + "shapes"
ONTOLOGY_DOC = BASE + "def"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
NUMERIC_TYPES = {V.XSD.integer.value, V.XSD.decimal.value, V.XSD.double.value, V.XSD.float.value,
                 V.XSD.int.value, V.XSD.long.value, V.XSD.nonNegativeInteger.value,
                 V.XSD.positiveInteger.value}
_PREFIXES = sorted((V.PREFIXES | {"eps": BASE + "shapes#"}).items(), key=lambda kv: -len(kv[1]))
_LOCAL_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def compact(iri: str) -> str:
    """prefix:local where a known prefix fits, else the IRI."""
    for p, ns in _PREFIXES:
        if iri.startswith(ns):
            local = iri[len(ns):]
            if local and _LOCAL_RE.match(local) and not local.endswith("."):
                return f"{p}:{local}"
    return iri


def local_url(iri: str) -> str | None:
    """The page on this site of an IRI of the dataset's namespace, else None."""
    if iri.startswith(V.ID):
        rest = iri[len(V.ID):]
        if rest and "#" not in rest:
            return "/id/" + quote(rest, safe="/:@!$&'()*+,;=-._~")
    elif iri.startswith(V.DEF):
        term = iri[len(V.DEF):]
        return "/def/" + quote(term, safe="-._~") if term else "/def"
    elif iri == ONTOLOGY_DOC:
        return "/def"
    elif iri.startswith(SHAPES_NS):
        return "/shapes#" + quote(iri[len(SHAPES_NS):], safe="-._~")
    elif iri == SHAPES_DOC:
        return "/shapes"
    if iri.startswith(BASE):
        rest = iri[len(BASE):]
        if rest.startswith("source/") and "#" not in rest:
            return "/" + quote(rest, safe="/:@!$&'()*+,;=-._~")
        return "/resource?" + urlencode({"iri": iri})
    return None


@dataclass
class Value:
    """A term as the templates show it."""
    kind: str                      # iri, literal, bnode
    text: str
    href: str | None = None
    compact: str | None = None     # prefix:local of an IRI
    lang: str | None = None
    datatype: str | None = None
    numeric: bool = False
    external: bool = False
    children: list = field(default_factory=list)   # [(predicate Value, [Value])] of a blank node
    items: list | None = None      # the members of an RDF list
    note: str | None = None        # a reading of a number in readable units (2.0059万亿元)


class Terms:
    """Labels and links of the terms of one page, cached for the request."""

    def __init__(self, kg):
        self.kg = kg
        self.store = kg.store
        self.lang = lang()
        self._labels: dict[str, str | None] = {}
        self._exists: dict[str, bool] = {}

    def objects(self, s, p) -> list:
        seen, out = set(), []
        for q in self.store.quads_for_pattern(s, p, None, None):
            if q.object not in seen:
                seen.add(q.object)
                out.append(q.object)
        return out

    def one(self, s, p):
        for q in self.store.quads_for_pattern(s, p, None, None):
            return q.object
        return None

    def subjects(self, p, o) -> list:
        seen, out = set(), []
        for q in self.store.quads_for_pattern(None, p, o, None):
            if q.subject not in seen:
                seen.add(q.subject)
                out.append(q.subject)
        return out

    def exists(self, iri: str) -> bool:
        if iri not in self._exists:
            try:
                node = ox.NamedNode(iri)
            except ValueError:
                self._exists[iri] = False
            else:
                self._exists[iri] = (next(iter(self.store.quads_for_pattern(node, None, None, None)), None)
                                     is not None or
                                     next(iter(self.store.quads_for_pattern(None, None, node, None)), None)
                                     is not None)
        return self._exists[iri]

    def label(self, term, lang_: str | None = None) -> str | None:
        """The label of a term in the page language (else another language), or None."""
        if not isinstance(term, ox.NamedNode):
            return None
        want = lang_ or self.lang
        key = term.value + "@" + want
        if key in self._labels:
            return self._labels[key]
        best, rank = None, 99
        for p_i, p in enumerate(LABEL_PREDICATES):
            for q in self.store.quads_for_pattern(term, p, None, None):
                o = q.object
                if not isinstance(o, ox.Literal):
                    continue
                lt = (o.language or "").lower()
                r = (0 if lt.startswith(want) else 2 if not lt else 1) * 10 + p_i
                if r < rank:
                    best, rank = o.value, r
        self._labels[key] = best
        return best

    def name(self, term) -> str:
        if isinstance(term, ox.NamedNode):
            return self.label(term) or compact(term.value)
        if isinstance(term, ox.BlankNode):
            return "_:" + term.value
        return term.value if isinstance(term, ox.Literal) else str(term)

    def href(self, iri: str) -> tuple[str | None, bool]:
        url = local_url(iri)
        if url is not None:
            if url.startswith(("/shapes", "/def")) or self.exists(iri):
                return url, False
            return None, False
        if iri.startswith(("http://", "https://")):
            return iri, True
        return None, False

    def value(self, term, depth: int = 0) -> Value:
        if isinstance(term, ox.NamedNode):
            href, external = self.href(term.value)
            label = self.label(term)
            c = compact(term.value)
            return Value("iri", label or c, href=href, compact=c if label else None,
                         external=external)
        if isinstance(term, ox.Literal):
            dt = term.datatype.value if term.datatype else None
            shown_dt = None if dt in (None, XSD_STRING, RDF_LANGSTRING) else compact(dt)
            return Value("literal", term.value, lang=term.language, datatype=shown_dt,
                         numeric=dt in NUMERIC_TYPES)
        if isinstance(term, ox.BlankNode):
            items = self.rdf_list(term)
            if items is not None:
                return Value("bnode", "", items=[self.value(i, depth + 1) for i in items])
            v = Value("bnode", "_:" + term.value)
            if depth < 4:
                v.children = self.describe_bnode(term, depth + 1)
            return v
        if isinstance(term, ox.Triple):
            return Value("literal", f"<< {term} >>")
        return Value("literal", str(term))

    def rdf_list(self, node) -> list | None:
        items, seen = [], set()
        while isinstance(node, ox.BlankNode) and node not in seen:
            seen.add(node)
            first = self.one(node, V.RDF.first)
            if first is None:
                return None
            items.append(first)
            node = self.one(node, V.RDF.rest)
        return items if node == V.RDF.nil else None

    def describe_bnode(self, node, depth: int) -> list:
        groups: "OrderedDict[ox.NamedNode, list]" = OrderedDict()
        for q in self.store.quads_for_pattern(node, None, None, None):
            groups.setdefault(q.predicate, [])
            if q.object not in groups[q.predicate]:
                groups[q.predicate].append(q.object)
        return [(self.value(p), [self.value(o, depth) if p.value not in CODE_PREDICATES or
                                 not isinstance(o, ox.Literal) else Value("code", _dedent(o.value))
                                 for o in os_])
                for p, os_ in sorted(groups.items(), key=lambda kv: _pred_order(kv[0]))]


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text.strip("\n")).strip()


#: predicates whose values are SPARQL text, shown as code
CODE_PREDICATES = {V.SH.select.value, V.SH.ask.value, V.SH.construct.value, V.SH.update.value}

_PRED_FIRST = [V.RDF_TYPE.value, V.RDFS_LABEL.value, V.SKOS.prefLabel.value, V.SCHEMA.name.value,
               V.SKOS.altLabel.value, V.RDFS_COMMENT.value]


def _pred_order(p) -> tuple:
    v = p.value
    return (_PRED_FIRST.index(v) if v in _PRED_FIRST else len(_PRED_FIRST), compact(v))


# -- statistics (cached per data version) ---------------------------------------------------

_CACHE: dict[tuple, object] = {}


def _cached(kind: str, kg, make):
    key = (kind, kg.version, id(kg))
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = make()
    return _CACHE[key]


def _stats(kg):
    return _cached("stats", kg, kg.stats)


def _graphs_with_prefix(kg, prefix: str) -> list:
    return sorted((gn for gn in kg.store.named_graphs()
                   if isinstance(gn, ox.NamedNode) and gn.value.startswith(prefix)),
                  key=lambda n: n.value)


def _used_prefixes(triples) -> dict:
    """The prefixes of V.PREFIXES (and eps:) that some IRI of ``triples`` uses."""
    iris = set()
    for tr in triples:
        for term in (tr.subject, tr.predicate, tr.object):
            if isinstance(term, ox.NamedNode):
                iris.add(term.value)
            elif isinstance(term, ox.Literal) and term.datatype is not None:
                iris.add(term.datatype.value)
    return {p: ns for p, ns in (V.PREFIXES | {"eps": SHAPES_NS}).items()
            if any(i.startswith(ns) for i in iris)}


def _pick_literal(objs: list, want: str) -> str | None:
    lits = [o for o in objs if isinstance(o, ox.Literal)]
    for o in lits:
        if (o.language or "").startswith(want):
            return o.value
    return lits[0].value if lits else None


def _int_of(term) -> int | None:
    try:
        return int(term.value) if isinstance(term, ox.Literal) else None
    except ValueError:
        return None


def _obj_key(o):
    if isinstance(o, ox.Literal):
        return (0, o.language or "", o.value)
    return (1, "", getattr(o, "value", str(o)))
