"""The county's data workbook: the XLSX template the office fills in, and reading it back.

One workbook carries everything the county reports: school figures (one row per school and
level; a nine-year school has a 小学部 row, a 初中部 row and a 全校 row for what the parts
share), the satisfaction survey, budget figures, disabled children's enrolment and each
self-assessment sheet. A hidden `_meta` sheet names the school year, the standard set
and which column holds which figure, so a renamed header still reads; a workbook is
recognised by that sheet, or by its school sheet's name.

Nothing here touches the database: `read_book` turns bytes into rows and row errors; the
import (`bot.indicators.importing`) checks the rows against the registered schools.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from bot.core.errors import InvalidInput
from bot.core.parsing import fold as ascii_fold
from bot.indicators.data import SchoolInfo
from bot.indicators.formatting import num
from bot.indicators.names import (
    BUDGET_FIELDS,
    STUDENTS,
    SURVEY_GROUPS,
    Vocabulary,
    fold,
    group_name,
    is_count,
    resource_label,
)
from bot.indicators.records import Resource
from bot.indicators.scoring import ScoringSheet
from bot.indicators.standards import StandardSet
from bot.texts import Texts
from db.models import FigurePart, SchoolLevel

MARKER = "inspectbot.county-data"
FORMAT = 1
META = "_meta"
LISTS = "_lists"
MAX_ROWS = 5000
SPARE_ROWS = 30  # empty, validated rows under the listed schools for ones added later
HEADER_ROW = 3
FIRST_ROW = HEADER_ROW + 1

# Sheet keys and their titles, Chinese and English: the titles are how a workbook without
# its `_meta` sheet is still recognised.
SHEETS: Mapping[str, tuple[str, str]] = {
    "schools": ("学校数据", "School data"),
    "survey": ("满意度调查", "Survey"),
    "budget": ("教育经费", "Budget"),
    "disabled": ("残疾儿童入学", "Disabled enrolment"),
    "sheet": ("自评", "Self-assessment"),
}
PART_WORDS: Mapping[str, FigurePart] = {
    "小学": FigurePart.PRIMARY, "小学部": FigurePart.PRIMARY, "primary": FigurePart.PRIMARY,
    "初中": FigurePart.JUNIOR, "初中部": FigurePart.JUNIOR, "junior": FigurePart.JUNIOR,
    "全校": FigurePart.WHOLE, "全校共用": FigurePart.WHOLE, "whole": FigurePart.WHOLE,
    "whole school": FigurePart.WHOLE,
}
_PART_LABELS = {
    "zh": {FigurePart.PRIMARY: ("小学", "小学部"), FigurePart.JUNIOR: ("初中", "初中部"),
           FigurePart.WHOLE: ("全校", "全校")},
    "en": {FigurePart.PRIMARY: ("primary", "primary"), FigurePart.JUNIOR: ("junior", "junior"),
           FigurePart.WHOLE: ("whole", "whole")},
}
TEACHER_RESOURCES = ("teachers", "qualified_teachers", "senior_title_teachers",
                     "backbone_teachers", "pe_art_teachers")
SUB_TEACHERS = ("qualified_teachers", "senior_title_teachers", "backbone_teachers",
                "pe_art_teachers")

HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
NEEDED_FILL = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
OTHER_FILL = PatternFill(fill_type="solid", start_color="EDEDED", end_color="EDEDED")
BLOCKED_FILL = PatternFill(fill_type="solid", start_color="BFBFBF", end_color="BFBFBF")


def part_label(part: FigurePart, nine_year: bool, lang: str) -> str:
    labels = _PART_LABELS.get(lang, _PART_LABELS["zh"])[part]
    return labels[1] if nine_year else labels[0]


# Writing ---------------------------------------------------------------------------------
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
            if nine and _blocked(part, resource):
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


def _blocked(part: FigurePart, resource: Resource) -> bool:
    """Cells a nine-year school leaves empty: shared figures on a part's row, enrolment and
    teachers on the whole-school row."""
    shared = resource.shared and resource.id != STUDENTS
    return shared if part is not FigurePart.WHOLE else not shared


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


# Reading ---------------------------------------------------------------------------------
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


def _open(data: bytes) -> Any:
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise InvalidInput("indicators.book.unreadable") from None


def _school_titles() -> set[str]:
    return {fold(t) for t in SHEETS["schools"]}


def is_county_book(data: bytes) -> bool:
    """Whether an XLSX is this workbook (its `_meta` marker, or its school sheet's name)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return False
    try:
        if META in book.sheetnames:
            first = next(book[META].iter_rows(min_row=1, max_row=1, values_only=True), ())
            if first and first[0] == MARKER:
                return True
        return any(fold(name) in _school_titles() for name in book.sheetnames)
    finally:
        book.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


class _Meta:
    def __init__(self, book: Any) -> None:
        self.values: dict[str, Any] = {}
        self.sheets: dict[str, str] = {}  # key → sheet title
        self.columns: dict[str, dict[int, str]] = {}
        if META not in book.sheetnames:
            return
        for row in book[META].iter_rows(values_only=True):
            cells = [c for c in row if c is not None]
            if len(cells) >= 2 and cells[0] in ("year", "standard"):
                self.values[cells[0]] = cells[1]
            elif len(cells) >= 3 and cells[0] == "sheet":
                self.sheets[str(cells[1])] = str(cells[2])
            elif len(cells) >= 4 and cells[0] == "column":
                self.columns.setdefault(str(cells[1]), {})[int(cells[2])] = str(cells[3])


_YEAR = re.compile(r"(19|20)[0-9]{2}")
_NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _find_sheet(book: Any, meta: _Meta, key: str) -> str | None:
    title = meta.sheets.get(key)
    if title is not None and title in book.sheetnames:
        return title
    wanted = {fold(t) for t in SHEETS[key.split(":")[0]]}
    return next((n for n in book.sheetnames if fold(n) in wanted), None)


class _Cells:
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
            self.error(row, column, "indicators.book.err_not_number", value=_text(value))
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
            self.error(row, column, "indicators.book.err_not_number", value=_text(value))
            return None
        if amount < 0:
            self.error(row, column, "indicators.book.err_negative", value=_text(value))
            return None
        if whole and amount != amount.to_integral_value():
            self.error(row, column, "indicators.book.err_not_whole", value=_text(value))
            return None
        return amount.normalize() if whole else amount


def _rows(sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for n, row in enumerate(sheet.iter_rows(min_row=FIRST_ROW, values_only=True),
                            start=FIRST_ROW):
        if n - FIRST_ROW > MAX_ROWS:
            raise InvalidInput("indicators.book.too_many_rows", limit=MAX_ROWS)
        if any(v is not None and _text(v) for v in row):
            yield n, tuple(row)


def _header_columns(sheet: Any, resources: Mapping[str, Resource]) -> dict[int, str]:
    """Columns by header text, for a workbook that lost its `_meta` sheet."""
    vocabulary = Vocabulary(None, resources)
    header = next(sheet.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, values_only=True), ())
    found: dict[int, str] = {}
    for index, value in enumerate(header, start=1):
        text = re.split(r"[（(]", _text(value), maxsplit=1)[0]
        term = vocabulary.lookup(text) if text else None
        if term is not None and term.indicator_id is None:
            found[index] = term.resource.id
    return found


def read_book(texts: Texts, data: bytes, resources: Mapping[str, Resource],
              sheets: Sequence[ScoringSheet]) -> Book:
    """Every sheet of the workbook as lines, with every problem found in one pass."""
    book = _open(data)
    try:
        meta = _Meta(book)
        school_title = _find_sheet(book, meta, "schools")
        if school_title is None:
            raise InvalidInput("indicators.book.no_school_sheet")
        year = _year(book, meta, school_title)
        standard = meta.values.get("standard")
        result = Book(year, str(standard) if standard else None, school_title)
        _read_schools(book[school_title], meta.columns.get("schools")
                      or _header_columns(book[school_title], resources),
                      resources, result)
        survey_title = _find_sheet(book, meta, "survey")
        if survey_title is not None:
            result.survey_sheet = survey_title
            _read_survey(book[survey_title], result)
        budget_title = _find_sheet(book, meta, "budget")
        if budget_title is not None:
            _read_budget(book[budget_title], meta.columns.get("budget"), result)
        disabled_title = _find_sheet(book, meta, "disabled")
        if disabled_title is not None:
            _read_disabled(book[disabled_title], result)
        for scoring in sheets:
            title = meta.sheets.get(f"marks:{scoring.id}")
            if title is None and len(sheets) == 1:
                title = _find_sheet(book, meta, "sheet")
            if title is not None and title in book.sheetnames:
                _read_marks(book[title], scoring, result)
        return result
    finally:
        book.close()


def _year(book: Any, meta: _Meta, school_title: str) -> int:
    value = meta.values.get("year")
    if isinstance(value, int | float) and 1990 <= int(value) <= 2100:
        return int(value)
    title = next(book[school_title].iter_rows(min_row=1, max_row=1, values_only=True), ())
    match = _YEAR.search(_text(title[0]) if title else "")
    if match is None:
        raise InvalidInput("indicators.book.no_year")
    return int(match.group(0))


def _read_schools(sheet: Any, columns: Mapping[int, str], resources: Mapping[str, Resource],
                  book: Book) -> None:
    cells = _Cells(sheet.title, book.errors)
    for n, row in _rows(sheet):
        name = _text(row[0] if row else None)
        part_text = _text(row[1] if len(row) > 1 else None)
        if not name:
            cells.error(n, "A", "indicators.book.err_no_school")
            continue
        part = PART_WORDS.get(fold(part_text)) if part_text else None
        if part_text and part is None:
            cells.error(n, "B", "indicators.book.err_bad_level", value=part_text)
        amounts: dict[str, Decimal] = {}
        for index, resource_id in columns.items():
            resource = resources.get(resource_id)
            if resource is None or index > len(row):
                continue
            column = get_column_letter(index)
            amount = cells.number(row[index - 1], n, column, whole=is_count(resource))
            if amount is not None:
                amounts[resource_id] = amount
        if not amounts and not any(row[i - 1] is not None for i in columns if i <= len(row)):
            continue  # a listed school not reported this time
        book.schools.append(SchoolLine(n, name, part, part_text, amounts))


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
                     if r in resources and _blocked(line.part or FigurePart.PRIMARY, resources[r])]
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
                      count=_text(count), students=_text(students))
    teachers = line.amounts.get("teachers")
    if teachers is not None:
        for resource in SUB_TEACHERS:
            count = line.amounts.get(resource)
            if count is not None and count > teachers:
                error("indicators.book.err_sub_over", school=line.school,
                      name=resources[resource].name if resource in resources else resource,
                      count=_text(count), teachers=_text(teachers))
    return errors


