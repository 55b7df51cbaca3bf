"""Parse an uploaded RDF body (``/load``, ``econplan load``) safely, or refuse it with a clear error.

What pyoxigraph 0.5.13 would do with hostile input, and what is done instead:

* **N3** (``text/n3``, ``.n3``): formulas ``{ … }`` become graphs named by blank nodes, which no
  ``DROP GRAPH`` can name and so never remove.  Refused: 415 ``n3-not-accepted``.
* **RDF/XML with a DOCTYPE**: the parser expands internal entities, so a 1 KB "billion laughs"
  document asks for gigabytes (measured: a 946-byte file makes it allocate 2.4 GB and abort under
  a 2 GiB address-space limit; without one the process grows until the kernel kills it).  RDF
  needs no DTD, so any ``<!DOCTYPE`` or ``<!ENTITY`` is refused before parsing: 400
  ``xml-doctype``.  An RDF/XML body that is not UTF-8 (a UTF-16/32 byte order mark, or another
  ``encoding=`` in the XML declaration) is refused too (415 ``xml-encoding``), so that the search
  for a DOCTYPE cannot be hidden by an encoding.
* **A single token over the parser's buffer** (a literal or IRI over 16 MiB) raises MemoryError in
  the parser: answered 413 ``token-too-large`` rather than a 500.
* **Deeply nested RDF/XML**: the parser's time grows much faster than the nesting (measured:
  2,000 nested property elements 0.08 s, 8,000 0.9 s, 20,000 (a 0.9 MB body) 15 s).  Element
  nesting over MAX_XML_DEPTH (1,000; RDF/XML written by people or tools nests a few levels) is
  refused before parsing: 400 ``xml-too-deep``.
* A syntax error: 400 ``bad-data`` naming the line and column (server.kg.loading).
"""
from __future__ import annotations

import re

import pyoxigraph as ox

from .errors import DataError, KGError

MAX_XML_DEPTH = 1000

#: pyoxigraph's parser buffer (oxrdfio: "Reached the buffer maximal size of 16777216").
MAX_TOKEN_BYTES = 16 * 1024 * 1024

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class _TooDeep(Exception):
    pass


def xml_depth(data: bytes, stop_after: int | None = None) -> int:
    """The deepest element nesting of an XML document, read with expat (C; the DTD was refused
    before), stopping once ``stop_after`` is passed.  A document expat cannot read gives the depth
    reached so far (pyoxigraph then reports the syntax error)."""
    from xml.parsers import expat

    state = [0, 0]  # depth, deepest

    def start(name, attrs):
        state[0] += 1
        if state[0] > state[1]:
            state[1] = state[0]
            if stop_after is not None and state[1] > stop_after:
                raise _TooDeep

    def end(name):
        state[0] -= 1

    p = expat.ParserCreate()
    p.StartElementHandler, p.EndElementHandler = start, end
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        p.Parse(data, True)
    except (_TooDeep, expat.ExpatError, ValueError):
        pass
    return state[1]


class RdfRefused(KGError):
    status = 400
    code = "bad-data"


def check_rdfxml(data: bytes, where: str = "body") -> None:
    """Refuse RDF/XML that declares a DTD or entities, or that is not UTF-8 (see the module doc)."""
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) or (len(head) == 4 and 0 in head[:2]):
        raise RdfRefused(f"{where}: RDF/XML is accepted in UTF-8 only (this one is UTF-16 or UTF-32)",
                         status=415, code="xml-encoding")
    m = _XML_DECL.match(data[:200])
    if m and m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise RdfRefused(f"{where}: RDF/XML is accepted in UTF-8 only (this one declares "
                         f"encoding {m.group(1).decode('ascii', 'replace')})", status=415, code="xml-encoding")
    if _DTD.search(data):
        raise RdfRefused(f"{where}: RDF/XML with a DOCTYPE or ENTITY declaration is refused (entity "
                         "expansion); remove the DTD and write the values out", code="xml-doctype")
    depth = xml_depth(data, stop_after=MAX_XML_DEPTH)
    if depth > MAX_XML_DEPTH:
        raise RdfRefused(f"{where}: RDF/XML nested more than {MAX_XML_DEPTH} elements deep (the limit); "
                         "flatten it", code="xml-too-deep", maximum=MAX_XML_DEPTH)


def parse_rdf(data: bytes, fmt: ox.RdfFormat, *, where: str = "body", base_iri: str | None = None) -> list[ox.Quad]:
    """The quads of ``data`` in ``fmt``, or a KGError: 415 for N3 and non-UTF-8 RDF/XML, 400 for a
    DTD in RDF/XML or a syntax error (DataError, with line and column), 413 for one token over
    MAX_TOKEN_BYTES."""
    if fmt == ox.RdfFormat.N3:
        raise RdfRefused(f"{where}: N3 is not accepted (its formulas would land in graphs no DROP can "
                         "remove); send Turtle, TriG, N-Triples, N-Quads, JSON-LD or RDF/XML",
                         status=415, code="n3-not-accepted")
    if fmt == ox.RdfFormat.RDF_XML:
        check_rdfxml(data, where)
    try:
        return list(ox.parse(data, format=fmt, base_iri=base_iri))
    except MemoryError:
        raise RdfRefused(f"{where}: a single literal or IRI is larger than the parser's buffer "
                         f"({MAX_TOKEN_BYTES // (1024 * 1024)} MiB); split it", status=413,
                         code="token-too-large") from None
    except SyntaxError:
        raise
    except (ValueError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(f"{where}: {first}", path=where) from None
