"""Exporting every task of the active campaign as an XLSX breakdown table.

The headers are the ones the importer reads, so an exported file sent back unchanged
imports as "no changes"; status and progress are there for the reader and are not applied.
Rows are streamed from the database into a write-only workbook, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.tables.parse import ALIASES, Column
from bot.tables.rows import PRIORITY_LABELS
from db.models import TaskStatus
from db.repositories import campaigns as campaigns_repo
from db.repositories import tables as imports_repo

EXPORT_COLUMNS: tuple[Column, ...] = (
    Column.KEY,
    Column.UNIT,
    Column.TASK,
    Column.INDICATOR,
    Column.INDICATOR_NAME,
    Column.VETO,
    Column.OWNER,
    Column.DEADLINE,
    Column.PHASE,
    Column.STATUS,
    Column.PROGRESS,
    Column.EVIDENCE,
    Column.PRIORITY,
    Column.DESCRIPTION,
)
_WIDTHS = {Column.KEY: 14, Column.UNIT: 18, Column.TASK: 40, Column.DEADLINE: 17,
           Column.DESCRIPTION: 40, Column.OWNER: 10, Column.INDICATOR_NAME: 18}


def deadline_cell(due_at: datetime | None, zone: ZoneInfo) -> datetime | str:
    """A real date cell in local time; midnight is written as text, because a date cell at
    00:00 reads back as a bare date, which the importer places at the end of the day."""
    if due_at is None:
        return ""
    local = due_at.astimezone(zone).replace(tzinfo=None)
    if local.time() == time(0, 0):
        return local.strftime("%Y-%m-%d %H:%M")
    return local


async def export_tasks(
    session: AsyncSession,
    target: Path | IO[bytes],
    *,
    zone: ZoneInfo,
    status_labels: Mapping[TaskStatus, str],
) -> int:
    """Write the active campaign's tasks to `target`; returns how many were written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    def text(value: str) -> WriteOnlyCell:
        # openpyxl stores a string starting with "=" as a formula: keep what people typed
        # as text, so a title never turns into something a spreadsheet program computes.
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        if value.startswith("="):
            cell.data_type = "s"
        return cell

    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is None:
        raise InvalidInput("tables.no_campaign")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("任务分解表")
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(column, 9)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=ALIASES[column][0])
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    async for row in imports_repo.export_rows(session=session, campaign_id=campaign.id):
        due = deadline_cell(row.due_at, zone)
        due_cell = WriteOnlyCell(sheet, value=due)
        if isinstance(due, datetime):
            due_cell.number_format = "yyyy-mm-dd hh:mm"
        sheet.append([
            text(row.key),
            text(row.unit),
            text(row.title),
            text(row.indicator_code or ""),
            text(row.indicator_name or ""),
            ("是" if row.indicator_veto else "否") if row.indicator_code else "",
            text(row.owner or ""),
            due_cell,
            text(row.phase or ""),
            status_labels.get(row.status, row.status.value),
            row.progress,
            row.evidence_required,
            PRIORITY_LABELS.get(row.priority, str(row.priority)),
            text(row.description),
        ])
        count += 1
    workbook.save(target)
    return count
