"""Entity pages and their content negotiation: /id/…, /source/…, /resource, /def/<term>, /def."""
from __future__ import annotations

import re

from collections import OrderedDict
from urllib.parse import urlencode

from flask import Response, render_template, request
import pyoxigraph as ox

from ..kg import vocab as V
from ..kg.errors import KGError, NotFoundError
from ..sparql.protocol import OX_GRAPH_FORMAT, Format, negotiate
from .app import get_kg
from .pages import bp, error_page
from .docs import _ontology_html
from . import views
from .terms import BASE, Terms, _graphs_with_prefix, _int_of, _obj_key, _pick_literal, _pred_order, _used_prefixes, compact


ENTITY_FORMATS = (
    Format("html", "text/html", ("application/xhtml+xml",)),
    Format("turtle", "text/turtle", ("application/x-turtle",)),
    Format("jsonld", "application/ld+json", ("application/json",)),
    Format("ntriples", "application/n-triples", ("text/plain",)),
)
SUFFIX_FORMAT = {".ttl": "turtle", ".jsonld": "jsonld", ".nt": "ntriples"}
FORMAT_SUFFIX = {v: k for k, v in SUFFIX_FORMAT.items()}


def _has_triples(kg, node) -> bool:
    return (next(iter(kg.store.quads_for_pattern(node, None, None, None)), None) is not None or
            next(iter(kg.store.quads_for_pattern(None, None, node, None)), None) is not None)


def _node(iri: str):
    try:
        return ox.NamedNode(iri)
    except ValueError:
        return None


def _resolve(base_iri: str, path: str, kg):
    """(IRI, forced format) for a path that may end in .ttl/.jsonld/.nt; 404 when unknown."""
    for suffix, fmt in SUFFIX_FORMAT.items():
        if path.endswith(suffix):
            node = _node(base_iri + path[: -len(suffix)])
            if node is not None and _has_triples(kg, node):
                return node, fmt
    node = _node(base_iri + path)
    if node is None or not _has_triples(kg, node):
        raise NotFoundError(f"nothing is known about <{base_iri + path}>")
    return node, None


def _entity_triples(kg, node) -> list:
    seen, out = set(), []
    for q in kg.describe(node.value):
        tr = ox.Triple(q.subject, q.predicate, q.object)
        if tr not in seen:
            seen.add(tr)
            out.append(tr)
    # blank nodes hanging off the resource (shapes, lists) travel with it
    frontier = [tr.object for tr in out if isinstance(tr.object, ox.BlankNode)]
    done = set()
    while frontier:
        b = frontier.pop()
        if b in done:
            continue
        done.add(b)
        for q in kg.store.quads_for_pattern(b, None, None, None):
            tr = ox.Triple(q.subject, q.predicate, q.object)
            if tr not in seen:
                seen.add(tr)
                out.append(tr)
                if isinstance(q.object, ox.BlankNode):
                    frontier.append(q.object)
    return out


def _rdf_response(triples: list, fmt: str, location: str | None) -> Response:
    media = next(f.media_type for f in ENTITY_FORMATS if f.name == fmt)
    kwargs = {"prefixes": _used_prefixes(triples)} if fmt == "turtle" else {}
    if fmt == "jsonld":  # compact, with an @context (server/kg/jsonld.py)
        from ..kg import jsonld

        body = jsonld.dumps(jsonld.to_jsonld(triples)).encode("utf-8")
    else:
        body = ox.serialize(triples, format=OX_GRAPH_FORMAT[fmt], **kwargs) or b""
    resp = Response(body, mimetype=media)
    resp.headers["Content-Type"] = f"{media}; charset=utf-8"
    if location:
        resp.headers["Content-Location"] = location
    return resp


def _serve_resource(node, forced: str | None, page_path: str):
    kg = get_kg()
    if forced:
        return _rdf_response(_entity_triples(kg, node), forced, None)
    fmt = negotiate(request.headers.get("Accept"), ENTITY_FORMATS, request.args.get("format"))
    if fmt.name != "html":
        resp = _rdf_response(_entity_triples(kg, node), fmt.name,
                             page_path + FORMAT_SUFFIX[fmt.name] if "?" not in page_path else None)
    else:
        resp = Response(_entity_html(kg, node, page_path), mimetype="text/html")
    resp.vary.add("Accept")
    return resp


