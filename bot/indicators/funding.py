"""The "三个增长" from yearly budget figures, and the disabled-children enrolment rate.

A year meets the three growths when, against the year before,
  1. 教育财政拨款 grew faster than 财政经常性收入,
  2. 生均教育事业费 grew, and
  3. 生均公用经费 grew
("grew" means strictly more). Seed 004 makes missing them in two of the last three years a
veto, so judging three years takes four years of figures; a year whose figures or whose
previous year's figures are missing is unknown, and the veto is decided as soon as the
known years settle it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from bot.core.errors import InvalidInput
from bot.indicators.numbers import Number, exact
from bot.indicators.status import State, worst


class Growth(enum.StrEnum):
    APPROPRIATION = "appropriation"  # 教育财政拨款增长高于财政经常性收入增长
    PER_STUDENT_EXPENSE = "per_student_expense"  # 生均教育事业费逐步增长
    PER_STUDENT_PUBLIC_FUNDS = "per_student_public_funds"  # 生均公用经费逐步增长


@dataclass(frozen=True)
class BudgetYear:
    """One year's figures (元); None where the office does not have the figure yet."""

    year: int
    appropriation: Fraction | None = None
    recurrent_revenue: Fraction | None = None
    per_student_expense: Fraction | None = None
    per_student_public_funds: Fraction | None = None

    @classmethod
    def of(cls, year: int, appropriation: Number | None = None,
           recurrent_revenue: Number | None = None, per_student_expense: Number | None = None,
           per_student_public_funds: Number | None = None) -> BudgetYear:
        def conv(value: Number | None) -> Fraction | None:
            return None if value is None else exact(value)

        return cls(year, conv(appropriation), conv(recurrent_revenue), conv(per_student_expense),
                   conv(per_student_public_funds))


@dataclass(frozen=True)
class GrowthCheck:
    growth: Growth
    state: State
    rate: Fraction | None = None  # this figure's growth over the year before
    compared_with: Fraction | None = None  # the revenue growth it must beat (growth 1 only)


@dataclass(frozen=True)
class YearGrowth:
    year: int
    checks: tuple[GrowthCheck, ...]

    @property
    def state(self) -> State:
        return worst(c.state for c in self.checks)


@dataclass(frozen=True)
class ThreeGrowths:
    years: tuple[YearGrowth, ...]  # the judged years, oldest first
    max_failed: int

    @property
    def failed_years(self) -> tuple[int, ...]:
        return tuple(y.year for y in self.years if y.state is State.NOT_MET)

    @property
    def state(self) -> State:
        """Met while at most `max_failed` years failed, whatever the unknown years hold."""
        if not self.years:
            return State.UNKNOWN
        failed = len(self.failed_years)
        unknown = sum(1 for y in self.years if y.state is State.UNKNOWN)
        if failed > self.max_failed:
            return State.NOT_MET
        if failed + unknown <= self.max_failed:
            return State.MET
        return State.UNKNOWN


def _growth(now: Fraction | None, before: Fraction | None) -> Fraction | None:
    if now is None or before is None or before <= 0:
        return None
    return now / before - 1


def _rises(growth: Growth, now: Fraction | None, before: Fraction | None) -> GrowthCheck:
    rate = _growth(now, before)
    if rate is None:
        return GrowthCheck(growth, State.UNKNOWN)
    return GrowthCheck(growth, State.MET if rate > 0 else State.NOT_MET, rate)


def year_growth(now: BudgetYear, before: BudgetYear | None) -> YearGrowth:
    prev = before or BudgetYear(now.year - 1)
    appropriation = _growth(now.appropriation, prev.appropriation)
    revenue = _growth(now.recurrent_revenue, prev.recurrent_revenue)
    if appropriation is None or revenue is None:
        first = GrowthCheck(Growth.APPROPRIATION, State.UNKNOWN, appropriation, revenue)
    else:
        first = GrowthCheck(Growth.APPROPRIATION,
                            State.MET if appropriation > revenue else State.NOT_MET,
                            appropriation, revenue)
    return YearGrowth(now.year, (
        first,
        _rises(Growth.PER_STUDENT_EXPENSE, now.per_student_expense, prev.per_student_expense),
        _rises(Growth.PER_STUDENT_PUBLIC_FUNDS, now.per_student_public_funds,
               prev.per_student_public_funds),
    ))


def three_growths(budgets: Sequence[BudgetYear], *, last_year: int | None = None,
                  window: int = 3, max_failed: int = 1) -> ThreeGrowths:
    """The growths of the `window` years up to `last_year` (default: the latest given)."""
    by_year: dict[int, BudgetYear] = {}
    for b in budgets:
        if b.year in by_year:
            raise InvalidInput("indicators.budget.duplicate_year", year=b.year)
        by_year[b.year] = b
    if last_year is None:
        if not by_year:
            return ThreeGrowths((), max_failed)
        last_year = max(by_year)
    years = []
    for year in range(last_year - window + 1, last_year + 1):
        current = by_year.get(year, BudgetYear(year))
        years.append(year_growth(current, by_year.get(year - 1)))
    return ThreeGrowths(tuple(years), max_failed)


@dataclass(frozen=True)
class DisabledEnrolment:
    """三类残疾儿童少年: how many of school age, how many of them are in school."""

    enrolled: int
    population: int

    def __post_init__(self) -> None:
        if self.population < 0 or not 0 <= self.enrolled <= self.population:
            raise InvalidInput("indicators.disabled.bad_counts", enrolled=self.enrolled,
                               population=self.population)

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.enrolled, self.population) if self.population else None

    def state(self, min_rate: Fraction) -> State:
        rate = self.rate
        if rate is None:
            return State.UNKNOWN
        return State.MET if rate >= min_rate else State.NOT_MET
