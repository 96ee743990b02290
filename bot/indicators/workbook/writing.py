"""Writing the template: one sheet per kind of data, headers with units, the chosen set's
figures marked, data validation in every number column, pre-filled with what is recorded
(an export), and the hidden `_meta` and `_lists` sheets.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from bot.indicators.data import SchoolInfo
from bot.indicators.formatting import num
from bot.indicators.names import (
    BUDGET_FIELDS,
    STUDENTS,
    SURVEY_GROUPS,
    group_name,
    is_count,
    resource_label,
)
from bot.indicators.records import Resource
from bot.indicators.scoring import ScoringSheet
from bot.indicators.standards import StandardSet
from bot.indicators.workbook.layout import (
    FIRST_ROW,
    FORMAT,
    HEADER_ROW,
    LISTS,
    MARKER,
    META,
    SHEETS,
    SPARE_ROWS,
    blocked,
    part_label,
)
from bot.texts import Texts
from db.models import FigurePart, SchoolLevel

HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
NEEDED_FILL = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
OTHER_FILL = PatternFill(fill_type="solid", start_color="EDEDED", end_color="EDEDED")
BLOCKED_FILL = PatternFill(fill_type="solid", start_color="BFBFBF", end_color="BFBFBF")


@dataclass(frozen=True)
class BookSpec:
    """What a template holds; the figures and other data pre-fill it (an export)."""

    county: str
    year: int
    standard: StandardSet
    resources: Mapping[str, Resource]  # every column, in order (enrolment first)
    schools: Sequence[SchoolInfo]
    figures: Mapping[tuple[int, FigurePart], Mapping[str, Fraction]] = field(default_factory=dict)
    survey: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # group → (asked, ok)
    budgets: Mapping[int, Mapping[str, Decimal | None]] = field(default_factory=dict)
    disabled: tuple[int, int] | None = None  # (population, enrolled)
    sheets: Sequence[ScoringSheet] = ()
    marks: Mapping[str, Mapping[str, tuple[Mapping[str, int], str]]] = field(default_factory=dict)


def _number(value: Fraction | Decimal | None, resource: Resource | None = None) -> Any:
    if value is None:
        return None
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    if value == value.to_integral_value():
        return int(value)
    return float(round(value, 4))


def _column_heads(sheet: Any, row: int, labels: Sequence[str], fills: Sequence[PatternFill | None],
            widths: Sequence[int]) -> None:
    for index, (label, fill, width) in enumerate(zip(labels, fills, widths, strict=True),
                                                 start=1):
        cell = sheet.cell(row=row, column=index, value=label)
        cell.font = HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if fill is not None:
            cell.fill = fill
        sheet.column_dimensions[get_column_letter(index)].width = width


def _sheet_heading(sheet: Any, title: str, note: str, columns: int) -> None:
    sheet.cell(row=1, column=1, value=title).font = TITLE_FONT
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(columns, 1))
    sheet.cell(row=2, column=1, value=note).alignment = Alignment(wrap_text=True)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(columns, 1))
    sheet.row_dimensions[2].height = 48
    sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=3 if columns > 2 else 1)


def _validate_numbers(sheet: Any, texts: Texts, lang: str, column: int, last_row: int,
                      whole: bool) -> None:
    letter = get_column_letter(column)
    rule = DataValidation(type="whole" if whole else "decimal", operator="greaterThanOrEqual",
                          formula1="0", allow_blank=True, showErrorMessage=True)
    rule.error = texts.plain(lang, "indicators.book.rule_whole" if whole
                             else "indicators.book.rule_number")
    rule.errorTitle = texts.plain(lang, "indicators.book.rule_title")
    sheet.add_data_validation(rule)
    rule.add(f"{letter}{FIRST_ROW}:{letter}{last_row}")


def write_book(texts: Texts, lang: str, spec: BookSpec) -> bytes:
    """The template (pre-filled with `spec`'s data) as XLSX bytes."""
    book = Workbook()
    meta = book.active
    meta.title = META
    meta.append([MARKER, FORMAT])
    meta.append(["year", spec.year])
    meta.append(["standard", spec.standard.id])
    lists = book.create_sheet(LISTS)
    for n, school in enumerate(spec.schools, start=1):
        lists.cell(row=n, column=1, value=school.name)
    levels = list(dict.fromkeys(label for part in FigurePart for nine in (False, True)
                                for label in [part_label(part, nine, lang)]))
    for n, label in enumerate(levels, start=1):
        lists.cell(row=n, column=2, value=label)

    _school_sheet(book, meta, texts, lang, spec, len(levels))
    _survey_sheet(book, meta, texts, lang, spec)
    _budget_sheet(book, meta, texts, lang, spec)
    _disabled_sheet(book, meta, texts, lang, spec)
    for n, sheet in enumerate(spec.sheets, start=1):
        _marks_sheet(book, meta, texts, lang, spec, sheet, n)
    meta.sheet_state = "hidden"
    lists.sheet_state = "hidden"
    book.active = 2  # the school sheet, after the two hidden ones
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_title(key: str, lang: str, n: int = 0) -> str:
    zh, en = SHEETS[key]
    base = en if lang == "en" else zh
    return base if n <= 1 else f"{base}{n}"


def _school_rows(spec: BookSpec) -> Iterator[tuple[SchoolInfo, FigurePart, bool]]:
    order = {SchoolLevel.PRIMARY: 0, SchoolLevel.NINE_YEAR: 1, SchoolLevel.JUNIOR: 2}
    listed = sorted(spec.schools, key=lambda s: (order.get(s.level, 3) if s.level else 3, s.name))
    for school in listed:
        nine = school.level is SchoolLevel.NINE_YEAR
        parts = school.parts or (FigurePart.PRIMARY,)
        for part in parts:
            yield school, part, nine


def _school_sheet(book: Workbook, meta: Any, texts: Texts, lang: str, spec: BookSpec,
                  level_count: int) -> None:
    sheet = book.create_sheet(_sheet_title("schools", lang))
    resources = list(spec.resources.values())
    needed = {i.resource.id for i in spec.standard.indicators} | {STUDENTS}
    labels = [texts.plain(lang, "indicators.book.col_school"),
              texts.plain(lang, "indicators.book.col_level"),
              *(resource_label(r, lang) for r in resources)]
    fills = [None, None, *(NEEDED_FILL if r.id in needed else OTHER_FILL for r in resources)]
    widths = [26, 9, *(14 for _ in resources)]
    _sheet_heading(sheet, texts.plain(lang, "indicators.book.schools_title", county=spec.county,
                              year=spec.year, standard=spec.standard.title),
           texts.plain(lang, "indicators.book.schools_note"), len(labels))
    _column_heads(sheet, HEADER_ROW, labels, fills, widths)
    meta.append(["sheet", "schools", sheet.title])
    for index, resource in enumerate(resources, start=3):
        meta.append(["column", "schools", index, resource.id])
    row = FIRST_ROW
    for school, part, nine in _school_rows(spec):
        values = spec.figures.get((school.unit_id, part), {})
        sheet.cell(row=row, column=1, value=school.name)
        sheet.cell(row=row, column=2, value=part_label(part, nine, lang) if school.level else None)
        for index, resource in enumerate(resources, start=3):
            cell = sheet.cell(row=row, column=index, value=_number(values.get(resource.id)))
            if nine and blocked(part, resource):
                cell.fill = BLOCKED_FILL
        row += 1
    last = max(row, FIRST_ROW) + SPARE_ROWS
    names = DataValidation(type="list", formula1=f"={LISTS}!$A$1:$A${max(len(spec.schools), 1)}",
                           allow_blank=True, showErrorMessage=False)
    sheet.add_data_validation(names)
    names.add(f"A{FIRST_ROW}:A{last}")
    parts = DataValidation(type="list", formula1=f"={LISTS}!$B$1:$B${level_count}",
                           allow_blank=True, showErrorMessage=True)
    parts.error = texts.plain(lang, "indicators.book.rule_level")
    sheet.add_data_validation(parts)
    parts.add(f"B{FIRST_ROW}:B{last}")
    for index, resource in enumerate(resources, start=3):
        _validate_numbers(sheet, texts, lang, index, last, is_count(resource))


def _survey_sheet(book: Workbook, meta: Any, texts: Texts, lang: str, spec: BookSpec) -> None:
    satisfaction = spec.standard.satisfaction
    if satisfaction is None:
        return
    sheet = book.create_sheet(_sheet_title("survey", lang))
    labels = [texts.plain(lang, "indicators.book.col_group"),
              texts.plain(lang, "indicators.book.col_respondents"),
              texts.plain(lang, "indicators.book.col_satisfied")]
    _sheet_heading(sheet, texts.plain(lang, "indicators.book.survey_title", county=spec.county,
                              year=spec.year),
           texts.plain(lang, "indicators.book.survey_note",
                       rate=num(satisfaction.min_rate * 100)), 3)
    _column_heads(sheet, HEADER_ROW, labels, [None, NEEDED_FILL, NEEDED_FILL], [24, 14, 14])
    meta.append(["sheet", "survey", sheet.title])
    groups = satisfaction.groups or tuple(SURVEY_GROUPS)
    for n, group in enumerate(groups, start=FIRST_ROW):
        asked, satisfied = spec.survey.get(group, (None, None))
        sheet.cell(row=n, column=1, value=group_name(group, lang))
        sheet.cell(row=n, column=2, value=asked)
        sheet.cell(row=n, column=3, value=satisfied)
    last = FIRST_ROW + len(groups) + 5
    for column in (2, 3):
        _validate_numbers(sheet, texts, lang, column, last, whole=True)


def _budget_sheet(book: Workbook, meta: Any, texts: Texts, lang: str, spec: BookSpec) -> None:
    sheet = book.create_sheet(_sheet_title("budget", lang))
    fields = list(BUDGET_FIELDS)
    labels = [texts.plain(lang, "indicators.book.col_year"),
              *(f"{BUDGET_FIELDS[f][1 if lang == 'en' else 0]}"
                + (" (yuan)" if lang == "en" else "（元）") for f in fields)]
    _sheet_heading(sheet, texts.plain(lang, "indicators.book.budget_title", county=spec.county),
           texts.plain(lang, "indicators.book.budget_note"), len(labels))
    _column_heads(sheet, HEADER_ROW, labels, [None, *(NEEDED_FILL for _ in fields)],
            [10, *(18 for _ in fields)])
    meta.append(["sheet", "budget", sheet.title])
    for index, name in enumerate(fields, start=2):
        meta.append(["column", "budget", index, name])
    years = sorted(set(range(spec.year - 3, spec.year + 1)) | set(spec.budgets))
    for n, year in enumerate(years, start=FIRST_ROW):
        sheet.cell(row=n, column=1, value=year)
        for index, name in enumerate(fields, start=2):
            sheet.cell(row=n, column=index, value=_number(spec.budgets.get(year, {}).get(name)))
    last = FIRST_ROW + len(years) + 5
    for index in range(2, len(fields) + 2):
        _validate_numbers(sheet, texts, lang, index, last, whole=False)


def _disabled_sheet(book: Workbook, meta: Any, texts: Texts, lang: str, spec: BookSpec) -> None:
    if spec.standard.disabled_enrolment_min is None:
        return
    sheet = book.create_sheet(_sheet_title("disabled", lang))
    labels = [texts.plain(lang, "indicators.book.col_year"),
              texts.plain(lang, "indicators.book.col_population"),
              texts.plain(lang, "indicators.book.col_enrolled")]
    _sheet_heading(sheet, texts.plain(lang, "indicators.book.disabled_title", county=spec.county),
           texts.plain(lang, "indicators.book.disabled_note",
                       rate=num(spec.standard.disabled_enrolment_min * 100)), 3)
    _column_heads(sheet, HEADER_ROW, labels, [None, NEEDED_FILL, NEEDED_FILL], [10, 22, 14])
    meta.append(["sheet", "disabled", sheet.title])
    population, enrolled = spec.disabled or (None, None)
    sheet.cell(row=FIRST_ROW, column=1, value=spec.year)
    sheet.cell(row=FIRST_ROW, column=2, value=population)
    sheet.cell(row=FIRST_ROW, column=3, value=enrolled)
    for column in (2, 3):
        _validate_numbers(sheet, texts, lang, column, FIRST_ROW + 5, whole=True)


def _marks_sheet(book: Workbook, meta: Any, texts: Texts, lang: str, spec: BookSpec,
                 scoring: ScoringSheet, n: int) -> None:
    sheet = book.create_sheet(_sheet_title("sheet", lang, n if len(spec.sheets) > 1 else 0))
    keys = ("col_item", "col_item_text", "col_points", "col_deduction", "col_deduction_text",
            "col_deduction_points", "col_times", "col_note")
    labels = [texts.plain(lang, f"indicators.book.{key}") for key in keys]
    _sheet_heading(sheet, texts.plain(lang, "indicators.book.sheet_title", title=scoring.title,
                              total=num(scoring.total), passing=num(scoring.pass_score)),
           texts.plain(lang, "indicators.book.sheet_note"), len(labels))
    fills: list[PatternFill | None] = [None] * 6 + [NEEDED_FILL, None]
    _column_heads(sheet, HEADER_ROW, labels, fills, [18, 40, 6, 16, 30, 10, 8, 30])
    meta.append(["sheet", f"marks:{scoring.id}", sheet.title])
    marks = spec.marks.get(scoring.id, {})
    row = FIRST_ROW
    for item in scoring.items:
        given, note = marks.get(item.id, ({}, ""))
        for d_index, deduction in enumerate(item.deductions):
            if deduction.points is None:
                worth = texts.plain(lang, "indicators.book.whole_item")
            elif deduction.each:
                worth = texts.plain(lang, "indicators.book.each_time",
                                    points=num(deduction.points))
            else:
                worth = num(deduction.points)
            times = given.get(deduction.id, 0) if item.id in marks else None
            values = [item.id, item.text, float(item.points), deduction.id, deduction.text,
                      worth, times, note if d_index == 0 and note else None]
            for column, value in enumerate(values, start=1):
                sheet.cell(row=row, column=column, value=value)
            row += 1
    _validate_numbers(sheet, texts, lang, 7, row, whole=True)
