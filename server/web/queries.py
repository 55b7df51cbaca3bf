"""Saved queries: the list, each query's page, its JSON/CSV/TSV answers and the OpenAPI description."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode
import json

from flask import Response, jsonify, render_template, request, url_for
import pyoxigraph as ox

from ..kg import vocab as V
from ..kg.errors import KGError, NotFoundError
from ..sparql.runner import StreamAborted
from .app import get_kg, get_state
from .i18n import lang, pick, t
from .pages import bp, error_page
from .terms import NUMERIC_TYPES, RDF_LANGSTRING, Terms, Value, XSD_STRING, _cached, compact


# -- saved queries --------------------------------------------------------------------------

def _library() -> dict:
    try:
        return get_state().library
    except KGError as exc:
        raise KGError(f"the saved queries could not be loaded: {exc.message}", status=500) from None


def _query(slug: str):
    q = _library().get(slug)
    if q is None:
        raise NotFoundError(f"there is no saved query {slug!r}; see /queries for the list")
    return q


def _substitutions(q, args: dict) -> dict:
    from ..sparql.library import bind_params

    bound = bind_params(q, args)
    return {var.value: str(term) for var, term in bound.items()}


def _query_args(q) -> dict:
    """The request's parameters for a saved query: every argument, lists for repeats.

    ``lang`` belongs to the page unless the query has a parameter of that name.
    """
    args = {k: request.args.getlist(k) for k in request.args}
    if q.param("lang") is None:
        args.pop("lang", None)
    return {k: (v[0] if len(v) == 1 else v) for k, v in args.items()}


@bp.route("/queries")
def queries():
    library = _library()
    tags = sorted({tag for q in library.values() for tag in q.tags})
    want = request.args.get("tag")
    shown = [q for q in library.values() if not want or want in q.tags]
    return render_template("queries.html", queries=shown, tags=tags, tag=want)


@bp.route("/queries.json")
def queries_json():
    return jsonify({"ok": True, "queries": [
        {k: v for k, v in q.to_dict().items()} | {"url": url_for("pages.query_page", slug=q.slug)}
        for q in _library().values()]})


@bp.route("/openapi.json")
def openapi_json():
    from ..sparql.library import openapi

    return jsonify(openapi(_library(), request.url_root))


_RESULT_EXT = {"json": "json", "csv": "csv", "tsv": "tsv"}


@bp.route("/queries/<slug>.<ext>")
def query_data(slug: str, ext: str):
    from .api import run_query

    if ext not in _RESULT_EXT:
        raise NotFoundError(f"no format .{ext}; use .json, .csv or .tsv")
    q = _query(slug)
    subs = _substitutions(q, _query_args(q))
    if q.kind in ("construct", "describe"):
        if ext != "json":
            raise KGError(f"query {slug!r} is a {q.kind.upper()} query: its results are a graph, "
                          "available as .json (JSON-LD) only", status=406)
        fmt = "jsonld"
    elif q.kind == "ask" and ext != "json":
        raise KGError(f"query {slug!r} is an ASK query: its result is available as .json only",
                      status=406)
    else:
        fmt = ext
    resp = run_query(q.sparql, accept=None, fmt=fmt, substitutions=subs or None)
    if resp.status_code == 200:
        resp.headers["Content-Disposition"] = f'inline; filename="{slug}.{ext}"'
    return resp


def _param_inputs(q, args: dict, terms: Terms) -> list[dict]:
    out = []
    for p in q.params:
        raw = args.get(p.name)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        value = raw if raw not in (None, "") else (p.default or "")
        field_ = {"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                  "value": value, "description": pick(p.description), "options": None,
                  "datalist": None, "input": "text", "attrs": {}}
        if p.type == "integer":
            field_["input"] = "number"
            field_["attrs"] = {"step": "1", "inputmode": "numeric"}
        elif p.type == "decimal":
            field_["input"] = "number"
            field_["attrs"] = {"step": "any", "inputmode": "decimal"}
        elif p.type == "year":
            field_["input"] = "number"
            field_["attrs"] = {"min": "1900", "max": "2100", "step": "1", "inputmode": "numeric"}
        elif p.type == "iri":
            field_["input"] = "url"
        elif p.type == "district":
            field_["input"] = "select"
            field_["options"] = _district_options(terms)
            if value and value.startswith(V.ID + "district/"):
                field_["value"] = value[len(V.ID + "district/"):]
        elif p.type == "indicator":
            field_["datalist"] = _indicator_options(terms)
            if value and value.startswith(V.ID + "indicator/"):
                field_["value"] = value[len(V.ID + "indicator/"):]
        out.append(field_)
    return out


def _body(resp: Response) -> bytes:
    """A query's answer, whole: a large one (over STREAM_AFTER) comes as a stream of chunks."""
    return b"".join(resp.response) if resp.direct_passthrough else resp.get_data()


def _district_options(terms: Terms) -> list[tuple[str, str]]:
    """The areas a district parameter offers: the province- and prefecture-level ones, and the
    county-level ones the graph says something about (a fact, a named thing); any other code
    can still be given in the URL (the form then shows it as chosen)."""
    def make():
        found = terms.kg.select(
            "SELECT ?d ?code WHERE { ?d a ep:District ; ep:gb2260 ?code . "
            "FILTER (NOT EXISTS { ?d ep:areaType/ep:adminLevel ep:countyLevel } "
            "|| EXISTS { ?x ep:refArea|ep:district|ep:about ?d }) }")
        return sorted((r["code"].value, r["d"]) for r in found if isinstance(r["code"], ox.Literal))
    rows = _cached("districts", terms.kg, make)
    return [(code, f"{code} {terms.name(d)}") for code, d in rows]


