"""Breakdown tables as offices write them: co-operating units, the responsible leader, the
evidence by name; the strict unit roster with its suggestion; past deadlines warned about."""

from __future__ import annotations

import io
from datetime import datetime, time
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from bot.services import Services
from bot.tables.export import export_tasks
from bot.tables.importer import apply_import, preview_import
from bot.tables.planner import ImportOptions, ImportPreview
from bot.tables.views import preview_text
from db.models import Role, Task, TaskEvent, TaskStatus, Unit
from db.repositories import tasks as tasks_repo
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f

ZONE = ZoneInfo("Asia/Shanghai")
OPTIONS = ImportOptions(zone=ZONE, default_due_time=time(17, 30), create_people=True,
                        max_rows=20000)
LABELS = {s: s.value for s in TaskStatus}


def _csv(*lines: str) -> bytes:
    return "\n".join(lines).encode()


async def _seed(services: Services) -> None:
    async with services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "整改落实")
        edu = await f.unit(s, "县教育局")
        await f.unit(s, "县财政局")
        await f.unit(s, "县人力资源和社会保障局")
        await f.person(s, "王芳", unit=edu)
        await f.person(s, "刘建国", role=Role.LEADER)


async def _preview(services: Services, data: bytes, options: ImportOptions = OPTIONS,
                   now: datetime | None = DEFAULT_NOW) -> ImportPreview:
    async with services.session() as s:
        return await preview_import(s, data, "表.csv", options, now=now)


async def _apply(services: Services, data: bytes, options: ImportOptions = OPTIONS
                 ) -> ImportPreview:
    async with services.session() as s:
        return await apply_import(s, data, "表.csv", options, actor_id=None, now=DEFAULT_NOW)


HEADER = "编号,责任单位,配合单位,存在问题,整改措施,责任领导,责任人,完成时限,佐证材料清单"


async def test_partners_leader_and_named_evidence_are_imported(services: Services) -> None:
    await _seed(services)
    table = _csv(HEADER, "Z-1,县教育局,会同县财政局、县人力资源和社会保障局,教师编制不足,"
                 "核定编制并公开招聘,刘建国,王芳,2026-12-10,1.编制核定文件；2.招聘公告；3.到岗名单")
    preview = await _preview(services, table)
    assert preview.ok, preview.errors
    await _apply(services, table)
    async with services.session() as s:
        task_id = (await s.execute(select(Task.id))).scalar_one()
        task = await tasks_repo.get_task(session=s, task_id=task_id)
        assert task is not None
        assert task.title == "教师编制不足" and task.description == "核定编制并公开招聘"
        assert task.partner_names == ["县财政局", "县人力资源和社会保障局"]
        assert task.leader is not None and task.leader.name == "刘建国"
        assert task.evidence_items == ["编制核定文件", "招聘公告", "到岗名单"]
        assert task.evidence_required == 3  # each named piece counts at least once

    # Re-import: a partner dropped, another leader, one more piece: each change recorded.
    async with services.session() as s:
        await f.person(s, "陈敏", role=Role.LEADER)
    changed = _csv(HEADER, "Z-1,县教育局,县财政局,教师编制不足,核定编制并公开招聘,陈敏,王芳,"
                   "2026-12-10,编制核定文件、招聘公告、到岗名单、培训记录")
    result = await _apply(services, changed)
    assert result.updated_tasks == 1
    async with services.session() as s:
        task = await tasks_repo.get_task(session=s, task_id=task_id)
        assert task is not None and task.partner_names == ["县财政局"]
        assert task.leader is not None and task.leader.name == "陈敏"
        assert len(task.evidence_items) == 4 and task.evidence_required == 4
        fields = set((await s.execute(
            select(TaskEvent.note).where(TaskEvent.kind == "updated"))).scalars())
    assert fields == {"partners", "leader", "evidence_required", "evidence_items"}

    # The export writes the same columns, and reads back as "no changes".
    buffer = io.BytesIO()
    async with services.session() as s:
        await export_tasks(s, buffer, zone=ZONE, status_labels=LABELS)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    row = {sheet.cell(1, c).value: sheet.cell(2, c).value for c in range(1, sheet.max_column + 1)}
    assert row["配合单位"] == "县财政局" and row["责任领导"] == "陈敏"
    assert row["佐证材料清单"] == "编制核定文件、招聘公告、到岗名单、培训记录"
    async with services.session() as s:
        again = await preview_import(s, buffer.getvalue(), "导出.xlsx", OPTIONS)
    assert again.ok and again.unchanged_tasks == 1, again


async def test_a_typo_in_a_unit_is_refused_with_the_name_it_meant(services: Services) -> None:
    await _seed(services)
    table = _csv("单位,配合单位,任务,责任人,截止时间",
                 "县教肓局,县财政局,核对学籍,王芳,2026-12-01",
                 "县教育局,县财政,整理档案,王芳,2026-12-01")
    preview = await _preview(services, table)
    assert {(e.row, e.column, e.message_id, dict(e.params).get("guess")) for e in preview.errors} == {
        (2, "单位", "tables.err.unknown_unit_guess", "县教育局"),
        (3, "配合单位", "tables.err.unknown_unit_guess", "县财政局"),
    }
    assert not preview.new_units
    text = preview_text(services.texts, "zh", preview, html=False, max_errors=None)
    assert "单位名单中没有「县教肓局」，是否为「县教育局」？" in text
    async with services.session() as s:
        assert len((await s.execute(select(Unit))).all()) == 3
    # Where the office allows it, the same table creates the units.
    loose = ImportOptions(zone=ZONE, default_due_time=time(17, 30), create_people=True,
                          max_rows=20000, create_units=True)
    assert set((await _preview(services, table, loose)).new_units) == {"县教肓局", "县财政"}


async def test_unknown_leader_is_an_error_never_a_new_person(services: Services) -> None:
    await _seed(services)
    table = _csv("单位,任务,责任人,责任领导,截止时间", "县教育局,核对学籍,王芳,刘建图,2026-12-01",
                 "县教育局,整理档案,王芳,张三丰,2026-12-01")
    preview = await _preview(services, table)
    assert [(e.row, e.message_id) for e in preview.errors] == [
        (2, "tables.err.unknown_leader_guess"), (3, "tables.err.unknown_leader")]
    assert not preview.new_people


async def test_a_past_deadline_is_accepted_with_a_warning(services: Services) -> None:
    await _seed(services)
    table = _csv("单位,任务,责任人,截止时间", "县教育局,核对学籍,王芳,2025-11-01",
                 "县教育局,整理档案,王芳,2026-12-01")
    preview = await _preview(services, table)
    assert preview.ok and preview.needs_writing
    assert [(w.row, w.column, w.message_id) for w in preview.warnings] == [
        (2, "截止时间", "tables.warn.past_deadline")]
    text = preview_text(services.texts, "zh", preview, html=False, max_errors=None)
    assert "截止时间 2025-11-01 17:30 已过，导入后该任务会立即显示为逾期" in text
    assert "✅ 检查通过" in text
    english = preview_text(services.texts, "en", preview, html=False, max_errors=None)
    assert "has passed" in english
    await _apply(services, table)
    # Importing it again changes nothing, so nothing is warned about.
    assert not (await _preview(services, table)).warnings
