"""Parsing what people type or put in spreadsheets: dates, percentages, counts."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")


def parse_date(text: str) -> date:
    value = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise InvalidInput("error.bad_date", value=text)


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise InvalidInput("error.bad_time", value=text)
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise InvalidInput("error.bad_time", value=text)
    return time(hour, minute)


def parse_deadline(text: str, zone: ZoneInfo, default_time: time) -> datetime:
    """`2026-12-15`, `2026/12/15 17:00`, `2026年12月15日` → an aware instant in `zone`.

    A bare date means `default_time` on that day, the end of the office day.
    """
    value = text.strip().replace("T", " ")
    if not value:
        raise InvalidInput("error.bad_date", value=text)
    day_part, _, time_part = value.partition(" ")
    day = parse_date(day_part)
    at = parse_time(time_part) if time_part.strip() else default_time
    return datetime.combine(day, at, tzinfo=zone)


def as_deadline(value: object, zone: ZoneInfo, default_time: time) -> datetime:
    """A spreadsheet cell (a real date, a datetime or text) as a deadline."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            if value.time() == time(0, 0):
                return datetime.combine(value.date(), default_time, tzinfo=zone)
            return value.replace(tzinfo=zone)
        return value
    if isinstance(value, date):
        return datetime.combine(value, default_time, tzinfo=zone)
    return parse_deadline(str(value), zone, default_time)


def parse_percent(text: str) -> int:
    value = text.strip().rstrip("%％")
    if not value.isdigit() or not 0 <= int(value) <= 100:
        raise InvalidInput("error.progress_range")
    return int(value)


def parse_task_id(text: str) -> int:
    value = text.strip().lstrip("#")
    if not value.isdigit():
        raise InvalidInput("error.bad_task_id", value=text)
    return int(value)


# A task card's first line carries the task id, so a reply to any card (or to a prompt that
# quotes one) finds its task again without keeping state between messages.
_CARD_ID = re.compile(r"#([0-9]{1,10})")


def task_id_in(text: str | None) -> int | None:
    """The task a card or prompt refers to: the first `#<id>` in its text."""
    if not text:
        return None
    match = _CARD_ID.search(text)
    return int(match.group(1)) if match else None