def _group_of(text: str) -> str | None:
    folded = fold(text)
    for group, (zh, en) in SURVEY_GROUPS.items():
        if folded in (fold(zh), fold(en), group):
            return group
    return None


def _read_survey(sheet: Any, book: Book) -> None:
    cells = _Cells(sheet.title, book.errors)
    for n, row in _rows(sheet):
        padded = (*row, None, None, None)
        asked = cells.number(padded[1], n, "B", whole=True)
        satisfied = cells.number(padded[2], n, "C", whole=True)
        if asked is None and satisfied is None:
            continue  # a group not surveyed (yet)
        group = _group_of(_text(padded[0]))
        if group is None:
            cells.error(n, "A", "indicators.book.err_bad_group", value=_text(padded[0]))
            continue
        if asked is None or satisfied is None:
            cells.error(n, "B" if asked is None else "C", "indicators.book.err_survey_half")
            continue
        if satisfied > asked:
            cells.error(n, "C", "indicators.book.err_survey_over", satisfied=_text(satisfied),
                        respondents=_text(asked))
            continue
        book.survey.append(SurveyLine(n, group, int(asked), int(satisfied)))


def _read_budget(sheet: Any, columns: Mapping[int, str] | None, book: Book) -> None:
    cells = _Cells(sheet.title, book.errors)
    by_column = columns or {index: name for index, name in enumerate(BUDGET_FIELDS, start=2)}
    for n, row in _rows(sheet):
        padded = (*row, *([None] * 6))
        values: dict[str, Decimal] = {}
        for index, name in by_column.items():
            amount = cells.number(padded[index - 1], n, get_column_letter(index), whole=False)
            if amount is not None:
                values[name] = amount
        if not values:
            continue
        year = cells.number(padded[0], n, "A", whole=True)
        if year is None or not 1990 <= year <= 2100:
            cells.error(n, "A", "indicators.book.err_bad_year", value=_text(padded[0]))
            continue
        book.budgets.append(BudgetLine(n, int(year), values))


