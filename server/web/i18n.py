"""Every text of the pages, in Chinese and English, and the page language."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import g, request


LANGS = ("zh", "en")
LANG_COOKIE = "lang"


# -- words -------------------------------------------------------------------------------

#: Every text of the pages, in Chinese and English.
TEXT: dict[str, tuple[str, str]] = {
    "site": ("城市发展计划知识图谱", "econplan — city development-plan knowledge graph"),
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
        "城市发展计划与统计数据的知识图谱。核心是杭州市《关于2023年国民经济和社会发展计划执行情况与2024年计划草案的报告》"
        "全文:报告中的每一个数字都是一个事实,记录它衡量的指标、数值、单位、时期、类型(总量、增速、占比……)、"
        "限定词(以上、约、近……)、状态(实际、目标、预计),以及它出自的原文句子和字符位置;报告提到的项目、政策、"
        "领域和行政区也都是实体。其他城市的数据(统计公报、政府工作报告中的地区生产总值、人口、财政收入等)"
        "按数据集载入,每个数值都有来源和版本,可与杭州对照。图谱用 OWL 本体描述,用 SHACL 形状校验。",
        "A knowledge graph of Chinese cities' development plans and statistics. At its core is Hangzhou's "
        "report on the execution of the 2023 plan for national economic and social development and the "
        "draft plan for 2024, in full: every figure in it is a fact (the indicator it measures, its value, "
        "unit, period, kind, qualifier and status, with the sentence it comes from and its character "
        "offsets), and every project, policy, domain and district it names is an entity. Other cities' "
        "figures (GDP, population, budget revenue … from statistical bulletins and government work "
        "reports) are datasets beside it, each value with its source and vintage, ready to compare with "
        "Hangzhou. An OWL ontology describes the graph and SHACL shapes check it."),
    "datasets": ("数据集", "Datasets"),
    "ds_name": ("数据集", "dataset"),
    "ds_facts": ("事实", "facts"),
    "ds_areas": ("地区", "areas"),
    "home_other": ("English", "中文"),
    "counts": ("数据概况", "The data in numbers"),
    "c_facts": ("事实", "facts"),
    "c_indicators": ("指标", "indicators"),
    "c_projects": ("项目", "projects"),
    "c_policies": ("政策", "policies"),
    "c_provinces": ("省级行政区", "province-level divisions"),
    "c_cities": ("地级行政区", "prefecture-level divisions"),
    "c_counties": ("县级行政区", "county-level divisions"),
    "c_lost": ("来源丢失的数值", "values lost by the source"),
    "c_triples": ("三元组", "triples"),
    "explore": ("浏览与查询", "Explore and query"),
    "x_editor": ("在浏览器中编写并运行 SPARQL 查询(YASGUI)。", "Write and run SPARQL in the browser (YASGUI)."),
    "x_queries": ("带参数、表格和图表的现成查询。", "Ready-made queries with parameters, tables and charts."),
    "x_ontology": ("类与属性,以及各自的实例数。", "Classes and properties with their instance counts."),
    "x_shapes": ("每条数据在载入前都要通过的 SHACL 约束。", "The SHACL constraints every change must pass."),
    "x_sparql": ("SPARQL 1.1 协议端点,支持 GET 和 POST。", "The SPARQL 1.1 Protocol endpoint, GET and POST."),
    "x_openapi": ("示例查询的 OpenAPI 描述。", "An OpenAPI description of the saved queries."),
    "nav_cannot": ("数据无法回答的问题", "What the data cannot answer"),
    "x_cannot": ("报告没有给出的数字(如各区县投资、表1的数值),以及数据能回答的最接近的问题。",
                 "Figures the report does not give (investment per district, Table 1's values) and the "
                 "nearest questions the data does answer."),
    "downloads": ("下载", "Downloads"),
    "d_trig": ("全部数据,TriG 格式(带命名图)", "All data as TriG (with named graphs)"),
    "d_nq": ("全部数据,N-Quads 格式", "All data as N-Quads"),
    "d_ontology": ("本体,Turtle 格式", "The ontology as Turtle"),
    "d_shapes": ("SHACL 形状,Turtle 格式", "The SHACL shapes as Turtle"),
    "start_here": ("从这里开始", "Start here"),
    "report": ("杭州报告", "Hangzhou's report"),
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
    "quote": ("来源网页上的原文", "The words on its source page"),
    "quote_note": ("这个数字导入自表格;这是它在来源网页上所在的原文(ep:sourceQuote),高亮的是原样写法。",
                   "This figure was imported from a table; these are the words it was read in on its source "
                   "page (ep:sourceQuote), with the number as written marked."),
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
    "named_things": ("位于此地的项目、政策、活动等", "Projects, policies, events and other named things here"),
    "named_note_report": ("本地报告提到的全部有名称的事物,按类别分组;文字把它定位到某个区县的,括号中注明。",
                          "Everything the report on this area names, grouped by kind; where the text "
                          "places a thing in a district or county, it is given in brackets."),
    "named_note_district": ("报告文字定位在此地的有名称的事物(ep:district),按类别分组。",
                            "The named things the report's text places here (ep:district), grouped by kind."),
    "district_facts": ("这个行政区的事实(ep:refArea 或 ep:about)", "Facts of this district (ep:refArea or ep:about)"),
    "district_parts": ("下辖行政区", "Divisions"),
    "none": ("无", "None"),
    "fact": ("事实", "Fact"),
    "period": ("时期", "Period"),
    "sp_title": ("SPARQL 端点", "SPARQL endpoint"),
    "sp_lead": ("这是一个标准的 SPARQL 1.1 查询端点:程序以 GET ?query=、POST 表单或 POST application/sparql-query 发送查询;浏览器看到的是这个说明页。",
                "A standard SPARQL 1.1 query endpoint: programs send a query by GET ?query=, a POST form or a POST application/sparql-query body; a browser sees this page."),
    "sp_editor": ("在查询编辑器中编写并运行查询", "Write and run queries in the query editor"),
    "sp_try": ("试一试", "Try it"),
    "sp_graphs": ("命名图", "Named graphs"),
    "sp_formats": ("结果格式", "Result formats"),
    "sp_sd": ("服务描述(SPARQL 1.1 Service Description)", "Service description (SPARQL 1.1 Service Description)"),
    "sp_sd_note": ("程序按 Accept 头取得它:", "Programs get it by their Accept header:"),
    "g_title": ("命名图", "Named graph"),
    "g_triples": ("三元组数", "Triples"),
    "g_download": ("下载", "Download"),
    "g_subjects": ("主语数", "Subjects"),
    "g_lead": ("数据集中的一个命名图(每个来源文件一个)。程序按 Accept 头取得它的 RDF。", "A named graph of the dataset (one per source file). Programs get its RDF by their Accept header."),
    "g_query": ("在编辑器中查询这个图", "Query this graph in the editor"),
    "v_indicator": ("指标", "Indicator"),
    "v_area": ("地区", "Area"),
    "v_kind": ("类型", "Kind"),
    "v_qualifier": ("限定", "Qualifier"),
    "v_value": ("数值(原文)", "Value (as written)"),
    "v_sentence": ("原文句子", "Sentence"),
    "v_filter": ("筛选", "Filter"),
    "v_filter_hint": ("输入任意文字,例如 2024 或 目标", "any text, e.g. 2024 or target"),
    "v_shown": ("显示 {n} / {total} 条", "{n} of {total} shown"),
    "v_facts": ("事实", "Facts"),
    "v_chart": ("随时间与地区的变化(实际与目标)", "Over time and across areas (actuals and targets)"),
    "v_chart_note": ("图中数值已换算为可读单位;表中为原文写法。", "Values in the chart are converted to a readable unit; the table gives them as written."),
    "v_subs": ("下级指标", "Sub-indicators"),
    "v_broader": ("上级指标", "Broader indicator"),
    "v_plan": ("各地区、各年的计划情况", "Plan status per area and year"),
    "v_plan_area": ("计划指标完成情况(报告所述)", "Plan indicators met or not (as the report states)"),
    "v_actual": ("实际", "Actual"),
    "v_target": ("目标 / 预计", "Target / expected"),
    "v_plan_status": ("计划完成状态", "Plan status"),
    "v_reason": ("未达目标原因", "Shortfall reason"),
    "v_no_status": ("报告未说明", "not stated in the report"),
    "v_by_indicator": ("按指标分组的事实", "Facts by indicator"),
    "v_projects": ("这个地区的项目", "Projects in this area"),
    "v_says": ("报告原文", "What the report says"),
    "v_district": ("所在行政区", "District"),
    "v_domain": ("领域", "Domain"),
    "v_work": ("工作领域", "Work area"),
    "v_n_facts": ("{n} 个事实", "{n} facts"),
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
