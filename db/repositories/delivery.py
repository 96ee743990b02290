"""The outbox: queue, claim and settle unprompted messages (safe with many processes)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Campaign, OutboxMessage, OutboxState, Person
from db.models.reminders import UNDELIVERED_STATES
from db.repositories import insert_for

# Ids or keys per IN list.
LOOKUP_CHUNK = 1000


async def enqueue(
    *,
    session: AsyncSession,
    key: str,
    chat_id: int,
    text: str,
    kind: str,
    now: datetime,
    not_before: datetime | None = None,
    person_id: int | None = None,
    task_id: int | None = None,
    reply_markup: str | None = None,
    photo_path: str | None = None,
    document_path: str | None = None,
) -> bool:
    """Queue once per key; True when this call queued (or revived a cancelled) message.

    A message cancelled because it had become untrue is revived with the new content
    when the same key is queued again (the deadline moved back, say): it was never sent.
    """
    values = {
        "key": key,
        "kind": kind,
        "chat_id": chat_id,
        "person_id": person_id,
        "task_id": task_id,
        "text": text,
        "reply_markup": reply_markup,
        "photo_path": photo_path,
        "document_path": document_path,
        "not_before": not_before or now,
        "state": OutboxState.PENDING,
        "attempts": 0,
        "created_at": now,
    }
    insert = insert_for(session)
    table = OutboxMessage.__table__
    stmt = insert(table).values(**values)
    revive = {k: stmt.excluded[k] for k in ("chat_id", "text", "reply_markup", "not_before")}
    revive["state"] = OutboxState.PENDING
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_=revive,
        where=table.c.state == OutboxState.CANCELLED,
    ).returning(table.c.id)
    return (await session.execute(stmt)).first() is not None


async def enqueue_many(
    *, session: AsyncSession, messages: Sequence[dict[str, Any]], now: datetime
) -> int:
    """`enqueue` for many messages; returns how many this call queued (or revived).

    Each message has `enqueue`'s keyword arguments (`key`, `chat_id`, `text`, `kind`; the
    others default as there). One statement, run for all of them: SQLAlchemy sends it as
    multi-row INSERTs (its "insertmanyvalues"), compiled once.
    """
    if not messages:
        return 0
    insert = insert_for(session)
    table = OutboxMessage.__table__
    stmt = insert(table)
    revive = {k: stmt.excluded[k] for k in ("chat_id", "text", "reply_markup", "not_before")}
    revive["state"] = OutboxState.PENDING
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key], set_=revive, where=table.c.state == OutboxState.CANCELLED,
    ).returning(table.c.id)
    rows = [{
        "key": m["key"], "kind": m["kind"], "chat_id": m["chat_id"],
        "person_id": m.get("person_id"), "task_id": m.get("task_id"), "text": m["text"],
        "reply_markup": m.get("reply_markup"), "photo_path": m.get("photo_path"),
        "document_path": m.get("document_path"), "not_before": m.get("not_before") or now,
        "state": OutboxState.PENDING, "attempts": 0, "created_at": now,
    } for m in messages]
    return len((await session.execute(stmt, rows)).all())


async def refresh_statistics(*, session: AsyncSession) -> int | None:
    """PostgreSQL: analyse the outbox now and return the rows it now counts. Its planner
    chooses by these statistics, and a table that grew far past them (a first start
    queues 100,000 messages into an outbox analysed empty) gets plans for the size it
    was. None on SQLite, which keeps no statistics here."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    await session.execute(text("ANALYZE outbox"))
    rows = (await session.execute(text(
        "SELECT reltuples FROM pg_class WHERE oid = 'outbox'::regclass"))).scalar_one()
    return max(0, int(rows))


async def states_of(*, session: AsyncSession, keys: Collection[str]) -> dict[str, OutboxState]:
    """The state of each of these keys that is queued already (in any state)."""
    found: dict[str, OutboxState] = {}
    ordered = list(keys)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        stmt = select(OutboxMessage.key, OutboxMessage.state).where(
            OutboxMessage.key.in_(ordered[start:start + LOOKUP_CHUNK]))
        found.update({key: state for key, state in (await session.execute(stmt)).all()})
    return found


