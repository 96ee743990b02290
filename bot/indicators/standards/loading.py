"""Loading a standard-set file: the parsed shape checked as a whole, every problem listed
at once, and the result built as a `StandardSet` with exact fractions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.indicators.records import BUILTIN_RESOURCES, Level, Resource
from bot.indicators.standards.files import (
    FileProblem,
    StandardFileError,
    problems_of,
    read_yaml,
)
from bot.indicators.standards.schema import StandardSetModel
from bot.indicators.standards.sets import (
    AssessmentDef,
    CoefficientRule,
    CoefficientStandard,
    CoreStandards,
    IndicatorDef,
    MinimumRule,
    SatisfactionStandard,
    SetKind,
    Source,
    StandardSet,
    VetoData,
    VetoItem,
)


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
