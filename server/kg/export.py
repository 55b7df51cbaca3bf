"""Exports of the whole graph and renderings of query results for the CLI."""
from __future__ import annotations

import pyoxigraph as ox

from . import vocab as V
from .errors import KGError, NotFoundError
from ..sparql.protocol import RESULT_FORMATS, render_solutions

EXPORT_FORMATS = {"trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS,
                  "turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}


def export_graph(kg, fmt: str, graph: str | None = None) -> bytes:
    """Serialize the store (or one named graph). Turtle merges the graphs into one; JSON-LD is
    compact, with an ``@context``, and keeps the named graphs when the whole store is exported."""
    if fmt not in EXPORT_FORMATS:
        raise KGError(f"unknown export format {fmt!r}; use {', '.join(EXPORT_FORMATS)}", status=400)
    g = ox.NamedNode(graph) if graph else None
    if g is not None and not kg.store.contains_named_graph(g):
        raise NotFoundError(f"no named graph {graph}; `econplan query 'SELECT DISTINCT ?g "
                            "WHERE { GRAPH ?g {} }'` lists them")
    quads = list(kg.store.quads_for_pattern(None, None, None, g))
    quads.sort(key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))
    if fmt == "jsonld":  # compact, with an @context; named graphs kept when exporting them all
        from server.kg import jsonld

        return jsonld.dumps(jsonld.to_jsonld(quads, keep_graphs=graph is None)).encode("utf-8")
    if fmt == "turtle":
        items = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in quads}, key=str)
    else:
        items = quads
    kwargs = {"prefixes": V.PREFIXES} if fmt in ("turtle", "trig") else {}
    return ox.serialize(items, format=EXPORT_FORMATS[fmt], **kwargs) or b""


def render_result(result, fmt: str):
    """A query result for the terminal: a table, or SPARQL JSON/CSV/TSV bytes."""
    if isinstance(result, ox.QueryBoolean):
        return ("true\n" if bool(result) else "false\n") if fmt == "table" else \
            result.serialize(format={"json": ox.QueryResultsFormat.JSON,
                                     "csv": ox.QueryResultsFormat.CSV,
                                     "tsv": ox.QueryResultsFormat.TSV}[fmt])
    if isinstance(result, ox.QueryTriples):
        return ox.serialize(list(result), format=ox.RdfFormat.TURTLE, prefixes=V.PREFIXES) or b""
    variables = [v.value for v in result.variables]
    rows = [tuple(sol[v] for v in variables) for sol in result]
    if fmt != "table":
        f = next(f for f in RESULT_FORMATS if f.name == fmt)
        return render_solutions(variables, rows, f)
    from rich.console import Console
    from rich.table import Table

    table = Table(*variables, show_lines=False)
    for r in rows:
        table.add_row(*[_short(t) for t in r])
    console = Console(record=True, width=200, file=open("/dev/null", "w"))
    console.print(table)
    return console.export_text() + f"{len(rows)} row(s)\n"


def _short(t) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.NamedNode):
        for p, ns in V.PREFIXES.items():
            if t.value.startswith(ns) and len(t.value) > len(ns):
                return f"{p}:{t.value[len(ns):]}"
        return t.value
    if isinstance(t, ox.Literal):
        return t.value + (f"@{t.language}" if t.language else "")
    return str(t)