def _indicator_options(terms: Terms) -> list[tuple[str, str]]:
    def make():
        ns = V.ID + "indicator/"
        return sorted((i.value[len(ns):], i) for i in terms.subjects(V.RDF_TYPE, V.EP.Indicator)
                      if isinstance(i, ox.NamedNode) and i.value.startswith(ns))
    rows = _cached("indicators", terms.kg, make)
    return [(slug, terms.name(i)) for slug, i in rows]


def _read_amounts(table: dict, kg) -> None:
    """Amounts in yuan (a column named …yuan / …Yuan, as the saved queries name the values they
    convert to yuan) get a reading in readable units beside the exact number: 2005900000000
    reads 2.0059万亿元 / 2.0059 trillion yuan."""
    from ..kg import numbers as N
    from .views import _units

    cols = [i for i, v in enumerate(table["vars"]) if v.lower().endswith("yuan")]
    if not cols:
        return
    unit = _units(kg).get(V.unit("yuan").value)  # (read once per store, as the entity pages do)
    if unit is None:
        return
    for row in table["rows"]:
        for i in cols:
            c = row[i]
            d = N.parse(c.text) if c is not None and c.numeric else None
            if d is not None and abs(d) >= 10000:
                row[i] = replace(c, note=N.readable(N.plain(d.normalize()), unit, lang=lang()).text)


def _binding_value(b: dict | None, terms: Terms) -> Value | None:
    if b is None:
        return None
    kind = b.get("type")
    if kind == "uri":
        return terms.value(ox.NamedNode(b["value"]))
    if kind == "bnode":
        return Value("bnode", "_:" + b["value"])
    if kind in ("literal", "typed-literal"):
        dt = b.get("datatype")
        return Value("literal", b["value"], lang=b.get("xml:lang"),
                     datatype=compact(dt) if dt and dt not in (XSD_STRING, RDF_LANGSTRING) else None,
                     numeric=dt in NUMERIC_TYPES)
    if kind == "triple":
        return Value("literal", json.dumps(b["value"], ensure_ascii=False))
    return Value("literal", str(b.get("value")))


def _chart_for(q, variables: list[str]) -> dict | None:
    chart = q.chart
    if not chart or chart.get("type") in (None, "none"):
        return None
    out = dict(chart)
    want, other = ("En", "Zh") if lang() == "en" else ("Zh", "En")
    for key in ("x", "color"):
        var = out.get(key)
        if not var:
            continue
        # a chart labelled by ?areaZh shows ?areaEn on the English page, and back
        for a, b in ((other, want), ("_" + other.lower(), "_" + want.lower())):
            if var.endswith(a) and var[: -len(a)] + b in variables:
                out[key] = var[: -len(a)] + b
                break
    return out


@bp.route("/queries/<slug>")
def query_page(slug: str):
    from .api import run_query
    from ..sparql.library import ParamError

    library = _library()
    q = library.get(slug)
    if q is None:
        return error_page(404, f"there is no saved query {slug!r}; see /queries for the list")
    kg = get_kg()
    terms = Terms(kg)
    args = _query_args(q)
    inputs = _param_inputs(q, args, terms)
    qs = urlencode([(k, x) for k, vs in ((k, v if isinstance(v, list) else [v])
                                        for k, v in args.items()) for x in vs])
    ctx = {"q": q, "inputs": inputs, "qs": qs, "error": None, "status": 200, "table": None,
           "prompt": None,
           "ask": None, "chart": None, "results_json": None, "truncated": False,
           "title": pick(q.title), "description": pick(q.description)}
    missing = [p.name for p in q.params if p.required and not args.get(p.name)]
    if missing and not args:
        # a first visit to a query with required parameters: show the form, run nothing
        ctx["prompt"] = t("fill_required", names=", ".join(missing))
        return render_template("query.html", **ctx)
    try:
        subs = _substitutions(q, args)
        if q.kind in ("construct", "describe"):
            resp = run_query(q.sparql, accept=None, fmt="ntriples", substitutions=subs or None)
            triples = [tr for tr in ox.parse(_body(resp), format=ox.RdfFormat.N_TRIPLES)]
            ctx["table"] = {"vars": ["subject", "predicate", "object"],
                            "rows": [[terms.value(tr.subject), terms.value(tr.predicate),
                                      terms.value(tr.object)] for tr in triples]}
        else:
            resp = run_query(q.sparql, accept=None, fmt="json", substitutions=subs or None)
            data = json.loads(_body(resp))
            if "boolean" in data:
                ctx["ask"] = bool(data["boolean"])
            else:
                variables = data["head"]["vars"]
                rows = data["results"]["bindings"]
                ctx["table"] = {"vars": variables,
                                "rows": [[_binding_value(r.get(v), terms) for v in variables]
                                         for r in rows]}
                _read_amounts(ctx["table"], kg)
                chart = _chart_for(q, variables)
                if chart:
                    ctx["chart"] = chart
                    ctx["results_json"] = data
        ctx["truncated"] = resp.headers.get("X-Result-Truncated") == "true"
    except ParamError as exc:
        ctx["error"], ctx["status"] = exc.message, exc.status
    except KGError as exc:
        ctx["error"], ctx["status"] = exc.message, exc.status
    except StreamAborted as exc:  # a large answer stopped at the time limit while it was read
        ctx["error"], ctx["status"] = str(exc), 503
    html = render_template("query.html", **ctx)
    return Response(html, status=ctx["status"], mimetype="text/html")


# -- editor ---------------------------------------------------------------------------------
