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
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

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
from bot.indicators.problems import LedgerProblem, indicator_problems, write_standard_sheets
from bot.reports.summary import rank_units
from bot.texts import Texts
from db.models import Campaign, TaskStatus
from db.repositories import reports as reports_repo
from db.repositories import tasks as tasks_repo
from db.repositories.reports import TaskScope
from db.repositories.reports import ledger as ledger_repo
from db.repositories.reports.ledger import LedgerRow, as_utc

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
    found = as_utc(value)
    return None if found is None else found.astimezone(zone).replace(tzinfo=None)


def _columns(texts: Texts, lang: str, prefix: str,
             columns: tuple[tuple[str, float, str | None, bool], ...]) -> list[ColumnSpec]:
    return [ColumnSpec(texts.plain(lang, f"{prefix}.{key}"), width, fmt, wrap)
            for key, width, fmt, wrap in columns]


@dataclass(frozen=True)
class LedgerWords:
    """The ledger's words in one language, looked up once rather than per row."""

    status: dict[TaskStatus, str]
    state_open: str
    state_late: str
    yes: str
    separator: str

    @classmethod
    def of(cls, texts: Texts, lang: str) -> LedgerWords:
        return cls(
            status={s: texts.plain(lang, f"status.{s.value}") for s in TaskStatus},
            state_open=texts.raw(lang, "reports.ledger.state_open"),
            state_late=texts.raw(lang, "reports.ledger.state_late"),
            yes=texts.plain(lang, "reports.ledger.yes"),
            separator=texts.plain(lang, "reports.ledger.list_sep"),
        )


def ledger_values(
    number: int, row: LedgerRow, words: LedgerWords, now: datetime, zone: ZoneInfo,
    partners: str = "", today: date | None = None,
) -> tuple[list[Any], bool]:
    """One task's row in LEDGER_COLUMNS order, and whether it is overdue (the row's look).

    完成情况 as an office writes it: 已完成, 进行中（60%）, 逾期 3 天（40%）. Overdue and the
    days late follow `bot.core.deadlines.urgency` (calendar days, local time), computed
    inline: at 200,000 rows every call per row shows."""
    status = row.status
    due = as_utc(row.due_at)
    due_local = None if due is None else due.astimezone(zone).replace(tzinfo=None)
    late = due is not None and due < now and status.is_open
    label = words.status[status]
    days = 0
    if late and due_local is not None:
        days = max(0, ((today or now.astimezone(zone).date()) - due_local.date()).days)
        state = words.state_late.format(days=days, progress=row.progress)
    elif status.is_open:
        state = words.state_open.format(status=label, progress=row.progress)
    else:
        state = label
    code, name = row.indicator_code, row.indicator_name
    indicator = f"{code} {name}" if code and name else code or name or None
    closed = _local(row.done_at, zone) if status is TaskStatus.DONE else None
    # Missing values are empty cells (None), so Excel's filters offer "(blanks)".
    return [
        number, row.id, row.title, row.description or None, row.unit_name, partners or None,
        row.leader_name, row.owner_name, due_local, state,
        closed.date() if closed else None, indicator, words.yes if row.indicator_veto else None,
        row.phase_name, row.evidence_count or 0, row.evidence_required,
        words.separator.join(row.evidence_items) if row.evidence_items else None,
        row.latest_note or None, days if late else None, _local(row.updated_at, zone),
    ], late


def problem_values(number: int, problem: LedgerProblem, words: LedgerWords, state: str
                   ) -> list[Any]:
    """A problem the indicator data shows, as a ledger row: no task behind it yet (the
    unit's leader answers for it; the measure is what the data asks for)."""
    code, name = problem.indicator_code, problem.indicator_name
    indicator = f"{code} {name}" if code and name else code or name or None
    return [
        number, None, problem.problem, problem.measure or None, problem.unit or None, None,
        problem.leader, None, None, state, None, indicator,
        words.yes if problem.veto else None, None, None, None, None, None, None, None,
    ]


