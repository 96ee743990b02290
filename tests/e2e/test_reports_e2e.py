"""Reports over real HTTP through the sandbox: drill-down by buttons, files, the bulletin."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import update

from bot.core.clock import FrozenClock
from db.models import Campaign, Person
from sandbox import SandboxClient
from tests.conftest import DEFAULT_NOW
from tests.db.test_reports_aggregation import seed
from tests.e2e.conftest import StartBot, document_of, sandbox_server

LEADER, ADMIN = 7300001, 7300002


async def test_leader_drills_down_and_the_office_posts_the_bulletin(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    leader = await sandbox.add_user("李组长", user_id=LEADER, started=True)
    office = await sandbox.add_user("办公室", user_id=ADMIN, started=True)
    group = await sandbox.add_group("领导小组", [leader, office])
    bot = await start_bot(clock=FrozenClock(DEFAULT_NOW))
    w = await seed(bot.services)
    async with bot.services.session() as s:
        await s.execute(update(Person).where(Person.name == "李组长").values(telegram_id=LEADER))
        await s.execute(update(Person).where(Person.name == "办公室").values(telegram_id=ADMIN))
        await s.execute(update(Campaign).values(leaders_chat_id=group.id))

    await leader.send("/summary")
    summary = await leader.expect_message(contains="工作概览")
    assert "一票否决指标风险（2 项）" in summary.text
    await leader.press(summary, callback_data=f"rep:unit:{w.units['教育局']}")
    listing = await leader.expect_edit(summary, contains="教育局")
    assert "共 3 项" in listing.text
    await leader.press(listing, callback_data=f"task:open:{w.tasks['t1']}")
    card = await leader.expect_message(contains=f"任务 #{w.tasks['t1']}")
    assert "一票否决" in card.text

    await leader.send("/report")
    await leader.expect_message(contains="正在生成整改台账")
    await leader.expect_document()
    await leader.send("/chart 燃尽")
    await leader.expect_photo()

    await office.send("/bulletin")
    await office.expect_message(contains="通报预览")
    printable = await office.expect_document()
    assert document_of(printable)["file_name"].endswith(".docx")
    preview = await office.expect_message(contains="工作通报")
    await office.press(preview, "📣 发送到领导小组群")
    await office.expect_message(contains="已排入发送队列")
    posted = await group.expect_message(contains="工作通报")
    assert "第 1 期" in posted.text and "三、各单位按时完成情况" in posted.text
    assert "张三" in posted.text
    # The printable version follows the text into the leaders' chat, through the outbox.
    delivered = await group.expect_document()
    document = document_of(delivered)
    assert document["file_name"] == "工作通报第1期-20261122.docx"
    assert "Word 版" in delivered.text
    stored = sandbox_server(sandbox).state.media.get(document["file_id"])
    assert stored is not None
    printed = Document(io.BytesIO(stored.data))
    paragraphs = [p.text for p in printed.paragraphs]
    assert "义务教育均衡发展迎检工作通报" in paragraphs[0] and "第 1 期" in paragraphs
    assert "七、下步工作要求" in paragraphs and printed.tables
