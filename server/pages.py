"""HTML pages: home, saved queries (+ their JSON/CSV/TSV and OpenAPI), query editor,
entity pages with content negotiation, ontology, shapes, dumps.

Every page is rendered in Chinese or English (``?lang=zh|en``, remembered in a
cookie; else Accept-Language; else Chinese).  Pages load only self-hosted
assets: the Content-Security-Policy allows scripts from this server only, and
no page has an inline script (data for the scripts travels in
``<script type="application/json">`` blocks and ``data-*`` attributes).

Saved-query parameters are bound as RDF terms (query_library.bind_params) and
handed to the killable executor as N-Triples substitutions; they are never
spliced into the query text.
"""
from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import (Blueprint, Response, current_app, g, jsonify, render_template, request,
                   send_file, url_for)
from markupsafe import escape

from . import get_kg, get_state
from . import vocab as V
from .errors import KGError, NotFoundError
from .executor import StreamAborted
from .protocol import OX_GRAPH_FORMAT, Format, negotiate

bp = Blueprint("pages", __name__)


@bp.record_once
def _setup(state) -> None:
    env = state.app.jinja_env
    env.trim_blocks = True
    env.lstrip_blocks = True

LANGS = ("zh", "en")
LANG_COOKIE = "lang"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'{style}; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
#: The two <style> elements that YASGUI's result table (its bundled column-resizer) injects,
#: allowed on the editor page by their hashes rather than by 'unsafe-inline'.  The texts are
#: constants of vendor/yasgui/yasgui.min.js; tests/test_pages.py recomputes the hashes.
EDITOR_STYLE_TEXTS = (
    " .grip-resizable{table-layout:fixed;} .grip-resizable > tbody > tr > td, .grip-resizable > "
    "tbody > tr > th{overflow:hidden} .grip-padding > tbody > tr > td, .grip-padding > tbody > tr "
    "> th{padding-left:0!important; padding-right:0!important;} .grip-container{ height:0px; "
    "position:relative;} .grip-handle{margin-left:-5px; position:absolute; z-index:5; } "
    ".grip-handle .grip-resizable{position:absolute;background-color:red;filter:alpha(opacity=1);"
    "opacity:0;width:10px;height:100%;cursor: col-resize;top:0px} .grip-lastgrip{position:absolute;"
    " width:1px; } .grip-drag{ border-left:1px dotted black;\t} .grip-flex{width:auto!important;} "
    ".grip-handle.grip-disabledgrip .grip-resizable{cursor:default; display:none;}",
    "*{cursor:col-resize!important}",
)


def _sha256(text: str) -> str:
    import base64
    import hashlib

    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


EDITOR_STYLE_HASHES = tuple(_sha256(x) for x in EDITOR_STYLE_TEXTS)

# -- words -------------------------------------------------------------------------------

#: Every text of the pages, in Chinese and English.
TEXT: dict[str, tuple[str, str]] = {
    "site": ("杭州市发展计划知识图谱", "econplan — Hangzhou development-plan knowledge graph"),
    "site_short": ("发展计划知识图谱", "econplan"),
    "skip": ("跳到正文", "Skip to content"),
    "nav_home": ("首页", "Home"),
    "nav_queries": ("示例查询", "Saved queries"),
    "nav_editor": ("查询编辑器", "Query editor"),
    "nav_ontology": ("本体", "Ontology"),
    "nav_shapes": ("约束形状", "Shapes"),
    "nav_sparql": ("SPARQL 端点", "SPARQL endpoint"),
    "nav_main": ("主导航", "Main navigation"),
    "lang_switch": ("语言", "Language"),
    "footer_licence": ("数据以 CC BY 4.0 许可发布;英文标签为编者翻译。本站不加载任何外部资源。",
                       "Data under CC BY 4.0; the English labels are editorial translations. "
                       "This site loads nothing from other servers."),
    "footer_vendor": ("第三方组件及其许可", "Third-party components and their licences"),
    "home_lead": (
        "这是杭州市《关于2023年国民经济和社会发展计划执行情况与2024年计划草案的报告》的知识图谱。"
        "报告中的每一个数字都是一个事实:它衡量的指标、数值、单位、时期、类型(总量、增速、占比……)、"
        "限定词(以上、约、近……)、状态(实际、目标、预计),以及它出自的原文句子和字符位置。"
        "图谱还包括报告提到的项目、政策、领域和行政区,用 OWL 本体描述,用 SHACL 形状校验。",
        "A knowledge graph of Hangzhou's report on the execution of the 2023 plan for national "
        "economic and social development and the draft plan for 2024. Every figure in the report "
        "is a fact: the indicator it measures, its value, unit, period, kind (level, growth, "
        "share …), qualifier (at least, about, nearly …) and status (actual, target, expected), "
        "with the sentence it comes from and its character offsets. The graph also holds the "
        "projects, policies, domains and districts the report names, described by an OWL "
        "ontology and checked by SHACL shapes."),
    "home_other": ("English", "中文"),
    "counts": ("数据概况", "The data in numbers"),
    "c_facts": ("事实", "facts"),
    "c_indicators": ("指标", "indicators"),
    "c_projects": ("项目", "projects"),
    "c_policies": ("政策", "policies"),
    "c_districts": ("行政区", "districts"),
    "c_lost": ("来源丢失的数值", "values lost by the source"),
    "c_triples": ("三元组", "triples"),
    "explore": ("浏览与查询", "Explore and query"),
    "x_editor": ("在浏览器中编写并运行 SPARQL 查询(YASGUI)。", "Write and run SPARQL in the browser (YASGUI)."),
    "x_queries": ("带参数、表格和图表的现成查询。", "Ready-made queries with parameters, tables and charts."),
    "x_ontology": ("类与属性,以及各自的实例数。", "Classes and properties with their instance counts."),
    "x_shapes": ("每条数据在载入前都要通过的 SHACL 约束。", "The SHACL constraints every change must pass."),
    "x_sparql": ("SPARQL 1.1 协议端点,支持 GET 和 POST。", "The SPARQL 1.1 Protocol endpoint, GET and POST."),
    "x_openapi": ("示例查询的 OpenAPI 描述。", "An OpenAPI description of the saved queries."),
    "downloads": ("下载", "Downloads"),
    "d_trig": ("全部数据,TriG 格式(带命名图)", "All data as TriG (with named graphs)"),
    "d_nq": ("全部数据,N-Quads 格式", "All data as N-Quads"),
    "d_ontology": ("本体,Turtle 格式", "The ontology as Turtle"),
    "d_shapes": ("SHACL 形状,Turtle 格式", "The SHACL shapes as Turtle"),
    "start_here": ("从这里开始", "Start here"),
    "report": ("报告", "The report"),
    "example_entities": ("示例页面", "Example pages"),
    "queries_title": ("示例查询", "Saved queries"),
    "queries_lead": ("每个查询都是一个 SPARQL 文件;参数以 RDF 项绑定,不拼接进查询文本。结果可以下载为 JSON、CSV 或 TSV。",
                     "Each saved query is a SPARQL file; its parameters are bound as RDF terms, never "
                     "spliced into the query text. Results download as JSON, CSV or TSV."),
    "no_queries": ("还没有示例查询。", "There are no saved queries yet."),
    "tags": ("标签", "Tags"),
    "params": ("参数", "Parameters"),
    "run": ("运行", "Run"),
    "fill_required": ("请填写必填参数({names})后运行。", "Fill in the required parameters ({names}) and run the query."),
    "reset": ("恢复默认", "Defaults"),
    "results": ("结果", "Results"),
    "rows": ("行", "rows"),
    "no_rows": ("没有结果。", "No results."),
    "truncated": ("结果已截断。", "The result was truncated."),
    "chart": ("图表", "Chart"),
    "chart_loading": ("正在绘制图表……", "Drawing the chart …"),
    "sparql_text": ("SPARQL 查询", "The SPARQL query"),
    "download": ("下载结果", "Download the results"),
    "open_in_editor": ("在编辑器中打开", "Open in the editor"),
    "required": ("必填", "required"),
    "default": ("默认", "default"),
    "any": ("(不限)", "(any)"),
    "ask_true": ("是", "Yes"),
    "ask_false": ("否", "No"),
    "editor_title": ("SPARQL 查询编辑器", "SPARQL query editor"),
    "editor_lead": ("查询发送到本站的 SPARQL 端点;常用前缀已声明,也可以在下面载入一个示例查询。快捷键 Ctrl+Enter 运行。",
                    "Queries go to this site's SPARQL endpoint; the usual prefixes are declared, and "
                    "you can load a saved query below. Ctrl+Enter runs the query."),
    "load_example": ("载入示例查询", "Load a saved query"),
    "choose": ("请选择……", "Choose …"),
    "endpoint": ("端点", "Endpoint"),
    "prefixes": ("前缀", "Prefixes"),
    "js_needed": ("查询编辑器需要 JavaScript。也可以直接向端点发送查询。",
                  "The query editor needs JavaScript. You can also send queries to the endpoint directly."),
    "iri": ("IRI", "IRI"),
    "types": ("类型", "Types"),
    "formats": ("其他格式", "Other formats"),
    "properties": ("属性", "Properties"),
    "incoming": ("指向此处的链接", "Links to this resource"),
    "incoming_more": ("只显示前 {n} 条,共 {total} 条。", "Showing the first {n} of {total}."),
    "subject": ("主语", "Subject"),
    "predicate": ("谓语", "Property"),
    "value": ("值", "Value"),
    "values": ("值", "Values"),
    "graphs": ("出自命名图", "From the named graphs"),
    "source": ("来源句子", "Source sentence"),
    "source_note": ("高亮的是数值在原文中的位置(ep:valueStart–ep:valueEnd),下划线是原文措辞(ep:mention)。",
                    "The highlight is the number's place in the text (ep:valueStart–ep:valueEnd); "
                    "the underline is the wording that states it (ep:mention)."),
    "source_lost": ("来源丢失了这个数字(ep:valueLost);下划线是原文措辞。",
                    "The source lost this number (ep:valueLost); the underline is the wording."),
    "passage_text": ("原文", "Text"),
    "passage_note": ("高亮的是由这段原文得出的事实的数值;点击可查看事实。",
                     "Highlighted: the numbers of the facts taken from this text; follow one to its fact."),
    "in_passage": ("所在段落", "In the passage"),
    "district_about": ("关于这个行政区", "About this district"),
    "district_projects": ("位于此区的项目(ep:district)", "Projects in this district (ep:district)"),
    "district_facts": ("这个行政区的事实(ep:refArea 或 ep:about)", "Facts of this district (ep:refArea or ep:about)"),
    "district_parts": ("下辖行政区", "Divisions"),
    "none": ("无", "None"),
    "fact": ("事实", "Fact"),
    "period": ("时期", "Period"),
    "status": ("状态", "Status"),
    "unit": ("单位", "Unit"),
    "label": ("名称", "Name"),
    "via": ("关系", "Via"),
    "ontology_title": ("本体", "The ontology"),
    "ontology_lead": ("econplan 本体的每个类和属性,以及作用于它的 SHACL 形状和它在数据中的实例数或使用次数。",
                      "Every class and property of the econplan ontology, the SHACL shapes that apply "
                      "to it, and how many instances (or uses) it has in the data."),
    "classes": ("类", "Classes"),
    "classes_overview": ("类及其实例数", "Classes and their instances"),
    "obj_props": ("对象属性", "Object properties"),
    "data_props": ("数据属性", "Datatype properties"),
    "other_props": ("其他属性", "Other properties"),
    "individuals": ("受控取值及其他术语", "Controlled values and other terms"),
    "instances": ("实例", "instances"),
    "instances_note": ("含子类的实例", "including instances of subclasses"),
    "uses": ("使用次数", "uses"),
    "superclasses": ("父类", "Subclass of"),
    "subproperty": ("父属性", "Subproperty of"),
    "domain": ("定义域", "Domain"),
    "range": ("值域", "Range"),
    "shapes_applying": ("适用的形状", "Shapes"),
    "term_page": ("术语页面", "Term page"),
    "shapes_title": ("SHACL 形状", "SHACL shapes"),
    "shapes_lead": ("每次载入或更新数据都要先通过这些约束;每条约束都带有中英文说明。",
                    "Every load or update must pass these constraints first; each carries a message in "
                    "Chinese and English."),
    "no_shapes": ("还没有形状。", "There are no shapes yet."),
    "targets": ("目标", "Targets"),
    "constraints": ("约束", "Constraints"),
    "property_shapes": ("属性约束", "Property constraints"),
    "path": ("路径", "Path"),
    "message": ("说明", "Message"),
    "severity": ("严重程度", "Severity"),
    "other_shape_terms": ("形状图中的其他定义", "Other definitions in the shapes graph"),
    "error": ("出错了", "Something went wrong"),
    "error_back": ("返回首页", "Back to the home page"),
    "status_404": ("找不到", "Not found"),
    "status_400": ("请求有误", "Bad request"),
    "status_other": ("错误", "Error"),
}


