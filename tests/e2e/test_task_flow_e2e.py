"""The foundation's main story over real HTTP: invite → /start → tasks → progress → done."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.core import onboarding
from bot.core.clock import SystemClock
from db.models import Person, Task, TaskEvent, TaskStatus
from sandbox import SandboxClient
from tests.e2e.conftest import LiveBot
from tests.utils import factories as f


async def _seed_and_invite(bot: LiveBot) -> tuple[str, int]:
    now = SystemClock().now()
    # Noon, three local days ahead: "剩 3 天" whatever the hour the test runs at (a due time
    # a fixed 49 hours ahead read "剩 3 天" after 23:00 in Beijing), and no reminder due yet.
    local = now.astimezone(ZoneInfo("Asia/Shanghai"))
    due = datetime.combine(local.date() + timedelta(days=3), time(12, 0), tzinfo=local.tzinfo)
    async with bot.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu)
        veto = await f.indicator(s, "FJ-2", name="残疾儿童少年入学", veto=True)
        task = await f.task(s, c, unit=edu, owner=zhang, title="核实残疾儿童入学台账",
                            due_at=due, indicator=veto)
        issued = await onboarding.issue_invite(
            s, person=zhang, created_by_id=None, now=now, ttl=timedelta(hours=1)
        )
    return issued.code, task.id


async def test_owner_runs_a_task_end_to_end(live_bot: LiveBot, sandbox: SandboxClient) -> None:
    code, task_id = await _seed_and_invite(live_bot)
    zhang = await sandbox.add_user("张三", user_id=4242)

    await zhang.send(f"/start {code}")
    await zhang.expect_message(contains="绑定成功")

    await zhang.send("/tasks")
    listing = await zhang.expect_message(contains="我的未完成任务")
    assert "剩 3 天" in listing.text

    await zhang.press(listing, callback_data=f"task:open:{task_id}")
    card = await zhang.expect_message(contains="一票否决")

    await zhang.press(card, "▶️ 开始")
    card = await zhang.expect_edit(card, contains="进行中")
    await zhang.press(card, "📈 进度")
    card = await zhang.expect_edit(card)  # the keyboard turns into percentages
    await zhang.press(card, "50%")
    card = await zhang.expect_edit(card, contains="进度 50%")

    await zhang.reply(card, "各校数据已汇总")
    await zhang.expect_message(contains=f"已为任务 #{task_id} 添加备注")

    await zhang.send(f"/done {task_id} 已归档")
    await zhang.expect_message(contains="已标记完成")

    async with live_bot.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None and task.status is TaskStatus.DONE
        kinds = [e.kind for e in (await s.execute(
            select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
        )).scalars()]
    assert kinds == ["status", "progress", "note", "status"]


async def test_stranger_gets_only_a_polite_explanation(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    await _seed_and_invite(polling_bot)
    stranger = await sandbox.add_user("路人", user_id=9999)
    await stranger.send("/tasks")
    reply = await stranger.expect_message(contains="邀请链接")
    assert reply.buttons == []
    await stranger.expect_no_message(within=0.5)
    async with polling_bot.services.session() as s:
        assert (await s.execute(select(Person).where(Person.telegram_id == 9999))).first() is None
