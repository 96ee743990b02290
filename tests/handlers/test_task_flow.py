"""A responsible person runs a task from Telegram: real updates through the real Application."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import onboarding
from db.models import Person, Role, Task, TaskEvent, TaskStatus
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f

ZHANG = 5550001


async def _seed(h: BotHarness, *, linked: bool = True) -> tuple[int, int]:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG if linked else None)
        veto = await f.indicator(s, "FJ-1", name="控辍保学", veto=True)
        task = await f.task(s, c, unit=edu, owner=zhang, title="完善控辍保学台账",
                            due_at=DEFAULT_NOW + timedelta(days=3), indicator=veto)
        await f.task(s, c, unit=edu, owner=zhang, title="补齐图书室借阅记录",
                     due_at=DEFAULT_NOW - timedelta(days=2))
        return zhang.id, task.id


async def test_unlinked_user_is_told_politely_and_nothing_else(harness: BotHarness) -> None:
    await _seed(harness, linked=False)
    stranger = harness.updates.user(ZHANG)
    await harness.process(harness.updates.text(stranger, "/tasks"))
    assert [c.method for c in harness.request.calls] == ["sendMessage"]
    assert "邀请链接" in harness.request.last_text()
    harness.request.clear()
    await harness.process(harness.updates.callback(stranger, "task:done:1"))
    assert [c.method for c in harness.request.calls] == ["answerCallbackQuery"]
    async with harness.services.session() as s:
        assert (await s.execute(select(TaskEvent))).first() is None


async def test_invite_links_account_once(harness: BotHarness) -> None:
    person_id, _ = await _seed(harness, linked=False)
    async with harness.services.session() as s:
        zhang = await s.get(Person, person_id)
        assert zhang is not None
        issued = await onboarding.issue_invite(
            s, person=zhang, created_by_id=None, now=harness.services.clock.now(),
            ttl=timedelta(hours=1),
        )
    user = harness.updates.user(ZHANG)
    await harness.process(harness.updates.text(user, f"/start {issued.code}"))
    assert "绑定成功" in harness.request.last_text()
    other = harness.updates.user(ZHANG + 1)
    await harness.process(harness.updates.text(other, f"/start {issued.code}"))
    assert "已被使用" in harness.request.last_text()
    async with harness.services.session() as s:
        zhang = await s.get(Person, person_id)
        assert zhang is not None and zhang.telegram_id == ZHANG


async def test_expired_invite_is_refused(harness: BotHarness) -> None:
    person_id, _ = await _seed(harness, linked=False)
    async with harness.services.session() as s:
        zhang = await s.get(Person, person_id)
        assert zhang is not None
        issued = await onboarding.issue_invite(
            s, person=zhang, created_by_id=None, now=harness.services.clock.now(),
            ttl=timedelta(hours=1),
        )
    harness.services.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    await harness.process(harness.updates.text(harness.updates.user(ZHANG), f"/start {issued.code}"))
    assert "已过期" in harness.request.last_text()


async def test_list_start_progress_note_done(harness: BotHarness) -> None:
    _, task_id = await _seed(harness)
    user = harness.updates.user(ZHANG)
    u = harness.updates

    await harness.process(u.text(user, "/tasks"))
    listing = harness.request.last_text()
    assert "共 2 项" in listing
    assert "逾期 2 天" in listing and "剩 3 天" in listing
    # Overdue first: the list is ordered by deadline.
    assert listing.index("补齐图书室") < listing.index("完善控辍保学")

    await harness.process(u.callback(user, f"task:open:{task_id}"))
    card = harness.request.last_text()
    assert "一票否决" in card and "还剩 3 天" in card

    await harness.process(u.callback(user, f"task:start:{task_id}"))
    await harness.process(u.callback(user, f"task:setp:{task_id}:50"))
    await harness.process(u.reply(user, "已收集各校数据", to_text=card))
    await harness.process(u.text(user, f"/done {task_id} 台账已归档"))
    assert "已完成" in harness.request.last_text()

    async with harness.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None
        assert task.status is TaskStatus.DONE and task.progress == 100
        events = (await s.execute(select(TaskEvent).where(TaskEvent.task_id == task_id)
                                  .order_by(TaskEvent.id))).scalars().all()
    kinds = [(e.kind, e.new_value, e.note) for e in events]
    assert kinds == [
        ("status", "in_progress", ""),
        ("progress", "50", ""),
        ("note", None, "已收集各校数据"),
        ("status", "done", "台账已归档"),
    ]


async def test_block_prompt_reply_records_reason(harness: BotHarness) -> None:
    _, task_id = await _seed(harness)
    user = harness.updates.user(ZHANG)
    await harness.process(harness.updates.callback(user, f"task:block:{task_id}"))
    prompt = harness.request.sent("sendMessage")[-1]
    assert prompt.text.startswith("⛔") and f"#{task_id}" in prompt.text
    await harness.process(harness.updates.reply(user, "等待财政拨款", to_text=prompt.text))
    async with harness.services.session() as s:
        task = await s.get(Task, task_id)
        assert task is not None and task.status is TaskStatus.BLOCKED


async def test_someone_elses_task_is_refused(harness: BotHarness) -> None:
    _, task_id = await _seed(harness)
    async with harness.services.session() as s:
        await f.person(s, "李四", telegram_id=ZHANG + 5, role=Role.RESPONSIBLE)
    li = harness.updates.user(ZHANG + 5)
    await harness.process(harness.updates.text(li, f"/done {task_id}"))
    assert "不在您的职责范围" in harness.request.last_text()


async def test_bad_input_gets_a_clear_error(harness: BotHarness) -> None:
    await _seed(harness)
    user = harness.updates.user(ZHANG)
    await harness.process(harness.updates.text(user, "/progress 1 150"))
    assert "0 到 100" in harness.request.last_text()
    await harness.process(harness.updates.text(user, "/progress abc 50"))
    assert "不是有效的任务编号" in harness.request.last_text()
    await harness.process(harness.updates.text(user, "/done"))
    assert "用法" in harness.request.last_text()
    await harness.process(harness.updates.text(user, "/task 999"))
    assert "找不到任务 #999" in harness.request.last_text()
