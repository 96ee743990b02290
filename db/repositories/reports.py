"""Read-only queries behind summaries, charts, the ledger and bulletins.

Everything that counts is done by the database (GROUP BY with conditional sums), so a
summary of 200,000 tasks transfers a few thousand small rows, never the tasks themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    BulletinLog,
    Evidence,
    EvidenceStatus,
    Indicator,
    Person,
    Phase,
    QuizCard,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
)
from db.models.core import OPEN_STATUSES

CLOSED_STATUSES = (TaskStatus.DONE, TaskStatus.CANCELLED)
GroupBy = Literal["unit", "indicator", "phase", "owner"]


@dataclass(frozen=True)
class TaskScope:
    """The tasks a reader may count: all of them, or those of some units and/or one owner."""

    everything: bool = False
    unit_ids: frozenset[int] = frozenset()
    owner_id: int | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.unit_ids:
            parts.append(Task.unit_id.in_(sorted(self.unit_ids)))
        if self.owner_id is not None:
            parts.append(Task.owner_id == self.owner_id)
        return or_(*parts) if parts else false()


EVERYTHING = TaskScope(everything=True)


@dataclass(frozen=True)
class Tally:
    """Counts for one group of tasks (one unit, indicator, phase or owner; None = unset)."""

    key: int | None
    total: int
    done: int
    cancelled: int
    blocked: int
    overdue: int
    undated: int
    progress_sum: int  # over tasks that are not cancelled, a done task counting 100


@dataclass(frozen=True)
class TaskLine:
    """One task as a list shows it: plain values, no ORM object behind it."""

    id: int
    title: str
    unit_id: int
    unit_name: str
    owner_name: str | None
    due_at: datetime | None
    status: TaskStatus
    progress: int
    indicator_code: str | None
    indicator_veto: bool


@dataclass(frozen=True)
class LedgerRow:
    id: int
    unit_name: str
    indicator_code: str | None
    indicator_name: str | None
    indicator_veto: bool
    phase_name: str | None
    title: str
    owner_name: str | None
    due_at: datetime | None
    status: TaskStatus
    progress: int
    evidence_required: int
    evidence_count: int
    updated_at: datetime
    latest_note: str | None


@dataclass(frozen=True)
class UnitRef:
    id: int
    name: str
    parent_id: int | None


@dataclass(frozen=True)
class IndicatorRef:
    id: int
    code: str
    name: str
    veto: bool


@dataclass(frozen=True)
class PhaseFinish:
    unit_id: int
    phase_id: int
    finished_at: datetime


def _is_open() -> ColumnElement[bool]:
    return Task.status.in_(OPEN_STATUSES)


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(_is_open(), Task.due_at.is_not(None), Task.due_at < now)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_GROUP_COLUMNS = {
    "unit": Task.unit_id,
    "indicator": Task.indicator_id,
    "phase": Task.phase_id,
    "owner": Task.owner_id,
}


async def tallies(
    *,
    session: AsyncSession,
    campaign_id: int,
    scope: TaskScope,
    now: datetime,
    by: Sequence[GroupBy],
) -> dict[GroupBy, list[Tally]]:
    """Counts per unit, indicator, phase or owner; several groupings from one scan.

    The inner query groups by the grouping columns and the status, in the order of a
    covering index, so it streams without sorting and evaluates nothing costly per task;
    the outer one folds those few thousand per-status rows into one row per group.
    """
    columns = [_GROUP_COLUMNS[b].label(b) for b in by]
    late = case((and_(Task.due_at.is_not(None), Task.due_at < now), 1), else_=0)
    undated = case((Task.due_at.is_(None), 1), else_=0)
    per_status = (
        select(
            *columns, Task.status.label("status"), func.count().label("n"),
            func.sum(Task.progress).label("progress"), func.sum(late).label("late"),
            func.sum(undated).label("undated"),
        )
        .where(Task.campaign_id == campaign_id, scope.condition())
        .group_by(*(_GROUP_COLUMNS[b] for b in by), Task.status)
        .subquery()
    )
    c = per_status.c
    is_open = c.status.in_(OPEN_STATUSES)

    def total_if(condition: ColumnElement[bool], value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    keys = [c[b] for b in by]
    stmt = select(
        *keys,
        func.sum(c.n),
        total_if(c.status == TaskStatus.DONE, c.n),
        total_if(c.status == TaskStatus.CANCELLED, c.n),
        total_if(c.status == TaskStatus.BLOCKED, c.n),
        total_if(is_open, c.late),
        total_if(is_open, c.undated),
        total_if(c.status == TaskStatus.DONE, 100 * c.n) + total_if(is_open, c.progress),
    ).group_by(*keys)
    rows: Sequence[Any] = (await session.execute(stmt)).all()
    if len(by) == 1:
        return {by[0]: [Tally(r[0], *(int(v) for v in r[1:])) for r in rows]}
    sums: dict[GroupBy, dict[int | None, list[int]]] = {b: {} for b in by}
    for row in rows:
        values = [int(v) for v in row[len(by):]]
        for i, b in enumerate(by):
            acc = sums[b].setdefault(row[i], [0] * len(values))
            for j, value in enumerate(values):
                acc[j] += value
    return {b: [Tally(key, *acc) for key, acc in sums[b].items()] for b in by}


def _line(row: Any) -> TaskLine:
    return TaskLine(
        id=row[0], title=row[1], unit_id=row[2], unit_name=row[3], owner_name=row[4],
        due_at=row[5], status=row[6], progress=row[7], indicator_code=row[8],
        indicator_veto=bool(row[9]),
    )


async def task_lines(
    *,
    session: AsyncSession,
    campaign_id: int,
    scope: TaskScope,
    now: datetime,
    unit_id: int | None = None,
    indicator_id: int | None = None,
    overdue_only: bool = False,
    veto_risk_only: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[TaskLine], int]:
    """A page of tasks (open before closed, then by deadline) and how many match in all.

    The filters touch only task columns (veto indicators through a subquery), so both the
    page and the count are answered from an index; names are joined for the page alone.
    """
    conditions: list[ColumnElement[bool]] = [Task.campaign_id == campaign_id, scope.condition()]
    if unit_id is not None:
        conditions.append(Task.unit_id == unit_id)
    if indicator_id is not None:
        conditions.append(Task.indicator_id == indicator_id)
    if overdue_only:
        conditions.append(_overdue(now))
    if veto_risk_only:
        vetoed = select(Indicator.id).where(Indicator.veto.is_(True))
        conditions.append(Task.indicator_id.in_(vetoed.scalar_subquery()))
        conditions.append(or_(_overdue(now), Task.status == TaskStatus.BLOCKED))
    page = (
        select(Task.id)
        .where(*conditions)
        .order_by(
            case((Task.status.in_(CLOSED_STATUSES), 1), else_=0),
            Task.due_at.is_(None),
            Task.due_at,
            Task.id,
        )
        .offset(offset)
        .limit(limit)
    )
    ids = list((await session.execute(page)).scalars().all())
    total = int(
        (await session.execute(select(func.count()).select_from(Task).where(*conditions)))
        .scalar_one()
    )
    if not ids:
        return [], total
    owner = aliased(Person)
    stmt = (
        select(
            Task.id, Task.title, Task.unit_id, Unit.name, owner.name, Task.due_at,
            Task.status, Task.progress, Indicator.code, Indicator.veto,
        )
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(owner, owner.id == Task.owner_id)
        .outerjoin(Indicator, Indicator.id == Task.indicator_id)
        .where(Task.id.in_(ids))
    )
    by_id = {row[0]: _line(row) for row in (await session.execute(stmt)).all()}
    return [by_id[i] for i in ids if i in by_id], total


async def units(*, session: AsyncSession) -> dict[int, UnitRef]:
    rows = (await session.execute(select(Unit.id, Unit.name, Unit.parent_id))).all()
    return {r[0]: UnitRef(r[0], r[1], r[2]) for r in rows}


async def indicators(*, session: AsyncSession) -> dict[int, IndicatorRef]:
    stmt = select(Indicator.id, Indicator.code, Indicator.name, Indicator.veto)
    return {r[0]: IndicatorRef(r[0], r[1], r[2], bool(r[3])) for r in (await session.execute(stmt))}


async def quiz_started(*, session: AsyncSession) -> bool:
    """Whether anyone has answered a quiz question yet (one index probe on an empty bank)."""
    stmt = select(QuizCard.id).limit(1)
    return (await session.execute(stmt)).first() is not None


async def phases(*, session: AsyncSession, campaign_id: int) -> Sequence[Phase]:
    stmt = select(Phase).where(Phase.campaign_id == campaign_id).order_by(Phase.position, Phase.id)
    return (await session.execute(stmt)).scalars().all()


async def finished_phases(
    *, session: AsyncSession, campaign_id: int, since: datetime
) -> list[PhaseFinish]:
    """Units whose every (uncancelled) task of a phase is done, the last one since `since`."""
    active = _count_if(Task.status != TaskStatus.CANCELLED)
    done = _count_if(Task.status == TaskStatus.DONE)
    last = func.max(Task.done_at)
    stmt = (
        select(Task.unit_id, Task.phase_id, last)
        .where(Task.campaign_id == campaign_id, Task.phase_id.is_not(None))
        .group_by(Task.unit_id, Task.phase_id)
        .having(and_(active > 0, active == done, last >= since))
    )
    rows: Sequence[Any] = (await session.execute(stmt)).all()
    return [PhaseFinish(r[0], int(r[1]), _aware(r[2])) for r in rows]


def _aware(value: Any) -> datetime:
    # An aggregate (max) loses the column type, so SQLite hands back a naive string.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo("UTC"))


def _local_day(session: AsyncSession, column: Any, zone: ZoneInfo, now: datetime) -> Any:
    """`YYYY-MM-DD` of an instant in the campaign's zone, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(zone.key, column), "YYYY-MM-DD")
    # SQLite stores UTC text and knows no zones: shift by the zone's offset at `now`
    # (exact for zones without daylight saving, such as China's).
    offset = now.astimezone(zone).utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return func.date(column, f"{seconds:+d} seconds")


