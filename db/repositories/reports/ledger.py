"""The rectification ledger's rows (整改台账): every task of a campaign with the names it
refers to, its evidence count and its latest note, streamed in index order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
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
