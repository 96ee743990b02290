"""Telling a person that a task is now theirs: created for them, reassigned to them, or
given to them by an imported table.

It runs inside the unit of work that made the change (`EventBus.before_commit`), so the
notice is queued in the outbox if and only if the change commits, and it sees the
change whatever made it — /newtask, /reassign, an import in the chat or from the command
line. One message per person per unit of work: the task's card with its buttons for one
task, a list for several (an import gives one person thirty tasks in one message, not
thirty). Quiet hours hold it back like a reminder.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import TasksChanged
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.reminders.lookup import Lookup
from bot.tasks.views import assignment_notice
from db.models import OutboxMessage, Person, Task, TaskEvent
from db.repositories import tasks as tasks_repo

KIND = "task.assigned"
# The kinds of change worth a look; whether the owner changed is read from the history.
_ASSIGNING = frozenset(tasks_repo.ASSIGNING_KINDS)


def gives_to_owner(event: TaskEvent) -> bool:
    """An event that gave the task to its current owner: it was created or imported for
    them, reassigned to them, or an import changed its owner."""
    return event.kind != "updated" or event.note == "owner"


@dataclass(frozen=True)
class Assignment:
    """The tasks one person was given in one unit of work, and by whom."""

    owner: Person
    tasks: tuple[Task, ...]
    moved: bool  # reassigned (not new)
    first_event_id: int


def assignments(tasks: Sequence[Task], events: Sequence[TaskEvent]) -> list[Assignment]:
    """Group the tasks given to someone by this unit of work by their new owner. Nobody is
    told of a task they gave themselves, of one that is closed, or without Telegram."""
    latest: dict[int, TaskEvent] = {}
    for event in events:  # oldest first: the last one per task is this unit of work's
        if gives_to_owner(event):
            latest[event.task_id] = event
    grouped: dict[int, list[tuple[Task, TaskEvent]]] = defaultdict(list)
    for task in tasks:
        owner = task.owner
        given = latest.get(task.id)
        if given is None or owner is None or not task.status.is_open:
            continue
        if not owner.is_active or not owner.telegram_id or owner.unreachable_since:
            continue
        if given.actor_id == owner.id:
            continue
        grouped[owner.id].append((task, given))
    result = []
    for items in grouped.values():
        owner = items[0][0].owner
        assert owner is not None
        result.append(Assignment(
            owner=owner, tasks=tuple(task for task, _ in items),
            moved=all(e.kind in ("owner", "updated") for _, e in items),
            first_event_id=min(e.id for _, e in items),
        ))
    return result


class AssignmentNotices:
    """Queues the notice to each new owner; a guard drops one whose task moved on."""

    def __init__(self, core: Core, outbox: Outbox) -> None:
        self.core = core
        self.outbox = outbox

    async def on_changes(self, session: AsyncSession, changes: TasksChanged) -> None:
        """Before the unit of work commits: tell each person given a task in it."""
        ids = sorted({c.task_id for c in changes.changes if c.kind in _ASSIGNING})
        if not ids:
            return
        tasks = await tasks_repo.fresh_tasks(session=session, ids=ids)
        events = await tasks_repo.assignment_events(session=session, task_ids=ids)
        found = assignments(tasks, events)
        if not found:
            return
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {t.campaign_id for a in found for t in a.tasks})
        now = self.core.clock.now()
        for assignment in found:
            await self._queue(session, assignment, look, now)

    async def _queue(
        self, session: AsyncSession, assignment: Assignment, look: Lookup, now: datetime
    ) -> None:
        owner = assignment.owner
        assert owner.telegram_id is not None
        _, policy, zone = look.campaigns[assignment.tasks[0].campaign_id]
        text, keyboard = assignment_notice(
            self.core.texts, owner.language, assignment.tasks, now, zone,
            moved=assignment.moved,
        )
        quiet = policy.quiet_for(owner.quiet_start, owner.quiet_end)
        single = assignment.tasks[0].id if len(assignment.tasks) == 1 else None
        await self.outbox.enqueue(
            session, key=f"assign:{owner.id}:{assignment.first_event_id}",
            chat_id=owner.telegram_id, text=text, kind=KIND, person_id=owner.id,
            reply_markup=keyboard, not_before=quiet.defer(now, zone), task_id=single,
        )

    async def still_theirs(
        self, session: AsyncSession, message: OutboxMessage, now: datetime
    ) -> bool:
        """Delivery guard: a card held back by quiet hours is dropped if the task was
        given to someone else or closed meanwhile (a list is sent as it is)."""
        if message.task_id is None:
            return True
        task = await tasks_repo.get_task(session=session, task_id=message.task_id)
        return (task is not None and task.status.is_open
                and task.owner_id == message.person_id)
