"""What the office sees of messages that could not be delivered: a notice as each one
fails, the list of them, and resending one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.core.paging import Page
from bot.delivery.outbox import Outbox
from bot.texts import Texts
from db.models import OutboxMessage, Role
from db.repositories import delivery as outbox_repo
from db.repositories import people as people_repo
from db.session import Database

OFFICE_KIND = "office."


class OfficeNotices:
    """Queues a notice to every admin about a message that will not arrive."""

    def __init__(
        self, *, db: Database, outbox: Outbox, texts: Texts, admin_ids: Sequence[int] = ()
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.texts = texts
        self.admin_ids = tuple(admin_ids)

    async def failed(self, row: OutboxMessage, error: str) -> None:
        """Telegram refused the message, or it ran out of attempts."""
        await self._tell(row, "reminders.delivery.failed", error=error[:200])

    async def blocked(self, row: OutboxMessage, name: str) -> None:
        """The person it was for has blocked the bot."""
        await self._tell(row, "reminders.delivery.blocked", name=name)

    async def _tell(self, row: OutboxMessage, text_id: str, **params: Any) -> None:
        """The office hears of every message that will not arrive (never about its own)."""
        if row.kind.startswith(OFFICE_KIND):
            return
        async with self.db.session() as session:
            admins = await people_repo.persons_with_role(session=session, roles=(Role.ADMIN,))
            targets = {p.telegram_id: p.language for p in admins if p.telegram_id}
            for admin_id in self.admin_ids:
                targets.setdefault(admin_id, self.texts.default)
            for chat_id, language in targets.items():
                if chat_id == row.chat_id:
                    continue
                await self.outbox.enqueue(
                    session,
                    key=f"office.undelivered:{row.id}:{chat_id}",
                    chat_id=chat_id,
                    kind="office.undelivered",
                    text=self.texts.get(language, text_id, id=row.id, kind=row.kind, **params),
                )


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
