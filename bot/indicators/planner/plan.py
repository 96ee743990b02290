"""What the planner answers: improvements, each level's plan and the county's, and the
options a plan is made with.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from bot.indicators.records import Level, Resource
from bot.indicators.standards import IndicatorDef, StandardSet
from bot.indicators.whatif import Change, WhatIf

DEFAULT_NODE_LIMIT = 10_000


class TargetKind(enum.StrEnum):
    MINIMUM = "minimum"
    FLOOR = "floor"
    COUNTY_VALUE = "county_value"


@dataclass(frozen=True)
class Improvement:
    school_id: str
    name: str
    level: Level
    indicator: IndicatorDef
    target: TargetKind
    target_value: Fraction
    value_before: Fraction
    value_after: Fraction
    quantity: Fraction  # resource to add, in the resource's unit
    cost: Fraction

    @property
    def resource(self) -> Resource:
        return self.indicator.resource

    @property
    def change(self) -> Change:
        return Change(self.school_id, self.resource.id, self.quantity, self.level)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.school_id, self.indicator.id, self.target.value)


class Outcome(enum.StrEnum):
    ALREADY_MET = "already_met"
    PLANNED = "planned"
    UNREACHABLE = "unreachable"  # no set of improvements meets the standard
    INCOMPLETE_DATA = "incomplete_data"  # a figure is missing; nothing can be judged


@dataclass(frozen=True)
class LevelPlan:
    level: Level
    outcome: Outcome
    improvements: tuple[Improvement, ...]  # most critical first
    count_proven: bool  # no plan with fewer improvements exists
    cost_proven: bool  # no plan with as many improvements adds less
    nodes: int

    @property
    def proven(self) -> bool:
        return self.count_proven and self.cost_proven

    @property
    def count(self) -> int:
        return len(self.improvements)

    @property
    def total_cost(self) -> Fraction:
        return sum((i.cost for i in self.improvements), Fraction(0))


@dataclass(frozen=True)
class Plan:
    standard: StandardSet
    levels: tuple[LevelPlan, ...]
    effect: WhatIf
    priced: bool

    @property
    def improvements(self) -> tuple[Improvement, ...]:
        return tuple(i for lp in self.levels for i in lp.improvements)

    @property
    def count(self) -> int:
        return sum(lp.count for lp in self.levels)

    @property
    def total_cost(self) -> Fraction:
        return sum((lp.total_cost for lp in self.levels), Fraction(0))

    @property
    def reachable(self) -> bool:
        return all(lp.outcome in (Outcome.PLANNED, Outcome.ALREADY_MET) for lp in self.levels)

    @property
    def proven(self) -> bool:
        return all(lp.proven for lp in self.levels)


@dataclass(frozen=True)
class Candidate:
    """One possible improvement, as the planner sees it (also used by tests)."""

    school_id: str
    level: Level
    indicator_id: str
    target: TargetKind
    target_value: Fraction
    quantity: Fraction
    cost: Fraction


@dataclass(frozen=True)
class PlanOptions:
    # Resource id → price per unit; without prices an addition counts as its share of the
    # county's stock of that resource.
    prices: Mapping[str, Fraction] | None = None
    node_limit: int = DEFAULT_NODE_LIMIT
    levels: tuple[Level, ...] | None = None
