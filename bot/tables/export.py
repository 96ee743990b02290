"""Exporting every task of the active campaign as an XLSX breakdown table.

The headers are the ones the importer reads, so an exported file sent back unchanged
imports as "no changes"; status and progress are there for the reader and are not applied.
Rows stream from the database into the shared XLSX writer (`bot.core.spreadsheet`), so
memory stays flat and what people typed is written as text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.core.spreadsheet import DATE_TIME, ColumnSpec, PrintSetup, Sheet, Workbook
from bot.tables.parse import ALIASES, Column
from bot.tables.rows import PRIORITY_LABELS
from db.models import TaskStatus
from db.repositories import campaigns as campaigns_repo
from db.repositories import tables as imports_repo
from db.repositories import tasks as tasks_repo

PAGE_FOOTER = "第 &P 页，共 &N 页"

EXPORT_COLUMNS: tuple[Column, ...] = (
    Column.KEY,
    Column.UNIT,
    Column.PARTNERS,
    Column.TASK,
    Column.INDICATOR,
    Column.INDICATOR_NAME,
    Column.VETO,
    Column.OWNER,
    Column.LEADER,
    Column.DEADLINE,
    Column.PHASE,
    Column.STATUS,
    Column.PROGRESS,
    Column.EVIDENCE,
    Column.EVIDENCE_LIST,
    Column.PRIORITY,
    Column.DESCRIPTION,
)
_WIDTHS = {Column.KEY: 14, Column.UNIT: 18, Column.PARTNERS: 18, Column.TASK: 40,
           Column.DEADLINE: 17, Column.DESCRIPTION: 40, Column.OWNER: 10, Column.LEADER: 10,
           Column.INDICATOR_NAME: 18, Column.EVIDENCE_LIST: 24}
_WRAPPED = {Column.TASK, Column.DESCRIPTION, Column.EVIDENCE_LIST}
BATCH = 1000


def deadline_cell(due_at: datetime | None, zone: ZoneInfo) -> datetime | str:
    """A real date cell in local time; midnight is written as text, because a date cell at
    00:00 reads back as a bare date, which the importer places at the end of the day."""
    if due_at is None:
        return ""
    local = due_at.astimezone(zone).replace(tzinfo=None)
    if local.time() == time(0, 0):
        return local.strftime("%Y-%m-%d %H:%M")
    return local


def _columns() -> list[ColumnSpec]:
    return [
        ColumnSpec(ALIASES[c][0], _WIDTHS.get(c, 9),
                   DATE_TIME if c is Column.DEADLINE else None, wrap=c in _WRAPPED)
        for c in EXPORT_COLUMNS
    ]


def _append_all(sheet: Sheet, rows: list[list[Any]]) -> None:
    for row in rows:
        sheet.append(row)


async def export_tasks(
    session: AsyncSession,
    target: Path | IO[bytes],
    *,
    zone: ZoneInfo,
    status_labels: Mapping[TaskStatus, str],
) -> int:
    """Write the active campaign's tasks to `target`; returns how many were written.

    Rows come from the database in batches and are written in a worker thread, so a
    large export does not hold up other people's updates."""
    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is None:
        raise InvalidInput("tables.no_campaign")
    partners = await tasks_repo.partner_names(session=session, campaign_id=campaign.id)
    book = await asyncio.to_thread(Workbook, target)
    try:
        sheet = await asyncio.to_thread(
            book.add_sheet, "任务分解表", _columns(), setup=PrintSetup(footer=PAGE_FOOTER)
        )
        count = 0
        batch: list[list[Any]] = []
        async for row in imports_repo.export_rows(session=session, campaign_id=campaign.id):
            batch.append([
                row.key, row.unit, partners.get(row.id, ""), row.title,
                row.indicator_code or "", row.indicator_name or "",
                ("是" if row.indicator_veto else "否") if row.indicator_code else "",
                row.owner or "", row.leader or "", deadline_cell(row.due_at, zone),
                row.phase or "", status_labels.get(row.status, row.status.value),
                row.progress, row.evidence_required, "、".join(row.evidence_items),
                PRIORITY_LABELS.get(row.priority, str(row.priority)), row.description,
            ])
            count += 1
            if len(batch) >= BATCH:
                await asyncio.to_thread(_append_all, sheet, batch)
                batch = []
        await asyncio.to_thread(_append_all, sheet, batch)
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.to_thread(book.abort)
        raise
    return count