@bp.route("/id/<path:path>")
def entity(path: str):
    kg = get_kg()
    try:
        node, forced = _resolve(V.ID, path, kg)
    except NotFoundError as exc:
        return _not_found(exc.message)
    return _serve_resource(node, forced, "/id/" + path[: -len(FORMAT_SUFFIX[forced])] if forced else "/id/" + path)


@bp.route("/source/<path:path>")
def source_resource(path: str):
    kg = get_kg()
    try:
        node, forced = _resolve(BASE + "source/", path, kg)
    except NotFoundError as exc:
        return _not_found(exc.message)
    page = "/source/" + (path[: -len(FORMAT_SUFFIX[forced])] if forced else path)
    return _serve_resource(node, forced, page)


@bp.route("/resource")
def any_resource():
    """Any IRI of the data that has no path of its own here (e.g. one with a #fragment)."""
    iri = request.args.get("iri", "")
    node = _node(iri)
    kg = get_kg()
    if node is None or not _has_triples(kg, node):
        return _not_found(f"nothing is known about <{iri}>")
    return _serve_resource(node, None, "/resource?" + urlencode({"iri": iri}))


@bp.route("/def/<term>")
def def_term(term: str):
    kg = get_kg()
    try:
        node, forced = _resolve(V.DEF, term, kg)
    except NotFoundError as exc:
        return _not_found(exc.message)
    page = "/def/" + (term[: -len(FORMAT_SUFFIX[forced])] if forced else term)
    return _serve_resource(node, forced, page)


def _not_found(message: str):
    fmt = None
    try:
        fmt = negotiate(request.headers.get("Accept"), ENTITY_FORMATS, None)
    except KGError:
        pass
    if fmt is not None and fmt.name == "html" and not request.path.endswith(tuple(SUFFIX_FORMAT)):
        return error_page(404, message)
    raise NotFoundError(message)


def _ontology_triples(kg) -> list:
    seen, out = set(), []
    for gname in _graphs_with_prefix(kg, V.GRAPH + "ontology/"):
        for q in kg.store.quads_for_pattern(None, None, None, gname):
            tr = ox.Triple(q.subject, q.predicate, q.object)
            if tr not in seen:
                seen.add(tr)
                out.append(tr)
    return out


@bp.route("/def")
@bp.route("/def.<ext>")
def def_doc(ext: str | None = None):
    """The ontology document: the ontology page for browsers, the whole ontology for RDF clients."""
    kg = get_kg()
    if ext is not None:
        fmt = SUFFIX_FORMAT.get("." + ext)
        if fmt is None:
            raise NotFoundError(f"no format .{ext}; use .ttl, .jsonld or .nt")
        return _rdf_response(_ontology_triples(kg), fmt, None)
    fmt = negotiate(request.headers.get("Accept"), ENTITY_FORMATS, request.args.get("format"))
    if fmt.name != "html":
        resp = _rdf_response(_ontology_triples(kg), fmt.name, "/def" + FORMAT_SUFFIX[fmt.name])
    else:
        resp = Response(_ontology_html(kg), mimetype="text/html")
    resp.vary.add("Accept")
    return resp


