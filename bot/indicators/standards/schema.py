"""The shape of a standard-set file, checked field by field as it is parsed (pydantic).

What the file's fields must satisfy together (thresholds for every level, resources that
exist, a quality set's minimums) is checked by `bot.indicators.standards.loading`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from bot.indicators.records import Level
from bot.indicators.standards.files import FileModel, Ident, Positive, Rate, SourceModel, Text
from bot.indicators.standards.sets import CoefficientRule, SetKind, VetoData


class ResourceModel(FileModel):
    id: Ident
    name: Text
    unit: Text
    step: Positive = Decimal(1)
    shared: bool = True


class IndicatorModel(FileModel):
    id: Ident
    name: Text
    resource: Ident
    per: Annotated[int, Field(gt=0)] = 1
    unit: Text
    minimum: dict[Level, Positive] | None = None


class CoefficientModel(FileModel):
    rule: CoefficientRule
    max: dict[Level, Positive]
    display_decimals: Annotated[int, Field(ge=0, le=6)] = 2


class MinimumsModel(FileModel):
    required_met: Annotated[int, Field(gt=0)]
    floor: Rate


class SatisfactionModel(FileModel):
    min_rate: Rate
    groups: list[Ident] = Field(default_factory=list)
    weights: dict[Ident, Positive] | None = None


class RateModel(FileModel):
    min_rate: Rate


class AssessmentModel(FileModel):
    id: Ident
    name: Text
    pass_score: Positive
    sheet: Ident | None = None


class CoreStandardsModel(FileModel):
    items: Annotated[int, Field(gt=0)]
    max_failed: Annotated[int, Field(ge=0)]


class VetoModel(FileModel):
    id: Ident
    name: Text
    decided_by: VetoData | None = None


class ScopeModel(FileModel):
    # Leave teaching points (教学点) with fewer students out of every figure.
    teaching_point_min_students: Annotated[int, Field(ge=0)] | None = None


class StandardSetModel(FileModel):
    id: Ident
    version: Annotated[int, Field(gt=0)]
    title: Text
    kind: SetKind
    source: SourceModel
    levels: Annotated[list[Level], Field(min_length=1)]
    resources: list[ResourceModel] = Field(default_factory=list)
    indicators: Annotated[list[IndicatorModel], Field(min_length=1)]
    coefficient: CoefficientModel
    school_minimums: MinimumsModel | None = None
    nine_year_split: dict[Level, Positive] | None = None
    satisfaction: SatisfactionModel | None = None
    disabled_enrolment: RateModel | None = None
    assessments: list[AssessmentModel] = Field(default_factory=list)
    core_standards: CoreStandardsModel | None = None
    scope: ScopeModel = ScopeModel()
    vetoes: list[VetoModel] = Field(default_factory=list)
