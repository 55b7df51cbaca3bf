"""The saved example queries (queries/*.rq) and the query library core.

Every saved query is checked against its expected result on the shipped data
(the real build from the conftest fixtures), not just for being non-empty.
"""
from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.kg import vocab as V
from server.kg.errors import DataError, KGError
from server.sparql.library import (PARAM_TYPES, Param, ParamError, SavedQuery, bind_params, load_library,
                                  load_query, query_kind, run)
from server.kg.store import KnowledgeGraph

ROOT = Path(__file__).resolve().parent.parent
QUERY_FILES = sorted((ROOT / "queries").glob("*.rq"))
FACT = V.REPORT_BASE + "/fact/"
IND = V.ID + "indicator/"
PROJECT = V.ID + "hangzhou/project/"
DISTRICT = V.ID + "district/"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture(scope="module")
def library(root):
    return load_library(root / "queries")


def _py(term):
    """An RDF term as a plain Python value: numbers as Decimal/float, IRIs and strings as str."""
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        if dt in (XSD + "decimal", XSD + "integer"):
            return Decimal(term.value)
        if dt in (XSD + "double", XSD + "float"):
            return float(term.value)
        if dt == XSD + "boolean":
            return term.value == "true"
        return term.value
    return term.value


def rows(kg, library, slug, **args) -> list[dict]:
    result = run(kg, library[slug], args)
    names = [v.value for v in result.variables]
    return [{n: _py(sol[n]) for n in names if sol[n] is not None} for sol in result]


def local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def hangzhou(r: list[dict], key: str = "fact") -> list[dict]:
    """The rows about facts of the Hangzhou report."""
    return [x for x in r if x[key].startswith(FACT)]


@pytest.fixture(scope="module")
def city_rows(root, dataset) -> list[dict]:
    """The other cities' facts as their tables (data/<area>/<dataset>/*.csv) state them, via their mappings."""
    import csv

    import yaml

    symbols = {u.symbol: u.slug for u in dataset.units.values()} | {u: u for u in dataset.units}
    out = []
    from server.kg.citycsv import mapping_for

    for path in sorted((root / "data").glob("*/*/*.csv")):
        if not mapping_for(path).exists():
            continue
        mapping = yaml.safe_load(mapping_for(path).read_text(encoding="utf-8"))
        columns, defaults = mapping.get("columns", {}), mapping.get("defaults", {})
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                get = lambda k: (row.get(columns.get(k, k)) or "").strip() or defaults.get(k, "")  # noqa: E731
                out.append({"area": get("area"), "indicator": get("indicator"), "kind": get("kind"),
                            "period": get("period"), "value": Decimal(get("value")), "unit": symbols[get("unit")],
                            "qualifier": get("qualifier"), "status": get("status")})
    assert out, "the other cities' data is loaded"
    return out


# -- the files -----------------------------------------------------------------------

def test_at_least_22_queries_sorted_by_slug(library):
    assert len(library) >= 22
    assert list(library) == sorted(library)
    assert set(library) == {p.stem for p in QUERY_FILES}


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_file_is_valid_standalone_sparql(path):
    """The whole file (header lines are comments) parses with no predeclared prefixes."""
    text = path.read_text(encoding="utf-8")
    result = ox.Store().query(text)  # raises SyntaxError on an undeclared prefix
    assert isinstance(result, ox.QuerySolutions)
    assert text.startswith("#+ ")


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_header_is_complete_and_bilingual(path):
    q = load_query(path)
    assert q.slug == path.stem and q.path == path
    for field in (q.title, q.description):
        assert set(field) == {"zh", "en"}
        assert field["zh"].strip() and field["en"].strip()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in field["zh"]), "zh text has Chinese"
    assert q.tags and all(isinstance(t, str) and t for t in q.tags)
    assert q.chart is not None and q.chart["type"] in ("none", "bar", "line", "pie")
    if q.chart["type"] != "none":
        assert q.chart["x"] and q.chart["y"]
    for p in q.params:
        assert p.type in PARAM_TYPES
        assert isinstance(p.required, bool)
        assert p.description["zh"].strip() and p.description["en"].strip()
    assert q.kind == "select"
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert all(line.startswith("#+ ") for line in header[:5])


def test_chart_and_parameter_variables_are_result_columns(kg, library):
    for slug, q in library.items():
        args = {"fact": FACT + "gdp-2023"} if slug == "fact-source-sentence" else {}
        names = {v.value for v in run(kg, q, args).variables}
        for key in ("x", "y", "color"):
            if q.chart and key in q.chart:
                assert q.chart[key] in names, (slug, key)
        for p in q.params:
            assert p.name in names, (slug, p.name)


# -- expected results on the shipped data --------------------------------------------

def test_headline_indicators_level_and_growth(kg, library):
    r = rows(kg, library, "headline-indicators-level-and-growth")
    first = r[0]
    assert local(first["indicator"]) == "gdp"
    assert first["indicatorZh"] == "地区生产总值"
    assert first["level"] == Decimal("20059") and first["levelUnit"] == "亿元"
    assert first["growth"] == Decimal("5.6") and first["sentenceId"] == "p005-s01"
    by = {local(x["indicator"]): x for x in r}
    assert (by["value-added-industry-above-scale"]["level"], by["value-added-industry-above-scale"]["growth"]) \
        == (Decimal("4355"), Decimal("2.4"))
    assert by["fixed-asset-investment"]["growth"] == Decimal("2.8") and "level" not in by["fixed-asset-investment"]
    assert by["disposable-income-per-capita"]["level"] == Decimal("73797")
    assert by["cpi"]["growth"] == Decimal("0.2")
    assert len(r) == 23
    assert rows(kg, library, "headline-indicators-level-and-growth", area="330109") == []


def test_six_unmet_indicators_with_reasons(kg, library):
    r = rows(kg, library, "unmet-plan-indicators-2023")
    assert len(r) == 6
    assert {x["indicatorZh"] for x in r} == {
        "规上工业增加值", "固定资产投资", "交通投资", "民间(项目)投资", "新增上市企业", "城镇居民人均可支配收入"}
    by = {x["indicatorZh"]: x for x in r}
    assert by["规上工业增加值"]["reasonZh"] == "主要受内外需求不足拖累"
    assert by["规上工业增加值"]["reasonEn"] == "held back mainly by weak domestic and external demand"
    assert by["新增上市企业"]["reasonZh"] == "主要受IPO节奏阶段性收紧影响"
    assert by["固定资产投资"]["growth2023"] == Decimal("2.8")
    assert "growth2023" not in by["交通投资"]
    assert all(x["sentenceId"] == "p004-s01" and x["reasonEn"] for x in r)
    assert {x["area"] for x in r} == {DISTRICT + "330100"} and r[0]["areaZh"] == "杭州市"


def test_target_counts_by_work_area(kg, library, dataset):
    r = rows(kg, library, "target-counts-by-work-area-2024")
    counts = {local(x["area"]): int(x["targets"]) for x in r}
    assert counts == {"area-1-demand": 14, "area-2-industry": 21, "area-3-innovation": 14,
                      "area-4-reform": 3, "area-5-opening": 1, "area-6-livelihood": 14,
                      "area-7-culture": 4, "area-8-ecology": 3, "area-9-security": 0}
    in_items = [f for f in dataset.facts
                if f.status == "target" and "p041" <= f.passage.paragraph <= "p068"]
    assert sum(counts.values()) == len(in_items) == 74
    assert r[0]["areaZh"] == "扩大有效需求"


