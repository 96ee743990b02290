"""Evidence over real HTTP: the bot polling the sandbox, files downloaded through getFile."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from bot.config import EvidenceConfig
from bot.core.clock import SystemClock
from db.models import Evidence, EvidenceInbox, Role, Task, TaskStatus
from sandbox import SandboxClient, SimUser
from tests.e2e.conftest import LiveBot, StartBot, document_of, sandbox_server
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg

ZHANG, LI, WANG, OFFICE = 4301, 4302, 4303, 4309
MB = 1024 * 1024


async def _seed(bot: LiveBot) -> tuple[int, int]:
    now = SystemClock().now()
    async with bot.services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "整改", starts=date(2026, 9, 1))
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        await f.person(s, "李四", unit=edu, telegram_id=LI)
        wang = await f.person(s, "王局长", unit=edu, telegram_id=WANG)
        await f.person(s, "迎检办", role=Role.ADMIN, telegram_id=OFFICE)
        edu.leader_id = wang.id
        veto = await f.indicator(s, "B-3", name="功能室配备", veto=True)
        lab = await f.task(s, c, unit=edu, owner=zhang, title="实验室标识标牌", indicator=veto,
                           due_at=now + timedelta(days=5), evidence_required=2)
        library = await f.task(s, c, unit=edu, owner=zhang, title="图书室借阅记录",
                               due_at=now + timedelta(days=9))
    return lab.id, library.id


async def _users(sandbox: SandboxClient, *names: tuple[str, int]) -> list[SimUser]:
    return [await sandbox.add_user(name, user_id=uid, started=True) for name, uid in names]


async def _evidence(bot: LiveBot) -> list[Evidence]:
    async with bot.services.session() as s:
        return list((await s.execute(select(Evidence).order_by(Evidence.id))).scalars().all())


async def test_caption_reply_and_button_flows(polling_bot: LiveBot, sandbox: SandboxClient) -> None:
    lab, library = await _seed(polling_bot)
    [zhang] = await _users(sandbox, ("张三", ZHANG))
    original = jpeg(taken=datetime(2026, 11, 19, 16, 40), gps=(26.0614, 119.3061))

    await zhang.send_document(original, filename="IMG_0419.jpg", caption=f"#{lab} 物理实验室门牌")
    answer = await zhang.expect_message(contains="收到 1 份")
    assert "2026-11-19 16:40" in answer.text and "26.0614, 119.3061" in answer.text

    await zhang.send(f"/task {lab}")
    card = await zhang.expect_message(contains=f"任务 #{lab}")
    await zhang.send_photo(jpeg(color=(10, 120, 10)), reply_to=card)
    answer = await zhang.expect_message(contains="收到 1 份")
    assert f"#{lab}" in answer.text and "选择「文件」" in answer.text

    await zhang.send(f"/task {library}")
    card = await zhang.expect_message(contains=f"任务 #{library}")
    await zhang.press(card, "📎 上传佐证")
    await zhang.expect_message(contains="分钟内发送")
    await zhang.send_document(b"%PDF-1.4\n% borrowing ledger\n", filename="借阅登记.pdf")
    answer = await zhang.expect_message(contains="收到 1 份")
    assert f"#{library}" in answer.text

    items = await _evidence(polling_bot)
    assert [e.task_id for e in items] == [lab, lab, library]
    assert items[0].sha256 == hashlib.sha256(original).hexdigest()
    assert items[0].exif_taken_at is not None and items[1].exif_taken_at is None
    assert items[2].description == "" and items[2].file_name == "借阅登记.pdf"


async def test_album_one_reply_and_duplicates(polling_bot: LiveBot, sandbox: SandboxClient) -> None:
    lab, _ = await _seed(polling_bot)
    [zhang] = await _users(sandbox, ("张三", ZHANG))
    photos = [jpeg(color=(60 * n, 30, 200), size=(320, 240)) for n in range(4)]

    await zhang.send_album(photos, caption=f"#{lab} 实验室四角")
    answer = await zhang.expect_message(contains="收到 4 份")
    await asyncio.sleep(2.0)
    answers = [m for m in await zhang.messages(from_bot=True) if "佐证" in m.text]
    assert answers == [answer] and answer.text.count("· E") == 4  # one reply for the album

    await zhang.send_photo(photos[1], caption=f"#{lab}")
    duplicate = await zhang.expect_message(contains="已上传过")
    assert "E2" in duplicate.text

    items = await _evidence(polling_bot)
    assert len(items) == 4 and len({e.sha256 for e in items}) == 4
    assert len({e.media_group_id for e in items}) == 1
    store = polling_bot.services.config.storage.data_dir / "evidence"
    for item in items:
        stored = (store / item.sha256[:2] / item.sha256).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == item.sha256 and len(stored) == item.size


async def test_unclear_task_is_asked_with_buttons(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    lab, library = await _seed(polling_bot)
    [zhang] = await _users(sandbox, ("张三", ZHANG))

    await zhang.send_photo(jpeg(color=(5, 5, 5)))
    question = await zhang.expect_message(contains="属于哪项任务")
    assert any(text.startswith(f"#{lab} ") for text in question.button_texts)
    await zhang.press(question, callback_data=next(
        b.callback_data for row in question.buttons for b in row
        if b.callback_data and b.callback_data.endswith(f":{library}")))
    await zhang.expect_message(contains=f"任务 #{library}「图书室借阅记录」已收到 1 份")
    assert [e.task_id for e in await _evidence(polling_bot)] == [library]


async def test_strangers_oversize_and_wrong_types_are_refused(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    lab, _ = await _seed(polling_bot)
    zhang, li = await _users(sandbox, ("张三", ZHANG), ("李四", LI))

    await li.send_photo(jpeg(), caption=f"#{lab}")
    await li.expect_message(contains=f"任务 #{lab} 不在您的职责范围内")

    await zhang.send_document(b"\0" * (21 * MB), filename="全景扫描.pdf", caption=f"#{lab}")
    await zhang.expect_message(contains="超过 20 MB 的下载上限")
    await zhang.send_document(b"MZ\x90\x00", filename="安装包.exe", caption=f"#{lab}")
    await zhang.expect_message(contains="不支持的文件类型（exe）")
    assert await _evidence(polling_bot) == []


async def test_bot_api_download_limit_is_explained(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    # Configured as if behind a local Bot API server, but talking to one that keeps
    # Telegram's 20 MB getFile limit: the refusal comes from getFile, and is explained.
    bot = await start_bot()
    lifted = bot.services.config.model_copy(
        update={"evidence": EvidenceConfig(max_download_mb=100)})
    bot.services.evidence.service.config = lifted
    lab, _ = await _seed(bot)
    [zhang] = await _users(sandbox, ("张三", ZHANG))

    await zhang.send_document(b"\1" * (21 * MB), filename="扫描件.pdf", caption=f"#{lab}")
    await zhang.expect_message(contains="不提供超过 20 MB 的文件下载")
    assert await _evidence(bot) == []


async def test_review_reject_approve_and_done_blocked(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    lab, _ = await _seed(polling_bot)
    zhang, wang = await _users(sandbox, ("张三", ZHANG), ("王局长", WANG))

    await zhang.send(f"/done {lab}")
    await zhang.expect_message(contains="需要 2 份审核通过的佐证材料")
    await zhang.send_document(jpeg(taken=datetime(2026, 11, 2, 9, 0)), filename="a.jpg",
                              caption=f"#{lab}")
    await zhang.expect_message(contains="收到 1 份")
    await zhang.send_document(jpeg(taken=datetime(2024, 6, 1, 9, 0), color=(0, 0, 250)),
                              filename="b.jpg", caption=f"#{lab}")
    uploaded = await zhang.expect_message(contains="早于迎检工作开始")
    await zhang.press(uploaded, "📤 提交审核")
    await zhang.expect_message(contains="已提交审核")
    await wang.expect_message(contains="请发送 /review 审核")

    await wang.send("/review")
    card = await wang.expect_message(where=lambda m: m.document is not None)
    assert "E1" in card.text and "2026-11-02 09:00" in card.text
    await wang.press(card, "✅ 通过")
    await wang.expect_edit(card, contains="已通过")
    second = await wang.expect_message(where=lambda m: m.document is not None)
    assert "E2" in second.text and "早于迎检工作开始（2026-09-01）" in second.text
    await wang.press(second, "❌ 驳回")
    prompt = await wang.expect_message(contains="驳回佐证 E2")
    await wang.reply(prompt, "照片拍摄于 2024 年，不能说明本次整改")
    await wang.expect_message(contains="已驳回 E2")
    notice = await zhang.expect_message(contains="未通过审核")
    assert "不能说明本次整改" in notice.text

    async with polling_bot.services.session() as s:
        assert (await s.get(Task, lab)).status is TaskStatus.IN_PROGRESS  # type: ignore[union-attr]
    await zhang.send(f"/done {lab}")
    await zhang.expect_message(contains="目前只有 1 份")

    await zhang.send_document(jpeg(taken=datetime(2026, 11, 21, 10, 0), color=(250, 250, 0)),
                              filename="c.jpg", caption=f"#{lab} 重新拍摄")
    await zhang.expect_message(contains="收到 1 份")
    await zhang.send(f"/submit {lab}")
    await zhang.expect_message(contains="已提交审核")
    await wang.send("/review")
    third = await wang.expect_message(where=lambda m: m.document is not None and "E3" in m.text)
    await wang.press(third, "✅ 通过")
    await zhang.expect_message(contains="已全部审核通过")
    async with polling_bot.services.session() as s:
        task = await s.get(Task, lab)
        assert task is not None and task.status is TaskStatus.DONE


async def test_archive_from_the_bot_matches_its_index(
    polling_bot: LiveBot, sandbox: SandboxClient
) -> None:
    lab, library = await _seed(polling_bot)
    zhang, office = await _users(sandbox, ("张三", ZHANG), ("迎检办", OFFICE))
    sent = [jpeg(color=(20 * n, 100, 50), taken=datetime(2026, 11, 10 + n, 9, 0)) for n in range(3)]
    for n, data in enumerate(sent):
        await zhang.send_document(data, filename=f"IMG_{n}.jpg", caption=f"#{lab if n else library}")
        await zhang.expect_message(contains="收到 1 份")

    await office.send("/archive")
    delivered = await office.expect_message(where=lambda m: m.document is not None, timeout=10)
    await office.expect_message(contains="档案已生成：2 项任务，3 个文件")
    stored = sandbox_server(sandbox).state.media.get(document_of(delivered)["file_id"])
    archive = zipfile.ZipFile(io.BytesIO(stored.data))

    sheet = load_workbook(io.BytesIO(archive.read("index.xlsx")), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    path_at, sha_at = header.index("档案内路径"), header.index("SHA-256")
    assert len(body) == 3
    assert sorted(archive.namelist()) == sorted([str(r[path_at]) for r in body] + ["index.xlsx"])
    for row in body:
        content = archive.read(str(row[path_at]))
        assert hashlib.sha256(content).hexdigest() == row[sha_at]
        assert row[header.index("校验")] == "一致"
    expected = {hashlib.sha256(d).hexdigest() for d in sent}
    assert {r[sha_at] for r in body} == expected
    assert all(str(r[path_at]).startswith("B-3 功能室配备/县教育局/") or
               str(r[path_at]).startswith("未关联指标/县教育局/") for r in body)


async def test_album_cut_short_by_a_restart_is_finished_on_start(
    start_bot: StartBot, sandbox: SandboxClient
) -> None:
    first = await start_bot()
    first.services.evidence.albums.delay = 30  # the restart comes first
    lab, _ = await _seed(first)
    [zhang] = await _users(sandbox, ("张三", ZHANG))

    await zhang.send_album([jpeg(color=(0, 90 * n, 9)) for n in range(3)], caption=f"#{lab}")
    for _ in range(100):
        async with first.services.session() as s:
            waiting = (await s.execute(select(EvidenceInbox))).scalars().all()
        if len(waiting) == 3:
            break
        await asyncio.sleep(0.05)
    await first.stop()
    assert await _evidence(first) == []

    second = await start_bot()
    await zhang.expect_message(contains="收到 3 份")
    await asyncio.sleep(1.0)
    answers = [m for m in await zhang.messages(from_bot=True) if "佐证" in m.text]
    assert len(answers) == 1  # once, not again for updates seen by the first bot
    assert [e.task_id for e in await _evidence(second)] == [lab] * 3
