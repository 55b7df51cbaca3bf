"""Numbers for people: the value as written, large amounts in readable units, qualifiers and
kinds in words (zh and en), and chart-axis units. Pure functions, no I/O.

The value as written is never rounded: ``5.0`` stays ``5.0``. A value shown in another unit is
the written digits with the decimal point moved (20059 亿元 = 2.0059 万亿元), never a rounded
float; where the unit's multiplier is not a power of ten (亩) no other unit is shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# -- words --------------------------------------------------------------------------------

# The qualifier slugs of data/README.md (the ontology's IRIs: ep:exact, ep:about-value, ...).
QUALIFIERS = {
    "exact": {"zh": "确数", "en": "exact"},
    "at-least": {"zh": "以上", "en": "at least"},
    "over": {"zh": "超", "en": "over"},
    "more-than": {"zh": "余", "en": "more than"},
    "about": {"zh": "约", "en": "about"},
    "nearly": {"zh": "近", "en": "nearly"},
    "at-most": {"zh": "以下", "en": "at most"},
}
# How a qualifier is written around a number: (before the number, between number and unit,
# after the unit) in Chinese; the English word goes before the number.
_QUALIFIER_ZH = {
    "exact": ("", "", ""), "about": ("约", "", ""), "over": ("超", "", ""), "nearly": ("近", "", ""),
    "at-least": ("", "", "以上"), "at-most": ("", "", "以下"), "more-than": ("", "余", ""),
}

KINDS = {
    "level": {"zh": "总量", "en": "level"},
    "growth": {"zh": "增速", "en": "growth rate"},
    "decline": {"zh": "降幅", "en": "rate of decline"},
    "share": {"zh": "占比", "en": "share"},
    "count": {"zh": "数量", "en": "count"},
    "ratio-to-plan": {"zh": "完成计划比例", "en": "ratio to plan"},
    "rank": {"zh": "位次", "en": "rank"},
    "difference": {"zh": "差值", "en": "difference"},
}

STATUSES = {
    "actual": {"zh": "实际", "en": "actual"},
    "target": {"zh": "目标", "en": "target"},
    "expected": {"zh": "预计", "en": "expected"},
    "design": {"zh": "设计值", "en": "design"},
}

PLAN_STATUSES = {
    "met": {"zh": "达到目标", "en": "met"},
    "unmet": {"zh": "未达目标", "en": "unmet"},
}

EP = "https://w3id.org/econplan/def#"


def slug(term) -> str:
    """``ep:about-value``, its full IRI, a pyoxigraph NamedNode or ``about`` -> ``about``."""
    s = getattr(term, "value", term) or ""
    s = str(s)
    if s.startswith(EP):
        s = s[len(EP):]
    elif s.startswith("ep:"):
        s = s[3:]
    return "about" if s == "about-value" else s


def _word(table: dict, term, lang: str) -> str:
    s = slug(term)
    entry = table.get(s)
    if entry is None:
        return s
    return entry["en" if lang == "en" else "zh"]


def qualifier_label(q, lang: str = "zh") -> str:
    """确数 / 约 / 超 … or exact / about / over …"""
    return _word(QUALIFIERS, q or "exact", lang)


def kind_label(kind, lang: str = "zh") -> str:
    return _word(KINDS, kind, lang)


def status_label(status, lang: str = "zh") -> str:
    return _word(STATUSES, status, lang)


def plan_status_label(status, lang: str = "zh") -> str:
    return _word(PLAN_STATUSES, status, lang)


# -- decimals as written --------------------------------------------------------------------

def parse(value) -> Decimal | None:
    """The written value as a Decimal that keeps its digits (``"5.0"`` -> ``Decimal("5.0")``)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("pass the value as written (a string), not a float")
    try:
        d = Decimal(str(getattr(value, "value", value)).strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def as_written(value, mention: str | None = None) -> str | None:
    """The value's digits as the report writes them. The store keeps ``ep:value`` as an
    xsd:decimal, which it may write canonically (``5.0`` comes back as ``5``); the fact's
    ``ep:mention`` holds the written digits, so the number in it equal to the value is returned.
    Without a mention (or none equal), the value's own lexical form."""
    raw = getattr(value, "value", value)
    if raw is None:
        return None
    raw = str(raw).strip()
    d = parse(raw)
    if mention and d is not None:
        for m in _NUMBER.finditer(str(getattr(mention, "value", mention))):
            if Decimal(m.group()) == d:
                return m.group()
    return raw


def plain(d: Decimal) -> str:
    """A Decimal in positional notation, keeping its digits (no exponent)."""
    s = format(d, "f")
    return "0" if s in ("-0", "") else s


def group_digits(text: str) -> str:
    """``20059`` -> ``20,059``; ``1234.50`` -> ``1,234.50``; other digits untouched."""
    sign = "-" if text.startswith("-") else ""
    body = text[1:] if sign else text
    whole, dot, frac = body.partition(".")
    if not whole.isdigit() or len(whole) <= 3:
        return text
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ",".join(groups) + (dot + frac if dot else "")


def shift(d: Decimal, powers_of_ten: int) -> Decimal:
    """``d`` times 10**n by moving the decimal point: exact, and the digits written after the
    decimal point are kept (4.70 stays 4.70); zeros that were whole digits (5000 万元 -> 50
    million) are not turned into decimals."""
    r = d.scaleb(powers_of_ten)
    if d.as_tuple().exponent >= 0 and r.as_tuple().exponent < 0:
        r = r.normalize()
    return r


def _power_of_ten(multiplier) -> int | None:
    m = parse(str(multiplier)) if multiplier is not None else None
    if m is None or m <= 0:
        return None
    m = m.normalize()
    sign, digits, exp = m.as_tuple()
    if digits == (1,):
        return exp
    return None


# -- units ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unit:
    """What the web layer reads from the store for a fact's unit (ep:symbol, ep:multiplier,
    ep:baseUnit, its English label)."""
    symbol: str
    multiplier: str = "1"
    base: str = ""
    label_en: str = ""


# Money: scale words per language, largest first: (power of ten, zh symbol, en words).
_MONEY_EN = {"CNY": "yuan", "USD": "US dollars"}
_MONEY_ZH = {"CNY": "元", "USD": "美元"}
_SCALES_ZH = [(12, "万亿"), (8, "亿"), (4, "万"), (0, "")]
_SCALES_EN = [(12, "trillion"), (9, "billion"), (6, "million"), (0, "")]

_PERCENT_BASES = {"ratio"}


def _scale_for(exp10: int, scales) -> tuple[int, str]:
    for p, word in scales:
        if exp10 >= p:
            return p, word
    return scales[-1]


def _magnitude(d: Decimal) -> int:
    """floor(log10(|d|)) for a non-zero d."""
    return d.adjusted()


@dataclass
class Readable:
    """A fact's number for a reader. ``text`` is what to show; ``written`` is the value and unit
    exactly as the report writes them; ``note`` (may be empty) repeats the written form where
    ``text`` is converted; ``qualifier``/``kind`` are the words in the language asked."""
    text: str
    written: str
    note: str
    qualifier: str
    kind: str
    value: str  # the value as written
    base_value: Decimal | None  # in the unit's base (CNY, persons …), for sorting and charts
    base: str
    lang: str

    def __str__(self) -> str:
        return f"{self.text} ({self.note})" if self.note else self.text


def _en_unit_words(unit: Unit, value_text: str, multiplied: bool = False) -> str:
    if unit.base in _PERCENT_BASES and unit.symbol == "%":
        return "%"
    if unit.symbol == "个百分点":
        return " percentage point" if value_text == "1" else " percentage points"
    label = unit.label_en or unit.symbol
    if multiplied:  # the number is already multiplied out: "ten thousand persons" -> "persons"
        for prefix in ("ten thousand ", "hundred million "):
            if label.startswith(prefix):
                label = label[len(prefix):]
    if label.startswith("count of "):
        label = label[len("count of "):]
    m = re.fullmatch(r"count \((.+)\)", label)
    if m:
        label = m.group(1)
    return " " + label


def readable(value, unit: Unit, *, qualifier=None, kind=None, lang: str = "zh",
             mention: str | None = None) -> Readable:
    """``value`` (as written, a string; None when the source lost it) in ``unit``, for ``lang``.

    zh: 20059 亿元 -> ``2.0059万亿元`` (note ``20059亿元``); 4.72 万亿元 -> ``4.72万亿元``.
    en: 20059 亿元 -> ``2.0059 trillion yuan`` (note ``20,059 亿元``); 5.0 % -> ``5.0%``;
    0.4 个百分点 -> ``0.4 percentage points``. Qualifiers are put in words (约 / about …).
    Pass the fact's ``mention`` so that the digits are those written (5.0, not the store's 5).
    """
    if value is not None and mention is not None:
        value = as_written(value, mention)
    lang = "en" if lang == "en" else "zh"
    q = slug(qualifier or "exact")
    qword = qualifier_label(q, lang)
    kword = kind_label(kind, lang) if kind else ""
    d = parse(value)
    if d is None:
        lost = "(数值缺失)" if lang == "zh" else "(number lost in the source)"
        return Readable(lost, "", "", qword, kword, "", None, unit.base, lang)
    written_value = str(getattr(value, "value", value)).strip()
    written = f"{written_value}{unit.symbol}"
    p10 = _power_of_ten(unit.multiplier)
    base_value = None
    if p10 is not None:
        base_value = shift(d, p10)
    elif parse(unit.multiplier) is not None:
        base_value = d * parse(unit.multiplier)

    number, unit_text, note = written_value, unit.symbol, ""
    if unit.base in _MONEY_EN and p10 is not None and d != 0:
        mag = _magnitude(base_value)
        if lang == "zh":
            p, word = _scale_for(mag, _SCALES_ZH)
            p = max(p, 0)
            if p != p10 and p >= 8:  # only ever to 亿 or 万亿; small amounts stay as written
                number, unit_text = plain(shift(d, p10 - p)), word + _MONEY_ZH[unit.base]
                note = written
        else:
            p, word = _scale_for(mag, _SCALES_EN)
            number = plain(shift(d, p10 - p)) if p else group_digits(plain(base_value))
            unit_text = f" {word} {_MONEY_EN[unit.base]}" if word else f" {_MONEY_EN[unit.base]}"
            if p10 != 0:
                note = f"{group_digits(written_value)} {unit.symbol}"
    elif (unit.base == "rank" and unit.symbol == "位") or slug(kind or "") == "rank":
        # an ordinal: 第3位, 全国第8家 (a rank counted in 家 is no count of enterprises): No. 3
        symbol = unit.symbol or "位"
        if lang == "zh":
            return Readable(f"第{written_value}{symbol}", written, note, qword, kword, written_value, None, unit.base, lang)
        return Readable(f"No. {written_value}", written, note, qword, kword, written_value, None, unit.base, lang)
    elif lang == "en":
        if unit.symbol in ("%", "个百分点") or unit.base in _PERCENT_BASES:
            unit_text = _en_unit_words(unit, written_value)
        elif p10 in (4, 8) and base_value is not None:  # 万人, 万家, 亿条: multiplied out
            number = group_digits(plain(base_value))
            unit_text = _en_unit_words(unit, number, multiplied=True)
            note = f"{group_digits(written_value)} {unit.symbol}"
        else:
            number = group_digits(written_value)
            unit_text = _en_unit_words(unit, number)
    text = _qualified(number, unit_text, q, lang)
    return Readable(text, written, note, qword, kword, written_value, base_value, unit.base, lang)


def readable_words(words: str, value, unit: Unit, *, qualifier=None, kind=None, lang: str = "zh") -> Readable:
    """A value the report writes in words (百, 十, 首, 三分之一; ``ep:valueInWords``) with its
    number ``value``: the words in Chinese (十个, note 10个), the number in English
    ("10 items", note 十个)."""
    fraction = "分之" in words  # 三分之一: the unit's symbol is inside the words
    if fraction:  # "1 third", not "1 thirds (a fraction: …)"
        label = re.sub(r"\s*\(.*\)$", "", unit.label_en or "")
        if str(getattr(value, "value", value)).strip() == "1" and label.endswith("s"):
            label = label[:-1]
        unit = Unit(symbol=unit.symbol, multiplier=unit.multiplier, base=unit.base, label_en=label)
    number = readable(value, unit, qualifier=qualifier, kind=kind, lang=lang)
    as_words = words if fraction else f"{words}{unit.symbol}"
    if lang == "en":
        number.note = as_words
    else:
        number.text, number.note = (_qualified(as_words, "", slug(qualifier or "exact"), "zh"),
                                    "" if fraction else number.text)
    number.written, number.value = as_words, words
    return number


def _qualified(number: str, unit_text: str, q: str, lang: str) -> str:
    if lang == "zh":
        before, mid, after = _QUALIFIER_ZH.get(q, ("", "", ""))
        return f"{before}{number}{mid}{unit_text}{after}"
    word = QUALIFIERS.get(q, {}).get("en", "")
    lead = "" if q == "exact" or not word else word + " "
    return f"{lead}{number}{unit_text}"


# -- chart axes -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AxisScale:
    """Divide base values by ``divisor`` and title the axis ``title``."""
    divisor: Decimal
    title: str

    def tick(self, base_value, lang: str = "zh") -> str:
        return format_tick(base_value, self, lang)


def axis_scale(base_values, base: str, lang: str = "zh", symbol: str = "") -> AxisScale:
    """A readable unit for an axis holding ``base_values`` (in the base unit, e.g. CNY):
    4.72e12 yuan -> 万亿元 / trillion yuan; percentages keep %."""
    lang = "en" if lang == "en" else "zh"
    vals = [abs(parse(str(v)) if not isinstance(v, Decimal) else v) for v in base_values if v is not None]
    vals = [v for v in vals if v]
    top = max(vals) if vals else Decimal(0)
    if base in _MONEY_EN:
        if not top:
            return AxisScale(Decimal(1), _MONEY_ZH[base] if lang == "zh" else _MONEY_EN[base])
        if lang == "zh":
            p, word = _scale_for(top.adjusted(), _SCALES_ZH)
            return AxisScale(Decimal(10) ** p, word + _MONEY_ZH[base])
        p, word = _scale_for(top.adjusted(), _SCALES_EN)
        return AxisScale(Decimal(10) ** p, (word + " " if word else "") + _MONEY_EN[base])
    if base in _PERCENT_BASES:
        return AxisScale(Decimal("0.01"), symbol or "%")
    if top and top.adjusted() >= 8:
        return AxisScale(Decimal(10) ** 8, ("亿" if lang == "zh" else "hundred million ") + (symbol or base))
    if top and top.adjusted() >= 4 and lang == "zh":
        return AxisScale(Decimal(10) ** 4, "万" + (symbol or base))
    return AxisScale(Decimal(1), symbol or base)


def format_tick(base_value, scale: AxisScale, lang: str = "zh") -> str:
    """A tick label: the value in the scale's unit, with at most 4 significant decimals and
    thousands separators in English (ticks are positions on an axis, not facts)."""
    d = parse(str(base_value)) if not isinstance(base_value, Decimal) else base_value
    v = (d / scale.divisor).quantize(Decimal("0.0001")).normalize()
    s = plain(v)
    return group_digits(s) if lang == "en" else s


# -- reading units from the store ---------------------------------------------------------------

UNITS_QUERY = """
PREFIX ep:   <https://w3id.org/econplan/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?unit ?symbol ?multiplier ?base (SAMPLE(?en) AS ?labelEn) WHERE {
  ?unit a ep:Unit ; ep:symbol ?symbol .
  OPTIONAL { ?unit ep:multiplier ?multiplier }
  OPTIONAL { ?unit ep:baseUnit ?base }
  OPTIONAL { ?unit skos:prefLabel|rdfs:label ?en FILTER(LANG(?en) = "en") }
} GROUP BY ?unit ?symbol ?multiplier ?base
"""


def units(kg) -> dict[str, Unit]:
    """Every ep:Unit of ``kg`` (anything with ``select(sparql)``) by IRI."""
    out = {}
    for r in kg.select(UNITS_QUERY):
        out[r["unit"].value] = Unit(
            symbol=r["symbol"].value,
            multiplier=r["multiplier"].value if "multiplier" in r else "1",
            base=r["base"].value if "base" in r else "",
            label_en=r["labelEn"].value if "labelEn" in r else "")
    return out
