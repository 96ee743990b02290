"""What the county did before the demo started: a plan of dated steps, as pure values.

Given the tasks as imported and the day the demo starts, `plan_history` decides for every
task when its owner started, reported progress, uploaded and submitted evidence, when a
reviewer approved or rejected it, and which tasks slipped or got stuck. `plan_practice`
decides who practised for the inspectors' questions and how often. Both draw from one
seeded `random.Random`, so a start date always tells the same story; `bot.demo.seed`
replays the steps through the bot's own services.

The story has a shape, not only noise: some units work ahead of their deadlines, some
behind; a one-vote-veto task is late and another is blocked, so the leaders' summary has
something to warn about; a task without trouble on a veto indicator is never late.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from db.models import Role

# Office hours, in minutes after midnight, when people report and reviewers review.
DAY_OPENS = 8 * 60 + 30
DAY_CLOSES = 17 * 60 + 30
# How far back the quiz history reaches.
PRACTICE_DAYS = 21


class Pace(enum.StrEnum):
    AHEAD = "ahead"
    STEADY = "steady"
    BEHIND = "behind"


class Trouble(enum.StrEnum):
    NONE = "none"
    # Past its deadline, still being worked on.
    LATE = "late"
    # Stuck on something outside the owner's hands.
    BLOCKED = "blocked"


class Act(enum.StrEnum):
    START = "start"
    PROGRESS = "progress"
    BLOCK = "block"
    UPLOAD = "upload"
    SUBMIT = "submit"
    REJECT = "reject"
    APPROVE = "approve"
    COMPLETE = "complete"


@dataclass(frozen=True)
class TaskFacts:
    """What the plan needs to know of an imported task."""

    id: int
    unit_id: int
    due: date | None
    phase_start: date | None
    evidence_required: int
    veto: bool


@dataclass(frozen=True)
class Step:
    at: datetime
    task_id: int
    act: Act
    percent: int = 0
    text: str = ""
    # Photos uploaded by an UPLOAD step.
    files: int = 0


@dataclass(frozen=True)
class History:
    steps: list[Step]
    paces: dict[int, Pace]
    troubles: dict[int, Trouble]


# What owners write when they report; kept short, as on a phone.
PROGRESS_NOTES = (
    "已召开专题会议部署，明确专人负责",
    "已对照评估标准逐项自查，正在整理问题清单",
    "已完成一半学校的核查，其余本周内完成",
    "正在汇总各校上报的数据，个别学校需重报",
    "初稿已完成，正在征求相关单位意见",
    "现场整改已过半，剩余部分正在施工",
    "资料已收齐，正在按“一校一档”装订",
    "已与财政局对接，经费已列入本月拨付计划",
)
DONE_NOTES = (
    "已完成，相关资料已归档",
    "已按要求完成，请迎检办审核",
    "整改到位，已形成书面说明",
)
BLOCK_REASONS = (
    "施工单位进场推迟，钢材未到货，工期需顺延",
    "所需资金尚未拨付，已行文报请县政府协调",
    "核查数据与学籍系统不一致，等待省级平台更正",
    "需县政府常务会研究后才能推进",
)
REJECT_REASONS = (
    "照片模糊，看不清现场情况，请重新拍摄",
    "缺少日期和单位落款，请补充完整",
    "照片与任务内容不符，请补充整改后的现场照片",
)
EVIDENCE_CAPTIONS = (
    "现场照片",
    "整改前后对比",
    "会议签到表和会议记录",
    "工作台账",
    "设施设备到位情况",
)


def at_minutes(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)


def assign_paces(unit_ids: Iterable[int], rng: random.Random) -> dict[int, Pace]:
    """About a quarter of the units ahead, a quarter behind, the rest on schedule."""
    units = sorted(set(unit_ids))
    rng.shuffle(units)
    quarter = max(1, len(units) // 4)
    paces = {unit: Pace.STEADY for unit in units}
    for unit in units[:quarter]:
        paces[unit] = Pace.AHEAD
    for unit in units[quarter:2 * quarter]:
        paces[unit] = Pace.BEHIND
    return paces


def choose_troubles(
    tasks: Sequence[TaskFacts], paces: dict[int, Pace], today: date, rng: random.Random
) -> dict[int, Trouble]:
    """A veto task days late, a veto task blocked, and one ordinary task blocked."""
    troubles: dict[int, Trouble] = {}

    def pick(candidates: list[TaskFacts], trouble: Trouble) -> None:
        free = [t for t in candidates if t.id not in troubles]
        if free:
            troubles[rng.choice(free).id] = trouble

    def due_within(task: TaskFacts, first: int, last: int) -> bool:
        return task.due is not None and first <= (task.due - today).days <= last

    # Late long enough for the escalation to the leaders (three days by default).
    pick([t for t in tasks if t.veto and due_within(t, -12, -4)], Trouble.LATE)
    pick([t for t in tasks if t.veto and due_within(t, -6, 10)], Trouble.BLOCKED)
    pick([t for t in tasks if not t.veto and paces[t.unit_id] is Pace.BEHIND
          and due_within(t, -5, 14)], Trouble.BLOCKED)
    return troubles


def finish_offset(pace: Pace, rng: random.Random) -> int:
    """Days after its deadline that a task is finished (negative: early)."""
    if pace is Pace.AHEAD:
        return rng.randint(-9, -2)
    if pace is Pace.STEADY:
        return rng.randint(-4, 0) if rng.random() < 0.8 else rng.randint(1, 4)
    return rng.randint(-1, 3) if rng.random() < 0.5 else rng.randint(4, 14)


@dataclass
class _Timeline:
    """One task's steps; only what happened before `today` is kept."""

    task: TaskFacts
    today: date
    zone: ZoneInfo
    rng: random.Random
    steps: list[Step] = field(default_factory=list)

    def add(
        self, day: date, act: Act, *, percent: int = 0, text: str = "", files: int = 0
    ) -> None:
        if day >= self.today:
            return
        minutes = self.rng.randint(DAY_OPENS, DAY_CLOSES)
        if self.steps and self.steps[-1].at.date() == day:
            # Later the same day than the step before, so the order is the plan's order.
            last = self.steps[-1].at
            minutes = max(minutes, last.hour * 60 + last.minute + 7)
        at = at_minutes(day, min(minutes, 23 * 60 + 50), self.zone)
        self.steps.append(Step(at, self.task.id, act, percent=percent, text=text, files=files))

    def progress(self, begin: date, until: date, start_pct: int, end_pct: int) -> int:
        """Progress reports every few days from `begin` to `until`, rising to `end_pct`."""
        reported = start_pct
        span = max((until - begin).days, 1)
        day = begin + timedelta(days=self.rng.randint(2, 4))
        while day < until:
            share = (day - begin).days / span
            percent = min(end_pct, 10 * round((start_pct + share * (end_pct - start_pct)) / 10))
            if percent > reported:
                note = self.rng.choice(PROGRESS_NOTES) if self.rng.random() < 0.35 else ""
                self.add(day, Act.PROGRESS, percent=percent, text=note)
                reported = percent
            day += timedelta(days=self.rng.randint(2, 5))
        return reported


