"""Reminders and delivery: the outbox of unprompted messages, sweep cursors, snoozes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models.core import _enum


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    # Bounded retries exhausted or Telegram refused the message itself: the office is told.
    FAILED = "failed"
    # The recipient blocked the bot or the chat is gone: the office is told.
    DEAD = "dead"
    # No longer true when its turn came (task done, deadline moved, reassigned).
    CANCELLED = "cancelled"


# What the office lists with /undelivered and may send again.
UNDELIVERED_STATES = (OutboxState.FAILED, OutboxState.DEAD)


class OutboxMessage(Base):
    """One message the bot sends on its own; `key` makes each one happen at most once."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The dispatcher's claim reads exactly this: due pending rows in order.
        Index("ix_outbox_state_not_before", "state", "not_before"),
        # A sweep reads its tasks' waiting reminders (and the foreign key uses the prefix).
        Index("ix_outbox_task_id_state", "task_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL")
    )
    # Reminders about a task are checked against the task again right before sending.
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[str | None] = mapped_column(Text)
    photo_path: Mapped[str | None] = mapped_column(String(500))
    document_path: Mapped[str | None] = mapped_column(String(500))
    not_before: Mapped[datetime] = mapped_column()
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column()


class ReminderCursor(Base):
    """When a subject (a task, a person's digest, a campaign) must next be looked at.

    Only an index over time: what is sent is always derived from the subject's current
    state, so a cursor that is early costs one look and one that is reset is harmless.
    """

    __tablename__ = "reminder_cursors"
    __table_args__ = (
        UniqueConstraint("subject", "subject_id", name="uq_reminder_cursors_subject"),
        Index("ix_reminder_cursors_next_at", "next_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime | None] = mapped_column()
    derived_at: Mapped[datetime] = mapped_column()


class ReminderSnooze(Base):
    """An owner asked to be reminded of a task later; reminders before `until` wait."""

    __tablename__ = "reminder_snoozes"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    set_at: Mapped[datetime] = mapped_column()
    until: Mapped[datetime] = mapped_column()


class ReminderPolicyOverride(Base):
    """A campaign's own reminder policy: JSON of `[reminders]` keys laid over the config."""

    __tablename__ = "reminder_policies"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    overrides: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column()


class ReminderPolicySeen(Base):
    """The reminder policy a campaign's cursors were last derived with (a fingerprint of
    the effective policy and the campaign's zone): when the config or an override changes
    it, every cursor of the campaign is looked at again, so a new offset is not skipped by
    cursors that wait for a later time."""

    __tablename__ = "reminder_policy_seen"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column()
