"""The ontology and shapes pages."""
from __future__ import annotations

from collections import OrderedDict

from flask import render_template
import pyoxigraph as ox

from ..kg import vocab as V
from .app import get_kg
from .i18n import lang, t
from .pages import bp
from .terms import CODE_PREDICATES, ONTOLOGY_DOC, SHAPES_DOC, SHAPES_NS, Terms, Value, _cached, _dedent, _graphs_with_prefix, _int_of, _pick_literal, compact, local_url


def _term_counts(kg) -> dict:
    """{class IRI: instances incl. subclasses, property IRI: uses}, per data version."""
    def make():
        store = kg.store
        direct: dict[str, set] = {}
        for q in store.quads_for_pattern(None, V.RDF_TYPE, None, None):
            if isinstance(q.object, ox.NamedNode):
                direct.setdefault(q.object.value, set()).add(q.subject)
        subs: dict[str, set] = {}
        for q in store.quads_for_pattern(None, V.RDFS.subClassOf, None, None):
            if isinstance(q.object, ox.NamedNode) and isinstance(q.subject, ox.NamedNode):
                subs.setdefault(q.object.value, set()).add(q.subject.value)
        counts: dict[str, int] = {}

        def closure(c, seen):
            out = set(direct.get(c, ()))
            for sc in subs.get(c, ()):
                if sc not in seen:
                    seen.add(sc)
                    out |= closure(sc, seen)
            return out
        for c in set(direct) | set(subs):
            counts[c] = len(closure(c, {c}))
        uses: dict[str, set] = {}
        for q in store:
            uses.setdefault(q.predicate.value, set()).add((q.subject, q.object))
        for p, s in uses.items():
            counts["uses:" + p] = len(s)
        return counts
    return _cached("term-counts", kg, make)


def _shapes_index(kg) -> dict:
    """{class or property IRI: [shape IRI or node]} from sh:targetClass and sh:path."""
    def make():
        store = kg.store
        idx: dict[str, list] = {}
        for q in store.quads_for_pattern(None, V.SH.targetClass, None, None):
            if isinstance(q.object, ox.NamedNode):
                lst = idx.setdefault(q.object.value, [])
                if q.subject not in lst:
                    lst.append(q.subject)
        for q in store.quads_for_pattern(None, V.SH.path, None, None):
            if not isinstance(q.object, ox.NamedNode):
                continue
            owners = [o.subject for o in store.quads_for_pattern(None, V.SH.property, q.subject, None)]
            lst = idx.setdefault(q.object.value, [])
            for owner in owners or [q.subject]:
                if owner not in lst:
                    lst.append(owner)
        # an implicit class target: a shape that is itself an rdfs:Class / owl:Class
        return idx
    return _cached("shapes-index", kg, make)


