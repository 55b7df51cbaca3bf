"""The saved example queries: ``queries/<slug>.rq`` files with a bilingual YAML header.

A saved query is a standalone SPARQL 1.1 file (it declares its own PREFIXes)
whose first lines are a grlc-style header, every line starting with ``#+ ``::

    #+ title: {zh: …, en: …}
    #+ description: {zh: …, en: …}
    #+ tags: [headline, 2023]
    #+ params:
    #+   - name: district
    #+     type: district
    #+     default: "330109"
    #+     required: false
    #+     description: {zh: …, en: …}
    #+ chart: {type: bar, x: label, y: value}

The file stem is the slug: the URL ``/queries/<slug>.json`` and the CLI name.

Parameters are never spliced into the query text.  :func:`bind_params` turns
the request's strings into RDF terms, and :func:`run` hands them to pyoxigraph
as ``substitutions`` (SEP-0007): the variable named like the parameter
(``?district``) is bound to the term before evaluation.  pyoxigraph only
substitutes variables of the top-level SELECT projection, so a parameterised
query must be a SELECT that projects every parameter variable;
:func:`load_library` checks this with a dry run on an empty store.  An optional
parameter without a default is simply left unbound.

A pyoxigraph (0.5) quirk shapes how queries use parameters: the substituted
variable acts as a constant inside patterns and expressions, but ``BOUND(?name)``
stays false and ``BIND(?name AS ?other)`` leaves ``?other`` unbound.  So a query
tests for a missing optional parameter with ``COALESCE(?name, "") = ""`` (given
values are never empty), and :func:`load_library` rejects the two traps.

No Flask and no click here: the web app and the CLI call these functions.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Mapping

import pyoxigraph as ox
import yaml

from ..kg import vocab as V
from ..kg.errors import DataError, KGError
from ..kg.store import query_error

PARAM_TYPES = ("string", "integer", "decimal", "year", "iri", "district", "indicator")
CHART_TYPES = ("none", "bar", "line", "pie")
QUERY_KINDS = ("select", "ask", "construct", "describe")
HEADER_KEYS = ("title", "description", "tags", "params", "chart")
PARAM_KEYS = ("name", "type", "default", "required", "description")
MAX_VALUE_LENGTH = 1000

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INTEGER_RE = re.compile(r"^[+-]?\d+$")
DECIMAL_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
YEAR_RE = re.compile(r"^\d{4}$")
CODE_RE = re.compile(r"^\d{6}$")
ISO_RE = re.compile(r"^[A-Z]{2}$")
IRI_RE = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$", re.IGNORECASE)
#: Uses of a parameter variable that pyoxigraph (0.5) substitution does not honour: the
#: variable is replaced inside expressions and patterns, but BOUND(?p) stays false and
#: BIND(?p AS ?q) leaves ?q unbound.  Test a missing optional parameter with
#: COALESCE(?p, "") = "" instead.
_SUBSTITUTION_TRAPS = (
    (r"\bBOUND\s*\(\s*[?$]{name}\s*\)",
     "BOUND(?{name}) is false even when the parameter is given (pyoxigraph substitution); "
     "test a missing optional parameter with COALESCE(?{name}, \"\") = \"\""),
    (r"\bBIND\s*\(\s*[?$]{name}\s+AS\b",
     "BIND(?{name} AS …) leaves the new variable unbound under pyoxigraph substitution; "
     "use the parameter variable directly"),
)
_KIND_RE = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_DISTRICT_NS = V.ID + "district/"
_INDICATOR_NS = V.ID + "indicator/"

#: What each parameter type expects, for error messages and documentation.
TYPE_HELP = {
    "string": "a non-empty text",
    "integer": "an integer such as 42",
    "decimal": "a decimal number such as 3.5",
    "year": "a year of four digits such as 2023",
    "iri": "an absolute http(s) IRI",
    "district": "a six-digit GB/T 2260 code such as 330109 (or a country's ISO code, CN)",
    "indicator": "an indicator slug such as gdp",
}
#: An example value of each type, for the load-time dry run.
_EXAMPLES = {"string": "x", "integer": "0", "decimal": "0.5", "year": "2023",
             "iri": "https://example.org/x", "district": "330100", "indicator": "gdp"}


class ParamError(KGError):
    """A saved query's parameter is missing, ill-typed or unknown (HTTP 400)."""
    status = 400
    code = "bad-param"


@dataclass
class Param:
    name: str
    type: str
    default: str | None
    required: bool
    description: dict


