"""Two presses (or two accounts) at the same moment, truly concurrent through the real
Application on the real database — SQLite here, PostgreSQL when TEST_DATABASE_URL is set
(issue 11, rows 12 and 13). The second sees what the first did."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.core import onboarding
from db.models import Evidence, Invite, Person, Role, Task, TaskEvent, TaskStatus
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg

ZHANG = 5571001
ROUNDS = 8


async def _tasks(h: BotHarness, count: int, *, progress: int = 20) -> list[int]:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        ids = []
        for n in range(count):
            task = await f.task(s, c, unit=edu, owner=zhang, title=f"校舍安全台账 {n}",
                                due_at=DEFAULT_NOW + timedelta(days=5))
            task.status, task.progress = TaskStatus.IN_PROGRESS, progress
            ids.append(task.id)
        return ids


async def _press_together(h: BotHarness, *presses: str) -> None:
    zhang = h.updates.user(ZHANG)
    await asyncio.gather(*(h.process(h.updates.callback(zhang, data)) for data in presses))


async def _state(h: BotHarness, task_id: int) -> tuple[TaskStatus, int, list[str]]:
    async with h.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None
        events = (await s.execute(
            select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
        )).scalars().all()
        return task.status, task.progress, [f"{e.kind}:{e.new_value}" for e in events]


def _alerts(h: BotHarness) -> list[str]:
    return [str(c.params.get("text", "")) for c in h.request.sent("answerCallbackQuery")
            if c.params.get("show_alert")]


def _notices(h: BotHarness) -> list[str]:
    """What a second press is told without an alert: it changed nothing, nothing went wrong."""
    return [str(c.params.get("text", "")) for c in h.request.sent("answerCallbackQuery")
            if not c.params.get("show_alert")]


async def test_done_and_fifty_percent_together_stay_done(harness: BotHarness) -> None:
    """Before: both presses read 'in progress' and the 50 % was written over the 100 %."""
    for task_id in await _tasks(harness, ROUNDS):
        harness.request.clear()
        await _press_together(harness, f"task:done:{task_id}", f"task:setp:{task_id}:50")

        status, progress, events = await _state(harness, task_id)
        assert (status, progress) == (TaskStatus.DONE, 100), events
        assert events.count("status:done") == 1
        if events == ["status:done"]:
            # done first: the 50 % press saw it and was told.
            assert _alerts(harness) == [f"任务 #{task_id} 已完成，不能再更新进度。"]
        else:
            # 50 % first, then done: both applied, in that order.
            assert events == ["progress:50", "status:done"]
            assert _alerts(harness) == []


async def test_a_double_press_on_done_logs_one_event(harness: BotHarness) -> None:
    """Before: both presses read 'in progress' and two 'done' events were written."""
    for task_id in await _tasks(harness, ROUNDS):
        harness.request.clear()
        await _press_together(harness, f"task:done:{task_id}", f"task:done:{task_id}")

        status, progress, events = await _state(harness, task_id)
        assert (status, progress) == (TaskStatus.DONE, 100)
        assert events == ["status:done"]
        assert _alerts(harness) == []
        assert _notices(harness).count(f"任务 #{task_id} 已经是「已完成」了。") == 1


async def test_many_presses_on_one_task_serialise(harness: BotHarness) -> None:
    """Ten progress presses at once: each is applied on top of the one before."""
    [task_id] = await _tasks(harness, 1, progress=0)
    values = [10 * n for n in range(1, 11)]
    await _press_together(harness, *(f"task:setp:{task_id}:{v}" for v in values))

    _, progress, events = await _state(harness, task_id)
    steps = [e for e in events if e.startswith("progress:")]
    assert sorted(int(e.split(":")[1]) for e in steps) == values
    async with harness.services.session() as s:
        olds = (await s.execute(select(TaskEvent.old_value).where(
            TaskEvent.task_id == task_id, TaskEvent.kind == "progress").order_by(TaskEvent.id)
        )).scalars().all()
    # Every change starts from what the one before left: no two read the same old value.
    assert list(olds) == ["0", *[e.split(":")[1] for e in steps[:-1]]]
    assert progress == int(steps[-1].split(":")[1])


async def test_one_invite_redeemed_by_two_accounts_at_once(harness: BotHarness) -> None:
    """Before (SQLite): both accounts were told "linked" and the last writer kept the
    person."""
    async with harness.services.session() as s:
        edu = await f.unit(s, "县教育局")
        people = [await f.person(s, f"李{n}", unit=edu) for n in range(ROUNDS)]
        codes = [(await onboarding.issue_invite(
            s, person=person, created_by_id=None, now=harness.services.clock.now(),
            ttl=timedelta(hours=1))).code for person in people]

    for n, (person, code) in enumerate(zip(people, codes, strict=True)):
        harness.request.clear()
        accounts = [harness.updates.user(5571100 + 2 * n + k, f"账号{k}") for k in (0, 1)]
        await asyncio.gather(*(harness.process(harness.updates.text(a, f"/start {code}"))
                               for a in accounts))

        answers = Counter(
            "linked" if "绑定成功" in text else "used" if "已被使用" in text else text
            for text in harness.request.texts())
        assert answers == Counter({"linked": 1, "used": 1}), answers
        [winner] = [c.chat_id for c in harness.request.sent("sendMessage") if "绑定成功" in c.text]
        async with harness.services.session() as s:
            linked = await s.get(Person, person.id)
            assert linked is not None and linked.telegram_id == winner
            assert (await s.execute(select(Invite.used_at).where(Invite.code == code))
                    ).scalar_one() is not None


async def test_two_reviewers_deciding_one_piece_at_once(harness: BotHarness) -> None:
    """The unit's leader and the office approve the same piece together: one decision is
    recorded, the other reviewer is told it was decided already."""
    leader, office = 5571201, 5571209
    async with harness.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        wang = await f.person(s, "王局长", unit=edu, telegram_id=leader)
        await f.person(s, "迎检办", role=Role.ADMIN, telegram_id=office)
        edu.leader_id = wang.id
        tasks = [await f.task(s, c, unit=edu, owner=zhang, title=f"功能室标识标牌 {n}",
                              due_at=DEFAULT_NOW + timedelta(days=4)) for n in range(ROUNDS)]
    for n, task in enumerate(tasks):
        harness.request.files[f"e{n}"] = jpeg(color=(20 * n, 90, 20))
        await harness.process(harness.updates.document(
            harness.updates.user(ZHANG), f"e{n}", f"标牌{n}.jpg", "image/jpeg",
            caption=f"#{task.id}"))
    async with harness.services.session() as s:
        pieces = (await s.execute(select(Evidence.id).order_by(Evidence.id))).scalars().all()
    assert len(pieces) == ROUNDS

    for task, piece in zip(tasks, pieces, strict=True):
        harness.request.clear()
        await asyncio.gather(*(
            harness.process(harness.updates.callback(harness.updates.user(who), f"ev:ok:{piece}"))
            for who in (leader, office)))

        assert _alerts(harness) == []
        assert _notices(harness).count(f"佐证 E{piece} 已经审核过了（已通过）。") == 1
        _, _, events = await _state(harness, task.id)
        assert events.count(f"evidence_review:E{piece} approved") == 1, events
