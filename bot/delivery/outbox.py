"""The outbox: how a feature queues a message to be sent later, in its own transaction.

Queueing is a database write and nothing else; the dispatcher (`bot.delivery.dispatcher`)
is woken once the transaction commits and does the sending.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import metrics
from bot.core.clock import Clock
from bot.core.keyboard import Button, Keyboard
from db.models import OutboxMessage
from db.repositories import delivery as outbox_repo

# Decides right before sending whether a queued message is still true (False: cancel it).
Guard = Callable[[AsyncSession, OutboxMessage, datetime], Awaitable[bool]]
Markup = Keyboard | Mapping[str, Any] | None


@dataclass(frozen=True)
class ListItem:
    """One row of a list (`Merger`): its HTML line, and the button that opens what it is
    about, if the list has buttons."""

    line: str
    button: Button | None = None


class Merger(Protocol):
    """Sends a chat's backlog of one kind of message as lists (`bot.delivery.merge`): a
    group's chat that owes twenty escalations gets one message, not twenty."""

    async def items(
        self, session: AsyncSession, rows: Sequence[OutboxMessage], now: datetime
    ) -> tuple[Callable[[int], str], list[ListItem]]:
        """The list's header for a count of rows (HTML, in the recipient's language) and
        an item for each row, in the same order."""
        ...


_WAKE = "outbox_wake"


def _markup_json(markup: Markup) -> str | None:
    if markup is None:
        return None
    if isinstance(markup, Keyboard):
        return markup.to_json() if markup else None
    return json.dumps(dict(markup), ensure_ascii=False)


@dataclass(frozen=True)
class Queued:
    """One message for `Outbox.enqueue_many`: `enqueue`'s arguments as a value."""

    key: str
    chat_id: int
    text: str
    kind: str
    person_id: int | None = None
    reply_markup: Markup = None
    task_id: int | None = None
    not_before: datetime | None = None


class Outbox:
    """Queue messages (`enqueue`) and say which are still wanted (`add_guard`)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._guards: list[tuple[str, Guard]] = []
        self._mergers: dict[str, Merger] = {}
        self._wakers: list[Callable[[], None]] = []

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        key: str,
        chat_id: int,
        text: str,
        kind: str,
        person_id: int | None = None,
        reply_markup: Markup = None,
        not_before: datetime | None = None,
        photo_path: str | Path | None = None,
        document_path: str | Path | None = None,
        task_id: int | None = None,
    ) -> bool:
        """Queue one message in `session`'s transaction; a key already queued is a no-op.

        Returns True when this call queued it. The dispatcher is woken when the
        transaction commits (and polls anyway, for other processes' messages).
        """
        queued = await outbox_repo.enqueue(
            session=session,
            key=key,
            chat_id=chat_id,
            text=text,
            kind=kind,
            now=self.clock.now(),
            not_before=not_before,
            person_id=person_id,
            task_id=task_id,
            reply_markup=_markup_json(reply_markup),
            photo_path=str(photo_path) if photo_path else None,
            document_path=str(document_path) if document_path else None,
        )
        if queued:
            self._wake_after_commit(session)
            metrics.outbox_queued()
        return queued

    async def enqueue_many(self, session: AsyncSession, messages: Sequence[Queued]) -> int:
        """`enqueue` for a batch, in a few multi-row statements; returns how many this call
        queued (a key already queued is skipped, a cancelled one revived, as there)."""
        if not messages:
            return 0
        queued = await outbox_repo.enqueue_many(
            session=session,
            messages=[{
                "key": m.key, "chat_id": m.chat_id, "text": m.text, "kind": m.kind,
                "person_id": m.person_id, "task_id": m.task_id, "not_before": m.not_before,
                "reply_markup": _markup_json(m.reply_markup),
            } for m in messages],
            now=self.clock.now(),
        )
        if queued:
            self._wake_after_commit(session)
            metrics.outbox_queued(queued)
        return queued

    def on_commit(self, waker: Callable[[], None]) -> None:
        """Call `waker` after a transaction that queued something commits."""
        self._wakers.append(waker)

    def wake(self) -> None:
        for waker in self._wakers:
            waker()

    def _wake_after_commit(self, session: AsyncSession) -> None:
        sync = session.sync_session
        if sync.info.get(_WAKE):
            return
        sync.info[_WAKE] = True

        def woken(_session: Any) -> None:
            sync.info.pop(_WAKE, None)
            self.wake()

        event.listen(sync, "after_commit", woken, once=True)

    def add_guard(self, kind_prefix: str, guard: Guard) -> None:
        """Ask `guard` about every message whose kind starts with `kind_prefix`."""
        self._guards.append((kind_prefix, guard))

    def guards_for(self, kind: str) -> list[Guard]:
        return [g for prefix, g in self._guards if kind.startswith(prefix)]

    def add_merger(self, kind: str, merger: Merger) -> None:
        """Send messages of exactly `kind` that wait for the same chat as one list (those
        without attachments; the list's buttons are its items')."""
        self._mergers[kind] = merger

    def merger_for(self, kind: str) -> Merger | None:
        return self._mergers.get(kind)
