"""What the demo reads and settles when it starts against a fresh sandbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Evidence,
    EvidenceKind,
    OutboxMessage,
    OutboxState,
    Person,
    QuizCard,
    QuizReview,
    Unit,
)

# Still to be sent (or held by a dispatcher that died): what a restart would retry.
_WAITING = (OutboxState.PENDING, OutboxState.CLAIMED)


@dataclass(frozen=True)
class StoredFile:
    """A file the bot refers to by its Telegram id, and where its bytes are kept."""

    file_id: str
    file_unique_id: str
    sha256: str
    kind: EvidenceKind
    file_name: str
    mime_type: str


async def linked_people(*, session: AsyncSession) -> Sequence[tuple[Person, str]]:
    """Active people with a Telegram id and their unit's name, by Telegram id."""
    stmt = (
        select(Person, Unit.name)
        .outerjoin(Unit, Unit.id == Person.unit_id)
        .where(Person.telegram_id.is_not(None), Person.is_active.is_(True))
        .order_by(Person.telegram_id)
    )
    return [(person, unit or "") for person, unit in (await session.execute(stmt)).all()]


async def evidence_files(*, session: AsyncSession) -> list[StoredFile]:
    """Every distinct Telegram file id that evidence rows point at."""
    stmt = (
        select(Evidence.file_id, Evidence.file_unique_id, Evidence.sha256, Evidence.kind,
               Evidence.file_name, Evidence.mime_type)
        .order_by(Evidence.id)
    )
    seen: dict[str, StoredFile] = {}
    for row in (await session.execute(stmt)).all():
        seen.setdefault(row[0], StoredFile(*row))
    return list(seen.values())


async def cancel_waiting_outside(
    *, session: AsyncSession, chat_ids: Collection[int], reason: str
) -> int:
    """Cancel messages still waiting for a chat not in `chat_ids`; how many were."""
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.state.in_(_WAITING), OutboxMessage.chat_id.not_in(list(chat_ids)))
        .values(state=OutboxState.CANCELLED, last_error=reason[:500], claimed_by=None,
                claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def clear_unreachable(*, session: AsyncSession, telegram_ids: Collection[int]) -> int:
    """These people can be reached again; how many had been marked unreachable."""
    stmt = (
        update(Person)
        .where(Person.telegram_id.in_(list(telegram_ids)), Person.unreachable_since.is_not(None))
        .values(unreachable_since=None)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def add_quiz_history(
    *, session: AsyncSession, cards: Sequence[QuizCard], reviews: Sequence[QuizReview]
) -> None:
    """Cards and the reviews that shaped them, as two bulk inserts (thousands of rows)."""
    for model, rows in ((QuizCard, cards), (QuizReview, reviews)):
        if rows:
            columns = [c.key for c in model.__table__.columns if c.key != "id"]
            await session.execute(
                insert(model), [{name: getattr(row, name) for name in columns} for row in rows]
            )
