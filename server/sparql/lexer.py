"""A SPARQL 1.1 tokenizer: the lexical productions of the grammar, so that checks made before the
engine sees a query (server.sparql.limits, server.sparql.calls) read the text as the engine does.

Strings in the four quote forms with their escapes, IRIs per the IRIREF production (``<`` that does
not open an IRI is the less-than operator), ``#`` comments to the end of a line, prefixed names
(with ``\\``-escapes in the local part), blank-node labels, variables, numbers, language tags,
keywords and punctuation.

``\\uXXXX`` and ``\\UXXXXXXXX`` escapes: the SPARQL text says they are expanded before parsing.
pyoxigraph expands them inside strings and IRIs only (``SELECT * { \\u003Fs ?p ?o }`` is a syntax
error to it), and expanding them everywhere first would let ``"\\u0022"`` (a one-character string
to the engine) end a string early to a checker.  So this tokenizer keeps them inside strings and
IRIs (an IRI's value is given with them expanded) and refuses them anywhere else
(:class:`EscapeOutsideToken`), where the engine would refuse the query anyway.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from ..kg.errors import QueryError

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_PN_CHARS_BASE = r"[^\W\d_]"
_PN_CHARS = r"[\w\-\u00B7\u0300-\u036F\u203F-\u2040]"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"{_PN_CHARS_BASE}(?:(?:{_PN_CHARS}|\.)*{_PN_CHARS})?"
_PN_LOCAL = (rf"(?:[\w:]|{_PLX})(?:(?:{_PN_CHARS}|[.:]|{_PLX})*(?:{_PN_CHARS}|:|{_PLX}))?")

_TOKEN = re.compile("|".join([
    r"(?P<ws>\s+)",
    r"(?P<comment>#[^\n\r]*)",
    rf"(?P<iri><(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)",
    r"(?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\[\s\S]))*'''"
    r'|"""(?:(?:"|"")?(?:[^"\\]|\\[\s\S]))*"""'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|"(?:[^"\\\n\r]|\\.)*")',
    r"(?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)",
    r"(?P<bnode>_:[\w](?:[\w.\-\u00B7]*[\w\-\u00B7])?)",
    rf"(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)",
    r"(?P<number>\d+\.\d*[eE][+-]?\d+|\d*\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)",
    r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
    r"(?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)",
    r"(?P<punct>\^\^|\|\||&&|!=|<=|>=|[{}()\[\].,;*/|^+\-!=<>?])",
    rf"(?P<escape>{_UCHAR})",
    r"(?P<other>[\s\S])",
]))


class Token(NamedTuple):
    kind: str    # iri string var bnode pname number word langtag punct other
    text: str    # as written (for an IRI: its value between < >, \\u escapes expanded)
    pos: int     # offset in the query text
    end: int     # offset just after it


class EscapeOutsideToken(QueryError):
    code = "bad-query"


def _unescape(s: str) -> str:
    return re.sub(_UCHAR, lambda m: chr(int(m.group()[2:], 16)), s)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, without white space and comments.  Never fails on bad syntax (an
    unknown character is an ``other`` token; the engine reports the error), except for a \\u
    escape outside a string or IRI (:class:`EscapeOutsideToken`, 400)."""
    out: list[Token] = []
    append = out.append
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        tok = m.group()
        if kind == "iri":
            value = tok[1:-1]
            append(Token("iri", _unescape(value) if "\\" in value else value, m.start(), m.end()))
        elif kind == "escape":
            line = text.count("\n", 0, m.start()) + 1
            raise EscapeOutsideToken(f"a \\u escape at line {line} outside a string or IRI; write the "
                                     "character itself", line=line)
        else:
            append(Token(kind, tok, m.start(), m.end()))
    return out