def test_targets_by_work_area(kg, library):
    r = rows(kg, library, "targets-2024-by-work-area")
    assert len(r) == 74 and "workarea" not in r[0]
    cbe = next(x for x in r if local(x["fact"]) == "cross-border-ecommerce-target-2024")
    assert (cbe["value"], cbe["unit"], local(cbe["area"])) == (Decimal("1500"), "亿元", "area-1-demand")
    assert cbe["itemZh"] == "拓宽外贸促稳提质新渠道" and cbe["sentenceId"] == "p044-s05"
    industry = rows(kg, library, "targets-2024-by-work-area", workarea="area-2-industry")
    assert len(industry) == 21 and {x["areaZh"] for x in industry} == {"构建现代化产业体系"}
    assert industry[0]["workarea"] == "area-2-industry"
    assert len(rows(kg, library, "targets-2024-by-work-area", workarea="美丽")) == 3
    assert len(rows(kg, library, "targets-2024-by-work-area", workarea="CULTURE")) == 4
    assert rows(kg, library, "targets-2024-by-work-area", workarea="no such area") == []


def test_investment_domains(kg, library):
    r = rows(kg, library, "investment-domains-2024")
    assert len(r) == 9
    first = r[0]
    assert first["domainZh"] == "先进制造业基地"
    assert (first["projects"], first["investment"], first["share"]) == (
        Decimal("425"), Decimal("921.5"), Decimal("44.5"))
    assert first["investmentUnit"] == "亿元" and first["namedProjects"] == 7
    assert r[-1]["domainZh"] == "民生设施" and r[-1]["projects"] == 192
    assert sum(x["projects"] for x in r) == 786
    assert sum(x["investment"] for x in r) == Decimal("2068.5")
    assert sum(x["share"] for x in r) == Decimal("100.0")


def test_domain_projects(kg, library):
    expected = {"global-new-material-apac-hq-surface-materials-base", "power-battery-12gwh",
                "cast-hangzhou-centre", "china-video-valley", "linping-three-one-square-km-industrial-parks",
                "video-valley-showroom", "video-valley-innovation-centre"}
    r = rows(kg, library, "domain-projects")
    assert {local(x["project"]) for x in r} == expected
    linping = next(x for x in r if "linping" in x["project"])
    assert linping["districtZh"] == "临平区"
    assert {local(x["project"]) for x in rows(kg, library, "domain-projects", domain="先进制造业基地")} == expected
    transport = rows(kg, library, "domain-projects", domain="Transport (strong transport province)")
    assert len(transport) == 12 and PROJECT + "metro-phase-4" in {x["project"] for x in transport}
    assert rows(kg, library, "domain-projects", domain="no-such-domain") == []


def test_district_projects_and_facts(kg, library):
    r = rows(kg, library, "district-projects-and-facts", district="330109")
    projects = {local(x["item"]) for x in r if x["type"] == "project"}
    assert projects == {"xiaoshan-wubao-sluice-pump-station", "xiaoshan-airport-east-international-cargo-terminal",
                        "xiaoshan-airport-railway-hub", "xiaoshan-city-cultural-park",
                        "zju-second-hospital-xiaoshan-campus"}
    # the city-wide figures of p029-s03 are no longer filed under Xiaoshan (they are the city's)
    assert {x["districtZh"] for x in r} == {"萧山区"}
    assert [x["type"] for x in r] == ["project"] * 5
    assert any(x["type"] == "named thing" and local(x["item"]) == "social-credit-system-demonstration-zone"
               for x in rows(kg, library, "district-projects-and-facts", district="330182"))
    (jiande,) = [x for x in rows(kg, library, "district-projects-and-facts", district="330182") if x["type"] == "project"][:1]
    assert jiande["districtZh"] == "建德市"
    assert rows(kg, library, "district-projects-and-facts") == r  # 330109 is the default
    linping = rows(kg, library, "district-projects-and-facts", district="330113")
    assert {(x["type"], local(x["item"])) for x in linping} == {
        ("named thing", "linping-three-one-square-km-industrial-parks"), ("named thing", "semiconductor-industrial-park"),
        ("named thing", "specialised-sme-industrial-park"), ("named thing", "biomedicine-industrial-park"),
        ("project", "hanggao-linping-school"), ("fact", "linping-industrial-park-area-2024"),
        ("fact", "linping-square-km-parks-count-2024")}
    tonglu = rows(kg, library, "district-projects-and-facts", district="330122")
    assert len(tonglu) == 3 and {x["type"] for x in tonglu} == {"project"}
    assert rows(kg, library, "district-projects-and-facts", district="330102") == []


def test_named_policies(kg, library, dataset):
    r = rows(kg, library, "named-policies")
    kinds = ("policy", "programme", "pilot")
    assert len(r) == sum(1 for e in dataset.entities.values() if e.kind in kinds) == 131
    by = {local(x["policy"]): x for x in r}
    assert (by["ten-climbing-actions"]["kind"], by["ten-climbing-actions"]["sentenceId"]) == ("programme", "p040-s01")
    assert by["national-carbon-peaking-pilot-city"]["kind"] == "pilot"
    assert by["national-carbon-peaking-pilot-city"]["sentences"] == 2  # p034-s02 and p064-s05
    assert "qinqing-online-policy-supermarket" not in by  # a platform, not a policy
    assert by["eight-plus-four-policy-system"]["policyZh"] == "“8+4”经济政策体系"
    assert by["eight-plus-four-policy-system"]["facts"] == 4
    assert by["qianxiang-wanyi-programme"]["facts"] == 1  # its nine domains
    assert by["business-environment-regulation"]["sentenceId"] == "p020-s03"
    assert r[0]["sentenceId"] == "p003-s01"  # 八八战略 and the provincial programmes


def test_indicators_by_name(kg, library):
    r = rows(kg, library, "indicators-by-name")  # default GDP, matching the English label
    assert [local(x["indicator"]) for x in r] == ["gdp"]
    assert r[0]["facts"] == len(rows(kg, library, "indicator-facts"))  # every gdp fact, other cities' too
    nbs = rows(kg, library, "indicators-by-name", name="规模以上")  # only the NBS name says 规模以上
    assert [x["slug"] for x in nbs] == ["value-added-industry-above-scale"] and nbs[0]["indicatorZh"] == "规上工业增加值"
    va = rows(kg, library, "indicators-by-name", name="增加值")
    assert len(va) == 7 and IND + "value-added-industry-above-scale" in {x["indicator"] for x in va}
    cbe = rows(kg, library, "indicators-by-name", name="CROSS-border")
    assert [x["slug"] for x in cbe] == ["cross-border-ecommerce-trade"]
    assert cbe[0]["indicatorZh"] == "跨境电商进出口额"
    fai = rows(kg, library, "indicators-by-name", name="Fixed-Asset")
    assert {x["slug"] for x in fai} == {"fixed-asset-investment", "manufacturing-investment-projects-landed",
                                        "manufacturing-investment-projects-landed-over-1bn"}
    (fin,) = rows(kg, library, "indicators-by-name", name="value-added-fin")
    assert (fin["slug"], fin["broaderZh"], fin["facts"]) == ("value-added-finance", "地区生产总值", 2)


