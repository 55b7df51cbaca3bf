"""Readable numbers (server/kg/numbers.py) on the real facts of the built store."""
from __future__ import annotations

from decimal import Decimal

import pytest

from server.kg import numbers as N

FACTS = """
SELECT ?f ?value ?valueText ?mention ?unit ?qualifier ?kind WHERE {
  ?f ep:indicator ?i ; ep:value ?value ; ep:unit ?unit ; ep:kind ?kind .
  OPTIONAL { ?f ep:mention ?mention } OPTIONAL { ?f ep:valueText ?valueText }
  OPTIONAL { ?f ep:qualifier ?qualifier }
}"""


@pytest.fixture(scope="module")
def facts(kg):
    rows = kg.select(FACTS)
    assert len(rows) > 300
    return {r["f"].value.rsplit("/", 1)[-1] if "/hangzhou/" in r["f"].value else r["f"].value: r
            for r in rows}


@pytest.fixture(scope="module")
def units(kg):
    u = N.units(kg)
    assert len(u) > 50
    return u


def read(facts, units, key, lang):
    r = facts[key]
    return N.readable(r["value"], units[r["unit"].value], qualifier=r.get("qualifier"),
                      kind=r["kind"], lang=lang, mention=r.get("mention"))


def test_gdp_20059_yi_yuan(facts, units):
    zh = read(facts, units, "gdp-2023", "zh")
    assert zh.text == "2.0059万亿元" and zh.written == "20059亿元" and zh.note == "20059亿元"
    assert zh.kind == "总量" and zh.qualifier == "确数"
    en = read(facts, units, "gdp-2023", "en")
    assert str(en) == "2.0059 trillion yuan (20,059 亿元)"
    assert en.kind == "level" and en.qualifier == "exact"
    assert en.base_value == Decimal("2005900000000")


def test_written_digits_survive_the_store(facts, units):
    r = facts["disposable-income-growth-2023"]
    assert r["value"].value == "5"  # the store writes the decimal canonically...
    for lang in ("zh", "en"):
        x = read(facts, units, "disposable-income-growth-2023", lang)
        assert x.text == "5.0%" and x.written == "5.0%" and x.value == "5.0"  # ...we show it as written
    assert read(facts, units, "disposable-income-growth-2023", "zh").kind == "增速"
    assert read(facts, units, "disposable-income-growth-2023", "en").kind == "growth rate"


def test_percentage_points(facts, units):
    assert read(facts, units, "gdp-growth-above-national-2023", "zh").text == "0.4个百分点"
    en = read(facts, units, "gdp-growth-above-national-2023", "en")
    assert en.text == "0.4 percentage points" and en.kind == "difference"


def test_trillions_as_written(facts, units):
    key = "https://w3id.org/econplan/id/china/cities-2023-headline/fact/2023-headline-310000-gdp-level-2023"
    assert read(facts, units, key, "zh").text == "4.72万亿元"
    assert str(read(facts, units, key, "en")) == "4.72 trillion yuan (4.72 万亿元)"


def test_qualifiers_and_kinds_translated():
    yi = N.Unit("亿元", "100000000", "CNY", "hundred million yuan")
    assert N.readable("20059", yi, qualifier="ep:about-value", lang="zh").text == "约2.0059万亿元"
    assert N.readable("20059", yi, qualifier="https://w3id.org/econplan/def#over", lang="en").text == \
        "over 2.0059 trillion yuan"
    jia = N.Unit("家", "1", "count", "count of enterprises or institutions")
    assert N.readable("1000", jia, qualifier="at-least", lang="zh").text == "1000家以上"
    assert N.readable("1000", jia, qualifier="more-than", lang="zh").text == "1000余家"
    assert N.readable("1000", jia, qualifier="nearly", lang="en").text == "nearly 1,000 enterprises or institutions"
    for q, (zh, en) in {"exact": ("确数", "exact"), "about": ("约", "about"), "over": ("超", "over"),
                        "at-least": ("以上", "at least"), "at-most": ("以下", "at most"),
                        "nearly": ("近", "nearly"), "more-than": ("余", "more than")}.items():
        assert (N.qualifier_label(q, "zh"), N.qualifier_label(q, "en")) == (zh, en)
    assert N.qualifier_label("https://w3id.org/econplan/def#about-value", "en") == "about"
    assert N.status_label("target", "zh") == "目标" and N.plan_status_label("unmet", "en") == "unmet"


