"""Reminder cursors, snoozes, campaign policies and the reads a sweep needs."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import (
    Campaign,
    OutboxMessage,
    OutboxState,
    Person,
    ReminderCursor,
    ReminderPolicyOverride,
    ReminderSnooze,
    Role,
    Task,
    Unit,
)
from db.models.core import OPEN_STATUSES

TASK, PERSON, CAMPAIGN = "task", "person", "campaign"


def _insert_for(session: AsyncSession) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


async def due_cursors(*, session: AsyncSession, now: datetime, limit: int) -> Sequence[ReminderCursor]:
    stmt = (
        select(ReminderCursor)
        .where(ReminderCursor.next_at <= now)
        .order_by(ReminderCursor.next_at)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def earliest_cursor(*, session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.min(ReminderCursor.next_at)))).scalar_one_or_none()


async def touch(
    *, session: AsyncSession, subject: str, ids: Collection[int], now: datetime
) -> None:
    """Look at these subjects at the next sweep (created when missing)."""
    if not ids:
        return
    insert_ = _insert_for(session)
    table = ReminderCursor.__table__
    ordered = sorted(set(ids))
    # One multi-row upsert per chunk: an import of thousands of tasks touches them all.
    for start in range(0, len(ordered), 500):
        rows = [
            {"subject": subject, "subject_id": subject_id, "next_at": now, "derived_at": now}
            for subject_id in ordered[start:start + 500]
        ]
        stmt = insert_(table).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.subject, table.c.subject_id], set_={"next_at": now}
        )
        await session.execute(stmt)


async def touch_tasks_of_owner(*, session: AsyncSession, owner_id: int, now: datetime) -> None:
    await session.execute(
        update(ReminderCursor)
        .where(
            ReminderCursor.subject == TASK,
            ReminderCursor.subject_id.in_(select(Task.id).where(Task.owner_id == owner_id)),
        )
        .values(next_at=now)
        .execution_options(synchronize_session=False)
    )


async def reconcile(*, session: AsyncSession, now: datetime) -> None:
    """Give every open dated task, linked person and active campaign a cursor, and look
    again at tasks changed since they were last derived (by a path that did not say so)."""
    cursors = ReminderCursor.__table__
    for subject, source in (
        (TASK, select(Task.id).where(Task.status.in_(OPEN_STATUSES), Task.due_at.is_not(None))),
        (PERSON, select(Person.id).where(Person.telegram_id.is_not(None),
                                         Person.is_active.is_(True))),
        (CAMPAIGN, select(Campaign.id).where(Campaign.is_active.is_(True))),
    ):
        ids = source.subquery()
        missing = select(
            literal(subject), ids.c.id, literal(now, ReminderCursor.next_at.type),
            literal(now, ReminderCursor.derived_at.type),
        ).where(
            ~exists().where(and_(cursors.c.subject == subject, cursors.c.subject_id == ids.c.id))
        )
        await session.execute(
            insert(ReminderCursor).from_select(
                ["subject", "subject_id", "next_at", "derived_at"], missing
            )
        )
    await session.execute(
        update(ReminderCursor)
        .where(
            ReminderCursor.subject == TASK,
            exists().where(Task.id == ReminderCursor.subject_id,
                           Task.updated_at > ReminderCursor.derived_at),
        )
        .values(next_at=now)
        .execution_options(synchronize_session=False)
    )


async def delete_cursor(*, session: AsyncSession, cursor: ReminderCursor) -> None:
    await session.delete(cursor)


async def tasks_for(*, session: AsyncSession, ids: Collection[int]) -> dict[int, Task]:
    stmt = (
        select(Task)
        .where(Task.id.in_(list(ids)))
        .options(selectinload(Task.owner), selectinload(Task.unit))
    )
    return {t.id: t for t in (await session.execute(stmt)).scalars().all()}


async def persons_for(*, session: AsyncSession, ids: Collection[int]) -> dict[int, Person]:
    if not ids:
        return {}
    stmt = select(Person).where(Person.id.in_(list(ids)))
    return {p.id: p for p in (await session.execute(stmt)).scalars().all()}


async def unit_tree(*, session: AsyncSession) -> dict[int, tuple[int | None, int | None]]:
    """unit id → (parent id, leader person id)."""
    rows = (await session.execute(select(Unit.id, Unit.parent_id, Unit.leader_id))).all()
    return {unit_id: (parent_id, leader_id) for unit_id, parent_id, leader_id in rows}


async def campaigns_for(*, session: AsyncSession, ids: Collection[int]) -> dict[int, Campaign]:
    stmt = (
        select(Campaign).where(Campaign.id.in_(list(ids))).options(selectinload(Campaign.phases))
    )
    return {c.id: c for c in (await session.execute(stmt)).scalars().all()}


async def active_campaign_ids(*, session: AsyncSession) -> list[int]:
    stmt = select(Campaign.id).where(Campaign.is_active.is_(True)).order_by(Campaign.id.desc())
    return list((await session.execute(stmt)).scalars().all())


async def policy_overrides(*, session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(ReminderPolicyOverride).where(
        ReminderPolicyOverride.campaign_id.in_(list(ids))
    )
    return {p.campaign_id: p.overrides for p in (await session.execute(stmt)).scalars().all()}


async def set_policy_override(
    *, session: AsyncSession, campaign_id: int, overrides: str, now: datetime
) -> None:
    row = await session.get(ReminderPolicyOverride, campaign_id)
    if row is None:
        session.add(ReminderPolicyOverride(campaign_id=campaign_id, overrides=overrides,
                                           updated_at=now))
    else:
        row.overrides = overrides
        row.updated_at = now
    await session.flush()


async def snoozes_for(
    *, session: AsyncSession, task_ids: Collection[int]
) -> dict[int, ReminderSnooze]:
    stmt = select(ReminderSnooze).where(ReminderSnooze.task_id.in_(list(task_ids)))
    return {s.task_id: s for s in (await session.execute(stmt)).scalars().all()}


async def set_snooze(
    *, session: AsyncSession, task_id: int, person_id: int, set_at: datetime, until: datetime
) -> None:
    row = await session.get(ReminderSnooze, (task_id, person_id))
    if row is None:
        session.add(ReminderSnooze(task_id=task_id, person_id=person_id, set_at=set_at,
                                   until=until))
    else:
        row.set_at, row.until = set_at, until
    await session.flush()


async def drop_snoozes(*, session: AsyncSession, task_id: int) -> None:
    await session.execute(delete(ReminderSnooze).where(ReminderSnooze.task_id == task_id))


async def cancel_pending(
    *, session: AsyncSession, task_id: int, keep: Collection[str]
) -> int:
    """Cancel the task's queued reminders that are no longer derived from it."""
    stmt = (
        update(OutboxMessage)
        .where(
            OutboxMessage.task_id == task_id,
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.kind.startswith("reminder."),
        )
        .values(state=OutboxState.CANCELLED, last_error="no longer applies")
        .execution_options(synchronize_session=False)
    )
    if keep:
        stmt = stmt.where(OutboxMessage.key.not_in(list(keep)))
    result: Any = await session.execute(stmt)
    return int(result.rowcount or 0)