def lang() -> str:
    """The page language: ?lang=, else the cookie, else Accept-Language, else zh."""
    if "lang" in g:
        return g.lang
    want = request.args.get("lang", "").strip().lower()
    if want in LANGS:
        g.set_lang_cookie = want
        g.lang = want
        return want
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGS:
        g.lang = cookie
        return cookie
    best = request.accept_languages.best_match(LANGS)
    g.lang = best if best in LANGS else "zh"
    return g.lang


def t(key: str, **kw) -> str:
    zh, en = TEXT[key]
    text = zh if lang() == "zh" else en
    return text.format(**kw) if kw else text


def pick(d: dict | None, fallback: str = "") -> str:
    """The text in the page language from {zh:…, en:…}, else the other one."""
    if not d:
        return fallback
    l = lang()
    return d.get(l) or d.get("en" if l == "zh" else "zh") or fallback


def url_with(**changes) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for k, v in changes.items():
        if v is None:
            args.pop(k, None)
        else:
            args[k] = [v]
    qs = urlencode([(k, x) for k, vs in args.items() for x in vs])
    return request.path + ("?" + qs if qs else "")


@bp.app_context_processor
def _context():
    if not request:
        return {}
    path = request.path
    active = ("home" if path == "/" else "queries" if path.startswith("/queries") else
              "editor" if path.startswith("/editor") else
              "ontology" if path.startswith(("/ontology", "/def")) else
              "shapes" if path.startswith("/shapes") else None)
    return {"lang": lang, "t": t, "pick": pick, "url_with": url_with, "active": active,
            "html_lang": "zh-Hans" if lang() == "zh" else "en"}


@bp.after_app_request
def _security_headers(resp: Response) -> Response:
    extra = g.get("csp_style", ())
    resp.headers["Content-Security-Policy"] = CSP.format(style="".join(" " + h for h in extra))
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if "set_lang_cookie" in g:
        resp.set_cookie(LANG_COOKIE, g.set_lang_cookie, max_age=365 * 24 * 3600,
                        samesite="Lax", httponly=True, path="/")
    if resp.mimetype == "text/html":
        resp.vary.add("Accept-Language")
        resp.vary.add("Cookie")
    if request.path.startswith("/static/vendor/"):
        resp.headers["Cache-Control"] = "public, max-age=86400"
    return _compress(resp)


def _compress(resp: Response) -> Response:
    """gzip a generated HTML page for a client that accepts it (pages reach 100 kB and more)."""
    if (resp.mimetype != "text/html" or resp.direct_passthrough or resp.status_code != 200 or
            "Content-Encoding" in resp.headers or
            "gzip" not in request.headers.get("Accept-Encoding", "")):
        return resp
    import gzip

    body = resp.get_data()
    if len(body) < 2048:
        return resp
    resp.set_data(gzip.compress(body, compresslevel=6))
    resp.headers["Content-Encoding"] = "gzip"
    resp.vary.add("Accept-Encoding")
    return resp


def error_page(status: int, message: str):
    """An HTML error page (create_app calls this for errors of browser requests)."""
    title = {404: t("status_404"), 400: t("status_400")}.get(status, t("status_other"))
    try:
        html = render_template("error.html", status=status, title=title, message=message)
    except Exception:  # noqa: BLE001 - the error page must not fail itself
        html = (f"<!doctype html><html><head><meta charset=utf-8><title>{status}</title></head>"
                f"<body><h1>{status} {escape(title)}</h1><p>{escape(message)}</p></body></html>")
    resp = Response(html, status=status, mimetype="text/html")
    return resp


# -- terms: labels, links, display -------------------------------------------------------

LABEL_PREDICATES = (V.RDFS_LABEL, V.SKOS.prefLabel, V.SCHEMA.name, V.DCTERMS.title, V.SH.name)
BASE = V.BASE
SHAPES_NS = BASE + "shapes#"
SHAPES_DOC = BASE + "shapes"
ONTOLOGY_DOC = BASE + "def"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
NUMERIC_TYPES = {V.XSD.integer.value, V.XSD.decimal.value, V.XSD.double.value, V.XSD.float.value,
                 V.XSD.int.value, V.XSD.long.value, V.XSD.nonNegativeInteger.value,
                 V.XSD.positiveInteger.value}
