"""What the office sees of messages that could not be delivered, and resending one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.core.paging import Page
from db.models import OutboxMessage
from db.repositories import delivery as outbox_repo


@dataclass(frozen=True)
class Undelivered:
    message: OutboxMessage
    recipient: str | None  # the person's name, when the message was for a person


async def listing(
    session: AsyncSession, *, offset: int = 0, size: int = 10
) -> tuple[Sequence[Undelivered], Page]:
    """A page of what could not be delivered, the latest first, with whom it was for."""
    page = Page.at(offset, size, await outbox_repo.count_undelivered(session=session))
    rows = await outbox_repo.undelivered(session=session, limit=page.size, offset=page.offset)
    people = await outbox_repo.people_named(
        session=session, ids={r.person_id for r in rows if r.person_id}
    )
    names = {p.id: p.name for p in people}
    return [Undelivered(row, names.get(row.person_id or 0)) for row in rows], page


async def retry(session: AsyncSession, message_id: int, now: datetime) -> None:
    """Queue a failed message again; the dispatcher must be woken after the commit."""
    if not await outbox_repo.retry(session=session, message_id=message_id, now=now):
        raise InvalidInput("reminders.undelivered.not_found", id=message_id)
