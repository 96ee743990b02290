"""What-if: apply planned changes to the records and compare every figure before → after.

"石门镇中心小学 adds 300 m² of teaching space and 20 computers" is two Changes for one
school; a nine-year school needs the level to say which part gets them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from bot.core.errors import InvalidInput, NotFound
from bot.indicators.balance import CountyBalance, county_balance
from bot.indicators.numbers import Number, exact
from bot.indicators.records import Level, SchoolRecord
from bot.indicators.standards import IndicatorDef, SetKind, StandardSet
from bot.indicators.status import State

STUDENTS = "students"


@dataclass(frozen=True)
class Change:
    """Add `delta` (negative to remove) of a resource, or of enrolment (`students`)."""

    school_id: str
    resource: str
    delta: Fraction
    level: Level | None = None

    @classmethod
    def of(cls, school_id: str, resource: str, delta: Number, level: Level | None = None) -> Change:
        return cls(school_id, resource, exact(delta), level)


def _target(records: Sequence[SchoolRecord], change: Change) -> int:
    matches = [n for n, r in enumerate(records) if r.school_id == change.school_id
               and (change.level is None or r.level is change.level)]
    if not matches:
        raise NotFound("indicators.whatif.unknown_school", school=change.school_id)
    if len(matches) > 1:
        raise InvalidInput("indicators.whatif.which_level", school=records[matches[0]].name)
    return matches[0]


def apply_changes(records: Sequence[SchoolRecord], changes: Sequence[Change]) -> list[SchoolRecord]:
    """New records with the changes applied; the input is left as it was."""
    result = list(records)
    for change in changes:
        index = _target(result, change)
        record = result[index]
        if change.resource == STUDENTS:
            if change.delta.denominator != 1 or record.students + change.delta < 0:
                raise InvalidInput("indicators.whatif.bad_students", school=record.name,
                                   delta=str(change.delta))
            result[index] = replace(record, students=record.students + int(change.delta))
            continue
        before = record.amount(change.resource)
        if before is None:
            raise InvalidInput("indicators.whatif.missing_figure", school=record.name,
                               resource=change.resource)
        after = before + change.delta
        if after < 0:
            raise InvalidInput("indicators.whatif.negative", school=record.name,
                               resource=change.resource, amount=str(after))
        result[index] = replace(record, resources={**record.resources, change.resource: after})
    return result


@dataclass(frozen=True)
class CoefficientDelta:
    """One coefficient before and after; `indicator` None is the composite. The states are
    None for a coefficient the set does not judge on its own (one indicator of a basic set)."""

    level: Level
    indicator: IndicatorDef | None
    before: Decimal | None
    after: Decimal | None
    state_before: State | None
    state_after: State | None

    @property
    def difference(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True)
class WhatIf:
    before: CountyBalance
    after: CountyBalance
    coefficients: tuple[CoefficientDelta, ...]

    @property
    def schools_changed(self) -> tuple[tuple[str, Level, State, State], ...]:
        """Schools whose standing against the minimums changed: (id, level, before, after)."""
        old = {(s.record.school_id, s.record.level): s.state for s in self.before.schools}
        return tuple((s.record.school_id, s.record.level, old[(s.record.school_id, s.record.level)],
                      s.state)
                     for s in self.after.schools
                     if (s.record.school_id, s.record.level) in old
                     and old[(s.record.school_id, s.record.level)] is not s.state)


def compare(standard: StandardSet, before: CountyBalance, after: CountyBalance) -> WhatIf:
    deltas: list[CoefficientDelta] = []
    for old, new in zip(before.levels, after.levels, strict=True):
        threshold = standard.threshold(old.level)
        if standard.kind is SetKind.BASIC:
            deltas.append(CoefficientDelta(old.level, None, old.composite, new.composite,
                                           old.composite_state(threshold),
                                           new.composite_state(threshold)))
        judged = standard.kind is SetKind.QUALITY
        for d_old, d_new in zip(old.dispersions, new.dispersions, strict=True):
            deltas.append(CoefficientDelta(
                old.level, d_old.indicator, d_old.cv, d_new.cv,
                d_old.state(threshold) if judged else None,
                d_new.state(threshold) if judged else None))
    return WhatIf(before, after, tuple(deltas))


def what_if(standard: StandardSet, records: Sequence[SchoolRecord],
            changes: Sequence[Change]) -> WhatIf:
    """Every coefficient (and school standing) before and after `changes`."""
    return compare(standard, county_balance(standard, records),
                   county_balance(standard, apply_changes(records, changes)))