_PREFIXES = sorted((V.PREFIXES | {"eps": BASE + "shapes#"}).items(), key=lambda kv: -len(kv[1]))
_LOCAL_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def compact(iri: str) -> str:
    """prefix:local where a known prefix fits, else the IRI."""
    for p, ns in _PREFIXES:
        if iri.startswith(ns):
            local = iri[len(ns):]
            if local and _LOCAL_RE.match(local) and not local.endswith("."):
                return f"{p}:{local}"
    return iri


def local_url(iri: str) -> str | None:
    """The page on this site of an IRI of the dataset's namespace, else None."""
    if iri.startswith(V.ID):
        rest = iri[len(V.ID):]
        if rest and "#" not in rest:
            return "/id/" + quote(rest, safe="/:@!$&'()*+,;=-._~")
    elif iri.startswith(V.DEF):
        term = iri[len(V.DEF):]
        return "/def/" + quote(term, safe="-._~") if term else "/def"
    elif iri == ONTOLOGY_DOC:
        return "/def"
    elif iri.startswith(SHAPES_NS):
        return "/shapes#" + quote(iri[len(SHAPES_NS):], safe="-._~")
    elif iri == SHAPES_DOC:
        return "/shapes"
    if iri.startswith(BASE):
        rest = iri[len(BASE):]
        if rest.startswith("source/") and "#" not in rest:
            return "/" + quote(rest, safe="/:@!$&'()*+,;=-._~")
        return "/resource?" + urlencode({"iri": iri})
    return None


@dataclass
class Value:
    """A term as the templates show it."""
    kind: str                      # iri, literal, bnode
    text: str
    href: str | None = None
    compact: str | None = None     # prefix:local of an IRI
    lang: str | None = None
    datatype: str | None = None
    numeric: bool = False
    external: bool = False
    children: list = field(default_factory=list)   # [(predicate Value, [Value])] of a blank node
    items: list | None = None      # the members of an RDF list


class Terms:
    """Labels and links of the terms of one page, cached for the request."""

    def __init__(self, kg):
        self.kg = kg
        self.store = kg.store
        self.lang = lang()
        self._labels: dict[str, str | None] = {}
        self._exists: dict[str, bool] = {}

    def objects(self, s, p) -> list:
        seen, out = set(), []
        for q in self.store.quads_for_pattern(s, p, None, None):
            if q.object not in seen:
                seen.add(q.object)
                out.append(q.object)
        return out

    def one(self, s, p):
        for q in self.store.quads_for_pattern(s, p, None, None):
            return q.object
        return None

    def subjects(self, p, o) -> list:
        seen, out = set(), []
        for q in self.store.quads_for_pattern(None, p, o, None):
            if q.subject not in seen:
                seen.add(q.subject)
                out.append(q.subject)
        return out

    def exists(self, iri: str) -> bool:
        if iri not in self._exists:
            try:
                node = ox.NamedNode(iri)
            except ValueError:
                self._exists[iri] = False
            else:
                self._exists[iri] = (next(iter(self.store.quads_for_pattern(node, None, None, None)), None)
                                     is not None or
                                     next(iter(self.store.quads_for_pattern(None, None, node, None)), None)
                                     is not None)
        return self._exists[iri]

    def label(self, term, lang_: str | None = None) -> str | None:
        """The label of a term in the page language (else another language), or None."""
        if not isinstance(term, ox.NamedNode):
            return None
        want = lang_ or self.lang
        key = term.value + "@" + want
        if key in self._labels:
            return self._labels[key]
        best, rank = None, 99
        for p_i, p in enumerate(LABEL_PREDICATES):
            for q in self.store.quads_for_pattern(term, p, None, None):
                o = q.object
                if not isinstance(o, ox.Literal):
                    continue
                lt = (o.language or "").lower()
                r = (0 if lt.startswith(want) else 2 if not lt else 1) * 10 + p_i
                if r < rank:
                    best, rank = o.value, r
        self._labels[key] = best
        return best

    def name(self, term) -> str:
        if isinstance(term, ox.NamedNode):
            return self.label(term) or compact(term.value)
        if isinstance(term, ox.BlankNode):
            return "_:" + term.value
        return term.value if isinstance(term, ox.Literal) else str(term)

    def href(self, iri: str) -> tuple[str | None, bool]:
        url = local_url(iri)
        if url is not None:
            if url.startswith(("/shapes", "/def")) or self.exists(iri):
                return url, False
            return None, False
        if iri.startswith(("http://", "https://")):
            return iri, True
        return None, False

    def value(self, term, depth: int = 0) -> Value:
        if isinstance(term, ox.NamedNode):
            href, external = self.href(term.value)
            label = self.label(term)
            c = compact(term.value)
            return Value("iri", label or c, href=href, compact=c if label else None,
                         external=external)
        if isinstance(term, ox.Literal):
            dt = term.datatype.value if term.datatype else None
            shown_dt = None if dt in (None, XSD_STRING, RDF_LANGSTRING) else compact(dt)
            return Value("literal", term.value, lang=term.language, datatype=shown_dt,
                         numeric=dt in NUMERIC_TYPES)
        if isinstance(term, ox.BlankNode):
            items = self.rdf_list(term)
            if items is not None:
                return Value("bnode", "", items=[self.value(i, depth + 1) for i in items])
            v = Value("bnode", "_:" + term.value)
            if depth < 4:
                v.children = self.describe_bnode(term, depth + 1)
            return v
        if isinstance(term, ox.Triple):
            return Value("literal", f"<< {term} >>")
        return Value("literal", str(term))

    def rdf_list(self, node) -> list | None:
        items, seen = [], set()
        while isinstance(node, ox.BlankNode) and node not in seen:
            seen.add(node)
            first = self.one(node, V.RDF.first)
            if first is None:
                return None
            items.append(first)
            node = self.one(node, V.RDF.rest)
        return items if node == V.RDF.nil else None

    def describe_bnode(self, node, depth: int) -> list:
        groups: "OrderedDict[ox.NamedNode, list]" = OrderedDict()
        for q in self.store.quads_for_pattern(node, None, None, None):
            groups.setdefault(q.predicate, [])
            if q.object not in groups[q.predicate]:
                groups[q.predicate].append(q.object)
        return [(self.value(p), [self.value(o, depth) if p.value not in CODE_PREDICATES or
                                 not isinstance(o, ox.Literal) else Value("code", _dedent(o.value))
                                 for o in os_])
                for p, os_ in sorted(groups.items(), key=lambda kv: _pred_order(kv[0]))]


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text.strip("\n")).strip()


#: predicates whose values are SPARQL text, shown as code
CODE_PREDICATES = {V.SH.select.value, V.SH.ask.value, V.SH.construct.value, V.SH.update.value}

_PRED_FIRST = [V.RDF_TYPE.value, V.RDFS_LABEL.value, V.SKOS.prefLabel.value, V.SCHEMA.name.value,
               V.SKOS.altLabel.value, V.RDFS_COMMENT.value]


def _pred_order(p) -> tuple:
    v = p.value
    return (_PRED_FIRST.index(v) if v in _PRED_FIRST else len(_PRED_FIRST), compact(v))


# -- statistics (cached per data version) ---------------------------------------------------

_CACHE: dict[tuple, object] = {}


def _cached(kind: str, kg, make):
    key = (kind, kg.version, id(kg))
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = make()
    return _CACHE[key]


def _stats(kg):
    return _cached("stats", kg, kg.stats)


# -- home -----------------------------------------------------------------------------------

@bp.route("/")
def home():
    kg = get_kg()
    s = _stats(kg)
    terms = Terms(kg)
    counts = [
        ("c_facts", s.facts), ("c_indicators", s.indicators),
        ("c_projects", s.entities.get("Project", 0)), ("c_policies", s.entities.get("Policy", 0)),
        ("c_districts", s.entities.get("District", 0)), ("c_lost", s.lost),
        ("c_triples", s.triples),
    ]
    report = terms.value(V.REPORT)
    library = _library()
    examples = [terms.value(x) for x in (
        V.fact("gdp-2023"), V.district("330109"), V.indicator("gdp"), V.EP.Fact)]
    examples = [e for e in examples if e.href]
    return render_template("home.html", counts=counts, report=report,
                           queries=list(library.values())[:8], examples=examples)


