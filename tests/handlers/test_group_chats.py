"""Issue 11, row 9: in a group chat the bot reveals nothing; everything private stays in
the private chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from telegram import Chat, Message, User

from db.models import Invite, Role, TaskEvent
from handlers.chats import GROUP_COMMANDS
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.telegram import BOT_ID, BOT_USERNAME

ADMIN, LEADER, OWNER = 5590001, 5590002, 5590003
GROUP = Chat(-1001234567890, Chat.SUPERGROUP, title="迎检领导小组")


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        await f.person(s, "赵县长", role=Role.LEADER, telegram_id=LEADER)
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        await f.person(s, "李四", unit=edu)
        task = await f.task(s, c, unit=edu, owner=owner, title="完善控辍保学台账",
                            due_at=DEFAULT_NOW + timedelta(days=3))
        return task.id


def _group_sends(h: BotHarness) -> list[str]:
    return [c.text for c in h.request.calls if c.chat_id == GROUP.id]


async def test_sensitive_commands_in_a_group_point_to_the_private_chat(
    harness: BotHarness,
) -> None:
    await _seed(harness)
    u = harness.updates
    for who, command in ((OWNER, "/tasks"), (LEADER, "/summary"), (LEADER, "/report"),
                         (ADMIN, "/invite 李四"), (LEADER, "/overdue"), (ADMIN, "/export")):
        harness.request.clear()
        await harness.process(u.text(u.user(who), command, chat=GROUP))
        sent = harness.request.calls
        assert [c.method for c in sent] == ["sendMessage"], (command, sent)
        assert "只能在与机器人的私聊中使用" in sent[0].text
        assert f"t.me/{BOT_USERNAME}" in sent[0].text
        assert sent[0].chat_id == GROUP.id
    async with harness.services.session() as s:
        assert (await s.execute(select(Invite))).first() is None


async def test_the_same_commands_work_in_private(harness: BotHarness) -> None:
    await _seed(harness)
    u = harness.updates
    await harness.process(u.text(u.user(OWNER), "/tasks"))
    assert "完善控辍保学台账" in harness.request.last_text()
    await harness.process(u.text(u.user(ADMIN), "/invite 李四"))
    assert "邀请码" in harness.request.last_text()


async def test_harmless_commands_still_answer_in_a_group(harness: BotHarness) -> None:
    await _seed(harness)
    u = harness.updates
    assert {"help", "ask"} == GROUP_COMMANDS
    await harness.process(u.text(u.user(LEADER), f"/help@{BOT_USERNAME}", chat=GROUP))
    assert "/summary" in harness.request.last_text()
    assert "私聊" not in harness.request.last_text()


async def test_a_button_pressed_in_a_group_does_nothing_private(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    u = harness.updates
    await harness.process(u.callback(u.user(OWNER), f"task:done:{task_id}", chat=GROUP))
    answers = harness.request.sent("answerCallbackQuery")
    assert len(answers) == 1 and answers[0].params.get("show_alert") is True
    assert "私聊" in str(answers[0].params.get("text"))
    assert _group_sends(harness) == []
    async with harness.services.session() as s:
        assert (await s.execute(select(TaskEvent))).first() is None


async def test_group_chatter_and_other_bots_commands_are_ignored(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    u = harness.updates
    await harness.process(u.text(u.user(OWNER), "大家好，今天下午开会", chat=GROUP))
    await harness.process(u.text(u.user(OWNER), "/tasks@some_other_bot", chat=GROUP))
    await harness.process(u.text(u.user(OWNER), "/nosuchcommand", chat=GROUP))
    # A reply in the group to a bulletin that names a task is not a note on that task.
    bulletin = Message(1, datetime.now(UTC), GROUP, text=f"⏰ 任务 #{task_id} 已逾期 3 天",
                       from_user=User(BOT_ID, "迎检助手", is_bot=True, username=BOT_USERNAME))
    await harness.process(u.text(u.user(ADMIN), "请尽快办理", chat=GROUP,
                                 reply_to_message=bulletin))
    assert harness.request.calls == []
    async with harness.services.session() as s:
        assert (await s.execute(select(TaskEvent))).first() is None
