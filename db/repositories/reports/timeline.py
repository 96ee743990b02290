"""The campaign over time: how many tasks were open on each local day (the burn-down),
which units finished a phase since a moment, and the bulletins sent (each one counts
from the one before)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BulletinLog, Task, TaskEvent, TaskStatus
from db.repositories.reports import CLOSED_STATUSES, TaskScope


@dataclass(frozen=True)
class PhaseFinish:
    unit_id: int
    phase_id: int
    finished_at: datetime


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


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