# -- downloads ------------------------------------------------------------------------------

DUMPS = {"econplan.trig": "application/trig", "econplan.nq": "application/n-quads"}


@bp.route("/dumps/<name>")
def dump(name: str):
    if name not in DUMPS:
        raise NotFoundError(f"no dump named {name!r}; there are {', '.join(sorted(DUMPS))}")
    path = Path(get_state().build_dir) / name
    if not path.is_file():
        raise NotFoundError(f"the dump {name} has not been built (run `econplan build`)")
    resp = send_file(path, mimetype=DUMPS[name], as_attachment=False, conditional=True,
                     download_name=name, max_age=0)
    resp.headers["Content-Type"] = f"{DUMPS[name]}; charset=utf-8"
    resp.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return resp


def _graphs_with_prefix(kg, prefix: str) -> list:
    return sorted((gn for gn in kg.store.named_graphs()
                   if isinstance(gn, ox.NamedNode) and gn.value.startswith(prefix)),
                  key=lambda n: n.value)


def _graph_turtle(kg, prefix: str) -> bytes:
    seen, triples = set(), []
    for gname in _graphs_with_prefix(kg, prefix):
        for q in kg.store.quads_for_pattern(None, None, None, gname):
            tr = ox.Triple(q.subject, q.predicate, q.object)
            if tr not in seen:
                seen.add(tr)
                triples.append(tr)
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_used_prefixes(triples)) or b""


def _turtle_response(body: bytes, name: str) -> Response:
    resp = Response(body, mimetype="text/turtle")
    resp.headers["Content-Type"] = "text/turtle; charset=utf-8"
    resp.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return resp


SEARCH_TEXTS = {
    "title": ("搜索", "Search"),
    "label": ("搜索指标、地区、项目、政策、保存的查询和报告原文", "Search indicators, areas, projects, policies, saved queries and the report's sentences"),
    "button": ("搜索", "Search"),
    "none": ("没有找到“{q}”。", "Nothing found for “{q}”."),
    "more": ("另有 {n} 条", "{n} more"),
    "facts": ("{n} 个事实", "{n} facts"),
    "cannot": ("数据无法回答的问题", "What the data cannot answer"),
}


@bp.route("/search")
def search_page():
    """Search (server/kg/search.py): a page for browsers, the same as JSON for
    ``Accept: application/json`` (or ``?format=json``)."""
    from html import escape as html_escape

    from server.kg import search as S

    lg = lang()
    q = request.args.get("q", "")
    limit = request.args.get("limit", str(S.DEFAULT_LIMIT))
    if not limit.isdigit():
        raise KGError("limit must be a positive whole number", status=400)
    as_json = request.args.get("format") == "json" or request.accept_mimetypes.best_match(
        ["text/html", "application/json"]) == "application/json"
    words = {k: v[0 if lg == "zh" else 1] for k, v in SEARCH_TEXTS.items()}
    if not q.strip() and not as_json:
        return render_template("search.html", q="", result=None, words=words)
    index = S.index_for(get_kg(), get_state().root / "queries")
    result = S.search(index, q, lang=lg, limit=int(limit))
    for g_ in result["groups"]:
        for r in g_["results"]:
            r["url"] = "/queries/" + quote(r["slug"]) if "slug" in r else (local_url(r["iri"]) or r["iri"])
            r["html"] = S.highlight(r["snippet"]["text"], r["snippet"]["spans"], escape=html_escape)
    if as_json:
        return jsonify({"ok": True, **result})
    return render_template("search.html", q=result["query"], result=result, words=words)


@bp.route("/cannot-answer")
def cannot_answer():
    """What the data cannot answer (docs/cannot-answer.yaml), as a page or JSON."""
    from server.kg import unanswerable

    doc = unanswerable.load(get_state().root)
    if request.args.get("format") == "json" or request.accept_mimetypes.best_match(
            ["text/html", "application/json"]) == "application/json":
        return jsonify({"ok": True, **doc})
    return render_template("cannot_answer.html", doc=doc)


@bp.route("/favicon.ico")
def favicon():
    """The icon browsers ask for at the root (a copy of favicon.svg as a 16/32-pixel ICO)."""
    folder = Path(current_app.static_folder or "")
    resp = Response((folder / "favicon.ico").read_bytes(), mimetype="image/vnd.microsoft.icon")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


@bp.route("/ontology.ttl")
def ontology_ttl():
    return _turtle_response(_graph_turtle(get_kg(), V.GRAPH + "ontology/"), "econplan.ttl")


@bp.route("/shapes.ttl")
def shapes_ttl():
    return _turtle_response(_graph_turtle(get_kg(), V.GRAPH + "shapes/"), "econplan-shapes.ttl")


# -- saved queries --------------------------------------------------------------------------

def _library() -> dict:
    try:
        return get_state().library
    except KGError as exc:
        raise KGError(f"the saved queries could not be loaded: {exc.message}", status=500) from None


def _query(slug: str):
    q = _library().get(slug)
    if q is None:
        raise NotFoundError(f"there is no saved query {slug!r}; see /queries for the list")
    return q


def _substitutions(q, args: dict) -> dict:
    from .query_library import bind_params

    bound = bind_params(q, args)
    return {var.value: str(term) for var, term in bound.items()}


def _query_args(q) -> dict:
    """The request's parameters for a saved query: every argument, lists for repeats.

    ``lang`` belongs to the page unless the query has a parameter of that name.
    """
    args = {k: request.args.getlist(k) for k in request.args}
    if q.param("lang") is None:
        args.pop("lang", None)
    return {k: (v[0] if len(v) == 1 else v) for k, v in args.items()}


@bp.route("/queries")
def queries():
    library = _library()
    tags = sorted({tag for q in library.values() for tag in q.tags})
    want = request.args.get("tag")
    shown = [q for q in library.values() if not want or want in q.tags]
    return render_template("queries.html", queries=shown, tags=tags, tag=want)


@bp.route("/queries.json")
def queries_json():
    return jsonify({"ok": True, "queries": [
        {k: v for k, v in q.to_dict().items()} | {"url": url_for("pages.query_page", slug=q.slug)}
        for q in _library().values()]})


@bp.route("/openapi.json")
def openapi_json():
    from .query_library import openapi

    return jsonify(openapi(_library(), request.url_root))


_RESULT_EXT = {"json": "json", "csv": "csv", "tsv": "tsv"}


@bp.route("/queries/<slug>.<ext>")
def query_data(slug: str, ext: str):
    from .api import run_query

    if ext not in _RESULT_EXT:
        raise NotFoundError(f"no format .{ext}; use .json, .csv or .tsv")
    q = _query(slug)
    subs = _substitutions(q, _query_args(q))
    if q.kind in ("construct", "describe"):
        if ext != "json":
            raise KGError(f"query {slug!r} is a {q.kind.upper()} query: its results are a graph, "
                          "available as .json (JSON-LD) only", status=406)
        fmt = "jsonld"
    elif q.kind == "ask" and ext != "json":
        raise KGError(f"query {slug!r} is an ASK query: its result is available as .json only",
                      status=406)
    else:
        fmt = ext
    resp = run_query(q.sparql, accept=None, fmt=fmt, substitutions=subs or None)
    if resp.status_code == 200:
        resp.headers["Content-Disposition"] = f'inline; filename="{slug}.{ext}"'
    return resp


def _param_inputs(q, args: dict, terms: Terms) -> list[dict]:
    out = []
    for p in q.params:
        raw = args.get(p.name)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        value = raw if raw not in (None, "") else (p.default or "")
        field_ = {"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                  "value": value, "description": pick(p.description), "options": None,
                  "datalist": None, "input": "text", "attrs": {}}
        if p.type == "integer":
            field_["input"] = "number"
            field_["attrs"] = {"step": "1", "inputmode": "numeric"}
        elif p.type == "decimal":
            field_["input"] = "number"
            field_["attrs"] = {"step": "any", "inputmode": "decimal"}
        elif p.type == "year":
            field_["input"] = "number"
            field_["attrs"] = {"min": "1900", "max": "2100", "step": "1", "inputmode": "numeric"}
        elif p.type == "iri":
            field_["input"] = "url"
        elif p.type == "district":
            field_["input"] = "select"
            field_["options"] = _district_options(terms)
            if value and value.startswith(V.ID + "district/"):
                field_["value"] = value[len(V.ID + "district/"):]
        elif p.type == "indicator":
            field_["datalist"] = _indicator_options(terms)
            if value and value.startswith(V.ID + "indicator/"):
                field_["value"] = value[len(V.ID + "indicator/"):]
        out.append(field_)
    return out


