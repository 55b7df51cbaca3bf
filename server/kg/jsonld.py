"""Compact JSON-LD for entity pages and exports: RDF quads or triples -> a JSON-LD document with
an ``@context`` of the usual prefixes (ep:, skos:, prov:, dcterms:, schema:, qb: …).

The document is built directly from the terms (no JSON-LD processor, no network): keys are
compact IRIs (``ep:indicator``), ``rdf:type`` is ``@type``, IRIs are ``{"@id": "indicator:gdp"}``,
literals keep their lexical form exactly (``{"@value": "5.0", "@type": "xsd:decimal"}``, never a
JSON number, so nothing is rounded or re-written), language-tagged strings carry ``@language``.
Expanding the result gives back the same RDF graph (tested with rdflib and pyoxigraph).
"""
from __future__ import annotations

import json

import pyoxigraph as ox

BASE = "https://w3id.org/econplan/"
REPORT_BASE = BASE + "id/hangzhou/2023-plan"

# Prefix -> namespace. Every key ends a JSON-LD 1.1 "simple term definition" whose IRI ends in
# / or #, so it may be used as a prefix both ways.
PREFIXES = {
    "ep": BASE + "def#",
    "eps": BASE + "shapes#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "qb": "http://purl.org/linked-data/cube#",
    "oa": "http://www.w3.org/ns/oa#",
    "sh": "http://www.w3.org/ns/shacl#",
    "qudt": "http://qudt.org/schema/qudt/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "wd": "http://www.wikidata.org/entity/",
    "indicator": BASE + "id/indicator/",
    "unit": BASE + "id/unit/",
    "district": BASE + "id/district/",
    "fact": REPORT_BASE + "/fact/",
    "passage": REPORT_BASE + "/passage/",
    "domain": REPORT_BASE + "/domain/",
    "workarea": REPORT_BASE + "/workarea/",
    "project": BASE + "id/hangzhou/project/",
    "policy": BASE + "id/hangzhou/policy/",
    "graph": BASE + "graph/",
}

RDF_TYPE = PREFIXES["rdf"] + "type"
XSD_STRING = PREFIXES["xsd"] + "string"
RDF_LANGSTRING = PREFIXES["rdf"] + "langString"

# Longest namespaces first, so that fact:… wins over a shorter prefix of the same IRI.
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


def context(prefixes: dict | None = None) -> dict:
    """The ``@context`` object (a copy; callers may add terms)."""
    return dict(prefixes or PREFIXES)


def compact_iri(iri: str, prefixes=None) -> str:
    """``https://w3id.org/econplan/def#value`` -> ``ep:value``; an IRI no prefix covers, or whose
    local part would not read back as the same IRI, stays whole."""
    items = _BY_LENGTH if prefixes is None else sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
    for prefix, ns in items:
        if iri.startswith(ns) and len(iri) > len(ns):
            local = iri[len(ns):]
            if local.startswith("//"):  # "p://x" would be read as an absolute IRI
                continue
            return f"{prefix}:{local}"
    return iri


def _id(term, prefixes) -> str:
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return compact_iri(term.value, prefixes)


def _object(term, prefixes):
    if isinstance(term, (ox.NamedNode, ox.BlankNode)):
        return {"@id": _id(term, prefixes)}
    if isinstance(term, ox.Literal):
        if term.language:
            return {"@value": term.value, "@language": term.language}
        dt = term.datatype.value
        if dt == XSD_STRING:
            return term.value
        return {"@value": term.value, "@type": compact_iri(dt, prefixes)}
    raise TypeError(f"a JSON-LD document cannot hold {term!r}")  # RDF-star triples


def _nodes(triples, prefixes) -> list[dict]:
    nodes: dict[str, dict] = {}
    for s, p, o in triples:
        sid = _id(s, prefixes)
        node = nodes.setdefault(sid, {"@id": sid})
        if p.value == RDF_TYPE and isinstance(o, ox.NamedNode):
            key, value = "@type", compact_iri(o.value, prefixes)
        else:
            key, value = compact_iri(p.value, prefixes), _object(o, prefixes)
        have = node.get(key)
        if have is None:
            node[key] = value
        elif isinstance(have, list):
            if value not in have:
                have.append(value)
        elif have != value:
            node[key] = [have, value]
    out = []
    for sid in sorted(nodes):
        node = nodes[sid]
        for v in node.values():
            if isinstance(v, list):
                v.sort(key=lambda x: json.dumps(x, ensure_ascii=False, sort_keys=True))
        head = {k: node[k] for k in ("@id", "@type") if k in node}
        out.append({**head, **{k: node[k] for k in sorted(node) if k not in head}})
    return out


def _split(statements):
    """(graph IRI or None, triple) for quads and triples alike."""
    for st in statements:
        if isinstance(st, ox.Quad):
            g = st.graph_name
            yield (None if isinstance(g, ox.DefaultGraph) else g), (st.subject, st.predicate, st.object)
        elif isinstance(st, ox.Triple):
            yield None, (st.subject, st.predicate, st.object)
        else:
            s, p, o, *rest = st
            g = rest[0] if rest else None
            yield (None if g is None or isinstance(g, ox.DefaultGraph) else g), (s, p, o)


def to_jsonld(statements, *, keep_graphs: bool = False, prefixes: dict | None = None,
              subject: str | None = None) -> dict:
    """Compact JSON-LD of ``statements`` (pyoxigraph Quads, Triples or (s, p, o[, g]) tuples).

    By default the named graphs are merged (as a Turtle export does); ``keep_graphs=True`` keeps
    each as ``{"@id": graph, "@graph": [...]}``. With ``subject`` (an IRI) and only that subject's
    node, the document is that node itself with the ``@context`` beside its keys; otherwise it is
    ``{"@context": …, "@graph": [nodes]}``.
    """
    prefixes = prefixes or PREFIXES
    default, named = [], {}
    seen = set()
    for g, t in _split(statements):
        if keep_graphs and g is not None:
            named.setdefault(_id(g, prefixes), []).append(t)
        else:
            key = (t[0], t[1], t[2])
            if key not in seen:
                seen.add(key)
                default.append(t)
    graph = _nodes(default, prefixes)
    for gid in sorted(named):
        graph.append({"@id": gid, "@graph": _nodes(named[gid], prefixes)})
    ctx = context(prefixes)
    if subject is not None and not named and len(graph) == 1 and \
            graph[0]["@id"] == compact_iri(subject, prefixes):
        return {"@context": ctx, **graph[0]}
    return {"@context": ctx, "@graph": graph}


def dumps(doc: dict) -> str:
    """The document as UTF-8-friendly, indented JSON, ending with a newline."""
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
