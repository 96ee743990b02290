"""What a bulletin (工作通报) counts beyond the summary: per unit, the tasks already due and
how many of them were done on time, and how late the rest are; the issue number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import UTCDateTime
from db.models import BulletinLog, Indicator, Task, TaskStatus, Unit, UnitKind
from db.models.core import OPEN_STATUSES


@dataclass(frozen=True)
class DueTally:
    """One unit's tasks whose deadline has come (cancelled ones left out)."""

    unit_id: int
    name: str
    kind: UnitKind
    active: int  # every uncancelled task, due or not
    done: int
    due: int
    on_time: int  # done by the deadline
    overdue: int  # still open past the deadline
    veto_overdue: int  # of those, under a one-vote-veto indicator
    oldest_due: datetime | None  # the deadline of the longest overdue one


async def due_tallies(*, session: AsyncSession, campaign_id: int, now: datetime
                      ) -> list[DueTally]:
    """Every unit with tasks in the campaign, counted in one GROUP BY."""
    counted: ColumnElement[bool] = Task.status != TaskStatus.CANCELLED
    due = and_(counted, Task.due_at.is_not(None), Task.due_at <= now)
    on_time = and_(due, Task.status == TaskStatus.DONE, Task.done_at.is_not(None),
                   Task.done_at <= Task.due_at)
    late = and_(Task.status.in_(OPEN_STATUSES), Task.due_at.is_not(None), Task.due_at < now)
    vetoes = select(Indicator.id).where(Indicator.veto.is_(True)).scalar_subquery()
    veto_late = and_(late, Task.indicator_id.in_(vetoes))

    def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    stmt = (
        select(
            Task.unit_id, Unit.name, Unit.kind, count(counted),
            count(and_(counted, Task.status == TaskStatus.DONE)), count(due), count(on_time),
            count(late), count(veto_late),
            type_coerce(func.min(case((late, Task.due_at))), UTCDateTime()),
        )
        .join(Unit, Unit.id == Task.unit_id)
        .where(Task.campaign_id == campaign_id)
        .group_by(Task.unit_id, Unit.name, Unit.kind)
    )
    return [
        DueTally(int(r[0]), r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7]),
                 int(r[8]), r[9])
        for r in (await session.execute(stmt)).all()
    ]


async def due_between(*, session: AsyncSession, campaign_id: int, start: datetime,
                      end: datetime) -> int:
    """Open tasks falling due in (start, end]: what the next days hold."""
    stmt = select(func.count()).where(
        Task.campaign_id == campaign_id, Task.status.in_(OPEN_STATUSES),
        Task.due_at > start, Task.due_at <= end,
    )
    return int((await session.execute(stmt)).scalar_one())


async def bulletins_issued(*, session: AsyncSession, campaign_id: int) -> int:
    """How many bulletins of the campaign went out: the next one is this plus one (第 N 期)."""
    stmt = select(func.count()).select_from(BulletinLog).where(
        BulletinLog.campaign_id == campaign_id)
    return int((await session.execute(stmt)).scalar_one())
