"""SPARQL 1.1 Protocol: request parsing, content negotiation, result serialization.

No Flask here: functions take plain values (method, headers, parameters, body)
and return plain values or raise :class:`ProtocolError`.  The web layer only
moves bytes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
import re
from urllib.parse import unquote
from xml.sax.saxutils import escape as xml_escape, quoteattr

import pyoxigraph as ox

from ..kg.errors import KGError


class ProtocolError(KGError):
    code = "protocol"

    def __init__(self, message: str, status: int = 400, **details):
        super().__init__(message, status=status, **details)


# -- formats ---------------------------------------------------------------------

@dataclass(frozen=True)
class Format:
    name: str          # the value of ?format=
    media_type: str
    aliases: tuple = ()


RESULT_FORMATS = (
    Format("json", "application/sparql-results+json", ("application/json",)),
    Format("xml", "application/sparql-results+xml", ("application/xml", "text/xml")),
    Format("csv", "text/csv"),
    Format("tsv", "text/tab-separated-values"),
)
GRAPH_FORMATS = (
    Format("turtle", "text/turtle", ("application/x-turtle", "text/n3")),
    Format("ntriples", "application/n-triples", ("text/plain",)),
    Format("jsonld", "application/ld+json", ("application/json",)),
    Format("rdfxml", "application/rdf+xml", ("application/xml", "text/xml")),
    Format("trig", "application/trig"),
    Format("nquads", "application/n-quads"),
)
FORMAT_ALIASES = {"ttl": "turtle", "nt": "ntriples", "n-triples": "ntriples", "nq": "nquads",
                  "n-quads": "nquads", "json-ld": "jsonld", "rdf": "rdfxml", "rdf/xml": "rdfxml",
                  "srj": "json", "srx": "xml"}
OX_GRAPH_FORMAT = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
                   "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML,
                   "trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS}
OX_RESULT_FORMAT = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                    "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


def _parse_accept(accept: str) -> list[tuple[str, float, int]]:
    """Accept header -> [(media range, q, order)], best first; malformed parts ignored."""
    out = []
    for i, part in enumerate((accept or "").split(",")):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0] or "/" not in bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = max(0.0, min(1.0, float(b[2:])))
                except ValueError:
                    q = 0.0
        out.append((bits[0].lower(), q, i))
    return out


_CHOSEN: dict = {}  # (accept, formats, format) -> Format: the same few headers come again and again


def negotiate(accept: str | None, formats: tuple[Format, ...], format_param: str | None = None) -> Format:
    """Choose a format: ``?format=`` wins, then Accept with q-values, else the first (default).

    Raises a 406 ProtocolError naming the available media types.
    """
    if formats is not RESULT_FORMATS and formats is not GRAPH_FORMATS:
        return _negotiate(accept, formats, format_param)
    key = (accept, formats is RESULT_FORMATS, format_param)
    chosen = _CHOSEN.get(key)
    if chosen is None:
        chosen = _negotiate(accept, formats, format_param)
        if len(_CHOSEN) > 4096:
            _CHOSEN.clear()
        _CHOSEN[key] = chosen
    return chosen


def _negotiate(accept: str | None, formats: tuple[Format, ...], format_param: str | None) -> Format:
    available = ", ".join(f.media_type for f in formats)
    if format_param:
        want = format_param.strip().lower()
        want = FORMAT_ALIASES.get(want, want)
        for f in formats:
            if want in (f.name, f.media_type, *f.aliases):
                return f
        names = ", ".join(f.name for f in formats)
        raise ProtocolError(f"format {format_param!r} is not available here; use one of {names} "
                            f"(or Accept: {available})", status=406)
    ranges = _parse_accept(accept or "")
    if not ranges:
        return formats[0]
    best, best_key = None, None
    for f in formats:
        types = (f.media_type, *f.aliases)
        for rng, q, order in ranges:
            if q <= 0:
                continue
            if rng == "*/*":
                spec, match = 0, True
            elif rng.endswith("/*"):
                spec, match = 1, f.media_type.startswith(rng[:-1])  # wildcards: primary type only
            else:
                spec, match = 2 if rng == f.media_type else 1.5, rng in types
            if match:
                # prefer higher q, then more specific, then the server's order
                key = (q, spec, -formats.index(f))
                if best_key is None or key > best_key:
                    best, best_key = f, key
    if best is None:
        raise ProtocolError(f"none of the requested media types ({accept}) can be produced; "
                            f"available: {available}", status=406)
    return best


# -- requests --------------------------------------------------------------------

@dataclass
class SparqlRequest:
    query: str | None = None
    update: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise ProtocolError(f"parameter {name!r} was given {len(values)} times; give it once")
    return values[0] if values else None


def _unquote(s: str) -> str:
    """urllib.parse.unquote_plus(s, errors="replace"), about five times faster on an ASCII
    string: the percent escapes are decoded by the C codec (as backslash escapes), not by a
    Python loop.  An invalid escape falls back to urllib, which keeps it as it is."""
    s = s.replace("+", " ")
    if "%" not in s:
        return s
    if s.isascii():
        try:
            return (s.replace("\\", "\\\\").replace("%", "\\x").encode("ascii").decode("unicode_escape")
                    .encode("latin-1").decode("utf-8", "replace"))
        except UnicodeDecodeError:
            pass
    return unquote(s, errors="replace")


def parse_query_string(qs: str) -> dict[str, list[str]]:
    """What ``urllib.parse.parse_qs(qs, keep_blank_values=True)`` returns (tests/test_protocol.py
    checks it on random strings), for a query string or a form body.  A 500-character query
    costs 30 us in urllib's pure-Python decoding, which is a tenth of a lookup's whole cost."""
    out: dict[str, list[str]] = {}
    for item in qs.split("&"):
        if item:
            name, _, value = item.partition("=")
            out.setdefault(_unquote(name), []).append(_unquote(value))
    return out


def without_chunked_encoding(environ) -> bool:
    """The request came over HTTP/1.0 (no chunked encoding; granian writes its version as
    "HTTP/1", werkzeug as "HTTP/1.0")."""
    return environ.get("SERVER_PROTOCOL") in ("HTTP/1.0", "HTTP/1", "HTTP/0.9")


def parse_sparql_request(method: str, content_type: str | None, args: dict[str, list[str]],
                         body: bytes, *, kind: str = "query") -> SparqlRequest:
    """The three request forms of the SPARQL 1.1 Protocol (and the update forms).

    ``kind`` is "query" for /sparql and "update" for /update.  Any other form is
    415 (unsupported content type) or 405 (method).
    """
    ctype = (content_type or "").split(";")[0].strip().lower()
    params = {k: list(v) for k, v in args.items()}
    direct = None
    if method == "GET":
        if kind == "update":
            raise ProtocolError("SPARQL Update must be sent with POST", status=405)
    elif method == "POST":
        if ctype == "application/x-www-form-urlencoded":
            try:
                form = parse_query_string(body.decode("utf-8"))
            except UnicodeDecodeError:
                raise ProtocolError("the form body is not UTF-8") from None
            for k, v in form.items():
                params.setdefault(k, []).extend(v)
        elif ctype == f"application/sparql-{kind}":
            if kind in params and params[kind]:
                raise ProtocolError(f"a direct POST carries the {kind} in its body; "
                                    f"do not also pass ?{kind}=")
            try:
                direct = body.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(f"the {kind} body is not UTF-8") from None
        elif not ctype:
            raise ProtocolError(f"POST needs a Content-Type: application/x-www-form-urlencoded "
                                f"or application/sparql-{kind}", status=415)
        else:
            raise ProtocolError(f"unsupported Content-Type {ctype!r}; use "
                                f"application/x-www-form-urlencoded or application/sparql-{kind}",
                                status=415)
    else:
        raise ProtocolError(f"method {method} is not allowed; use GET or POST", status=405)

    for name in ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri"):
        for iri in params.get(name, []):
            try:
                ox.NamedNode(iri)
            except ValueError:
                raise ProtocolError(f"{name} {iri!r} is not a valid IRI") from None
    req = SparqlRequest(params=params)
    if kind == "query":
        if "update" in params:
            raise ProtocolError("this endpoint is read-only: send SPARQL Update to /update with a "
                                "token (every change is validated by the SHACL shapes)", status=403)
        req.query = direct if direct is not None else _one(params, "query")
        req.default_graphs = params.get("default-graph-uri", [])
        req.named_graphs = params.get("named-graph-uri", [])
    else:
        if "query" in params:
            raise ProtocolError("a query was sent to the update endpoint; send it to /sparql")
        req.update = direct if direct is not None else _one(params, "update")
        req.default_graphs = params.get("using-graph-uri", [])
        req.named_graphs = params.get("using-named-graph-uri", [])
    return req


def looks_like_update(text: str) -> bool:
    """True when a 'query' is really an update (so /sparql can answer 403, not 400)."""
    body = re.sub(r"#[^\n]*", " ", text)
    body = re.sub(r"(?is)^\s*((PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*", "", body)
    return bool(re.match(r"(?i)\s*(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", body))


# -- serialization ---------------------------------------------------------------

def _term_json(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        d = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype and t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            d["datatype"] = t.datatype.value
        return d
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": _term_json(t.subject),
                                            "predicate": _term_json(t.predicate),
                                            "object": _term_json(t.object)}}
    return {"type": "literal", "value": str(t)}


# Line breaks and tabs in values as character references, as pyoxigraph writes them: a parser
# that trims the text around elements (pyoxigraph's does) then still reads them.
_XML_WS = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _term_xml(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{xml_escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{xml_escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{xml_escape(t.value, _XML_WS)}</literal>"
        if t.datatype and t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            return f"<literal datatype={quoteattr(t.datatype.value)}>{xml_escape(t.value, _XML_WS)}</literal>"
        return f"<literal>{xml_escape(t.value, _XML_WS)}</literal>"
    return f"<literal>{xml_escape(str(t), _XML_WS)}</literal>"


def _csv_field(t) -> str:
    if t is None:
        return ""
    v = t.value if not isinstance(t, ox.BlankNode) else f"_:{t.value}"
    if any(c in v for c in ',"\r\n'):
        v = '"' + v.replace('"', '""') + '"'
    return v


def _tsv_field(t) -> str:
    if t is None:
        return ""
    s = str(t)  # N-Triples syntax, as TSV requires
    return s.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def iter_solutions(variables: list[str], rows, fmt: Format):
    """The serialization of SELECT ``rows`` in ``fmt``, piece by piece (str), for streaming.

    ``rows`` may be any iterable of term tuples (a generator included); nothing is kept.
    Joined, the pieces are exactly what render_solutions returns.
    """
    if fmt.name == "json":
        yield '{"head":{"vars":' + json.dumps(variables, ensure_ascii=False, separators=(",", ":")) + \
              '},"results":{"bindings":['
        first = True
        for r in rows:
            b = {v: _term_json(t) for v, t in zip(variables, r) if t is not None}
            yield ("" if first else ",") + json.dumps(b, ensure_ascii=False, separators=(",", ":"))
            first = False
        yield "]}}"
    elif fmt.name == "xml":
        yield ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>'
               + "".join(f"<variable name={quoteattr(v)}/>" for v in variables) + "</head>\n<results>\n")
        for r in rows:
            yield "<result>" + "".join(f"<binding name={quoteattr(v)}>{_term_xml(t)}</binding>"
                                       for v, t in zip(variables, r) if t is not None) + "</result>\n"
        yield "</results>\n</sparql>\n"
    elif fmt.name == "csv":
        yield ",".join(variables) + "\r\n"
        for r in rows:
            yield ",".join(_csv_field(t) for t in r) + "\r\n"
    else:
        yield "\t".join("?" + v for v in variables) + "\n"
        for r in rows:
            yield "\t".join(_tsv_field(t) for t in r) + "\n"


def render_solutions(variables: list[str], rows, fmt: Format) -> bytes:
    return "".join(iter_solutions(variables, rows, fmt)).encode()


# -- keyword scanning (USING/WITH in server.writes); SERVICE and LOAD: server.sparql.calls ----

def _strip_comments_and_strings(text: str) -> str:
    """Blank out comments and string literals so keyword scanning cannot be fooled."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "<":
            j = text.find(">", i)
            if j != -1 and not any(ch in text[i:j] for ch in " \n\t{}\"'"):
                out.append(text[i:j + 1])
                i = j + 1
                continue
            out.append(c)
            i += 1
        elif c in "\"'":
            long = text.startswith(c * 3, i)
            delim = c * 3 if long else c
            j = i + len(delim)
            while j < n and not text.startswith(delim, j):
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + len(delim)
        elif c == "#":
            j = text.find("\n", i)
            i = n if j == -1 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)
