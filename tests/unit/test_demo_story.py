"""The demo's sample dated around the first start, and the story planned before it."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.demo.sample import LEAD_DAYS, load_sample, shift_table, shift_text_dates
from bot.demo.seed import seed_rng
from bot.demo.story import (
    Act,
    History,
    Pace,
    TaskFacts,
    Trouble,
    plan_history,
    plan_practice,
)
from db.models import Role

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2027, 3, 10)


@pytest.mark.parametrize(("text", "days", "moved"), [
    ("2026-12-08", 30, "2027-01-07"),
    ("2026/12/10 12:00", 3, "2026/12/13 12:00"),
    ("2026年12月28日", 5, "2027年1月2日"),
    ("完成时限：2026.11.30 前", -1, "完成时限：2026.11.29 前"),
    ("no date here", 9, "no date here"),
])
def test_dates_in_text_move_and_keep_their_style(text: str, days: int, moved: str) -> None:
    assert shift_text_dates(text, days) == moved


def test_the_sample_is_dated_so_the_inspection_is_four_weeks_ahead() -> None:
    sample = load_sample(EXAMPLES, TODAY)
    assert sample.inspection_date == TODAY + timedelta(days=LEAD_DAYS)
    phases = sample.setup.phases
    # The phases keep their lengths and order and fit around today.
    assert [p.name for p in phases][:3] == ["宣传动员", "自查自评", "整改落实"]
    current = [p for p in phases if p.starts_on and p.ends_on and p.starts_on <= TODAY <= p.ends_on]
    assert len(current) == 1
    assert sample.starts_on is not None and sample.starts_on < TODAY - timedelta(days=60)


def test_every_deadline_of_the_table_moves_by_the_same_days() -> None:
    original = (EXAMPLES / "breakdown.xlsx").read_bytes()
    moved = shift_table(original, 100)

    def deadlines(data: bytes) -> list[datetime]:
        sheet = load_workbook(io.BytesIO(data)).active
        return [row[5] for row in sheet.iter_rows(min_row=3, values_only=True)]

    before, after = deadlines(original), deadlines(moved)
    assert len(before) == 85
    assert [b + timedelta(days=100) for b in before] == after


def _tasks(today: date) -> list[TaskFacts]:
    """Eighty tasks over twenty units, due from ten weeks ago to six weeks ahead."""
    rng = random.Random(7)
    return [
        TaskFacts(id=i, unit_id=1 + i % 20, due=today + timedelta(days=rng.randint(-70, 42)),
                  phase_start=None, evidence_required=rng.choice((0, 1, 2, 3)),
                  veto=i % 6 == 0)
        for i in range(1, 81)
    ]


def _plan(today: date = TODAY) -> tuple[list[TaskFacts], History]:
    tasks = _tasks(today)
    history = plan_history(tasks, campaign_start=today - timedelta(days=100), today=today,
                           zone=ZONE, rng=seed_rng(today))
    return tasks, history


def test_one_start_date_always_tells_the_same_story() -> None:
    _, first = _plan()
    _, again = _plan()
    _, other = _plan(TODAY + timedelta(days=1))
    assert first == again
    assert first != other


def _final(history: History, tasks: list[TaskFacts]) -> dict[int, str]:
    """Each task's state when the plan ends, read from its last steps."""
    state = {t.id: "todo" for t in tasks}
    for step in history.steps:
        state[step.task_id] = {
            Act.START: "in_progress", Act.PROGRESS: "in_progress", Act.BLOCK: "blocked",
            Act.UPLOAD: state[step.task_id], Act.SUBMIT: "submitted",
            Act.REJECT: "in_progress", Act.APPROVE: "done", Act.COMPLETE: "done",
        }[step.act]
    return state


def test_the_plan_mixes_units_ahead_and_behind_and_every_kind_of_status() -> None:
    tasks, history = _plan()
    paces = Counter(history.paces.values())
    assert paces[Pace.AHEAD] >= 2 and paces[Pace.BEHIND] >= 2 and paces[Pace.STEADY] >= 2
    states = Counter(_final(history, tasks).values())
    assert {"todo", "in_progress", "blocked", "done"} <= set(states)
    assert states["done"] > len(tasks) // 5
    # Everything happened before today, in order.
    steps = history.steps
    assert all(s.at.astimezone(ZONE).date() < TODAY for s in steps)
    assert [s.at for s in steps] == sorted(s.at for s in steps)


def test_veto_tasks_slip_only_where_the_story_puts_them_at_risk() -> None:
    tasks, history = _plan()
    troubles = history.troubles
    assert Trouble.LATE in troubles.values() and Trouble.BLOCKED in troubles.values()
    assert any(tasks[i - 1].veto for i, t in troubles.items() if t is Trouble.LATE)
    state = _final(history, tasks)
    for task in tasks:
        if task.veto and task.id not in troubles and task.due and task.due < TODAY:
            assert state[task.id] in ("done", "submitted"), task


def test_nothing_is_weeks_late_and_the_late_are_few() -> None:
    tasks, history = _plan()
    state = _final(history, tasks)
    late = [t for t in tasks if t.due and t.due < TODAY and state[t.id] not in ("done",)]
    assert 0 < len(late) <= len(tasks) // 5
    assert all((TODAY - t.due).days <= 21 for t in late if t.due)


def test_staff_practise_more_than_leaders_and_only_on_past_days() -> None:
    people = [(i, Role.STAFF) for i in range(1, 41)] + [(i, Role.LEADER) for i in range(41, 81)]
    plans = plan_practice(people, today=TODAY, rng=random.Random(3))
    staff = [p for p in plans if p.person_id <= 40]
    leaders = [p for p in plans if p.person_id > 40]
    assert len(staff) > len(leaders)
    assert all(TODAY - timedelta(days=21) <= d < TODAY for p in plans for d in p.days)
