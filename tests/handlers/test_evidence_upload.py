"""Uploading evidence from Telegram: caption, reply, button and album flows, refusals."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.evidence.store import local_store
from db.models import Evidence, EvidenceInbox, EvidenceKind, TaskEvent
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg

ZHANG, LI = 5551001, 5551002
MB = 1024 * 1024


async def _seed(h: BotHarness) -> tuple[int, int]:
    async with h.services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "自查自评", starts=date(2026, 9, 1), ends=date(2026, 11, 30))
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        await f.person(s, "李四", unit=edu, telegram_id=LI)
        lab = await f.task(s, c, unit=edu, owner=zhang, title="实验室标识标牌",
                           due_at=DEFAULT_NOW + timedelta(days=5), evidence_required=2)
        library = await f.task(s, c, unit=edu, owner=zhang, title="图书室借阅记录",
                               due_at=DEFAULT_NOW + timedelta(days=9))
        return lab.id, library.id


async def _evidence(h: BotHarness) -> list[Evidence]:
    async with h.services.session() as s:
        return list((await s.execute(select(Evidence).order_by(Evidence.id))).scalars().all())


def _get_file_calls(h: BotHarness) -> int:
    return len(h.request.sent("getFile"))


async def test_caption_attaches_original_with_exif_and_hash(harness: BotHarness) -> None:
    lab, _ = await _seed(harness)
    data = jpeg(taken=datetime(2026, 11, 20, 10, 15), gps=(26.0745, 119.2965))
    harness.request.files["doc-1"] = data
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.document(
        zhang, "doc-1", "IMG_2041.jpg", "image/jpeg", caption=f"#{lab} 实验室门牌",
        file_size=len(data),
    ))

    answer = harness.request.last_text()
    assert f"任务 #{lab}" in answer and "收到 1 份" in answer
    assert "2026-11-20 10:15" in answer and "26.0745, 119.2965" in answer
    assert "早于" not in answer and "压缩" not in answer
    [item] = await _evidence(harness)
    digest = hashlib.sha256(data).hexdigest()
    assert (item.task_id, item.sha256, item.size, item.kind) == (
        lab, digest, len(data), EvidenceKind.DOCUMENT)
    assert item.description == "实验室门牌" and item.file_name == "IMG_2041.jpg"
    stored = local_store(harness.services.config.storage.data_dir).path_of(digest)
    assert stored == harness.services.config.storage.data_dir / "evidence" / digest[:2] / digest
    assert stored.read_bytes() == data
    async with harness.services.session() as s:
        kinds = (await s.execute(select(TaskEvent.kind).where(TaskEvent.task_id == lab))).scalars()
        assert list(kinds) == ["evidence"]


async def test_reply_to_card_attaches_photo_and_explains_exif_once(harness: BotHarness) -> None:
    lab, _ = await _seed(harness)
    harness.request.files["ph-1"] = jpeg(color=(1, 2, 3))
    harness.request.files["ph-2"] = jpeg(color=(9, 9, 9))
    zhang = harness.updates.user(ZHANG)
    card = f"📌 任务 #{lab}　实验室标识标牌"

    await harness.process(harness.updates.photo(zhang, "ph-1", reply_to_text=card))
    first = harness.request.last_text()
    await harness.process(harness.updates.photo(zhang, "ph-2", reply_to_text=card))
    second = harness.request.last_text()

    assert f"任务 #{lab}" in first and f"任务 #{lab}" in second
    assert "压缩" in first and "压缩" not in second
    items = await _evidence(harness)
    assert [(e.task_id, e.kind) for e in items] == [(lab, EvidenceKind.PHOTO)] * 2


async def test_button_then_file_goes_to_that_task(harness: BotHarness) -> None:
    _, library = await _seed(harness)
    harness.request.files["doc-9"] = b"%PDF-1.4 borrowing records"
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.callback(zhang, f"ev:up:{library}"))
    assert f"#{library}" in harness.request.last_text()
    await harness.process(harness.updates.document(zhang, "doc-9", "借阅登记.pdf",
                                                   "application/pdf", file_size=27))

    assert "收到 1 份" in harness.request.last_text()
    assert [e.task_id for e in await _evidence(harness)] == [library]


async def test_unclear_task_asks_with_buttons_then_attaches(harness: BotHarness) -> None:
    lab, library = await _seed(harness)
    harness.request.files["ph-7"] = jpeg(color=(7, 7, 7))
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.photo(zhang, "ph-7"))
    question = harness.request.sent("sendMessage")[-1]
    assert "属于哪项任务" in question.text
    picks = [data for _, data in question.buttons() if data.startswith("ev:pick:")]
    assert {int(d.rsplit(":", 1)[1]) for d in picks} == {lab, library}
    assert _get_file_calls(harness) == 0
    async with harness.services.session() as s:
        waiting = (await s.execute(select(EvidenceInbox))).scalars().all()
        assert len(waiting) == 1 and waiting[0].asked_at is not None

    chosen = next(d for d in picks if d.endswith(f":{library}"))
    await harness.process(harness.updates.callback(zhang, chosen))

    assert "收到 1 份" in harness.request.last_text()
    assert [e.task_id for e in await _evidence(harness)] == [library]
    async with harness.services.session() as s:
        assert (await s.execute(select(EvidenceInbox))).first() is None


async def test_album_attaches_every_item_with_one_reply(harness: BotHarness) -> None:
    lab, _ = await _seed(harness)
    zhang = harness.updates.user(ZHANG)
    for n in range(3):
        harness.request.files[f"al-{n}"] = jpeg(color=(60 * n, 50, 90))
    for n in range(3):
        caption = f"#{lab} 实验室全景" if n == 0 else None
        await harness.process(harness.updates.photo(zhang, f"al-{n}", caption,
                                                    media_group_id="album-1"))
    assert harness.request.sent("sendMessage") == []  # still collecting
    await harness.services.evidence.albums.drain()

    answers = harness.request.sent("sendMessage")
    assert len(answers) == 1 and "收到 3 份" in answers[0].text
    items = await _evidence(harness)
    assert [e.task_id for e in items] == [lab] * 3
    assert {e.media_group_id for e in items} == {"album-1"}
    assert {e.description for e in items} == {"实验室全景"}


async def test_same_file_twice_is_recognised(harness: BotHarness) -> None:
    lab, library = await _seed(harness)
    data = jpeg(color=(3, 3, 3))
    harness.request.files["a"] = data
    harness.request.files["b"] = data  # forwarded again: a new file_id, the same bytes
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.photo(zhang, "a", f"#{lab}"))
    await harness.process(harness.updates.photo(zhang, "b", f"#{lab}"))
    assert "已上传过" in harness.request.last_text() and "E1" in harness.request.last_text()
    downloads = _get_file_calls(harness)
    await harness.process(harness.updates.photo(zhang, "a", f"#{lab}"))
    assert "已上传过" in harness.request.last_text()
    assert _get_file_calls(harness) == downloads  # known by Telegram's unique id: no download

    await harness.process(harness.updates.photo(zhang, "a", f"#{library}"))
    assert f"也是任务 #{lab} 的佐证" in harness.request.last_text()
    items = await _evidence(harness)
    assert [(e.task_id, e.sha256) for e in items] == [
        (lab, hashlib.sha256(data).hexdigest()), (library, hashlib.sha256(data).hexdigest())]


async def test_stranger_cannot_attach(harness: BotHarness) -> None:
    lab, _ = await _seed(harness)
    harness.request.files["x"] = jpeg()
    li = harness.updates.user(LI)

    await harness.process(harness.updates.photo(li, "x", f"#{lab}"))

    assert harness.request.last_text() == f"任务 #{lab} 不在您的职责范围内。"
    assert await _evidence(harness) == []
    assert _get_file_calls(harness) == 0


async def test_oversize_and_wrong_type_are_refused_before_download(harness: BotHarness) -> None:
    lab, _ = await _seed(harness)
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.document(
        zhang, "vid", "校园全景.mp4", "video/mp4", caption=f"#{lab}", file_size=3 * MB))
    assert "不支持的文件类型（mp4）" in harness.request.last_text()
    await harness.process(harness.updates.document(
        zhang, "big2", "全景.pdf", "application/pdf", caption=f"#{lab}", file_size=25 * MB))
    assert "25.0 MB" in harness.request.last_text() and "20 MB" in harness.request.last_text()
    await harness.process(harness.updates.document(
        zhang, "exe", "setup.exe", "application/x-msdownload", caption=f"#{lab}", file_size=900))
    assert "不支持的文件类型（exe）" in harness.request.last_text()

    assert await _evidence(harness) == []
    assert _get_file_calls(harness) == 0


async def test_capture_before_campaign_is_flagged(harness: BotHarness) -> None:
    lab, _ = await _seed(harness)
    harness.request.files["old"] = jpeg(taken=datetime(2025, 5, 1, 9, 0))
    zhang = harness.updates.user(ZHANG)

    await harness.process(harness.updates.document(zhang, "old", "old.jpg", "image/jpeg",
                                                   caption=f"#{lab}"))

    assert "早于迎检工作开始（2026-09-01）" in harness.request.last_text()


async def test_an_upload_is_not_called_waiting_for_review_before_submit(
    harness: BotHarness,
) -> None:
    """Issue 13: "收到 1 份佐证材料，等待审核" came before anything was submitted; nobody
    reviews it until the owner submits, and the answer says so."""
    lab, _ = await _seed(harness)
    harness.request.files["doc-9"] = jpeg()
    zhang = harness.updates.user(ZHANG)
    await harness.process(harness.updates.document(
        zhang, "doc-9", "IMG_1.jpg", "image/jpeg", caption=f"#{lab} 门牌", file_size=100))
    answer = harness.request.last_text()
    assert "已收到 1 份佐证材料" in answer and "等待审核" not in answer
    assert "提交审核后，审核人才会收到通知" in answer
    assert ("📤 提交审核", f"ev:sub:{lab}") in harness.request.sent("sendMessage")[-1].buttons()

    # Once submitted, a further file joins what waits for review; no second "submit".
    harness.request.files["doc-11"] = jpeg(taken=datetime(2026, 11, 20, 9, 0))
    await harness.process(harness.updates.document(
        zhang, "doc-11", "IMG_3.jpg", "image/jpeg", caption=f"#{lab} 正面", file_size=100))
    await harness.process(harness.updates.text(zhang, f"/submit {lab}"))
    assert "已提交审核" in harness.request.last_text()
    harness.request.files["doc-10"] = jpeg(taken=datetime(2026, 11, 21, 9, 0))
    await harness.process(harness.updates.document(
        zhang, "doc-10", "IMG_2.jpg", "image/jpeg", caption=f"#{lab} 侧面", file_size=100))
    later = harness.request.sent("sendMessage")[-1]
    assert "将与已提交的材料一并审核" in later.text and later.buttons() == []
