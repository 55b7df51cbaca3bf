"""RDF Data Cube observations in a load -> econplan facts, or a report of why not.

A ``qb:Observation`` that is not already an ``ep:Fact`` becomes one when it has everything a
fact needs: ``qb:dataSet``, an area (``ep:refArea`` or ``sdmx-dimension:refArea``, an area of
``data/vocab/areas.csv``), a period (``ep:refPeriod`` or ``sdmx-dimension:refPeriod``: a year,
as ``xsd:gYear``, a plain ``"2023"`` or an IRI ending in ``/2023``), a measure (``ep:value`` or
``sdmx-measure:obsValue``, a decimal), an indicator (``ep:indicator``, of the shared scheme) and
a unit (``ep:unit`` or ``sdmx-attribute:unitMeasure``, of ``data/vocab/units.csv``).
``ep:kind``, ``ep:status`` and ``ep:qualifier`` are taken when given; otherwise an observation
is read as an actual (``ep:actual``), exact level (``ep:level``), which is what a statistical
cube publishes.  The observations are written out as a table in the dataset format (one row
each, the observation's IRI in the ``source`` column) and imported like any table
(:mod:`server.citycsv`): each fact is derived from its row and ``prov:alternateOf`` the
observation.  Anything missing or unknown is reported per observation, and nothing is loaded.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pyoxigraph as ox

from . import vocab as V
from .errors import DataError

SDMX_DIM = "http://purl.org/linked-data/sdmx/2009/dimension#"
SDMX_MEASURE = "http://purl.org/linked-data/sdmx/2009/measure#"
SDMX_ATTR = "http://purl.org/linked-data/sdmx/2009/attribute#"
COLUMNS = ("area", "indicator", "kind", "period", "value", "unit", "qualifier", "status", "source")


def _local(term, prefix: str) -> str | None:
    if isinstance(term, ox.NamedNode) and term.value.startswith(prefix):
        return term.value[len(prefix):]
    return None


def _period(term) -> str | None:
    text = term.value
    m = re.search(r"(?:^|/)((?:19|20)\d\d)$", text)
    return m.group(1) if m else None


def split(quads: list[ox.Quad]) -> tuple[list[ox.Quad], dict]:
    """The quads that are not about plain cube observations, and those observations' properties."""
    typed = {q.subject for q in quads if q.predicate == V.RDF_TYPE and q.object == V.QB.Observation}
    facts = {q.subject for q in quads if q.predicate == V.RDF_TYPE
             and q.object in (V.EP.Observation, V.EP.Target, V.EP.Fact)}
    cube = typed - facts
    rest, props = [], {s: {} for s in cube}
    for q in quads:
        if q.subject in cube:
            props[q.subject].setdefault(q.predicate.value, []).append(q.object)
        else:
            rest.append(q)
    return rest, props


def to_table(props: dict, lookups) -> tuple[str, list[str]]:
    """The observations as a CSV table in the dataset format, and the problems found."""
    def one(p: dict, *names):
        for n in names:
            if p.get(n):
                return p[n][0]
        return None

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    problems = []
    for obs in sorted(props, key=str):
        p, why = props[obs], []
        area = one(p, V.EP.refArea.value, SDMX_DIM + "refArea")
        code = _local(area, V.ID + "district/") if area is not None else None
        if area is None:
            why.append("no area (ep:refArea or sdmx-dimension:refArea)")
        elif code not in lookups.areas:
            why.append(f"area {area} is not in data/vocab/areas.csv")
        period = one(p, V.EP.refPeriod.value, SDMX_DIM + "refPeriod")
        year = _period(period) if period is not None else None
        if period is None:
            why.append("no period (ep:refPeriod or sdmx-dimension:refPeriod)")
        elif year is None:
            why.append(f"period {period} is not a year")
        value = one(p, V.EP.value.value, SDMX_MEASURE + "obsValue")
        if value is None:
            why.append("no measure (ep:value or sdmx-measure:obsValue)")
        elif not isinstance(value, ox.Literal) or not re.match(r"^\d+(\.\d+)?$", value.value):
            why.append(f"measure {value} is not a plain decimal")
        ind = one(p, V.EP.indicator.value)
        slug = _local(ind, V.ID + "indicator/") if ind is not None else None
        if ind is None:
            why.append("no ep:indicator")
        elif slug not in lookups.indicators:
            why.append(f"indicator {ind} is not in the indicator scheme")
        unit = one(p, V.EP.unit.value, SDMX_ATTR + "unitMeasure")
        uslug = _local(unit, V.ID + "unit/") if unit is not None else None
        if unit is None:
            why.append("no unit (ep:unit or sdmx-attribute:unitMeasure)")
        elif uslug not in lookups.units:
            why.append(f"unit {unit} is not in data/vocab/units.csv")
        if one(p, V.QB.dataSet.value) is None:
            why.append("no qb:dataSet")
        if why:
            problems.append(f"{obs}: " + "; ".join(why))
            continue
        kind = _local(one(p, V.EP.kind.value), V.DEF) if one(p, V.EP.kind.value) else "level"
        qualifier = _local(one(p, V.EP.qualifier.value), V.DEF) if one(p, V.EP.qualifier.value) else "exact"
        qualifier = "about" if qualifier == "about-value" else qualifier
        status = _local(one(p, V.EP.status.value), V.DEF) if one(p, V.EP.status.value) else "actual"
        w.writerow([code, slug, kind, year, value.value, uslug, qualifier, status, obs.value])
    return buf.getvalue(), problems


def convert(quads: list[ox.Quad], lookups, name: str, graph: ox.NamedNode | None) -> list[ox.Quad]:
    """``quads`` with every plain cube observation turned into a fact; DataError lists why not.

    ``lookups`` is a :class:`~server.citycsv.Lookups` or a function returning one (called only
    when there are observations)."""
    from .citycsv import SOURCE_BASE, csv_to_quads, file_key, slugify

    rest, props = split(quads)
    if not props:
        return quads
    lookups = lookups() if callable(lookups) else lookups
    text, problems = to_table(props, lookups)
    if problems:
        raise DataError(f"{len(problems)} Data Cube observation(s) cannot become facts, nothing loaded:\n  "
                        + "\n  ".join(problems))
    stem = slugify(Path(name).stem) or "cube"
    target = graph or ox.NamedNode(f"{V.GRAPH}cube/{stem}")
    mapping = {"dataset": {"slug": stem, "title": {"zh": f"Data Cube 数据 {Path(name).name}",
                                                   "en": f"Data Cube observations {Path(name).name}"}},
               "columns": {c: c for c in COLUMNS}}
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / f"{stem}.csv"
        table.write_text(text, encoding="utf-8")
        made = csv_to_quads(table, mapping, lookups, target, file_iri=f"{SOURCE_BASE}cube/{stem}.csv",
                            base=f"{V.ID}cube/{stem}", key=file_key(table))
    facts = {q.subject for q in made if q.predicate == V.QB.dataSet and q.subject.value.startswith(V.ID + "cube/")
             and "/fact/" in q.subject.value}
    by_source = {}
    for q in made:
        if q.subject in facts and q.predicate == V.DCTERMS.source:
            by_source[q.subject] = q.object
    for fact, obs in by_source.items():
        made.append(ox.Quad(fact, V.PROV.alternateOf, obs, target))
    if graph is None:  # the cube's own description goes with its facts
        rest = [ox.Quad(q.subject, q.predicate, q.object, target) if isinstance(q.graph_name, ox.DefaultGraph)
                else q for q in rest]
    return rest + made