def _ontology_terms(kg) -> dict:
    terms = Terms(kg)
    counts = _term_counts(kg)
    shapes = _shapes_index(kg)
    graphs = _graphs_with_prefix(kg, V.GRAPH + "ontology/")
    typed: "OrderedDict[ox.NamedNode, set]" = OrderedDict()
    for gname in graphs:
        for q in kg.store.quads_for_pattern(None, V.RDF_TYPE, None, gname):
            if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(V.DEF):
                typed.setdefault(q.subject, set()).add(q.object.value)
    groups = {"classes": [], "obj_props": [], "data_props": [], "other_props": [], "individuals": []}
    OWL = V.OWL
    for node, types in sorted(typed.items(), key=lambda kv: kv[0].value.lower()):
        local = node.value[len(V.DEF):]
        if OWL.Class.value in types or V.RDFS.Class.value in types:
            group = "classes"
        elif OWL.ObjectProperty.value in types:
            group = "obj_props"
        elif OWL.DatatypeProperty.value in types:
            group = "data_props"
        elif types & {V.RDF.Property.value, OWL.AnnotationProperty.value,
                      V.QB.DimensionProperty.value, V.QB.MeasureProperty.value,
                      V.QB.AttributeProperty.value}:
            group = "other_props"
        else:
            group = "individuals"
        is_class = group == "classes"
        item = {
            "local": local, "iri": node.value, "compact": compact(node.value),
            "label_zh": terms.label(node, "zh"), "label_en": terms.label(node, "en"),
            "label": terms.label(node) or local,
            "comment": _pick_literal(terms.objects(node, V.RDFS_COMMENT), terms.lang),
            "page": local_url(node.value),
            "types": [terms.value(ox.NamedNode(x)) for x in sorted(types)],
            "super": [terms.value(x) for x in terms.objects(
                node, V.RDFS.subClassOf if is_class else V.RDFS.subPropertyOf)],
            "domain": [terms.value(x) for x in terms.objects(node, V.RDFS.domain)],
            "range": [terms.value(x) for x in terms.objects(node, V.RDFS.range)],
            "shapes": [terms.value(s) for s in shapes.get(node.value, [])],
            "count": counts.get(node.value, 0) if is_class or group == "individuals"
            else counts.get("uses:" + node.value, 0),
            "count_kind": "instances" if is_class else
            ("uses" if group != "individuals" else None),
        }
        if group == "individuals":
            # how often the term is used as a value
            item["count"] = sum(1 for _ in kg.store.quads_for_pattern(None, None, node, None))
            item["count_kind"] = "uses"
        groups[group].append(item)
    return groups


def _ontology_html(kg) -> str:
    terms = Terms(kg)
    onto = ox.NamedNode(ONTOLOGY_DOC)
    info = {"title": terms.label(onto) or t("ontology_title"),
            "comment": _pick_literal(terms.objects(onto, V.RDFS_COMMENT), terms.lang),
            "version": (terms.one(onto, V.OWL.versionInfo) or ox.Literal("")).value}
    groups = _cached("ontology-terms-" + terms.lang, kg, lambda: _ontology_terms(kg))
    return render_template("ontology.html", groups=groups, info=info)


@bp.route("/ontology")
def ontology():
    return _ontology_html(get_kg())


# -- shapes ---------------------------------------------------------------------------------

_SHAPE_SKIP = {V.RDF_TYPE.value, V.RDFS_LABEL.value, V.RDFS_COMMENT.value, V.SH.property.value,
               V.SH.message.value, V.SH.targetClass.value, V.SH.targetNode.value,
               V.SH.targetSubjectsOf.value, V.SH.targetObjectsOf.value, V.SH.path.value,
               V.SH.name.value, V.SH.description.value, V.SH.severity.value,
               V.RDFS.isDefinedBy.value}


def _messages(terms: Terms, node) -> list[Value]:
    msgs = [o for o in terms.objects(node, V.SH.message) if isinstance(o, ox.Literal)]
    order = {terms.lang: 0}
    msgs.sort(key=lambda o: (order.get((o.language or "")[:2], 1), o.language or ""))
    return [terms.value(m) for m in msgs]


def _constraints(terms: Terms, node) -> list:
    groups: "OrderedDict[ox.NamedNode, list]" = OrderedDict()
    for q in terms.store.quads_for_pattern(node, None, None, None):
        if q.predicate.value in _SHAPE_SKIP:
            continue
        groups.setdefault(q.predicate, [])
        if q.object not in groups[q.predicate]:
            groups[q.predicate].append(q.object)
    rows = []
    for p, os_ in sorted(groups.items(), key=lambda kv: compact(kv[0].value)):
        vals = []
        for o in os_:
            v = (Value("code", _dedent(o.value)) if p.value in CODE_PREDICATES and isinstance(o, ox.Literal)
                 else terms.value(o))
            if isinstance(o, ox.BlankNode) and v.items is None:
                v.children = [(pv, ovs) for pv, ovs in v.children
                              if pv.compact != "sh:message" and pv.text != "sh:message"]
                v.messages = _messages(terms, o)  # type: ignore[attr-defined]
            vals.append(v)
        rows.append((terms.value(p), vals))
    return rows


