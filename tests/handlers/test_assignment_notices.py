"""Issue 13: "a new owner is never told about a task assigned or reassigned to them".

Through the real Application: /newtask, /reassign and an imported table queue a notice
in the outbox, in the unit of work that made the change — one message per assignment,
the task's card and buttons for one task, one list per person for an import."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select

from db.models import OutboxMessage, Person, Role, Task
from tests.conftest import DEFAULT_NOW, BotHarness
from tests.utils import factories as f

ADMIN, ZHANG, LI, WANG = 6700001, 6700002, 6700003, 6700004
SHANGHAI = ZoneInfo("Asia/Shanghai")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _seed(h: BotHarness) -> int:
    async with h.services.session() as s:
        c = await f.campaign(s)
        office = await f.unit(s, "县迎检办")
        edu = await f.unit(s, "县教育局")
        await f.person(s, "周敏", unit=office, role=Role.ADMIN, telegram_id=ADMIN)
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        await f.person(s, "李四", unit=edu, telegram_id=LI, language="en")
        await f.person(s, "王五", unit=edu)  # not linked: nobody to tell
        task = await f.task(s, c, unit=edu, owner=zhang, title="完善图书室台账",
                            due_at=DEFAULT_NOW + timedelta(days=5))
        return task.id


async def _notices(h: BotHarness) -> list[OutboxMessage]:
    async with h.services.session() as s:
        stmt = select(OutboxMessage).where(OutboxMessage.kind == "task.assigned")
        return list((await s.execute(stmt.order_by(OutboxMessage.id))).scalars().all())


def _data(row: OutboxMessage) -> list[str]:
    markup = json.loads(row.reply_markup or "{}")
    return [b["callback_data"] for line in markup.get("inline_keyboard", []) for b in line]


async def test_reassign_and_newtask_tell_the_new_owner(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    admin = harness.updates.user(ADMIN)
    await harness.process(harness.updates.text(admin, f"/reassign {task_id} 李四"))
    [moved] = await _notices(harness)
    assert moved.chat_id == LI and moved.task_id == task_id
    assert moved.text.startswith("🔁 <b>This task is yours now</b>")  # in 李四's language
    assert f"Task #{task_id}" in moved.text and "完善图书室台账" in moved.text
    assert f"task:start:{task_id}" in _data(moved) and f"ev:up:{task_id}" in _data(moved)

    await harness.process(harness.updates.text(
        admin, "/newtask 县教育局 | 整理功能室照片 | 张三 | 2026-12-05"))
    new = (await _notices(harness))[-1]
    assert new.chat_id == ZHANG and new.text.startswith("🆕 <b>您有一项新任务</b>")
    assert "整理功能室照片" in new.text and "截止：2026-12-05 17:30" in new.text

    # Given to someone without Telegram, or by the office to itself: nobody to tell.
    before = len(await _notices(harness))
    await harness.process(harness.updates.text(
        admin, "/newtask 县教育局 | 核对学籍 | 王五 | 2026-12-05"))
    await harness.process(harness.updates.text(
        admin, "/newtask 县迎检办 | 汇总自评报告 | 周敏 | 2026-12-05"))
    assert len(await _notices(harness)) == before
    # A refused change queues nothing (it rolled back with the unit of work).
    await harness.process(harness.updates.text(admin, f"/reassign {task_id} 李四"))
    assert "已经是" in harness.request.last_text()
    assert len(await _notices(harness)) == before


async def test_the_notice_waits_for_the_end_of_quiet_hours(harness: BotHarness) -> None:
    task_id = await _seed(harness)
    clock = harness.services.clock
    clock.set(datetime(2026, 11, 22, 23, 10, tzinfo=SHANGHAI))  # type: ignore[attr-defined]
    await harness.process(harness.updates.text(harness.updates.user(ADMIN),
                                               f"/reassign {task_id} 李四"))
    [notice] = await _notices(harness)
    assert notice.not_before == datetime(2026, 11, 23, 7, 30, tzinfo=SHANGHAI)
    # Given back before the morning: the guard drops the card that is no longer true.
    await harness.process(harness.updates.text(harness.updates.user(ADMIN),
                                               f"/reassign {task_id} 张三"))
    guard = harness.services.tasks.assignments
    async with harness.services.session() as s:
        stale = await s.get(OutboxMessage, notice.id)
        assert stale is not None
        assert await guard.still_theirs(s, stale, clock.now()) is False


def _xlsx(*rows: Sequence[object]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def _import(h: BotHarness, data: bytes) -> None:
    file_id = f"table-{len(h.request.files)}"
    h.request.files[file_id] = data
    admin = h.updates.user(ADMIN)
    await h.process(h.updates.document(admin, file_id, "任务分解表.xlsx", XLSX))
    preview = h.request.sent("sendMessage")[-1]
    ok = [data for _, data in preview.buttons() if data.startswith("import:ok:")]
    if ok:  # a table that changes nothing has nothing to confirm
        await h.process(h.updates.callback(admin, ok[0], preview.text))


async def test_an_import_tells_each_new_owner_once(harness: BotHarness) -> None:
    await _seed(harness)
    header = ["编号", "单位", "任务", "责任人", "截止时间"]
    rows = [[f"Q-{n}", "县教育局", f"整改项目{n}", "张三", f"2026-12-{n + 1:02d}"]
            for n in range(1, 13)]
    rows += [["Q-20", "县教育局", "更新校舍安全台账", "李四", "2026-12-09"],
             ["Q-21", "县教育局", "核对学籍系统数据", "王五", "2026-12-09"]]
    await _import(harness, _xlsx(header, *rows))
    notices = await _notices(harness)
    assert sorted(n.chat_id for n in notices) == [ZHANG, LI]  # one each, 王五 has no chat
    zhang = next(n for n in notices if n.chat_id == ZHANG)
    assert "分配给您的任务（共 12 项）" in zhang.text and "……另有 2 项" in zhang.text
    assert zhang.text.index("整改项目1（") < zhang.text.index("整改项目2（")
    assert len(_data(zhang)) == 10 and all(d.startswith("task:open:") for d in _data(zhang))
    li = next(n for n in notices if n.chat_id == LI)
    assert li.text.startswith("🆕 <b>A new task for you</b>")  # one task: its card

    # The same table again changes nothing and tells nobody; a table that moves one task
    # to 李四 tells 李四 only.
    await _import(harness, _xlsx(header, *rows))
    assert len(await _notices(harness)) == 2
    rows[0][3] = "李四"
    await _import(harness, _xlsx(header, *rows))
    notices = await _notices(harness)
    assert len(notices) == 3 and notices[-1].chat_id == LI
    assert notices[-1].text.startswith("🔁 <b>This task is yours now</b>")
    async with harness.services.session() as s:
        moved = (await s.execute(select(Task).where(Task.key == "Q-1"))).scalar_one()
        li_id = (await s.execute(select(Person.id).where(Person.name == "李四"))).scalar_one()
    assert moved.owner_id == li_id and notices[-1].task_id == moved.id
