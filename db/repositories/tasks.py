"""Tasks and their append-only history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from db.models import Task, TaskEvent, TaskPartner, TaskStatus, Unit
from db.models.core import OPEN_STATUSES


def _joined_refs(stmt: Select[Task]) -> Select[Task]:
    """What a row names, joined into the statement: for a page of rows, not a campaign."""
    return stmt.options(
        joinedload(Task.unit),
        joinedload(Task.owner),
        joinedload(Task.indicator),
        joinedload(Task.phase),
    )


def _with_refs(stmt: Select[Task]) -> Select[Task]:
    return stmt.options(
        selectinload(Task.unit),
        selectinload(Task.owner),
        selectinload(Task.indicator),
        selectinload(Task.phase),
    )


def _with_card_refs(stmt: Select[Task]) -> Select[Task]:
    """Everything a task's card names: a task read again for a card (or to tell its new
    owner) must not leave the card's lists unloaded."""
    return _with_refs(stmt).options(
        selectinload(Task.leader),
        selectinload(Task.partners).selectinload(TaskPartner.unit),
    )


async def get_task(*, session: AsyncSession, task_id: int, fresh: bool = False) -> Task | None:
    """One task with everything its card names (the lists load only what they show);
    `fresh` reads it again even when this session holds it already.

    One row, so what it refers to comes in the same statement (a join each) instead of a
    statement each; only the partners, a list, take a second one."""
    stmt = select(Task).where(Task.id == task_id).options(
        joinedload(Task.unit),
        joinedload(Task.owner),
        joinedload(Task.indicator),
        joinedload(Task.phase),
        joinedload(Task.leader),
        selectinload(Task.partners).selectinload(TaskPartner.unit),
    )
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def lock_task(*, session: AsyncSession, task_id: int) -> bool:
    """Take the task's row until this transaction ends, by bumping its version; False when
    there is no such task.

    A write, not a `SELECT … FOR UPDATE`, so that both databases serialise on it: on
    PostgreSQL it holds the row lock and a concurrent change waits here until this one
    commits; on SQLite it takes the database's write lock before anything is read (what
    `BEGIN IMMEDIATE` would do), where a read first would see the state the other change
    is about to replace. Read the task afterwards with `get_task(fresh=True)`.
    """
    result = await session.execute(
        update(Task).where(Task.id == task_id).values(version=Task.version + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def open_tasks_of(
    *, session: AsyncSession, owner_id: int, limit: int = 50, offset: int = 0
) -> Sequence[Task]:
    """An owner's open tasks, earliest deadline first, undated ones last (a page of them)."""
    stmt = _joined_refs(
        select(Task)
        .where(Task.owner_id == owner_id, Task.status.in_(OPEN_STATUSES))
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def count_open_tasks_of(*, session: AsyncSession, owner_id: int) -> int:
    stmt = select(func.count()).where(Task.owner_id == owner_id, Task.status.in_(OPEN_STATUSES))
    return int((await session.execute(stmt)).scalar_one())


async def tasks_of_campaign(*, session: AsyncSession, campaign_id: int) -> Sequence[Task]:
    stmt = _with_refs(select(Task).where(Task.campaign_id == campaign_id).order_by(Task.id))
    return (await session.execute(stmt)).scalars().all()


async def tasks_by_key(*, session: AsyncSession, campaign_id: int) -> dict[str, Task]:
    stmt = select(Task).where(Task.campaign_id == campaign_id)
    return {t.key: t for t in (await session.execute(stmt)).scalars().all()}


async def task_by_key(*, session: AsyncSession, campaign_id: int, key: str) -> Task | None:
    stmt = select(Task).where(Task.campaign_id == campaign_id, Task.key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_task(*, session: AsyncSession, task: Task) -> Task:
    session.add(task)
    await session.flush()
    return task


async def add_event(
    *,
    session: AsyncSession,
    task_id: int,
    actor_id: int | None,
    at: datetime,
    kind: str,
    old_value: str | None = None,
    new_value: str | None = None,
    note: str = "",
) -> TaskEvent:
    event = TaskEvent(
        task_id=task_id,
        actor_id=actor_id,
        at=at,
        kind=kind,
        old_value=old_value,
        new_value=new_value,
        note=note,
    )
    # Written with the task's own change at the next flush: a status and a progress
    # noted in one unit of work cost one UPDATE and one INSERT, not two of each.
    session.add(event)
    return event


async def events_of(*, session: AsyncSession, task_id: int) -> Sequence[TaskEvent]:
    stmt = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return (await session.execute(stmt)).scalars().all()


async def latest_note(*, session: AsyncSession, task_id: int) -> TaskEvent | None:
    stmt = (
        select(TaskEvent)
        .where(TaskEvent.task_id == task_id, TaskEvent.note != "")
        .order_by(TaskEvent.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def status_values(statuses: Sequence[TaskStatus]) -> list[str]:
    return [s.value for s in statuses]


# The history kinds that give a task to its owner; an import's "updated" does when the
# field it changed is the owner (`note` holds the field's name).
ASSIGNING_KINDS = ("created", "imported", "owner", "updated")


async def fresh_tasks(*, session: AsyncSession, ids: Sequence[int]) -> Sequence[Task]:
    """The tasks as they stand in this unit of work, their unit and owner read again (an
    owner changed by id alone leaves the loaded relationship stale)."""
    if not ids:
        return []
    await session.flush()
    stmt = _with_card_refs(select(Task).where(Task.id.in_(list(ids)))).execution_options(
        populate_existing=True)
    return (await session.execute(stmt.order_by(Task.due_at, Task.id))).scalars().all()


async def assignment_events(
    *, session: AsyncSession, task_ids: Sequence[int]
) -> Sequence[TaskEvent]:
    """The latest change of each task (written at its `updated_at`) that may have given it
    to its owner, oldest first. Call after a flush."""
    if not task_ids:
        return []
    stmt = (
        select(TaskEvent)
        .join(Task, Task.id == TaskEvent.task_id)
        .where(TaskEvent.task_id.in_(list(task_ids)), TaskEvent.kind.in_(ASSIGNING_KINDS),
               TaskEvent.at == Task.updated_at)
        .order_by(TaskEvent.id)
    )
    return (await session.execute(stmt)).scalars().all()
async def partner_names(
    *, session: AsyncSession, campaign_id: int, separator: str = "、"
) -> dict[int, str]:
    """Each task's co-operating units as one line (only tasks that have some).

    Read once for a whole export: few tasks have partners, and a join per row would
    repeat the task's row for each partner."""
    stmt = (
        select(TaskPartner.task_id, Unit.name)
        .join(Task, Task.id == TaskPartner.task_id)
        .join(Unit, Unit.id == TaskPartner.unit_id)
        .where(Task.campaign_id == campaign_id)
        .order_by(TaskPartner.task_id, TaskPartner.position)
    )
    found: dict[int, list[str]] = {}
    for task_id, name in (await session.execute(stmt)).all():
        found.setdefault(task_id, []).append(name)
    return {task_id: separator.join(names) for task_id, names in found.items()}
