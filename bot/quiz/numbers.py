"""Numbers in spoken answers (pure functions).

Staff say 八十五分以上, 百分之八十五, 85%, 0.85 or 零点六五以下; an inspector hears a value, a
unit and a direction. Chinese numerals are written as digits first, then every quantity is
read with the words around it that bound it (不超过, 以上, 未达到 …), so two quantities can
be compared for what they claim rather than for how they are written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_NUMERAL_RUN = re.compile(r"[零〇一二三四五六七八九十百]+(?:点[零〇一二三四五六七八九]+)?")
_PERCENT = re.compile(r"百分之([零〇一二三四五六七八九十百点]+|\d+(?:\.\d+)?)")
# 两 and a lone 一 are numbers only before a measure word (两年, 一年); otherwise they are
# words (两基, 两通过, 一把手, 一票否决).
_MEASURES = "年个项次所名种条倍周天月人类级岁"
_TWO = re.compile(f"两(?=[{_MEASURES}])")
_ONE = re.compile(f"(?<![零〇一二三四五六七八九十百点])一(?=[{_MEASURES}])")

# Longest first, so 周岁 wins over 岁 and 平方米 over 米.
_UNITS = ("个百分点", "平方米", "周岁", "%", "分(?![别钟管配析工数散期])", "岁", "元", "项", "个",
          "年", "种", "条", "倍", "米", "人", "所", "名", "次", "天", "台", "册", "间", "类")
_UNIT_ALIASES = {"岁": "周岁", "个百分点": "%"}
_NUMBER = r"\d+(?:\.\d+)?"
_UNIT = "(?:" + "|".join(_UNITS) + ")"
_RANGE_JOIN = r"(?:至|到|~|-|—|－)"
_QUANTITY = re.compile(
    rf"(?P<low>{_NUMBER})(?:(?P<lowunit>{_UNIT}))?"
    rf"(?:{_RANGE_JOIN}(?P<high>{_NUMBER}))?(?P<unit>{_UNIT})?"
)
GE, LE = ">=", "<="
# Words that bound a value, before it (不超过0.65) or after it (85%以上). 不到/未达到 mean
# "below"; strictness (超过 vs 不低于) is not something staff are drilled on.
_BEFORE = (
    ("不低于", GE), ("不少于", GE), ("不小于", GE), ("至少", GE), ("最少", GE), ("达到", GE),
    ("超过", GE), ("高于", GE), ("大于", GE), ("多于", GE), ("≥", GE), (">", GE),
    ("不高于", LE), ("不超过", LE), ("不多于", LE), ("不大于", LE), ("最多", LE), ("至多", LE),
    ("低于", LE), ("少于", LE), ("小于", LE), ("不到", LE), ("不足", LE), ("未达到", LE),
    ("没有达到", LE), ("没达到", LE), ("达不到", LE), ("未到", LE), ("≤", LE), ("<", LE),
)
_AFTER = (("及以上", GE), ("以上", GE), ("之上", GE), ("及以下", LE), ("以下", LE),
          ("以内", LE), ("之内", LE), ("之下", LE))
# A bound word may stand this many characters before the number (达到了85%, 不超过为0.65).
_BEFORE_GAP = 2
# Numbers joined by these share the first one's bound: 分别不超过0.65和0.55.
_JOINERS = frozenset("和与及或、 ")


def _integer(run: str) -> int:
    if "十" not in run and "百" not in run:
        return int("".join(str(_DIGITS[c]) for c in run))
    total = current = 0
    for char in run:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _DIGITS[char]
    return total + current


def _numeral(run: str) -> str:
    whole, _, fraction = run.partition("点")
    value = str(_integer(whole)) if whole else "0"
    if fraction:
        value += "." + "".join(str(_DIGITS[c]) for c in fraction)
    return value


def numerals_to_digits(text: str) -> str:
    """百分之八十五 → 85%, 零点六五 → 0.65, 十五周岁 → 15周岁; a lone 一 stays a word."""

    def percent(match: re.Match[str]) -> str:
        number = match.group(1)
        return (number if number[0].isdigit() else _numeral(number)) + "%"

    def convert(match: re.Match[str]) -> str:
        run = match.group(0)
        # A lone 一 is nearly always a word (一把手, 统一), not the number one.
        return run if run == "一" else _numeral(run)

    # Percentages first: the 百 of 百分之 is not a hundred.
    text = _PERCENT.sub(percent, _ONE.sub("1", _TWO.sub("二", text)))
    return _NUMERAL_RUN.sub(convert, text)


@dataclass(frozen=True)
class Quantity:
    """A value (or range) with its unit and bound, at `start:end` of the text it came from."""

    low: float
    high: float
    unit: str
    direction: str
    start: int
    end: int

    @property
    def is_range(self) -> bool:
        return self.low != self.high


def _unit(raw: str | None) -> str:
    if not raw:
        return ""
    return _UNIT_ALIASES.get(raw, raw)


def _enumerator(text: str, start: int, end: int) -> bool:
    """2是 / 第3 / a small whole number opening a sentence (1. 加强宣传) mark a list item."""
    after = text[end:end + 1]
    before = text[start - 1:start] if start else ""
    if after == "是" or before == "第":
        return True
    number = text[start:end]
    return (number.isdigit() and int(number) <= 20 and before in ("", "|", "‖")
            and after in ("|", "‖"))


def _bound_before(text: str, start: int) -> tuple[str, int]:
    """The bound word just before a number and where it starts (("", start) if none)."""
    window_start = max(0, start - _BEFORE_GAP - 4)
    window = text[window_start:start]
    best: tuple[int, int] = (-1, 0)
    direction, begins = "", start
    for word, bound in _BEFORE:
        at = window.rfind(word)
        if at < 0:
            continue
        word_end = at + len(word)
        # The nearest word wins; at the same end the longer one (不超过 over 超过).
        if len(window) - word_end <= _BEFORE_GAP and (word_end, len(word)) > best:
            best = (word_end, len(word))
            direction, begins = bound, window_start + at
    return direction, begins


def quantities(text: str) -> list[Quantity]:
    """Every quantity of already digit-converted text, in order of appearance."""
    found: list[Quantity] = []
    previous: Quantity | None = None
    for match in _QUANTITY.finditer(text):
        start, end = match.span()
        if _enumerator(text, start, end):
            continue
        low = float(match.group("low"))
        high = float(match.group("high")) if match.group("high") else low
        unit = _unit(match.group("unit") or match.group("lowunit"))
        direction, start = _bound_before(text, start)
        for word, bound in _AFTER:
            if text.startswith(word, end):
                direction = direction or bound
                end += len(word)
                break
        if (not direction and previous is not None and previous.direction
                and 0 < match.start() - previous.end <= 2
                and set(text[previous.end:match.start()]) <= _JOINERS):
            direction = previous.direction
            unit = unit or previous.unit
        quantity = Quantity(low, high, unit, direction, start, end)
        found.append(quantity)
        previous = quantity
    return found


def _equal(a: float, a_unit: str, b: float, b_unit: str) -> bool:
    if abs(a - b) < 1e-9:
        return True
    # 85% and 0.85 say the same thing; 85% and 85 too (the unit left unsaid).
    if a_unit == "%" and b_unit != "%":
        return abs(a / 100 - b) < 1e-9
    if b_unit == "%" and a_unit != "%":
        return abs(b / 100 - a) < 1e-9
    return False


def comparable(a: Quantity, b: Quantity) -> bool:
    """Could the two be values of the same thing (same unit, or a unit left unsaid)?"""
    if a.unit == b.unit:
        return True
    loose = {"", "%"}
    return a.unit in loose and b.unit in loose


def same_amount(key: Quantity, said: Quantity) -> bool:
    if not comparable(key, said) or key.is_range != said.is_range:
        return False
    return (_equal(key.low, key.unit, said.low, said.unit)
            and _equal(key.high, key.unit, said.high, said.unit))


def same_bound(key: Quantity, said: Quantity) -> bool:
    """A value said without a bound agrees with any; 85%以下 does not agree with 85%以上."""
    return not key.direction or not said.direction or key.direction == said.direction
