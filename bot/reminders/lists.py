"""Escalations for a group's chat, sent as lists (`bot.delivery.merge`).

The leading group's chat hears of every task that stays late past `escalate_after_days`.
A table imported with tasks already weeks late made each of them one message: 500 such
tasks were 25 minutes of that chat's 20 messages a minute, and the chat unreadable. Those
that wait together now go as one list, a line per task, worded from the task as it is
when the list is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Core
from bot.reminders.lookup import Lookup
from bot.reminders.views import escalation_line
from db.models import OutboxMessage
from db.repositories import reminders as repo

KIND = "reminder.escalate"


class EscalationLists:
    """The `Merger` of escalations: a header, and a line per task."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def header(self, count: int) -> str:
        texts = self.core.texts
        return texts.get(texts.default, "reminders.escalate_list", count=count)

    async def lines(
        self, session: AsyncSession, rows: Sequence[OutboxMessage], now: datetime
    ) -> list[str]:
        texts = self.core.texts
        tasks = await repo.tasks_for(session=session, ids={r.task_id for r in rows if r.task_id})
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {t.campaign_id for t in tasks.values()})
        lines = []
        for row in rows:
            task = tasks.get(row.task_id or 0)
            found = look.campaigns.get(task.campaign_id) if task else None
            if task is None or task.due_at is None or found is None:
                lines.append(row.text)  # gone meanwhile: what was queued, as it was
                continue
            lines.append(escalation_line(texts, texts.default, task, now, found[2]))
        return lines
