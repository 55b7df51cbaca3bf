"""The report's text: raw scraped page -> cleaned text -> passages -> number mentions.

The source is a copy of the report scraped onto a gambling spam site.  Cleaning
is a small, explicit list of removals (documented in SPAM_LINES and
SPAM_TOKENS) and nothing else: no number, character or punctuation of the
report is changed.  The cleaned text is committed in ``data/source/`` and a
test re-runs :func:`clean` to show that it reproduces the file byte for byte.

Offsets everywhere are Python ``str`` indices, i.e. Unicode code points, which
is what Web Annotation's ``oa:start``/``oa:end`` count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: Whole lines that belong to the spam site, not to the report.
SPAM_LINES = (
    re.compile(r"^b33体育·\(中国\)官方网站$"),          # site header
    re.compile(r"^行业资讯 分类$"),                      # site breadcrumb
    re.compile(r"^Copyright © .*b33体育.*$"),            # site footer
    re.compile(r"^浙ICP备\d+号$"),                       # the spam site's ICP licence
)

#: Tokens injected inside the report's sentences; longest first.
SPAM_TOKENS = ("B33体育app下载", "B33体育")

#: Sentence terminators used for splitting paragraphs into sentences.
_SENTENCE_END = "。！？"


def clean(raw: str) -> str:
    """Remove the spam site's header, footer and injected tokens.

    Paragraphs are the non-blank lines of the page with their indentation
    stripped, joined by one blank line; the text ends with a newline.
    """
    paragraphs = []
    for line in raw.splitlines():
        line = line.strip()
        if not line or any(p.match(line) for p in SPAM_LINES):
            continue
        for token in SPAM_TOKENS:
            line = line.replace(token, "")
        paragraphs.append(line)
    return "\n\n".join(paragraphs) + "\n"


@dataclass(frozen=True)
class Passage:
    """A paragraph (``p012``) or a sentence within it (``p012-s03``)."""

    id: str
    start: int
    end: int
    text: str
    paragraph: str  # the id of the paragraph (itself, for a paragraph)

    @property
    def is_sentence(self) -> bool:
        return self.id != self.paragraph


def _sentences(par: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, ch in enumerate(par):
        if ch in _SENTENCE_END:
            spans.append((start, i + 1))
            start = i + 1
    if start < len(par):
        spans.append((start, len(par)))
    return spans


def passages(text: str) -> list[Passage]:
    """Split cleaned text into paragraphs and sentences with stable ids and offsets.

    Ids are positional (``p001`` is the first paragraph), which is stable
    because the cleaned text is committed and checked byte for byte.
    """
    out: list[Passage] = []
    pos = 0
    for n, par in enumerate(text.split("\n\n"), start=1):
        par_text = par.rstrip("\n")
        pid = f"p{n:03d}"
        out.append(Passage(pid, pos, pos + len(par_text), par_text, pid))
        for k, (a, b) in enumerate(_sentences(par_text), start=1):
            out.append(Passage(f"{pid}-s{k:02d}", pos + a, pos + b, par_text[a:b], pid))
        pos += len(par) + 2
    return out


# --- number-with-unit mentions ------------------------------------------------

#: Units as written in the report, longest first so that 万平方米 wins over 万.
UNIT_WORDS = sorted(
    """亿元 万亿元 亿美元 万元 元 % 个百分点 万人次 人次 万人 万名 名 人 万户 户 万家 家次 家
    万平方米 平方米 平方公里 公里 万亩 亩 万个 个 项 条 亿条 万条 座 套 万套 所 张 台 万台 辆 万辆 宗
    处 万处 场 万场 万份 份 万幢 幢 种 次 万余次 万余场 万余户 余处 年 届 批 强 位 倍 GWh MWp P 多个 余个 万余
    语种 岁 万亿 米 周年""".split(),
    key=len,
    reverse=True,
)
_NUMBER = r"\d+(?:\.\d+)?"
MENTION_RE = re.compile(f"({_NUMBER})({'|'.join(re.escape(u) for u in UNIT_WORDS)})")


@dataclass(frozen=True)
class Mention:
    start: int  # offset of the number
    end: int    # offset after the unit
    number: str
    unit: str


#: A calendar year such as 2023年 or 2022年度 is a date, not a quantity.
_YEAR_RE = re.compile(r"(?:19|20)\d\d年")


def mentions(text: str) -> list[Mention]:
    """Every number immediately followed by a unit word, in text order.

    Calendar years (``2023年``) are dates, not quantities, and are skipped.
    """
    return [
        Mention(m.start(1), m.end(2), m.group(1), m.group(2))
        for m in MENTION_RE.finditer(text)
        if not _YEAR_RE.fullmatch(m.group(0)[:5])
    ]
