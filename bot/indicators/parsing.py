"""Reading what people type: what-if changes and figure corrections.

    /whatif 石门镇中心小学 教学及辅助用房 +300 计算机 +20
    /whatif 白云乡九年一贯制学校 初中部 专任教师 +3；青岚县实验小学 图书 +2000册
    /school 图书 12000            /school 初中部 专任教师 26       /school 生均图书册数 30

A school is named in full; a nine-year school may be followed by its part (小学部/初中部).
Then name–number pairs: a figure's Chinese or English name (or an indicator's name, whose
number is then a value per student, or per hundred students for 每百名… indicators),
an optional sign (+ or 增加, − or 减少; none means "add" for a what-if), the number (1,200
and full-width digits are read), and an optional unit that must fit the figure
(万元 counts as 10,000 元). Spaces do not matter. Errors name the part that was not
understood and, for a misspelt school, the nearest names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rapidfuzz import process

from bot.core.errors import InvalidInput
from bot.indicators.names import LEVEL_WORDS, UNIT_WORDS, Term, Vocabulary, fold
from bot.indicators.records import Level, Resource

_SEPARATORS = ",，;；、/|"
_PLUS = ("增加", "新增", "加", "+")
_MINUS = ("减少", "减", "-", "−", "–")
# ASCII digits only (docs/safety.md): full-width ones are folded to ASCII before this, and
# other scripts' digits (٣, ३) are not numbers here.
_NUMBER = re.compile(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?|\.[0-9]+")
_UNITS = sorted(UNIT_WORDS, key=len, reverse=True)
_LEVELS = sorted(LEVEL_WORDS, key=len, reverse=True)
MAX_CHANGES = 20


@dataclass(frozen=True)
class SchoolName:
    unit_id: int
    name: str
    levels: tuple[Level, ...]  # one level, or both for a nine-year school


@dataclass(frozen=True)
class Requested:
    """One figure of one school, to add to (what-if) or to set (correction)."""

    unit_id: int
    school: str
    level: Level | None  # None: the school's only level, or a nine-year school as a whole
    resource: Resource
    amount: Decimal  # in the resource's unit; a value per student when `indicator` is set
    indicator: str | None = None


@dataclass(frozen=True)
class _Pair:
    term: Term
    sign: int  # +1, −1, or 0 when none was written
    amount: Decimal


class _Reader:
    def __init__(self, text: str, vocabulary: Vocabulary, schools: Sequence[SchoolName]) -> None:
        self.text = fold(text)
        self.pos = 0
        self.vocabulary = vocabulary
        self.schools = {fold(s.name): s for s in schools}
        self._school_names = sorted(self.schools, key=len, reverse=True)

    @property
    def done(self) -> bool:
        return self.pos >= len(self.text)

    def rest(self) -> str:
        return self.text[self.pos:]

    def skip_separators(self) -> bool:
        start = self.pos
        while not self.done and self.text[self.pos] in _SEPARATORS:
            self.pos += 1
        return self.pos > start

    def take(self, words: Sequence[str]) -> str | None:
        for word in words:
            if self.rest().startswith(word):
                self.pos += len(word)
                return word
        return None

    def school(self) -> SchoolName | None:
        word = self.take(self._school_names)
        return None if word is None else self.schools[word]

    def level(self) -> Level | None:
        word = self.take(_LEVELS)
        return None if word is None else LEVEL_WORDS[word]

    def fragment(self) -> str:
        """The not-understood text up to the next number, sign or separator."""
        match = re.match(r"[^0-9+\-−–,，;；、/|.]+", self.rest())
        return match.group(0) if match else self.rest()[:12]

    def pair(self) -> _Pair | None:
        found = self.vocabulary.match(self.rest())
        if found is None:
            return None
        term, length = found
        name = self.rest()[:length]
        self.pos += length
        sign = 0
        if self.take(_PLUS) is not None:
            sign = 1
        elif self.take(_MINUS) is not None:
            sign = -1
        match = _NUMBER.match(self.rest())
        if match is None:
            raise InvalidInput("indicators.parse.no_number", name=name)
        self.pos += match.end()
        try:
            amount = Decimal(match.group(0).replace(",", ""))
        except InvalidOperation:
            raise InvalidInput("indicators.parse.bad_number", text=match.group(0)) from None
        unit = self.take(_UNITS)
        if unit is not None:
            expected = term.resource.unit if term.indicator_id is None else None
            canonical, factor = UNIT_WORDS[unit]
            if expected is not None and canonical != expected:
                # The text was folded (m² became m2): name the unit as it is written.
                shown = canonical if fold(canonical) == unit else unit
                raise InvalidInput("indicators.parse.bad_unit", unit=shown, name=name,
                                   expected=expected)
            amount *= factor
        return _Pair(term, sign, amount)


def _suggest(fragment: str, schools: Sequence[SchoolName]) -> str:
    names = [s.name for s in schools]
    close = process.extract(fragment, names, limit=3, score_cutoff=50)
    return "、".join(name for name, _, _ in close)


def _read(text: str, vocabulary: Vocabulary, schools: Sequence[SchoolName],
          default_school: SchoolName | None) -> list[tuple[SchoolName, Level | None, _Pair]]:
    reader = _Reader(text, vocabulary, schools)
    if reader.done:
        raise InvalidInput("indicators.parse.empty")
    found: list[tuple[SchoolName, Level | None, _Pair]] = []
    school, level = default_school, None
    pending: SchoolName | None = None  # named, no figure after it yet
    while True:
        reader.skip_separators()
        if reader.done:
            break
        named = reader.school()
        if named is not None:
            if pending is not None:
                raise InvalidInput("indicators.parse.no_change", school=pending.name)
            school, pending = named, named
            level = reader.level()
            if level is not None and level not in named.levels:
                raise InvalidInput("indicators.parse.no_such_part", school=named.name,
                                   level=level.zh)
            continue
        part = reader.level()
        if part is not None:
            if school is None:
                raise InvalidInput("indicators.parse.no_school", name=part.zh)
            if part not in school.levels:
                raise InvalidInput("indicators.parse.no_such_part", school=school.name,
                                   level=part.zh)
            level = part
            continue
        start = reader.pos
        pair = reader.pair()
        if pair is None:
            fragment = reader.fragment()
            hint = _suggest(fragment, schools)
            key = "indicators.parse.unknown_name_hint" if hint else "indicators.parse.unknown_name"
            raise InvalidInput(key, text=fragment, hint=hint)
        if school is None:
            raise InvalidInput("indicators.parse.no_school", name=reader.text[start:reader.pos])
        pending = None
        found.append((school, level, pair))
        if len(found) > MAX_CHANGES:
            raise InvalidInput("indicators.parse.too_many", limit=MAX_CHANGES)
    if pending is not None:
        raise InvalidInput("indicators.parse.no_change", school=pending.name)
    if not found:
        raise InvalidInput("indicators.parse.empty")
    return found


def _check_level(school: SchoolName, level: Level | None, term: Term) -> Level | None:
    """The level a figure goes to; a nine-year school's own figures need one."""
    if len(school.levels) == 1:
        return school.levels[0]
    if level is None and (not term.resource.shared or term.indicator_id is not None):
        raise InvalidInput("indicators.parse.level_needed", school=school.name,
                           name=term.resource.name)
    return level


def parse_changes(text: str, vocabulary: Vocabulary, schools: Sequence[SchoolName]
                  ) -> list[Requested]:
    """What-if changes: each amount is added (negative: taken away)."""
    result = []
    for school, level, pair in _read(text, vocabulary, schools, None):
        amount = -pair.amount if pair.sign < 0 else pair.amount
        if amount == 0:
            raise InvalidInput("indicators.parse.zero", name=pair.term.resource.name)
        result.append(Requested(school.unit_id, school.name, _check_level(school, level, pair.term),
                                pair.term.resource, amount, pair.term.indicator_id))
    return result


def parse_corrections(text: str, vocabulary: Vocabulary, schools: Sequence[SchoolName],
                      default_school: SchoolName | None) -> list[Requested]:
    """Corrections: each amount is the new figure (no sign, never negative)."""
    result = []
    for school, level, pair in _read(text, vocabulary, schools, default_school):
        if pair.sign < 0:
            raise InvalidInput("indicators.parse.negative", name=pair.term.resource.name)
        result.append(Requested(school.unit_id, school.name, _check_level(school, level, pair.term),
                                pair.term.resource, pair.amount, pair.term.indicator_id))
    return result
