"""Issue 13, "Texts": what county staff read, through the real Application.

Each test names the sentence from the field it keeps from coming back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.delivery.undelivered import OfficeNotices
from db.models import Campaign, OutboxMessage, OutboxState, Person, Role
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f

ADMIN, LEADER, OWNER = 6300001, 6300002, 6300003
LEADERS_CHAT = -1001000000001


async def _office_and_leader(h: BotHarness) -> None:
    async with h.services.session() as s:
        office = await f.unit(s, "县迎检办")
        await f.person(s, "王主任", unit=office, role=Role.ADMIN, telegram_id=ADMIN)
        await f.person(s, "李组长", role=Role.LEADER, telegram_id=LEADER)


async def test_summary_says_ties_as_they_are_and_hides_an_empty_count(
    harness: BotHarness,
) -> None:
    """"……另有 13 个单位，完成率更高" when every unit is at 0 %, and "未设截止 0 项"."""
    await _office_and_leader(harness)
    async with harness.services.session() as s:
        c = await f.campaign(s)
        campaign_id = c.id
        for n in range(14):
            unit = await f.unit(s, f"第{n + 1:02d}中学")
            owner = await f.person(s, f"教师{n + 1}", unit=unit)
            await f.task(s, c, unit=unit, owner=owner, due_at=DEFAULT_NOW + timedelta(days=9))
    leader = harness.updates.user(LEADER)
    await harness.process(harness.updates.text(leader, "/summary"))
    text = harness.request.last_text()
    assert "另有 4 个单位，完成率同为 0%" in text
    assert "完成率更高" not in text and "未设截止" not in text

    async with harness.services.session() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None
        unit = await f.unit(s, "县教育局")
        await f.task(s, campaign, unit=unit, owner=await f.person(s, "张三", unit=unit),
                     due_at=None)
    await harness.process(harness.updates.text(leader, "/summary"))
    assert "未设截止时间 1 项" in harness.request.last_text()


async def test_an_indicator_without_a_name_is_named_once(harness: BotHarness) -> None:
    """"📐 指标：C3 C3" when the table gave the code only."""
    async with harness.services.session() as s:
        c = await f.campaign(s)
        unit = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=unit, telegram_id=OWNER)
        indicator = await f.indicator(s, "C3", name="C3")
        task = await f.task(s, c, unit=unit, owner=owner, indicator=indicator)
    await harness.process(harness.updates.text(harness.updates.user(OWNER), f"/task {task.id}"))
    card = harness.request.last_text()
    assert "📐 指标：C3\n" in card and "C3 C3" not in card


async def test_ask_says_when_an_indicator_has_no_description(harness: BotHarness) -> None:
    """/ask listed an indicator with an empty line after its colon."""
    async with harness.services.session() as s:
        await f.person(s, "张三", telegram_id=OWNER)
        await f.indicator(s, "G7", name="校园安全管理")
    await harness.process(harness.updates.text(harness.updates.user(OWNER), "/ask 校园安全管理"))
    text = harness.request.last_text()
    assert "📐 G7 校园安全管理（暂无说明）" in text
    assert "校园安全管理：\n" not in text and not text.rstrip().endswith("：")


async def test_the_progress_chart_is_called_what_the_office_calls_it(
    harness: BotHarness,
) -> None:
    """"燃尽图" is a project manager's word; /chart 进度对比 (and the old words) work."""
    await _office_and_leader(harness)
    async with harness.services.session() as s:
        c = await f.campaign(s)
        unit = await f.unit(s, "县教育局")
        await f.task(s, c, unit=unit, owner=await f.person(s, "张三", unit=unit),
                     due_at=DEFAULT_NOW + timedelta(days=3))
    leader = harness.updates.user(LEADER)
    for words in ("/chart 进度对比", "/chart 燃尽图", "/chart progress"):
        harness.request.clear()
        await harness.process(harness.updates.text(leader, words))
        photos = harness.request.sent("sendPhoto")
        assert len(photos) == 1, words
        assert "进度对比图" in photos[0].text and "燃尽" not in photos[0].text


