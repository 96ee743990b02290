"""Standard sets as data: which indicators, how each is defined, the thresholds and the
veto items, read from a versioned YAML file that names its source.

The national sets ship in `standards/`; a province's own set is a file of the same shape.
Loading checks everything at once and reports every problem with the file and the key it
is about, so a file is fixed in one pass.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.errors import InvalidInput
from bot.indicators.records import BUILTIN_RESOURCES, Level, Resource

BUILTIN_STANDARDS = Path(__file__).resolve().parent


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


# Errors ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileProblem:
    key: str
    problem: str


class StandardFileError(InvalidInput):
    """A standard-set or scoring-sheet file that cannot be used, with every problem found."""

    def __init__(self, path: Path | str, problems: Sequence[FileProblem]) -> None:
        self.file = Path(path).name
        self.problems = tuple(problems)
        super().__init__("indicators.standard.invalid", file=self.file,
                         problems="; ".join(f"{p.key}: {p.problem}" for p in self.problems))

    def __str__(self) -> str:
        return f"{self.file}: " + "; ".join(f"{p.key}: {p.problem}" for p in self.problems)


class _DecimalLoader(yaml.SafeLoader):
    """Reads 0.65 as Decimal("0.65"), never as the float 0.65000000000000002."""


def _decimal(loader: _DecimalLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(str(loader.construct_scalar(node)).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's top-level mapping, or StandardFileError naming what went wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StandardFileError(path, [FileProblem("(file)", f"cannot be read: {exc.strerror}")]) from None
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path | str = "(memory)") -> dict[str, Any]:
    """A file's text as its top-level mapping, numbers as exact decimals."""
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise StandardFileError(path, [FileProblem(where, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise StandardFileError(path, [FileProblem("(file)", "the top level must be a mapping")])
    return data


def problems_of(exc: ValidationError) -> list[FileProblem]:
    found = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(file)"
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "missing"
        else:
            message = error["msg"]
        found.append(FileProblem(key, message))
    return found


# The file's shape ------------------------------------------------------------------------
Ident = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Positive = Annotated[Decimal, Field(gt=0)]
Rate = Annotated[Decimal, Field(gt=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceModel(_Model):
    title: Text
    document: str = ""
    issued: str = ""
    seed: str = ""
    url: str = ""
    notes: str = ""


class ResourceModel(_Model):
    id: Ident
    name: Text
    unit: Text
    step: Positive = Decimal(1)
    shared: bool = True


class IndicatorModel(_Model):
    id: Ident
    name: Text
    resource: Ident
    per: Annotated[int, Field(gt=0)] = 1
    unit: Text
    minimum: dict[Level, Positive] | None = None


class CoefficientModel(_Model):
    rule: CoefficientRule
    max: dict[Level, Positive]
    display_decimals: Annotated[int, Field(ge=0, le=6)] = 2


class MinimumsModel(_Model):
    required_met: Annotated[int, Field(gt=0)]
    floor: Rate


class SatisfactionModel(_Model):
    min_rate: Rate
    groups: list[Ident] = []
    weights: dict[Ident, Positive] | None = None


class RateModel(_Model):
    min_rate: Rate


class AssessmentModel(_Model):
    id: Ident
    name: Text
    pass_score: Positive
    sheet: Ident | None = None


class CoreStandardsModel(_Model):
    items: Annotated[int, Field(gt=0)]
    max_failed: Annotated[int, Field(ge=0)]


class VetoModel(_Model):
    id: Ident
    name: Text
    decided_by: VetoData | None = None


class ScopeModel(_Model):
    # Leave teaching points (教学点) with fewer students out of every figure.
    teaching_point_min_students: Annotated[int, Field(ge=0)] | None = None


class StandardSetModel(_Model):
    id: Ident
    version: Annotated[int, Field(gt=0)]
    title: Text
    kind: SetKind
    source: SourceModel
    levels: Annotated[list[Level], Field(min_length=1)]
    resources: list[ResourceModel] = []
    indicators: Annotated[list[IndicatorModel], Field(min_length=1)]
    coefficient: CoefficientModel
    school_minimums: MinimumsModel | None = None
    nine_year_split: dict[Level, Positive] | None = None
    satisfaction: SatisfactionModel | None = None
    disabled_enrolment: RateModel | None = None
    assessments: list[AssessmentModel] = []
    core_standards: CoreStandardsModel | None = None
    scope: ScopeModel = ScopeModel()
    vetoes: list[VetoModel] = []


# What the rest of the code uses ----------------------------------------------------------
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


def _duplicates(ids: Sequence[str]) -> list[int]:
    seen: set[str] = set()
    repeated = []
    for index, value in enumerate(ids):
        if value in seen:
            repeated.append(index)
        seen.add(value)
    return repeated


def _check(model: StandardSetModel, resources: Mapping[str, Resource]) -> list[FileProblem]:
    problems: list[FileProblem] = []
    add = problems.append
    for index in _duplicates(model.levels):
        add(FileProblem(f"levels.{index}", "level listed twice"))
    for index in _duplicates([i.id for i in model.indicators]):
        add(FileProblem(f"indicators.{index}.id", "id used twice"))
    for index in _duplicates([v.id for v in model.vetoes]):
        add(FileProblem(f"vetoes.{index}.id", "id used twice"))
    for index in _duplicates([a.id for a in model.assessments]):
        add(FileProblem(f"assessments.{index}.id", "id used twice"))
    for index in _duplicates([r.id for r in model.resources]):
        add(FileProblem(f"resources.{index}.id", "id used twice"))
    for level in model.levels:
        if level not in model.coefficient.max:
            add(FileProblem(f"coefficient.max.{level}", f"missing threshold for {level}"))
    for index, indicator in enumerate(model.indicators):
        if indicator.resource not in resources:
            add(FileProblem(f"indicators.{index}.resource",
                            f"unknown resource {indicator.resource!r}; declare it under resources"))
        if model.kind is SetKind.QUALITY:
            for level in model.levels:
                if indicator.minimum is None or level not in indicator.minimum:
                    add(FileProblem(f"indicators.{index}.minimum.{level}",
                                    f"missing minimum for {level}"))
    if model.kind is SetKind.QUALITY:
        if model.school_minimums is None:
            add(FileProblem("school_minimums", "missing (a quality set needs the per-school rule)"))
        elif model.school_minimums.required_met > len(model.indicators):
            add(FileProblem("school_minimums.required_met",
                            f"more than the {len(model.indicators)} indicators"))
        if model.coefficient.rule is not CoefficientRule.EACH:
            add(FileProblem("coefficient.rule", "a quality set judges each coefficient"))
    elif model.coefficient.rule is not CoefficientRule.COMPOSITE:
        add(FileProblem("coefficient.rule", "a basic set judges the composite coefficient"))
    if model.nine_year_split is not None:
        for level in Level:
            if level not in model.nine_year_split:
                add(FileProblem(f"nine_year_split.{level}", f"missing weight for {level}"))
    satisfaction = model.satisfaction
    if satisfaction is not None and satisfaction.weights is not None and satisfaction.groups:
        for group in satisfaction.weights:
            if group not in satisfaction.groups:
                add(FileProblem(f"satisfaction.weights.{group}", "not one of the groups"))
    needs = {
        VetoData.SATISFACTION: ("satisfaction", model.satisfaction),
        VetoData.DISABLED_ENROLMENT: ("disabled_enrolment", model.disabled_enrolment),
        VetoData.CORE_STANDARDS: ("core_standards", model.core_standards),
    }
    for index, veto in enumerate(model.vetoes):
        if veto.decided_by in needs:
            section, present = needs[veto.decided_by]
            if present is None:
                add(FileProblem(f"vetoes.{index}.decided_by",
                                f"needs the {section} section for its threshold"))
    return problems


def _fraction(value: Decimal) -> Fraction:
    return Fraction(value)


def build_standard_set(data: Mapping[str, Any], path: Path | str = "(memory)") -> StandardSet:
    """A checked StandardSet from a parsed file; StandardFileError lists every problem."""
    try:
        model = StandardSetModel.model_validate(data)
    except ValidationError as exc:
        raise StandardFileError(path, problems_of(exc)) from None
    resources: dict[str, Resource] = dict(BUILTIN_RESOURCES)
    for extra in model.resources:
        resources[extra.id] = Resource(extra.id, extra.name, extra.unit, _fraction(extra.step),
                                       extra.shared)
    problems = _check(model, resources)
    if problems:
        raise StandardFileError(path, problems)
    indicators = tuple(
        IndicatorDef(
            id=i.id, name=i.name, resource=resources[i.resource], per=i.per, unit=i.unit,
            minimum={lvl: _fraction(v) for lvl, v in (i.minimum or {}).items()},
        )
        for i in model.indicators
    )
    sat = model.satisfaction
    return StandardSet(
        id=model.id,
        version=model.version,
        title=model.title,
        kind=model.kind,
        source=Source(**model.source.model_dump()),
        levels=tuple(model.levels),
        indicators=indicators,
        coefficient=CoefficientStandard(
            rule=model.coefficient.rule,
            max={lvl: _fraction(v) for lvl, v in model.coefficient.max.items()},
            display_decimals=model.coefficient.display_decimals,
        ),
        minimums=(MinimumRule(model.school_minimums.required_met,
                              _fraction(model.school_minimums.floor))
                  if model.school_minimums else None),
        nine_year_split=({lvl: _fraction(v) for lvl, v in model.nine_year_split.items()}
                         if model.nine_year_split else {lvl: Fraction(1) for lvl in Level}),
        satisfaction=(SatisfactionStandard(
            min_rate=_fraction(sat.min_rate), groups=tuple(sat.groups),
            weights={g: _fraction(w) for g, w in sat.weights.items()} if sat.weights else None,
        ) if sat else None),
        disabled_enrolment_min=(_fraction(model.disabled_enrolment.min_rate)
                                if model.disabled_enrolment else None),
        assessments=tuple(AssessmentDef(a.id, a.name, _fraction(a.pass_score), a.sheet)
                          for a in model.assessments),
        core_standards=(CoreStandards(model.core_standards.items, model.core_standards.max_failed)
                        if model.core_standards else None),
        teaching_point_min_students=model.scope.teaching_point_min_students,
        vetoes=tuple(VetoItem(v.id, v.name, v.decided_by) for v in model.vetoes),
        path=Path(path) if isinstance(path, Path) else None,
    )


def load_standard_set(path: Path | str) -> StandardSet:
    """Read and check one standard-set file."""
    file = Path(path)
    return build_standard_set(read_yaml(file), file)
