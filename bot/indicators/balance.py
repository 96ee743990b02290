"""The figures inspectors compute from school records: each indicator per school, the
差异系数 per indicator and level, the 综合差异系数, and each school against the minimums.

The coefficient, as offices compute it for one indicator and level:
    x̄         = Σ resource × per / Σ students                    (the county value)
    差异情况ᵢ  = (studentsᵢ / Σ students) × (valueᵢ − x̄)²
    CV         = √(Σ 差异情况) / x̄
Everything up to the root is an exact fraction; roots are kept as exact squares for
comparisons and rounded half up only for display.

Edge cases (docs/indicators.md): a record with no students, a record missing the figure
and a teaching point below the set's size are left out of the coefficient and listed;
one school, or schools all alike, give CV 0; x̄ = 0 (nothing of that resource anywhere)
leaves the coefficient undefined, and so unknown rather than met.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from bot.core.errors import InvalidInput
from bot.indicators.numbers import (
    round_half_up,
    sqrt_decimal,
    sqrt_round_half_up,
    to_decimal,
)
from bot.indicators.records import Level, SchoolRecord
from bot.indicators.standards import IndicatorDef, MinimumRule, SetKind, StandardSet
from bot.indicators.status import State


class Exclusion(enum.StrEnum):
    NO_STUDENTS = "no_students"
    MISSING_FIGURE = "missing_figure"
    SMALL_TEACHING_POINT = "small_teaching_point"


class Undefined(enum.StrEnum):
    NO_SCHOOLS = "no_schools"
    MEAN_ZERO = "mean_zero"


@dataclass(frozen=True)
class Excluded:
    school_id: str
    name: str
    reason: Exclusion
    resource: str | None = None


@dataclass(frozen=True)
class SchoolShare:
    """One school's part in one coefficient."""

    school_id: str
    name: str
    students: int
    amount: Fraction
    value: Fraction
    deviation: Fraction  # 差异情况
    share: Fraction  # of Σ 差异情况; 0 when the sum is 0
    above_mean: bool


@dataclass(frozen=True)
class Dispersion:
    """The 差异系数 of one indicator over one level's schools."""

    indicator: IndicatorDef
    level: Level
    students: int
    total: Fraction
    mean: Fraction | None
    sum_deviation: Fraction
    cv_squared: Fraction | None
    schools: tuple[SchoolShare, ...]  # largest 差异情况 first
    excluded: tuple[Excluded, ...] = ()
    undefined: Undefined | None = None

    @property
    def complete(self) -> bool:
        return not any(e.reason is Exclusion.MISSING_FIGURE for e in self.excluded)

    @property
    def cv(self) -> Decimal | None:
        return None if self.cv_squared is None else sqrt_decimal(self.cv_squared)

    def cv_display(self, places: int) -> Decimal | None:
        return None if self.cv_squared is None else sqrt_round_half_up(self.cv_squared, places)

    def state(self, threshold: Fraction) -> State:
        """CV ≤ threshold, decided on exact squares; unknown when undefined or incomplete."""
        if self.cv_squared is None or not self.complete:
            return State.UNKNOWN
        return State.MET if self.cv_squared <= threshold * threshold else State.NOT_MET


@dataclass(frozen=True)
class LevelBalance:
    level: Level
    dispersions: tuple[Dispersion, ...]  # in the set's indicator order

    def dispersion(self, indicator_id: str) -> Dispersion:
        for d in self.dispersions:
            if d.indicator.id == indicator_id:
                return d
        raise KeyError(indicator_id)

    @property
    def composite(self) -> Decimal | None:
        """综合差异系数: the mean of the coefficients; None if any is undefined."""
        values = [d.cv for d in self.dispersions]
        if not values or any(v is None for v in values):
            return None
        return sum((v for v in values if v is not None), Decimal(0)) / len(values)

    @property
    def complete(self) -> bool:
        return all(d.complete for d in self.dispersions)

    def composite_state(self, threshold: Fraction) -> State:
        composite = self.composite
        if composite is None or not self.complete:
            return State.UNKNOWN
        return State.MET if composite <= to_decimal(threshold) else State.NOT_MET


