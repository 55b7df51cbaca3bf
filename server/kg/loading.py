"""RDF files and request bodies -> quads; parse errors name the file, line and column."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from .errors import DataError
from .rdfparse import parse_rdf

#: File suffix or media type -> pyoxigraph format.
FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE, ".trig": ox.RdfFormat.TRIG, ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS, ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML, ".xml": ox.RdfFormat.RDF_XML, ".n3": ox.RdfFormat.N3,
}


def format_for(name: str) -> ox.RdfFormat:
    """A format from a file suffix or a media type; DataError if unknown."""
    key = name.split(";")[0].strip().lower()
    if key in FORMATS:
        return FORMATS[key]
    suffix = Path(key).suffix
    if suffix in FORMATS:
        return FORMATS[suffix]
    fmt = ox.RdfFormat.from_media_type(key)
    if fmt is None:
        known = ", ".join(sorted({f.file_extension for f in FORMATS.values()}))
        raise DataError(f"{name}: unknown RDF format (known: {known})")
    return fmt


def _syntax_error(where: str, exc: SyntaxError) -> DataError:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "offset", None)
    loc = f"{where}:{line}:{col}" if line else where
    return DataError(f"{loc}: {msg}", path=where, line=line, column=col)


def parse_bytes(data: bytes, fmt: ox.RdfFormat, *, where: str = "<body>",
                default_graph: ox.NamedNode | None = None, base_iri: str | None = None) -> list[ox.Quad]:
    """Parse a whole document; a syntax error becomes DataError with line and column."""
    try:
        quads = parse_rdf(data, fmt, where=where, base_iri=base_iri)  # N3, DTDs, huge tokens refused
        if default_graph is not None:
            quads = [q if not isinstance(q.graph_name, ox.DefaultGraph)
                     else ox.Quad(q.subject, q.predicate, q.object, default_graph) for q in quads]
        return quads
    except SyntaxError as exc:
        raise _syntax_error(where, exc) from None
    except (ValueError, OSError) as exc:
        raise DataError(f"{where}: {exc}", path=where) from None


def parse_file(path: Path, *, default_graph: ox.NamedNode | None = None) -> list[ox.Quad]:
    path = Path(path)
    fmt = format_for(path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})", path=str(path)) from None
    return parse_bytes(data, fmt, where=str(path), default_graph=default_graph)