def test_facts_by_sentence_word(kg, library):
    r = rows(kg, library, "facts-by-sentence-word", word="跨境电商")
    assert len(r) == 1
    (x,) = r
    assert local(x["fact"]) == "cross-border-ecommerce-target-2024"
    assert (x["value"], x["unit"], x["status"], x["period"]) == (Decimal("1500"), "亿元", "target", "2024")
    assert x["sentenceId"] == "p044-s05" and "力争全年跨境电商进出口额达1500亿元" in x["sentence"]
    assert x["word"] == "跨境电商"
    battery = rows(kg, library, "facts-by-sentence-word", word="gwh")  # ignores case: 12GWh
    assert {b["sentenceId"] for b in battery} == {"p072-s01"}  # every fact of that sentence
    assert {local(b["fact"]) for b in battery} == {
        "key-projects-advanced-manufacturing-2024", "key-project-investment-advanced-manufacturing-2024",
        "key-project-investment-share-advanced-manufacturing-2024", "power-battery-12gwh-capacity"}
    assert rows(kg, library, "facts-by-sentence-word") == r  # 跨境电商 is the default


def test_fact_source_sentence(kg, library):
    (x,) = rows(kg, library, "fact-source-sentence", fact=FACT + "gdp-2023")
    assert (x["sentenceId"], x["paragraphId"]) == ("p005-s01", "p005")
    assert x["sentence"].startswith("全市地区生产总值实现20059亿元")
    assert x["mention"] == "地区生产总值实现20059亿元" and x["valueAsWritten"] == "20059"
    assert x["valueEnd"] - x["valueStart"] == 5
    assert x["sentenceStart"] <= x["valueStart"] < x["valueEnd"] <= x["sentenceEnd"]
    (y,) = rows(kg, library, "fact-source-sentence", fact=FACT + "disposable-income-growth-2023")
    assert y["valueAsWritten"] == "5.0" and y["value"] == Decimal("5")  # the store canonicalises 5.0
    (lost,) = rows(kg, library, "fact-source-sentence", fact=FACT + "citizen-code-service-codes-2023")
    assert "value" not in lost and lost["sentence"] == "“杭州市民码1.0”上线个服务码。"
    (city,) = rows(kg, library, "fact-source-sentence", fact=V.ID + "china/cities-2023-headline/fact/2023-headline-310000-gdp-level-2023")
    assert city["source"].endswith("2023-headline.csv#row=1") and ",310000,gdp,level,2023,4.72," in city["sentence"]
    assert city["valueAsWritten"] == "4.72" and "sentenceId" not in city
    project = rows(kg, library, "fact-source-sentence", fact=PROJECT + "metro-phase-4")
    assert [x["sentenceId"] for x in project] == ["p024-s02", "p074-s01"]  # every sentence that names it
    with pytest.raises(ParamError, match="'fact'.*required"):
        rows(kg, library, "fact-source-sentence")


def test_facts_with_lost_values(kg, library):
    r = rows(kg, library, "facts-with-lost-values")
    assert {local(x["fact"]) for x in r} == {
        "policy-supermarket-items-online-2023", "policy-supermarket-enterprises-online-2023",
        "citizen-code-service-codes-2023", "old-municipal-gas-pipes-renovated-2023"}
    assert len(r) == 4 == kg.stats().lost
    gas = next(x for x in r if "gas" in x["fact"])
    assert (gas["unit"], gas["mention"], gas["sentenceId"]) == ("公里", "市政燃气管线公里", "p035-s02")


def test_breakdown_sum_checks(kg, library):
    r = rows(kg, library, "breakdown-sum-checks")
    assert len(r) == 13
    nonzero = [x for x in r if x["difference"] != 0]
    assert len(nonzero) == 1
    (gov,) = nonzero
    assert local(gov["total"]) == "gov-investment-planned"
    assert (gov["stated"], gov["sumOfParts"], gov["difference"]) == (
        Decimal("532.3"), Decimal("532.2"), Decimal("0.1"))
    assert gov["totalSentence"] == "p082-s01"
    checks = {(local(x["total"]), x["checkEn"]): x for x in r}
    plan = checks[("plan-indicators", "plan indicators by type")]
    assert (plan["stated"], plan["sumOfParts"], plan["parts"]) == (Decimal("37"), Decimal("37"), 2)
    domains = checks[("key-projects-implementation", "by investment domain")]
    assert (domains["stated"], domains["parts"]) == (Decimal("786"), 9)
    shares = checks[("key-project-investment-share", "by investment domain")]
    assert (shares["stated"], shares["sumOfParts"]) == (Decimal("100"), Decimal("100"))
    assert "totalSentence" not in shares  # a share's whole is implied, not stated
    assert checks[("key-projects", "key projects by category")]["stated"] == 881


def test_share_recomputation_checks(kg, library):
    r = rows(kg, library, "share-recomputation-checks")
    assert len(r) == 12
    bad = [x for x in r if not x["consistent"]]
    assert [x["aboutZh"] for x in bad] == ["民生设施"]
    assert (bad[0]["stated"], bad[0]["recomputed"]) == (Decimal("19"), Decimal("18.89"))
    tax = next(x for x in r if local(x["shareFact"]) == "tax-revenue-share-2023")
    assert (tax["part"], tax["total"], tax["recomputed"]) == (Decimal("2348.1"), Decimal("2616.8"), Decimal("89.73"))


def test_gdp_by_city(kg, library, dataset, city_rows):
    r = rows(kg, library, "gdp-by-city")
    hz = next(x for x in r if x["city"] == DISTRICT + "330100")
    assert (hz["cityZh"], hz["status"], hz["qualifier"]) == ("杭州市", "actual", "确数")
    assert hz["gdpYuan"] == Decimal("2005900000000") and hz["gdpTrillionYuan"] == Decimal("2.0059")
    assert hz["growth"] == Decimal("5.6") and hz["gdpAsStated"] == "20059亿元"
    # every other city's level, converted to yuan through its unit's multiplier: one row per city
    # and status, the value one of that city's figures
    levels = {}
    for c in city_rows:
        if c["indicator"] == "gdp" and c["kind"] == "level" and c["area"] != "CN":
            levels.setdefault((c["area"], c["status"]), set()).add(c["value"] * dataset.units[c["unit"]].multiplier)
    assert len(r) == 1 + len(levels) and len(levels) >= 16
    for (code, status), values in levels.items():
        (row,) = [x for x in r if x["city"] == DISTRICT + code and x["status"] == status]
        assert row["gdpYuan"] in values
    assert all(r[i]["gdpYuan"] >= r[i + 1]["gdpYuan"] for i in range(len(r) - 1))
    # from data/sources/cities-2023/figures.csv: the most reliable figure of each city is ranked
    by_city = {(x["cityZh"], x["status"]): x for x in r}
    bj = by_city[("北京市", "actual")]
    assert (bj["gdpAsStated"], bj["vintage"], bj["valueIs"]) == ("43760.7亿元", "preliminary", "exact")
    assert [x["cityZh"] for x in r][:3] == ["上海市", "北京市", "深圳市"]
    assert by_city[("宁波市", "actual")]["gdpAsStated"] == "17146.6亿元"  # revised after the census
    assert by_city[("广州市", "actual")]["gdpAsStated"] == "30355.73亿元"  # not the estimate 突破3万亿元
    assert by_city[("重庆市", "actual")]["gdpAsStated"] == "30145.79亿元"  # published 30145.79億元
    assert by_city[("南京市", "actual")]["vintage"] == "estimate"
    assert rows(kg, library, "gdp-by-city", year="2022") == []