def _district_options(terms: Terms) -> list[tuple[str, str]]:
    def make():
        rows = []
        for d in terms.subjects(V.RDF_TYPE, V.EP.District):
            code = terms.one(d, V.EP.gb2260)
            if isinstance(code, ox.Literal):
                rows.append((code.value, d))
        return sorted(rows, key=lambda r: r[0])
    rows = _cached("districts", terms.kg, make)
    return [(code, f"{code} {terms.name(d)}") for code, d in rows]


def _indicator_options(terms: Terms) -> list[tuple[str, str]]:
    def make():
        ns = V.ID + "indicator/"
        return sorted((i.value[len(ns):], i) for i in terms.subjects(V.RDF_TYPE, V.EP.Indicator)
                      if isinstance(i, ox.NamedNode) and i.value.startswith(ns))
    rows = _cached("indicators", terms.kg, make)
    return [(slug, terms.name(i)) for slug, i in rows]


def _binding_value(b: dict | None, terms: Terms) -> Value | None:
    if b is None:
        return None
    kind = b.get("type")
    if kind == "uri":
        return terms.value(ox.NamedNode(b["value"]))
    if kind == "bnode":
        return Value("bnode", "_:" + b["value"])
    if kind in ("literal", "typed-literal"):
        dt = b.get("datatype")
        return Value("literal", b["value"], lang=b.get("xml:lang"),
                     datatype=compact(dt) if dt and dt not in (XSD_STRING, RDF_LANGSTRING) else None,
                     numeric=dt in NUMERIC_TYPES)
    if kind == "triple":
        return Value("literal", json.dumps(b["value"], ensure_ascii=False))
    return Value("literal", str(b.get("value")))


def _chart_for(q, variables: list[str]) -> dict | None:
    chart = q.chart
    if not chart or chart.get("type") in (None, "none"):
        return None
    out = dict(chart)
    want, other = ("En", "Zh") if lang() == "en" else ("Zh", "En")
    for key in ("x", "color"):
        var = out.get(key)
        if not var:
            continue
        # a chart labelled by ?areaZh shows ?areaEn on the English page, and back
        for a, b in ((other, want), ("_" + other.lower(), "_" + want.lower())):
            if var.endswith(a) and var[: -len(a)] + b in variables:
                out[key] = var[: -len(a)] + b
                break
    return out


@bp.route("/queries/<slug>")
def query_page(slug: str):
    from .api import run_query
    from .query_library import ParamError

    library = _library()
    q = library.get(slug)
    if q is None:
        return error_page(404, f"there is no saved query {slug!r}; see /queries for the list")
    kg = get_kg()
    terms = Terms(kg)
    args = _query_args(q)
    inputs = _param_inputs(q, args, terms)
    qs = urlencode([(k, x) for k, vs in ((k, v if isinstance(v, list) else [v])
                                        for k, v in args.items()) for x in vs])
    ctx = {"q": q, "inputs": inputs, "qs": qs, "error": None, "status": 200, "table": None,
           "prompt": None,
           "ask": None, "chart": None, "results_json": None, "truncated": False,
           "title": pick(q.title), "description": pick(q.description)}
    missing = [p.name for p in q.params if p.required and not args.get(p.name)]
    if missing and not args:
        # a first visit to a query with required parameters: show the form, run nothing
        ctx["prompt"] = t("fill_required", names=", ".join(missing))
        return render_template("query.html", **ctx)
    try:
        subs = _substitutions(q, args)
        if q.kind in ("construct", "describe"):
            resp = run_query(q.sparql, accept=None, fmt="ntriples", substitutions=subs or None)
            triples = [tr for tr in ox.parse(resp.get_data(), format=ox.RdfFormat.N_TRIPLES)]
            ctx["table"] = {"vars": ["subject", "predicate", "object"],
                            "rows": [[terms.value(tr.subject), terms.value(tr.predicate),
                                      terms.value(tr.object)] for tr in triples]}
        else:
            resp = run_query(q.sparql, accept=None, fmt="json", substitutions=subs or None)
            data = json.loads(resp.get_data())
            if "boolean" in data:
                ctx["ask"] = bool(data["boolean"])
            else:
                variables = data["head"]["vars"]
                rows = data["results"]["bindings"]
                ctx["table"] = {"vars": variables,
                                "rows": [[_binding_value(r.get(v), terms) for v in variables]
                                         for r in rows]}
                chart = _chart_for(q, variables)
                if chart:
                    ctx["chart"] = chart
                    ctx["results_json"] = data
        ctx["truncated"] = resp.headers.get("X-Result-Truncated") == "true"
    except ParamError as exc:
        ctx["error"], ctx["status"] = exc.message, exc.status
    except KGError as exc:
        ctx["error"], ctx["status"] = exc.message, exc.status
    except StreamAborted as exc:  # a large answer stopped at the time limit while it was read
        ctx["error"], ctx["status"] = str(exc), 503
    html = render_template("query.html", **ctx)
    return Response(html, status=ctx["status"], mimetype="text/html")


# -- editor ---------------------------------------------------------------------------------

DEFAULT_EDITOR_QUERY = """SELECT ?fact ?label ?value ?unit WHERE {
  ?fact ep:indicator indicator:gdp ;
        ep:value ?value ;
        ep:unit/ep:symbol ?unit ;
        rdfs:label ?label .
  FILTER (LANG(?label) = "%s")
}
LIMIT 20
"""


def _prefix_block() -> str:
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in V.PREFIXES.items())


@bp.route("/editor")
def editor():
    library = _library()
    config = {
        "endpoint": request.url_root.rstrip("/") + url_for("api.sparql"),
        "prefixes": dict(V.PREFIXES),
        "prefixesUrl": url_for("pages.editor_prefixes"),
        "defaultQuery": _prefix_block() + "\n" + DEFAULT_EDITOR_QUERY % lang(),
        "queries": [{"slug": q.slug, "title": pick(q.title), "sparql": q.sparql}
                    for q in library.values()],
        "tabName": "查询" if lang() == "zh" else "Query",
    }
    want = request.args.get("query")
    g.csp_style = EDITOR_STYLE_HASHES
    return render_template("editor.html", config=config, queries=list(library.values()),
                           selected=want if want in library else "")


@bp.route("/editor/prefixes.json")
def editor_prefixes():
    """The prefixes for the editor's PREFIX autocompletion (instead of prefix.cc)."""
    return jsonify(dict(V.PREFIXES))


# -- entity pages and their RDF -------------------------------------------------------------

ENTITY_FORMATS = (
    Format("html", "text/html", ("application/xhtml+xml",)),
    Format("turtle", "text/turtle", ("application/x-turtle",)),
    Format("jsonld", "application/ld+json", ("application/json",)),
    Format("ntriples", "application/n-triples", ("text/plain",)),
)
SUFFIX_FORMAT = {".ttl": "turtle", ".jsonld": "jsonld", ".nt": "ntriples"}
FORMAT_SUFFIX = {v: k for k, v in SUFFIX_FORMAT.items()}


def _has_triples(kg, node) -> bool:
    return (next(iter(kg.store.quads_for_pattern(node, None, None, None)), None) is not None or
            next(iter(kg.store.quads_for_pattern(None, None, node, None)), None) is not None)


def _node(iri: str):
    try:
        return ox.NamedNode(iri)
    except ValueError:
        return None


def _resolve(base_iri: str, path: str, kg):
    """(IRI, forced format) for a path that may end in .ttl/.jsonld/.nt; 404 when unknown."""
    for suffix, fmt in SUFFIX_FORMAT.items():
        if path.endswith(suffix):
            node = _node(base_iri + path[: -len(suffix)])
            if node is not None and _has_triples(kg, node):
                return node, fmt
    node = _node(base_iri + path)
    if node is None or not _has_triples(kg, node):
        raise NotFoundError(f"nothing is known about <{base_iri + path}>")
    return node, None


def _entity_triples(kg, node) -> list:
    seen, out = set(), []
    for q in kg.describe(node.value):
        tr = ox.Triple(q.subject, q.predicate, q.object)
        if tr not in seen:
            seen.add(tr)
            out.append(tr)
    # blank nodes hanging off the resource (shapes, lists) travel with it
    frontier = [tr.object for tr in out if isinstance(tr.object, ox.BlankNode)]
    done = set()
    while frontier:
        b = frontier.pop()
        if b in done:
            continue
        done.add(b)
        for q in kg.store.quads_for_pattern(b, None, None, None):
            tr = ox.Triple(q.subject, q.predicate, q.object)
            if tr not in seen:
                seen.add(tr)
                out.append(tr)
                if isinstance(q.object, ox.BlankNode):
                    frontier.append(q.object)
    return out


