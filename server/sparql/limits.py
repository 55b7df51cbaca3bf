"""Structural limits on SPARQL text, checked before pyoxigraph sees a query or update.

pyoxigraph 0.5.13 parses and evaluates recursively: a query nested or chained deeply enough
overflows the thread's stack and the process dies with SIGSEGV (no Python exception, so
no try/except can catch it).  Measured in a fresh process (8 MiB main-thread stack) with
``bench/fuzz.py --thresholds``; the first number is still survived, the second crashes:

==========================================================  ==============  =======
shape                                                       survives        crashes
==========================================================  ==============  =======
nested groups ``SELECT*{`` + ``{``×N + ``}``×N + ``}``      N = 2,000       2,500
nested parentheses in a FILTER                              2,500           5,000
nested OPTIONAL                                             2,500           5,000
nested FILTER NOT EXISTS                                    600             1,000
nested blank-node property lists ``[ :p [ :p … ]]``         (slow) 3,000    20,000
a chain ``1+1+…+1``, ``a||b||…``, ``{…} UNION {…} UNION …``  6,000           10,000
a property path ``<p>/<p>/…/<p>``                           (slow) 6,000    10,000
consecutive BINDs in one group                              2,000           3,000
triple patterns in one group                                (slow) 5,000    12,000
items of a collection ``( 1 1 … 1 )``                       (slow) 3,000    5,000
==========================================================  ==============  =======

So three quantities are bounded, each far below its lowest crash and far above what a person
writes (the saved queries in queries/ reach a nesting of 6 and 40 operators; the W3C SPARQL
1.1 test queries stay under 20 and 100):

* ``nesting``: the deepest nesting of ``{``, ``(`` and ``[`` (MAX_NESTING = 100; the lowest crash
  is about 600 levels of NOT EXISTS, each one level here, or 300 as ``FILTER(NOT EXISTS {``).
* ``operators``: every token that adds one node to a chain in the algebra: expression and path
  operators (``+ - * / | || && ! ^ = != < <= > >= ?``), the pattern keywords (UNION, OPTIONAL,
  MINUS, BIND, FILTER, SERVICE, GRAPH, EXISTS, SELECT, VALUES) and the separators of triple
  patterns (``.`` ``;`` ``,`` in a group or a blank-node list) (MAX_OPERATORS = 1,000; the lowest
  crash is about 2,500 BINDs).  The triples of ``INSERT DATA``/``DELETE DATA`` and the rows of
  ``VALUES`` are flat lists to the engine and are not counted (a 300,000-triple INSERT DATA is
  handled).
* ``list items``: terms inside parentheses (collections ``( … )``, argument lists, IN lists), outside
  VALUES and DATA blocks (MAX_LIST_ITEMS = 1,000; collections crash at about 5,000): write a long
  list of values as ``VALUES ?x { … }``.

With all three at their limits at once, each shape above still runs in a fresh process (a test
checks).  The server's query threads have 256 MiB stacks (server.sparql.runner.QUERY_STACK), far
more than these measurements had: the limits are kept as they are, a wide margin on that stack.  The length is bounded by the caller's MAX_QUERY_LENGTH setting (and the body limits).
A query over a limit is refused with :class:`QueryTooComplex` (400, ``query-too-complex``), which
names the limit and the measured value.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..kg.errors import KGError
from .lexer import tokenize

MAX_NESTING = 100
MAX_OPERATORS = 1000
MAX_LIST_ITEMS = 1000

_OPERATORS = frozenset("+ - * / | || && ! ^ = != < <= > >= ?".split())
_PATTERN_KEYWORDS = frozenset("UNION OPTIONAL MINUS BIND FILTER SERVICE GRAPH EXISTS SELECT VALUES".split())
_TERMS = frozenset(("iri", "string", "var", "bnode", "pname", "number", "word"))
_OPEN, _CLOSE = "{([", "})]"


class QueryTooComplex(KGError):
    status = 400
    code = "query-too-complex"


@dataclass
class Shape:
    """What check_query_text measures."""
    length: int
    nesting: int
    operators: int
    list_items: int


def measure(text: str, tokens=None) -> Shape:
    """The shape of ``text`` (see the module's doc); ``tokens`` from lexer.tokenize if already made."""
    toks = tokenize(text) if tokens is None else tokens
    stack: list[tuple[str, bool]] = []   # (bracket, inside a VALUES or DATA block)
    deepest = operators = items = 0
    prev = None
    data_next = False  # the next { opens a data block (after VALUES or DATA)
    for kind, tok, _, _ in toks:
        in_data = bool(stack) and stack[-1][1]
        if kind == "punct":
            if tok in _OPEN:
                stack.append((tok, in_data or (tok == "{" and data_next)))
                if tok == "{":
                    data_next = False
                if len(stack) > deepest:
                    deepest = len(stack)
            elif tok in _CLOSE:
                if stack:
                    stack.pop()
            elif tok in _OPERATORS:
                operators += 1
            elif tok in ".,;" and not in_data and stack and stack[-1][0] in "{[":
                operators += 1
        elif kind == "word":
            up = tok.upper()
            if up in _PATTERN_KEYWORDS:
                operators += 1
            if up == "VALUES" or (up == "DATA" and prev is not None and prev.upper() in ("INSERT", "DELETE")):
                data_next = True
            elif stack and stack[-1][0] == "(" and not in_data and up not in _PATTERN_KEYWORDS:
                items += 1 if up in ("A", "TRUE", "FALSE", "UNDEF") else 0
        if kind in _TERMS and kind != "word" and stack and stack[-1][0] == "(" and not in_data:
            items += 1
        prev = tok if kind == "word" else None
    return Shape(len(text), deepest, operators, items)


_KEYWORD_LIST = tuple(sorted(_PATTERN_KEYWORDS))


def _surely_within(text: str) -> bool:
    """True when counts over the raw text, each an upper bound of what measure() would find
    (brackets, operator characters and keywords inside strings, IRIs and comments counted too),
    are within the limits; then the tokenizer is not needed.  A term in a list takes at least
    two characters (itself and a separator), so a text of up to 2 × MAX_LIST_ITEMS characters
    has at most MAX_LIST_ITEMS of them.  Most queries are settled here in a few microseconds."""
    if len(text) > 2 * MAX_LIST_ITEMS or "\\u" in text or "\\U" in text:  # (escapes: see lexer)
        return False
    count = text.count
    if count("{") + count("(") + count("[") > MAX_NESTING:
        return False
    ops = sum(map(count, "+-*/|&!^=<>?.,;"))
    return ops <= MAX_OPERATORS and ops + sum(map(text.upper().count, _KEYWORD_LIST)) <= MAX_OPERATORS


def check_query_text(text: str, *, update: bool = False, max_length: int | None = None) -> None:
    """Raise QueryTooComplex (400) when ``text`` is over a limit of this module (or ``max_length``
    characters, when given); QueryError (400) for a \\u escape outside a string or IRI.
    ``update``: the text is a SPARQL Update (only for the messages; the limits are the same)."""
    what = "update" if update else "query"
    if max_length is not None and len(text) > max_length:
        raise QueryTooComplex(f"the {what} is {len(text)} characters long; the limit is {max_length}",
                              status=413, code="too-large", limit="length", value=len(text), maximum=max_length)
    if _surely_within(text):
        return
    shape = measure(text)
    for name, value, limit, hint in (
            ("nesting", shape.nesting, MAX_NESTING, "nested { ( [ levels"),
            ("operators", shape.operators, MAX_OPERATORS, "operators, pattern keywords and triple patterns"),
            ("list_items", shape.list_items, MAX_LIST_ITEMS, "terms in parentheses; use VALUES for long lists")):
        if value > limit:
            raise QueryTooComplex(f"the {what} is too complex: {value} {hint}, the limit is {limit} "
                                  f"({name}); split it or simplify it",
                                  limit=name, value=value, maximum=limit)