def test_gdp_by_city_grows_with_other_cities(kg, library):
    """Another city's report, in another unit, adds a row converted to yuan."""
    city, EP = ox.NamedNode(DISTRICT + "330300"), V.EP
    level, growth = (ox.NamedNode("https://example.org/wenzhou/gdp-2023"),
                     ox.NamedNode("https://example.org/wenzhou/gdp-growth-2023"))
    g = ox.NamedNode("https://example.org/graph/wenzhou")
    year = ox.Literal("2023", datatype=V.XSD_GYEAR)
    extra = [(city, V.RDF_TYPE, EP.District), (city, V.RDFS_LABEL, ox.Literal("温州市", language="zh")),
             (city, V.RDFS_LABEL, ox.Literal("Wenzhou", language="en"))]
    for f, kind, value, unit in ((level, "level", "8730.6", "yi-yuan"), (growth, "growth", "6.7", "percent")):
        extra += [(f, EP.indicator, V.indicator("gdp")), (f, EP.kind, V.EP_KIND[kind]),
                  (f, EP.status, V.EP_STATUS["actual"]), (f, EP.refPeriod, year), (f, EP.refArea, city),
                  (f, EP.value, ox.Literal(value, datatype=V.XSD_DECIMAL)), (f, EP.unit, V.unit(unit)),
                  (f, EP.qualifier, V.EP_QUALIFIER["exact"])]
    before = rows(kg, library, "gdp-by-city")
    more = KnowledgeGraph.from_quads(list(kg.store) + [ox.Quad(s, p, o, g) for s, p, o in extra])
    after = rows(more, library, "gdp-by-city")
    assert len(after) == len(before) + 1
    (wz,) = [x for x in after if x["cityEn"] == "Wenzhou"]
    assert (wz["gdpYuan"], wz["growth"], wz["gdpAsStated"]) == (Decimal("873060000000"), Decimal("6.7"), "8730.6亿元")


def test_growth_vs_national_rate(kg, library, city_rows):
    r = rows(kg, library, "growth-vs-national-rate")
    hz = next(x for x in r if x["area"] == DISTRICT + "330100")
    assert local(hz["indicator"]) == "gdp" and hz["areaZh"] == "杭州市"
    assert (hz["growth"], hz["statedDifference"], hz["impliedNationalGrowth"]) == (
        Decimal("5.6"), Decimal("0.4"), Decimal("5.2"))
    national = {c["indicator"]: c["value"] for c in city_rows if c["area"] == "CN" and c["kind"] == "growth"}
    assert hz["nationalGrowth"] == national["gdp"] == hz["impliedNationalGrowth"]  # the report agrees with the NBS
    assert hz["differenceFromNational"] == Decimal("0.4")
    assert len(r) == len({tuple(sorted(x.items())) for x in r})  # two sources of one rate: one row
    seen = set()
    for c in city_rows:
        if c["kind"] == "growth" and c["area"] != "CN" and c["indicator"] in national and c["period"] == "2023":
            row = next(x for x in r if x["area"] == DISTRICT + c["area"] and local(x["indicator"]) == c["indicator"]
                       and x["status"] == c["status"] and x["growth"] == c["value"])
            assert row["differenceFromNational"] == c["value"] - national[c["indicator"]]
            assert "statedDifference" not in row
            seen.add(c["area"])
    assert DISTRICT + "CN" not in {x["area"] for x in r}
    assert len(seen) >= 15  # figures.csv: every city with a 2023 GDP growth rate
    bj = [x for x in r if x["areaZh"] == "北京市" and x["status"] == "actual"]
    assert [(x["growth"], x["differenceFromNational"]) for x in bj] == [(Decimal("5.2"), Decimal("0"))]
    xm = next(x for x in r if x["areaZh"] == "厦门市" and x["status"] == "actual")
    assert (xm["growth"], xm["differenceFromNational"]) == (Decimal("3.1"), Decimal("-2.1"))


def test_actual_2023_vs_target_2024(kg, library, city_rows):
    everything = rows(kg, library, "actual-2023-vs-target-2024")
    r = hangzhou(everything, "actualFact")  # Hangzhou's report
    assert {local(x["indicator"]) for x in r} == {
        "digital-village-model-towns", "domestic-substitution-technologies", "headquarters-enterprises-recognised",
        "inefficient-industrial-land-revitalised", "new-graduates-under-35", "new-little-giant-enterprises",
        "new-national-high-tech-enterprises", "new-provincial-tech-smes", "new-school-places",
        "new-schools-and-kindergartens", "old-residential-communities-renovated",
        "plan-indicators", "urban-rural-landscape-model-zones"}
    land = next(x for x in r if local(x["indicator"]) == "inefficient-industrial-land-revitalised")
    assert (land["actual2023"], land["actualUnit"], land["target2024"], land["targetUnit"]) == (
        Decimal("1.3"), "万亩", Decimal("15000"), "亩")
    assert float(land["targetInActualUnit"]) == pytest.approx(1.5) and float(land["change"]) == pytest.approx(0.2)
    (places,) = rows(kg, library, "actual-2023-vs-target-2024", indicator="new-school-places")
    assert (places["actual2023"], places["target2024"], places["change"], places["changePercent"]) == (
        Decimal("8.4"), Decimal("6"), Decimal("-2.4"), Decimal("-28.6"))
    (plan,) = rows(kg, library, "actual-2023-vs-target-2024", indicator="plan-indicators")
    assert (plan["actual2023"], plan["target2024"]) == (Decimal("37"), Decimal("38"))
    # the other cities' tables: one row per 2023 actual and 2024 target of one area, indicator and kind
    pairs = Counter()
    for a in city_rows:
        if a["status"] == "actual" and a["period"] == "2023":
            pairs[a["area"], a["indicator"], a["kind"]] += sum(
                1 for t in city_rows if t["status"] == "target" and t["period"] == "2024"
                and (t["area"], t["indicator"], t["kind"]) == (a["area"], a["indicator"], a["kind"]))
    others = [x for x in everything if not x["actualFact"].startswith(FACT)]
    assert Counter((local(x["area"]), local(x["indicator"]), x["kind"]) for x in others) == +pairs
    assert len(others) >= 12  # figures.csv: 2024 GDP growth targets of at least 12 cities
    bj = next(x for x in others if x["areaZh"] == "北京市" and local(x["indicator"]) == "gdp")
    assert (bj["kind"], bj["actual2023"], bj["target2024"], bj["targetQualifier"]) == (
        "growth", Decimal("5.2"), Decimal("5"), "约")  # 5%左右


def test_fact_counts_by_kind_and_status(kg, library, dataset, city_rows):
    r = rows(kg, library, "fact-counts-by-kind-and-status", report=V.REPORT.value)
    got = {(x["kind"], x["status"]): int(x["facts"]) for x in r}
    assert got == dict(Counter((f.kind, f.status) for f in dataset.facts))
    assert got[("count", "actual")] == 140 and got[("growth", "actual")] == 23
    assert got[("rank", "actual")] == 16 and got[("level", "design")] == 2
    assert got[("level", "expected")] == 1 and sum(got.values()) == 364
    assert {x["report"] for x in r} == {V.REPORT.value}
    everything = rows(kg, library, "fact-counts-by-kind-and-status")
    assert {(x["kind"], x["status"]): int(x["facts"]) for x in everything} == dict(
        Counter((f.kind, f.status) for f in dataset.facts) + Counter((c["kind"], c["status"]) for c in city_rows))


def test_fact_counts_by_qualifier(kg, library, dataset, city_rows):
    r = rows(kg, library, "fact-counts-by-qualifier", report=V.REPORT.value)
    got = {x["qualifier"]: int(x["facts"]) for x in r}
    assert got == {"exact": 320, "at-least": 27, "over": 10, "more-than": 5, "about": 1, "nearly": 1, "at-most": 0}
    assert got == {q: Counter(f.qualifier for f in dataset.facts).get(q, 0) for q in got}
    everything = {x["qualifier"]: int(x["facts"]) for x in rows(kg, library, "fact-counts-by-qualifier")}
    expected = Counter(f.qualifier for f in dataset.facts) + Counter(c["qualifier"] for c in city_rows)
    assert everything == {q: expected.get(q, 0) for q in everything}