def test_word_tables_match_the_ontology(kg):
    """The zh/en words are the labels the ontology gives the qualifiers, kinds and statuses."""
    rows = kg.select("""SELECT ?t ?c ?l WHERE { ?t a ?c ; skos:prefLabel|rdfs:label ?l .
        FILTER(?c IN (ep:Qualifier, ep:FactKind, ep:FactStatus, ep:PlanStatus)) }""")
    tables = {"Qualifier": N.QUALIFIERS, "FactKind": N.KINDS, "FactStatus": N.STATUSES,
              "PlanStatus": N.PLAN_STATUSES}
    seen = 0
    for r in rows:
        table = tables[r["c"].value.rsplit("#", 1)[-1]]
        entry = table[N.slug(r["t"])]
        assert entry[r["l"].language] == r["l"].value
        seen += 1
    assert seen == 2 * sum(len(t) for t in tables.values())


def test_every_fact_keeps_its_written_value(facts, units):
    """For every valued fact: the digits shown are those of the mention, and any conversion
    moves the decimal point only (exact, no rounding)."""
    for key, r in facts.items():
        mention = r["mention"].value
        if r.get("valueText") is not None and not r["valueText"].value[:1].isdigit():
            continue  # written in words (百, 九大): ep:valueText holds the words, ep:value their number
        w = N.as_written(r["value"], mention)
        assert w in mention and Decimal(w) == Decimal(r["value"].value), key
        for lang in ("zh", "en"):
            x = N.readable(r["value"], units[r["unit"].value], qualifier=r.get("qualifier"),
                           kind=r["kind"], lang=lang, mention=mention)
            assert x.value == w and x.written.startswith(w)
            if x.note:
                assert w in x.note.replace(",", "")
            else:
                assert w in x.text.replace(",", "") or x.base_value is not None
            if x.base_value is not None and units[r["unit"].value].base == "CNY":
                x = N.readable(r["value"], units[r["unit"].value], lang=lang, mention=mention)
                shown = Decimal(x.text.split()[0].replace(",", "").rstrip("万亿元")
                                if lang == "en" else x.text.rstrip("万亿元"))
                scale = {"trillion": 12, "billion": 9, "million": 6}
                p = next((v for k, v in scale.items() if k in x.text), 0) if lang == "en" else \
                    (12 if "万亿元" in x.text else 8 if "亿元" in x.text else 4 if "万元" in x.text else 0)
                assert shown.scaleb(p) == x.base_value, (key, lang, x.text)


def test_lost_value():
    x = N.readable(None, N.Unit("条", "1", "count", "count of linear or listed items"), lang="en")
    assert x.text == "(number lost in the source)" and x.base_value is None


def test_chart_axis_in_readable_units():
    vals = [Decimal("4720000000000"), Decimal("2005900000000")]
    zh = N.axis_scale(vals, "CNY", "zh")
    assert zh.title == "万亿元" and zh.tick(4720000000000, "zh") == "4.72"
    en = N.axis_scale(vals, "CNY", "en")
    assert en.title == "trillion yuan" and en.tick(Decimal("2005900000000"), "en") == "2.0059"
    assert N.axis_scale([Decimal("53230000000")], "CNY", "zh").title == "亿元"
    assert N.axis_scale([Decimal("53230000000")], "CNY", "en").title == "billion yuan"
    pct = N.axis_scale([Decimal("0.056")], "ratio", "en", symbol="%")
    assert pct.title == "%" and pct.tick(Decimal("0.056")) == "5.6"
    assert N.format_tick(Decimal("123456000000"), N.axis_scale([Decimal("123456000000")], "CNY", "en"), "en") == "123.456"


def test_digits_grouped_in_english_only_by_inserting_commas():
    assert N.group_digits("20059") == "20,059"
    assert N.group_digits("1234567.50") == "1,234,567.50"
    assert N.group_digits("999") == "999" and N.group_digits("5.0") == "5.0"
    with pytest.raises(TypeError):
        N.parse(5.0)