def _used_prefixes(triples) -> dict:
    """The prefixes of V.PREFIXES (and eps:) that some IRI of ``triples`` uses."""
    iris = set()
    for tr in triples:
        for term in (tr.subject, tr.predicate, tr.object):
            if isinstance(term, ox.NamedNode):
                iris.add(term.value)
            elif isinstance(term, ox.Literal) and term.datatype is not None:
                iris.add(term.datatype.value)
    return {p: ns for p, ns in (V.PREFIXES | {"eps": SHAPES_NS}).items()
            if any(i.startswith(ns) for i in iris)}


def _rdf_response(triples: list, fmt: str, location: str | None) -> Response:
    media = next(f.media_type for f in ENTITY_FORMATS if f.name == fmt)
    kwargs = {"prefixes": _used_prefixes(triples)} if fmt == "turtle" else {}
    if fmt == "jsonld":  # compact, with an @context (server/kg/jsonld.py)
        from server.kg import jsonld

        body = jsonld.dumps(jsonld.to_jsonld(triples)).encode("utf-8")
    else:
        body = ox.serialize(triples, format=OX_GRAPH_FORMAT[fmt], **kwargs) or b""
    resp = Response(body, mimetype=media)
    resp.headers["Content-Type"] = f"{media}; charset=utf-8"
    if location:
        resp.headers["Content-Location"] = location
    return resp


def _serve_resource(node, forced: str | None, page_path: str):
    kg = get_kg()
    if forced:
        return _rdf_response(_entity_triples(kg, node), forced, None)
    fmt = negotiate(request.headers.get("Accept"), ENTITY_FORMATS, request.args.get("format"))
    if fmt.name != "html":
        resp = _rdf_response(_entity_triples(kg, node), fmt.name,
                             page_path + FORMAT_SUFFIX[fmt.name] if "?" not in page_path else None)
    else:
        resp = Response(_entity_html(kg, node, page_path), mimetype="text/html")
    resp.vary.add("Accept")
    return resp


@bp.route("/id/<path:path>")
def entity(path: str):
    kg = get_kg()
    try:
        node, forced = _resolve(V.ID, path, kg)
    except NotFoundError as exc:
        return _not_found(exc.message)
    return _serve_resource(node, forced, "/id/" + path[: -len(FORMAT_SUFFIX[forced])] if forced else "/id/" + path)


@bp.route("/source/<path:path>")
def source_resource(path: str):
    kg = get_kg()
    try:
        node, forced = _resolve(BASE + "source/", path, kg)
    except NotFoundError as exc:
        return _not_found(exc.message)
    page = "/source/" + (path[: -len(FORMAT_SUFFIX[forced])] if forced else path)
    return _serve_resource(node, forced, page)


@bp.route("/resource")
def any_resource():
    """Any IRI of the data that has no path of its own here (e.g. one with a #fragment)."""
    iri = request.args.get("iri", "")
    node = _node(iri)
    kg = get_kg()
    if node is None or not _has_triples(kg, node):
        return _not_found(f"nothing is known about <{iri}>")
    return _serve_resource(node, None, "/resource?" + urlencode({"iri": iri}))


@bp.route("/def/<term>")
def def_term(term: str):
    kg = get_kg()
    try:
        node, forced = _resolve(V.DEF, term, kg)
    except NotFoundError as exc:
        return _not_found(exc.message)
    page = "/def/" + (term[: -len(FORMAT_SUFFIX[forced])] if forced else term)
    return _serve_resource(node, forced, page)


def _not_found(message: str):
    fmt = None
    try:
        fmt = negotiate(request.headers.get("Accept"), ENTITY_FORMATS, None)
    except KGError:
        pass
    if fmt is not None and fmt.name == "html" and not request.path.endswith(tuple(SUFFIX_FORMAT)):
        return error_page(404, message)
    raise NotFoundError(message)


def _ontology_triples(kg) -> list:
    seen, out = set(), []
    for gname in _graphs_with_prefix(kg, V.GRAPH + "ontology/"):
        for q in kg.store.quads_for_pattern(None, None, None, gname):
            tr = ox.Triple(q.subject, q.predicate, q.object)
            if tr not in seen:
                seen.add(tr)
                out.append(tr)
    return out


@bp.route("/def")
@bp.route("/def.<ext>")
def def_doc(ext: str | None = None):
    """The ontology document: the ontology page for browsers, the whole ontology for RDF clients."""
    kg = get_kg()
    if ext is not None:
        fmt = SUFFIX_FORMAT.get("." + ext)
        if fmt is None:
            raise NotFoundError(f"no format .{ext}; use .ttl, .jsonld or .nt")
        return _rdf_response(_ontology_triples(kg), fmt, None)
    fmt = negotiate(request.headers.get("Accept"), ENTITY_FORMATS, request.args.get("format"))
    if fmt.name != "html":
        resp = _rdf_response(_ontology_triples(kg), fmt.name, "/def" + FORMAT_SUFFIX[fmt.name])
    else:
        resp = Response(_ontology_html(kg), mimetype="text/html")
    resp.vary.add("Accept")
    return resp


def _entity_html(kg, node, page_path: str) -> str:
    terms = Terms(kg)
    props: "OrderedDict[ox.NamedNode, list]" = OrderedDict()
    graphs = set()
    for q in kg.store.quads_for_pattern(node, None, None, None):
        props.setdefault(q.predicate, [])
        if q.object not in props[q.predicate]:
            props[q.predicate].append(q.object)
        if q.graph_name is not None and isinstance(q.graph_name, ox.NamedNode):
            graphs.add(q.graph_name.value)
    types = props.get(V.RDF_TYPE, [])
    type_values = set(x.value for x in types if isinstance(x, ox.NamedNode))
    prop_rows = [(terms.value(p), [terms.value(o) for o in sorted(os_, key=_obj_key)])
                 for p, os_ in sorted(props.items(), key=lambda kv: _pred_order(kv[0]))
                 if p != V.RDF_TYPE]
    incoming_all, seen = [], set()
    for q in kg.store.quads_for_pattern(None, None, node, None):
        key = (q.subject, q.predicate)
        if key not in seen:
            seen.add(key)
            incoming_all.append(key)
    incoming_all.sort(key=lambda sp: (_pred_order(sp[1]), sp[0].value))
    limit = 300
    incoming = [(terms.value(s), terms.value(p)) for s, p in incoming_all[:limit]]
    other_lang = "en" if terms.lang == "zh" else "zh"
    title = terms.label(node) or compact(node.value)
    ctx = {
        "iri": node.value, "title": title, "other_label": terms.label(node, other_lang),
        "compact_iri": compact(node.value),
        "types": [terms.value(x) for x in types], "props": prop_rows,
        "incoming": incoming, "incoming_total": len(incoming_all), "incoming_limit": limit,
        "graphs": sorted(graphs), "page_path": page_path,
        "alt": [(name, page_path + suffix if "?" not in page_path else
                 page_path + "&" + urlencode({"format": name}))
                for suffix, name in SUFFIX_FORMAT.items()],
        "source": None, "passage": None, "district": None,
        "ontology_anchor": None,
    }
    if node.value.startswith(V.DEF):
        ctx["ontology_anchor"] = "/ontology#" + node.value[len(V.DEF):]
    comment = _pick_literal(props.get(V.RDFS_COMMENT, []), terms.lang)
    ctx["comment"] = comment
    if any(t_ in type_values for t_ in (V.EP.Fact.value, V.EP.Observation.value, V.EP.Target.value)) \
            or V.EP.indicator in props:
        ctx["source"] = _fact_source(terms, node)
    if V.EP.Sentence.value in type_values or V.EP.Paragraph.value in type_values \
            or V.OA.exact in props:
        ctx["passage"] = _passage_text(terms, node)
    if V.EP.District.value in type_values:
        ctx["district"] = _district_about(terms, node)
    return render_template("entity.html", **ctx)


def _obj_key(o):
    if isinstance(o, ox.Literal):
        return (0, o.language or "", o.value)
    return (1, "", getattr(o, "value", str(o)))


def _pick_literal(objs: list, want: str) -> str | None:
    lits = [o for o in objs if isinstance(o, ox.Literal)]
    for o in lits:
        if (o.language or "").startswith(want):
            return o.value
    return lits[0].value if lits else None


