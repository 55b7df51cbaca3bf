"""The home page, the dumps and the ontology and shapes as Turtle."""
from __future__ import annotations

from pathlib import Path

from flask import Response, render_template, send_file
import pyoxigraph as ox

from ..kg import builddir
from ..kg import vocab as V
from ..kg.errors import NotFoundError
from .app import get_kg, get_state
from .pages import bp
from .queries import _library
from .terms import Terms, _graphs_with_prefix, _stats, _used_prefixes


# -- home -----------------------------------------------------------------------------------

@bp.route("/")
def home():
    kg = get_kg()
    s = _stats(kg)
    terms = Terms(kg)
    counts = [
        ("c_facts", s.facts), ("c_indicators", s.indicators),
        ("c_projects", s.entities.get("Project", 0)), ("c_policies", s.entities.get("Policy", 0)),
        *area_counts(kg), ("c_lost", s.lost),
        ("c_triples", s.triples),
    ]
    report = terms.value(V.REPORT)
    library = _library()
    examples = [terms.value(x) for x in (
        V.fact("gdp-2023"), V.district("330109"), V.indicator("gdp"), V.EP.Fact)]
    examples = [e for e in examples if e.href]
    return render_template("home.html", counts=counts, report=report, datasets=datasets(kg, terms),
                           queries=list(library.values())[:8], examples=examples)


def datasets(kg, terms) -> list[tuple]:
    """Every dataset that holds facts (``qb:dataSet``), largest first: (its label and page, facts,
    areas)."""
    rows = kg.select("SELECT ?ds (COUNT(DISTINCT ?f) AS ?facts) (COUNT(DISTINCT ?a) AS ?areas) WHERE { "
                     "?f a ep:Fact ; qb:dataSet ?ds . OPTIONAL { ?f ep:refArea ?a } } "
                     "GROUP BY ?ds ORDER BY DESC(?facts) ?ds")
    return [(terms.value(r["ds"]), int(r["facts"].value), int(r["areas"].value)) for r in rows]


#: the kinds of area (schema:additionalType of an ep:District), in the order shown
def area_counts(kg) -> list[tuple[str, int]]:
    """The areas by administrative level (data/vocab/areas.csv): province-level, prefecture-level
    and county-level divisions, not all counted as "districts" (the country is not counted)."""
    rows = kg.select("SELECT ?level (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a ep:District ; "
                     "ep:areaType/ep:adminLevel ?level } GROUP BY ?level")
    n = {r["level"].value: int(r["n"].value) for r in rows}
    return [(key, n.get(V.DEF + level, 0)) for key, level in
            (("c_provinces", "provinceLevel"), ("c_cities", "prefectureLevel"), ("c_counties", "countyLevel"))]


# -- downloads ------------------------------------------------------------------------------

DUMPS = builddir.DUMPS


@bp.route("/dumps/<name>")
def dump(name: str):
    if name not in DUMPS:
        raise NotFoundError(f"no dump named {name!r}; there are {', '.join(sorted(DUMPS))}")
    build_dir = Path(get_state().build_dir)
    path = builddir.path(build_dir, name)
    if not path.is_file():
        raise NotFoundError(f"the dump {name} has not been built (run `econplan build`)")
    if builddir.pending(build_dir):  # writes since the dumps were written: the current data
        fmt = ox.RdfFormat.TRIG if name == builddir.TRIG else ox.RdfFormat.N_QUADS
        body = ox.serialize(get_kg().store, format=fmt, prefixes=V.PREFIXES if fmt == ox.RdfFormat.TRIG else None)
        resp = Response(body or b"", mimetype=DUMPS[name])
    else:
        resp = send_file(path, mimetype=DUMPS[name], as_attachment=False, conditional=True,
                         download_name=name, max_age=0)
    resp.headers["Content-Type"] = f"{DUMPS[name]}; charset=utf-8"
    resp.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return resp


def _graph_turtle(kg, prefix: str) -> bytes:
    seen, triples = set(), []
    for gname in _graphs_with_prefix(kg, prefix):
        for q in kg.store.quads_for_pattern(None, None, None, gname):
            tr = ox.Triple(q.subject, q.predicate, q.object)
            if tr not in seen:
                seen.add(tr)
                triples.append(tr)
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_used_prefixes(triples)) or b""


def _turtle_response(body: bytes, name: str) -> Response:
    resp = Response(body, mimetype="text/turtle")
    resp.headers["Content-Type"] = "text/turtle; charset=utf-8"
    resp.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return resp


@bp.route("/ontology.ttl")
def ontology_ttl():
    return _turtle_response(_graph_turtle(get_kg(), V.GRAPH + "ontology/"), "econplan.ttl")


@bp.route("/shapes.ttl")
def shapes_ttl():
    return _turtle_response(_graph_turtle(get_kg(), V.GRAPH + "shapes/"), "econplan-shapes.ttl")
