"""`econplan draft` / `draft-accept`: the hard cases, the CLI, the review page and the round trip.

The sentences are the report's own (data/source/report-clean.txt) or the development set's
(bench/draft-dev/, other cities' published report text), unless a test says otherwise.
"""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.kg.draft import (COLUMNS, Drafter, IndicatorScheme, SpamPatterns, clean_text,  # noqa: E402
                             read_text, to_html)
from server.kg.source import Passage, clean, passages  # noqa: E402

DEV = ROOT / "bench" / "draft-dev"
GDP = "https://w3id.org/econplan/id/indicator/gdp"


@pytest.fixture(scope="module")
def drafter():
    return Drafter(IndicatorScheme.load(ROOT / "data"), 2023, "330100")


def sentence_of(text: str, start: int = 0) -> Passage:
    return Passage("p001-s01", start, start + len(text), text, "p001")


def draft(drafter, text: str, mode: str = "actual"):
    return drafter.sentence(sentence_of(text), mode)


def hz_sentence(pid: str) -> str:
    text = (ROOT / "data" / "source" / "report-clean.txt").read_text(encoding="utf-8")
    return next(p.text for p in passages(text) if p.id == pid)


def test_a_sentence_without_quantities(drafter):
    assert draft(drafter, hz_sentence("p036-s01")) == []           # 风险防范高效有序。


def test_years_dates_and_list_numbers_are_ignored(drafter):
    assert draft(drafter, hz_sentence("p003-s01")) == [] or all(   # 2023年,是…三年新冠…20周年
        q.value_text not in ("2023", "20") for q in draft(drafter, hz_sentence("p003-s01")))
    assert draft(drafter, hz_sentence("p041-s01")) == []           # 1.释放各类政策综合效应。
    # …“千项万亿”工程九大领域,…分类梳理如下: only the count of the nine domains
    assert [q.value_text for q in draft(drafter, hz_sentence("p071-s01"))] == ["九"]
    # (1)先进制造业… : the list number, not a quantity
    p072 = hz_sentence("p072-s01")
    assert p072.startswith("(1)") and all(q.span[0] > 3 for q in draft(drafter, p072))


def test_numbers_inside_names_are_ignored(drafter):
    assert [q.value_text for q in draft(drafter, hz_sentence("p016-s06"))][:1] == ["2315"]  # 5G基站
    assert not any(q.value_text == "5" for q in draft(drafter, hz_sentence("p016-s06")))
    assert draft(drafter, hz_sentence("p065-s02")) == []           # PM2.5
    assert draft(drafter, hz_sentence("p067-s02")) == []           # 城市大脑2.0, “数字治理第一城”
    assert draft(drafter, hz_sentence("p038-s01")) == []           # 75周年, “十四五”
    # a phrase of the genre (not from the shipped report): a plan horizon is a date
    assert draft(drafter, "为基本实现2035年远景目标奠定坚实基础。") == []


def test_several_quantities_in_one_sentence_and_a_difference(drafter):
    qs = draft(drafter, hz_sentence("p005-s01"))                   # 20059亿元、增长5.6%、高于全国0.4个百分点
    assert [(q.value_text, q.unit, q.kind) for q in qs] == [
        ("20059", "yi-yuan", "level"), ("5.6", "percent", "growth"),
        ("0.4", "percentage-point", "difference")]
    assert all(q.indicator == GDP for q in qs)
    assert all((q.status, q.period) == ("actual", "2023") for q in qs)


def test_offsets_point_at_the_value_as_written(drafter):
    text = (ROOT / "data" / "source" / "report-clean.txt").read_text(encoding="utf-8")
    rows = drafter.draft(text)
    assert len(rows) > 300
    assert all(text[q.start:q.end] == q.value_text for q in rows)


def test_ranges(drafter):
    # an invented sentence of the genre: no shipped text has a range
    (q,) = draft(drafter, "地区生产总值增长5%-6%。")
    assert (q.value_text, q.value, q.unit, q.kind, q.qualifier) == ("5%-6", "5-6", "percent", "growth", "range")
    (q,) = draft(drafter, "新增就业3万-4万人。") or [None]
    assert q is None or q.qualifier == "range"


def test_chinese_numerals(drafter):
    (q,) = [q for q in draft(drafter, hz_sentence("p013-s03")) if q.value_text == "百"]  # 超百亿
    assert (q.value, q.unit, q.qualifier) == ("100", "yi-yuan", "over")
    (q,) = draft(drafter, hz_sentence("p050-s03"))                 # 力争…三分之一以上
    assert (q.value_text, q.value, q.unit, q.qualifier, q.status, q.period) == (
        "三分之一", "1", "third", "at-least", "target", "2024")
    (q,) = draft(drafter, hz_sentence("p017-s05"))                 # 两项工作
    assert (q.value_text, q.value, q.unit, q.kind) == ("两", "2", "item", "count")
    ranks = [q for q in draft(drafter, hz_sentence("p017-s04")) if q.kind == "rank"]  # 位居全省第一
    assert [(q.value_text, q.value, q.unit) for q in ranks] == [("一", "1", "rank")]
    assert not [q for q in draft(drafter, hz_sentence("p031-s06")) if q.value_text == "六"]  # 第六批


def test_cumulative(drafter):
    qs = draft(drafter, hz_sentence("p023-s04"))                   # 累计培育强村公司524家、…
    (q,) = [q for q in qs if q.value_text == "524"]
    assert q.period == "../2023"


def test_targets_with_about_are_next_year(drafter):
    text = read_text(DEV / "sichuan-2024-gwr.txt").strip()
    qs = draft(drafter, text)
    first = qs[0]                                                 # 地区生产总值增长6%左右
    assert (first.value_text, first.qualifier, first.status, first.period, first.indicator) == (
        "6", "about", "target", "2024", GDP)
    assert {q.status for q in qs} == {"target"}


def test_the_plan_section_makes_targets(drafter):
    text = (ROOT / "data" / "source" / "report-clean.txt").read_text(encoding="utf-8")
    rows = {q.sentence.id: q for q in drafter.draft(text)}
    assert (rows["p005-s01"].status, rows["p005-s01"].period) == ("actual", "2023")
    assert (rows["p070-s01"].status, rows["p070-s01"].period) == ("target", "2024")


def test_each_of_a_list(drafter):
    qs = draft(drafter, hz_sentence("p050-s04"))                   # A、B、C各100项以上
    hundred = [q for q in qs if q.value_text == "100"]
    assert len(hundred) == 3 and {q.qualifier for q in hundred} == {"at-least"}


def test_gb18030_and_spam_patterns(tmp_path):
    raw = "站点页眉\n\n宁波广告词上半年实现地区生产总值7745.1亿元。\n"
    path = tmp_path / "r.txt"
    path.write_bytes(raw.encode("gb18030"))
    spam_file = tmp_path / "spam.txt"
    spam_file.write_text("# the site's own\nline: ^站点页眉$\ntoken: 宁波广告词\n", encoding="utf-8")
    text = clean_text(read_text(path), SpamPatterns.read(spam_file))
    assert text == "上半年实现地区生产总值7745.1亿元。\n"
    assert clean_text(read_text(path)) == clean(raw)  # no patterns: the shipped cleaning step
    bad = tmp_path / "bad.txt"
    bad.write_text("oops\n", encoding="utf-8")
    with pytest.raises(Exception, match="line: REGEX"):
        SpamPatterns.read(bad)


