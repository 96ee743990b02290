"""What one batch of a sweep changes, gathered while it is derived and written at the end
in one short transaction: a handful of set-based statements, whatever the batch's size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import Outbox, Queued
from db.repositories import delivery as outbox_repo
from db.repositories import reminders as repo
from db.repositories.reminders import DueCursor


@dataclass
class Writes:
    """The batch's changes."""

    # Cursor → its next time (None: nothing planned), if the cursor is still as taken.
    moves: list[tuple[DueCursor, datetime | None]] = field(default_factory=list)
    # Cursors of subjects that are gone or finished.
    drops: list[DueCursor] = field(default_factory=list)
    # Queued messages that no longer apply.
    cancel: list[int] = field(default_factory=list)
    # Finished tasks: their snoozes go.
    closed: list[int] = field(default_factory=list)
    messages: list[Queued] = field(default_factory=list)

    async def apply(self, session: AsyncSession, outbox: Outbox, now: datetime) -> int:
        """Write it all in the caller's transaction; returns how many messages were queued."""
        if self.cancel:
            await outbox_repo.cancel(session=session, ids=self.cancel, reason="no longer applies")
        if self.closed:
            await repo.drop_snoozes(session=session, task_ids=self.closed)
        if self.drops:
            await repo.drop(session=session, cursors=self.drops)
        queued = await outbox.enqueue_many(session, self.messages)
        await repo.settle(session=session, moves=self.moves, now=now)
        return queued