async def open_dated_tasks_of(
    *, session: AsyncSession, owner_id: int, until: datetime
) -> Sequence[Task]:
    """An owner's open tasks due before `until` (overdue ones included), earliest first."""
    stmt = (
        select(Task)
        .where(Task.owner_id == owner_id, Task.status.in_(OPEN_STATUSES),
               Task.due_at.is_not(None), Task.due_at < until)
        .order_by(Task.due_at, Task.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def campaign_overview(
    *, session: AsyncSession, campaign_id: int, now: datetime, week_end: datetime
) -> tuple[int, int, int, list[tuple[str, int]]]:
    """(open, overdue, due within the week, [(unit, overdue count)] worst first)."""
    open_ = and_(Task.campaign_id == campaign_id, Task.status.in_(OPEN_STATUSES))
    total = int((await session.execute(select(func.count()).where(open_))).scalar_one())
    overdue_cond = and_(open_, Task.due_at < now)
    overdue = int((await session.execute(select(func.count()).where(overdue_cond))).scalar_one())
    week = int((await session.execute(
        select(func.count()).where(open_, Task.due_at >= now, Task.due_at < week_end)
    )).scalar_one())
    by_unit = (await session.execute(
        select(Unit.name, func.count(Task.id))
        .join(Task, Task.unit_id == Unit.id)
        .where(overdue_cond)
        .group_by(Unit.name)
        .order_by(func.count(Task.id).desc(), Unit.name)
        .limit(5)
    )).all()
    return total, overdue, week, [(name, int(n)) for name, n in by_unit]


async def reachable_people(*, session: AsyncSession) -> Sequence[Person]:
    stmt = (
        select(Person)
        .where(Person.telegram_id.is_not(None), Person.is_active.is_(True),
               Person.unreachable_since.is_(None))
        .order_by(Person.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def leaders(*, session: AsyncSession) -> Sequence[Person]:
    stmt = (
        select(Person)
        .where(Person.role == Role.LEADER, Person.telegram_id.is_not(None),
               Person.is_active.is_(True))
        .order_by(Person.id)
    )
    return (await session.execute(stmt)).scalars().all()


def week_after(now: datetime) -> datetime:
    return now + timedelta(days=7)
