"""Breakdown-table imports: the pending confirmations and the bulk reads an import needs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    Campaign,
    Indicator,
    PendingImport,
    Person,
    Phase,
    Task,
    TaskEvent,
    TaskPartner,
    TaskStatus,
    Unit,
)


async def add_pending_import(*, session: AsyncSession, pending: PendingImport) -> PendingImport:
    session.add(pending)
    await session.flush()
    return pending


async def get_pending_import(*, session: AsyncSession, import_id: int) -> PendingImport | None:
    return await session.get(PendingImport, import_id)


async def claim_pending_import(*, session: AsyncSession, import_id: int, now: datetime) -> bool:
    """Mark the import applied unless someone already did: True for exactly one caller.

    A conditional UPDATE rather than read-then-write, so two presses of the confirm button
    arriving together cannot both apply the table.
    """
    stmt = (
        update(PendingImport)
        .where(PendingImport.id == import_id, PendingImport.applied_at.is_(None))
        .values(applied_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def delete_pending_import(*, session: AsyncSession, import_id: int) -> None:
    await session.execute(delete(PendingImport).where(PendingImport.id == import_id))


async def campaign_named(*, session: AsyncSession, name: str) -> Campaign | None:
    stmt = select(Campaign).where(Campaign.name == name).order_by(Campaign.id.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def phases_of(*, session: AsyncSession, campaign_id: int) -> Sequence[Phase]:
    stmt = select(Phase).where(Phase.campaign_id == campaign_id).order_by(Phase.position)
    return (await session.execute(stmt)).scalars().all()


async def tasks_of_campaign_plain(*, session: AsyncSession, campaign_id: int) -> Sequence[Task]:
    """Every task of the campaign without related rows: the importer maps ids itself."""
    stmt = select(Task).where(Task.campaign_id == campaign_id).order_by(Task.id)
    return (await session.execute(stmt)).scalars().all()


async def partners_of_campaign(
    *, session: AsyncSession, campaign_id: int
) -> dict[int, tuple[int, ...]]:
    """Every task's co-operating units (only tasks that have some), in order."""
    stmt = (
        select(TaskPartner.task_id, TaskPartner.unit_id)
        .join(Task, Task.id == TaskPartner.task_id)
        .where(Task.campaign_id == campaign_id)
        .order_by(TaskPartner.task_id, TaskPartner.position)
    )
    found: dict[int, list[int]] = {}
    for task_id, unit_id in (await session.execute(stmt)).all():
        found.setdefault(task_id, []).append(unit_id)
    return {task_id: tuple(units) for task_id, units in found.items()}


async def replace_partners(
    *, session: AsyncSession, task_ids: Sequence[int], rows: Sequence[Mapping[str, object]]
) -> None:
    """Drop the co-operating units of `task_ids`, then insert `rows` (any tasks)."""
    ids = list(task_ids)
    for start in range(0, len(ids), 500):  # within every driver's bound-parameter limit
        chunk = ids[start:start + 500]
        await session.execute(delete(TaskPartner).where(TaskPartner.task_id.in_(chunk)))
    if rows:
        await session.execute(insert(TaskPartner), list(rows))


async def _insert_returning(
    session: AsyncSession, model: Any, key: Any, rows: Sequence[Mapping[str, object]]
) -> dict[str, int]:
    # A bulk INSERT … RETURNING in batched statements: the ORM's unit of work issues one
    # statement per row on SQLite (where RETURNING order is not guaranteed), which makes a
    # 5,000-row import take seconds. Rows come back identified by their unique key.
    if not rows:
        return {}
    result = await session.execute(insert(model).returning(key, model.id), list(rows))
    return {str(name): int(row_id) for name, row_id in result.all()}


async def insert_tasks(
    *, session: AsyncSession, rows: Sequence[Mapping[str, object]]
) -> dict[str, int]:
    """New tasks of one campaign; returns their ids by key."""
    return await _insert_returning(session, Task, Task.key, rows)


async def insert_units(
    *, session: AsyncSession, rows: Sequence[Mapping[str, object]]
) -> dict[str, int]:
    """New units; returns their ids by name."""
    return await _insert_returning(session, Unit, Unit.name, rows)


async def insert_people(
    *, session: AsyncSession, rows: Sequence[Mapping[str, object]]
) -> dict[str, int]:
    """New people with distinct names; returns their ids by name."""
    return await _insert_returning(session, Person, Person.name, rows)


async def insert_indicators(
    *, session: AsyncSession, rows: Sequence[Mapping[str, object]]
) -> dict[str, int]:
    """New indicators; returns their ids by code."""
    return await _insert_returning(session, Indicator, Indicator.code, rows)


async def insert_events(*, session: AsyncSession, rows: Sequence[Mapping[str, object]]) -> None:
    """Append many task history rows in one executemany."""
    if rows:
        await session.execute(insert(TaskEvent), list(rows))


class ExportRow(NamedTuple):
    key: str
    unit: str
    title: str
    indicator_code: str | None
    indicator_name: str | None
    indicator_veto: bool | None
    owner: str | None
    due_at: datetime | None
    phase: str | None
    status: TaskStatus
    progress: int
    evidence_required: int
    priority: int
    description: str
    id: int
    leader: str | None
    evidence_items: list[str]


async def export_rows(*, session: AsyncSession, campaign_id: int) -> AsyncIterator[ExportRow]:
    """Every task of the campaign as flat values, streamed in batches (no ORM objects)."""
    leader = aliased(Person)
    stmt = (
        select(
            Task.key, Unit.name, Task.title, Indicator.code, Indicator.name, Indicator.veto,
            Person.name, Task.due_at, Phase.name, Task.status, Task.progress,
            Task.evidence_required, Task.priority, Task.description, Task.id, leader.name,
            Task.evidence_items,
        )
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(Indicator, Indicator.id == Task.indicator_id)
        .outerjoin(Person, Person.id == Task.owner_id)
        .outerjoin(leader, leader.id == Task.leader_id)
        .outerjoin(Phase, Phase.id == Task.phase_id)
        .where(Task.campaign_id == campaign_id)
        .order_by(Task.id)
        .execution_options(yield_per=1000)
    )
    result = await session.stream(stmt)
    async for row in result:
        yield ExportRow._make(row)