def test_cleaning_the_raw_page_gives_the_committed_text():
    raw = read_text(ROOT / "data" / "source" / "report-raw.txt")
    assert clean_text(raw) == (ROOT / "data" / "source" / "report-clean.txt").read_text(encoding="utf-8")


def econplan(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_cli_draft_writes_exactly_the_columns_and_a_review_page(tmp_path):
    out = tmp_path / "drafts.csv"
    r = econplan("draft", str(DEV / "ningbo-2023-h1.txt"), "--area", "330200", "--year", "2023",
                 "-o", str(out), "--html")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == COLUMNS == (
        "sentence", "start", "end", "value_text", "value", "unit", "kind", "qualifier", "period",
        "status", "indicator", "indicator_label", "area", "confidence")
    assert len(rows) > 20 and all(r[12] == "330200" for r in rows[1:])
    page = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "<mark" in page and "7745.1" in page


def test_cli_errors_are_one_line(tmp_path):
    r = econplan("draft", str(tmp_path / "missing.txt"))
    assert r.returncode != 0 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = econplan("draft", str(DEV / "sichuan-2024-gwr.txt"), "--html")
    assert r.returncode != 0 and "--html needs -o" in r.stderr
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00\x00\x00")
    r = econplan("draft", str(binary))
    assert r.returncode != 0 and "neither UTF-8 nor GB18030" in r.stderr


def test_review_page_escapes_text_and_puts_low_confidence_first(drafter):
    text = "<script>alert(1)</script>新增国家高新技术企业3195家。\n\n地区生产总值增长5%-6%。\n"
    rows = drafter.draft(text)
    page = to_html(text, rows, "t<i>")
    assert "<script>" not in page and "&lt;script&gt;" in page and "t&lt;i&gt;" in page
    low = min(rows, key=lambda q: q.confidence)
    high = max(rows, key=lambda q: q.confidence)
    assert low.confidence < high.confidence
    assert low.sentence.id != high.sentence.id
    assert page.index(f">{low.sentence.id} [") < page.index(f">{high.sentence.id} [")


# --- the round trip: draft -> dataset folder -> build -> shapes ---------------------------------


@pytest.fixture()
def project(tmp_path):
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def _build_and_validate(project: Path):
    from server.kg.build import build_quads
    from server.kg.validation import validate

    quads = build_quads(project)
    return quads, validate(quads)


def test_round_trip_reviewed_draft_builds_and_conforms(project):
    # the development set's gold file is a reviewed draft in exactly the draft's columns
    reviewed = DEV / "chengdu-2023-gwr.gold.csv"
    r = econplan("--root", str(project), "draft-accept", str(reviewed), "--text",
                 str(DEV / "chengdu-2023-gwr.txt"), "--dataset", "chengdu-2023", "--area", "510100",
                 "--year", "2023", "--reviewed")
    assert r.returncode == 0, r.stderr
    folder = project / "data" / "drafts" / "chengdu-2023"
    facts = list(csv.DictReader((folder / "chengdu-2023.facts.csv").open(encoding="utf-8")))
    assert len(facts) == 14
    text = (folder / "source.txt").read_text(encoding="utf-8")
    sentences = {p.id: p.text for p in passages(text)}
    for f in facts:  # every value is written in its mention, every mention in its sentence
        assert f["mention"] in sentences[f["passage"]] and (f["value_text"] or f["value"]) in f["mention"]
    quads, report = _build_and_validate(project)
    assert report.conforms, "\n".join(f"{x.focus} {x.message.get('en')}"
                                      for x in report.by_severity("Violation"))
    review = [q for q in quads if q.predicate.value.endswith("#reviewStatus")]
    assert len(review) == 14 and {q.object.value.rsplit("#", 1)[1] for q in review} == {"reviewed"}
    # curated facts have no review status: a query can tell them apart
    curated = {q.subject for q in quads if q.subject.value.startswith(
        "https://w3id.org/econplan/id/hangzhou/2023-plan/fact/")}
    assert curated and not curated & {q.subject for q in review}


def test_round_trip_unreviewed_draft_is_marked_drafted(project, tmp_path):
    out = tmp_path / "d.csv"
    r = econplan("draft", str(DEV / "chengdu-2023-gwr.txt"), "--area", "510100", "-o", str(out))
    assert r.returncode == 0, r.stderr
    r = econplan("--root", str(project), "draft-accept", str(out), "--text",
                 str(DEV / "chengdu-2023-gwr.txt"), "--dataset", "chengdu-2023", "--area", "510100")
    assert r.returncode == 0, r.stderr
    # a draft in every unit data/vocab/units.csv gained for the genre (‰, μg/m3, 公顷 …), in
    # the same build: draft-accept and the shapes take them
    src = tmp_path / "bulletin.txt"
    src.write_text("2023年国民经济和社会发展统计公报\n"
                   "全年出生率为6.3‰。户籍人口性别比为103.8(以女性为100)。"
                   "细颗粒物年均浓度29微克/立方米。造林面积1.5万公顷,新建湿地公园120公顷。"
                   "出口增速连续5个月位居全省第1,我市连续两个季度获评先进。"
                   "实际利用外资8095万美元。建成时速350公里的城际铁路。城乡居民收入比缩小至1.85。\n",
                   encoding="utf-8")
    out2 = tmp_path / "d2.csv"
    r = econplan("draft", str(src), "--area", "330200", "--year", "2023", "-o", str(out2))
    assert r.returncode == 0, r.stderr
    new_units = {"per-mille", "per-hundred", "microgram-per-cubic-metre", "wan-hectare", "hectare",
                 "month", "quarter", "wan-usd", "kilometre-per-hour", "ratio"}
    assert {row["unit"] for row in csv.DictReader(out2.open(encoding="utf-8"))} >= new_units
    r = econplan("--root", str(project), "draft-accept", str(out2), "--text", str(src),
                 "--dataset", "bulletin-2023", "--area", "330200", "--year", "2023")
    assert r.returncode == 0, r.stderr
    # a county's report (丹寨县, a county-level area of data/vocab/areas.csv); its figures are test data
    county = tmp_path / "danzhai.txt"
    county.write_text("丹寨县2023年地区生产总值增长5.2%,全县常住人口12.5万人。\n", encoding="utf-8")
    out3 = tmp_path / "d3.csv"
    assert econplan("draft", str(county), "--area", "522636", "--year", "2023", "-o", str(out3)).returncode == 0
    r = econplan("--root", str(project), "draft-accept", str(out3), "--text", str(county),
                 "--dataset", "danzhai-2023", "--area", "522636", "--year", "2023")
    assert r.returncode == 0, r.stderr
    quads, report = _build_and_validate(project)
    assert len({q.subject for q in quads if q.predicate.value.endswith("#refArea")
                and q.object.value.endswith("/district/522636")}) == 2
    assert report.conforms, [x.message.get("en") for x in report.by_severity("Violation")]
    review = {q.object.value.rsplit("#", 1)[1] for q in quads if q.predicate.value.endswith("#reviewStatus")}
    assert review == {"drafted"}
    used = {q.object.value.rsplit("/", 1)[1] for q in quads
            if q.predicate.value.endswith("#unit") and "bulletin-2023" in q.subject.value}
    assert used >= new_units


def test_draft_accept_rejects_a_row_that_does_not_match_the_text(project, tmp_path):
    rows = (DEV / "chengdu-2023-gwr.gold.csv").read_text(encoding="utf-8").splitlines()
    rows[1] = rows[1].replace(",62,62,", ",63,63,", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = econplan("--root", str(project), "draft-accept", str(bad), "--text",
                 str(DEV / "chengdu-2023-gwr.txt"), "--dataset", "chengdu-2023")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "bad.csv:2" in r.stderr
    assert not (project / "data" / "drafts" / "chengdu-2023").exists()


# --- the genre's conventions (rules checked on the development set's sentences) --------------

IND = "https://w3id.org/econplan/id/indicator/"


def dev_sentence(name: str, pid: str) -> str:
    text = clean_text(read_text(DEV / f"{name}.txt"))
    return next(p.text for p in passages(text) if p.id == pid)


def by_value(qs, value_text):
    (q,) = [q for q in qs if q.value_text == value_text]
    return q


def test_one_expected_covers_the_list_after_it(drafter):
    qs = draft(drafter, dev_sentence("ningbo-2023-gwr", "p003-s03"))   # …突破5000亿元…,预计…47%,…32%,…19%
    assert by_value(qs, "5000").status == "actual"
    assert [by_value(qs, v).status for v in ("47", "32", "19")] == ["expected"] * 3
    # 预期 is expected too, but 主要预期目标 names the targets
    assert draft(drafter, "预期全年粮食产量增长2%。")[0].status == "expected"
    assert draft(drafter, "主要预期目标是:地区生产总值增长6%左右。")[0].status == "target"


def test_the_word_nearest_the_value_decides_growth_or_share(drafter):
    qs = draft(drafter, dev_sentence("ningbo-2023-h1", "p006-s02"))    # 增长7.2%,对经济增速贡献率66.3%
    assert (by_value(qs, "7.2").kind, by_value(qs, "66.3").kind) == ("growth", "share")
    qs = draft(drafter, dev_sentence("ningbo-2023-h1", "p005-s03"))    # 增速由4月的1%持续回升至8.8%
    assert by_value(qs, "8.8").kind == "growth"
    assert draft(drafter, "居民消费价格涨幅3%左右。")[0].kind == "growth"
    assert draft(drafter, "工业增加值增长率达到8%。")[0].kind == "growth"


def test_ranks_without_wei_and_changes_of_rank(drafter):
    qs = draft(drafter, dev_sentence("chengdu-2023-gwr", "p001-s01"))  # 排名提升5位至第24位
    assert (by_value(qs, "5").unit, by_value(qs, "5").kind) == ("rank", "difference")
    assert (by_value(qs, "24").unit, by_value(qs, "24").kind) == ("rank", "rank")
    qs = draft(drafter, dev_sentence("ningbo-2023-h1", "p006-s03"))    # 居全省第3;
    assert (by_value(qs, "3").unit, by_value(qs, "3").kind) == ("rank", "rank")
    assert draft(drafter, "共有4位专家参加。") == []                  # 4位 persons, not a rank


def test_the_first_in_a_scope_is_rank_one(drafter):
    q = by_value(draft(drafter, hz_sentence("p016-s04")), "首")         # 是全省首家
    assert (q.value, q.unit, q.kind) == ("1", "enterprise", "rank")
    assert draft(drafter, "入选首批国家知识产权保护示范城市。") == []  # 首批 is a batch


def test_a_count_before_a_quoted_name_is_a_count(drafter):
    q = by_value(draft(drafter, hz_sentence("p003-s01")), "三")         # 实施三个“一号工程”
    assert (q.value, q.unit, q.kind) == ("3", "count", "count")


def test_articles_of_a_policy_package(drafter):
    qs = draft(drafter, dev_sentence("suzhou-2023-plan", "p002-s01"))  # …55条、…30条、…26条等一系列政策举措
    assert [q.indicator for q in qs] == [IND + "policy-articles"] * 3
    q = by_value(draft(drafter, hz_sentence("p011-s02")), "200")        # 200条重要保障道路: roads
    assert q.indicator != IND + "policy-articles"


def test_urban_and_rural_respectively(drafter):
    qs = draft(drafter, dev_sentence("ningbo-2024-gwr", "p001-s01"))   # 城乡居民…分别超8.2万元和5万元
    assert by_value(qs, "8.2").indicator == IND + "urban-disposable-income-per-capita"
    assert by_value(qs, "5").indicator == IND + "rural-disposable-income-per-capita"
    assert {by_value(qs, v).qualifier for v in ("8.2", "5")} == {"over"}


def test_alternative_labels_and_abbreviations_find_the_indicator(drafter):
    assert drafter.scheme.labels["第三产业增加值"] == "value-added-services"   # alt_labels column
    qs = draft(drafter, dev_sentence("ningbo-2023-h1", "p004-s02"))    # 一产增加值172亿元,增长4.9%
    assert {q.indicator for q in qs} == {IND + "value-added-agriculture"}
    q = draft(drafter, dev_sentence("sichuan-2024-gwr", "p001-s01"))[-1]  # 715亿斤以上
    assert (q.value_text, q.unit, q.qualifier) == ("715", "亿斤", "at-least")


def test_a_numeral_or_the_modifier_of_a_label_must_be_in_the_text(drafter):
    qs = draft(drafter, dev_sentence("ningbo-2023-h1", "p005-s02"))    # 二产增加值3499.1亿元,增长3.9%
    # not 第一产业增加值 (the numeral differs) nor 金融产业增加值 (the modifier is missing)
    assert {q.indicator for q in qs} == {""}
    assert drafter.scheme.similar("第二产业增加值") is None


def test_a_two_character_label_must_be_the_head_of_the_noun_phrase(drafter):
    qs = draft(drafter, dev_sentence("chengdu-2023-gwr", "p001-s01"))  # 国家企业技术中心增至62家
    assert by_value(qs, "62").indicator == ""
    q = by_value(draft(drafter, hz_sentence("p016-s07")), "230")       # 完成230家企业接入
    assert q.indicator == IND + "enterprises"


def test_components_of_a_named_programme(drafter):
    q = by_value(draft(drafter, hz_sentence("p003-s01")), "三")         # 实施三个“一号工程”
    assert q.indicator == IND + "programme-components"
    qs = draft(drafter, hz_sentence("p048-s04"))                       # 三个“1平方公里”产业园
    assert all(q.indicator != IND + "programme-components" for q in qs)


def test_a_rank_takes_the_subject_of_the_clause_just_before(drafter):
    qs = draft(drafter, hz_sentence("p008-s02"))                       # 收入2616.8亿元,居全国城市第4位
    assert by_value(qs, "4").indicator == IND + "general-budget-revenue"
    qs = draft(drafter, dev_sentence("ningbo-2023-gwr", "p003-s12"))   # …33条,建设…,设立全省首家…
    assert by_value(qs, "首").indicator != IND + "policy-articles"


def test_a_growth_rate_of_a_month_takes_the_subject(drafter):
    qs = draft(drafter, dev_sentence("ningbo-2023-h1", "p005-s03"))    # 当月增速由4月的1%持续回升至8.8%
    assert {by_value(qs, v).indicator for v in ("1", "8.8")} == {IND + "value-added-industry-above-scale"}


def test_an_excerpt_of_the_plan_part(drafter):
    text = clean_text(read_text(DEV / "chengdu-2024-plan.txt"))       # 2024年任务, without its heading
    assert {q.status for q in drafter.draft(text)} == {"actual"}
    plan = Drafter(drafter.scheme, 2023, "510100", part="plan")
    assert {(q.status, q.period) for q in plan.draft(text)} == {("target", "2024")}
    review = Drafter(drafter.scheme, 2023, "", part="review")
    text = (ROOT / "data" / "source" / "report-clean.txt").read_text(encoding="utf-8")
    rows = {q.sentence.id: q for q in review.draft(text)}
    assert (rows["p070-s01"].status, rows["p070-s01"].period) == ("actual", "2023")


def test_cli_part_plan_drafts_targets_and_a_bad_part_is_one_line(tmp_path):
    from click.testing import CliRunner

    from server.cli import cli

    out = tmp_path / "tasks.csv"
    r = CliRunner().invoke(cli, ["--root", str(ROOT), "draft", str(DEV / "chengdu-2024-plan.txt"),
                                 "--area", "510100", "--year", "2023", "--part", "plan", "-o", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows and {(x["status"], x["period"]) for x in rows} == {("target", "2024")}
    r = CliRunner().invoke(cli, ["--root", str(ROOT), "draft", str(DEV / "chengdu-2024-plan.txt"),
                                 "--part", "tasks"])
    assert r.exit_code == 2 and "tasks" in r.output and "Traceback" not in r.output


def test_a_count_inside_a_quoted_name_is_a_count(drafter):
    # a numeral with a measure word counts the parts of the name, even inside quotes
    q = by_value(draft(drafter, hz_sentence("p003-s01")), "十")         # “十项重大工程”
    assert (q.value, q.unit, q.kind, q.status, q.period) == ("10", "item", "count", "actual", "2023")
    assert q.indicator == IND + "programme-components"
    q = by_value(draft(drafter, hz_sentence("p033-s06")), "二十")       # “治气攻坚二十条”
    assert (q.value, q.unit, q.indicator) == ("20", "strip", IND + "policy-articles")
    # in the plan part too it is what the name says now, not a target; 确保 in a name is a name
    q = by_value(draft(drafter, hz_sentence("p040-s01"), "target"), "十")  # “十大攀登行动”
    assert (q.status, q.period) == ("actual", "2024")
    q = by_value(draft(drafter, "锚定“两个确保”、落实“十大战略”,经济平稳运行。"), "十")
    assert (q.status, q.period) == ("actual", "2023")
    q = draft(drafter, "深入实施“5大提升行动”。")[0]                     # digits with a measure word
    assert (q.value, q.unit, q.kind, q.indicator) == ("5", "count", "count", IND + "programme-components")
    # no measure word (“八八战略”, “两地四中心”), 一 (“一号工程”) or after 双: part of a name
    assert [q.value_text for q in draft(drafter, hz_sentence("p003-s01"))] == ["三", "十", "两"]
    assert draft(drafter, "深入实施“八八战略”,推进“一带一路”和“两地四中心”建设。") == []
    assert draft(drafter, "“双十条”做法在全国推广。") == []
    qs = draft(drafter, dev_sentence("chengdu-2024-plan", "p001-s01"))  # “一张网”: one, not a count
    assert qs and all(q.value_text != "一" for q in qs)


def test_a_numeral_before_da_counts_a_named_group(drafter):
    qs = draft(drafter, hz_sentence("p017-s01"))                       # 五大产业生态圈全面升级。
    assert [(q.value_text, q.value, q.unit, q.kind) for q in qs] == [("五", "5", "count", "count")]
    assert qs[0].indicator == IND + "programme-components"
    assert draft(drafter, "全面贯彻党的二十大精神。") == []               # a congress
    assert draft(drafter, "学习贯彻党的二十大和二十届三中全会精神。") == []
    qs = draft(drafter, dev_sentence("ningbo-2023-h1", "p005-s04"))     # 前十大行业: a top ten
    assert [q.value_text for q in qs] == ["14.4", "12.9", "10.4"]


def test_a_named_group_is_counted_once_where_it_is_first_named(drafter):
    text = "深入实施三个“一号工程”。\n\n五大产业生态圈全面升级。补齐五大产业生态圈的政策体系。\n\n" \
           "统筹推进三个“一号工程”。"
    rows = drafter.draft(text)
    assert [(q.sentence.id, q.value_text) for q in rows] == [("p001-s01", "三"), ("p002-s01", "五")]


def test_a_quote_holding_only_a_quantity_is_the_quantity(drafter):
    qs = draft(drafter, hz_sentence("p048-s04"), "target")            # 三个“1平方公里”产业园
    q = by_value(qs, "1")
    assert (q.unit, q.kind, q.status, q.period) == ("square-kilometre", "level", "target", "2024")
    assert all(q.value_text != "50" for q in draft(drafter, hz_sentence("p035-s04")))  # “地铁口50米…”
    assert draft(drafter, "实现“全国文化企业30强”突破。") == []


def test_quan_qu_is_a_rank_scope_and_jian_a_measure_word(drafter):
    # phrases of the genre (an autonomous region's city calls the region 全区)
    q = draft(drafter, "地区生产总值增速居全区第一。")[0]
    assert (q.value_text, q.unit, q.kind) == ("一", "rank", "rank")
    q = draft(drafter, "成为全区第二个获批的城市。")[0]
    assert (q.value, q.unit, q.kind, q.span) == ("2", "count", "rank", (4, 7))   # as 全省首个
    assert draft(drafter, "入选第二个批次名单。") == []                   # an ordinal, no scope
    q = draft(drafter, "集中力量办好三件大事。")[0]
    assert (q.value, q.unit, q.kind) == ("3", "件", "count")
    q = draft(drafter, "办结群众诉求1200件。")[0]
    assert (q.value, q.unit, q.kind) == ("1200", "件", "count")


# Conventions of the genre found on the first blind set (bench/draft-blind/); the phrases below
# are written for the tests, not taken from that text.

def test_names_and_articles_in_ascii_quotes(drafter):
    # some reports (or their copies) quote names with ASCII quotes: the same rules apply
    q = draft(drafter, '统筹推进"五个统筹"工作。', "target")[0]
    assert (q.value, q.indicator, q.status, q.period) == (
        "5", IND + "programme-components", "actual", "2024")
    qs = draft(drafter, '制定"20条"措施和"15条"细则。')
    assert [(q.value, q.indicator) for q in qs] == [("20", IND + "policy-articles"),
                                                    ("15", IND + "policy-articles")]
    qs = draft(drafter, "出台稳外资12条措施,新建道路8条。")       # N条 right before 措施
    assert by_value(qs, "12").indicator == IND + "policy-articles"
    assert by_value(qs, "8").indicator != IND + "policy-articles"   # roads: no policy word there
    assert draft(drafter, '编制"十四五"规划,推广"地铁口50米共停共享"。') == []


def test_an_expected_note_after_the_value_and_the_same_below(drafter):
    qs = draft(drafter, "地区生产总值增长6.1%(预计),进出口总额增长2%。")
    assert [q.status for q in qs] == ["expected", "actual"]
    text = ("全市生产总值增长6.1%(预计,下同),进出口总额增长2%。工业投资增长9%。\n\n"
            "城乡居民收入增长5%。累计建成绿道300公里。")
    rows = drafter.draft(text)
    assert [(q.value, q.status) for q in rows] == [
        ("6.1", "expected"), ("2", "expected"), ("9", "expected"), ("5", "expected"),
        ("300", "actual")]                                   # 下同: the year's figures, not a total
    assert [q.status for q in draft(drafter, "地区生产总值增长6.1%(初步核算)。")] == ["actual"]


def test_a_design_speed_or_capacity_of_a_project(drafter):
    q = draft(drafter, "设计时速250公里的城际铁路建成通车。")[0]
    assert (q.value, q.unit, q.kind, q.status, q.period) == ("250", "kilometre-per-hour", "level", "design", "2023")
    q = draft(drafter, "加快推进年产能20万吨新材料项目。", "target")[0]
    assert (q.status, q.period) == ("design", "2024")
    q = draft(drafter, "全市锂电池年产能达到30GWh。")[0]             # a value of the year
    assert (q.unit, q.status) == ("gwh", "actual")
    q = draft(drafter, "新建城际铁路120公里。")[0]
    assert (q.unit, q.status) == ("kilometre", "actual")


def test_a_place_scopes_a_first(drafter):
    q = draft(drafter, "获批国家级试验区,是浙江首个获批地市。")[0]
    assert (q.value_text, q.value, q.unit, q.kind) == ("首", "1", "count", "rank")
    assert draft(drafter, "成为宁波市首家上市银行。")[0].kind == "rank"
    assert draft(drafter, "建成本市首个零碳园区。")[0].kind == "rank"
    assert draft(drafter, "实现首个项目落地,首家门店开业。") == []     # no scope: not a rank
    assert draft(drafter, "引进首店品牌,是今年首个签约项目。") == []


def test_a_number_of_people_split_by_their_place(drafter):
    q = draft(drafter, "凝聚起1200万宁波人民的磅礴力量。")[0]
    assert (q.value_text, q.unit, q.kind, q.qualifier) == ("1200", "wan-person", "count", "exact")
    q = draft(drafter, "团结带领900多万市民群众奋力拼搏。")[0]
    assert (q.value, q.unit, q.qualifier) == ("900", "wan-person", "more-than")
    assert [q.unit for q in draft(drafter, "投入500万元服务群众。")] == ["wan-yuan"]
    # 株果树惠及 is not a place: 2万株 counts trees, not people
    assert [q.unit for q in draft(drafter, "种植2万株果树惠及村民。")] == ["万株"]


def test_an_amount_describing_the_thing_counted(drafter):
    # 首个300亿元园区: the amount is a size class in a description, not a quantity of the year
    assert [q.value for q in draft(drafter, "建成2个100亿元产业集群。")] == ["2"]
    assert [q.value for q in draft(drafter, "成为省内首家50亿元企业。")] == ["1"]
    assert [q.value for q in draft(drafter, "产业园产值突破500亿元。")] == ["500"]


def test_indicator_similarity_prefers_a_new_indicator_to_a_near_measure(drafter):
    def indicator(text):
        (q,) = draft(drafter, text)
        return q.indicator.removeprefix(IND)

    # the label's characters must be in the clause as written, not only scattered bigrams
    assert indicator("争取国债资金40亿元。") == "treasury-bond-funds-secured"
    assert indicator("争取增发国债等专项资金40亿元。") == ""
    assert indicator("实施项目300个。") == "key-projects-implementation"
    assert indicator("实施投资1亿元以上项目300个。") == ""
    # the head noun: 地区生产总值 modifies 比例 here; 专项债储备 is not 专项债券
    assert indicator("地区生产总值增长6%。") == "gdp"
    assert indicator("旅游总收入相当于地区生产总值的比例为12%。") == ""
    assert indicator("发行地方政府专项债券120亿元。") == ""
    # 接待游客 is short for (“免费游”)接待游客: only with the free tours in the sentence
    assert indicator("全市景区接待游客8000万人次。") == ""
    assert indicator("“免费游”期间接待游客500万人次。") == "free-tour-visitors"


def test_a_trailing_qualifier_covers_a_list_joined_by_he(drafter):
    qs = draft(drafter, "农林牧渔业增加值和粮食产量分别增长4%和2.5%左右。")
    assert [(q.value, q.qualifier) for q in qs] == [("4", "about"), ("2.5", "about")]
    qs = draft(drafter, "开发区和高新区营业收入分别达到120亿元及80亿元以上。")
    assert [(q.value, q.qualifier) for q in qs] == [("120", "at-least"), ("80", "at-least")]
    qs = draft(drafter, "出口增长4%,进口增长2.5%左右。")             # not a 分别 list
    assert [(q.value, q.qualifier) for q in qs] == [("4", "exact"), ("2.5", "about")]


def test_a_first_names_its_own_subject(drafter):
    # 全省首个X: the first is about the X after it, not about the quantity before it
    qs = draft(drafter, "争取国债资金20亿元,建成全省首个海水淡化项目。")
    assert by_value(qs, "20").indicator == IND + "treasury-bond-funds-secured"
    assert by_value(qs, "首").indicator != IND + "treasury-bond-funds-secured"


# --- conventions of the genre found on the second blind set (tested on phrases of our own) -----


def test_units_the_vocabulary_gained(drafter):
    qs = draft(drafter, "全年出生率为7.12‰,自然增长率为-1.5‰。")
    assert [(q.value_text, q.value, q.unit, q.kind) for q in qs] == [
        ("7.12", "7.12", "per-mille", "share"), ("-1.5", "-1.5", "per-mille", "share")]
    qs = draft(drafter, "细颗粒物(PM2.5)年均浓度28微克/立方米,PM10浓度45μg/m3。")
    assert [(q.value, q.unit) for q in qs] == [("28", "microgram-per-cubic-metre"),
                                               ("45", "microgram-per-cubic-metre")]
    qs = draft(drafter, "耕地面积52.1万公顷,比上年增加0.3万公顷;新建湿地公园300公顷。")
    assert [(q.value, q.unit, q.kind) for q in qs] == [
        ("52.1", "wan-hectare", "level"), ("0.3", "wan-hectare", "difference"),
        ("300", "hectare", "level")]
    (q,) = draft(drafter, "户籍人口性别比为104.3(以女性为100)。")
    assert (q.value_text, q.unit, q.kind) == ("104.3", "per-hundred", "share")
    assert draft(drafter, "比上年增加3个百分点。")[0].kind == "difference"
    # the drafter's unit slugs are the vocabulary's, so draft-accept takes them
    with (ROOT / "data" / "vocab" / "units.csv").open(encoding="utf-8") as fh:
        slugs = {r["slug"] for r in csv.DictReader(fh)}
    assert {"per-mille", "microgram-per-cubic-metre", "hectare", "wan-hectare", "per-hundred",
            "month", "quarter"} <= slugs


def test_ranks_and_runs_written_in_digits(drafter):
    qs = draft(drafter, "出口增速连续6个月位居全省第2,利用外资稳居全国前5。")
    assert [(q.value, q.unit, q.kind, q.qualifier) for q in qs] == [
        ("6", "month", "count", "exact"), ("2", "rank", "rank", "exact"),
        ("5", "rank", "rank", "at-most")]
    (q,) = draft(drafter, "我市连续三个季度获评全省先进。")
    assert (q.value, q.unit) == ("3", "quarter")
    (q,) = draft(drafter, "综合实力位居全国前十。")
    assert (q.value, q.kind, q.qualifier) == ("10", "rank", "at-most")
    # a time span is not a count: only 连续/持续 make one
    assert draft(drafter, "提前3个月完成任务,用时三个月。") == []
    assert draft(drafter, "前十大行业增长较快,前三季度平稳。") == []


def test_people_named_by_their_home(drafter):
    (q,) = draft(drafter, "凝聚起680万鹭岛儿女的磅礴力量。")   # 鹭岛: not a name in areas.csv
    assert (q.value, q.unit, q.kind) == ("680", "wan-person", "count")
    (q,) = draft(drafter, "团结100多万家乡同胞。")
    assert (q.value, q.qualifier) == ("100", "more-than")
    # 人民, 村民 … need a known place: 2万株 counts trees, not people
    assert [q.unit for q in draft(drafter, "种植2万株果树惠及村民。")] == ["万株"]


def test_crossing_an_amount_is_over(drafter):
    qs = draft(drafter, "经济总量迈上5000亿元台阶,财政收入跨越300亿元,外贸跨过千亿关口。")
    assert [(q.value, q.qualifier) for q in qs] == [("5000", "over"), ("300", "over")]


def test_a_narrower_measure_is_not_the_scheme_indicator(drafter):
    def indicator(text, value):
        return by_value(draft(drafter, text), value).indicator.removeprefix(IND)

    first_second = "第一产业增加值241亿元,第二产业增加值237亿元,增长0.5%。"
    assert indicator(first_second, "241") == "value-added-agriculture"
    assert indicator(first_second, "237") == "" and indicator(first_second, "0.5") == ""
    assert indicator("城镇常住人口105万人。", "105") == ""
    assert indicator("年末常住人口209万人。", "209") == "resident-population"
    assert indicator("全市人均地区生产总值9.8万元。", "9.8") == ""
    assert indicator("全市城镇居民人均可支配收入7万元。", "7") == "urban-disposable-income-per-capita"
    assert indicator("完成城镇老旧小区改造269个。", "269") == "old-residential-communities-renovated"
    # a share of a measure is not the measure
    assert indicator("第一产业增加值占地区生产总值的比重为7.1%。", "7.1") == ""
    assert indicator("常住人口城镇化率为66.2%。", "66.2") == ""
    # acronyms of the scheme's alternative labels
    assert indicator("全年GDP增长5.2%。", "5.2") == "gdp"
    assert indicator("研发投入占GDP比重达到3.1%。", "3.1") == ""


def test_a_difference_for_two_areas_and_a_total(drafter):
    qs = draft(drafter, "地区生产总值增长5.8%,分别高于全国、全省0.6个、0.3个百分点,"
                        "经济总量迈上4000亿元台阶。")
    assert [(q.value, q.unit, q.kind, q.qualifier, q.indicator) for q in qs] == [
        ("5.8", "percent", "growth", "exact", GDP),
        ("0.6", "percentage-point", "difference", "exact", GDP),
        ("0.3", "percentage-point", "difference", "exact", GDP),
        ("4000", "yi-yuan", "level", "over", GDP)]
    # 个 before another count is still a count
    assert [q.unit for q in draft(drafter, "新建学校3个、医院2个。")] == ["count", "count"]


def test_urban_and_rural_with_a_qualifier_on_each(drafter):
    qs = draft(drafter, "城乡居民人均可支配收入分别增长6%左右和7%左右。")
    assert [(q.value, q.kind, q.qualifier, q.indicator.removeprefix(IND)) for q in qs] == [
        ("6", "growth", "about", "urban-disposable-income-per-capita"),
        ("7", "growth", "about", "rural-disposable-income-per-capita")]


def test_the_plans_work_areas_and_indicators(drafter):
    (q,) = draft(drafter, "重点做好以下六个方面工作。", mode="target")
    assert (q.value, q.status, q.period, q.indicator) == ("6", "actual", "2024",
                                                         IND + "plan-work-areas")
    assert draft(drafter, "围绕三个方面推进改革。")[0].indicator == ""
    qs = draft(drafter, "年初下达的52项经济和社会发展指标中,除3项指标外均完成,"
                        "“地区生产总值”等49项指标达到目标。")
    assert by_value(qs, "52").indicator == IND + "plan-indicators"
    assert by_value(qs, "3").indicator != IND + "plan-indicators"     # some of them
    assert by_value(qs, "49").indicator != IND + "plan-indicators"
    qs = draft(drafter, "发展目标安排了40项指标,其中预期性指标35项。", mode="target")
    assert [q.indicator.removeprefix(IND) for q in qs] == ["plan-indicators",
                                                          "plan-indicators-expected"]
    assert draft(drafter, "新建学校12项指标全部完成。")[0].indicator != IND + "plan-indicators"


def test_an_opening_expected_covers_the_whole_sentence(drafter):
    # phrases of our own: 预计 opens the sentence, its figures separated by ；/; and commas
    qs = draft(drafter, "预计全市粮食产量增长3%;工业用电量增长8%，其中制造业用电增长9%；"
                        "进出口总额下降2%。")
    assert [(q.value, q.status) for q in qs] == [
        ("3", "expected"), ("8", "expected"), ("9", "expected"), ("2", "expected")]
    qs = draft(drafter, "2022年，预计全年港口营业收入41亿元；航空旅客吞吐量增长12%。")
    assert [q.status for q in qs] == ["expected", "expected"]
    # a later clause with its own status word keeps it
    qs = draft(drafter, "预计物流总额增长5%；快递业务量力争增长10%。")
    assert [(q.value, q.status) for q in qs] == [("5", "expected"), ("10", "target")]
    qs = draft(drafter, "预计物流总额增长5%；完成交通投资120亿元，为年度计划的104%。")
    assert [(q.value, q.status) for q in qs][1:] == [("120", "actual"), ("104", "actual")]
    # a 预计 inside the sentence, or 初步核算, does not cover the clauses after a ；
    qs = draft(drafter, "货运量增长4%，预计港口吞吐量增长6%；航空旅客吞吐量增长12%。")
    assert [q.status for q in qs] == ["actual", "expected", "actual"]
    qs = draft(drafter, "初步核算，港口营业收入41亿元；航空旅客吞吐量增长12%。")
    assert [q.status for q in qs] == ["actual", "actual"]


def test_a_stock_of_people_is_a_level(drafter):
    # phrases of our own: a stock of people is a level, its change from last year a difference,
    # a flow of people a count
    qs = draft(drafter, "年末全县户籍总人口52830人，比上年末减少412人，其中女性人口26015人；"
                        "全县常住人口为4.87万人，城镇人口2.31万人。")
    assert [(q.value, q.unit, q.kind) for q in qs] == [
        ("52830", "person", "level"), ("412", "person", "difference"),
        ("26015", "person", "level"), ("4.87", "wan-person", "level"),
        ("2.31", "wan-person", "level")]
    qs = draft(drafter, "全年出生人口3120人，城镇新增就业1.2万人，接待游客86万人次，乡村人口比上年增加90人。")
    assert [(q.value, q.kind) for q in qs] == [
        ("3120", "count"), ("1.2", "count"), ("86", "count"), ("90", "difference")]


def test_a_sector_ratio_gives_three_shares(drafter):
    # phrases of our own: 三次产业结构 written N:N:N (ASCII or full-width colons)
    for text in ("全县三次产业结构为12.5:38.1:49.4。", "三次产业增加值比例为12.5：38.1：49.4，结构持续优化。"):
        qs = draft(drafter, text)
        assert [(q.value, q.unit, q.kind, q.indicator, q.indicator_label) for q in qs] == [
            ("12.5", "percent", "share", "", "第一产业增加值比重"),
            ("38.1", "percent", "share", "", "第二产业增加值比重"),
            ("49.4", "percent", "share", "", "第三产业增加值比重")]
        assert [text[q.start:q.end] for q in qs] == ["12.5", "38.1", "49.4"]
    assert draft(drafter, "比分为3:2:1。") == []                   # not a sector ratio


def test_a_short_quoted_name_with_a_numeral_counts_its_parts(drafter):
    # phrases of our own: 两 (like 二, 三) with a measure word is a count; a quoted numeral with a
    # word or two abbreviates a list of that many things, even right before another quoted name
    qs = draft(drafter, "新建两个公园，改造两座桥梁，实施两项改革，打造两大平台。")
    assert [(q.value, q.unit, q.kind) for q in qs] == [
        ("2", "count", "count"), ("2", "station", "count"), ("2", "item", "count"),
        ("2", "count", "count")]
    qs = draft(drafter, "围绕“两强”“五大行动”等任务，落实\"四优\"政策。")
    assert [(q.value, q.name, q.kind, q.status, q.indicator_label) for q in qs] == [
        ("2", "两强", "count", "actual", "点名工程、行动所含项数"),
        ("5", "五大行动", "count", "actual", "点名工程、行动所含项数"),
        ("4", "四优", "count", "actual", "点名工程、行动所含项数")]
    assert qs[0].span[1] - qs[0].span[0] == 4                      # the quotes and the name
    # a place, 十字, two numerals or a bare name are parts of the name
    assert draft(drafter, "“两岸”新区建设提速，“十字街”人气旺，编制“十四五”规划，推进“三改一拆”。") == []


def test_an_amounts_gap_to_a_wider_area_is_a_difference(drafter):
    # phrases of our own
    qs = draft(drafter, "农民人均可支配收入2.6万元，比全省高0.3万元，比全国平均水平高出4100元。")
    assert [(q.value, q.kind) for q in qs] == [("2.6", "level"), ("0.3", "difference"),
                                               ("4100", "difference")]


def test_a_list_of_ranks_written_in_digits(drafter):
    # phrases of our own: 分别排全省第4、第2、第5位 gives a rank for each item
    qs = draft(drafter, "各季度工业增加值分别增长5%、6%、7%，分别排全省第4、第2、第5位。")
    assert [(q.value, q.kind) for q in qs if q.unit == "rank"] == [
        ("4", "rank"), ("2", "rank"), ("5", "rank")]
    qs = draft(drafter, "两项指标分别居全市第3、第1。")
    assert [(q.value, q.kind) for q in qs if q.unit == "rank"] == [("3", "rank"), ("1", "rank")]


# --- the conventions the curated data settles (docs/drafting.md "Annotation") ---------------------

def test_the_nth_of_a_kind_in_a_place_is_a_rank_and_its_description_is_not_a_quantity(drafter):
    # phrases of our own: a rank of a kind in a place's scope, in the measure word's unit; the
    # amount that says what is ranked is a threshold of the description
    qs = draft(drafter, "湖北成为中部第三个地区生产总值突破6万亿元的省份，浙江第二个千亿斤粮仓县落地。")
    assert [(q.value_text, q.value, q.unit, q.kind) for q in qs] == [
        ("二", "2", "count", "rank")]
    qs = draft(drafter, "河南成为全国第二个粮食产量超千亿斤的省份，是全国首个突破5万亿元的农业省份。")
    assert [(q.value_text, q.unit, q.kind) for q in qs] == [("二", "count", "rank"),
                                                            ("首", "count", "rank")]
    qs = draft(drafter, "本市入选全国第6家国家级数据中心，居全国首位，城市首位度继续提高。")
    assert [(q.value_text, q.unit, q.kind) for q in qs] == [("6", "enterprise", "rank"),
                                                            ("首", "rank", "rank")]
    # the amount of the year stays a quantity, and so does one after a clause break
    qs = draft(drafter, "全省首个综合保税区封关运行，进出口额突破3万亿元。")
    assert [(q.value_text, q.unit) for q in qs] == [("首", "count"), ("3", "wan-yi-yuan")]


def test_a_magnitude_without_a_unit_and_units_after_a_magnitude(drafter):
    # phrases of our own: a headline number without its unit is proposed in its magnitude as
    # written; a Chinese magnitude takes the unit written after it
    qs = draft(drafter, "5.2万亿！经济总量再上台阶")
    assert [(q.value, q.unit, q.kind) for q in qs] == [("5.2", "万亿", "level")]
    qs = draft(drafter, "5G基站2万个，AB3亿。")                 # 5G: a name; AB3亿: a code
    assert [(q.value, q.unit) for q in qs] == [("2", "wan-count")]
    qs = draft(drafter, "粮食总产量超百亿斤，实际利用外资超百亿美元，利用外资4321万美元。")
    assert [(q.value, q.unit, q.qualifier) for q in qs] == [
        ("100", "亿斤", "over"), ("100", "yi-usd", "over"), ("4321", "wan-usd", "exact")]
    qs = draft(drafter, "开通时速250公里的城际铁路。")
    assert [(q.value, q.unit, q.status) for q in qs] == [("250", "kilometre-per-hour", "design")]


# --- conventions of the genre found on the fifth blind set (tested on phrases of our own) --------

def test_dates_titles_and_headings_do_not_open_the_plan(drafter):
    # a title of the next year's report, a date line, a review heading after them, then the
    # plan's heading behind a bullet mark
    text = ("2024年某市人民政府工作报告\n\n——2024年1月20日在某市人民代表大会上\n\n"
            "2024年2月1日\n\n2023年工作回顾\n\n全市地区生产总值增长6.1%。\n\n"
            "■ 2024年经济社会发展的主要预期目标\n\n●地区生产总值增长5.5%左右")
    qs = drafter.draft(text)
    assert [(q.value, q.status, q.period) for q in qs] == [("6.1", "actual", "2023"),
                                                          ("5.5", "target", "2024")]


def test_expectations_compared_and_hoped_for(drafter):
    # 弱于预期 compares with expectations (not a 预计); 有望 is one
    qs = draft(drafter, "在外需弱于预期的情况下，全市出口增长4.2%，好于预期。")
    assert [q.status for q in qs] == ["actual"]
    qs = draft(drafter, "全年地区生产总值有望保持全省第2位。")
    assert [(q.value, q.status) for q in qs] == [("2", "expected")]


def test_a_value_followed_by_target_is_the_years_target(drafter):
    # the review quotes the year's targets: 增长9%以上目标 is a target of the reviewed year, and
    # its subject is the quantity's before it
    qs = draft(drafter, "全年固定资产投资增长11%，完成市人大批准增长9%以上目标；失业率3.1%，"
                        "完成控制在4%以内目标。")
    assert [(q.value, q.status, q.period) for q in qs] == [
        ("11", "actual", "2023"), ("9", "target", "2023"), ("3.1", "actual", "2023"),
        ("4", "target", "2023")]
    assert qs[1].indicator == qs[0].indicator != ""


def test_ratio_colons_negative_rates_and_units_as_written(drafter):
    qs = draft(drafter, "三次产业结构为9.2∶40.3∶50.5，人口自然增长率-1.05‰。")
    assert [(q.value, q.unit) for q in qs] == [("9.2", "percent"), ("40.3", "percent"),
                                               ("50.5", "percent"), ("-1.05", "per-mille")]
    qs = draft(drafter, "派出3批医疗队，捐赠200万只手套和4只救护艇，劳动生产率达到18万元/人，出台两组措施。")
    assert [(q.value, q.unit, q.kind) for q in qs] == [
        ("3", "批", "count"), ("200", "万只", "count"), ("4", "只", "count"),
        ("18", "万元/人", "level"), ("2", "组", "count")]


def test_two_differences_in_points_with_one_unit(drafter):
    qs = draft(drafter, "城镇化率分别高于全国、全省8.2、3.4个百分点。")
    assert [(q.value, q.unit, q.kind) for q in qs] == [
        ("8.2", "percentage-point", "difference"), ("3.4", "percentage-point", "difference")]


def test_a_measure_per_unit_of_gdp_is_not_gdp(drafter):
    for text in ("万元GDP能耗下降2.1%。", "单位地区生产总值能耗下降2.1%。", "万元地区生产总值水耗下降2.1%。",
                 "人均GDP达到9.8万元。"):
        assert draft(drafter, text)[0].indicator == "", text
    assert draft(drafter, "GDP增长2.1%。")[0].indicator == GDP
    assert draft(drafter, "经济增长5%左右。")[0].indicator == GDP        # the economy's growth
    assert draft(drafter, "数字经济增长5%。")[0].indicator == ""


def test_a_level_in_another_unit_is_not_the_scheme_indicator(drafter):
    # GDP is an amount of money (data/vocab/indicators/allowed-units.ttl): 5座 counts cities
    qs = draft(drafter, "地区生产总值千亿县增至5座。")
    assert [(q.value, q.unit, q.indicator) for q in qs] == [("5", "station", "")]


def test_urban_and_rural_lists(drafter):
    urban = "https://w3id.org/econplan/id/indicator/urban-disposable-income-per-capita"
    rural = "https://w3id.org/econplan/id/indicator/rural-disposable-income-per-capita"
    qs = draft(drafter, "城镇和农村居民人均可支配收入分别增长5.1%、7.2%。")
    assert [q.indicator for q in qs] == [urban, rural]
    qs = draft(drafter, "城乡居民人均可支配收入41000元、19000元，分别增长6.5%、8.1%。")
    assert [(q.value, q.indicator) for q in qs] == [("41000", urban), ("19000", rural),
                                                    ("6.5", urban), ("8.1", rural)]


def test_counts_before_quoted_plans_and_measures(drafter):
    qs = draft(drafter, "制定三个“专项方案”和两组“若干措施”。")
    assert [(q.value, q.indicator_label) for q in qs] == [("3", "点名工程、行动所含项数"),
                                                        ("2", "点名工程、行动所含项数")]


# --- conventions of the genre found on the sixth blind set (tested on phrases of our own) --------

def test_ranks_after_a_scope_and_in_the_world(drafter):
    qs = draft(drafter, "锡产量全球第一，税收增速全省第4，经济总量保持全国城市前45位。")
    assert [(q.value, q.unit, q.kind, q.qualifier) for q in qs] == [
        ("1", "rank", "rank", "exact"), ("4", "rank", "rank", "exact"),
        ("45", "rank", "rank", "at-most")]
    assert qs[2].indicator == GDP                          # 经济总量 is GDP
    # the amount in a longer description of an Nth of a kind is a threshold
    qs = draft(drafter, "成为全国第3个拥有10家以上上市公司的城市。")
    assert [(q.value, q.kind) for q in qs] == [("3", "rank")]


def test_ratios_multiples_and_magnitudes_of_written_units(drafter):
    qs = draft(drafter, "城乡居民收入比缩小至1.95，文化产业占比为5.5%。")
    assert [(q.value, q.unit, q.kind) for q in qs] == [("1.95", "ratio", "level"),
                                                      ("5.5", "percent", "share")]
    assert draft(drafter, "比上年增长5%。")[0].unit == "percent"
    qs = draft(drafter, "送电量超2万亿千瓦时，茶叶产值增长2倍，接待人数超300万。")
    assert [(q.value, q.unit, q.kind, q.qualifier) for q in qs] == [
        ("2", "万亿千瓦时", "level", "over"), ("2", "倍", "growth", "exact"),
        ("300", "万", "count", "over")]


def test_a_difference_to_the_plans_target_has_the_subject_before_it(drafter):
    qs = draft(drafter, "地区生产总值增长8.2%、高于计划目标0.7个百分点。")
    assert [(q.value, q.kind, q.indicator) for q in qs] == [("8.2", "growth", GDP),
                                                            ("0.7", "difference", GDP)]


def test_slogans_and_teams_in_quotes(drafter):
    # a slogan of several numbered parts is a name; 支 counts teams
    assert draft(drafter, "围绕“一个中心、两个基地”的目标。") == []
    qs = draft(drafter, "加强“四支队伍”建设。")
    assert [(q.value, q.unit, q.indicator_label) for q in qs] == [("4", "支", "点名工程、行动所含项数")]


def test_targets_announced_before_their_list(drafter):
    text = ("2023年全市生产总值增长6%。\n\n"
            "今后五年全市经济社会发展的主要目标是：建成现代化城市。"
            "全市生产总值年均增长7%左右，研发投入占比达3%。\n\n"
            "2023年新增就业5万人。")
    qs = drafter.draft(text)
    assert [(q.value, q.status, q.period) for q in qs] == [
        ("6", "actual", "2023"), ("7", "target", "2028"), ("3", "target", "2028"),
        ("5", "actual", "2023")]


def test_the_same_below_note_leaves_ranks_actual(drafter):
    # (预计数,下同) covers the figures after it; a rank said later is a fact about a list
    text = "全市生产总值增长5%(预计数,下同)；进出口增长3%。\n\n本市成为全国第2个获评城市。"
    qs = drafter.draft(text)
    assert [(q.value, q.status) for q in qs] == [("5", "expected"), ("3", "expected"),
                                                 ("2", "actual")]


def test_measure_words_the_vocabulary_lacks_count_things(drafter):
    # phrases of our own: classifiers of the genre proposed as written, with a magnitude too
    qs = draft(drafter, "新增病例12例，发生事故3起，交付船舶5艘，种植苗木200万株，发放贷款1.2万笔；"
                        "交付两艘渔船，出台三类政策。")
    assert [(q.value, q.unit, q.kind) for q in qs] == [
        ("12", "例", "count"), ("3", "起", "count"), ("5", "艘", "count"), ("200", "万株", "count"),
        ("1.2", "万笔", "count"), ("2", "艘", "count"), ("3", "类", "count")]
    assert draft(drafter, "三头六臂，两头兼顾。") == []


def test_hostile_text_stays_linear(drafter):
    # a number of 20,000 digits and a 'sentence' of 400 clauses without a full stop: read in
    # pieces (LONG_SENTENCE), each number whole; quadratic regexes took a minute on the first
    import time

    text = "1" * 20000 + "亿元，" + "2" * 20000 + "。"
    t = time.perf_counter()
    qs = drafter.draft(text)
    assert [(q.start, q.end, q.unit) for q in qs] == [(0, 20000, "yi-yuan")]
    text = "全市出口增长5.2%，" * 400 + "。"
    qs = drafter.draft(text)
    assert len(qs) == 400 and all(text[q.start:q.end] == "5.2" for q in qs)
    assert {q.sentence.id for q in qs} == {"p001-s01"}
    assert time.perf_counter() - t < 30


def test_county_level_names_are_not_places(drafter):
    # places are the country, provinces and prefectures: many county short names are ordinary
    # words (和平, 前进, 城关 …), and a county-level area is written with its city
    places = drafter.scheme.places
    assert {"中国", "广西", "广西壮族自治区", "玉林", "玉林市", "宁波"} <= places
    assert not {"丹寨", "丹寨县", "和平", "和平区", "西湖", "萧山", "慈溪"} & places
    assert draft(drafter, "坚持和平首个原则。") == []  # 和平 (沈阳, 天津 和平区) scopes nothing
