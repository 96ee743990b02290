"""A county's task breakdown at scale, as the reminder round meets it at 09:00.

The rows are computed here and written in bulk; the cursors and the outbox's history are
what the bot itself would have left after running every day until the morning of the
round (derived with `bot.reminders.policy`, the rules under test), so the round finds
exactly the due cursors a real morning has.

Shape (for `size` tasks): one county, 40 departments and townships, schools up to 2,000
units, each with a leader; two responsible people per unit, 95 % of them linked to
Telegram, some with their own quiet hours; deadlines on dates from 40 days ago to 40 days
ahead, at the import's default 17:30 for 80 % and at any minute for the rest; half of the
past-due tasks done, so about a quarter of all tasks are open and overdue; 0.5 % of those
snoozed until tomorrow morning.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import RemindersConfig
from bot.reminders.policy import (
    Planned,
    Policy,
    QuietHours,
    Recipient,
    TaskFacts,
    fingerprint,
    next_time,
    plan_task,
)

ZONE = ZoneInfo("Asia/Shanghai")
# Monday 09:00 in Beijing: the daily overdue round (`overdue_time`).
ROUND_AT = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE).astimezone(UTC)
# The cursors and the outbox are as the bot left them a minute before.
BEFORE_ROUND = ROUND_AT - timedelta(minutes=1)
# A bulk load lands at 10:00; the first start follows at once.
LOADED_AT = datetime(2026, 11, 23, 10, 0, tzinfo=ZONE).astimezone(UTC)
GROUP_CHAT = -100_777_000
FIRST_TELEGRAM_ID = 9_000_000
UNITS = 2000
DEFAULT_DUE = time(17, 30)
POLICY = Policy.from_config(RemindersConfig())
OWN_QUIET = (None, QuietHours(time(23, 0), time(6, 30)), QuietHours(time(21, 0), time(9, 30)))


@dataclass
class Dataset:
    """Rows per table, in insertion order, and a few facts about them."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    owners: list[tuple[int, int, list[int]]] = field(default_factory=list)  # (person, tg, tasks)
    overdue_open: int = 0
    open_tasks: int = 0

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.tables.setdefault(table, [])


def _units(data: Dataset, rng: random.Random) -> dict[int, int]:
    """unit id → leader person id; the tree: county → 40 departments/townships → schools."""
    units = data.rows("units")
    units.append({"id": 1, "name": "县人民政府", "kind": "county", "parent_id": None})
    for u in range(2, 42):
        units.append({"id": u, "name": f"部门{u}", "kind": "department" if u < 22 else "township",
                      "parent_id": 1})
    for u in range(42, UNITS + 1):
        units.append({"id": u, "name": f"学校{u}", "kind": "school",
                      "parent_id": rng.randint(22, 41)})
    people = data.rows("persons")
    leaders: dict[int, int] = {}
    for u in range(1, UNITS + 1):
        pid = len(people) + 1
        people.append(_person(pid, f"负责人{u}", u, "leader" if u < 42 else "responsible", rng))
        leaders[u] = pid
    return leaders


def _person(pid: int, name: str, unit: int, role: str, rng: random.Random) -> dict[str, Any]:
    linked = rng.random() < 0.95
    quiet = rng.choice(OWN_QUIET) if rng.random() < 0.1 else None
    return {
        "id": pid, "name": name, "unit_id": unit, "role": role, "language": "zh",
        "telegram_id": FIRST_TELEGRAM_ID + pid if linked else None, "is_active": True,
        "quiet_start": quiet.start if quiet else None, "quiet_end": quiet.end if quiet else None,
        "unreachable_since": ROUND_AT - timedelta(days=3) if linked and rng.random() < 0.01
        else None,
        "created_at": ROUND_AT - timedelta(days=90),
    }


def _quiet(person: dict[str, Any]) -> QuietHours | None:
    if person["quiet_start"] is None:
        return None
    return QuietHours(person["quiet_start"], person["quiet_end"])


@lru_cache(maxsize=65536)
def _shape(due: datetime, owner_quiet: QuietHours | None, leader_quiet: QuietHours | None,
           has_leader: bool, snoozed: tuple[datetime, datetime] | None,
           at: datetime) -> tuple[list[Planned], datetime | None]:
    """One task's plan with placeholder ids (0 for the task, 1 the owner, 2 the leader)."""
    owner = Recipient(1, 1, owner_quiet or POLICY.quiet)
    escalate = [Recipient(2, 2, leader_quiet or POLICY.quiet)] if has_leader else []
    escalate.append(Recipient(GROUP_CHAT))
    facts = TaskFacts(task_id=0, due_at=due, is_open=True, zone=ZONE,
                      created_at=ROUND_AT - timedelta(days=60), owner=owner,
                      escalate_to=tuple(escalate), snoozed=snoozed)
    plan = plan_task(facts, POLICY, at)
    return plan, next_time(plan, at)


def _key(planned: Planned, task_id: int, owner_id: int, leader_id: int) -> str:
    tag = planned.recipient.tag
    if planned.recipient.person_id == 1:
        tag = f"p{owner_id}"
    elif planned.recipient.person_id == 2:
        tag = f"p{leader_id}"
    return planned.key.replace("rem:0:", f"rem:{task_id}:", 1).rsplit(":", 1)[0] + ":" + tag