async def open_count_changes(
    *, session: AsyncSession, campaign_id: int, scope: TaskScope, zone: ZoneInfo, now: datetime
) -> dict[date, int]:
    """How the number of open tasks changed on each local day, from the task history.

    A task adds one on the day it was created; a status event that closes it subtracts
    one and one that reopens it adds one back. A task closed without a recorded status
    event (e.g. imported as done) counts as closed on its completion or last update day.
    """
    changes: dict[date, int] = {}

    def add(rows: Sequence[Any]) -> None:
        for day, delta in rows:
            if day is not None and delta:
                key = date.fromisoformat(str(day))
                changes[key] = changes.get(key, 0) + int(delta)

    base = [Task.campaign_id == campaign_id, scope.condition()]
    created_day = _local_day(session, Task.created_at, zone, now)
    add((await session.execute(
        select(created_day, func.count()).where(*base).group_by(created_day)
    )).all())

    closed = [s.value for s in CLOSED_STATUSES]
    event_day = _local_day(session, TaskEvent.at, zone, now)
    delta = case(
        (and_(TaskEvent.old_value.not_in(closed), TaskEvent.new_value.in_(closed)), -1),
        (and_(TaskEvent.old_value.in_(closed), TaskEvent.new_value.not_in(closed)), 1),
        else_=0,
    )
    add((await session.execute(
        select(event_day, func.sum(delta))
        .join(Task, Task.id == TaskEvent.task_id)
        .where(*base, TaskEvent.kind == "status")
        .group_by(event_day)
    )).all())

    recorded = (
        select(TaskEvent.id)
        .where(
            TaskEvent.task_id == Task.id,
            TaskEvent.kind == "status",
            TaskEvent.new_value.in_(closed),
        )
        .exists()
    )
    closed_day = _local_day(session, func.coalesce(Task.done_at, Task.updated_at), zone, now)
    add((await session.execute(
        select(closed_day, -func.count())
        .where(*base, Task.status.in_(CLOSED_STATUSES), ~recorded)
        .group_by(closed_day)
    )).all())
    return changes


