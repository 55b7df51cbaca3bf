"""SHACL SPARQL-based constraints (SHACL §5) evaluated by pyoxigraph, one query per constraint.

pyshacl-turbo runs a SPARQL constraint once per focus node, and each run costs about as much
as running the query over all the data (70 ms a fact on a 144k-triple focus subgraph, against
0.3 ms in pyoxigraph with the node bound): on a load of 100k triples its SPARQL constraints took
265 s of its 269 s.  For the turbo engine, :func:`split` takes the SPARQL constraints out of the
shapes (pyshacl-turbo keeps every other constraint) and :func:`evaluate` runs each one once,
for all its focus nodes together (see :func:`_rows`).

That is the same as pre-binding ``$this`` (SHACL §5.2.1) for the queries that §5.2.1 allows
and that are taken out here: every sub-select projects ``$this`` (so joining it on ``$this``
afterwards equals binding it inside), no ``VALUES``, ``MINUS`` or ``BIND`` of ``$this``, and no
``LIMIT``/``OFFSET`` (which would count across focus nodes).  A constraint that does not keep
to that, or whose shape is a blank node, is used otherwise (``sh:node``, ``sh:or`` …), has
other kinds of targets or is nested, stays with pyshacl-turbo.  Focus nodes that are blank
nodes (which ``VALUES`` cannot name) are bound one at a time through ``substitutions``.

Each solution gives a result as SHACL §5.3.2 and pySHACL make it: focus node ``$this``, path
``?path`` or the property shape's path, value ``?value`` (a node shape: the focus node when
unbound), the messages of the shape and the constraint with ``{?var}``/``{$var}`` replaced by
the solution's values, severity of the shape, source constraint and shape.
``tests/test_validation.py`` checks that the reports equal pySHACL's on every fixture and on
the shipped data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

_SH = "http://www.w3.org/ns/shacl#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
COMPONENT = f"<{_SH}SPARQLConstraintComponent>"


def _sh(name: str) -> ox.NamedNode:
    return ox.NamedNode(_SH + name)


RDF_TYPE = ox.NamedNode(_RDF + "type")
RDF_FIRST, RDF_REST, RDF_NIL = (ox.NamedNode(_RDF + n) for n in ("first", "rest", "nil"))
#: predicates by which a shape uses another shape other than as a top-level property shape
NESTING = tuple(_sh(n) for n in ("node", "not", "qualifiedValueShape", "and", "or", "xone"))
TARGETS = {"targetClass": "class", "targetNode": "node", "targetSubjectsOf": "subjectsOf",
           "targetObjectsOf": "objectsOf"}
CHUNK = 1000


@dataclass(frozen=True)
class Check:
    """One SPARQL constraint of one shape, run for the focus nodes of ``parents``."""
    shape: ox.NamedNode
    parents: tuple  # the node shapes whose focus nodes it checks (the shape itself if a node shape)
    path: str | None  # the property shape's path, as a SPARQL path (None for a node shape)
    severity: str
    prefixes: str  # PREFIX lines from sh:prefixes
    select: str  # the constraint's sh:select
    at: int  # where VALUES $this goes in ``select``
    messages: tuple  # (text, language) of the shape's and the constraint's sh:message
    constraint: str | None  # the constraint node as N-Triples when it is an IRI


@dataclass(frozen=True)
class Plan:
    checks: tuple
    targets: dict  # node shape -> tuple of (kind, term)
    rest: list  # the shapes' quads without the SPARQL constraints taken out


def _values(g: ox.Store, s, p) -> list:
    return [q.object for q in g.quads_for_pattern(s, p, None, None)]


def _one(g: ox.Store, s, p):
    vals = _values(g, s, p)
    return vals[0] if vals else None


def _list(g: ox.Store, head) -> list:
    out = []
    while head is not None and head != RDF_NIL:
        first = _one(g, head, RDF_FIRST)
        if first is not None:
            out.append(first)
        head = _one(g, head, RDF_REST)
    return out


def path_text(g: ox.Store, node) -> str:
    """A SHACL path node as a SPARQL property path with full IRIs (as the report parser writes it)."""
    if isinstance(node, ox.NamedNode):
        return f"<{node.value}>"
    if _one(g, node, RDF_FIRST) is not None:
        items = [path_text(g, n) for n in _list(g, node)]
        return "(" + "/".join(items) + ")" if len(items) > 1 else items[0]
    for pred, fmt in (("inversePath", "^{}"), ("zeroOrMorePath", "{}*"), ("oneOrMorePath", "{}+"),
                      ("zeroOrOnePath", "{}?")):
        inner = _one(g, node, _sh(pred))
        if inner is not None:
            text = path_text(g, inner)
            if not (text.startswith("<") or text.startswith("(")):
                text = f"({text})"
            return fmt.format(text)
    alt = _one(g, node, _sh("alternativePath"))
    if alt is not None:
        return "(" + "|".join(path_text(g, n) for n in _list(g, alt)) + ")"
    return f"_:{node.value}"


def _is_true(term) -> bool:
    return isinstance(term, ox.Literal) and term.value in ("true", "1")


#: a keyword, not part of a variable (?base) or of a prefixed name (ep:values)
_KW = r"(?i)(?<![?$:\w])"
_SELECT_HEAD = re.compile(_KW + r"SELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?([?$]\w+|\*|\()")


def _blank_strings(text: str) -> str:
    """``text`` with its comments, strings and IRIs replaced by spaces (the same length)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        j = i
        if c == "#":
            j = text.find("\n", i)
            j = n if j == -1 else j
        elif c in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + len(quote))
        elif c == "<":
            m = _IRIREF.match(text, i)
            j = m.end() if m else i
        if j > i:
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')