def test_facts_by_qualifier(kg, library, city_rows):
    r = rows(kg, library, "facts-by-qualifier")
    assert len(hangzhou(r)) == 364 - 320
    assert len(r) - len(hangzhou(r)) == sum(1 for c in city_rows if c["qualifier"] != "exact")
    (about,) = hangzhou(rows(kg, library, "facts-by-qualifier", qualifier="约"))
    assert local(about["fact"]) == "whole-industry-chains-output-2023" and about["mention"] == "总产值约212.2亿元"
    at_least = hangzhou(rows(kg, library, "facts-by-qualifier", qualifier="AT-LEAST"))
    assert len(at_least) == 27 and {x["qualifierZh"] for x in at_least} == {"以上"}
    assert len(hangzhou(rows(kg, library, "facts-by-qualifier", qualifier="more than"))) == 5
    (nearly,) = hangzhou(rows(kg, library, "facts-by-qualifier", qualifier="近"))
    assert nearly["value"] == Decimal("10") and nearly["unit"] == "万户"
    assert rows(kg, library, "facts-by-qualifier", qualifier="at-most") == []


def test_units_and_multipliers(kg, library, dataset, city_rows):
    r = rows(kg, library, "units-and-multipliers")
    # 58 + third (三分之一, curated) + fraction (econplan draft) + 10 of the genre the drafter finds
    # (per-mille, per-hundred, microgram-per-cubic-metre, hectare, wan-hectare, month, quarter,
    # wan-usd, kilometre-per-hour, ratio)
    assert len(r) == len(dataset.units) == 70
    by = {x["slug"]: x for x in r}
    assert (by["yi-yuan"]["symbol"], by["yi-yuan"]["multiplier"], by["yi-yuan"]["baseUnit"]) == (
        "亿元", Decimal("100000000"), "CNY")
    assert by["yi-yuan"]["facts"] == sum(1 for f in dataset.facts if f.unit == "yi-yuan") + sum(
        1 for c in city_rows if c["unit"] == "yi-yuan")
    assert by["mu"]["baseUnit"] == "m2" and by["wan-mu"]["facts"] == 2
    assert by["percent"]["multiplier"] == Decimal("0.01") and by["percent"]["qudt"].endswith("/PERCENT")


def test_districts_and_codes(kg, library, dataset):
    r = rows(kg, library, "districts-and-codes")
    from server.kg.build import in_vocabulary

    described = [d for d in dataset.districts.values() if in_vocabulary(d, dataset.area_types)]
    assert len(r) == len(described) and len([x for x in r if x.get("code", "").startswith("3301")]) == 14
    by = {x.get("code", x.get("iso")): x for x in r}
    assert "http://www.wikidata.org/entity/Q4970" in by["330100"]["sameAs"].split()
    assert by["CN"]["districtKind"] == "country" and "code" not in by["CN"]
    assert {x["iso"] for x in r[-2:]} == {"CN", "TH"}  # countries last (Thailand: the Rayong zone's enterprises)
    assert (by["330109"]["districtZh"], by["330109"]["wikidataCode"], by["330109"]["projects"]) == (
        "萧山区", "33 01 09", 5)
    assert by["330109"]["parent"] == DISTRICT + "330100" and by["330182"]["districtKind"] == "county-level city"
    # the graph describes the counties the data is about: 宁波's 海曙区 only once a dataset is
    assert "330203" not in by and "429004" not in by
    # within: the area and the divisions under it, at every level
    ningbo = rows(kg, library, "districts-and-codes", within="330200")
    assert sorted(x["code"] for x in ningbo) == sorted(
        ["330200"] + [c for c, x in by.items() if x.get("parent") == DISTRICT + "330200"]) and len(ningbo) == 1
    zhejiang = rows(kg, library, "districts-and-codes", within="330000")
    assert len(zhejiang) == 1 + 11 + 13   # the province, its 11 cities, Hangzhou's 13 counties


def test_source_gaps(kg, library):
    r = rows(kg, library, "source-gaps")
    assert Counter(x["gapKind"] for x in r) == {"missing-table": 2, "lost-number": 1, "missing-heading": 1,
                                                 "truncated-title": 1}
    lost = next(x for x in r if x["gapKind"] == "lost-number")
    assert set(lost["passages"].split()) == {"p009-s03", "p021-s03", "p035-s02"}
    assert all(x["commentZh"] and x["commentEn"] for x in r)


def test_indicator_facts(kg, library, city_rows):
    r = rows(kg, library, "indicator-facts")
    assert {(x["kind"], x["value"]) for x in r if x["area"] == DISTRICT + "330100"} == {
        ("level", Decimal("20059")), ("growth", Decimal("5.6")), ("difference", Decimal("0.4"))}
    assert {x["sentenceId"] for x in hangzhou(r)} == {"p005-s01"} and r[0]["indicatorZh"] == "地区生产总值"
    assert len(r) - 3 == sum(1 for c in city_rows if c["indicator"] == "gdp")
    (x,) = rows(kg, library, "indicator-facts", indicator="cross-border-ecommerce-trade")
    assert (x["status"], x["value"], x["period"]) == ("target", Decimal("1500"), "2024")


def test_dataset_summary(kg, library, dataset, city_rows, root):
    got = {x["whatEn"]: int(x["count"]) for x in rows(kg, library, "dataset-summary")}
    stats = kg.stats()
    assert len(dataset.facts) == 364
    assert got["facts"] == stats.facts == len(dataset.facts) + len(city_rows)
    assert got["source rows"] == len(city_rows) and got["sentences"] == 366 and got["paragraphs"] == 84
    assert got["reports and datasets"] == 1 + len(list((root / "data").glob("*/*/*.mapping.yaml")))
    assert got["of which values lost"] == 4
    assert got["indicators"] == len(dataset.indicators) == 290
    assert got["projects"] == stats.entities["Project"] == 57
    for cls, what in (("Programme", "of which programmes (pilots included)"), ("Pilot", "of which pilots"),
                      ("Platform", "platforms"), ("Organization", "organizations"), ("Event", "events"),
                      ("Zone", "zones")):
        assert got[what] == stats.entities.get(cls, got[what]) > 20, cls
    assert got["of which targets"] == sum(1 for f in dataset.facts if f.status == "target") + sum(
        1 for c in city_rows if c["status"] == "target")
    from server.kg.build import in_vocabulary

    assert got["areas"] == sum(1 for d in dataset.districts.values() if in_vocabulary(d, dataset.area_types))
    assert got["source gaps"] == 5 and got["investment domains"] == 9


def test_facts_in_passage(kg, library):
    r = rows(kg, library, "facts-in-passage")
    assert [local(x["fact"]) for x in r] == ["gdp-2023", "gdp-growth-2023", "gdp-growth-above-national-2023"]
    assert rows(kg, library, "facts-in-passage", passage="p005-s01") == [
        dict(x, passage="p005-s01") for x in r]
    assert len(rows(kg, library, "facts-in-passage", passage="p082-s03")) == 4


def test_largest_amounts_in_yuan(kg, library):
    r = rows(kg, library, "largest-amounts-in-yuan")
    assert local(r[0]["fact"]) == "gdp-2023" and r[0]["yuan"] == Decimal("2005900000000")
    assert {x["area"] for x in r} == {DISTRICT + "330100"} and len(r) == len(hangzhou(r))
    assert all(r[i]["yuan"] >= r[i + 1]["yuan"] for i in range(len(r) - 1))
    plan = rows(kg, library, "largest-amounts-in-yuan", year="2024")
    assert local(plan[0]["fact"]) == "smart-iot-industry-scale-target-2024"
    assert {x["year"] for x in plan} == {"2024"} and len(plan) < len(r)