def _evidence_count() -> Any:
    """Evidence items attached to the task and not rejected (pending or approved)."""
    return (
        select(func.count(Evidence.id))
        .where(Evidence.task_id == Task.id, Evidence.status != EvidenceStatus.REJECTED)
        .scalar_subquery()
    )


async def ledger_rows(
    *, session: AsyncSession, campaign_id: int, scope: TaskScope, chunk: int = 2000
) -> AsyncIterator[LedgerRow]:
    """Every task of the campaign grouped by unit, streamed in chunks (constant memory).

    Ordered by unit id rather than name: that is the covering index's order, so rows flow
    at once instead of after sorting 200,000 wide rows.
    """
    latest = (
        select(TaskEvent.task_id, func.max(TaskEvent.id).label("event_id"))
        .where(TaskEvent.note != "")
        .group_by(TaskEvent.task_id)
        .subquery()
    )
    note = aliased(TaskEvent)
    owner = aliased(Person)
    stmt = (
        select(
            Task.id, Unit.name, Indicator.code, Indicator.name, Indicator.veto, Phase.name,
            Task.title, owner.name, Task.due_at, Task.status, Task.progress,
            Task.evidence_required, _evidence_count(), Task.updated_at, note.note,
        )
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(owner, owner.id == Task.owner_id)
        .outerjoin(Indicator, Indicator.id == Task.indicator_id)
        .outerjoin(Phase, Phase.id == Task.phase_id)
        .outerjoin(latest, latest.c.task_id == Task.id)
        .outerjoin(note, note.id == latest.c.event_id)
        .where(Task.campaign_id == campaign_id, scope.condition())
        .order_by(Task.unit_id, Task.id)
        .execution_options(yield_per=chunk)
    )
    result = await session.stream(stmt)
    async for r in result:
        yield LedgerRow(
            id=r[0], unit_name=r[1], indicator_code=r[2], indicator_name=r[3],
            indicator_veto=bool(r[4]), phase_name=r[5], title=r[6], owner_name=r[7],
            due_at=r[8], status=r[9], progress=r[10], evidence_required=r[11],
            evidence_count=int(r[12] or 0), updated_at=r[13], latest_note=r[14],
        )


async def last_bulletin(*, session: AsyncSession, campaign_id: int) -> BulletinLog | None:
    stmt = (
        select(BulletinLog)
        .where(BulletinLog.campaign_id == campaign_id)
        .order_by(BulletinLog.sent_at.desc(), BulletinLog.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def bulletin_by_key(*, session: AsyncSession, key: str) -> BulletinLog | None:
    return (
        await session.execute(select(BulletinLog).where(BulletinLog.key == key))
    ).scalar_one_or_none()


async def add_bulletin(*, session: AsyncSession, entry: BulletinLog) -> BulletinLog:
    session.add(entry)
    await session.flush()
    return entry