def _task_history(
    task: TaskFacts, pace: Pace, trouble: Trouble, *, campaign_start: date, today: date,
    zone: ZoneInfo, rng: random.Random,
) -> list[Step]:
    line = _Timeline(task, today, zone, rng)
    due = task.due or today + timedelta(days=10)
    earliest = campaign_start + timedelta(days=1)
    if task.phase_start is not None:
        earliest = max(earliest, task.phase_start - timedelta(days=10))
    offset = finish_offset(pace, rng)
    if task.veto and trouble is Trouble.NONE:
        offset = min(offset, 0)
    finish = due + timedelta(days=offset)
    begin = max(earliest, finish - timedelta(days=rng.randint(5, 16)))
    if trouble is not Trouble.NONE:
        # Troubled tasks were started in good time and got stuck on the way.
        begin = max(earliest, min(begin, today - timedelta(days=rng.randint(8, 14))))
    if finish <= begin + timedelta(days=1):
        finish = begin + timedelta(days=2)
    line.add(begin, Act.START)

    if trouble is Trouble.BLOCKED:
        stuck = today - timedelta(days=rng.randint(2, 6))
        line.progress(begin, stuck, 0, rng.choice((30, 40, 50)))
        line.add(stuck, Act.BLOCK, text=rng.choice(BLOCK_REASONS))
        return line.steps
    if trouble is Trouble.LATE:
        line.progress(begin, today, 0, rng.choice((40, 50, 60, 70)))
        return line.steps

    required = task.evidence_required
    rejected = required > 0 and rng.random() < 0.2 and (finish - begin).days >= 5
    first_upload = finish - timedelta(days=4 if rejected else rng.randint(1, 2))
    reported = line.progress(begin, max(first_upload, begin + timedelta(days=1)), 0, 90)
    if required == 0:
        if reported < 100 and rng.random() < 0.3:
            line.add(finish - timedelta(days=1), Act.PROGRESS, percent=max(reported, 90))
        line.add(finish, Act.COMPLETE, text=rng.choice(DONE_NOTES))
        return line.steps
    caption = rng.choice(EVIDENCE_CAPTIONS)
    line.add(first_upload, Act.UPLOAD, files=required, text=caption)
    line.add(first_upload, Act.SUBMIT)
    if rejected:
        line.add(finish - timedelta(days=3), Act.REJECT, text=rng.choice(REJECT_REASONS))
        line.add(finish - timedelta(days=2), Act.UPLOAD, files=1, text=caption)
        line.add(finish - timedelta(days=2), Act.SUBMIT)
    line.add(finish, Act.APPROVE)
    return line.steps


