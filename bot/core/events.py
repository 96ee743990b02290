"""A small in-process publish/subscribe, so features react to task changes after commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

Listener = Callable[[Any], Awaitable[None]]
InTransaction = Callable[[AsyncSession, "TasksChanged"], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._listeners: dict[type, list[Listener]] = {}
        self._in_transaction: list[InTransaction] = []

    def subscribe(self, event_type: type, listener: Listener) -> None:
        self._listeners.setdefault(event_type, []).append(listener)

    def before_commit(self, listener: InTransaction) -> None:
        """Call `listener(session, changes)` inside a unit of work that changed tasks, just
        before it commits: what it writes (a notice queued in the outbox) commits with the
        change or not at all."""
        self._in_transaction.append(listener)

    async def settle(self, session: AsyncSession) -> None:
        """Run the before-commit listeners on the changes noted so far in `session`."""
        changes = session.info.get(_CHANGES)
        if not changes:
            return
        noted = TasksChanged(tuple(changes))
        for listener in self._in_transaction:
            await listener(session, noted)

    async def publish(self, event: object) -> None:
        # A failing listener must not undo the committed change nor starve the others.
        for listener in self._listeners.get(type(event), []):
            try:
                await listener(event)
            except Exception:
                log.exception("listener %r failed on %r", listener, event)


@dataclass(frozen=True)
class TaskChange:
    task_id: int
    kind: str


@dataclass(frozen=True)
class TasksChanged:
    """Published once per committed unit of work, so listeners react at once and in bulk."""

    changes: tuple[TaskChange, ...]

    @property
    def task_ids(self) -> list[int]:
        return sorted({c.task_id for c in self.changes})


_CHANGES = "task_changes"


def record_change(session: AsyncSession, task_id: int, kind: str) -> None:
    """Note a change to publish when this session's transaction has committed."""
    session.info.setdefault(_CHANGES, []).append(TaskChange(task_id, kind))


def recorded_changes(session: AsyncSession) -> TasksChanged | None:
    """The changes noted in this session, taken out of it (None when there were none)."""
    changes = session.info.pop(_CHANGES, [])
    return TasksChanged(tuple(changes)) if changes else None