def _batchable(select: str) -> int | None:
    """Where ``VALUES $this`` goes in ``select`` (just inside the outermost group), or None when
    the query is not one that a VALUES join answers as pre-binding does (see the module doc)."""
    blank = _blank_strings(select)
    if re.search(_KW + r"(VALUES|MINUS|LIMIT|OFFSET|SERVICE|PREFIX|BASE)\b", blank):
        return None
    if re.search(r"(?i)\bAS\s+[?$]this\b", blank) or re.search(r"[?$](PATH|currentShape|shapesGraph)\b", blank):
        return None
    heads = _SELECT_HEAD.findall(blank)
    if not heads or len(heads) != len(re.findall(_KW + r"SELECT\b", blank)):
        return None
    if any(h[0] not in "?$" or h[1:] != "this" for h in heads):  # every (sub-)select projects $this
        return None
    start = re.search(_KW + r"SELECT\b", blank)
    if blank[:start.start()].strip():
        return None
    brace = blank.find("{", start.end())
    if brace == -1:
        return None
    if "(" in blank[start.end():brace]:
        # an expression in the projection (an aggregate): only when the one SELECT groups by
        # $this, so that each group is one focus node's, as with $this bound
        if len(heads) != 1 or not re.search(_KW + r"GROUP\s+BY\s[^{}]*[?$]this\b", blank[blank.rfind("}"):]):
            return None
    return brace + 1


def _prefixes(g: ox.Store, constraint) -> str:
    lines = []
    for onto in _values(g, constraint, _sh("prefixes")):
        for decl in _values(g, onto, _sh("declare")):
            prefix, ns = _one(g, decl, _sh("prefix")), _one(g, decl, _sh("namespace"))
            if isinstance(prefix, ox.Literal) and isinstance(ns, ox.Literal):
                lines.append(f"PREFIX {prefix.value}: <{ns.value}>")
    return "\n".join(sorted(set(lines))) + "\n" if lines else ""


def _messages(g: ox.Store, *nodes) -> tuple:
    out = []
    for node in nodes:
        for m in _values(g, node, _sh("message")):
            if isinstance(m, ox.Literal):
                out.append((m.value, m.language))
    return tuple(out)


@lru_cache(maxsize=8)
def _plan(shapes_nt: bytes) -> Plan:
    return _make_plan(list(ox.parse(shapes_nt, format=ox.RdfFormat.N_TRIPLES)))


