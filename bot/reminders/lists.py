"""Escalations sent as lists (`bot.delivery.merge`).

A task that stays late past `escalate_after_days` is escalated to its unit's leader and
to the leading group's chat. A table imported with tasks already weeks late made each of
them one message: 500 such tasks were 25 minutes of the group chat's 20 messages a minute,
and as many messages in each leader's chat. Those that wait for the same chat together now
go as one list, a line per task worded from the task as it is when the list is sent; a
leader's list has a button to open each of the first tasks, as the single message had.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Core
from bot.core.textfit import task_button
from bot.delivery.outbox import ListItem
from bot.reminders.lookup import Lookup
from bot.reminders.views import escalation_line
from db.models import OutboxMessage
from db.repositories import reminders as repo

KIND = "reminder.escalate"


class EscalationLists:
    """The `Merger` of escalations: a header, and a line (and a button) per task."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def items(
        self, session: AsyncSession, rows: Sequence[OutboxMessage], now: datetime
    ) -> tuple[Callable[[int], str], list[ListItem]]:
        texts = self.core.texts
        tasks = await repo.tasks_for(session=session, ids={r.task_id for r in rows if r.task_id})
        people = await repo.persons_for(session=session,
                                        ids={r.person_id for r in rows if r.person_id})
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {t.campaign_id for t in tasks.values()})
        # One chat, so one reader: a leader in their language, a group in the default.
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
                escalation_line(texts, lang, task, now, found[2]),
                task_button(task.id, task.title) if row.reply_markup else None,
            ))

        def header(count: int) -> str:
            return texts.get(lang, "reminders.escalate_list", count=count)

        return header, items