def _read_disabled(sheet: Any, book: Book) -> None:
    cells = _Cells(sheet.title, book.errors)
    for n, row in _rows(sheet):
        padded = (*row, None, None, None)
        population = cells.number(padded[1], n, "B", whole=True)
        enrolled = cells.number(padded[2], n, "C", whole=True)
        if population is None and enrolled is None:
            continue
        year = cells.number(padded[0], n, "A", whole=True)
        if year is None or not 1990 <= year <= 2100:
            cells.error(n, "A", "indicators.book.err_bad_year", value=_text(padded[0]))
            continue
        if population is None or enrolled is None:
            cells.error(n, "B" if population is None else "C", "indicators.book.err_survey_half")
            continue
        if enrolled > population:
            cells.error(n, "C", "indicators.book.err_disabled_over", enrolled=_text(enrolled),
                        population=_text(population))
            continue
        book.disabled.append(DisabledLine(n, int(year), int(population), int(enrolled)))


def _read_marks(sheet: Any, scoring: ScoringSheet, book: Book) -> None:
    cells = _Cells(sheet.title, book.errors)
    # An item is assessed once any of its rows has a count (0 included); notes alone are not.
    found: dict[str, tuple[dict[str, int], list[str]]] = {}
    notes_of: dict[str, list[str]] = {}
    items = {item.id: item for item in scoring.items}
    for n, row in _rows(sheet):
        padded = (*row, *([None] * 8))
        item_id, deduction_id = _text(padded[0]), _text(padded[3])
        times = cells.number(padded[6], n, "G", whole=True)
        note = _text(padded[7])
        if times is None and not note:
            continue
        item = items.get(item_id)
        if item is None:
            cells.error(n, "A", "indicators.book.err_bad_item", value=item_id)
            continue
        if note:
            notes_of.setdefault(item_id, []).append(note)
        if times is None:
            continue
        deductions, _ = found.setdefault(item_id, ({}, []))
        try:
            deduction = item.deduction(deduction_id)
        except KeyError:
            cells.error(n, "D", "indicators.book.err_bad_deduction", value=deduction_id,
                        item=item_id)
            continue
        if times > 1 and not deduction.each:
            cells.error(n, "G", "indicators.book.err_once", value=_text(times))
            continue
        if times:
            deductions[deduction.id] = int(times)
    book.marks[scoring.id] = [MarkLine(item_id, deductions, "；".join(notes_of.get(item_id, [])))
                              for item_id, (deductions, _) in found.items()]