async def test_commands_take_their_words_in_chinese_and_help_lists_them(
    harness: BotHarness,
) -> None:
    """`/settings quiet … off`, `/rank week|all`: Chinese words work as well, and /help
    says which."""
    await _office_and_leader(harness)
    leader = harness.updates.user(LEADER)
    await harness.process(harness.updates.text(leader, "/settings 免打扰 关闭"))
    assert "设置已保存" in harness.request.last_text() or "不设免打扰" in harness.request.last_text()
    async with harness.services.session() as s:
        person = (await s.execute(select(Person).where(Person.telegram_id == LEADER))).scalar_one()
        assert person.quiet_start is not None and person.quiet_start == person.quiet_end
    await harness.process(harness.updates.text(leader, "/settings 摘要 默认"))
    assert "用法" not in harness.request.last_text()
    await harness.process(harness.updates.text(leader, "/settings 语言 英文"))
    async with harness.services.session() as s:
        person = (await s.execute(select(Person).where(Person.telegram_id == LEADER))).scalar_one()
        assert person.language == "en"
    await harness.process(harness.updates.text(leader, "/help"))
    english_help = harness.request.last_text()
    assert "week (本周)" in english_help and "progress (进度对比)" in english_help

    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.text(admin, "/help"))
    help_text = harness.request.last_text()
    for listed in ("本周（week）", "总体（all）", "免打扰（quiet）", "关闭（off）",
                   "完成率（completion）", "进度对比（progress）", "发送（send）", "重发（retry）"):
        assert listed in help_text, listed
    await harness.process(harness.updates.text(admin, "/undelivered 重发 99"))
    assert "没有可重发的消息 #99" in harness.request.last_text()


async def test_the_office_hears_of_an_undelivered_message_in_words(
    harness: BotHarness,
) -> None:
    """"消息 #12（reminder.escalate）…bot removed from chat" and "(-1001000000001)"."""
    await _office_and_leader(harness)
    async with harness.services.session() as s:
        c = await f.campaign(s)
        c.leaders_chat_id = LEADERS_CHAT
        unit = await f.unit(s, "县教育局")
        task = await f.task(s, c, unit=unit, owner=await f.person(s, "张三", unit=unit))
        row = OutboxMessage(key="rem:test", kind="reminder.escalate", chat_id=LEADERS_CHAT,
                            task_id=task.id, text="督办", not_before=DEFAULT_NOW,
                            created_at=DEFAULT_NOW, state=OutboxState.FAILED,
                            last_error="Forbidden: bot was kicked from the supergroup chat")
        s.add(row)
        await s.flush()
        row_id = row.id
    office: OfficeNotices = harness.services.delivery.dispatcher.office
    async with harness.services.session() as s:
        failed = await s.get(OutboxMessage, row_id)
        assert failed is not None
    await office.failed(failed, "bot removed from chat")
    async with harness.services.session() as s:
        notice = (await s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "office.undelivered"))).scalar_one()
    assert notice.chat_id == ADMIN
    assert f"发给领导小组群的督办提醒（任务 #{task.id}）没能送达" in notice.text
    assert "机器人已不在该群中" in notice.text
    for raw in ("reminder.escalate", str(LEADERS_CHAT), "bot removed", f"#{row_id}（"):
        assert raw not in notice.text, raw

    await harness.process(harness.updates.text(harness.updates.user(ADMIN), "/undelivered"))
    listing = harness.request.last_text()
    assert "领导小组群" in listing and "督办提醒" in listing and "机器人已不在该群中" in listing
    assert "reminder.escalate" not in listing and str(LEADERS_CHAT) not in listing


async def test_a_person_in_english_mode_gets_errors_in_english(harness: BotHarness) -> None:
    """The usage texts came back in Chinese to a person who chose English, when their
    Telegram client is set to Chinese: errors were answered in the client's language."""
    async with harness.services.session() as s:
        await f.person(s, "Zhang San", telegram_id=OWNER, language="en")
    user = harness.updates.user(OWNER, language="zh-hans")
    await harness.process(harness.updates.text(user, "/task"))
    assert harness.request.last_text() == "Usage: /task ID, e.g. /task 12"
    await harness.process(harness.updates.text(user, "/progress 12 abc"))
    assert "Progress must be a whole number" in harness.request.last_text()
    await harness.process(harness.updates.callback(user, "task:start:999"))
    answer = harness.request.sent("answerCallbackQuery")[-1]
    assert answer.params.get("text") == "Task #999 does not exist."