@dataclass(frozen=True)
class MinimumCheck:
    """One school's value against one indicator's minimum."""

    indicator: IndicatorDef
    value: Fraction | None  # None: the figure is missing
    minimum: Fraction
    floor: Fraction  # the share of the minimum the rest must reach (85 %)
    students: int

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value >= self.minimum

    @property
    def above_floor(self) -> bool | None:
        return None if self.value is None else self.value >= self.floor * self.minimum

    @property
    def shortfall(self) -> Fraction:
        """How far below the minimum, in the indicator's unit (0 when met)."""
        return Fraction(0) if self.value is None else max(Fraction(0), self.minimum - self.value)

    @property
    def shortfall_share(self) -> Fraction:
        """The shortfall as a share of the minimum (0.12 = 12 % below)."""
        return self.shortfall / self.minimum

    @property
    def resource_needed(self) -> Fraction:
        """Resource to add for the minimum (unrounded)."""
        return self.indicator.amount_for(self.shortfall, self.students)

    def shortfall_percent(self, places: int = 1) -> Decimal:
        return round_half_up(self.shortfall_share * 100, places)


@dataclass(frozen=True)
class SchoolCompliance:
    """A school against the set's per-school rule (≥ 6 of 7 minimums, the rest ≥ 85 %)."""

    record: SchoolRecord
    checks: tuple[MinimumCheck, ...]
    rule: MinimumRule

    @property
    def met_count(self) -> int:
        return sum(1 for c in self.checks if c.met)

    @property
    def unmet(self) -> tuple[MinimumCheck, ...]:
        return tuple(c for c in self.checks if c.met is False)

    @property
    def below_floor(self) -> tuple[MinimumCheck, ...]:
        return tuple(c for c in self.checks if c.above_floor is False)

    @property
    def state(self) -> State:
        allowed = len(self.checks) - self.rule.required_met
        unknown = sum(1 for c in self.checks if c.value is None)
        if self.below_floor or len(self.unmet) > allowed:
            return State.NOT_MET
        if unknown:
            return State.UNKNOWN
        return State.MET


@dataclass(frozen=True)
class CountyBalance:
    standard: StandardSet
    year: int
    levels: tuple[LevelBalance, ...]
    schools: tuple[SchoolCompliance, ...]  # quality sets only
    excluded: tuple[tuple[Level, Excluded], ...]  # left out of every figure

    def level(self, level: Level) -> LevelBalance:
        for lb in self.levels:
            if lb.level is level:
                return lb
        raise KeyError(level)

    @property
    def failing_schools(self) -> tuple[SchoolCompliance, ...]:
        return tuple(s for s in self.schools if s.state is State.NOT_MET)


# Computation -----------------------------------------------------------------------------
def indicator_value(indicator: IndicatorDef, record: SchoolRecord) -> Fraction | None:
    """The record's value, or None without students or without the figure."""
    amount = record.amount(indicator.resource.id)
    if amount is None or record.students == 0:
        return None
    return indicator.value(amount, record.students)


def in_scope(standard: StandardSet, record: SchoolRecord) -> Exclusion | None:
    """Why the record is left out of every figure, or None if it counts."""
    if record.students == 0:
        return Exclusion.NO_STUDENTS
    limit = standard.teaching_point_min_students
    if record.teaching_point and limit is not None and record.students < limit:
        return Exclusion.SMALL_TEACHING_POINT
    return None