async def cancel(*, session: AsyncSession, ids: Collection[int], reason: str) -> int:
    """Cancel these messages if they are still waiting (one a dispatcher holds is sent,
    and its guard decides)."""
    cancelled = 0
    ordered = sorted(ids)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        result: Any = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ordered[start:start + LOOKUP_CHUNK]),
                   OutboxMessage.state == OutboxState.PENDING)
            .values(state=OutboxState.CANCELLED, last_error=reason[:500])
            .execution_options(synchronize_session=False)
        )
        cancelled += int(result.rowcount or 0)
    return cancelled


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before <= now),
        # A lease that ran out belongs to a process that died while holding it.
        and_(OutboxMessage.state == OutboxState.CLAIMED, OutboxMessage.claimed_until < now),
    )


async def claim(
    *,
    session: AsyncSession,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_chats: Collection[int] = (),
    chat_id: int | None = None,
    kind: str | None = None,
) -> Sequence[OutboxMessage]:
    """Take up to `limit` due messages for `worker` until `now + lease` (only `chat_id`'s
    messages of `kind`, when given: the rest of a backlog sent as one list).

    PostgreSQL: the inner SELECT … FOR UPDATE SKIP LOCKED lets concurrent claimers pass
    each other's rows, and the re-check under the row lock drops rows another process
    claimed meanwhile. SQLite: one writer at a time, so the single UPDATE is atomic.
    """
    picked = (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if skip_chats:
        picked = picked.where(OutboxMessage.chat_id.not_in(list(skip_chats)))
    if chat_id is not None:
        picked = picked.where(OutboxMessage.chat_id == chat_id)
    if kind is not None:
        picked = picked.where(OutboxMessage.kind == kind)
    # A materialised CTE runs the locking SELECT exactly once; as an `IN (subquery)` the
    # planner may rescan it, and each rescan skips the locks and picks further rows.
    chosen = picked.cte("picked").prefix_with("MATERIALIZED")
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.id == chosen.c.id, _due(now))
        .values(state=OutboxState.CLAIMED, claimed_by=worker, claimed_until=now + lease)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    rows = list((await session.execute(stmt)).scalars().all())
    rows.sort(key=lambda r: (r.not_before, r.id))
    return rows


async def next_due_at(*, session: AsyncSession) -> datetime | None:
    stmt = select(func.min(OutboxMessage.not_before)).where(
        OutboxMessage.state == OutboxState.PENDING
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _settle(session: AsyncSession, row_id: int, worker: str, **values: Any) -> bool:
    stmt = (
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.claimed_by == worker,
            OutboxMessage.state == OutboxState.CLAIMED,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result: Any = await session.execute(stmt)
    return bool(result.rowcount)


async def mark_sent_many(
    *, session: AsyncSession, message_ids: Collection[int], worker: str, now: datetime,
    telegram_id: int | None,
) -> int:
    """Messages sent as one Telegram message (a single row, or a list's): each is settled
    as sent by it, if this worker still holds it. Returns how many were."""
    result: Any = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(message_ids)),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.state == OutboxState.CLAIMED,
        )
        .values(state=OutboxState.SENT, sent_at=now, message_id=telegram_id,
                claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def mark_final(
    *, session: AsyncSession, message_id: int, worker: str, state: OutboxState, error: str,
    attempts: int,
) -> bool:
    """FAILED, DEAD or CANCELLED: this message will not be sent."""
    return await _settle(
        session, message_id, worker, state=state, last_error=error[:500], attempts=attempts,
        claimed_until=None,
    )


async def record_attempt(
    *, session: AsyncSession, message_id: int, worker: str, attempts: int, error: str
) -> bool:
    return await _settle(session, message_id, worker, attempts=attempts, last_error=error[:500])


async def release(
    *, session: AsyncSession, message_ids: Collection[int], worker: str,
    not_before: datetime | None = None,
) -> None:
    """Give claimed messages back (shutting down, or waiting out a long flood ban)."""
    if not message_ids:
        return
    values: dict[str, Any] = {"state": OutboxState.PENDING, "claimed_by": None,
                              "claimed_until": None}
    if not_before is not None:
        values["not_before"] = not_before
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(message_ids)),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.state == OutboxState.CLAIMED,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def renew(
    *, session: AsyncSession, message_ids: Collection[int], worker: str, until: datetime
) -> None:
    if not message_ids:
        return
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(message_ids)),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.state == OutboxState.CLAIMED,
        )
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )


async def retry(*, session: AsyncSession, message_id: int, now: datetime) -> bool:
    """The office asks for a failed or dead message to be tried again."""
    stmt = (
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.state.in_(UNDELIVERED_STATES),
        )
        .values(state=OutboxState.PENDING, not_before=now, attempts=0, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    result: Any = await session.execute(stmt)
    return bool(result.rowcount)


async def undelivered(
    *, session: AsyncSession, limit: int = 20, offset: int = 0
) -> Sequence[OutboxMessage]:
    """A page of messages that could not be delivered, the latest first."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.state.in_(UNDELIVERED_STATES))
        .order_by(OutboxMessage.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def count_undelivered(*, session: AsyncSession) -> int:
    stmt = select(func.count()).where(OutboxMessage.state.in_(UNDELIVERED_STATES))
    return int((await session.execute(stmt)).scalar_one())


async def counts_by_state(*, session: AsyncSession) -> dict[OutboxState, int]:
    stmt = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    return {state: int(n) for state, n in (await session.execute(stmt)).all()}


async def mark_unreachable(
    *, session: AsyncSession, person_id: int | None, chat_id: int, now: datetime
) -> Person | None:
    """Record that a person blocked the bot; the person only the first time (to tell once)."""
    condition = Person.id == person_id if person_id is not None else Person.telegram_id == chat_id
    person = (await session.execute(select(Person).where(condition))).scalar_one_or_none()
    if person is None or person.unreachable_since is not None:
        return None
    person.unreachable_since = now
    await session.flush()
    return person


async def clear_unreachable(*, session: AsyncSession, person_id: int) -> None:
    await session.execute(
        update(Person)
        .where(Person.id == person_id, Person.unreachable_since.is_not(None))
        .values(unreachable_since=None)
        .execution_options(synchronize_session=False)
    )


async def unreachable_ids(*, session: AsyncSession) -> set[int]:
    stmt = select(Person.id).where(Person.unreachable_since.is_not(None))
    return set((await session.execute(stmt)).scalars().all())


async def count_due(*, session: AsyncSession, now: datetime) -> int:
    """Messages waiting to be sent now, or held by a dispatcher."""
    stmt = select(func.count()).where(
        or_(
            and_(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before <= now),
            OutboxMessage.state == OutboxState.CLAIMED,
        )
    )
    return int((await session.execute(stmt)).scalar_one())


async def people_named(*, session: AsyncSession, ids: Collection[int]) -> Sequence[Person]:
    if not ids:
        return []
    return (await session.execute(select(Person).where(Person.id.in_(list(ids))))).scalars().all()


async def people_reached_at(
    *, session: AsyncSession, chat_ids: Collection[int]
) -> Sequence[Person]:
    """The people whose private chat these are."""
    wanted = [c for c in chat_ids if c > 0]
    if not wanted:
        return []
    stmt = select(Person).where(Person.telegram_id.in_(wanted))
    return (await session.execute(stmt)).scalars().all()


async def leaders_chat_ids(*, session: AsyncSession) -> set[int]:
    """The chats campaigns name as their leading group's."""
    stmt = select(Campaign.leaders_chat_id).where(Campaign.leaders_chat_id.is_not(None))
    return {int(c) for c in (await session.execute(stmt)).scalars().all() if c is not None}
