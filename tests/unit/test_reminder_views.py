"""How reminders read: the time left, the real delay of an escalation, the greeting of a
digest sent late, and the countdown's sentence whatever the campaign is called."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.policy import Planned, Recipient
from bot.reminders.views import countdown_notice, digest, escalation, time_left
from bot.texts import Texts
from db.models import Person, Task, TaskStatus, Unit
from db.repositories.reminders import DatedTask

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 12, 1, 17, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts.load()


@pytest.mark.parametrize(
    ("before", "zh", "en"),
    [
        # Each reminder a few seconds after its time, as the sweep sends it.
        (timedelta(days=3) - timedelta(seconds=40), "3 天", "3 days"),
        (timedelta(days=1) - timedelta(seconds=5), "1 天", "1 day"),
        (timedelta(hours=2) - timedelta(seconds=30), "2 小时", "2 hours"),
        (timedelta(minutes=2) - timedelta(seconds=5), "2 分钟", "2 minutes"),
        (timedelta(minutes=59), "59 分钟", "59 minutes"),
        (timedelta(seconds=20), "1 分钟", "1 minute"),
        # A "1 day" reminder held back by quiet hours until the morning.
        (timedelta(hours=9, minutes=50), "10 小时", "10 hours"),
    ],
)
def test_time_left_is_what_people_mean(texts: Texts, before: timedelta, zh: str,
                                       en: str) -> None:
    assert time_left(texts, "zh", DUE, DUE - before) == zh
    assert time_left(texts, "en", DUE, DUE - before) == en


def _task(due: datetime) -> Task:
    return Task(id=12, title="更新控辍保学台账", due_at=due, progress=40,
                status=TaskStatus.IN_PROGRESS, unit=Unit(name="县教育局"),
                owner=Person(name="张三"))


def test_an_escalation_says_how_late_the_task_really_is(texts: Texts) -> None:
    due = datetime(2026, 9, 8, 17, 30, tzinfo=SHANGHAI)
    planned = Planned(12, "escalate", due + timedelta(days=3), due + timedelta(days=3),
                      Recipient(1, 1), days_overdue=3)
    on_time = datetime(2026, 9, 11, 9, 0, tzinfo=SHANGHAI)
    assert "已逾期 3 天" in escalation(texts, "zh", _task(due), planned, on_time, SHANGHAI,
                                      with_button=True)[0]
    # Imported 75 days after its deadline: the first escalation says 75, not 3.
    weeks_later = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)
    text, keyboard = escalation(texts, "zh", _task(due), planned, weeks_later, SHANGHAI,
                                with_button=True)
    assert "已逾期 75 天" in text
    assert "overdue by 75 days" in escalation(texts, "en", _task(due), planned, weeks_later,
                                              SHANGHAI, with_button=True)[0]
    # A leader only looks at the task from here.
    assert keyboard is not None
    assert [b.data for row in keyboard.rows for b in row] == ["task:open:12"]


@pytest.mark.parametrize(
    ("hour", "zh", "en"),
    [(8, "早上好", "Good morning"), (12, "中午好", "Hello"), (12.77, "中午好", "Hello"),
     (15, "下午好", "Good afternoon"), (20, "晚上好", "Good evening")],
)
def test_a_digest_greets_for_the_time_it_is_sent(texts: Texts, hour: float, zh: str,
                                                  en: str) -> None:
    now = datetime(2026, 11, 30, tzinfo=SHANGHAI) + timedelta(hours=hour)
    tasks = [DatedTask(12, "完善控辍保学台账", DUE)]
    text = digest(texts, "zh", "张三", tasks, now, SHANGHAI)
    assert text is not None and zh in text
    if zh != "早上好":
        assert "早上好" not in text
    english = digest(texts, "en", "Zhang San", tasks, now, SHANGHAI)
    assert english is not None and en in english


@pytest.mark.parametrize("name", ["青岚县义务教育基本均衡发展迎检", "义务教育优质均衡发展督导评估"])
def test_the_countdown_never_doubles_the_campaigns_words(texts: Texts, name: str) -> None:
    text = countdown_notice(texts, "zh", campaign=name, event="days", days=29, day="2026-12-20")
    assert "迎检迎检" not in text and "29 天" in text and name in text
    english = countdown_notice(texts, "en", campaign=name, event="days", days=1,
                               day="2026-12-20")
    assert "1 day</b> to the inspection" in english