def _int_of(term) -> int | None:
    try:
        return int(term.value) if isinstance(term, ox.Literal) else None
    except ValueError:
        return None


def _segments(text: str, spans: list[tuple[int, int, str, str | None]]) -> list[dict]:
    """Split ``text`` into pieces; spans (start, end, css class, href) must not overlap."""
    out, pos = [], 0
    for a, b, cls, href in sorted(spans):
        if a < pos or a >= b or b > len(text):
            continue
        if a > pos:
            out.append({"text": text[pos:a], "cls": None, "href": None})
        out.append({"text": text[a:b], "cls": cls, "href": href})
        pos = b
    if pos < len(text):
        out.append({"text": text[pos:], "cls": None, "href": None})
    return out


def _fact_source(terms: Terms, fact) -> dict | None:
    """The fact's source sentence, split so that the number (and the mention) can be marked."""
    passage = terms.one(fact, V.PROV.wasDerivedFrom)
    if passage is None:
        return None
    exact = terms.one(passage, V.OA.exact)
    if not isinstance(exact, ox.Literal):
        return None
    text = exact.value
    p_start = _int_of(terms.one(passage, V.OA.start))
    vs, ve = _int_of(terms.one(fact, V.EP.valueStart)), _int_of(terms.one(fact, V.EP.valueEnd))
    mention = terms.one(fact, V.EP.mention)
    lost = terms.one(fact, V.EP.valueLost)
    num = None
    if p_start is not None and vs is not None and ve is not None:
        a, b = vs - p_start, ve - p_start
        if 0 <= a < b <= len(text):
            num = (a, b)
    men = None
    if isinstance(mention, ox.Literal) and mention.value:
        m = mention.value
        starts = [i for i in range(len(text)) if text.startswith(m, i)]
        if num is not None:
            around = [i for i in starts if i <= num[0] and num[1] <= i + len(m)]
            starts = around or starts
        if starts:
            men = (starts[0], starts[0] + len(m))
    pieces = []
    if men is not None and num is not None and men[0] <= num[0] and num[1] <= men[1]:
        pieces = _segments(text, [(men[0], num[0], "mention", None), (num[0], num[1], "number", None),
                                  (num[1], men[1], "mention", None)])
    elif num is not None:
        pieces = _segments(text, [(num[0], num[1], "number", None)])
    elif men is not None:
        pieces = _segments(text, [(men[0], men[1], "mention", None)])
    else:
        pieces = _segments(text, [])
    return {"passage": terms.value(passage), "pieces": pieces, "number_found": num is not None,
            "lost": isinstance(lost, ox.Literal) and lost.value == "true",
            "number": text[num[0]:num[1]] if num else None}


def _passage_text(terms: Terms, passage) -> dict | None:
    exact = terms.one(passage, V.OA.exact)
    if not isinstance(exact, ox.Literal):
        return None
    text = exact.value
    p_start = _int_of(terms.one(passage, V.OA.start))
    spans = []
    if p_start is not None:
        for f in terms.subjects(V.PROV.wasDerivedFrom, passage):
            vs, ve = _int_of(terms.one(f, V.EP.valueStart)), _int_of(terms.one(f, V.EP.valueEnd))
            if vs is None or ve is None:
                continue
            href, _ = terms.href(f.value) if isinstance(f, ox.NamedNode) else (None, False)
            spans.append((vs - p_start, ve - p_start, "number", href))
    # drop overlapping spans, keeping the first
    spans.sort()
    kept, end = [], -1
    for s in spans:
        if s[0] >= end:
            kept.append(s)
            end = s[1]
    paragraph = terms.one(passage, V.EP.paragraph)
    return {"pieces": _segments(text, kept),
            "paragraph": terms.value(paragraph) if paragraph is not None else None}


def _district_about(terms: Terms, district) -> dict:
    projects = sorted((terms.value(p) for p in terms.subjects(V.EP.district, district)),
                      key=lambda v: v.text)
    facts = []
    seen = set()
    for pred in (V.EP.refArea, V.EP.about):
        for f in terms.subjects(pred, district):
            if f in seen:
                continue
            seen.add(f)
            value = terms.one(f, V.EP.value)
            unit = terms.one(f, V.EP.unit)
            unit_text = None
            if unit is not None:
                sym = terms.one(unit, V.EP.symbol)
                unit_text = sym.value if isinstance(sym, ox.Literal) else terms.name(unit)
            period = terms.one(f, V.EP.refPeriod)
            status = terms.one(f, V.EP.status)
            start = _int_of(terms.one(f, V.EP.valueStart))
            facts.append({"fact": terms.value(f),
                          "value": value.value if isinstance(value, ox.Literal) else "—",
                          "unit": unit_text or "",
                          "period": period.value if isinstance(period, ox.Literal) else "",
                          "status": terms.value(status) if status is not None else None,
                          "via": compact(pred.value),
                          "order": start if start is not None else 10 ** 9})
    facts.sort(key=lambda r: (r["order"], r["fact"].text))
    parts = sorted((terms.value(d) for d in terms.subjects(V.SCHEMA.containedInPlace, district)),
                   key=lambda v: v.text)
    return {"projects": projects, "facts": facts, "parts": parts}


# -- ontology -------------------------------------------------------------------------------

def _term_counts(kg) -> dict:
    """{class IRI: instances incl. subclasses, property IRI: uses}, per data version."""
    def make():
        store = kg.store
        direct: dict[str, set] = {}
        for q in store.quads_for_pattern(None, V.RDF_TYPE, None, None):
            if isinstance(q.object, ox.NamedNode):
                direct.setdefault(q.object.value, set()).add(q.subject)
        subs: dict[str, set] = {}
        for q in store.quads_for_pattern(None, V.RDFS.subClassOf, None, None):
            if isinstance(q.object, ox.NamedNode) and isinstance(q.subject, ox.NamedNode):
                subs.setdefault(q.object.value, set()).add(q.subject.value)
        counts: dict[str, int] = {}

        def closure(c, seen):
            out = set(direct.get(c, ()))
            for sc in subs.get(c, ()):
                if sc not in seen:
                    seen.add(sc)
                    out |= closure(sc, seen)
            return out
        for c in set(direct) | set(subs):
            counts[c] = len(closure(c, {c}))
        uses: dict[str, set] = {}
        for q in store:
            uses.setdefault(q.predicate.value, set()).add((q.subject, q.object))
        for p, s in uses.items():
            counts["uses:" + p] = len(s)
        return counts
    return _cached("term-counts", kg, make)


def _shapes_index(kg) -> dict:
    """{class or property IRI: [shape IRI or node]} from sh:targetClass and sh:path."""
    def make():
        store = kg.store
        idx: dict[str, list] = {}
        for q in store.quads_for_pattern(None, V.SH.targetClass, None, None):
            if isinstance(q.object, ox.NamedNode):
                lst = idx.setdefault(q.object.value, [])
                if q.subject not in lst:
                    lst.append(q.subject)
        for q in store.quads_for_pattern(None, V.SH.path, None, None):
            if not isinstance(q.object, ox.NamedNode):
                continue
            owners = [o.subject for o in store.quads_for_pattern(None, V.SH.property, q.subject, None)]
            lst = idx.setdefault(q.object.value, [])
            for owner in owners or [q.subject]:
                if owner not in lst:
                    lst.append(owner)
        # an implicit class target: a shape that is itself an rdfs:Class / owl:Class
        return idx
    return _cached("shapes-index", kg, make)


