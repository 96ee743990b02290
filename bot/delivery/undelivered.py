"""What the office sees of messages that could not be delivered: a notice as each one
fails, the list of them, and resending one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.core.paging import Page
from bot.delivery.outbox import Outbox
from bot.texts import Label, Texts
from db.models import OutboxMessage, Role
from db.repositories import delivery as outbox_repo
from db.repositories import people as people_repo
from db.session import Database

OFFICE_KIND = "office."

# What each kind of queued message is, in words the office uses.
_KIND_TEXTS = {
    "reminder.owner": "reminders.kind.reminder",
    "reminder.escalate": "reminders.kind.escalation",
    "digest": "reminders.kind.digest",
    "leaders_digest": "reminders.kind.leaders_digest",
    "countdown": "reminders.kind.countdown",
    "quiz.review": "reminders.kind.quiz_review",
    "bulletin": "reminders.kind.bulletin",
    "evidence": "reminders.kind.evidence",
    "task.assigned": "reminders.kind.assignment",
    "nudge": "reminders.kind.nudge",
}
# Telegram's refusals (lower case, as its descriptions read) → what they mean for the office.
_REASONS = (
    (("kicked", "removed from chat", "not a member", "bot was removed"), "reminders.reason.removed"),
    (("chat not found",), "reminders.reason.no_chat"),
    (("blocked by the user",), "reminders.reason.blocked"),
    (("user is deactivated",), "reminders.reason.deactivated"),
    (("not enough rights", "have no rights", "chat_write_forbidden", "chat_restricted"),
     "reminders.reason.no_rights"),
    (("too long",), "reminders.reason.too_long"),
    (("can't parse entities", "can't find end of the entity"), "reminders.reason.format"),
    (("timed out", "timeout", "network", "bad gateway", "connection"), "reminders.reason.network"),
)
DETAIL_SHOWN = 120


def what_of(kind: str) -> Label:
    """A kind of message as people name it ("督办提醒"), never the internal kind."""
    for known, text_id in _KIND_TEXTS.items():
        if kind == known:
            return Label(text_id)
    return Label("reminders.kind.other")


def reason_of(error: str) -> Label:
    """Why Telegram did not take a message, in the office's words; an unknown refusal keeps
    Telegram's own short description."""
    lowered = error.lower()
    for marks, text_id in _REASONS:
        if any(mark in lowered for mark in marks):
            return Label(text_id)
    return Label("reminders.reason.other", detail=error[:DETAIL_SHOWN])


def about_of(row: OutboxMessage) -> Label | str:
    return Label("reminders.delivery.about_task", id=row.task_id) if row.task_id else ""


async def recipients(
    session: AsyncSession, rows: Sequence[OutboxMessage]
) -> dict[int, str | Label]:
    """Who each message was for, by row id: a person's name, or the chat's role — never a
    bare chat id."""
    people = await outbox_repo.people_named(
        session=session, ids={r.person_id for r in rows if r.person_id})
    by_id = {p.id: p.name for p in people}
    by_chat = {p.telegram_id: p.name for p in await outbox_repo.people_reached_at(
        session=session, chat_ids={r.chat_id for r in rows}) if p.telegram_id}
    leaders = await outbox_repo.leaders_chat_ids(session=session)
    found: dict[int, str | Label] = {}
    for row in rows:
        name = by_id.get(row.person_id or 0) or by_chat.get(row.chat_id)
        if name:
            found[row.id] = name
        elif row.chat_id in leaders:
            found[row.id] = Label("reminders.chat.leaders")
        elif row.chat_id < 0:
            found[row.id] = Label("reminders.chat.group")
        else:
            found[row.id] = Label("reminders.chat.someone")
    return found


class OfficeNotices:
    """Queues a notice to every admin about a message that will not arrive."""

    def __init__(
        self, *, db: Database, outbox: Outbox, texts: Texts, admin_ids: Sequence[int] = ()
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.texts = texts
        self.admin_ids = tuple(admin_ids)

    async def failed(self, row: OutboxMessage, error: str) -> None:
        """Telegram refused the message, or it ran out of attempts."""
        await self._tell(row, "reminders.delivery.failed", reason=reason_of(error))

    async def blocked(self, row: OutboxMessage, name: str) -> None:
        """The person it was for has blocked the bot."""
        await self._tell(row, "reminders.delivery.blocked", name=name)

    async def _tell(self, row: OutboxMessage, text_id: str, **params: Any) -> None:
        """The office hears of every message that will not arrive (never about its own)."""
        if row.kind.startswith(OFFICE_KIND):
            return
        async with self.db.session() as session:
            who = (await recipients(session, [row]))[row.id]
            admins = await people_repo.persons_with_role(session=session, roles=(Role.ADMIN,))
            targets = {p.telegram_id: p.language for p in admins if p.telegram_id}
            for admin_id in self.admin_ids:
                targets.setdefault(admin_id, self.texts.default)
            for chat_id, language in targets.items():
                if chat_id == row.chat_id:
                    continue
                await self.outbox.enqueue(
                    session,
                    key=f"office.undelivered:{row.id}:{chat_id}",
                    chat_id=chat_id,
                    kind="office.undelivered",
                    text=self.texts.get(language, text_id, what=what_of(row.kind),
                                        about=about_of(row), who=who, **params),
                )


@dataclass(frozen=True)
class Undelivered:
    """A message that did not arrive, described for the office."""

    message: OutboxMessage
    what: Label  # the kind of message, in words
    about: Label | str  # the task it is about, if any
    who: str | Label  # whom it was for: a name, or the chat's role
    reason: Label  # why, in words


async def listing(
    session: AsyncSession, *, offset: int = 0, size: int = 10
) -> tuple[Sequence[Undelivered], Page]:
    """A page of what could not be delivered, the latest first, with whom it was for."""
    page = Page.at(offset, size, await outbox_repo.count_undelivered(session=session))
    rows = await outbox_repo.undelivered(session=session, limit=page.size, offset=page.offset)
    who = await recipients(session, rows)
    return [Undelivered(row, what_of(row.kind), about_of(row), who[row.id],
                        reason_of(row.last_error or "")) for row in rows], page


async def retry(session: AsyncSession, message_id: int, now: datetime) -> None:
    """Queue a failed message again; the dispatcher must be woken after the commit."""
    if not await outbox_repo.retry(session=session, message_id=message_id, now=now):
        raise InvalidInput("reminders.undelivered.not_found", id=message_id)
