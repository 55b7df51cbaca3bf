"""Which remote endpoints a query or update would call, decided from the parsed text.

pyoxigraph 0.5.13 fetches from the network for exactly two things (checked with a listening
socket: FROM, FROM NAMED, USING, WITH, ADD, CREATE and DESCRIBE of a remote IRI fetch nothing):
``SERVICE`` in a query or in the WHERE clause of an update (POST to the endpoint), and ``LOAD``
in an update (GET).  Both are found here in the algebra that rdflib's SPARQL parser builds,
with prefixes and BASE resolved, and checked against SERVICE_ALLOWLIST.

Three rules keep the check and the engine reading the same text:

* The text is first read by :mod:`server.sparql.lexer` (the SPARQL token rules, as pyoxigraph
  reads them); rdflib is given that reading back, with each string literal emptied and each IRI's
  ``\\u`` escapes expanded, so that no escape or quote can make the two parsers disagree on
  where a string or an IRI ends.
* The number of SERVICE and LOAD keywords the tokenizer sees must equal the number rdflib's
  algebra holds; text that names SERVICE or LOAD and that rdflib cannot parse, or where the
  counts differ, is refused (400, fail closed).
* The IRI of each SERVICE and LOAD, and every PREFIX and BASE of such a text, must be written
  absolute: no relative reference whose resolution two parsers could disagree on.

An endpoint is allowed when it is http(s) and equals an allow-list entry, or starts with an
entry that ends in ``/``.  ``file:`` and every other scheme, variable endpoints (``SERVICE ?x``)
and endpoints off the list are refused with 403 (``service-not-allowed``).
"""
from __future__ import annotations

import re

from ..kg.errors import KGError, QueryError
from .lexer import tokenize

#: SERVICE or LOAD as a word anywhere (pyoxigraph expands no \\u escape outside strings and IRIs,
#: so the keywords cannot be written otherwise).
_MAY_CALL = re.compile(r"(?i)(?<![\w:?$])(?:service|load)(?![\w:])")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_IRI_FORBIDDEN = re.compile(r'[<>"{}|^`\\\x00-\x20]')


class ServiceNotAllowed(KGError):
    status = 403
    code = "service-not-allowed"


class UncheckableCall(QueryError):
    """The text names SERVICE or LOAD but its calls cannot be told for sure."""
    status = 400
    code = "service-uncheckable"


def parse_allowlist(setting) -> list[str]:
    """SERVICE_ALLOWLIST (space-separated IRIs or prefixes ending in /) as a list."""
    return setting.split() if isinstance(setting, str) else list(setting or ())


def allowed(endpoint: str, allowlist) -> bool:
    scheme = endpoint.split(":", 1)[0].lower()
    if scheme not in ("http", "https"):
        return False
    return any(endpoint == a or (a.endswith("/") and endpoint.startswith(a)) for a in allowlist)


def _normalised(text: str, tokens) -> str:
    """The text as the tokenizer read it: comments as spaces, strings empty, IRIs unescaped."""
    out, at = [], 0
    for kind, tok, pos, end in tokens:
        out.append(" " if pos > at else "")
        if kind == "string":
            out.append("''")
        elif kind == "iri":
            if _IRI_FORBIDDEN.search(tok):
                raise UncheckableCall("an IRI in this text holds an escaped character that no IRI may hold")
            out.append(f"<{tok}>")
        else:
            out.append(tok)
        at = end
    return "".join(out)


def _walk(node, found: list) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, CompValue):
            if n.name == "ServiceGraphPattern":
                found.append(("SERVICE", n.get("term")))
            elif n.name == "Load":
                found.append(("LOAD", n.get("iri")))
            stack.extend(v for k, v in n.items() if k != "service_string")
        elif isinstance(n, dict):
            stack.extend(n.values())
        elif isinstance(n, (list, tuple, set)):
            stack.extend(n)


def remote_calls(text: str, *, update: bool = False, base_iri: str | None = None,
                 prefixes: dict | None = None) -> list[tuple[str, str]]:
    """[(keyword, endpoint)] for every SERVICE and LOAD in ``text`` ('?x' for a variable
    endpoint).  ``prefixes``: those the engine is given (they may be left undeclared in the text).
    Raises UncheckableCall (400) when that cannot be told for sure."""
    upper = text.upper()
    if ("SERVICE" not in upper and "LOAD" not in upper) or not _MAY_CALL.search(text):
        return []  # the usual case, in microseconds: no keyword that could call
    tokens = tokenize(text)
    words = [(i, t.text.upper()) for i, t in enumerate(tokens) if t.kind == "word"]
    wanted = {"SERVICE": 0, "LOAD": 0}
    for _, w in words:
        if w in wanted:
            wanted[w] += 1
    if not any(wanted.values()):
        return []
    for i, w in words:
        if w in ("PREFIX", "BASE", "SERVICE", "LOAD"):
            j = i + 1
            while j < len(tokens) and tokens[j].kind in ("pname", "word") and w in ("PREFIX", "SERVICE", "LOAD"):
                j += 1  # the prefix's name, SILENT
            if j < len(tokens) and tokens[j].kind == "iri" and not _ABSOLUTE.match(tokens[j].text):
                raise UncheckableCall(f"{w} <{tokens[j].text}>: write this IRI absolute in a text that "
                                      "uses SERVICE or LOAD")
    from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    clean = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in (prefixes or {}).items()) + _normalised(text, tokens)
    try:
        if update:
            tree = translateUpdate(parseUpdate(clean), base=base_iri).algebra
        else:
            tree = translateQuery(parseQuery(clean), base=base_iri).algebra
    except RecursionError:
        raise UncheckableCall("this text names SERVICE or LOAD and is nested too deeply to check "
                              "which endpoints it calls") from None
    except Exception as exc:  # pyparsing and rdflib raise many kinds
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise UncheckableCall(f"this text names SERVICE or LOAD, and the endpoints it calls cannot "
                              f"be checked: {first}") from None
    found: list = []
    _walk(tree, found)
    for kw in wanted:
        n = sum(1 for k, _ in found if k == kw)
        if n != wanted[kw]:
            raise UncheckableCall(f"the text holds {wanted[kw]} {kw} keyword(s) but {n} {kw} clause(s) "
                                  "were found when parsing it; refused")
    from rdflib.term import Variable

    return [(k, "?" + str(t) if isinstance(t, Variable) else str(t)) for k, t in found]


def check_remote_calls(text: str, *, update: bool = False, allowlist=(), base_iri: str | None = None,
                       prefixes: dict | None = None) -> None:
    """Raise ServiceNotAllowed (403) when ``text`` would call an endpoint that ``allowlist`` does
    not allow (``file:`` and non-http(s) always), or UncheckableCall (400) when that cannot be told."""
    allow = parse_allowlist(allowlist)
    for kw, ep in remote_calls(text, update=update, base_iri=base_iri, prefixes=prefixes):
        if ep.startswith("?"):
            raise ServiceNotAllowed(f"{kw} with a variable endpoint ({ep}) is not allowed here")
        if not allowed(ep, allow):
            why = ("only http and https endpoints can be called"
                   if ep.split(":", 1)[0].lower() not in ("http", "https")
                   else "it is not on this server's allow-list (setting SERVICE_ALLOWLIST)")
            raise ServiceNotAllowed(f"{kw} <{ep}> is refused: {why}", endpoint=ep)