def _entity_html(kg, node, page_path: str) -> str:
    terms = Terms(kg)
    props: "OrderedDict[ox.NamedNode, list]" = OrderedDict()
    graphs = set()
    for q in kg.store.quads_for_pattern(node, None, None, None):
        props.setdefault(q.predicate, [])
        if q.object not in props[q.predicate]:
            props[q.predicate].append(q.object)
        if q.graph_name is not None and isinstance(q.graph_name, ox.NamedNode):
            graphs.add(q.graph_name.value)
    types = props.get(V.RDF_TYPE, [])
    type_values = set(x.value for x in types if isinstance(x, ox.NamedNode))
    prop_rows = [(terms.value(p), [terms.value(o) for o in sorted(os_, key=_obj_key)])
                 for p, os_ in sorted(props.items(), key=lambda kv: _pred_order(kv[0]))
                 if p != V.RDF_TYPE]
    incoming_all, seen = [], set()
    for q in kg.store.quads_for_pattern(None, None, node, None):
        key = (q.subject, q.predicate)
        if key not in seen:
            seen.add(key)
            incoming_all.append(key)
    incoming_all.sort(key=lambda sp: (_pred_order(sp[1]), sp[0].value))
    limit = 300
    incoming = [(terms.value(s), terms.value(p)) for s, p in incoming_all[:limit]]
    other_lang = "en" if terms.lang == "zh" else "zh"
    title = terms.label(node) or compact(node.value)
    ctx = {
        "iri": node.value, "title": title, "other_label": terms.label(node, other_lang),
        "compact_iri": compact(node.value),
        "types": [terms.value(x) for x in types], "props": prop_rows,
        "incoming": incoming, "incoming_total": len(incoming_all), "incoming_limit": limit,
        "graphs": sorted(graphs), "page_path": page_path,
        "alt": [(name, page_path + suffix if "?" not in page_path else
                 page_path + "&" + urlencode({"format": name}))
                for suffix, name in SUFFIX_FORMAT.items()],
        "source": None, "passage": None, "district": None,
        "ontology_anchor": None,
    }
    if node.value.startswith(V.DEF):
        ctx["ontology_anchor"] = "/ontology#" + node.value[len(V.DEF):]
    comment = _pick_literal(props.get(V.RDFS_COMMENT, []), terms.lang)
    ctx["comment"] = comment
    if any(t_ in type_values for t_ in (V.EP.Fact.value, V.EP.Observation.value, V.EP.Target.value)) \
            or V.EP.indicator in props:
        ctx["source"] = _fact_source(terms, node)
        ctx["quote"] = _fact_quote(terms, node)
        rows = views.fact_rows(kg, terms, node, "fact")
        ctx["fact_view"] = rows[0] if rows else None
    if V.EP.Sentence.value in type_values or V.EP.Paragraph.value in type_values \
            or V.OA.exact in props:
        ctx["passage"] = _passage_text(terms, node)
    if V.EP.District.value in type_values:
        ctx["district"] = _district_about(terms, node)
        ctx["area_view"] = views.area_view(kg, terms, node)
    if V.EP.Indicator.value in type_values:
        ctx["indicator_view"] = views.indicator_view(kg, terms, node)
    if type_values & ABOUT_TYPES:
        ctx["about_view"] = views.about_view(kg, terms, node)
    return render_template("entity.html", **ctx)


#: things the report names (every kind of entities.csv): a page shows its sentences, facts,
#: district, domain and work area
ABOUT_TYPES = {V.DEF + k for k in ("Project", "Policy", "Programme", "Pilot", "Platform", "Organization",
                                   "Event", "Zone")} | {V.SCHEMA.Event.value}


def _segments(text: str, spans: list[tuple[int, int, str, str | None]]) -> list[dict]:
    """Split ``text`` into pieces; spans (start, end, css class, href) must not overlap."""
    out, pos = [], 0
    for a, b, cls, href in sorted(spans):
        if a < pos or a >= b or b > len(text):
            continue
        if a > pos:
            out.append({"text": text[pos:a], "cls": None, "href": None})
        out.append({"text": text[a:b], "cls": cls, "href": href})
        pos = b
    if pos < len(text):
        out.append({"text": text[pos:], "cls": None, "href": None})
    return out