def test_growth_above_threshold(kg, library, dataset, city_rows):
    r = rows(kg, library, "growth-above-threshold")
    assert [local(x["fact"]) for x in hangzhou(r)] == [
        "free-tour-visitors-growth-2023", "golden-week-scenic-visitors-growth-2023",
        "manufacturing-investment-growth-2023", "golden-week-accommodation-guests-growth-2023",
        "high-tech-investment-growth-2023", "market-entities-growth-2023", "va-culture-growth-2023"]
    assert r[0]["growth"] == Decimal("63") and r[0]["threshold"] == Decimal("10")
    low = rows(kg, library, "growth-above-threshold", threshold="5.5")
    expected = [f for f in dataset.facts if f.kind == "growth" and f.period == "2023" and f.value >= Decimal("5.5")]
    others = [c for c in city_rows if c["kind"] == "growth" and c["period"] == "2023" and c["value"] >= Decimal("5.5")]
    assert len(low) == len(expected) + len(others)
    assert {local(x["fact"]) for x in hangzhou(low)} == {f.id for f in expected}
    assert all(x["growth"] >= Decimal("5.5") for x in low)
    assert rows(kg, library, "growth-above-threshold", threshold="1000") == []


def test_paragraph_sentences(kg, library):
    (x,) = rows(kg, library, "paragraph-sentences")
    assert (x["paragraphId"], x["sentenceId"], x["facts"], x["paragraph"]) == ("p005", "p005-s01", 3, 5)
    p82 = rows(kg, library, "paragraph-sentences", paragraph="82")
    assert [(y["sentenceId"], y["facts"]) for y in p82] == [
        ("p082-s01", 2), ("p082-s02", 4), ("p082-s03", 4), ("p082-s04", 0)]
    assert p82[-1]["sentence"] == "分领域安排如下:"
    assert rows(kg, library, "paragraph-sentences", paragraph="999") == []
    with pytest.raises(ParamError, match="'paragraph'.*integer"):
        rows(kg, library, "paragraph-sentences", paragraph="p005")


# -- parameter binding ---------------------------------------------------------------

def _q(*params: Param) -> SavedQuery:
    return SavedQuery(slug="t", path=Path("t.rq"), title={"zh": "测试", "en": "t"},
                      description={"zh": "测试", "en": "t"}, tags=["t"], params=list(params),
                      chart=None, sparql="SELECT * WHERE {}", kind="select")


def _p(name, ptype, default=None, required=False) -> Param:
    return Param(name, ptype, default, required, {"zh": "参数", "en": "parameter"})


def test_defaults_apply_to_missing_and_empty_parameters(library):
    q = library["headline-indicators-level-and-growth"]
    subs = bind_params(q, {})
    assert subs == {ox.Variable("year"): ox.Literal("2023", datatype=V.XSD_GYEAR),
                    ox.Variable("area"): V.district("330100")}
    assert bind_params(q, {"year": "", "area": "  "}) == subs
    assert bind_params(q, {"year": " 2024 "})[ox.Variable("year")].value == "2024"
    assert bind_params(library["targets-2024-by-work-area"], {}) == {}  # optional, no default: unbound


def test_each_type_is_converted_to_its_term():
    q = _q(_p("s", "string"), _p("i", "integer"), _p("d", "decimal"), _p("y", "year"), _p("u", "iri"),
           _p("c", "district"), _p("k", "indicator"))
    subs = bind_params(q, {"s": "跨境电商", "i": "+007", "d": "2.50", "y": "2023",
                           "u": "https://w3id.org/econplan/id/unit/yi-yuan", "c": "330109", "k": "gdp"})
    v = {k.value: t for k, t in subs.items()}
    assert v["s"] == ox.Literal("跨境电商")
    assert v["i"] == ox.Literal("7", datatype=V.XSD_INTEGER)
    assert v["d"] == ox.Literal("2.50", datatype=V.XSD_DECIMAL)
    assert v["y"] == ox.Literal("2023", datatype=V.XSD_GYEAR)
    assert v["u"] == V.unit("yi-yuan")
    assert v["c"] == V.district("330109") and v["k"] == V.indicator("gdp")
    assert bind_params(q, {"c": "CN"})[ox.Variable("c")] == V.district("CN")  # a country's ISO code
    full = bind_params(q, {"c": DISTRICT + "330109", "k": IND + "gdp"})
    assert full[ox.Variable("c")] == V.district("330109") and full[ox.Variable("k")] == V.indicator("gdp")
    assert bind_params(q, {"d": "5"})[ox.Variable("d")] == ox.Literal("5.0", datatype=V.XSD_DECIMAL)


@pytest.mark.parametrize("ptype,value", [
    ("integer", "4.5"), ("integer", "ten"), ("decimal", "1e5"), ("decimal", "1,5"), ("year", "23"),
    ("year", "2023-01"), ("iri", "ftp://example.org/x"), ("iri", "example.org/x"),
    ("iri", 'https://example.org/"}'), ("iri", "https://exa mple.org"), ("district", "33010"),
    ("district", "330109x"), ("district", "萧山区"), ("district", "cn"), ("indicator", "GDP"), ("indicator", "gdp growth"),
    ("indicator", 'gdp"}'),
])
def test_ill_typed_parameter_is_rejected_naming_it_and_its_type(ptype, value):
    q = _q(_p("thing", ptype))
    with pytest.raises(ParamError) as exc:
        bind_params(q, {"thing": value})
    err = exc.value
    assert isinstance(err, KGError) and err.status == 400 and err.code == "bad-param"
    assert "'thing'" in err.message and f"type {ptype}" in err.message
    assert err.details == {"param": "thing", "expected": ptype}
    assert err.to_dict()["error"]["param"] == "thing"


def test_missing_required_parameter_is_rejected(library):
    q = library["fact-source-sentence"]
    for args in ({}, {"fact": ""}, {"fact": "   "}):
        with pytest.raises(ParamError) as exc:
            bind_params(q, args)
        assert "'fact'" in exc.value.message and "required" in exc.value.message
        assert "IRI" in exc.value.message and exc.value.status == 400


def test_unknown_parameters_are_rejected_naming_them(library):
    with pytest.raises(ParamError) as exc:
        bind_params(library["facts-by-sentence-word"], {"word": "x", "bogus": "1", "limit": "5"})
    assert "'bogus'" in exc.value.message and "'limit'" in exc.value.message
    assert "word" in exc.value.message and exc.value.status == 400
    with pytest.raises(ParamError, match="no parameters"):
        bind_params(library["named-policies"], {"x": "1"})


def test_parameter_given_twice_is_rejected(library):
    with pytest.raises(ParamError, match="'word' is given 2 times"):
        bind_params(library["facts-by-sentence-word"], {"word": ["a", "b"]})
    assert bind_params(library["facts-by-sentence-word"], {"word": ["a"]})[ox.Variable("word")] == ox.Literal("a")


INJECTIONS = ['"} } UNION { ?s ?p ?o } #', 'x") || true || ("', "'} ; DROP ALL ; #", '\\"}\n}']


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_attempts_are_data(kg, library, value):
    """Quotes and braces in a value are part of the literal, never of the query."""
    for slug, name in (("facts-by-sentence-word", "word"), ("indicators-by-name", "name"),
                       ("domain-projects", "domain"), ("targets-2024-by-work-area", "workarea"),
                       ("facts-by-qualifier", "qualifier"), ("facts-in-passage", "passage")):
        r = rows(kg, library, slug, **{name: value})
        assert r == [], slug
    for slug, name in (("district-projects-and-facts", "district"), ("indicator-facts", "indicator"),
                       ("fact-source-sentence", "fact"), ("gdp-by-city", "year")):
        with pytest.raises(ParamError):
            rows(kg, library, slug, **{name: value})


