"""Parsing what people type or put in spreadsheets: dates, percentages, counts, ids.

Numbers are ASCII digits only: `str.isdigit()` and `\\d` also accept `²`, `٣` and other
Unicode digits, which `int()` either refuses (an internal error) or reads as a number no
one typed. The one exception is the full-width digits a Chinese input method produces
(`１２`), folded to ASCII before anything is read. Every number is range-checked, so an
id never reaches the database as a value its column cannot hold.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput

# Database ids are 32-bit on PostgreSQL (INTEGER primary keys).
MAX_ID = 2**31 - 1
# Deadlines and dates a campaign can mean; beyond these an instant may not even convert
# between zones (year 1 in local mean time underflows UTC).
MIN_YEAR, MAX_YEAR = 2000, 2100
# How much of a refused value an error message quotes back.
SHOWN_CHARS = 24

_FULL_WIDTH = str.maketrans("０１２３４５６７８９＃％：", "0123456789#%:")

_DATE_PATTERNS = (
    re.compile(r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})$"),
    re.compile(r"^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?$"),
    re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})$"),
)
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$")


def fold(text: str) -> str:
    """Full-width digits, `＃`, `％` and `：` as their ASCII forms; the rest unchanged."""
    return text.translate(_FULL_WIDTH)


def shown(text: str) -> str:
    """A refused value as an error message quotes it: short enough for any message."""
    value = text.strip()
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"


def ascii_int(text: str, low: int, high: int) -> int | None:
    """A whole number written in ASCII (or full-width) digits within [low, high], or None."""
    value = fold(text.strip())
    # Ten digits hold every 32-bit value; longer input is refused before int() reads it.
    if not value or len(value) > 10 or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if low <= number <= high else None


def parse_date(text: str) -> date:
    value = fold(text.strip())
    for pattern in _DATE_PATTERNS:
        match = pattern.match(value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                found = date(year, month, day)
            except ValueError:
                break
            if not MIN_YEAR <= found.year <= MAX_YEAR:
                raise InvalidInput("error.date_range", value=shown(text), low=MIN_YEAR,
                                   high=MAX_YEAR)
            return found
    raise InvalidInput("error.bad_date", value=shown(text))


def parse_time(text: str) -> time:
    match = _TIME.match(fold(text.strip()))
    if not match:
        raise InvalidInput("error.bad_time", value=shown(text))
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise InvalidInput("error.bad_time", value=shown(text))
    return time(hour, minute)


def parse_deadline(text: str, zone: ZoneInfo, default_time: time) -> datetime:
    """`2026-12-15`, `2026/12/15 17:00`, `2026年12月15日` → an aware instant in `zone`.

    A bare date means `default_time` on that day, the end of the office day.
    """
    value = text.strip().replace("T", " ")
    if not value:
        raise InvalidInput("error.bad_date", value=shown(text))
    day_part, _, time_part = value.partition(" ")
    day = parse_date(day_part)
    at = parse_time(time_part) if time_part.strip() else default_time
    return datetime.combine(day, at, tzinfo=zone)


def as_deadline(value: object, zone: ZoneInfo, default_time: time) -> datetime:
    """A spreadsheet cell (a real date, a datetime or text) as a deadline."""
    if isinstance(value, date) and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidInput("error.date_range", value=shown(str(value)), low=MIN_YEAR,
                           high=MAX_YEAR)
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
    value = ascii_int(fold(text.strip()).removesuffix("%"), 0, 100)
    if value is None:
        raise InvalidInput("error.progress_range")
    return value


def parse_id(text: str) -> int | None:
    """`12` or `#12` as a database id, or None."""
    return ascii_int(fold(text.strip()).removeprefix("#"), 1, MAX_ID)


def parse_task_id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise InvalidInput("error.bad_task_id", value=shown(text))
    return value


# A task card's first line carries the task id, so a reply to any card (or to a prompt that
# quotes one) finds its task again without keeping state between messages.
_CARD_ID = re.compile(r"#([0-9]{1,10})")


def task_id_in(text: str | None) -> int | None:
    """The task a card or prompt refers to: the first `#<id>` in its text."""
    if not text:
        return None
    match = _CARD_ID.search(text)
    return parse_id(match.group(1)) if match else None
