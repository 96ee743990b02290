"""Uploads that fail for one file (issue 11, rows 7 and 10): Telegram not handing a file
over, a decompression bomb, a broken image, unreadable EXIF. The rest of the message or
album attaches, the sender is told about each file, and nothing waits for a restart."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import select

from db.models import Evidence, EvidenceInbox
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.evidence_files import broken_png, jpeg, png_bomb, webp_with_broken_exif
from tests.utils.telegram import bad_gateway, flood, timed_out

ZHANG = 5561001


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "自查自评", starts=date(2026, 9, 1), ends=date(2026, 11, 30))
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        lab = await f.task(s, c, unit=edu, owner=zhang, title="实验室标识标牌",
                           due_at=DEFAULT_NOW + timedelta(days=5))
        return lab.id


async def _evidence(h: BotHarness) -> list[Evidence]:
    async with h.services.session() as s:
        return list((await s.execute(select(Evidence).order_by(Evidence.id))).scalars().all())


async def _inbox(h: BotHarness) -> list[EvidenceInbox]:
    async with h.services.session() as s:
        return list((await s.execute(select(EvidenceInbox))).scalars().all())


async def test_a_decompression_bomb_in_an_album_is_refused_alone(harness: BotHarness) -> None:
    lab = await _seed(harness)
    zhang = harness.updates.user(ZHANG)
    files = {
        "a-1.jpg": jpeg(color=(200, 10, 10)),
        "bomb.png": png_bomb(),
        "a-3.jpg": jpeg(color=(10, 10, 200)),
        "broken.png": broken_png(),
    }
    assert len(files["bomb.png"]) == 120
    for n, (name, data) in enumerate(files.items()):
        harness.request.files[name] = data
        mime = "image/png" if name.endswith(".png") else "image/jpeg"
        await harness.process(harness.updates.document(
            zhang, name, name, mime, caption=f"#{lab} 实验室门牌" if n == 0 else None,
            file_size=len(data), media_group_id="album-bomb"))
    await harness.services.evidence.albums.drain()

    [answer] = harness.request.sent("sendMessage")
    assert f"任务 #{lab}「实验室标识标牌」已收到 2 份" in answer.text
    assert "✗ bomb.png：图片标称尺寸约 400 百万像素，超过 179 百万像素的上限" in answer.text
    assert "✗ broken.png：图片文件已损坏或无法识别" in answer.text
    items = await _evidence(harness)
    assert [e.file_name for e in items] == ["a-1.jpg", "a-3.jpg"]
    assert {e.description for e in items} == {"实验室门牌"}
    # Nothing of the album is left to be tried again at the next start.
    assert await _inbox(harness) == []
    assert await harness.services.evidence.service.leftover_batches() == []


async def test_unreadable_exif_is_said_and_the_image_kept(harness: BotHarness) -> None:
    lab = await _seed(harness)
    data = webp_with_broken_exif()
    harness.request.files["w"] = data
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.document(
        zhang, "w", "门牌.webp", "image/webp", caption=f"#{lab}", file_size=len(data)))

    answer = harness.request.last_text()
    assert "收到 1 份" in answer and "拍摄信息（EXIF）已损坏" in answer
    [item] = await _evidence(harness)
    assert item.sha256 == hashlib.sha256(data).hexdigest() and item.exif_taken_at is None


async def test_get_file_failing_for_a_moment_is_tried_again(harness: BotHarness) -> None:
    lab = await _seed(harness)
    harness.request.files["p"] = jpeg(color=(1, 1, 1))
    harness.request.fail_next("getFile", bad_gateway(), timed_out(), flood(1))
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.photo(zhang, "p", f"#{lab}"))

    assert "收到 1 份" in harness.request.last_text()
    assert len(harness.request.refused) == 3 and len(harness.request.sent("getFile")) == 1
    assert len(await _evidence(harness)) == 1


async def test_get_file_failing_for_good_is_told_and_kept_for_a_retry(
    harness: BotHarness
) -> None:
    lab = await _seed(harness)
    zhang = harness.updates.user(ZHANG)
    harness.request.files["later"] = jpeg(color=(6, 6, 6))
    harness.request.files["ok"] = jpeg(color=(5, 5, 5))
    # The album's first photo meets a 5xx or a timeout at every try; the second (which
    # carries the caption) downloads.
    await harness.process(harness.updates.photo(zhang, "later", None,
                                                media_group_id="album-net"))
    await harness.process(harness.updates.photo(zhang, "ok", f"#{lab} 门牌两侧",
                                                media_group_id="album-net"))
    harness.request.fail_next("getFile", bad_gateway(), timed_out(), bad_gateway(),
                              bad_gateway())
    await harness.services.evidence.albums.drain()

    [answer] = harness.request.sent("sendMessage")
    assert f"任务 #{lab}「实验室标识标牌」已收到 1 份" in answer.text
    assert "以下 1 个文件暂时未能从 Telegram 下载" in answer.text
    assert "Telegram 服务器暂时没有响应" in answer.text
    assert len(harness.request.refused) == 4
    [waiting] = await _inbox(harness)
    assert waiting.asked_at is not None and waiting.file_id == "later"
    assert waiting.caption == "门牌两侧"  # the album's description goes with it
    retry = next(data for _, data in answer.buttons() if data.startswith("ev:retry:"))
    assert retry == f"ev:retry:{waiting.id}:{lab}"
    assert f"ev:sub:{lab}" in [data for _, data in answer.buttons()]
    # A restart leaves it to the sender's button.
    assert await harness.services.evidence.service.leftover_batches() == []

    harness.request.clear()
    await harness.process(harness.updates.callback(zhang, retry))

    assert f"任务 #{lab}「实验室标识标牌」已收到 1 份" in harness.request.last_text()
    items = await _evidence(harness)
    assert [e.file_id for e in items] == ["ok", "later"]
    assert [e.description for e in items] == ["门牌两侧", "门牌两侧"]
    assert await _inbox(harness) == []


async def test_a_single_file_failing_for_good_is_answered(harness: BotHarness) -> None:
    """Before: no answer at all, and the file waited in the inbox for the next start."""
    lab = await _seed(harness)
    zhang = harness.updates.user(ZHANG)
    harness.request.files["d"] = b"%PDF-1.4 minutes"
    harness.request.fail_next("getFile", *[bad_gateway()] * 4)

    await harness.process(harness.updates.document(
        zhang, "d", "会议纪要.pdf", "application/pdf", caption=f"#{lab}", file_size=16))

    answer = harness.request.sent("sendMessage")[-1]
    assert "没有收下新的文件" in answer.text and "✗ 会议纪要.pdf：Telegram 服务器暂时没有响应" in answer.text
    assert [data for _, data in answer.buttons()] == [
        f"ev:retry:{(await _inbox(harness))[0].id}:{lab}"]
    assert await _evidence(harness) == []