def split(shapes_quads) -> Plan:
    """The SPARQL constraints that :func:`evaluate` runs, and the other shapes' quads (for the
    engine); cached by the shapes' content."""
    triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in shapes_quads}, key=str)
    return _plan(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")


def _make_plan(triples) -> Plan:
    g = ox.Store()
    g.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples])
    nested: set = set()
    for p in NESTING:
        for q in g.quads_for_pattern(None, p, None, None):
            if p.value.endswith(("and", "or", "xone")):
                nested.update(_list(g, q.object))
            else:
                nested.add(q.object)
    parents_of: dict = {}
    for q in g.quads_for_pattern(None, _sh("property"), None, None):
        parents_of.setdefault(q.object, []).append(q.subject)

    def deactivated(node) -> bool:
        return any(_is_true(v) for v in _values(g, node, _sh("deactivated")))

    def targets(node) -> tuple | None:
        """The node shape's targets; None if it has others than the four explicit kinds."""
        if _values(g, node, _sh("target")) or any(
                t in (ox.NamedNode(_RDFS + "Class"), ox.NamedNode("http://www.w3.org/2002/07/owl#Class"))
                for t in _values(g, node, RDF_TYPE)):
            return None
        return tuple(sorted(((kind, str(o)) for name, kind in TARGETS.items()
                             for o in _values(g, node, _sh(name))), key=str))

    def top_level(node) -> bool:
        return (isinstance(node, ox.NamedNode) and node not in nested and node not in parents_of
                and _one(g, node, _sh("path")) is None)

    checks, taken, node_targets = [], set(), {}
    for q in sorted(g.quads_for_pattern(None, _sh("sparql"), None, None), key=str):
        shape, constraint = q.subject, q.object
        if not isinstance(shape, ox.NamedNode) or shape in nested:
            continue
        path_node = _one(g, shape, _sh("path"))
        if path_node is None:
            parents = [shape] if top_level(shape) else []
        else:
            parents = parents_of.get(shape, [])
            if not parents or not all(top_level(p) for p in parents):
                continue
        if not parents:
            continue
        tgt = {p: targets(p) for p in parents}
        if any(t is None for t in tgt.values()):
            continue
        select = _one(g, constraint, _sh("select"))
        if not isinstance(select, ox.Literal) or _batchable(select.value) is None:
            continue
        taken.add((shape, constraint))
        if deactivated(shape) or deactivated(constraint) or any(deactivated(p) for p in parents):
            continue  # no results, from either engine
        node_targets.update(tgt)
        severity = _one(g, shape, _sh("severity"))
        checks.append(Check(
            shape=shape, parents=tuple(sorted(parents, key=str)),
            path=path_text(g, path_node) if path_node is not None else None,
            severity=severity.value.rsplit("#", 1)[-1] if isinstance(severity, ox.NamedNode) else "Violation",
            prefixes=_prefixes(g, constraint), select=select.value, at=_batchable(select.value),
            messages=_messages(g, shape, constraint),
            constraint=str(constraint) if isinstance(constraint, ox.NamedNode) else None))
    gone = {c for _, c in taken}
    rest = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples
            if not ((t.subject, t.object) in taken and t.predicate == _sh("sparql"))
            and not (t.subject in gone and isinstance(t.subject, ox.BlankNode))]
    return Plan(tuple(checks), node_targets, rest)


# ---------------------------------------------------------------------------- evaluation

def _term(nt: str):
    return next(iter(ox.parse(f"<urn:x:s> <urn:x:p> {nt} .".encode(), format=ox.RdfFormat.N_TRIPLES))).object


def _focus_of(store: ox.Store, targets: tuple, focus: set | None) -> set:
    """The focus nodes of a node shape with ``targets`` (∩ ``focus`` when given: IRI strings)."""
    out: set = set()
    for kind, nt in targets:
        term = _term(nt)
        if kind == "node":
            out.add(term)
        elif kind == "class":
            if focus is None:
                q = (f"SELECT DISTINCT ?this WHERE {{ ?this <{_RDF}type>/<{_RDFS}subClassOf>* {nt} }}")
                out.update(row["this"] for row in store.query(q))
            else:
                nodes = sorted(focus)
                for i in range(0, len(nodes), CHUNK):
                    values = " ".join(f"<{n}>" for n in nodes[i:i + CHUNK])
                    q = (f"SELECT DISTINCT ?this WHERE {{ VALUES ?this {{ {values} }} "
                         f"?this <{_RDF}type>/<{_RDFS}subClassOf>* {nt} }}")
                    out.update(row["this"] for row in store.query(q))
        elif kind == "subjectsOf":
            out.update(q.subject for q in store.quads_for_pattern(None, term, None, None))
        elif kind == "objectsOf":
            out.update(q.object for q in store.quads_for_pattern(None, term, None, None))
    if focus is not None:
        out = {t for t in out if isinstance(t, ox.NamedNode) and t.value in focus}
    return out


def _format(text: str, bound: dict) -> str:
    for name, term in bound.items():
        text = re.sub(r"\{[?$]" + re.escape(name) + r"\}", lambda _m, v=term.value: v, text)
    return text


#: the outermost group starts with a triple pattern ``$this <predicate> …`` (no property path)
_THIS_FIRST = re.compile(r'\s*[?$]this\s+(?:<[^<>"{}|^`\\\s]*>|[A-Za-z][\w.-]*:[\w.-]*|a)\s+[^/|\s]')


