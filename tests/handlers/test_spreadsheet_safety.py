"""What people type reaches every spreadsheet as text, and nothing they paste breaks one:
a formula in a note or caption, a vertical tab in a note or a file name (issue 11, rows 5
and 8), through the real handlers to the files /report and /archive send."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from db.models import Evidence, EvidenceKind, EvidenceStatus, Role, TaskEvent
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg

OWNER, LEADER, ADMIN = 5553001, 5553002, 5553003
FORMULA = '=HYPERLINK("http://x","y")'


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        owner = await f.person(s, "张三", unit=edu, telegram_id=OWNER)
        await f.person(s, "赵组长", role=Role.LEADER, telegram_id=LEADER)
        await f.person(s, "周敏", role=Role.ADMIN, telegram_id=ADMIN)
        task = await f.task(s, c, unit=edu, owner=owner, title="实验室标识标牌",
                            due_at=DEFAULT_NOW + timedelta(days=5))
        return task.id


def _sent_file(h: BotHarness) -> bytes:
    # A multipart upload field: (file name, content, MIME type).
    _, content, _ = h.request.sent("sendDocument")[-1].params["document"]
    assert isinstance(content, bytes)
    return content


async def _ledger(h: BotHarness) -> Worksheet:
    h.request.clear()
    await h.process(h.updates.text(h.updates.user(LEADER), "/report"))
    sheet = load_workbook(io.BytesIO(_sent_file(h)))["整改台账"]
    return sheet


async def _index(h: BotHarness) -> Worksheet:
    h.request.clear()
    await h.process(h.updates.text(h.updates.user(ADMIN), "/archive"))
    archive = zipfile.ZipFile(io.BytesIO(_sent_file(h)))
    sheet = load_workbook(io.BytesIO(archive.read("index.xlsx"))).active
    assert sheet is not None
    return sheet


def _column(sheet: Worksheet, header: str) -> list[object]:
    headers = [c.value for c in sheet[1]]
    index = headers.index(header) + 1
    return [sheet.cell(row, index).value for row in range(2, sheet.max_row + 1)]


async def test_pasted_formulas_and_control_characters_through_the_chat(
    harness: BotHarness,
) -> None:
    task_id = await _seed(harness)
    owner = harness.updates.user(OWNER)
    harness.request.files["doc-1"] = jpeg()
    await harness.process(harness.updates.document(
        owner, "doc-1", "IMG\x0b_1.jpg", "image/jpeg", caption=f"#{task_id} {FORMULA}"))
    await harness.process(harness.updates.text(owner, f"/task {task_id}"))
    card = harness.request.last_text()
    await harness.process(harness.updates.reply(owner, f"{FORMULA}\x0b", to_text=card))
    async with harness.services.session() as s:
        notes = list((await s.execute(select(TaskEvent.note).where(
            TaskEvent.kind == "note"))).scalars())
        names = list((await s.execute(select(Evidence.file_name))).scalars())
    assert notes == [FORMULA] and names == ["IMG_1.jpg"]  # cleaned where they came in

    ledger = await _ledger(harness)
    note = ledger.cell(2, [c.value for c in ledger[1]].index("最新备注") + 1)
    assert note.value == FORMULA and note.data_type == "s"

    index = await _index(harness)
    assert _column(index, "说明")[0] == FORMULA
    assert index.cell(2, [c.value for c in index[1]].index("说明") + 1).data_type == "s"
    assert _column(index, "原文件名")[0] == "IMG_1.jpg"


async def test_rows_stored_before_the_rule_still_make_valid_files(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    async with harness.services.session() as s:
        s.add(TaskEvent(task_id=task_id, actor_id=None, at=DEFAULT_NOW, kind="note",
                        note=f"核对\x0b完毕 {FORMULA}"))
        s.add(Evidence(task_id=task_id, kind=EvidenceKind.DOCUMENT, file_id="f1",
                       file_unique_id="u1", file_name="扫描\x0b件.pdf",
                       mime_type="application/pdf", size=3, sha256="0" * 64, chat_id=OWNER,
                       message_id=1, uploaded_at=DEFAULT_NOW, status=EvidenceStatus.PENDING,
                       description=FORMULA))
    ledger = await _ledger(harness)
    assert _column(ledger, "最新备注") == [f"核对完毕 {FORMULA}"]
    index = await _index(harness)
    assert _column(index, "原文件名") == ["扫描件.pdf"]
    assert _column(index, "说明") == [FORMULA]