def plan_history(
    tasks: Sequence[TaskFacts], *, campaign_start: date, today: date, zone: ZoneInfo,
    rng: random.Random,
) -> History:
    """Every task's steps before `today`, in the order they happened."""
    paces = assign_paces((t.unit_id for t in tasks), rng)
    troubles = choose_troubles(tasks, paces, today, rng)
    steps: list[Step] = []
    for task in sorted(tasks, key=lambda t: t.id):
        steps.extend(_task_history(
            task, paces[task.unit_id], troubles.get(task.id, Trouble.NONE),
            campaign_start=campaign_start, today=today, zone=zone, rng=rng,
        ))
    # Stable: one task's steps keep their order when two share a minute.
    steps.sort(key=lambda s: s.at)
    return History(steps, paces, troubles)


@dataclass(frozen=True)
class Practice:
    """How one person practised: on which days, how many questions, how well."""

    person_id: int
    days: tuple[date, ...]
    per_day: int
    # Mock inspector questions (/drill) a day, after the polls.
    drills: int
    # Chance of answering a question right the first time it is seen.
    skill: float


@dataclass(frozen=True)
class Habit:
    share_of_days: float
    per_day: int
    drills: int
    skill: float


HABITS = {
    "keen": Habit(0.9, 20, 3, 0.82),
    "regular": Habit(0.6, 10, 1, 0.72),
    "light": Habit(0.3, 6, 0, 0.6),
}
# How likely each habit is (keen, regular, light, none) by role: the staff are the ones
# the inspectors will question, the leaders the least likely to sit quizzes.
_HABIT_WEIGHTS: dict[Role, tuple[float, float, float, float]] = {
    Role.STAFF: (0.45, 0.35, 0.15, 0.05),
    Role.RESPONSIBLE: (0.2, 0.35, 0.25, 0.2),
    Role.LEADER: (0.1, 0.2, 0.3, 0.4),
    Role.ADMIN: (0.3, 0.4, 0.2, 0.1),
}


def plan_practice(
    people: Sequence[tuple[int, Role]], *, today: date, rng: random.Random,
    window: int = PRACTICE_DAYS,
) -> list[Practice]:
    """Who practised in the last `window` days; people who never did are left out."""
    plans = []
    for person_id, role in sorted(people):
        name = rng.choices(("keen", "regular", "light", "none"), _HABIT_WEIGHTS[role])[0]
        habit = HABITS.get(name)
        if habit is None:
            continue
        days = tuple(
            today - timedelta(days=back) for back in range(window, 0, -1)
            if rng.random() < habit.share_of_days
        )
        if days:
            plans.append(Practice(person_id, days, habit.per_day, habit.drills, habit.skill))
    return plans