@dataclass
class SavedQuery:
    slug: str
    path: Path
    title: dict
    description: dict
    tags: list
    params: list[Param]
    chart: dict | None
    sparql: str
    kind: str
    #: the line of the file where the SPARQL text (after the header) begins
    body_line: int = field(default=1, repr=False)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def to_dict(self) -> dict:
        """A JSON-ready description (for listings), without the path."""
        return {"slug": self.slug, "title": self.title, "description": self.description,
                "tags": list(self.tags), "params": [asdict(p) for p in self.params],
                "chart": self.chart, "kind": self.kind, "sparql": self.sparql}


# -- loading -------------------------------------------------------------------------

class _Header:
    """The parsed YAML header with the file line of every node, for error messages."""

    def __init__(self, path: Path, data, node):
        self.path, self.data, self.node = path, data, node

    def line(self, *keys) -> int:
        node, line = self.node, 1
        for key in keys:
            if node is None:
                break
            line = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == key), None)
                if node is None:  # the key is missing: point at its parent
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
            else:
                node = None
        return node.start_mark.line + 1 if node is not None else line

    def error(self, message: str, *keys) -> DataError:
        line = self.line(*keys)
        return DataError(f"{self.path}:{line}: {message}", path=str(self.path), line=line)


def _split_header(path: Path, text: str) -> tuple[str, str, int]:
    """(YAML text, SPARQL text, file line where the SPARQL starts)."""
    lines = text.splitlines()
    yaml_lines = []
    for i, line in enumerate(lines):
        if not line.startswith("#+"):
            break
        if line.rstrip() == "#+":
            yaml_lines.append("")
        elif line.startswith("#+ "):
            yaml_lines.append(line[3:])
        else:
            raise DataError(f"{path}:{i + 1}: a header line must start with '#+ ' (hash, plus, space)",
                            path=str(path), line=i + 1)
    if not yaml_lines:
        raise DataError(f"{path}:1: no '#+ ' header; a saved query starts with a YAML header "
                        "giving its title, description, tags, params and chart",
                        path=str(path), line=1)
    n = len(yaml_lines)
    while n < len(lines) and not lines[n].strip():
        n += 1
    body = "\n".join(lines[n:]).strip("\n") + "\n"
    return "\n".join(yaml_lines) + "\n", body, n + 1


def _parse_yaml(path: Path, text: str) -> _Header:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"{path}:{line}: malformed YAML header: {problem}",
                        path=str(path), line=line) from None
    finally:
        loader.dispose()
    return _Header(path, data, node)


def _bilingual(h: _Header, value, *keys) -> dict:
    what = ".".join(str(k) for k in keys)
    if not isinstance(value, dict):
        raise h.error(f"{what} must be a mapping with zh and en texts", *keys)
    for lang in ("zh", "en"):
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise h.error(f"{what} needs a non-empty {lang} text", *keys)
    extra = set(value) - {"zh", "en"}
    if extra:
        raise h.error(f"{what} has unknown language key(s) {', '.join(sorted(map(str, extra)))}", *keys)
    return {"zh": value["zh"].strip(), "en": value["en"].strip()}


def _scalar_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _params(h: _Header, raw) -> list[Param]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise h.error("params must be a list", "params")
    out: list[Param] = []
    for i, item in enumerate(raw):
        keys = ("params", i)
        if not isinstance(item, dict):
            raise h.error("each parameter must be a mapping (name, type, default, required, "
                          "description)", *keys)
        extra = set(item) - set(PARAM_KEYS)
        if extra:
            raise h.error(f"parameter has unknown key(s) {', '.join(sorted(map(str, extra)))}",
                          *keys, sorted(map(str, extra))[0])
        name = item.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise h.error(f"parameter name {name!r} is not a SPARQL variable name", *keys, "name")
        if any(p.name == name for p in out):
            raise h.error(f"parameter {name!r} is declared twice", *keys, "name")
        ptype = item.get("type")
        if ptype not in PARAM_TYPES:
            raise h.error(f"parameter {name!r} has type {ptype!r}; use one of "
                          f"{', '.join(PARAM_TYPES)}", *keys, "type")
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise h.error(f"parameter {name!r}: required must be true or false", *keys, "required")
        default = _scalar_text(item.get("default"))
        if required and default is not None:
            raise h.error(f"parameter {name!r} is required and so cannot have a default",
                          *keys, "default")
        param = Param(name, ptype, default, required,
                      _bilingual(h, item.get("description"), *keys, "description"))
        if default is not None:
            try:
                convert(param, default)
            except ParamError as exc:
                raise h.error(f"default of parameter {name!r}: {exc.message}", *keys, "default") from None
        out.append(param)
    return out


