"""The office imports a breakdown table by sending it to the bot: preview, confirm, export."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from db.models import Campaign, PendingImport, Person, Role, Task, TaskEvent, UploadTarget
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f

ADMIN = 6660001
OWNER = 6660002
LEADER = 6660003
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(*rows: list[object]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


TABLE = _xlsx(
    ["编号", "单位", "任务", "责任人", "截止时间", "阶段"],
    ["Q-1", "县教育局", "核对学籍系统数据", "王芳", "2026-12-01", "整改落实"],
    ["Q-2", "石门镇", "建立劝返台账", "曹明", "2026-12-03", "整改落实"],
)


async def _seed(h: BotHarness) -> None:
    async with h.services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "整改落实")
        office = await f.unit(s, "县迎检办")
        edu = await f.unit(s, "县教育局")
        await f.unit(s, "石门镇")
        await f.person(s, "周敏", unit=office, role=Role.ADMIN, telegram_id=ADMIN)
        await f.person(s, "王芳", unit=edu, telegram_id=OWNER)
        await f.person(s, "赵立新", role=Role.LEADER, telegram_id=LEADER)


def _stored(path: str) -> bytes:
    return Path(path).read_bytes()


async def _count(h: BotHarness, model: type) -> int:
    async with h.services.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def _send(h: BotHarness, user_id: int, data: bytes, name: str = "任务分解表.xlsx",
                caption: str | None = None) -> None:
    file_id = f"file-{len(h.request.files)}"
    h.request.files[file_id] = data
    user = h.updates.user(user_id)
    await h.process(h.updates.document(user, file_id, name, XLSX, caption=caption))


async def test_admin_sends_table_previews_then_confirms_once(harness: BotHarness) -> None:
    await _seed(harness)
    await _send(harness, ADMIN, TABLE)
    preview = harness.request.sent("sendMessage")[-1]
    assert "新增任务 2 项" in preview.text and "曹明" in preview.text
    ((_, ok), (_, no)) = preview.buttons()
    assert ok.startswith("import:ok:") and no.startswith("import:no:")
    assert await _count(harness, Task) == 0
    async with harness.services.session() as s:
        pending = (await s.execute(select(PendingImport))).scalar_one()
    assert _stored(pending.stored_path) == TABLE

    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.callback(admin, ok, preview.text))
    assert "导入完成：新增任务 2 项" in harness.request.last_text()
    assert await _count(harness, Task) == 2

    # A second press (or a stale button) does not import again.
    harness.request.clear()
    await harness.process(harness.updates.callback(admin, ok, preview.text))
    (alert,) = harness.request.sent("answerCallbackQuery")
    assert "已经导入过" in alert.params["text"]
    assert await _count(harness, Task) == 2
    assert await _count(harness, TaskEvent) == 2


async def test_cancel_drops_the_pending_table(harness: BotHarness) -> None:
    await _seed(harness)
    await _send(harness, ADMIN, TABLE)
    (_, ok), (_, no) = harness.request.sent("sendMessage")[-1].buttons()
    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.callback(admin, no))
    assert "已取消本次导入" in harness.request.last_text()
    await harness.process(harness.updates.callback(admin, ok))
    assert "已失效" in harness.request.sent("answerCallbackQuery")[-1].params["text"]
    assert await _count(harness, Task) == 0
    assert await _count(harness, PendingImport) == 0


async def test_table_with_errors_gets_row_errors_and_no_buttons(harness: BotHarness) -> None:
    await _seed(harness)
    bad = _xlsx(["单位", "任务", "责任人", "截止时间"],
                ["县教育局", "核对学籍系统数据", "王芳", "2026-13-01"],
                ["县教育局", "", "王芳", "2026-12-01"])
    await _send(harness, ADMIN, bad)
    reply = harness.request.sent("sendMessage")[-1]
    assert "第 2 行「截止时间」：无法识别日期「2026-13-01」" in reply.text
    assert "第 3 行「任务」：不能为空" in reply.text
    assert reply.buttons() == []
    assert await _count(harness, PendingImport) == 0


async def test_broken_file_gets_a_clear_error(harness: BotHarness) -> None:
    await _seed(harness)
    await _send(harness, ADMIN, _xlsx(["单位", "任务", "截止时间"], ["县教育局", "核对", "2026-12-01"]))
    assert "缺少必需的列：责任人" in harness.request.last_text()
    await _send(harness, ADMIN, b"not a spreadsheet", name="表.xlsx")
    assert "无法读取" in harness.request.last_text()


async def test_too_large_file_is_refused_before_download(harness: BotHarness) -> None:
    await _seed(harness)
    harness.request.files["big"] = b"x"
    document = harness.updates.document(
        harness.updates.user(ADMIN), "big", "表.xlsx", XLSX, file_size=6 * 1024 * 1024
    )
    await harness.process(document)
    assert "文件太大" in harness.request.last_text()
    assert harness.request.sent("getFile") == []
    # Refused once, and not picked up again by the evidence handlers after the error.
    assert len(harness.request.sent("sendMessage")) == 1


async def test_non_admin_spreadsheet_is_left_to_other_handlers(harness: BotHarness) -> None:
    await _seed(harness)
    await _send(harness, OWNER, TABLE)
    texts = harness.request.texts()
    # The evidence handler answered it; this one neither previewed nor refused it.
    assert texts and not any("预览" in text or "权限" in text for text in texts)
    assert await _count(harness, PendingImport) == 0


async def test_admin_evidence_caption_is_not_an_import(harness: BotHarness) -> None:
    await _seed(harness)
    await _send(harness, ADMIN, TABLE, caption="#1 台账")
    texts = harness.request.texts()
    assert texts and not any("预览" in text for text in texts)
    assert await _count(harness, PendingImport) == 0


async def test_admin_after_the_upload_evidence_button_is_not_an_import(
    harness: BotHarness,
) -> None:
    await _seed(harness)
    async with harness.services.session() as s:
        campaign = (await s.execute(select(Campaign))).scalar_one()
        admin = (await s.execute(select(Person).where(Person.telegram_id == ADMIN))).scalar_one()
        task = await f.task(s, campaign, unit=await f.unit(s, "县财政局"), owner=admin)
        s.add(UploadTarget(person_id=admin.id, task_id=task.id,
                           expires_at=DEFAULT_NOW + timedelta(minutes=10)))
    await _send(harness, ADMIN, TABLE)
    assert not any("预览" in text for text in harness.request.texts())
    assert await _count(harness, PendingImport) == 0


async def test_import_help_and_export_round_trip(harness: BotHarness) -> None:
    await _seed(harness)
    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.text(admin, "/import"))
    assert "单位、任务、责任人、截止时间" in harness.request.last_text()
    await _send(harness, ADMIN, TABLE)
    (_, ok), _ = harness.request.sent("sendMessage")[-1].buttons()
    await harness.process(harness.updates.callback(admin, ok))

    leader = harness.updates.user(LEADER)
    await harness.process(harness.updates.text(leader, "/export"))
    sent = harness.request.sent("sendDocument")[-1]
    assert "全部任务（2 项）" in sent.text
    # A multipart upload field: (file name, content, MIME type).
    filename, exported, _ = sent.params["document"]
    sheet = load_workbook(io.BytesIO(exported), read_only=True).worksheets[0]
    keys = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert keys == ["Q-1", "Q-2"]

    # Sending the export back is a no-op with nothing to confirm.
    assert filename.endswith(".xlsx")
    await _send(harness, ADMIN, exported, name=filename)
    reply = harness.request.sent("sendMessage")[-1]
    assert "无变化 2 项" in reply.text and reply.buttons() == []


async def test_export_is_not_for_responsible_people(harness: BotHarness) -> None:
    await _seed(harness)
    await harness.process(harness.updates.text(harness.updates.user(OWNER), "/export"))
    assert "没有执行此操作的权限" in harness.request.last_text()
    assert harness.request.sent("sendDocument") == []