def _ontology_terms(kg) -> dict:
    terms = Terms(kg)
    counts = _term_counts(kg)
    shapes = _shapes_index(kg)
    graphs = _graphs_with_prefix(kg, V.GRAPH + "ontology/")
    typed: "OrderedDict[ox.NamedNode, set]" = OrderedDict()
    for gname in graphs:
        for q in kg.store.quads_for_pattern(None, V.RDF_TYPE, None, gname):
            if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(V.DEF):
                typed.setdefault(q.subject, set()).add(q.object.value)
    groups = {"classes": [], "obj_props": [], "data_props": [], "other_props": [], "individuals": []}
    OWL = V.OWL
    for node, types in sorted(typed.items(), key=lambda kv: kv[0].value.lower()):
        local = node.value[len(V.DEF):]
        if OWL.Class.value in types or V.RDFS.Class.value in types:
            group = "classes"
        elif OWL.ObjectProperty.value in types:
            group = "obj_props"
        elif OWL.DatatypeProperty.value in types:
            group = "data_props"
        elif types & {V.RDF.Property.value, OWL.AnnotationProperty.value,
                      V.QB.DimensionProperty.value, V.QB.MeasureProperty.value,
                      V.QB.AttributeProperty.value}:
            group = "other_props"
        else:
            group = "individuals"
        is_class = group == "classes"
        item = {
            "local": local, "iri": node.value, "compact": compact(node.value),
            "label_zh": terms.label(node, "zh"), "label_en": terms.label(node, "en"),
            "label": terms.label(node) or local,
            "comment": _pick_literal(terms.objects(node, V.RDFS_COMMENT), terms.lang),
            "page": local_url(node.value),
            "types": [terms.value(ox.NamedNode(x)) for x in sorted(types)],
            "super": [terms.value(x) for x in terms.objects(
                node, V.RDFS.subClassOf if is_class else V.RDFS.subPropertyOf)],
            "domain": [terms.value(x) for x in terms.objects(node, V.RDFS.domain)],
            "range": [terms.value(x) for x in terms.objects(node, V.RDFS.range)],
            "shapes": [terms.value(s) for s in shapes.get(node.value, [])],
            "count": counts.get(node.value, 0) if is_class or group == "individuals"
            else counts.get("uses:" + node.value, 0),
            "count_kind": "instances" if is_class else
            ("uses" if group != "individuals" else None),
        }
        if group == "individuals":
            # how often the term is used as a value
            item["count"] = sum(1 for _ in kg.store.quads_for_pattern(None, None, node, None))
            item["count_kind"] = "uses"
        groups[group].append(item)
    return groups


def _ontology_html(kg) -> str:
    terms = Terms(kg)
    onto = ox.NamedNode(ONTOLOGY_DOC)
    info = {"title": terms.label(onto) or t("ontology_title"),
            "comment": _pick_literal(terms.objects(onto, V.RDFS_COMMENT), terms.lang),
            "version": (terms.one(onto, V.OWL.versionInfo) or ox.Literal("")).value}
    groups = _cached("ontology-terms-" + terms.lang, kg, lambda: _ontology_terms(kg))
    return render_template("ontology.html", groups=groups, info=info)


@bp.route("/ontology")
def ontology():
    return _ontology_html(get_kg())


# -- shapes ---------------------------------------------------------------------------------

_SHAPE_SKIP = {V.RDF_TYPE.value, V.RDFS_LABEL.value, V.RDFS_COMMENT.value, V.SH.property.value,
               V.SH.message.value, V.SH.targetClass.value, V.SH.targetNode.value,
               V.SH.targetSubjectsOf.value, V.SH.targetObjectsOf.value, V.SH.path.value,
               V.SH.name.value, V.SH.description.value, V.SH.severity.value,
               V.RDFS.isDefinedBy.value}


def _messages(terms: Terms, node) -> list[Value]:
    msgs = [o for o in terms.objects(node, V.SH.message) if isinstance(o, ox.Literal)]
    order = {terms.lang: 0}
    msgs.sort(key=lambda o: (order.get((o.language or "")[:2], 1), o.language or ""))
    return [terms.value(m) for m in msgs]


def _constraints(terms: Terms, node) -> list:
    groups: "OrderedDict[ox.NamedNode, list]" = OrderedDict()
    for q in terms.store.quads_for_pattern(node, None, None, None):
        if q.predicate.value in _SHAPE_SKIP:
            continue
        groups.setdefault(q.predicate, [])
        if q.object not in groups[q.predicate]:
            groups[q.predicate].append(q.object)
    rows = []
    for p, os_ in sorted(groups.items(), key=lambda kv: compact(kv[0].value)):
        vals = []
        for o in os_:
            v = (Value("code", _dedent(o.value)) if p.value in CODE_PREDICATES and isinstance(o, ox.Literal)
                 else terms.value(o))
            if isinstance(o, ox.BlankNode) and v.items is None:
                v.children = [(pv, ovs) for pv, ovs in v.children
                              if pv.compact != "sh:message" and pv.text != "sh:message"]
                v.messages = _messages(terms, o)  # type: ignore[attr-defined]
            vals.append(v)
        rows.append((terms.value(p), vals))
    return rows


def _shape_view(terms: Terms, shape) -> dict:
    name = terms.one(shape, V.SH.name)
    return {
        "node": terms.value(shape),
        "anchor": shape.value[len(SHAPES_NS):] if isinstance(shape, ox.NamedNode)
        and shape.value.startswith(SHAPES_NS) else None,
        "iri": shape.value if isinstance(shape, ox.NamedNode) else None,
        "label": terms.name(shape),
        "comment": _pick_literal(terms.objects(shape, V.RDFS_COMMENT), terms.lang) or
        _pick_literal(terms.objects(shape, V.SH.description), terms.lang),
        "name": name.value if isinstance(name, ox.Literal) else None,
        "path": terms.value(terms.one(shape, V.SH.path)) if terms.one(shape, V.SH.path) is not None else None,
        "severity": _severity(terms.one(shape, V.SH.severity)),
        "targets": [(compact(p.value), terms.value(o)) for p in
                    (V.SH.targetClass, V.SH.targetNode, V.SH.targetSubjectsOf, V.SH.targetObjectsOf)
                    for o in terms.objects(shape, p)],
        "messages": _messages(terms, shape),
        "messages_here": [m for m in _messages(terms, shape)
                          if (m.lang or "")[:2] in (terms.lang, "")] or _messages(terms, shape)[:1],
        "href": local_url(shape.value) if isinstance(shape, ox.NamedNode) else None,
        "constraints": _constraints(terms, shape),
        "properties": [_shape_view(terms, ps) for ps in
                       sorted(terms.objects(shape, V.SH.property), key=lambda n: _path_key(terms, n))],
    }


def _severity(term) -> str:
    """Violation, Warning or Info (sh:Violation when the shape does not say)."""
    ns = str(V.SH)
    if isinstance(term, ox.NamedNode) and term.value.startswith(ns):
        return term.value[len(ns):]
    return "Violation"


def _path_key(terms: Terms, ps) -> str:
    p = terms.one(ps, V.SH.path)
    order = terms.one(ps, V.SH.order)
    return f"{_int_of(order) if _int_of(order) is not None else 999:05d} " + (
        compact(p.value) if isinstance(p, ox.NamedNode) else "~")


@bp.route("/shapes")
def shapes():
    kg = get_kg()
    views = _cached("shapes-page-" + lang(), kg, lambda: _shapes_views(kg))
    return render_template("shapes.html", **views)


def _shapes_views(kg) -> dict:
    terms = Terms(kg)
    graphs = _graphs_with_prefix(kg, V.GRAPH + "shapes/")
    subjects_seen = set()
    for gname in graphs:
        for q in kg.store.quads_for_pattern(None, None, None, gname):
            subjects_seen.add(q.subject)
    node_shapes, prop_shapes, others = [], [], []
    for s in sorted(subjects_seen, key=lambda n: n.value):
        types = {x.value for x in terms.objects(s, V.RDF_TYPE)}
        if V.SH.NodeShape.value in types:
            node_shapes.append(s)
        elif isinstance(s, ox.NamedNode) and (V.SH.PropertyShape.value in types or
                                              terms.one(s, V.SH.path) is not None):
            prop_shapes.append(s)
        elif isinstance(s, ox.NamedNode) and s.value != SHAPES_DOC:
            others.append(s)
    other_views = []
    for s in others:
        other_views.append({"node": terms.value(s), "anchor": s.value[len(SHAPES_NS):]
                            if s.value.startswith(SHAPES_NS) else None,
                            "types": [terms.value(x) for x in terms.objects(s, V.RDF_TYPE)],
                            "comment": _pick_literal(terms.objects(s, V.RDFS_COMMENT), terms.lang),
                            "constraints": _constraints(terms, s)})
    return {"shapes": [_shape_view(terms, s) for s in node_shapes],
            "property_shapes": [_shape_view(terms, s) for s in prop_shapes],
            "others": other_views, "graphs": [gn.value for gn in graphs]}


# -- small helpers for the templates ------------------------------------------------------------

@bp.app_template_filter("num")
def _num(n) -> str:
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return str(n)


@bp.app_template_global("static_v")
def static_v(filename: str) -> str:
    """A static URL with the file's mtime, so that browsers refetch changed files."""
    folder = Path(current_app.static_folder or "")
    try:
        stamp = int((folder / filename).stat().st_mtime)
    except OSError:
        stamp = 0
    return url_for("static", filename=filename, v=stamp)


@bp.app_template_global("is_external")
def _is_external(href: str | None) -> bool:
    return bool(href) and href.startswith(("http://", "https://"))
