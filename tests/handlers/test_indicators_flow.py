"""Indicator data through the real Application: who sees what, corrections with their
history, what-if, the plan turned into tasks, and the office's workbook claimed by its own
handler while a breakdown table still reaches the table import."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from openpyxl import Workbook
from sqlalchemy import func, select, update
from telegram import Chat, Message, User

from db.models import (
    Indicator,
    Person,
    SchoolEditPrompt,
    SchoolFigure,
    SchoolFigureChange,
    Task,
    TaskEvent,
    Unit,
)
from tests.conftest import DEFAULT_NOW, SHANGHAI, BotHarness
from tests.utils.indicators import SAMPLE, sample_campaign
from tests.utils.telegram import BOT_ID, BOT_USERNAME

OFFICE, LEADER, PRINCIPAL, OTHER_PRINCIPAL, STAFF, OWNER = (
    8800001, 8800002, 8800003, 8800004, 8800005, 8800006)
PEOPLE = {"周敏": OFFICE, "赵立新": LEADER, "苏建华": PRINCIPAL, "潘玉兰": OTHER_PRINCIPAL,
          "田小雨": STAFF, "王芳": OWNER}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _seed(h: BotHarness, *, data: bool = True) -> None:
    await sample_campaign(h.services)
    if data:
        await h.services.indicators.load_sample()
    async with h.services.session() as s:
        for name, telegram_id in PEOPLE.items():
            await s.execute(update(Person).where(Person.name == name)
                            .values(telegram_id=telegram_id))


async def _say(h: BotHarness, user_id: int, text: str) -> str:
    h.request.clear()
    await h.process(h.updates.text(h.updates.user(user_id), text))
    return h.request.last_text()


async def _press(h: BotHarness, user_id: int, data: str) -> None:
    h.request.clear()
    await h.process(h.updates.callback(h.updates.user(user_id), data))


async def _unit_id(h: BotHarness, name: str) -> int:
    async with h.services.session() as s:
        return int((await s.execute(select(Unit.id).where(Unit.name == name))).scalar_one())


async def _books(h: BotHarness, school: str) -> int:
    async with h.services.session() as s:
        unit_id = (await s.execute(select(Unit.id).where(Unit.name == school))).scalar_one()
        amount = (await s.execute(select(SchoolFigure.amount).where(
            SchoolFigure.unit_id == unit_id, SchoolFigure.resource == "books"))).scalar_one()
    return int(amount)


async def test_a_principal_sees_and_corrects_only_their_own_school(harness: BotHarness) -> None:
    await _seed(harness)
    own = await _say(harness, PRINCIPAL, "/school")
    assert "石门镇中心小学" in own and "低于底线 15" in own and "约需增加图书 3,712 册" in own
    assert "占全县小学综合差异的" in own
    unit = await _unit_id(harness, "石门镇中心小学")
    assert ("✏️ 更正数据", f"ind:edit:{unit}") in harness.request.sent("sendMessage")[-1].buttons()

    other = await _say(harness, PRINCIPAL, "/school 青岚县第一中学")
    assert "只能查看和修改本校" in other
    refused = await _say(harness, PRINCIPAL, "/school 青岚县第一中学 图书 5")
    assert "只能查看和修改本校" in refused
    assert await _books(harness, "青岚县第一中学") == 42000
    await _press(harness, PRINCIPAL, f"ind:edit:{await _unit_id(harness, '青岚县第一中学')}")
    (alert,) = harness.request.sent("answerCallbackQuery")
    assert "只能查看和修改本校" in alert.params["text"]


async def test_leaders_see_the_county_and_staff_see_nothing_of_it(harness: BotHarness) -> None:
    await _seed(harness)
    choose = await _say(harness, LEADER, "/school")
    assert "请选择学校" in choose
    assert len(harness.request.sent("sendMessage")[-1].buttons()) == 9
    certify = await _say(harness, LEADER, "/certify")
    assert "尚不能通过认定" in certify and "小学综合差异系数 <b>0.66</b>" in certify
    school = await _say(harness, LEADER, "/school 石门镇中心小学")
    assert "石门镇中心小学" in school
    assert harness.request.sent("sendMessage")[-1].buttons() == []  # no edit button
    assert "只能查看和修改本校" in await _say(harness, LEADER, "/school 石门镇中心小学 图书 9")

    for user in (STAFF, OWNER):
        assert "仅向校长" in await _say(harness, user, "/school")
        assert "仅向校长" in await _say(harness, user, "/school 石门镇中心小学")
        assert "仅向领导小组" in await _say(harness, user, "/certify")
        assert "仅向领导小组" in await _say(harness, user, "/whatif 石门镇中心小学 图书 +9")
        assert "仅向领导小组" in await _say(harness, user, "/plan")
        assert "仅限迎检办" in await _say(harness, user, "/indicators template")
    # The summary: a leader's begins with certification, a staff member's has none of it.
    assert "评估认定：尚不能通过" in await _say(harness, LEADER, "/summary")
    assert "评估认定" not in await _say(harness, STAFF, "/summary")


async def test_a_correction_is_recorded_with_who_and_when(harness: BotHarness) -> None:
    await _seed(harness)
    done = await _say(harness, PRINCIPAL, "/school 图书 12000")
    assert "图书 5,888 → <b>12,000</b> 册" in done
    assert "生均图书册数 9.2 → <b>18.75</b> 册" in done
    async with harness.services.session() as s:
        principal = (await s.execute(select(Person).where(Person.name == "苏建华"))).scalar_one()
        change = (await s.execute(select(SchoolFigureChange).where(
            SchoolFigureChange.source == "chat"))).scalar_one()
    assert (change.resource, change.actor_id, change.at) == ("books", principal.id, DEFAULT_NOW)
    assert (change.old_amount, change.new_amount) == (Decimal(5888), Decimal(12000))
    shown = await _say(harness, PRINCIPAL, "/school")
    assert "11-22 09:00 苏建华：图书 5,888 → 12,000（对话更正）" in shown

    # Field by field: the button, the field, the prompt, the reply.
    unit = await _unit_id(harness, "石门镇中心小学")
    await _press(harness, PRINCIPAL, f"ind:edit:{unit}")
    fields = dict(harness.request.sent("sendMessage")[-1].buttons())
    await _press(harness, PRINCIPAL, fields["图书"])
    prompt = harness.request.sent("sendMessage")[-1]
    assert prompt.text.startswith("✏️") and "现为 12,000" in prompt.text
    assert "force_reply" in str(prompt.params.get("reply_markup"))
    async with harness.services.session() as s:
        prompt_id = (await s.execute(select(SchoolEditPrompt.message_id))).scalar_one()
    bot = User(BOT_ID, "迎检助手", is_bot=True, username=BOT_USERNAME)
    quoted = Message(prompt_id, datetime.now(UTC), Chat(PRINCIPAL, Chat.PRIVATE),
                     from_user=bot, text=prompt.text)
    harness.request.clear()
    await harness.process(harness.updates.text(harness.updates.user(PRINCIPAL), "١٣٥٠٠",
                                               reply_to_message=quoted))
    assert "不是有效的数值" in harness.request.last_text()  # the prompt still waits
    harness.request.clear()
    await harness.process(harness.updates.text(harness.updates.user(PRINCIPAL), "13,500本",
                                               reply_to_message=quoted))
    assert "图书 12,000 → <b>13,500</b> 册" in harness.request.last_text()
    assert await _books(harness, "石门镇中心小学") == 13500
    async with harness.services.session() as s:
        changes = (await s.execute(select(func.count()).select_from(SchoolFigureChange).where(
            SchoolFigureChange.source == "chat"))).scalar_one()
    assert changes == 2


async def test_what_if_in_chat(harness: BotHarness) -> None:
    await _seed(harness)
    answer = await _say(harness, LEADER, "/whatif 石门镇中心小学 教学及辅助用房 +300 计算机 +20")
    assert "小学综合差异系数：0.6570 → <b>0.6374</b>" in answer
    assert "无法识别「黄金」" in await _say(harness, LEADER, "/whatif 石门镇中心小学 黄金 +3")
    assert "用法" in await _say(harness, LEADER, "/whatif")


async def test_the_plan_becomes_one_task_per_school_in_one_press(harness: BotHarness) -> None:
    await _seed(harness)
    # A leader reads the plan; making tasks is the office's.
    await _say(harness, LEADER, "/plan")
    assert harness.request.sent("sendMessage")[-1].buttons() == []

    plan = await _say(harness, OFFICE, "/plan")
    assert "青岚县实验小学" in plan and "增加计算机 <b>16</b> 台" in plan
    ((label, data),) = harness.request.sent("sendMessage")[-1].buttons()
    assert label == "📝 生成整改任务" and data.startswith("ind:tasks:")
    await _press(harness, OFFICE, data)
    preview = harness.request.sent("sendMessage")[-1]
    assert "将生成 1 项整改任务" in preview.text and "潘玉兰" in preview.text
    assert "截止 2026-12-07 17:30" in preview.text
    ok = dict(preview.buttons())["✅ 确认生成"]
    async with harness.services.session() as s:
        assert (await s.execute(select(func.count()).select_from(Task))).scalar_one() == 0

    await _press(harness, OFFICE, ok)
    assert "新建 1 项" in harness.request.last_text()
    async with harness.services.session() as s:
        task = (await s.execute(select(Task))).scalar_one()
        owner = await s.get(Person, task.owner_id)
        indicator = await s.get(Indicator, task.indicator_id)
        unit = await s.get(Unit, task.unit_id)
        events = (await s.execute(select(TaskEvent))).scalars().all()
    assert unit is not None and unit.name == "青岚县实验小学"
    assert owner is not None and owner.name == "潘玉兰"
    assert indicator is not None and indicator.code == "C1"
    assert task.due_at == datetime(2026, 12, 7, 17, 30, tzinfo=SHANGHAI)
    assert task.due_at - DEFAULT_NOW > timedelta(days=7)
    assert "计算机 +16 台" in task.title and task.evidence_required == 1
    assert [e.kind for e in events] == ["created"]

    # A second press makes nothing more.
    await _press(harness, OFFICE, ok)
    (alert,) = harness.request.sent("answerCallbackQuery")
    assert "已经生成过" in alert.params["text"]
    async with harness.services.session() as s:
        assert (await s.execute(select(func.count()).select_from(Task))).scalar_one() == 1


def _breakdown() -> bytes:
    book = Workbook()
    book.active.append(["单位", "任务", "责任人", "截止时间"])
    book.active.append(["县教育局", "核对学籍系统数据", "王芳", "2026-12-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_the_workbook_goes_to_the_data_import_and_a_table_to_the_table_import(
    harness: BotHarness,
) -> None:
    await _seed(harness, data=False)
    office = harness.updates.user(OFFICE)
    harness.request.files["wb"] = SAMPLE.read_bytes()
    await harness.process(harness.updates.document(office, "wb", "学校数据.xlsx", XLSX))
    preview = harness.request.sent("sendMessage")[-1]
    assert "学校数据预览" in preview.text and "将更新 114 项" in preview.text
    ((_, ok), (_, _)) = preview.buttons()
    assert ok.startswith("ind:iok:")
    await _press(harness, OFFICE, ok)
    assert "导入完成" in harness.request.last_text()
    async with harness.services.session() as s:
        assert (await s.execute(select(func.count()).select_from(SchoolFigure))).scalar_one() == 114

    harness.request.clear()
    harness.request.files["table"] = _breakdown()
    await harness.process(harness.updates.document(office, "table", "任务分解表.xlsx", XLSX))
    assert "任务分解表预览" in harness.request.sent("sendMessage")[-1].text


async def test_charts_and_the_bulletin_lead_with_certification(harness: BotHarness) -> None:
    await _seed(harness)
    await _say(harness, LEADER, "/certify")
    ((_, chart), (_, plan)) = harness.request.sent("sendMessage")[-1].buttons()
    assert (chart, plan) == ("ind:chart:0", "ind:plan:0")
    await _press(harness, LEADER, chart)
    photos = harness.request.sent("sendPhoto")
    assert len(photos) == 2 and "差异系数" in photos[0].text

    await _say(harness, OFFICE, "/bulletin")
    preview = harness.request.sent("sendMessage")[-1].text
    assert "评估认定：尚不能通过" in preview
    assert preview.index("评估认定") < preview.index("暂无任务")  # before the task figures
