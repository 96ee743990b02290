"""The rectification ledger (整改台账) as an XLSX workbook.

Rows stream from the database into openpyxl's write-only mode, which writes each row to
disk as it comes, so 200,000 tasks need no more memory than a few thousand.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.deadlines import is_overdue, urgency
from bot.indicators.problems import LedgerProblem, indicator_problems, write_standard_sheets
from bot.reports.summary import rank_units
from bot.texts import Texts
from db.models import Campaign
from db.repositories import reports as reports_repo
from db.repositories.reports import TaskScope
from db.repositories.reports import ledger as ledger_repo
from db.repositories.reports.ledger import LedgerRow

LEDGER_COLUMNS = (
    ("id", 8), ("unit", 22), ("indicator_code", 10), ("indicator", 22), ("veto", 8),
    ("phase", 12), ("title", 40), ("owner", 12), ("due", 17), ("status", 10),
    ("progress", 8), ("evidence", 10), ("evidence_required", 10), ("updated", 17),
    ("note", 40), ("days_late", 9),
)
SUMMARY_COLUMNS = (
    ("rank", 6), ("unit", 24), ("active", 10), ("done", 10), ("completion", 10),
    ("open", 10), ("overdue", 10), ("blocked", 10), ("progress", 10),
)
DATE_FORMAT = "yyyy-mm-dd hh:mm"
YIELD_EVERY = 200
PERCENT_FORMAT = "0%"
OVERDUE_FILL = PatternFill(fill_type="solid", start_color="FFC7CE", end_color="FFC7CE")
HEADER_FILL = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
HEADER_FONT = Font(bold=True)


@dataclass(frozen=True)
class LedgerStats:
    rows: int
    overdue: int
    units: int


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    # Excel has no time zones: write the campaign's wall-clock time.
    return None if value is None else value.astimezone(zone).replace(tzinfo=None)


def _header(sheet: Any, texts: Texts, lang: str, prefix: str, columns: tuple[tuple[str, int], ...]
            ) -> None:
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    cells = []
    for key, _ in columns:
        cell = WriteOnlyCell(sheet, value=texts.plain(lang, f"{prefix}.{key}"))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cells.append(cell)
    sheet.append(cells)


def ledger_values(
    row: LedgerRow, texts: Texts, lang: str, now: datetime, zone: ZoneInfo
) -> list[Any]:
    """One task's row, in LEDGER_COLUMNS order (plain values; styling is applied apart)."""
    u = urgency(row.due_at, now, zone) if row.status.is_open else None
    # Missing values are empty cells (None), so Excel's filters offer "(blanks)".
    return [
        row.id, row.unit_name, row.indicator_code, row.indicator_name,
        texts.plain(lang, "reports.ledger.yes") if row.indicator_veto else None,
        row.phase_name, row.title, row.owner_name, _local(row.due_at, zone),
        texts.plain(lang, f"status.{row.status.value}"), row.progress, row.evidence_count,
        row.evidence_required, _local(row.updated_at, zone), row.latest_note or None,
        u.days if u is not None and u.overdue else None,
    ]


_DATE_COLUMNS = {i for i, (key, _) in enumerate(LEDGER_COLUMNS) if key in ("due", "updated")}


def problem_values(problem: LedgerProblem, texts: Texts, lang: str) -> list[Any]:
    """A problem the indicator data shows, as a ledger row: no task behind it yet."""
    return [
        None, problem.unit or None, problem.indicator_code, problem.indicator_name,
        texts.plain(lang, "reports.ledger.yes") if problem.veto else None, None,
        problem.problem, problem.leader, None, texts.plain(lang, "indicators.ledger.status"),
        None, None, None, None, problem.measure, None,
    ]


def _styled(sheet: Any, values: list[Any], overdue: bool) -> list[Any]:
    if not overdue:
        cells: list[Any] = list(values)
        for i in _DATE_COLUMNS:
            if values[i] is not None:
                cell = WriteOnlyCell(sheet, value=values[i])
                cell.number_format = DATE_FORMAT
                cells[i] = cell
        return cells
    styled = []
    for i, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=value)
        cell.fill = OVERDUE_FILL
        if i in _DATE_COLUMNS:
            cell.number_format = DATE_FORMAT
        styled.append(cell)
    return styled


async def write_ledger(
    session: AsyncSession,
    *,
    campaign: Campaign,
    scope: TaskScope,
    now: datetime,
    zone: ZoneInfo,
    texts: Texts,
    lang: str,
    path: Path,
) -> LedgerStats:
    """Write the ledger workbook to `path`: the task sheet, then the summary by unit."""
    workbook = Workbook(write_only=True)
    tasks_sheet = workbook.create_sheet(texts.plain(lang, "reports.ledger.sheet_tasks"))
    _header(tasks_sheet, texts, lang, "reports.ledger_col", LEDGER_COLUMNS)
    count = overdue = 0
    async for row in ledger_repo.ledger_rows(session=session, campaign_id=campaign.id,
                                              scope=scope):
        late = row.status.is_open and is_overdue(row.due_at, now)
        tasks_sheet.append(_styled(tasks_sheet, ledger_values(row, texts, lang, now, zone), late))
        count += 1
        overdue += late
        if count % YIELD_EVERY == 0:
            # openpyxl costs ~0.2 ms a row: let other updates through now and then.
            await asyncio.sleep(0)
    units_seen = None if scope.everything else scope.unit_ids
    problems = await indicator_problems(session, campaign_id=campaign.id, now=now, texts=texts,
                                        lang=lang, unit_ids=units_seen)
    for problem in problems:
        tasks_sheet.append(problem_values(problem, texts, lang))
    last_column = get_column_letter(len(LEDGER_COLUMNS))
    tasks_sheet.auto_filter.ref = f"A1:{last_column}{count + len(problems) + 1}"

    summary_sheet = workbook.create_sheet(texts.plain(lang, "reports.ledger.sheet_units"))
    _header(summary_sheet, texts, lang, "reports.ledger_sum", SUMMARY_COLUMNS)
    tallies = await reports_repo.tallies(
        session=session, campaign_id=campaign.id, scope=scope, now=now, by=("unit",)
    )
    ranked = rank_units(tallies["unit"], await reports_repo.units(session=session))
    for rank, standing in enumerate(ranked, start=1):
        c = standing.counts
        values: list[Any] = [rank, standing.name, c.active, c.done, c.completion, c.open,
                             c.overdue, c.blocked, (c.mean_progress or 0) / 100]
        cells: list[Any] = []
        for i, value in enumerate(values):
            cell = WriteOnlyCell(summary_sheet, value=value)
            if SUMMARY_COLUMNS[i][0] in ("completion", "progress"):
                cell.number_format = PERCENT_FORMAT
            if c.overdue and SUMMARY_COLUMNS[i][0] == "overdue":
                cell.fill = OVERDUE_FILL
            cells.append(cell)
        summary_sheet.append(cells)
    summary_last = get_column_letter(len(SUMMARY_COLUMNS))
    summary_sheet.auto_filter.ref = f"A1:{summary_last}{len(ranked) + 1}"
    await write_standard_sheets(workbook, session, campaign_id=campaign.id, texts=texts,
                                lang=lang, unit_ids=units_seen)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Zipping the sheets is the one long CPU step: keep it off the event loop.
    await asyncio.to_thread(workbook.save, str(path))
    return LedgerStats(rows=count, overdue=overdue, units=len(ranked))
