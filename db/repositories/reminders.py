"""Reminder cursors, snoozes, campaign policies and the reads a sweep needs."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Interval,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only, selectinload
from sqlalchemy.sql import Select

from db.base import Base, UTCDateTime
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
from db.repositories import insert_for

TASK, PERSON, CAMPAIGN = "task", "person", "campaign"
# Ids per IN list.
CHUNK = 1000
# Rows per executemany when touching cursors.
TOUCH_ROWS = 1000
# Core statements on the table itself: plain executemany and RETURNING, no ORM bookkeeping.
CURSORS: Table = Base.metadata.tables["reminder_cursors"]


@dataclass(frozen=True)
class DueCursor:
    """A due cursor a sweep holds: its row, the subject, and the `next_at` it holds it by."""

    id: int
    subject: str
    subject_id: int
    held: datetime


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _chunks(ids: Collection[int]) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i:i + CHUNK] for i in range(0, len(ordered), CHUNK)]


async def take_due(
    *, session: AsyncSession, now: datetime, until: datetime, limit: int,
    after: DueCursor | None = None,
) -> list[DueCursor]:
    """Up to `limit` cursors due by `now`, for a sweep to derive and then `settle`.

    PostgreSQL: claimed until `until` (their `next_at` moves there), so another process's
    sweep passes them by: the locking SELECT skips rows a concurrent claim holds, the
    re-check drops rows claimed meanwhile, and if this process dies they are due again
    then. SQLite (one writer, one bot process): read, the next page after `after`, with no
    write at all. Either way `settle` moves a cursor only if it still holds the value it
    was taken with, so a change that touched it meanwhile is never overwritten.
    """
    table = CURSORS
    if _dialect(session) != "postgresql":
        columns = (table.c.id, table.c.subject, table.c.subject_id, table.c.next_at)
        rows: list[Any] = []
        later = table.c.next_at <= now
        if after is not None:
            # The rest of `after`'s instant first, then later ones: two index seeks (a row
            # value or an OR would make SQLite scan every earlier row of the same instant).
            held = literal(after.held, ReminderCursor.next_at.type)
            rows += (await session.execute(
                select(*columns).where(table.c.next_at == held, table.c.id > after.id)
                .order_by(table.c.id).limit(limit))).all()
            later = and_(later, table.c.next_at > held)
        if len(rows) < limit:
            rows += (await session.execute(
                select(*columns).where(later).order_by(table.c.next_at, table.c.id)
                .limit(limit - len(rows)))).all()
        return [DueCursor(i, subject, subject_id, held_at)
                for i, subject, subject_id, held_at in rows]
    picked = (
        select(table.c.id)
        .where(table.c.next_at <= now)
        .order_by(table.c.next_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    chosen = picked.cte("due_cursors").prefix_with("MATERIALIZED")
    claim = (
        update(table)
        .where(table.c.id == chosen.c.id, table.c.next_at <= now)
        .values(next_at=until)
        .returning(table.c.id, table.c.subject, table.c.subject_id)
    )
    return [DueCursor(i, subject, subject_id, until)
            for i, subject, subject_id in (await session.execute(claim)).all()]


_PG_SETTLE = text(
    "UPDATE reminder_cursors AS c SET next_at = v.next_at, derived_at = :now "
    "FROM unnest(CAST(:ids AS INTEGER[]), CAST(:helds AS TIMESTAMPTZ[]), "
    "CAST(:nexts AS TIMESTAMPTZ[])) AS v(id, held, next_at) "
    "WHERE c.id = v.id AND c.next_at = v.held"
).bindparams(
    bindparam("ids", type_=postgresql.ARRAY(Integer)),
    bindparam("helds", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("nexts", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("now", type_=UTCDateTime()),
)
_PG_DROP = text(
    "DELETE FROM reminder_cursors AS c "
    "USING unnest(CAST(:ids AS INTEGER[]), CAST(:helds AS TIMESTAMPTZ[])) AS v(id, held) "
    "WHERE c.id = v.id AND c.next_at = v.held"
).bindparams(
    bindparam("ids", type_=postgresql.ARRAY(Integer)),
    bindparam("helds", type_=postgresql.ARRAY(DateTime(timezone=True))),
)


async def settle(
    *, session: AsyncSession, moves: Sequence[tuple[DueCursor, datetime | None]], now: datetime,
) -> None:
    """Move taken cursors to their next time, each only if it still holds what it was
    taken with. One statement on PostgreSQL (UPDATE … FROM unnest of the ids and times);
    one prepared statement run for every row on SQLite."""
    if not moves:
        return
    if _dialect(session) == "postgresql":
        await session.execute(_PG_SETTLE, {
            "ids": [c.id for c, _ in moves], "helds": [c.held for c, _ in moves],
            "nexts": [n for _, n in moves], "now": now})
        return
    table = CURSORS
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.next_at == bindparam("b_held"))
        .values(next_at=bindparam("b_next"), derived_at=bindparam("b_now"))
    )
    await session.execute(stmt, [
        {"b_id": cursor.id, "b_held": cursor.held, "b_next": next_at, "b_now": now}
        for cursor, next_at in moves
    ])


async def drop(*, session: AsyncSession, cursors: Sequence[DueCursor]) -> None:
    """Delete taken cursors whose subject is gone or finished (if still as taken)."""
    if not cursors:
        return
    if _dialect(session) == "postgresql":
        await session.execute(_PG_DROP, {"ids": [c.id for c in cursors],
                                         "helds": [c.held for c in cursors]})
        return
    table = CURSORS
    stmt = delete(table).where(table.c.id == bindparam("b_id"),
                               table.c.next_at == bindparam("b_held"))
    await session.execute(stmt, [{"b_id": c.id, "b_held": c.held} for c in cursors])


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
    insert_ = insert_for(session)
    table = CURSORS
    stmt = insert_(table)
    # One fixed upsert run for every id (executemany): compiled once and cached. A
    # multi-row VALUES list is a new statement of thousands of parameters to compile for
    # every chunk; after a bulk load that compiling was most of a first start.
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.subject, table.c.subject_id],
                                      set_={"next_at": stmt.excluded.next_at})
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), TOUCH_ROWS):
        await session.execute(stmt, [
            {"subject": subject, "subject_id": subject_id, "next_at": now, "derived_at": now}
            for subject_id in ordered[start:start + TOUCH_ROWS]
        ])


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


async def missing_cursors(*, session: AsyncSession) -> dict[str, list[int]]:
    """Linked people and active campaigns without a cursor, by subject (tasks:
    `new_task_ranges`)."""
    cursors = ReminderCursor.__table__
    found: dict[str, list[int]] = {}
    for subject, key, condition in (
        (PERSON, Person.id, and_(Person.telegram_id.is_not(None), Person.is_active.is_(True))),
        (CAMPAIGN, Campaign.id, Campaign.is_active.is_(True)),
    ):
        stmt = select(key).where(
            condition,
            ~exists().where(and_(cursors.c.subject == subject, cursors.c.subject_id == key)),
        )
        found[subject] = list((await session.execute(stmt)).scalars().all())
    return found


def _new_tasks(campaign_id: int | None = None) -> Any:
    """Open dated tasks without a cursor (a bulk load, a restore)."""
    condition = and_(
        Task.status.in_(OPEN_STATUSES), Task.due_at.is_not(None),
        ~exists().where(and_(CURSORS.c.subject == TASK, CURSORS.c.subject_id == Task.id)),
    )
    return condition if campaign_id is None else and_(Task.campaign_id == campaign_id, condition)


async def new_task_ranges(*, session: AsyncSession) -> dict[int, tuple[int, int]]:
    """Per campaign, the lowest and the highest id of its open dated tasks without a
    cursor."""
    rows = (await session.execute(
        select(Task.campaign_id, func.min(Task.id), func.max(Task.id))
        .where(_new_tasks()).group_by(Task.campaign_id))).all()
    return {campaign_id: (low, high) for campaign_id, low, high in rows}


async def place_new_tasks(
    *, session: AsyncSession, campaign_id: int, after: int, upto: int,
    lead: timedelta | None, now: datetime,
) -> None:
    """Cursors for the campaign's open dated tasks with ids in (`after`, `upto`] that have
    none, in one statement: each looked at from its deadline less `lead` (None: now), or
    now if that has passed or its owner snoozed the task. A cursor made meanwhile (a
    change's touch) is left as it is."""
    at = literal(now, UTCDateTime())
    first: Any = at
    if lead is not None and _dialect(session) == "postgresql":
        first = func.greatest(at, Task.due_at - literal(lead, Interval()))
    elif lead is not None:
        # The stored text's own format: SQLite's "%f" is milliseconds (a cursor at most a
        # millisecond early costs nothing); microseconds as UTCDateTime writes them.
        # A deadline SQLite cannot read (not written by UTCDateTime) is looked at now.
        seconds = f"-{int(lead.total_seconds())} seconds"
        first = func.max(at, func.coalesce(
            func.strftime("%Y-%m-%d %H:%M:%f", Task.due_at, seconds).concat("000"), at))
    snoozed = exists().where(ReminderSnooze.task_id == Task.id)
    rows = select(literal(TASK), Task.id, case((snoozed, at), else_=first), at).where(
        _new_tasks(campaign_id), Task.id > after, Task.id <= upto)
    await session.execute(
        insert_for(session)(CURSORS)
        .from_select(["subject", "subject_id", "next_at", "derived_at"], rows)
        .on_conflict_do_nothing(index_elements=[CURSORS.c.subject, CURSORS.c.subject_id]))


async def changed_tasks(*, session: AsyncSession) -> list[int]:
    """Tasks changed since their cursor was derived, by a path that did not say so."""
    stmt = select(ReminderCursor.subject_id).where(
        ReminderCursor.subject == TASK,
        exists().where(Task.id == ReminderCursor.subject_id,
                       Task.updated_at > ReminderCursor.derived_at),
    )
    return list((await session.execute(stmt)).scalars().all())


async def delete_cursor(*, session: AsyncSession, cursor: ReminderCursor) -> None:
    await session.delete(cursor)


async def tasks_for(*, session: AsyncSession, ids: Collection[int]) -> dict[int, Task]:
    """Tasks with their owner and unit."""
    if not ids:
        return {}
    stmt = (
        select(Task)
        .where(Task.id.in_(list(ids)))
        .options(selectinload(Task.owner), selectinload(Task.unit))
    )
    return {t.id: t for t in (await session.execute(stmt)).scalars().all()}


async def tasks_to_derive(*, session: AsyncSession, ids: Collection[int]) -> dict[int, Task]:
    """Tasks with only what deriving their reminders and the owner's reminder text read
    (no relationships: the people come from the sweep's own lookup)."""
    stmt = (
        select(Task)
        .options(load_only(Task.id, Task.campaign_id, Task.unit_id, Task.owner_id, Task.due_at,
                           Task.status, Task.created_at, Task.title, Task.progress))
        .where(Task.id.in_(list(ids)))
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


async def units(*, session: AsyncSession) -> dict[int, Unit]:
    """Every unit with its parent, leader and name (the tree a sweep escalates along)."""
    stmt = select(Unit).options(load_only(Unit.id, Unit.name, Unit.parent_id, Unit.leader_id))
    return {u.id: u for u in (await session.execute(stmt)).scalars().all()}


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


async def drop_snoozes(*, session: AsyncSession, task_ids: Collection[int]) -> None:
    for chunk in _chunks(task_ids):
        await session.execute(delete(ReminderSnooze).where(ReminderSnooze.task_id.in_(chunk)))


def pending_statement(task_ids: Sequence[int]) -> Select[int | None, int, str]:
    """The pending reminders of these tasks (through the outbox's task index, as long as
    the outbox's statistics are true: `delivery.refresh_statistics`)."""
    return select(OutboxMessage.task_id, OutboxMessage.id, OutboxMessage.key).where(
        OutboxMessage.task_id.in_(task_ids),
        OutboxMessage.state == OutboxState.PENDING,
        OutboxMessage.kind.startswith("reminder."),
    )


async def pending_reminders(
    *, session: AsyncSession, task_ids: Collection[int]
) -> dict[int, list[tuple[int, str]]]:
    """The queued, not yet claimed reminders of these tasks: task → [(outbox id, key)]."""
    found: dict[int, list[tuple[int, str]]] = {}
    for chunk in _chunks(task_ids):
        for task_id, message_id, key in (await session.execute(pending_statement(chunk))).all():
            found.setdefault(task_id or 0, []).append((message_id, key))
    return found


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


@dataclass(frozen=True)
class DatedTask:
    """A line of a person's digest: an open task and its deadline."""

    id: int
    title: str
    due_at: datetime


async def open_dated_tasks_of_owners(
    *, session: AsyncSession, owner_ids: Collection[int], until: datetime
) -> dict[int, list[DatedTask]]:
    """Open tasks due before `until` of many owners in one read, as plain rows (a
    morning's digests read tens of thousands): owner → their tasks, soonest first."""
    found: dict[int, list[DatedTask]] = {}
    for chunk in _chunks(owner_ids):
        stmt = (
            select(Task.owner_id, Task.id, Task.title, Task.due_at)
            .where(Task.owner_id.in_(chunk), Task.status.in_(OPEN_STATUSES),
                   Task.due_at.is_not(None), Task.due_at < until)
            .order_by(Task.owner_id, Task.due_at, Task.id)
        )
        for owner_id, task_id, title, due_at in (await session.execute(stmt)).all():
            if due_at is not None:
                found.setdefault(owner_id or 0, []).append(DatedTask(task_id, title, due_at))
    return found


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
