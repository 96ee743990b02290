"""A standard set as the rest of the code uses it: its indicators (each a resource per
student), the coefficient's thresholds, the per-school minimums, the assessments and the
veto items, with exact fractions for every figure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from bot.indicators.records import Level, Resource


class SetKind(enum.StrEnum):
    # Basic balance: the mean of the indicators' coefficients against one threshold.
    BASIC = "basic"
    # Quality balance: every coefficient against the threshold, and per-school minimums.
    QUALITY = "quality"


class CoefficientRule(enum.StrEnum):
    COMPOSITE = "composite"
    EACH = "each"


class VetoData(enum.StrEnum):
    """The data that decides a veto item; items without one are decided by the office."""

    SATISFACTION = "satisfaction"
    DISABLED_ENROLMENT = "disabled_enrolment"
    THREE_GROWTHS = "three_growths"
    CORE_STANDARDS = "core_standards"


@dataclass(frozen=True)
class Source:
    title: str
    document: str = ""
    issued: str = ""
    seed: str = ""
    url: str = ""
    notes: str = ""

    @property
    def citation(self) -> str:
        name = f"《{self.title}》"
        return f"{name}（{self.document}）" if self.document else name


@dataclass(frozen=True)
class IndicatorDef:
    """One indicator: `resource` per student, times `per` (100 for "每百名学生")."""

    id: str
    name: str
    resource: Resource
    per: int
    unit: str
    minimum: Mapping[Level, Fraction] = field(default_factory=dict)

    def value(self, amount: Fraction, students: int) -> Fraction:
        return amount * self.per / students

    def amount_for(self, value: Fraction, students: int) -> Fraction:
        """The resource a school of `students` needs for the indicator to reach `value`."""
        return value * students / self.per


@dataclass(frozen=True)
class CoefficientStandard:
    rule: CoefficientRule
    max: Mapping[Level, Fraction]
    display_decimals: int = 2


@dataclass(frozen=True)
class MinimumRule:
    """Each school meets at least `required_met` minimums and the rest at `floor` × minimum."""

    required_met: int
    floor: Fraction


@dataclass(frozen=True)
class SatisfactionStandard:
    min_rate: Fraction
    groups: tuple[str, ...] = ()
    weights: Mapping[str, Fraction] | None = None


@dataclass(frozen=True)
class AssessmentDef:
    id: str
    name: str
    pass_score: Fraction
    sheet: str | None = None


@dataclass(frozen=True)
class CoreStandards:
    items: int
    max_failed: int


@dataclass(frozen=True)
class VetoItem:
    id: str
    name: str
    decided_by: VetoData | None = None


@dataclass(frozen=True)
class StandardSet:
    id: str
    version: int
    title: str
    kind: SetKind
    source: Source
    levels: tuple[Level, ...]
    indicators: tuple[IndicatorDef, ...]
    coefficient: CoefficientStandard
    minimums: MinimumRule | None = None
    nine_year_split: Mapping[Level, Fraction] = field(default_factory=dict)
    satisfaction: SatisfactionStandard | None = None
    disabled_enrolment_min: Fraction | None = None
    assessments: tuple[AssessmentDef, ...] = ()
    core_standards: CoreStandards | None = None
    teaching_point_min_students: int | None = None
    vetoes: tuple[VetoItem, ...] = ()
    path: Path | None = None

    def indicator(self, indicator_id: str) -> IndicatorDef:
        for item in self.indicators:
            if item.id == indicator_id:
                return item
        raise KeyError(indicator_id)

    def threshold(self, level: Level) -> Fraction:
        return self.coefficient.max[level]