def test_small_amounts_stay_as_written_in_chinese(facts, units):
    zh = read(facts, units, "urban-disposable-income-2023", "zh")
    assert zh.text == "80587元" and zh.note == ""
    assert str(read(facts, units, "urban-disposable-income-2023", "en")) == "80,587 yuan"
    assert read(facts, units, "fdi-2023", "zh").text == "88.3亿美元"
    assert str(read(facts, units, "fdi-2023", "en")) == "8.83 billion US dollars (88.3 亿美元)"


def test_english_unit_words(units):
    u = lambda slug: units["https://w3id.org/econplan/id/unit/" + slug]  # noqa: E731
    # a multiplier that is not a power of ten is never multiplied out, nor its words dropped
    assert N.readable("3", u("wan-mu"), lang="en").text == "3 ten thousand mu"
    assert N.readable("3", u("wan-person"), lang="en").text == "30,000 persons"
    assert N.readable("3", u("count"), lang="en").text == "3 items"
    assert (N.readable("3", u("rank"), lang="zh").text, N.readable("3", u("rank"), lang="en").text) == ("第3位", "No. 3")


def test_fact_labels_read_the_number(kg):
    """The labels of facts (built by server/kg/build.py) show readable numbers with the written
    form, and the qualifier in words, in each language."""
    from server.kg import vocab as V

    def labels(fid):
        return {r["l"].language: r["l"].value for r in kg.select(
            "SELECT ?f ?l WHERE { ?f rdfs:label ?l }", substitutions={__import__("pyoxigraph").Variable("f"): V.fact(fid)})}

    gdp = labels("gdp-2023")
    assert gdp["en"] == "gross regional product (GDP), level, 2023: 2.0059 trillion yuan (20,059 亿元)"
    assert gdp["zh"] == "2023年地区生产总值(总量):2.0059万亿元(20059亿元)"
    rows = kg.select("SELECT ?l WHERE { ?f ep:qualifier <https://w3id.org/econplan/def#about-value> ; ep:indicator ?i ; rdfs:label ?l FILTER(lang(?l) = 'en') } LIMIT 5")
    assert rows and all(": about " in r["l"].value for r in rows)
    assert not kg.select("SELECT ?l WHERE { ?f a ep:Observation ; rdfs:label ?l FILTER(CONTAINS(?l, 'hundred million')) }")


def test_a_rank_is_an_ordinal_whatever_its_unit(facts, units):
    """全国第8家数据交易所 is the 8th exchange, not 8 enterprises; 第3位 stays No. 3."""
    assert read(facts, units, "data-exchange-national-order-2023", "zh").text == "第8家"
    assert read(facts, units, "data-exchange-national-order-2023", "en").text == "No. 8"
    ranks = [k for k, r in facts.items() if r["kind"].value.endswith("#rank")]
    assert len(ranks) >= 10
    for k in ranks:
        assert read(facts, units, k, "en").text.startswith("No. "), k


def test_values_written_in_words(facts, units):
    """百, 十, 首, 三分之一 (ep:valueText, ep:value their number): the words in Chinese with the
    number beside them, the number in English with the words beside it; never 'lost'."""
    def words(key, lang):
        r = facts[key]
        return N.readable_words(r["valueText"].value, r["value"], units[r["unit"].value],
                                qualifier=r.get("qualifier"), kind=r["kind"], lang=lang)

    hundred = words("sci-tech-foundation-projects-investment-2023", "zh")
    assert (hundred.text, hundred.note, hundred.base_value) == ("超百亿元", "超100亿元", Decimal("10000000000"))
    assert str(words("sci-tech-foundation-projects-investment-2023", "en")) == "over 10 billion yuan (百亿元)"
    in_words = [k for k, r in facts.items() if r.get("valueText") is not None
                and N.parse(r["valueText"].value) is None]
    assert len(in_words) >= 25
    for k in in_words:
        zh, en = words(k, "zh"), words(k, "en")
        assert facts[k]["valueText"].value in zh.text and facts[k]["valueText"].value in en.note, k
        assert "缺失" not in zh.text and "lost" not in en.text, k
    third = N.Unit("三分之", "0.333333333333333333", "ratio", "thirds (a fraction: 三分之一 is 1 third)")
    assert str(N.readable_words("三分之一", "1", third, qualifier="at-least", lang="zh")) == "三分之一以上"
    assert str(N.readable_words("三分之一", "1", third, qualifier="at-least", lang="en")) == "at least 1 third (三分之一)"