def test_a_value_with_quotes_and_braces_matches_as_text(kg, library):
    """A sentence that really contains "} is found by searching for it: the value is a literal."""
    passage = V.passage("p999-s01")
    fact = ox.NamedNode(FACT + "quoted-test-fact")
    g = ox.NamedNode("https://example.org/graph/quoted")
    text = 'A test sentence with "quotes} and {braces" in it.'
    quads = [(passage, V.EP.passageId, ox.Literal("p999-s01")), (passage, V.OA.exact, ox.Literal(text)),
             (passage, V.OA.start, ox.Literal("999999", datatype=V.XSD_INTEGER)),
             (fact, V.EP.indicator, V.indicator("gdp")), (fact, V.PROV.wasDerivedFrom, passage),
             (fact, V.RDFS_LABEL, ox.Literal("测试", language="zh")), (fact, V.EP.unit, V.unit("yi-yuan")),
             (fact, V.EP.status, V.EP_STATUS["actual"]),
             (fact, V.EP.refPeriod, ox.Literal("2023", datatype=V.XSD_GYEAR))]
    test_kg = KnowledgeGraph.from_quads(list(kg.store) + [ox.Quad(s, p, o, g) for s, p, o in quads])
    (x,) = rows(test_kg, library, "facts-by-sentence-word", word='"QUOTES} and {')
    assert x["fact"] == fact.value and x["sentence"] == text and x["word"] == '"QUOTES} and {'


def test_overlong_value_is_rejected(library):
    with pytest.raises(ParamError, match="longer than"):
        bind_params(library["facts-by-sentence-word"], {"word": "x" * 5000})


# -- loading and its errors ----------------------------------------------------------

GOOD = """#+ title: {zh: 测试, en: Test}
#+ description: {zh: 测试查询, en: A test query}
#+ tags: [test]
#+ params:
#+   - name: word
#+     type: string
#+     default: abc
#+     required: false
#+     description: {zh: 词, en: A word}
#+ chart: {type: bar, x: "?s", y: n}
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?word ?s (1 AS ?n) WHERE { ?s rdfs:label ?l FILTER (CONTAINS(?l, ?word)) }
"""


def _write(tmp_path, text, name="test-query.rq") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads(tmp_path):
    q = load_query(_write(tmp_path, GOOD))
    assert q.slug == "test-query" and q.kind == "select" and q.body_line == 11
    assert q.chart == {"type": "bar", "x": "s", "y": "n"}
    assert q.params == [Param("word", "string", "abc", False, {"zh": "词", "en": "A word"})]
    assert q.sparql.startswith("PREFIX rdfs:") and "#+" not in q.sparql
    d = q.to_dict()
    assert d["slug"] == "test-query" and d["params"][0]["name"] == "word" and "path" not in d


@pytest.mark.parametrize("change,line,words", [
    (("#+ tags: [test]", "#+ tags: [test"), 4, "malformed YAML"),
    (("#+ tags: [test]\n", ""), 1, "no tags"),
    (("#+ title: {zh: 测试, en: Test}\n", ""), 1, "no title"),
    (("#+ title: {zh: 测试, en: Test}", "#+ title: {zh: 测试}"), 1, "title needs a non-empty en"),
    (("#+     type: string", "#+     type: text"), 6, "type 'text'"),
    (("#+     required: false", "#+     required: maybe"), 8, "required must be true or false"),
    (("#+     required: false", "#+     required: true"), 7, "required and so cannot have a default"),
    (("#+     description: {zh: 词, en: A word}", "#+     description: {zh: 词}"), 9, "needs a non-empty en"),
    (('#+ chart: {type: bar, x: "?s", y: n}', "#+ chart: {type: bar, x: nope, y: n}"), 10, "not a variable"),
    (('#+ chart: {type: bar, x: "?s", y: n}', "#+ chart: {type: radar}"), 10, "chart type 'radar'"),
    (('#+ chart: {type: bar, x: "?s", y: n}', "#+ chart: {type: bar, x: ?s, y: n}"), 10, "malformed YAML"),
    (("#+ tags: [test]", "#+ tags: [test]\n#+ endpoint: x"), 4, "unknown header key"),
    (("#+ tags: [test]", "#+tags: [test]"), 3, "must start with '#+ '"),
    (("SELECT ?word ?s", "SELECT ?s"), 11, "projection"),
    (("FILTER (CONTAINS(?l, ?word))", "FILTER (!BOUND(?word) || CONTAINS(?l, ?word))"), 12, "BOUND(?word)"),
    (("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n", ""), 11, "declare its own PREFIXes"),
    (("#+     default: abc", "#+     default: abc\n#+     example: x"), 8, "unknown key"),
])
def test_malformed_file_names_file_and_line(tmp_path, change, line, words):
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(DataError) as exc:
        load_query(path)
    assert exc.value.message.startswith(f"{path}:{line}: "), exc.value.message
    assert words in exc.value.message
    assert exc.value.details["line"] == line and exc.value.status == 400


def test_file_without_header_or_with_bad_name(tmp_path):
    with pytest.raises(DataError, match=r":1: no '#\+ ' header"):
        load_query(_write(tmp_path, "SELECT * WHERE { ?s ?p ?o }\n"))
    with pytest.raises(DataError, match="kebab-case"):
        load_query(_write(tmp_path, GOOD, name="Bad_Name.rq"))


def test_bad_default_is_reported(tmp_path):
    text = GOOD.replace("type: string", "type: year").replace("default: abc", "default: soon")
    with pytest.raises(DataError, match=r":7: default of parameter 'word'.*four digits"):
        load_query(_write(tmp_path, text))


def test_library_error_names_the_bad_file(tmp_path):
    _write(tmp_path, GOOD, name="a-good.rq")
    bad = _write(tmp_path, GOOD.replace("#+ tags: [test]\n", ""), name="b-bad.rq")
    with pytest.raises(DataError) as exc:
        load_library(tmp_path)
    assert str(bad) in exc.value.message
    with pytest.raises(DataError, match="no such folder"):
        load_library(tmp_path / "missing")


def test_query_kind_ignores_prefixes_comments_and_strings():
    assert query_kind("PREFIX ep: <https://w3id.org/econplan/def#>\n# select nothing\nASK { ?s ?p ?o }") == "ask"
    assert query_kind('PREFIX s: <http://ex/select/>\nCONSTRUCT { ?s ?p "select" } WHERE { ?s ?p ?o }') == "construct"
    assert query_kind("describe <http://ex/x>") == "describe"
    assert query_kind("# nothing here") is None


def test_every_query_that_shows_a_value_shows_it_as_written(library, root):
    """ep:value is an xsd:decimal, which drops trailing zeros (5.0 → 5): a saved query that
    shows a fact's value shows its ep:valueText too."""
    import re

    for path in sorted((root / "queries").glob("*.rq")):
        text = re.sub(r"NOT EXISTS \{[^}]*\}", "", path.read_text(encoding="utf-8"))
        if re.search(r"ep:value \?\w+", text):
            assert "ep:valueText" in text, path.name


