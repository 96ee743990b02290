"""Indicator data over real HTTP through the sandbox: the office sends the county's data
workbook, confirms the preview, and a leader's /summary leads with the failing coefficient
and the school that pulls it up most."""

from __future__ import annotations

from sqlalchemy import func, select, update

from bot.core.clock import FrozenClock
from db.models import Person, SchoolFigure
from sandbox import SandboxClient
from tests.conftest import DEFAULT_NOW
from tests.e2e.conftest import StartBot
from tests.utils.indicators import SAMPLE, sample_campaign

OFFICE, LEADER = 4501, 4502


async def test_office_imports_school_data_and_the_summary_shows_what_blocks(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    bot = await start_bot(clock=FrozenClock(DEFAULT_NOW))
    await sample_campaign(bot.services)
    async with bot.services.session() as s:
        for name, telegram_id in (("周敏", OFFICE), ("赵立新", LEADER)):
            await s.execute(update(Person).where(Person.name == name)
                            .values(telegram_id=telegram_id))
    office = await sandbox.add_user("周敏", user_id=OFFICE, started=True)
    leader = await sandbox.add_user("赵立新", user_id=LEADER, started=True)

    await office.send_document(SAMPLE.read_bytes(), filename="青岚县学校数据.xlsx")
    preview = await office.expect_message(contains="学校数据预览", timeout=10)
    assert "将更新 114 项" in preview.text and "满意度调查 6 组" in preview.text
    assert preview.button_texts == ["✅ 确认导入", "✖️ 取消"]
    async with bot.services.session() as s:
        assert (await s.execute(select(func.count()).select_from(SchoolFigure))).scalar_one() == 0

    await office.press(preview, "✅ 确认导入")
    done = await office.expect_edit(preview, contains="导入完成", timeout=10)
    assert "9 所学校更新 114 项数据" in done.text and done.buttons == []

    await leader.send("/summary")
    summary = await leader.expect_message(contains="工作概览", timeout=10)
    first = summary.text.split("评估认定")[1]
    assert "尚不能通过" in first.splitlines()[0]
    assert "小学综合差异系数 0.66（标准 ≤0.65，差 0.01）" in summary.text
    assert "拉高最多：柳溪乡中心学校（高于全县，占 29%）" in summary.text
    # Certification comes before the task figures.
    assert summary.text.index("评估认定") < summary.text.index("暂无任务")