def _rows(store: ox.Store, check: Check, nodes: list):
    """The solutions of the check's query for the focus ``nodes``, $this pre-bound to each.

    When the outermost group starts with a triple pattern ``$this <p> …``, every solution of the
    query run once unbound binds ``$this`` there first, so the solutions for a node are those of
    the pre-bound query (the module doc's restrictions hold); the query runs once and its
    solutions are kept for ``nodes``.  Otherwise it runs once a node, with ``substitutions``.
    (A VALUES block at the head of the group would say the same, but pyoxigraph 0.5 plans the
    conflict check badly with it: seconds a node.)"""
    if _THIS_FIRST.match(check.select, check.at):
        wanted = set(nodes)
        for row in _solutions(store.query(check.prefixes + _hash_joined(check.select, check.at))):
            if row.get("this") in wanted:
                yield row
        return
    for n in nodes:
        yield from _solutions(store.query(check.prefixes + check.select, substitutions={ox.Variable("this"): n}))


@lru_cache(maxsize=256)
def _hash_joined(select: str, at: int) -> str:
    """``select`` (run unbound) with each of the triple-pattern statements that open its outermost
    group, when there are several with different subjects and no property paths, in a sub-select of its own
    (``{ SELECT * WHERE { … } }``): the same solutions, but pyoxigraph 0.5 then joins the
    statements' whole matches (a hash join) instead of looking the second up for each solution of
    the first.  For the conflict check, which pairs each fact with the facts of the same
    indicator, period, kind, status and area, on a load of 100k triples: 0.1 s instead of 22 s."""
    blank = _blank_strings(select)
    statements, i = [], at
    while True:
        j = i
        while j < len(blank) and blank[j].isspace():
            j += 1
        if j >= len(blank) or blank[j] not in "?$":
            break
        end = j
        while end < len(blank) and not (blank[end] == "." and (end + 1 == len(blank) or blank[end + 1].isspace())):
            if blank[end] in "{}":
                return select
            end += 1
        if end >= len(blank):
            break
        statements.append((j, end + 1, blank[j:].split(None, 1)[0]))
        i = end + 1
    if len(statements) < 2 or len({subject for _, _, subject in statements}) < 2:
        return select
    if any(c in blank[a:b] for a, b, _ in statements for c in "*+/|^"):
        return select  # a property path: unbound, ``?x p* ?y`` would pair every node with itself
    wrapped = "".join(f"\n{{ SELECT * WHERE {{ {select[a:b - 1].strip()} }} }}" for a, b, _ in statements)
    return select[:statements[0][0]] + wrapped.lstrip("\n") + select[statements[-1][1]:]


def _solutions(result):
    names = [v.value for v in result.variables]
    for sol in result:
        yield {n: sol[n] for n in names if sol[n] is not None}


def evaluate(store: ox.Store, plan: Plan, focus, result_type, lang_of) -> list:
    """The results of the plan's SPARQL constraints on ``store`` (its default graph), for the
    focus nodes of their shapes (∩ ``focus``, IRI strings, unless None), as ``result_type``
    objects (validation.Result); ``lang_of(literal)`` names a message's language."""
    focus = None if focus is None else set(focus)
    focus_nodes: dict = {}
    out = []
    for check in plan.checks:
        nodes: set = set()
        for parent in check.parents:
            if parent not in focus_nodes:
                focus_nodes[parent] = _focus_of(store, plan.targets[parent], focus)
            nodes |= focus_nodes[parent]
        if not nodes:
            continue
        node_shape = check.path is None
        for row in _rows(store, check, sorted(nodes, key=str)):
            if "failure" in row and _is_true(row["failure"]):
                raise ValueError(f"the SPARQL constraint of {check.shape} reported a failure")
            this = row.get("this")
            if this is None:
                continue
            value = row.get("value", this if node_shape else None)
            path = row.get("path")
            bound = dict(row)
            if value is not None:
                bound["value"] = value
            messages: dict = {}
            for t, lang in check.messages:
                msg = _format(t, bound)
                messages.setdefault(lang or lang_of(ox.Literal(msg)), msg)
            out.append(result_type(
                severity=check.severity, focus=str(this),
                path=f"<{path.value}>" if isinstance(path, ox.NamedNode) else check.path,
                value=str(value) if value is not None else None, message=messages,
                source_shape=str(check.shape), component=COMPONENT, constraint=check.constraint))
    return out
