"""The cleaning step and the passages: spam out, nothing else changed, offsets exact."""
from __future__ import annotations

import re

from server.kg.source import SPAM_TOKENS, clean, mentions, passages


def test_cleaner_reproduces_committed_text_byte_for_byte(root):
    raw = (root / "data/source/report-raw.txt").read_text(encoding="utf-8")
    committed = (root / "data/source/report-clean.txt").read_bytes()
    assert clean(raw).encode("utf-8") == committed


def test_raw_copy_is_the_shared_source_unchanged(root):
    shared = root.parent / "shared/source/000_518a845f9904276b.txt"
    if shared.exists():
        assert (root / "data/source/report-raw.txt").read_bytes() == shared.read_bytes()


def test_cleaned_text_has_no_spam(root):
    text = (root / "data/source/report-clean.txt").read_text(encoding="utf-8")
    for spam in ("B33", "b33", "体育·(中国)官方网站", "行业资讯 分类", "Copyright", "ICP备"):
        assert spam not in text


def test_cleaning_removes_only_spam(root):
    """Deleting the spam tokens and lines from the raw page leaves exactly the cleaned characters."""
    raw = (root / "data/source/report-raw.txt").read_text(encoding="utf-8")
    text = clean(raw)
    body = raw
    for token in SPAM_TOKENS:
        body = body.replace(token, "")
    body = "\n".join(line for line in body.splitlines()
                     if not re.match(r"^(b33体育·|行业资讯 分类|Copyright ©|浙ICP备)", line.strip()))
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    assert squash(body) == squash(text)


def test_clean_handles_injected_tokens_inside_sentences():
    raw = "b33体育·(中国)官方网站\n\n行业资讯 分类\n  甲B33体育app下载乙B33体育丙。\n\nCopyright © 2012-2023 b33体育·(中国)官方网站 版权所有\n浙ICP备1号\n"
    assert clean(raw) == "甲乙丙。\n"


def test_passage_offsets_slice_the_text(root):
    text = (root / "data/source/report-clean.txt").read_text(encoding="utf-8")
    ps = passages(text)
    assert len([p for p in ps if not p.is_sentence]) == 84
    for p in ps:
        assert text[p.start:p.end] == p.text
    ids = [p.id for p in ps]
    assert len(ids) == len(set(ids))


def test_mentions_skip_calendar_years():
    found = [(m.number, m.unit) for m in mentions("2023年全市生产总值20059亿元,增长5.6%,连续17年")]
    assert found == [("20059", "亿元"), ("5.6", "%"), ("17", "年")]
