"""Helpers for indicator-data tests: the sample county, and filling in the data workbook
the way an office would (by the cells of the generated template)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from bot.indicators.workbook import FIRST_ROW, META
from bot.services import Services
from bot.tables.setup import apply_setup, load_setup

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CAMPAIGN = EXAMPLES / "campaign.toml"
SAMPLE = EXAMPLES / "school-data.xlsx"


async def sample_campaign(services: Services) -> None:
    """The sample county's campaign, units, people, standard set and links (no figures)."""
    async with services.session() as session:
        await apply_setup(session, load_setup(CAMPAIGN), str(CAMPAIGN))


def _columns(book: Any, key: str) -> dict[str, int]:
    found = {}
    for row in book[META].iter_rows(values_only=True):
        if row and row[0] == "column" and row[1] == key:
            found[str(row[3])] = int(row[2])
    return found


def _sheet(book: Any, key: str) -> Any:
    for row in book[META].iter_rows(values_only=True):
        if row and row[0] == "sheet" and row[1] == key:
            return book[str(row[2])]
    raise KeyError(key)


def fill_schools(data: bytes, rows: Mapping[tuple[str, str], Mapping[str, Any]]) -> bytes:
    """Write figures into the school sheet: (school, level label) → {resource: value}; a
    pair not in the template gets a new row at the end."""
    book = load_workbook(io.BytesIO(data))
    sheet = _sheet(book, "schools")
    columns = _columns(book, "schools")
    where = {(sheet.cell(row=r, column=1).value, sheet.cell(row=r, column=2).value): r
             for r in range(FIRST_ROW, sheet.max_row + 1)
             if sheet.cell(row=r, column=1).value}
    next_row = max([FIRST_ROW - 1, *where.values()]) + 1
    for (school, level), values in rows.items():
        # The template's row of that part, else the row of a school without a level yet.
        row = where.get((school, level)) or where.pop((school, None), None)
        if row is None:
            row, next_row = next_row, next_row + 1
            sheet.cell(row=row, column=1, value=school)
        sheet.cell(row=row, column=2, value=level)
        where[(school, level)] = row
        for resource, value in values.items():
            sheet.cell(row=row, column=columns[resource], value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def school_values(data: bytes) -> dict[tuple[str, str], dict[str, Any]]:
    """The filled cells of the school sheet, as `fill_schools` takes them."""
    book = load_workbook(io.BytesIO(data))
    sheet = _sheet(book, "schools")
    columns = _columns(book, "schools")
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for r in range(FIRST_ROW, sheet.max_row + 1):
        school = sheet.cell(row=r, column=1).value
        if not school:
            continue
        values = {resource: sheet.cell(row=r, column=c).value for resource, c in columns.items()}
        found[(school, sheet.cell(row=r, column=2).value)] = {k: v for k, v in values.items()
                                                              if v is not None}
    return found