def _chart(h: _Header, raw, sparql: str) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise h.error("chart must be a mapping {type, x, y, color}", "chart")
    extra = set(raw) - {"type", "x", "y", "color"}
    if extra:
        raise h.error(f"chart has unknown key(s) {', '.join(sorted(map(str, extra)))}", "chart")
    ctype = raw.get("type")
    if ctype not in CHART_TYPES:
        raise h.error(f"chart type {ctype!r} is not one of {', '.join(CHART_TYPES)}", "chart", "type")
    chart = {"type": ctype}
    for key in ("x", "y", "color"):
        var = raw.get(key)
        if var is None:
            if ctype != "none" and key != "color":
                raise h.error(f"a {ctype} chart needs {key}: the name of a result variable",
                              "chart")
            continue
        var = str(var).lstrip("?$")
        if not NAME_RE.match(var) or not re.search(rf"[?$]{re.escape(var)}\b", sparql):
            raise h.error(f"chart {key} {raw.get(key)!r} is not a variable of the query",
                          "chart", key)
        chart[key] = var
    return chart


def query_kind(sparql: str) -> str | None:
    """select, ask, construct or describe: the first query-form keyword outside comments and IRIs."""
    text = re.sub(r"<[^<>\s]*>", " ", sparql)
    text = re.sub(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'", " ", text)
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    m = _KIND_RE.search(text)
    return m.group(1).lower() if m else None


def _dry_run(path: Path, q: SavedQuery, store: ox.Store) -> None:
    """Parse and evaluate on an empty store, every parameter substituted, no default prefixes."""
    subs = {ox.Variable(p.name): convert(p, p.default if p.default is not None else _EXAMPLES[p.type])
            for p in q.params}
    try:
        result = store.query(q.sparql, substitutions=subs or None)
        if isinstance(result, ox.QuerySolutions):
            list(result)
    except SyntaxError as exc:
        err = query_error(exc)
        line = q.body_line + (err.details.get("line") or 1) - 1
        raise DataError(f"{path}:{line}: {err.message} (a saved query must declare its own "
                        "PREFIXes)", path=str(path), line=line) from None
    except (RuntimeError, ValueError, OSError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "projection" in msg:
            msg += ("; a parameter must be a variable of the top-level SELECT projection "
                    "(and of the projection of any subquery that uses it)")
        raise DataError(f"{path}:{q.body_line}: {msg}", path=str(path), line=q.body_line) from None


def load_query(path: Path, *, store: ox.Store | None = None) -> SavedQuery:
    """Read and check one ``.rq`` file."""
    path = Path(path)
    slug = path.stem
    if not SLUG_RE.match(slug):
        raise DataError(f"{path}:1: the file name {path.name!r} is not a kebab-case slug",
                        path=str(path), line=1)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}:1: not UTF-8 ({exc.reason})", path=str(path), line=1) from None
    yaml_text, sparql, body_line = _split_header(path, text)
    h = _parse_yaml(path, yaml_text)
    meta = h.data
    if not isinstance(meta, dict):
        raise h.error("the header must be a YAML mapping with title, description, tags, params "
                      "and chart")
    extra = set(meta) - set(HEADER_KEYS)
    if extra:
        key = sorted(map(str, extra))[0]
        raise h.error(f"unknown header key(s) {', '.join(sorted(map(str, extra)))}; use "
                      f"{', '.join(HEADER_KEYS)}", key)
    for key in ("title", "description", "tags"):
        if key not in meta:
            raise h.error(f"the header has no {key}")
    tags = meta["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise h.error("tags must be a list of words", "tags")
    kind = query_kind(sparql)
    if kind is None:
        raise DataError(f"{path}:{body_line}: no SELECT, ASK, CONSTRUCT or DESCRIBE after the header",
                        path=str(path), line=body_line)
    q = SavedQuery(
        slug=slug, path=path,
        title=_bilingual(h, meta["title"], "title"),
        description=_bilingual(h, meta["description"], "description"),
        tags=[t.strip() for t in tags],
        params=_params(h, meta.get("params")),
        chart=_chart(h, meta.get("chart"), sparql),
        sparql=sparql, kind=kind, body_line=body_line)
    for i, p in enumerate(q.params):
        if not re.search(rf"[?$]{p.name}\b", sparql):
            raise h.error(f"parameter {p.name!r} has no variable ?{p.name} in the query",
                          "params", i, "name")
        for pattern, why in _SUBSTITUTION_TRAPS:
            m = re.search(pattern.format(name=re.escape(p.name)), sparql, re.IGNORECASE)
            if m:
                line = body_line + sparql[:m.start()].count("\n")
                raise DataError(f"{path}:{line}: {why.format(name=p.name)}", path=str(path), line=line)
    _dry_run(path, q, store if store is not None else ox.Store())
    return q


def load_library(folder: Path) -> dict[str, SavedQuery]:
    """Every ``*.rq`` of ``folder``, checked, keyed and sorted by slug."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder of saved queries", path=str(folder))
    store = ox.Store()
    queries = [load_query(p, store=store) for p in sorted(folder.glob("*.rq"))]
    return {q.slug: q for q in sorted(queries, key=lambda q: q.slug)}


# -- parameters ----------------------------------------------------------------------

def _bad(p: Param, value: str) -> ParamError:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return ParamError(f"parameter {p.name!r} must be {TYPE_HELP[p.type]} (type {p.type}), "
                      f"not {shown!r}", param=p.name, expected=p.type)


def convert(p: Param, value: str):
    """One parameter value (a string) as the RDF term it stands for; ParamError if ill-typed."""
    if len(value) > MAX_VALUE_LENGTH:
        raise ParamError(f"parameter {p.name!r} is longer than {MAX_VALUE_LENGTH} characters",
                         param=p.name, expected=p.type)
    t = p.type
    if t == "string":
        if not value:
            raise _bad(p, value)
        return ox.Literal(value)
    if t == "integer":
        if not INTEGER_RE.match(value):
            raise _bad(p, value)
        return ox.Literal(str(int(value)), datatype=V.XSD_INTEGER)
    if t == "decimal":
        if not DECIMAL_RE.match(value):
            raise _bad(p, value)
        try:
            d = Decimal(value)
        except InvalidOperation:
            raise _bad(p, value) from None
        text = format(d, "f")
        if "." not in text:
            text += ".0"
        return ox.Literal(text, datatype=V.XSD_DECIMAL)
    if t == "year":
        if not YEAR_RE.match(value):
            raise _bad(p, value)
        return ox.Literal(value, datatype=V.XSD_GYEAR)
    if t == "iri":
        if not IRI_RE.match(value):
            raise _bad(p, value)
        try:
            return ox.NamedNode(value)
        except ValueError:
            raise _bad(p, value) from None
    if t == "district":
        code = value[len(_DISTRICT_NS):] if value.startswith(_DISTRICT_NS) else value
        if not (CODE_RE.match(code) or ISO_RE.match(code)):
            raise _bad(p, value)
        return V.district(code)
    if t == "indicator":
        slug = value[len(_INDICATOR_NS):] if value.startswith(_INDICATOR_NS) else value
        if not SLUG_RE.match(slug):
            raise _bad(p, value)
        return V.indicator(slug)
    raise ParamError(f"parameter {p.name!r} has unknown type {t!r}", param=p.name, expected=t)


def bind_params(q: SavedQuery, args: Mapping[str, str] | None) -> dict:
    """The request's parameters as pyoxigraph substitutions {Variable: term}.

    Missing optional parameters take their default (or stay unbound when there
    is none); an empty or blank value counts as missing; values are stripped of
    surrounding white space.  A missing required, ill-typed or unknown parameter
    raises :class:`ParamError` naming it.
    """
    args = dict(args or {})
    known = {p.name for p in q.params}
    unknown = sorted(k for k in args if k not in known)
    if unknown:
        takes = ", ".join(sorted(known)) if known else "no parameters"
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise ParamError(f"unknown {noun} {', '.join(repr(u) for u in unknown)} for query "
                         f"{q.slug!r}, which takes {takes}", param=unknown[0])
    out = {}
    for p in q.params:
        raw = args.get(p.name)
        if isinstance(raw, (list, tuple)):
            if len(raw) > 1:
                raise ParamError(f"parameter {p.name!r} is given {len(raw)} times; give it once",
                                 param=p.name, expected=p.type)
            raw = raw[0] if raw else None
        if raw is not None and not isinstance(raw, str):
            raw = str(raw)
        raw = raw.strip() if raw is not None else None
        if not raw:
            if p.default is not None:
                raw = p.default
            elif p.required:
                raise ParamError(f"parameter {p.name!r} is required: give {TYPE_HELP[p.type]} "
                                 f"(type {p.type})", param=p.name, expected=p.type)
            else:
                continue
        out[ox.Variable(p.name)] = convert(p, raw)
    return out


def run(kg, q: SavedQuery, args: Mapping[str, str] | None = None):
    """Run a saved query on a :class:`server.store.KnowledgeGraph` with bound parameters."""
    return kg.query(q.sparql, substitutions=bind_params(q, args))


# -- OpenAPI -------------------------------------------------------------------------

_SCHEMAS = {
    "string": {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_LENGTH},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "year": {"type": "string", "pattern": r"^\d{4}$"},
    "iri": {"type": "string", "format": "uri", "pattern": r"^https?://"},
    "district": {"type": "string", "pattern": r"^(\d{6}|[A-Z]{2})$"},
    "indicator": {"type": "string", "pattern": r"^[a-z0-9]+(-[a-z0-9]+)*$"},
}
_FORMATS = {
    "select": (("json", "application/sparql-results+json"), ("csv", "text/csv"),
               ("tsv", "text/tab-separated-values")),
    "ask": (("json", "application/sparql-results+json"),),
    "construct": (("json", "application/ld+json"),),
    "describe": (("json", "application/ld+json"),),
}


def _param_schema(p: Param) -> dict:
    schema = dict(_SCHEMAS[p.type])
    if p.default is not None:
        if p.type == "integer":
            schema["default"] = int(p.default)
        elif p.type == "decimal":
            schema["default"] = float(p.default)
        else:
            schema["default"] = p.default
    return schema


def _result_schema(media_type: str) -> dict:
    if media_type == "application/sparql-results+json":
        return {"$ref": "#/components/schemas/SparqlResults"}
    if media_type == "application/ld+json":
        return {"type": "object"}
    return {"type": "string"}


def openapi(library: Mapping[str, SavedQuery], base_url: str = "") -> dict:
    """An OpenAPI 3.0 description of every saved query as GET /queries/{slug}.{json,csv,tsv}."""
    paths: dict[str, dict] = {}
    tags: set[str] = set()
    for slug in sorted(library):
        q = library[slug]
        tags.update(q.tags)
        parameters = []
        for p in q.params:
            parameters.append({
                "name": p.name, "in": "query", "required": p.required,
                "description": f"{p.description['zh']} / {p.description['en']} "
                               f"({TYPE_HELP[p.type]})",
                "schema": _param_schema(p),
                "x-econplan-type": p.type,
            })
        for ext, media_type in _FORMATS[q.kind]:
            op = {
                "operationId": f"{slug.replace('-', '_')}_{ext}",
                "summary": f"{q.title['zh']} / {q.title['en']}",
                "description": f"{q.description['zh']}\n\n{q.description['en']}",
                "tags": list(q.tags),
                "parameters": parameters,
                "responses": {
                    "200": {"description": f"The results as {media_type}.",
                            "content": {media_type: {"schema": _result_schema(media_type)}}},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "503": {"$ref": "#/components/responses/Unavailable"},
                },
                "x-econplan": {"slug": slug, "kind": q.kind, "title": q.title,
                               "description": q.description, "chart": q.chart},
            }
            paths[f"/queries/{slug}.{ext}"] = {"get": op}
    error = {"$ref": "#/components/schemas/Error"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "econplan saved queries",
            "version": "0.1.0",
            "description": "城市发展计划知识图谱的示例查询。每个查询的参数作为 RDF 项绑定,"
                           "不会拼接进查询文本。\n\nThe saved example queries of the econplan "
                           "knowledge graph. Parameters are bound as RDF terms, never spliced "
                           "into the query text.",
        },
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "tags": [{"name": t} for t in sorted(tags)],
        "paths": paths,
        "components": {
            "schemas": {
                "SparqlResults": {
                    "type": "object",
                    "description": "SPARQL 1.1 Query Results JSON Format",
                    "properties": {
                        "head": {"type": "object", "properties": {
                            "vars": {"type": "array", "items": {"type": "string"}}}},
                        "results": {"type": "object", "properties": {
                            "bindings": {"type": "array", "items": {"type": "object"}}}},
                        "boolean": {"type": "boolean"},
                    },
                    "required": ["head"],
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "ok": {"type": "boolean", "enum": [False]},
                        "error": {"type": "object", "properties": {
                            "status": {"type": "integer"},
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "param": {"type": "string"},
                            "expected": {"type": "string"},
                        }, "required": ["status", "code", "message"]},
                    },
                    "required": ["ok", "error"],
                },
            },
            "responses": {
                "BadRequest": {"description": "A parameter is missing, ill-typed or unknown.",
                               "content": {"application/json": {"schema": error}}},
                "Unavailable": {"description": "The store is not built or not available.",
                                "content": {"application/json": {"schema": error}}},
            },
        },
    }