def build(size: int, *, history: bool, seed: int = 14) -> Dataset:
    """`size` tasks; with `history`, the cursors and sent reminders of a bot that ran daily
    until a minute before the round; without, a bulk load with neither (a first start)."""
    rng = random.Random(seed)
    data = Dataset()
    data.rows("campaigns").append({
        "id": 1, "name": "义务教育优质均衡发展县迎检", "timezone": "Asia/Shanghai",
        "inspection_date": date(2026, 12, 18), "is_active": True,
        "leaders_chat_id": GROUP_CHAT, "created_at": ROUND_AT - timedelta(days=90)})
    leaders = _units(data, rng)
    people = data.rows("persons")
    owners = []
    for u in range(1, UNITS + 1):
        for k in range(2):
            pid = len(people) + 1
            people.append(_person(pid, f"责任人{u}-{k}", u, "responsible", rng))
            owners.append(pid)
    by_id = {p["id"]: p for p in people}
    owner_tasks: dict[int, list[int]] = {pid: [] for pid in owners}
    today = ROUND_AT.astimezone(ZONE).date()
    created = ROUND_AT - timedelta(days=60) if history else LOADED_AT - timedelta(minutes=5)
    tasks, cursors, outbox, snoozes = (data.rows("tasks"), data.rows("reminder_cursors"),
                                       data.rows("outbox"), data.rows("reminder_snoozes"))
    for task_id in range(1, size + 1):
        owner_id = rng.choice(owners)
        owner = by_id[owner_id]
        unit_id = owner["unit_id"]
        day = today + timedelta(days=rng.randint(-40, 40))
        at = DEFAULT_DUE if rng.random() < 0.8 else time(rng.randint(0, 23), rng.randint(0, 59))
        due = datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)
        past = due < ROUND_AT
        done = rng.random() < (0.5 if past else 0.1)
        status = "done" if done else rng.choice(("todo", "todo", "in_progress", "submitted",
                                                 "blocked"))
        tasks.append({
            "id": task_id, "campaign_id": 1, "key": f"t{task_id}", "title": f"整改任务{task_id}",
            "description": "", "unit_id": unit_id, "owner_id": owner_id, "due_at": due,
            "priority": 2, "status": status, "progress": 100 if done else rng.choice((0, 25, 50)),
            "evidence_required": 0, "created_at": created, "updated_at": created,
            "done_at": due - timedelta(days=1) if done else None,
        })
        if done:
            continue
        data.open_tasks += 1
        owner_tasks[owner_id].append(task_id)
        if past:
            data.overdue_open += 1
        if not history:
            continue
        snoozed = None
        if past and rng.random() < 0.005:
            snoozed = (ROUND_AT - timedelta(hours=23), ROUND_AT + timedelta(hours=23, minutes=30))
            snoozes.append({"task_id": task_id, "person_id": owner_id, "set_at": snoozed[0],
                            "until": snoozed[1]})
        leader_id = leaders[unit_id]
        leader = by_id[leader_id]
        plan, next_at = _shape(due, _quiet(owner), _quiet(leader), True, snoozed, BEFORE_ROUND)
        cursors.append({"subject": "task", "subject_id": task_id, "next_at": next_at,
                        "derived_at": BEFORE_ROUND - timedelta(hours=1)})
        for planned in plan:
            if planned.at > BEFORE_ROUND:
                break
            person = owner_id if planned.recipient.person_id == 1 else (
                leader_id if planned.recipient.person_id == 2 else None)
            if person is None:
                chat: int | None = GROUP_CHAT
            else:
                chat = by_id[person]["telegram_id"]
                if by_id[person]["unreachable_since"] is not None:
                    continue
            if chat is None:
                continue
            outbox.append({
                "key": _key(planned, task_id, owner_id, leader_id),
                "kind": "reminder.escalate" if planned.kind == "escalate" else "reminder.owner",
                "chat_id": chat, "person_id": person, "task_id": task_id, "text": "…",
                "not_before": planned.at, "state": "sent", "attempts": 1,
                "created_at": planned.at, "sent_at": planned.at,
            })
    if history:
        tomorrow_digest = datetime.combine(today + timedelta(days=1), POLICY.digest_time,
                                           tzinfo=ZONE).astimezone(UTC)
        for row in people:
            if row["telegram_id"] is not None:
                cursors.append({"subject": "person", "subject_id": row["id"],
                                "next_at": tomorrow_digest,
                                "derived_at": BEFORE_ROUND - timedelta(hours=1)})
        cursors.append({"subject": "campaign", "subject_id": 1,
                        "next_at": tomorrow_digest + timedelta(minutes=30),
                        "derived_at": BEFORE_ROUND - timedelta(hours=1)})
        # The cursors were derived with the policy in force.
        data.rows("reminder_policy_seen").append({
            "campaign_id": 1, "fingerprint": fingerprint(POLICY, ZONE),
            "seen_at": BEFORE_ROUND - timedelta(hours=1)})
    data.owners = [(pid, by_id[pid]["telegram_id"], ids) for pid, ids in owner_tasks.items()
                   if by_id[pid]["telegram_id"] is not None
                   and by_id[pid]["unreachable_since"] is None and ids]
    return data

