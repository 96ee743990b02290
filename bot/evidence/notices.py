"""Who hears about evidence: notices to reviewers and owners go through the outbox."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import Outbox

KIND = "evidence"

# (person id, chat id, text in the person's language)
Notice = tuple[int, int, str]


async def queue(
    outbox: Outbox, session: AsyncSession, key: str, notices: Sequence[Notice], task_id: int
) -> None:
    """Queue the notices in the caller's transaction, once per key and person."""
    for person_id, chat_id, text in notices:
        await outbox.enqueue(
            session, key=f"{KIND}.{key}.{person_id}", chat_id=chat_id, text=text,
            kind=KIND, person_id=person_id, task_id=task_id,
        )
