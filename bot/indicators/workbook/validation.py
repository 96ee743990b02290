"""What a cell and a school row may hold: numbers in ASCII digits, not negative, whole where
a figure counts; teachers within enrolment, a nine-year school's figures on the right row.
Every problem becomes a `BookError`, so a workbook is fixed in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.core.errors import InvalidInput
from bot.core.parsing import fold as ascii_fold
from bot.indicators.names import STUDENTS
from bot.indicators.records import Resource
from bot.indicators.workbook.book import BookError, SchoolLine
from bot.indicators.workbook.layout import (
    FIRST_ROW,
    MAX_ROWS,
    SUB_TEACHERS,
    TEACHER_RESOURCES,
    blocked,
)
from db.models import FigurePart

_NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


class Cells:
    """Converts cells and collects errors for one sheet."""

    def __init__(self, sheet: str, errors: list[BookError]) -> None:
        self.sheet = sheet
        self.errors = errors

    def error(self, row: int, column: str, message_id: str, **params: Any) -> None:
        self.errors.append(BookError(self.sheet, row, column, message_id, params))

    def number(self, value: Any, row: int, column: str, *, whole: bool) -> Decimal | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool) or isinstance(value, datetime | date):
            self.error(row, column, "indicators.book.err_not_number", value=cell_text(value))
            return None
        text = str(value) if isinstance(value, int | float | Decimal) else \
            ascii_fold(str(value)).strip().replace(",", "").replace("，", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = None
        # ASCII digits only (docs/safety.md): Decimal() would take ٣ or ३ as well.
        if amount is None or not amount.is_finite() or (
                not isinstance(value, int | float | Decimal)
                and _NUMBER_TEXT.fullmatch(text) is None):
            self.error(row, column, "indicators.book.err_not_number", value=cell_text(value))
            return None
        if amount < 0:
            self.error(row, column, "indicators.book.err_negative", value=cell_text(value))
            return None
        if whole and amount != amount.to_integral_value():
            self.error(row, column, "indicators.book.err_not_whole", value=cell_text(value))
            return None
        return amount.normalize() if whole else amount


def filled_rows(sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for n, row in enumerate(sheet.iter_rows(min_row=FIRST_ROW, values_only=True),
                            start=FIRST_ROW):
        if n - FIRST_ROW > MAX_ROWS:
            raise InvalidInput("indicators.book.too_many_rows", limit=MAX_ROWS)
        if any(v is not None and cell_text(v) for v in row):
            yield n, tuple(row)


def check_line(line: SchoolLine, resources: Mapping[str, Resource], sheet: str, *,
               nine_year: bool) -> list[BookError]:
    """What one school row gets wrong on its own (the import adds what needs the registry)."""
    errors: list[BookError] = []

    def error(message_id: str, **params: Any) -> None:
        errors.append(BookError(sheet, line.row, "", message_id, params))

    whole = line.part is FigurePart.WHOLE
    students = line.amounts.get(STUDENTS)
    if not whole and students is None:
        error("indicators.book.err_no_students", school=line.school)
    if nine_year:
        misplaced = [resources[r].name for r in line.amounts
                     if r in resources and blocked(line.part or FigurePart.PRIMARY, resources[r])]
        if misplaced:
            key = "indicators.book.err_whole_row" if whole else "indicators.book.err_part_row"
            error(key, school=line.school, names="、".join(misplaced))
    elif whole:
        error("indicators.book.err_whole_single", school=line.school)
    if students is not None:
        for resource in TEACHER_RESOURCES:
            count = line.amounts.get(resource)
            if count is not None and count > students:
                error("indicators.book.err_teachers_over", school=line.school,
                      name=resources[resource].name if resource in resources else resource,
                      count=cell_text(count), students=cell_text(students))
    teachers = line.amounts.get("teachers")
    if teachers is not None:
        for resource in SUB_TEACHERS:
            count = line.amounts.get(resource)
            if count is not None and count > teachers:
                error("indicators.book.err_sub_over", school=line.school,
                      name=resources[resource].name if resource in resources else resource,
                      count=cell_text(count), teachers=cell_text(teachers))
    return errors
