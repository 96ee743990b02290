"""Reports from Telegram: real updates through the real Application, nothing on the network."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from docx import Document
from sqlalchemy import select, update

from db.models import BulletinLog, Campaign, OutboxMessage, Person
from tests.conftest import BotHarness
from tests.db.test_reports_aggregation import World, seed

LEADER, ADMIN, ZHANG, WANG = 6100001, 6100002, 6100003, 6100004
LEADERS_CHAT = -1001000


async def _world(h: BotHarness) -> World:
    w = await seed(h.services)
    async with h.services.session() as s:
        for name, telegram_id in (("李组长", LEADER), ("办公室", ADMIN), ("张三", ZHANG),
                                  ("王镇长", WANG)):
            await s.execute(update(Person).where(Person.name == name)
                            .values(telegram_id=telegram_id))
        await s.execute(update(Campaign).values(leaders_chat_id=LEADERS_CHAT))
    return w


async def test_leader_summary_and_drill_down_to_a_task_card(harness: BotHarness) -> None:
    w = await _world(harness)
    u, leader = harness.updates, harness.updates.user(LEADER)
    await harness.process(u.text(leader, "/summary"))
    sent = harness.request.sent("sendMessage")[-1]
    text = sent.text
    assert "距迎检还有 <b>28</b> 天" in text and "当前阶段：自查" in text
    assert "一票否决指标风险（2 项）" in text
    # Risks come before the ranking; the ranking lists the weakest unit first.
    assert text.index("一票否决") < text.index("单位进度") < text.index("各阶段")
    assert text.index("3. 城关镇") < text.index("1. 实验小学")
    buttons = dict((data, label) for label, data in sent.buttons())
    assert f"rep:unit:{w.units['教育局']}" in buttons
    ind = [data for data in buttons if data.startswith("rep:ind:")]
    assert len(ind) == 1 and "FJ-1" in buttons[ind[0]]

    await harness.process(u.callback(leader, f"rep:unit:{w.units['教育局']}"))
    listing = harness.request.sent("editMessageText")[-1]
    assert "教育局" in listing.text and "共 3 项" in listing.text
    opens = [data for _, data in listing.buttons() if data.startswith("task:open:")]
    assert opens[0] == f"task:open:{w.tasks['t1']}"  # the overdue one first
    assert ("↩️ 返回概览", "rep:sum:0") in listing.buttons()

    # The task card comes from the tasks feature (its own button handler and view).
    await harness.process(u.callback(leader, opens[0]))
    card = harness.request.last_text()
    assert f"任务 #{w.tasks['t1']}" in card and "一票否决" in card

    await harness.process(u.callback(leader, ind[0]))
    by_indicator = harness.request.sent("editMessageText")[-1].text
    assert "FJ-1 控辍保学" in by_indicator and "共 2 项" in by_indicator


async def test_summary_is_scoped_for_a_responsible_person(harness: BotHarness) -> None:
    await _world(harness)
    await harness.process(harness.updates.text(harness.updates.user(ZHANG), "/summary"))
    text = harness.request.last_text()
    # 张三 owns t1–t3 (教育局) and t7 (实验小学): 城关镇's blocked task is not theirs.
    assert "教育局" in text and "实验小学" in text and "城关镇" not in text
    assert "一票否决指标风险（1 项）" in text


async def test_unit_leader_sees_the_subtree(harness: BotHarness) -> None:
    await _world(harness)
    await harness.process(harness.updates.text(harness.updates.user(WANG), "/overdue"))
    text = harness.request.last_text()
    assert "共 1 项" in text and "实验小学" in text and "教育局" not in text


async def test_overdue_lists_owner_unit_and_days_late(harness: BotHarness) -> None:
    w = await _world(harness)
    await harness.process(harness.updates.text(harness.updates.user(LEADER), "/overdue"))
    text = harness.request.last_text()
    assert "逾期任务（共 2 项" in text
    first, second = text.index(f"#{w.tasks['t1']} "), text.index(f"#{w.tasks['t7']} ")
    assert first < second
    assert "教育局 · 张三" in text and "逾期 3 天" in text and "逾期 2 天" in text


async def test_report_and_charts_are_sent_as_files(harness: BotHarness) -> None:
    await _world(harness)
    leader = harness.updates.user(LEADER)
    await harness.process(harness.updates.text(leader, "/report"))
    document = harness.request.sent("sendDocument")[-1]
    assert "7 项任务" in document.text and "逾期 2 项" in document.text
    assert list(harness.services.config.storage.data_dir.glob("reports/*.xlsx")) == []

    await harness.process(harness.updates.text(leader, "/chart"))
    photos = harness.request.sent("sendPhoto")
    assert len(photos) == 2
    assert "完成率" in photos[0].text and "进度对比图" in photos[1].text
    await harness.process(harness.updates.text(leader, "/chart 饼图"))
    assert "用法：/chart" in harness.request.last_text()


async def test_office_previews_then_sends_the_bulletin_once(harness: BotHarness) -> None:
    w = await _world(harness)
    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.text(admin, "/bulletin"))
    preview = harness.request.sent("sendMessage")[-1]
    assert "工作通报" in preview.text and "第 1 期" in preview.text
    assert "三、各单位按时完成情况" in preview.text and "七、下步工作要求" in preview.text
    assert preview.buttons() == [("📣 发送到领导小组群", f"rep:bsend:{w.campaign.id}")]
    # The printable version comes with the preview.
    printable = harness.request.sent("sendDocument")[-1]
    name, content, _ = printable.params["document"]
    assert name.endswith(".docx") and "第 1 期" in printable.text
    assert "第 1 期" in _docx_text(content)

    await harness.process(harness.updates.callback(admin, f"rep:bsend:{w.campaign.id}"))
    notice = harness.request.last_text()
    assert "发到领导小组群" in notice and str(LEADERS_CHAT) not in notice
    async with harness.services.session() as s:
        queued = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        logged = (await s.execute(select(BulletinLog))).scalars().all()
    assert [(m.kind, m.chat_id) for m in queued] == [("bulletin", LEADERS_CHAT)] * 2
    assert [entry.kind for entry in logged] == ["manual"] and "工作通报" in queued[0].text
    text, document = queued
    assert text.document_path is None and document.document_path is not None
    assert document.document_path.endswith(".docx") and "第 1 期" in document.text
    stored = await asyncio.to_thread(Path(document.document_path).read_bytes)
    assert "第 1 期" in _docx_text(stored)

    # The next one is issue 2.
    await harness.process(harness.updates.text(admin, "/bulletin"))
    assert "第 2 期" in harness.request.sent("sendMessage")[-1].text


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    return "\n".join(p.text for p in document.paragraphs)


async def test_only_the_office_sends_bulletins(harness: BotHarness) -> None:
    w = await _world(harness)
    leader = harness.updates.user(LEADER)
    await harness.process(harness.updates.text(leader, "/bulletin"))
    assert "没有执行此操作的权限" in harness.request.last_text()
    await harness.process(harness.updates.callback(leader, f"rep:bsend:{w.campaign.id}"))
    assert harness.request.calls[-1].method == "answerCallbackQuery"
    async with harness.services.session() as s:
        assert (await s.execute(select(OutboxMessage))).first() is None


async def test_the_weekly_bulletin_job_is_scheduled_at_startup(harness: BotHarness) -> None:
    from bot.reports.bulletin_post import JOB_ID, schedule_bulletins

    services = harness.services
    assert schedule_bulletins(services, services.delivery.outbox, services.reports.readiness)
    harness.services.scheduler.start()
    try:
        when = harness.services.scheduler.next_run(JOB_ID)
        assert when is not None and when.weekday() == 0 and (when.hour, when.minute) == (8, 30)
    finally:
        harness.services.scheduler.shutdown()
