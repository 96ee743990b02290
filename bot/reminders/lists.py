"""Reminders and escalations sent as lists (`bot.delivery.merge`).

A task that stays late past `escalate_after_days` is escalated to its unit's leader and
to the leading group's chat. A table imported with tasks already weeks late made each of
them one message: 500 such tasks were 25 minutes of the group chat's 20 messages a minute,
and as many messages in each leader's chat. An owner with twenty tasks overdue was sent
twenty reminders every morning at the overdue time, one a second. Those that wait for the
same chat together now go as one list, a line per task worded from the task as it is when
the list is sent, with a button to open each of the first tasks: the owner's task card has
the reminder's "done" and "progress", a leader's has what a leader may do. A reminder alone
is still sent as itself, with its own buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Core
from bot.core.textfit import task_button
from bot.delivery.outbox import ListItem
from bot.reminders.lookup import Lookup
from bot.reminders.views import escalation_header, escalation_line, owner_header, owner_line
from bot.texts import Texts
from db.models import OutboxMessage, Task
from db.repositories import reminders as repo

KIND = "reminder.escalate"
OWNER_KIND = "reminder.owner"

Header = Callable[[Texts, str, int], str]
Line = Callable[[Texts, str, Task, datetime, ZoneInfo], str]


class TaskLists:
    """The `Merger` of one kind of task message: a header, and a line (and a button, for
    the rows that had buttons) per task."""

    def __init__(self, core: Core, header: Header, line: Line) -> None:
        self.core = core
        self.header = header
        self.line = line

    async def items(
        self, session: AsyncSession, rows: Sequence[OutboxMessage], now: datetime
    ) -> tuple[Callable[[int], str], list[ListItem]]:
        texts = self.core.texts
        tasks = await repo.tasks_for(session=session, ids={r.task_id for r in rows if r.task_id})
        people = await repo.persons_for(session=session,
                                        ids={r.person_id for r in rows if r.person_id})
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {t.campaign_id for t in tasks.values()})
        # One chat, so one reader: a person in their language, a group in the default.
        reader = people.get(rows[0].person_id or 0) if rows else None
        lang = reader.language if reader else texts.default
        items = []
        for row in rows:
            task = tasks.get(row.task_id or 0)
            found = look.campaigns.get(task.campaign_id) if task else None
            if task is None or task.due_at is None or found is None:
                items.append(ListItem(row.text))  # gone meanwhile: what was queued
                continue
            items.append(ListItem(
                self.line(texts, lang, task, now, found[2]),
                task_button(task.id, task.title) if row.reply_markup else None,
            ))

        def header(count: int) -> str:
            return self.header(texts, lang, count)

        return header, items


def escalation_lists(core: Core) -> TaskLists:
    """Escalations to a leader or the leading group's chat."""
    return TaskLists(core, escalation_header, escalation_line)


def owner_lists(core: Core) -> TaskLists:
    """An owner's reminders due at the same time (several deadlines at one hour, the
    morning's overdue tasks)."""
    return TaskLists(core, owner_header, owner_line)