def _shape_view(terms: Terms, shape) -> dict:
    name = terms.one(shape, V.SH.name)
    return {
        "node": terms.value(shape),
        "anchor": shape.value[len(SHAPES_NS):] if isinstance(shape, ox.NamedNode)
        and shape.value.startswith(SHAPES_NS) else None,
        "iri": shape.value if isinstance(shape, ox.NamedNode) else None,
        "label": terms.name(shape),
        "comment": _pick_literal(terms.objects(shape, V.RDFS_COMMENT), terms.lang) or
        _pick_literal(terms.objects(shape, V.SH.description), terms.lang),
        "name": name.value if isinstance(name, ox.Literal) else None,
        "path": terms.value(terms.one(shape, V.SH.path)) if terms.one(shape, V.SH.path) is not None else None,
        "severity": _severity(terms.one(shape, V.SH.severity)),
        "targets": [(compact(p.value), terms.value(o)) for p in
                    (V.SH.targetClass, V.SH.targetNode, V.SH.targetSubjectsOf, V.SH.targetObjectsOf)
                    for o in terms.objects(shape, p)],
        "messages": _messages(terms, shape),
        "messages_here": [m for m in _messages(terms, shape)
                          if (m.lang or "")[:2] in (terms.lang, "")] or _messages(terms, shape)[:1],
        "href": local_url(shape.value) if isinstance(shape, ox.NamedNode) else None,
        "constraints": _constraints(terms, shape),
        "properties": [_shape_view(terms, ps) for ps in
                       sorted(terms.objects(shape, V.SH.property), key=lambda n: _path_key(terms, n))],
    }


def _severity(term) -> str:
    """Violation, Warning or Info (sh:Violation when the shape does not say)."""
    ns = str(V.SH)
    if isinstance(term, ox.NamedNode) and term.value.startswith(ns):
        return term.value[len(ns):]
    return "Violation"


def _path_key(terms: Terms, ps) -> str:
    p = terms.one(ps, V.SH.path)
    order = terms.one(ps, V.SH.order)
    return f"{_int_of(order) if _int_of(order) is not None else 999:05d} " + (
        compact(p.value) if isinstance(p, ox.NamedNode) else "~")


@bp.route("/shapes")
def shapes():
    kg = get_kg()
    views = _cached("shapes-page-" + lang(), kg, lambda: _shapes_views(kg))
    return render_template("shapes.html", **views)


def _shapes_views(kg) -> dict:
    terms = Terms(kg)
    graphs = _graphs_with_prefix(kg, V.GRAPH + "shapes/")
    subjects_seen = set()
    for gname in graphs:
        for q in kg.store.quads_for_pattern(None, None, None, gname):
            subjects_seen.add(q.subject)
    node_shapes, prop_shapes, others = [], [], []
    for s in sorted(subjects_seen, key=lambda n: n.value):
        types = {x.value for x in terms.objects(s, V.RDF_TYPE)}
        if V.SH.NodeShape.value in types:
            node_shapes.append(s)
        elif isinstance(s, ox.NamedNode) and (V.SH.PropertyShape.value in types or
                                              terms.one(s, V.SH.path) is not None):
            prop_shapes.append(s)
        elif isinstance(s, ox.NamedNode) and s.value != SHAPES_DOC:
            others.append(s)
    other_views = []
    for s in others:
        other_views.append({"node": terms.value(s), "anchor": s.value[len(SHAPES_NS):]
                            if s.value.startswith(SHAPES_NS) else None,
                            "types": [terms.value(x) for x in terms.objects(s, V.RDF_TYPE)],
                            "comment": _pick_literal(terms.objects(s, V.RDFS_COMMENT), terms.lang),
                            "constraints": _constraints(terms, s)})
    return {"shapes": [_shape_view(terms, s) for s in node_shapes],
            "property_shapes": [_shape_view(terms, s) for s in prop_shapes],
            "others": other_views, "graphs": [gn.value for gn in graphs]}


# -- small helpers for the templates ------------------------------------------------------------
