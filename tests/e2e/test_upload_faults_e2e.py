"""Uploads over real HTTP while the sandbox's getFile fails (issue 11, rows 7 and 10):
5xx answers and dropped connections are tried again; when every try fails, the owner is
told and downloads the file again with a button; a decompression bomb in an album is
refused on its own."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core.clock import SystemClock
from db.models import Evidence, EvidenceInbox
from sandbox import SandboxClient
from tests.e2e.conftest import LiveBot
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg, png_bomb

ZHANG = 4401


async def _seed(bot: LiveBot) -> int:
    async with bot.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        lab = await f.task(s, c, unit=edu, owner=zhang, title="实验室标识标牌",
                           due_at=SystemClock().now() + timedelta(days=5))
        return lab.id


async def _evidence(bot: LiveBot) -> list[Evidence]:
    async with bot.services.session() as s:
        return list((await s.execute(select(Evidence).order_by(Evidence.id))).scalars().all())


async def test_get_file_down_is_told_and_downloaded_again_on_the_button(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    lab = await _seed(polling_bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG, started=True)
    await sandbox.set_faults(error_share=0.5, drop_share=0.5, methods=["getFile"], seed=11)
    await sandbox.reset_stats()

    await zhang.send_document(b"%PDF-1.4 minutes of the self-check", filename="自查纪要.pdf",
                              caption=f"#{lab} 自查会议纪要")
    answer = await zhang.expect_message(contains="暂时未能从 Telegram 下载", timeout=20)

    stats = await sandbox.stats()
    assert stats["requests"]["getFile"] == 4  # tried, backed off, given up
    assert sum(stats["faults"].values()) == 4
    assert "没有收下新的文件" in (answer.text or "")
    async with polling_bot.services.session() as s:
        [waiting] = (await s.execute(select(EvidenceInbox))).scalars().all()
        assert waiting.asked_at is not None
    assert await _evidence(polling_bot) == []

    await sandbox.set_faults(error_share=0.0, drop_share=0.0)
    await zhang.press(answer, "🔄 重新下载")
    await zhang.expect_message(contains=f"任务 #{lab}「实验室标识标牌」已收到 1 份")
    [item] = await _evidence(polling_bot)
    assert item.file_name == "自查纪要.pdf" and item.description == "自查会议纪要"


async def test_a_flaky_get_file_is_absorbed_and_a_bomb_refused_alone(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    lab = await _seed(polling_bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG, started=True)
    # Half of the getFile requests fail (a 5xx or a dropped connection); with this seed the
    # first three files need a third try each, and none needs more than four.
    await sandbox.set_faults(error_share=0.3, drop_share=0.2, methods=["getFile"], seed=3)
    await sandbox.reset_stats()

    photos = [jpeg(color=(40 * n, 80, 160), size=(320, 240)) for n in range(4)]
    await zhang.send_album([*photos, ("bomb.png", png_bomb())], caption=f"#{lab} 实验室四角")
    answer = await zhang.expect_message(contains="收到 4 份", timeout=30)

    stats = await sandbox.stats()
    assert sum(stats["faults"].values()) == 6  # the retries were needed
    assert stats["requests"]["getFile"] == 5 + 6
    assert "✗ bomb.png：图片标称尺寸约 400 百万像素" in (answer.text or "")
    assert "暂时未能" not in (answer.text or "")
    assert len(await _evidence(polling_bot)) == 4
    async with polling_bot.services.session() as s:
        assert (await s.execute(select(EvidenceInbox))).first() is None