def dispersion(indicator: IndicatorDef, records: Sequence[SchoolRecord], level: Level,
               excluded: Sequence[Excluded] = ()) -> Dispersion:
    """The coefficient of `indicator` over `records` (all of `level`, all counting)."""
    left_out = list(excluded)
    rows: list[tuple[SchoolRecord, Fraction]] = []
    for record in records:
        amount = record.amount(indicator.resource.id)
        if amount is None:
            left_out.append(Excluded(record.school_id, record.name, Exclusion.MISSING_FIGURE,
                                     indicator.resource.id))
        else:
            rows.append((record, amount))
    students = sum(r.students for r, _ in rows)
    total = sum((a for _, a in rows), Fraction(0))
    if students == 0:
        return Dispersion(indicator, level, 0, total, None, Fraction(0), None, (),
                          tuple(left_out), Undefined.NO_SCHOOLS)
    # Integer arithmetic, one fraction per school: with amounts aᵢ·D whole, nᵢ students,
    # N = Σ nᵢ and A = Σ aᵢ·D, school i's 差异情况 is per²·(aᵢD·N − A·nᵢ)² / (nᵢ·N³·D²).
    scale = math.lcm(*(a.denominator for _, a in rows))
    whole = [int(a * scale) for _, a in rows]
    grand = sum(whole)
    common = math.lcm(*(r.students for r, _ in rows))
    weights = [(w * students - grand * r.students) ** 2 * (common // r.students)
               for (r, _), w in zip(rows, whole, strict=True)]
    spread = sum(weights)
    per = indicator.per
    mean = Fraction(grand * per, students * scale)
    sum_dev = Fraction(per * per * spread, common * students ** 3 * scale * scale)
    order = sorted(range(len(rows)), key=lambda n: (-weights[n], rows[n][0].school_id))
    shares = tuple(
        SchoolShare(rows[n][0].school_id, rows[n][0].name, rows[n][0].students, rows[n][1],
                    Fraction(whole[n] * per, rows[n][0].students * scale),
                    Fraction(per * per * weights[n], common * students ** 3 * scale * scale),
                    Fraction(weights[n], spread) if spread else Fraction(0),
                    whole[n] * students > grand * rows[n][0].students)
        for n in order)
    if grand == 0:
        return Dispersion(indicator, level, students, total, mean, sum_dev, None, shares,
                          tuple(left_out), Undefined.MEAN_ZERO)
    return Dispersion(indicator, level, students, total, mean, sum_dev,
                      Fraction(spread, common * students * grand * grand), shares, tuple(left_out))


def _check_records(records: Sequence[SchoolRecord]) -> int:
    years = {r.year for r in records}
    if len(years) > 1:
        raise InvalidInput("indicators.records.mixed_years", years=", ".join(map(str, sorted(years))))
    seen: set[tuple[str, Level]] = set()
    for r in records:
        if r.key in seen:
            raise InvalidInput("indicators.records.duplicate", school=r.name, level=r.level.zh)
        seen.add(r.key)
    return years.pop() if years else 0


def split_scope(standard: StandardSet, records: Iterable[SchoolRecord], level: Level
                ) -> tuple[list[SchoolRecord], list[Excluded]]:
    counted: list[SchoolRecord] = []
    excluded: list[Excluded] = []
    for record in records:
        if record.level is not level:
            continue
        reason = in_scope(standard, record)
        if reason is None:
            counted.append(record)
        else:
            excluded.append(Excluded(record.school_id, record.name, reason))
    return counted, excluded


def level_balance(standard: StandardSet, records: Sequence[SchoolRecord], level: Level
                  ) -> LevelBalance:
    counted, excluded = split_scope(standard, records, level)
    return LevelBalance(level, tuple(dispersion(i, counted, level, excluded)
                                     for i in standard.indicators))


def school_compliance(standard: StandardSet, record: SchoolRecord) -> SchoolCompliance:
    rule = standard.minimums
    if rule is None:
        raise InvalidInput("indicators.standard.no_minimums", standard=standard.id)
    return SchoolCompliance(record, tuple(
        MinimumCheck(i, indicator_value(i, record), i.minimum[record.level], rule.floor,
                     record.students)
        for i in standard.indicators
    ), rule)


def county_balance(standard: StandardSet, records: Sequence[SchoolRecord]) -> CountyBalance:
    """Every coefficient of the set and, for quality sets, every school's compliance.

    `records` are one county's records for one school year.
    """
    year = _check_records(records)
    levels = []
    schools: list[SchoolCompliance] = []
    excluded: list[tuple[Level, Excluded]] = []
    for level in standard.levels:
        counted, left_out = split_scope(standard, records, level)
        excluded.extend((level, e) for e in left_out)
        levels.append(LevelBalance(level, tuple(dispersion(i, counted, level, left_out)
                                                for i in standard.indicators)))
        if standard.kind is SetKind.QUALITY:
            schools.extend(school_compliance(standard, r) for r in counted)
    return CountyBalance(standard, year, tuple(levels), tuple(schools), tuple(excluded))
