"""The rectification ledger (整改台账) as an XLSX workbook, laid out as offices keep it.

One row per problem: 序号, 问题, 整改措施, 责任单位, 配合单位, 责任领导, 责任人, 完成时限,
完成情况, 销号 (the date it was closed), then what the bot knows besides (indicator, phase,
evidence handed in against what is asked for, by name, the last note a person wrote, days
overdue). A second sheet ranks the units. Both print on landscape A4, one page wide, with
the header row on every page.

Rows stream from the database in batches; each batch is written by the shared XLSX writer
(`bot.core.spreadsheet`) in a worker thread, so the event loop keeps answering other people
while a 200,000-row ledger is built, and memory stays flat.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.deadlines import is_overdue, urgency
from bot.core.spreadsheet import (
    DATE,
    DATE_TIME,
    HIGHLIGHT_RED,
    PERCENT,
    ColumnSpec,
    Look,
    PrintSetup,
    Sheet,
    Workbook,
)
from bot.reports.summary import rank_units
from bot.texts import Texts
from db.models import Campaign, TaskStatus
from db.repositories import reports as reports_repo
from db.repositories.reports import TaskScope
from db.repositories.reports import ledger as ledger_repo
from db.repositories.reports.ledger import LedgerRow

# (text id under reports.ledger_col, width, number format, wrapped)
LEDGER_COLUMNS: tuple[tuple[str, float, str | None, bool], ...] = (
    ("number", 6, None, False), ("id", 7, None, False), ("title", 34, None, True),
    ("measures", 40, None, True), ("unit", 16, None, True), ("partners", 16, None, True),
    ("leader", 9, None, False), ("owner", 9, None, False), ("due", 16, DATE_TIME, False),
    ("state", 14, None, False), ("closed", 11, DATE, False),
    ("indicator", 18, None, True), ("veto", 6, None, False), ("phase", 10, None, False),
    ("evidence", 8, None, False), ("evidence_required", 8, None, False),
    ("evidence_items", 24, None, True), ("note", 30, None, True), ("days_late", 8, None, False),
    ("updated", 16, DATE_TIME, False),
)
SUMMARY_COLUMNS: tuple[tuple[str, float, str | None, bool], ...] = (
    ("rank", 6, None, False), ("unit", 24, None, False), ("active", 10, None, False),
    ("done", 10, None, False), ("completion", 10, PERCENT, False), ("open", 10, None, False),
    ("overdue", 10, None, False), ("blocked", 10, None, False),
    ("progress", 10, PERCENT, False),
)
BATCH = 1000
OVERDUE = Look(fill=HIGHLIGHT_RED)


@dataclass(frozen=True)
class LedgerStats:
    rows: int
    overdue: int
    units: int


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    # Excel has no time zones: write the campaign's wall-clock time.
    return None if value is None else value.astimezone(zone).replace(tzinfo=None)


def _columns(texts: Texts, lang: str, prefix: str,
             columns: tuple[tuple[str, float, str | None, bool], ...]) -> list[ColumnSpec]:
    return [ColumnSpec(texts.plain(lang, f"{prefix}.{key}"), width, fmt, wrap)
            for key, width, fmt, wrap in columns]


def completion_state(row: LedgerRow, texts: Texts, lang: str, now: datetime,
                     zone: ZoneInfo) -> str:
    """完成情况 as an office writes it: 已完成, 进行中（60%）, 逾期 3 天（40%）, 受阻 …"""
    status = texts.plain(lang, f"status.{row.status.value}")
    if not row.status.is_open:
        return status
    u = urgency(row.due_at, now, zone)
    if u is not None and u.overdue:
        return texts.plain(lang, "reports.ledger.state_late", days=u.days, progress=row.progress)
    return texts.plain(lang, "reports.ledger.state_open", status=status, progress=row.progress)


def ledger_values(
    number: int, row: LedgerRow, texts: Texts, lang: str, now: datetime, zone: ZoneInfo
) -> list[Any]:
    """One task's row, in LEDGER_COLUMNS order (plain values; the row's look is apart)."""
    u = urgency(row.due_at, now, zone) if row.status.is_open else None
    indicator = " ".join(p for p in (row.indicator_code, row.indicator_name) if p) or None
    closed = (_local(row.done_at, zone) if row.status is TaskStatus.DONE else None)
    # Missing values are empty cells (None), so Excel's filters offer "(blanks)".
    return [
        number, row.id, row.title, row.description or None, row.unit_name,
        row.partners or None, row.leader_name, row.owner_name, _local(row.due_at, zone),
        completion_state(row, texts, lang, now, zone), closed.date() if closed else None,
        indicator, texts.plain(lang, "reports.ledger.yes") if row.indicator_veto else None,
        row.phase_name, row.evidence_count, row.evidence_required,
        texts.plain(lang, "reports.ledger.list_sep").join(row.evidence_items) or None,
        row.latest_note or None, u.days if u is not None and u.overdue else None,
        _local(row.updated_at, zone),
    ]


def _append_all(sheet: Sheet, rows: list[tuple[list[Any], bool]]) -> None:
    for values, late in rows:
        sheet.append(values, look=OVERDUE if late else None)


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
    """Write the ledger workbook to `path`: the problems, then the units ranked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    footer = texts.plain(lang, "reports.ledger.footer")
    setup = PrintSetup(footer=footer)
    book = await asyncio.to_thread(Workbook, path)
    try:
        sheet = await asyncio.to_thread(
            book.add_sheet, texts.plain(lang, "reports.ledger.sheet_tasks"),
            _columns(texts, lang, "reports.ledger_col", LEDGER_COLUMNS), setup=setup,
        )
        count = overdue = 0
        batch: list[tuple[list[Any], bool]] = []
        async for row in ledger_repo.ledger_rows(session=session, campaign_id=campaign.id,
                                                  scope=scope):
            late = row.status.is_open and is_overdue(row.due_at, now)
            count += 1
            overdue += late
            batch.append((ledger_values(count, row, texts, lang, now, zone), late))
            if len(batch) >= BATCH:
                await asyncio.to_thread(_append_all, sheet, batch)
                batch = []
        await asyncio.to_thread(_append_all, sheet, batch)

        tallies = await reports_repo.tallies(
            session=session, campaign_id=campaign.id, scope=scope, now=now, by=("unit",)
        )
        ranked = rank_units(tallies["unit"], await reports_repo.units(session=session))
        units = await asyncio.to_thread(
            book.add_sheet, texts.plain(lang, "reports.ledger.sheet_units"),
            _columns(texts, lang, "reports.ledger_sum", SUMMARY_COLUMNS), setup=setup,
        )
        summary: list[tuple[list[Any], bool]] = []
        for rank, standing in enumerate(ranked, start=1):
            c = standing.counts
            summary.append(([rank, standing.name, c.active, c.done, c.completion, c.open,
                             c.overdue, c.blocked, (c.mean_progress or 0) / 100],
                            bool(c.overdue)))
        await asyncio.to_thread(_append_all, units, summary)
        # Zipping the last parts is the one long step left: keep it off the event loop too.
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.to_thread(book.abort)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return LedgerStats(rows=count, overdue=overdue, units=len(ranked))
