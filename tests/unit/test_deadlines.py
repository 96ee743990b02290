from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.deadlines import days_left, is_overdue, urgency

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_days_are_counted_in_local_calendar_days() -> None:
    # 23:00 UTC on the 1st is already 07:00 on the 2nd in Beijing.
    now = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    due = datetime(2026, 12, 2, 17, 30, tzinfo=SHANGHAI)
    assert days_left(due, now, SHANGHAI) == 0
    assert days_left(due, now, ZoneInfo("UTC")) == 1


def test_urgency_overdue_today_and_later() -> None:
    now = datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)
    assert urgency(None, now, SHANGHAI) is None
    late = urgency(now - timedelta(days=3), now, SHANGHAI)
    assert late is not None and late.overdue and late.days == 3
    today = urgency(now + timedelta(hours=2), now, SHANGHAI)
    assert today is not None and not today.overdue and today.days == 0
    later = urgency(now + timedelta(days=5), now, SHANGHAI)
    assert later is not None and later.days == 5
    # Late by an hour on the same day: overdue, zero whole days.
    just = urgency(now - timedelta(hours=1), now, SHANGHAI)
    assert just is not None and just.overdue and just.days == 0


def test_is_overdue() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert is_overdue(now - timedelta(seconds=1), now)
    assert not is_overdue(now, now)
    assert not is_overdue(None, now)
