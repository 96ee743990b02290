"""What the health check reads: cheap questions about the database itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import OutboxMessage, OutboxState


@dataclass(frozen=True)
class OutboxBacklog:
    """Messages that should be going out now, and since when the oldest of them should."""

    due: int
    oldest_due_at: datetime | None


async def ping(*, connection: AsyncConnection) -> None:
    await connection.execute(text("SELECT 1"))


async def schema_revision(*, connection: AsyncConnection) -> str | None:
    """The revision Alembic recorded, read directly: no Alembic import on this path."""
    rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    return " + ".join(sorted(str(r[0]) for r in rows)) or None


async def outbox_backlog(*, connection: AsyncConnection, now: datetime) -> OutboxBacklog:
    """Due pending messages, and claimed ones whose lease ran out (their process died)."""
    due = or_(
        and_(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before <= now),
        and_(OutboxMessage.state == OutboxState.CLAIMED, OutboxMessage.claimed_until < now),
    )
    stmt = select(func.count(), func.min(OutboxMessage.not_before)).where(due)
    count, oldest = (await connection.execute(stmt)).one()
    return OutboxBacklog(int(count), oldest)  # min() keeps the column's aware type
