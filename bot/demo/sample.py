"""The sample campaign of `examples/`, dated around the day the demo first starts.

The files carry fixed dates (an inspection on 2026-12-28). The demo moves every date by the
same number of days so that the inspection is `LEAD_DAYS` ahead of the first start: the
phases, the deadlines and the gaps between them stay exactly as the office wrote them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.errors import InvalidInput
from bot.tables.parse import HEADER_SCAN_ROWS, Column, column_for
from bot.tables.setup import SetupFile, load_setup

SETUP_FILE = "campaign.toml"
TABLE_FILE = "breakdown.xlsx"
# Four weeks before the inspection: the rectification phase is ending, the mock inspection
# is next, and most of what was due has been done — a campaign in motion.
LEAD_DAYS = 28

# A date written as text in a cell (`2026/12/10 12:00`, `2026年12月28日`), any separators.
_TEXT_DATE = re.compile(r"(\d{4})([-/.年])(\d{1,2})([-/.月])(\d{1,2})")


@dataclass(frozen=True)
class Sample:
    setup: SetupFile
    table: bytes
    table_name: str
    # Days added to every date of the files.
    shift: int

    @property
    def inspection_date(self) -> date | None:
        return self.setup.campaign.inspection_date

    @property
    def starts_on(self) -> date | None:
        """The first day of the first phase: when the breakdown table was issued."""
        starts = [p.starts_on for p in self.setup.phases if p.starts_on is not None]
        return min(starts, default=None)


def anchor_of(setup: SetupFile) -> date | None:
    """The day the sample is dated around: the inspection, else the end of the last phase."""
    if setup.campaign.inspection_date is not None:
        return setup.campaign.inspection_date
    ends = [p.ends_on or p.starts_on for p in setup.phases]
    return max((d for d in ends if d is not None), default=None)


def shift_for(setup: SetupFile, today: date, lead_days: int = LEAD_DAYS) -> int:
    anchor = anchor_of(setup)
    return 0 if anchor is None else (today + timedelta(days=lead_days) - anchor).days


def _moved(day: date | None, days: int) -> date | None:
    return None if day is None else day + timedelta(days=days)


def shift_setup(setup: SetupFile, days: int) -> SetupFile:
    campaign = setup.campaign.model_copy(
        update={"inspection_date": _moved(setup.campaign.inspection_date, days)}
    )
    phases = [
        p.model_copy(update={"starts_on": _moved(p.starts_on, days),
                             "ends_on": _moved(p.ends_on, days)})
        for p in setup.phases
    ]
    return setup.model_copy(update={"campaign": campaign, "phases": phases})


def shift_text_dates(text: str, days: int) -> str:
    """Every date in a text moved by `days`, written with the same separators."""

    def move(match: re.Match[str]) -> str:
        year, sep1, month, sep2, day = match.groups()
        try:
            moved = date(int(year), int(month), int(day)) + timedelta(days=days)
        except ValueError:
            return match.group(0)
        # `2026-12-08` stays zero-padded; `2026年12月8日` is written as people write it.
        padded = sep1 != "年" or month.startswith("0") or day.startswith("0")
        width = 2 if padded else 1
        return f"{moved.year}{sep1}{moved.month:0{width}d}{sep2}{moved.day:0{width}d}"

    return _TEXT_DATE.sub(move, text)


def shift_table(data: bytes, days: int) -> bytes:
    """The workbook with every deadline moved by `days` (date cells and dates as text)."""
    from openpyxl import load_workbook  # not at start-up: ~0.3 s with numpy

    workbook = load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        column = _deadline_column(sheet)
        if column is None:
            continue
        header_row, index = column
        for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
            value = cell.value
            if isinstance(value, datetime | date):
                cell.value = value + timedelta(days=days)
            elif isinstance(value, str):
                cell.value = shift_text_dates(value, days)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _deadline_column(sheet: Any) -> tuple[int, int] | None:
    """(header row, column) of the deadline, found the way the importer finds it."""
    for row in sheet.iter_rows(max_row=HEADER_SCAN_ROWS):
        for cell in row:
            if column_for(cell.value) is Column.DEADLINE:
                return int(cell.row), int(cell.column)
    return None


def load_sample(directory: Path, today: date, lead_days: int = LEAD_DAYS) -> Sample:
    """Read `campaign.toml` and `breakdown.xlsx` and date them around `today`.

    Raises a `DomainError` for a missing file or a broken setup file.
    """
    setup = load_setup(directory / SETUP_FILE)
    days = shift_for(setup, today, lead_days)
    try:
        table = (directory / TABLE_FILE).read_bytes()
    except FileNotFoundError:
        raise InvalidInput("demo.sample_missing", file=str(directory / TABLE_FILE)) from None
    return Sample(shift_setup(setup, days), shift_table(table, days), TABLE_FILE, days)
