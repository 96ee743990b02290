"""A workbook as read: its lines per sheet and every problem found, each with its sheet,
row and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from db.models import FigurePart


@dataclass(frozen=True)
class BookError:
    """One problem in one cell or row; `message_id` is rendered with `params`."""

    sheet: str
    row: int
    column: str
    message_id: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SchoolLine:
    row: int
    school: str
    part: FigurePart | None
    part_text: str
    amounts: Mapping[str, Decimal]


@dataclass(frozen=True)
class SurveyLine:
    row: int
    group: str
    respondents: int
    satisfied: int


@dataclass(frozen=True)
class BudgetLine:
    row: int
    year: int
    values: Mapping[str, Decimal]


@dataclass(frozen=True)
class DisabledLine:
    row: int
    year: int
    population: int
    enrolled: int


@dataclass(frozen=True)
class MarkLine:
    item: str
    deductions: Mapping[str, int]
    note: str


@dataclass
class Book:
    year: int
    standard_id: str | None
    school_sheet: str
    survey_sheet: str = ""
    schools: list[SchoolLine] = field(default_factory=list)
    survey: list[SurveyLine] = field(default_factory=list)
    budgets: list[BudgetLine] = field(default_factory=list)
    disabled: list[DisabledLine] = field(default_factory=list)
    marks: dict[str, list[MarkLine]] = field(default_factory=dict)
    errors: list[BookError] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.schools or self.survey or self.budgets or self.disabled
                    or any(self.marks.values()))
