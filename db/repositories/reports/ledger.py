"""The rectification ledger's rows (整改台账): every task of a campaign with the names it
refers to, its evidence count and the last note a person wrote, streamed in index order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import DateTime, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    Evidence,
    EvidenceStatus,
    Indicator,
    Person,
    Phase,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
)
from db.repositories.reports import TaskScope

# History rows whose note a person wrote about the work: a note, the reason given with a
# status change (blocked, done, cancelled), a progress report, a reviewer's rejection.
# Not "imported" or "updated" (their note is a file or field name) nor "evidence" (the
# uploaded file's name): those are the system's bookkeeping.
NOTE_KINDS = ("note", "status", "progress", "evidence_review")


class LedgerRow(NamedTuple):
    """One task as the ledger reads it, in the query's column order.

    Instants are as the driver returns them (aware on PostgreSQL, naive UTC on SQLite):
    at 200,000 rows the column type's per-value conversion was a third of the fetch, so
    the ledger normalises them itself, in its worker thread (`as_utc`).
    """

    id: int
    unit_name: str
    indicator_code: str | None
    indicator_name: str | None
    indicator_veto: bool | None
    phase_name: str | None
    title: str
    description: str | None
    owner_name: str | None
    leader_name: str | None
    due_at: datetime | None
    status: TaskStatus
    progress: int
    evidence_required: int
    evidence_items: list[str] | None
    evidence_count: int | None
    updated_at: datetime
    done_at: datetime | None
    latest_note: str | None


def as_utc(value: datetime | None) -> datetime | None:
    """A ledger row's instant, aware in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


async def ledger_rows(
    *, session: AsyncSession, campaign_id: int, scope: TaskScope, chunk: int = 2000
) -> AsyncIterator[list[LedgerRow]]:
    """Every task of the campaign grouped by unit, streamed in batches (constant memory).

    Ordered by unit id rather than name: that is the covering index's order, so rows flow
    at once instead of after sorting 200,000 wide rows. Evidence counts and the latest
    notes are grouped once each and joined, instead of a subquery per row.
    """
    latest = (
        select(TaskEvent.task_id, func.max(TaskEvent.id).label("event_id"))
        .where(TaskEvent.note != "", TaskEvent.kind.in_(NOTE_KINDS))
        .group_by(TaskEvent.task_id)
        .subquery()
    )
    counted = (
        select(Evidence.task_id, func.count(Evidence.id).label("pieces"))
        .where(Evidence.status != EvidenceStatus.REJECTED)
        .group_by(Evidence.task_id)
        .subquery()
    )
    note = aliased(TaskEvent)
    owner = aliased(Person)
    leader = aliased(Person)
    raw = DateTime(timezone=True)
    stmt = (
        select(
            Task.id, Unit.name, Indicator.code, Indicator.name, Indicator.veto, Phase.name,
            Task.title, Task.description, owner.name, leader.name,
            type_coerce(Task.due_at, raw), Task.status, Task.progress, Task.evidence_required,
            Task.evidence_items, counted.c.pieces, type_coerce(Task.updated_at, raw),
            type_coerce(Task.done_at, raw), note.note,
        )
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(owner, owner.id == Task.owner_id)
        .outerjoin(leader, leader.id == Task.leader_id)
        .outerjoin(Indicator, Indicator.id == Task.indicator_id)
        .outerjoin(Phase, Phase.id == Task.phase_id)
        .outerjoin(counted, counted.c.task_id == Task.id)
        .outerjoin(latest, latest.c.task_id == Task.id)
        .outerjoin(note, note.id == latest.c.event_id)
        .where(Task.campaign_id == campaign_id, scope.condition())
        .order_by(Task.unit_id, Task.id)
        .execution_options(yield_per=chunk)
    )
    result = await session.stream(stmt)
    # A batch at a time: iterating row by row costs a greenlet switch per row, which was
    # most of the time a 200,000-row ledger spent on the event loop.
    make = LedgerRow._make
    async for batch in result.partitions(chunk):
        yield [make(r) for r in batch]