def _fact_source(terms: Terms, fact) -> dict | None:
    """The fact's source sentence, split so that the number (and the mention) can be marked."""
    passage = terms.one(fact, V.PROV.wasDerivedFrom)
    if passage is None:
        return None
    exact = terms.one(passage, V.OA.exact)
    if not isinstance(exact, ox.Literal):
        return None
    text = exact.value
    p_start = _int_of(terms.one(passage, V.OA.start))
    vs, ve = _int_of(terms.one(fact, V.EP.valueStart)), _int_of(terms.one(fact, V.EP.valueEnd))
    mention = terms.one(fact, V.EP.mention)
    lost = terms.one(fact, V.EP.valueLost)
    num = None
    if p_start is not None and vs is not None and ve is not None:
        a, b = vs - p_start, ve - p_start
        if 0 <= a < b <= len(text):
            num = (a, b)
    men = None
    if isinstance(mention, ox.Literal) and mention.value:
        m = mention.value
        starts = [i for i in range(len(text)) if text.startswith(m, i)]
        if num is not None:
            around = [i for i in starts if i <= num[0] and num[1] <= i + len(m)]
            starts = around or starts
        if starts:
            men = (starts[0], starts[0] + len(m))
    pieces = []
    if men is not None and num is not None and men[0] <= num[0] and num[1] <= men[1]:
        pieces = _segments(text, [(men[0], num[0], "mention", None), (num[0], num[1], "number", None),
                                  (num[1], men[1], "mention", None)])
    elif num is not None:
        pieces = _segments(text, [(num[0], num[1], "number", None)])
    elif men is not None:
        pieces = _segments(text, [(men[0], men[1], "mention", None)])
    else:
        pieces = _segments(text, [])
    return {"passage": terms.value(passage), "pieces": pieces, "number_found": num is not None,
            "lost": isinstance(lost, ox.Literal) and lost.value == "true",
            "number": text[num[0]:num[1]] if num else None}


def _fact_quote(terms: Terms, fact) -> dict | None:
    """The words an imported figure was read in on its source page (ep:sourceQuote), with the
    number as written marked where it stands (thousands separators aside)."""
    quote = terms.one(fact, V.EP.sourceQuote)
    selector = terms.one(quote, V.OA.hasSelector) if quote is not None else None
    exact = terms.one(selector, V.OA.exact) if selector is not None else None
    if not isinstance(exact, ox.Literal):
        return None
    text, written = exact.value, terms.one(fact, V.EP.valueText)
    spans = []
    if isinstance(written, ox.Literal) and written.value:
        digits = written.value.lstrip("-")
        pattern = ",?".join(re.escape(ch) for ch in digits)  # 1,928.9 as well as 1928.9
        m = re.search(pattern, text)
        if m:
            spans.append((m.start(), m.end(), "number", None))
    page = terms.one(quote, V.OA.hasSource)
    return {"pieces": _segments(text, spans),
            "page": page.value if isinstance(page, ox.NamedNode) else None}


def _passage_text(terms: Terms, passage) -> dict | None:
    exact = terms.one(passage, V.OA.exact)
    if not isinstance(exact, ox.Literal):
        return None
    text = exact.value
    p_start = _int_of(terms.one(passage, V.OA.start))
    spans = []
    if p_start is not None:
        for f in terms.subjects(V.PROV.wasDerivedFrom, passage):
            vs, ve = _int_of(terms.one(f, V.EP.valueStart)), _int_of(terms.one(f, V.EP.valueEnd))
            if vs is None or ve is None:
                continue
            href, _ = terms.href(f.value) if isinstance(f, ox.NamedNode) else (None, False)
            spans.append((vs - p_start, ve - p_start, "number", href))
    # drop overlapping spans, keeping the first
    spans.sort()
    kept, end = [], -1
    for s in spans:
        if s[0] >= end:
            kept.append(s)
            end = s[1]
    paragraph = terms.one(passage, V.EP.paragraph)
    return {"pieces": _segments(text, kept),
            "paragraph": terms.value(paragraph) if paragraph is not None else None}


def _district_about(terms: Terms, district) -> dict:
    """The divisions of an area (its facts and named things are views.area_view's)."""
    parts = sorted((terms.value(d) for d in terms.subjects(V.SCHEMA.containedInPlace, district)),
                   key=lambda v: v.text)
    return {"parts": parts}


# -- ontology -------------------------------------------------------------------------------