def test_values_as_written_in_the_headline_query(kg, library):
    r = rows(kg, library, "headline-indicators-level-and-growth")
    income = next(x for x in r if x["indicator"].endswith("/disposable-income-per-capita"))
    assert (income["growth"], income["growthText"]) == (Decimal("5"), "5.0")
    (x,) = rows(kg, library, "facts-in-passage", passage="p013-s03")[1:]
    assert (x["value"], x["valueText"]) == (Decimal("100"), "百")
# ---------------------------------------------------------------------------- across cities

def test_gdp_by_city_ranks_only_cities_and_says_what_a_bound_is(kg, library):
    r = rows(kg, library, "gdp-by-city")
    assert {x["areaType"] for x in r} <= {"prefecture-level city", "province-level municipality"}
    assert DISTRICT + "CN" not in {x["city"] for x in r}
    chengdu = next(x for x in r if x["city"] == DISTRICT + "510100")  # 22074.72亿元 before 超2.2万亿元
    assert (chengdu["gdpAsStated"], chengdu["qualifier"], chengdu["valueIs"]) == ("22074.72亿元", "确数", "exact")
    nanjing = next(x for x in r if x["city"] == DISTRICT + "320100" and x["status"] == "actual")
    assert (nanjing["gdpAsStated"], nanjing["qualifier"], nanjing["valueIs"]) == ("1.75万亿元", "约", "approximate")
    assert next(x for x in r if x["city"] == DISTRICT + "330100")["valueIs"] == "exact"
    # a province's or the country's GDP is never ranked among the cities
    g = ox.NamedNode("https://example.org/graph/zj")
    f = ox.NamedNode("https://example.org/zj/gdp-2023")
    extra = [(f, V.EP.indicator, V.indicator("gdp")), (f, V.EP.kind, V.EP_KIND["level"]),
             (f, V.EP.status, V.EP_STATUS["actual"]), (f, V.EP.refPeriod, ox.Literal("2023", datatype=V.XSD_GYEAR)),
             (f, V.EP.refArea, V.district("330000")), (f, V.EP.value, ox.Literal("82553", datatype=V.XSD_DECIMAL)),
             (f, V.EP.unit, V.unit("yi-yuan")), (f, V.EP.qualifier, V.EP_QUALIFIER["exact"])]
    more = KnowledgeGraph.from_quads(list(kg.store) + [ox.Quad(s, p, o, g) for s, p, o in extra])
    assert len(rows(more, library, "gdp-by-city")) == len(r)


def test_actual_2023_vs_target_2024_has_the_area(kg, library):
    r = rows(kg, library, "actual-2023-vs-target-2024")
    assert {(x["area"], x["areaZh"]) for x in hangzhou(r, "actualFact")} == {(DISTRICT + "330100", "杭州市")}
    # every row names its area, and the actual and the target are about that one area
    assert all(x["area"] and x["areaZh"] for x in r)
    assert {"北京市", "深圳市", "杭州市"} <= {x["areaZh"] for x in r}


def test_targets_2024_by_city(kg, library, dataset):
    r = rows(kg, library, "targets-2024-by-city")
    cities = {"prefecture-level city", "province-level municipality"}
    expected = [f for f in dataset.facts if f.status == "target" and f.period == "2024"
                and dataset.districts[f.area].kind in cities]
    hz = [x for x in r if x["areaZh"] == "杭州市"]
    assert len(hz) == len(expected) > 100
    # the other cities' 2024 GDP growth targets (data/sources/cities-2023/figures.csv): one each
    gdp = {x["areaZh"]: x for x in r if x["areaZh"] != "杭州市" and local(x["indicator"]) == "gdp"}
    assert len(gdp) >= 12 and len(r) == len(hz) + len(gdp)
    # 5%左右, 不低于5%, 5.5%, 5%以上 as the reports write them
    assert (gdp["北京市"]["target"], gdp["北京市"]["qualifierEn"], gdp["北京市"]["unit"]) == (Decimal("5"), "about", "%")
    assert (gdp["广州市"]["target"], gdp["广州市"]["qualifierEn"]) == (Decimal("5"), "at least")
    assert (gdp["深圳市"]["target"], gdp["深圳市"]["qualifierEn"]) == (Decimal("5.5"), "exact")
    assert (gdp["苏州市"]["target"], gdp["苏州市"]["qualifierEn"]) == (Decimal("5"), "at least")
    (trade,) = rows(kg, library, "targets-2024-by-city", indicator="cross-border-ecommerce-trade")
    assert (trade["target"], trade["unit"], trade["targetInBaseUnit"], trade["baseUnit"]) == (
        Decimal("1500"), "亿元", Decimal("150000000000"), "CNY")
    bio = rows(kg, library, "targets-2024-by-city", indicator="biomedicine-industry-scale")
    assert [(x["target"], x["qualifier"], x["qualifierEn"]) for x in bio] == [(Decimal("1000"), "超", "over")]


def test_actual_vs_target_by_city(kg, library):
    # Hangzhou's 2023 targets (表1) are lost; 苏州, 西安 and 重庆 state theirs (figures.csv)
    r = rows(kg, library, "actual-vs-target-by-city")
    got = {(x["areaZh"], local(x["indicator"])): (x["actual"], x["target"], x["targetQualifier"], x["reached"])
           for x in r}
    assert len(r) == len(got) == 6 and "杭州市" not in {k[0] for k in got}
    assert got[("西安市", "gdp")] == (Decimal("5.2"), Decimal("7"), "约", False)
    assert got[("重庆市", "gdp")] == (Decimal("6.1"), Decimal("6"), "以上", True)
    assert got[("苏州市", "gdp")] == (Decimal("4.6"), Decimal("5"), "约", False)
    g = ox.NamedNode("https://example.org/graph/nb")
    extra = []
    for name, status, value, unit, qual in (("a", "actual", "16452.8", "yi-yuan", "exact"),
                                            ("t", "target", "1.6", "wan-yi-yuan", "at-least")):
        f = ox.NamedNode(f"https://example.org/nb/{name}")
        extra += [(f, V.RDF_TYPE, V.EP.Target if status == "target" else V.EP.Observation),
                  (f, V.EP.indicator, V.indicator("gdp")), (f, V.EP.kind, V.EP_KIND["level"]),
                  (f, V.EP.status, V.EP_STATUS[status]), (f, V.EP.refPeriod, ox.Literal("2023", datatype=V.XSD_GYEAR)),
                  (f, V.EP.refArea, V.district("330300")), (f, V.EP.value, ox.Literal(value, datatype=V.XSD_DECIMAL)),
                  (f, V.EP.unit, V.unit(unit)), (f, V.EP.qualifier, V.EP_QUALIFIER[qual])]
    more = KnowledgeGraph.from_quads(list(kg.store) + [ox.Quad(s, p, o, g) for s, p, o in extra])
    (nb,) = [x for x in rows(more, library, "actual-vs-target-by-city") if x["areaZh"] == "温州市"]
    assert (nb["areaZh"], nb["targetInActualUnit"], nb["difference"], nb["reached"], nb["targetQualifier"]) == (
        "温州市", Decimal("16000"), Decimal("452.8"), True, "以上")


def test_missed_plan_indicators_by_city(kg, library):
    (hz,) = rows(kg, library, "missed-plan-indicators-by-city", year="2023")
    assert (hz["areaZh"], hz["missed"], hz["metRecorded"]) == ("杭州市", 6, 1)
    assert set(hz["missedIndicatorsZh"].split("、")) == {
        "规上工业增加值", "固定资产投资", "交通投资", "民间(项目)投资", "新增上市企业", "城镇居民人均可支配收入"}
    assert rows(kg, library, "missed-plan-indicators-by-city", year="2022") == []
