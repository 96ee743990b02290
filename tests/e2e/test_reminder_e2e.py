"""Reminders over real HTTP through the sandbox, with Telegram's flood limits enforced."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.core.clock import FrozenClock
from db.models import OutboxMessage, OutboxState, Task, TaskStatus
from db.repositories import delivery as outbox_repo
from sandbox import SandboxClient, SimUser
from tests.conftest import DEFAULT_NOW
from tests.e2e.conftest import LiveBot, StartBot
from tests.utils import factories as f

USER_BASE = 7100000


async def _users(sandbox: SandboxClient, count: int) -> list[SimUser]:
    return [await sandbox.add_user(f"用户{i}", user_id=USER_BASE + i, started=True)
            for i in range(count)]


async def _enqueue_fanout(bot: LiveBot, users: list[SimUser], per_user: int) -> int:
    async with bot.services.session() as s:
        n = 0
        for round_ in range(per_user):
            for user in users:
                await outbox_repo.enqueue(session=s, key=f"fan:{user.id}:{round_}",
                                          chat_id=user.id, text=f"通知 {user.id}-{round_}",
                                          kind="test", now=bot.services.clock.now())
                n += 1
    bot.services.delivery.dispatcher.wake()
    return n


async def _sent_count(bot: LiveBot) -> int:
    async with bot.services.session() as s:
        return (await outbox_repo.counts_by_state(session=s)).get(OutboxState.SENT, 0)


async def _received(sandbox: SandboxClient, users: list[SimUser]) -> Counter[str]:
    got: Counter[str] = Counter()
    for user in users:
        for message in await user.messages(from_bot=True):
            got[message.text or ""] += 1
    return got


def _expected(users: list[SimUser], per_user: int) -> set[str]:
    return {f"通知 {u.id}-{r}" for u in users for r in range(per_user)}


async def test_a_reminder_arrives_and_its_buttons_work(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    clock = FrozenClock(DEFAULT_NOW)
    zhang = await sandbox.add_user("张三", user_id=4301, started=True)
    bot = await start_bot(clock=clock)
    async with bot.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=edu, telegram_id=zhang.id)
        task = await f.task(s, c, unit=edu, owner=owner, title="更新校舍安全台账",
                            due_at=DEFAULT_NOW + timedelta(hours=2))
        task_id = task.id
    await bot.services.reminders.reconcile()
    await bot.services.reminders.sweep()
    reminder = await zhang.expect_message(contains="任务提醒")
    assert f"#{task_id}" in (reminder.text or "") and "还剩 2 小时" in (reminder.text or "")

    answer = await zhang.expect_callback_answer(await zhang.press(reminder, "⏳ 1 小时后提醒"))
    assert "10:00" in (answer.text or "")
    clock.advance(timedelta(hours=1, minutes=1))
    await bot.services.reminders.sweep()
    again = await zhang.expect_message(contains="还剩 59 分钟")
    await zhang.expect_callback_answer(await zhang.press(again, "✅ 已完成"))
    await zhang.expect_edit(again, contains="已完成")
    async with bot.services.session() as s:
        done = await s.get(Task, task_id)
        assert done is not None and done.status is TaskStatus.DONE
    # Finished: two days on, nothing more about it is queued or sent.
    clock.advance(timedelta(days=2))
    await bot.services.reminders.sweep()
    assert await bot.services.delivery.dispatcher.wait_idle(10)
    async with bot.services.session() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.task_id == task_id))
                ).scalars().all()
    assert sorted((r.key.split(":")[2], r.state) for r in rows) == [
        ("before", OutboxState.SENT), ("snooze", OutboxState.SENT)]
    # The reminder, the morning digest, and the snoozed reminder (now the done card).
    assert len(await zhang.messages(from_bot=True)) == 3


async def test_restart_in_the_middle_of_a_fanout_loses_and_repeats_nothing(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    users = await _users(sandbox, 40)
    first = await start_bot()
    total = await _enqueue_fanout(first, users, per_user=3)
    for _ in range(600):
        if await _sent_count(first) >= total // 3:
            break
        await asyncio.sleep(0.1)
    await first.stop()
    halfway = await _sent_count(first)
    assert halfway < total
    second = await start_bot()
    assert await second.services.delivery.dispatcher.wait_idle(120)
    got = await _received(sandbox, users)
    assert set(got) == _expected(users, 3) and set(got.values()) == {1}
    assert await _sent_count(second) == total


async def test_flood_and_server_errors_at_ten_percent_still_deliver_everything(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    users = await _users(sandbox, 30)
    await sandbox.set_faults(error_share=0.05, flood_share=0.05, seed=11,
                             methods=["sendMessage"])
    bot = await start_bot()
    await _enqueue_fanout(bot, users, per_user=3)
    assert await bot.services.delivery.dispatcher.wait_idle(120)
    got = await _received(sandbox, users)
    assert set(got) == _expected(users, 3) and set(got.values()) == {1}
    stats = bot.services.delivery.dispatcher.stats
    assert stats["retries"] > 0
    async with bot.services.session() as s:
        assert await outbox_repo.counts_by_state(session=s) == {OutboxState.SENT: 90}