class _Cells:
    """A sheet as `write_standard_sheets` (the indicators feature) writes it: openpyxl's
    write-only cells, appended row by row; each cell's value, bold and fill are kept.
    `parent` is an empty openpyxl workbook: the cells keep their styles in it."""

    def __init__(self, sheet: Sheet, styles: Any) -> None:
        self.sheet = sheet
        self.parent = styles

    def append(self, cells: list[Any]) -> None:
        values = [getattr(cell, "value", cell) for cell in cells]
        looks = [_look_of(cell) for cell in cells]
        self.sheet.append(values, looks=looks)


def _look_of(cell: Any) -> Look | None:
    font, fill = getattr(cell, "font", None), getattr(cell, "fill", None)
    bold = bool(font is not None and font.b)
    color = None
    if fill is not None and fill.fill_type == "solid":
        color = str(fill.fgColor.rgb)[-6:]
    return Look(bold=bold, fill=color) if bold or color else None


class _Book:
    """What `write_standard_sheets` expects of a workbook: `create_sheet(title)`."""

    def __init__(self, book: Workbook) -> None:
        from openpyxl import Workbook as StyleBook

        self.book = book
        self.styles = StyleBook(write_only=True)

    def create_sheet(self, title: str) -> _Cells:
        return _Cells(self.book.add_sheet(title, (), freeze_header=False, autofilter=False,
                                          setup=PrintSetup(footer=PAGE_FOOTER)), self.styles)


PAGE_FOOTER = "第 &P 页，共 &N 页"


def _append_all(sheet: Sheet, rows: list[tuple[list[Any], bool]]) -> None:
    for values, late in rows:
        sheet.append(values, look=OVERDUE if late else None)


@dataclass
class _TaskSheet:
    """Turns the database's rows into the ledger's and writes them (in a worker thread)."""

    sheet: Sheet
    words: LedgerWords
    partners: dict[int, str]
    now: datetime
    zone: ZoneInfo
    count: int = 0
    overdue: int = 0

    def write(self, rows: list[LedgerRow]) -> None:
        append, partners = self.sheet.append, self.partners
        today = self.now.astimezone(self.zone).date()
        for row in rows:
            self.count += 1
            values, late = ledger_values(self.count, row, self.words, self.now, self.zone,
                                         partners.get(row.id, ""), today)
            self.overdue += late
            append(values, look=OVERDUE if late else None)


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
    setup = PrintSetup(footer=texts.plain(lang, "reports.ledger.footer"))
    book = await asyncio.to_thread(Workbook, path)
    try:
        sheet = await asyncio.to_thread(
            book.add_sheet, texts.plain(lang, "reports.ledger.sheet_tasks"),
            _columns(texts, lang, "reports.ledger_col", LEDGER_COLUMNS), setup=setup,
        )
        partners = await tasks_repo.partner_names(
            session=session, campaign_id=campaign.id,
            separator=texts.plain(lang, "reports.ledger.list_sep"),
        )
        tasks = _TaskSheet(sheet, LedgerWords.of(texts, lang), partners, now, zone)
        async for batch in ledger_repo.ledger_rows(session=session, campaign_id=campaign.id,
                                                    scope=scope, chunk=BATCH):
            # The loop only fetches; building and writing the rows is the worker's.
            await asyncio.to_thread(tasks.write, batch)
        # After the tasks: the problems the indicator data shows that no task covers yet.
        units_seen = None if scope.everything else scope.unit_ids
        problems = await indicator_problems(session, campaign_id=campaign.id, now=now,
                                            texts=texts, lang=lang, unit_ids=units_seen)
        state = texts.plain(lang, "indicators.ledger.status")
        await asyncio.to_thread(_append_all, sheet, [
            (problem_values(tasks.count + n, problem, tasks.words, state), False)
            for n, problem in enumerate(problems, start=1)
        ])

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
        # One sheet per standard set with each school's figures (the indicators feature).
        await write_standard_sheets(_Book(book), session, campaign_id=campaign.id,
                                    texts=texts, lang=lang, unit_ids=units_seen)
        # Zipping the last parts is the one long step left: keep it off the event loop too.
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.to_thread(book.abort)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return LedgerStats(rows=tasks.count, overdue=tasks.overdue, units=len(ranked))
