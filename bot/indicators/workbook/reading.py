"""Reading a workbook back: the sheets found by `_meta` (or by their titles), the school
year, the columns by `_meta` (or by their headers), and each sheet's rows as lines, with
every problem collected in one pass.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bot.core.errors import InvalidInput
from bot.indicators.names import BUDGET_FIELDS, SURVEY_GROUPS, Vocabulary, fold, is_count
from bot.indicators.records import Resource
from bot.indicators.scoring import ScoringSheet
from bot.indicators.workbook.book import (
    Book,
    BudgetLine,
    DisabledLine,
    MarkLine,
    SchoolLine,
    SurveyLine,
)
from bot.indicators.workbook.layout import HEADER_ROW, MARKER, META, PART_WORDS, SHEETS
from bot.indicators.workbook.validation import Cells, cell_text, filled_rows
from bot.texts import Texts


def load_workbook(data: io.BytesIO, *, read_only: bool, data_only: bool) -> Any:
    """openpyxl's reader, imported when a workbook arrives: with numpy under it, it costs
    ~0.3 s that a bot start should not pay."""
    from openpyxl import load_workbook as load

    return load(data, read_only=read_only, data_only=data_only)


def get_column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter as letter

    return str(letter(index))


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


def _find_sheet(book: Any, meta: _Meta, key: str) -> str | None:
    title = meta.sheets.get(key)
    if title is not None and title in book.sheetnames:
        return title
    wanted = {fold(t) for t in SHEETS[key.split(":")[0]]}
    return next((n for n in book.sheetnames if fold(n) in wanted), None)


def _header_columns(sheet: Any, resources: Mapping[str, Resource]) -> dict[int, str]:
    """Columns by header text, for a workbook that lost its `_meta` sheet."""
    vocabulary = Vocabulary(None, resources)
    header = next(sheet.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, values_only=True), ())
    found: dict[int, str] = {}
    for index, value in enumerate(header, start=1):
        text = re.split(r"[（(]", cell_text(value), maxsplit=1)[0]
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
    match = _YEAR.search(cell_text(title[0]) if title else "")
    if match is None:
        raise InvalidInput("indicators.book.no_year")
    return int(match.group(0))


def _read_schools(sheet: Any, columns: Mapping[int, str], resources: Mapping[str, Resource],
                  book: Book) -> None:
    cells = Cells(sheet.title, book.errors)
    for n, row in filled_rows(sheet):
        name = cell_text(row[0] if row else None)
        part_text = cell_text(row[1] if len(row) > 1 else None)
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


def _group_of(text: str) -> str | None:
    folded = fold(text)
    for group, (zh, en) in SURVEY_GROUPS.items():
        if folded in (fold(zh), fold(en), group):
            return group
    return None


def _read_survey(sheet: Any, book: Book) -> None:
    cells = Cells(sheet.title, book.errors)
    for n, row in filled_rows(sheet):
        padded = (*row, None, None, None)
        asked = cells.number(padded[1], n, "B", whole=True)
        satisfied = cells.number(padded[2], n, "C", whole=True)
        if asked is None and satisfied is None:
            continue  # a group not surveyed (yet)
        group = _group_of(cell_text(padded[0]))
        if group is None:
            cells.error(n, "A", "indicators.book.err_bad_group", value=cell_text(padded[0]))
            continue
        if asked is None or satisfied is None:
            cells.error(n, "B" if asked is None else "C", "indicators.book.err_survey_half")
            continue
        if satisfied > asked:
            cells.error(n, "C", "indicators.book.err_survey_over", satisfied=cell_text(satisfied),
                        respondents=cell_text(asked))
            continue
        book.survey.append(SurveyLine(n, group, int(asked), int(satisfied)))


def _read_budget(sheet: Any, columns: Mapping[int, str] | None, book: Book) -> None:
    cells = Cells(sheet.title, book.errors)
    by_column = columns or {index: name for index, name in enumerate(BUDGET_FIELDS, start=2)}
    for n, row in filled_rows(sheet):
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
            cells.error(n, "A", "indicators.book.err_bad_year", value=cell_text(padded[0]))
            continue
        book.budgets.append(BudgetLine(n, int(year), values))


def _read_disabled(sheet: Any, book: Book) -> None:
    cells = Cells(sheet.title, book.errors)
    for n, row in filled_rows(sheet):
        padded = (*row, None, None, None)
        population = cells.number(padded[1], n, "B", whole=True)
        enrolled = cells.number(padded[2], n, "C", whole=True)
        if population is None and enrolled is None:
            continue
        year = cells.number(padded[0], n, "A", whole=True)
        if year is None or not 1990 <= year <= 2100:
            cells.error(n, "A", "indicators.book.err_bad_year", value=cell_text(padded[0]))
            continue
        if population is None or enrolled is None:
            cells.error(n, "B" if population is None else "C", "indicators.book.err_survey_half")
            continue
        if enrolled > population:
            cells.error(n, "C", "indicators.book.err_disabled_over", enrolled=cell_text(enrolled),
                        population=cell_text(population))
            continue
        book.disabled.append(DisabledLine(n, int(year), int(population), int(enrolled)))


def _read_marks(sheet: Any, scoring: ScoringSheet, book: Book) -> None:
    cells = Cells(sheet.title, book.errors)
    # An item is assessed once any of its rows has a count (0 included); notes alone are not.
    found: dict[str, tuple[dict[str, int], list[str]]] = {}
    notes_of: dict[str, list[str]] = {}
    items = {item.id: item for item in scoring.items}
    for n, row in filled_rows(sheet):
        padded = (*row, *([None] * 8))
        item_id, deduction_id = cell_text(padded[0]), cell_text(padded[3])
        times = cells.number(padded[6], n, "G", whole=True)
        note = cell_text(padded[7])
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
            cells.error(n, "G", "indicators.book.err_once", value=cell_text(times))
            continue
        if times:
            deductions[deduction.id] = int(times)
    book.marks[scoring.id] = [MarkLine(item_id, deductions, "；".join(notes_of.get(item_id, [])))
                              for item_id, (deductions, _) in found.items()]
