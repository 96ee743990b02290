"""Issue 13: "a leader pressing ▶️ on an escalation card changed someone else's task".

Decided (docs/reminders.md, "Who may act on a task"): leaders — the leading group's and a
unit's — see the tasks they oversee and hear when one is late, but only the owner and
the office change a task. The escalation offers only "查看任务"; the card a leader opens
from it has no button that changes the task, and a press from an old card is refused."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from db.models import OutboxMessage, Role, Task, TaskStatus
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f

CHIEF, OWNER, LEADER, ADMIN = 6500001, 6500002, 6500003, 6500004


async def _late_task(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        chief = await f.person(s, "刘局长", unit=edu, telegram_id=CHIEF)
        edu.leader_id = chief.id
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        await f.person(s, "赵县长", role=Role.LEADER, telegram_id=LEADER)
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        task = await f.task(s, c, unit=edu, owner=owner, title="完善控辍保学台账",
                            due_at=DEFAULT_NOW - timedelta(days=4))
        task.created_at = DEFAULT_NOW - timedelta(days=20)
        return task.id


async def test_an_escalation_lets_a_leader_look_but_not_change(harness: BotHarness) -> None:
    task_id = await _late_task(harness)
    reminders = harness.services.reminders
    await reminders.reconcile()
    await reminders.sweep()
    async with harness.services.session() as s:
        escalation = (await s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "reminder.escalate",
            OutboxMessage.chat_id == CHIEF))).scalar_one()
    markup = json.loads(escalation.reply_markup or "{}")
    assert [b["callback_data"] for row in markup["inline_keyboard"] for b in row] == [
        f"task:open:{task_id}"]
    assert "已逾期 4 天" in escalation.text

    chief = harness.updates.user(CHIEF)
    await harness.process(harness.updates.callback(chief, f"task:open:{task_id}"))
    card = harness.request.sent("sendMessage")[-1]
    assert f"任务 #{task_id}" in card.text
    assert [data for _, data in card.buttons()] == [f"ev:view:{task_id}",
                                                    f"rem:nudge:{task_id}"]

    # The buttons of an owner's card, pressed by the unit's leader, change nothing.
    for data in (f"task:start:{task_id}", f"task:done:{task_id}", f"task:setp:{task_id}:50"):
        harness.request.clear()
        await harness.process(harness.updates.callback(chief, data))
        answer = harness.request.sent("answerCallbackQuery")[-1]
        assert answer.params.get("text") == f"任务 #{task_id} 不在您的职责范围内。", data
    await harness.process(harness.updates.text(chief, f"/progress {task_id} 80"))
    assert "不在您的职责范围内" in harness.request.last_text()
    async with harness.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None and task.status is TaskStatus.TODO and task.progress == 0

    # The leading group's leader sees it read-only too; its owner and the office act.
    leader = harness.updates.user(LEADER)
    await harness.process(harness.updates.callback(leader, f"task:open:{task_id}"))
    assert [d for _, d in harness.request.sent("sendMessage")[-1].buttons()] == [
        f"ev:view:{task_id}", f"rem:nudge:{task_id}"]
    await harness.process(harness.updates.callback(harness.updates.user(OWNER),
                                                   f"task:open:{task_id}"))
    owner_buttons = [d for _, d in harness.request.sent("sendMessage")[-1].buttons()]
    assert f"task:start:{task_id}" in owner_buttons
    await harness.process(harness.updates.callback(harness.updates.user(ADMIN),
                                                   f"task:start:{task_id}"))
    async with harness.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None and task.status is TaskStatus.IN_PROGRESS


async def test_a_leader_reminds_the_owner_once_a_day(harness: BotHarness) -> None:
    """"Leaders may view and remind": 📣 催办 on a leader's card queues a reminder to the
    owner, with the owner's own buttons, at most once a day for each leader."""
    task_id = await _late_task(harness)
    chief = harness.updates.user(CHIEF)
    await harness.process(harness.updates.callback(chief, f"rem:nudge:{task_id}"))
    answer = harness.request.sent("answerCallbackQuery")[-1]
    assert answer.params.get("text") == f"已提醒 张三 尽快办理任务 #{task_id}。"
    async with harness.services.session() as s:
        [nudge] = (await s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "nudge"))).scalars().all()
    assert nudge.chat_id == OWNER and nudge.text.startswith("📣 <b>刘局长催办</b>")
    markup = json.loads(nudge.reply_markup or "{}")
    assert f"task:done:{task_id}" in [b["callback_data"] for r in markup["inline_keyboard"]
                                      for b in r]
    await harness.process(harness.updates.callback(chief, f"rem:nudge:{task_id}"))
    again = harness.request.sent("answerCallbackQuery")[-1]
    assert again.params.get("text") == "今天已经催办过 张三 了。"
    # The owner has nothing to remind themselves of.
    await harness.process(harness.updates.callback(harness.updates.user(OWNER),
                                                   f"rem:nudge:{task_id}"))
    assert "这是您自己的任务" in str(
        harness.request.sent("answerCallbackQuery")[-1].params.get("text"))
