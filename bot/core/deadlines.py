"""Pure rules about deadlines in the campaign's local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo


def local_due(due_at: datetime, zone: ZoneInfo) -> datetime:
    return due_at.astimezone(zone)


def days_left(due_at: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Calendar days from today to the deadline's day, local time (negative when late)."""
    return (due_at.astimezone(zone).date() - now.astimezone(zone).date()).days


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and due_at < now


def due_from_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


@dataclass(frozen=True)
class Urgency:
    """How a deadline reads on a card: overdue by N days, due today, or N days left."""

    overdue: bool
    days: int  # days left (>= 0) or days late (> 0 when overdue)


def urgency(due_at: datetime | None, now: datetime, zone: ZoneInfo) -> Urgency | None:
    if due_at is None:
        return None
    if due_at < now:
        return Urgency(True, max(0, -days_left(due_at, now, zone)))
    return Urgency(False, days_left(due_at, now, zone))
