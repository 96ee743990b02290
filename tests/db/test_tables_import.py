"""Importing breakdown tables into the real database: create, update by key, refuse, export."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.services import Services
from bot.tables import setup as campaign_setup
from bot.tables.export import export_tasks
from bot.tables.importer import apply_import, preview_import
from bot.tables.planner import ImportOptions, ImportPreview
from db.models import (
    Campaign,
    Indicator,
    PendingImport,
    Person,
    Phase,
    Role,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
)
from db.repositories import tables as imports_repo
from tests.conftest import DEFAULT_NOW
from tests.utils import factories as f

ZONE = ZoneInfo("Asia/Shanghai")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# These tables name units the roster lacks on purpose: units are created here.
OPTIONS = ImportOptions(zone=ZONE, default_due_time=time(17, 30), create_people=True,
                        max_rows=20000, create_units=True)
STRICT = ImportOptions(zone=ZONE, default_due_time=time(17, 30), create_people=False,
                       max_rows=20000)
HEADER = "编号,单位,上级单位,任务,指标,指标名称,一票否决,责任人,截止时间,阶段,佐证材料,说明"
LABELS = {s: s.value for s in TaskStatus}


def _csv(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\n".join(lines).encode(encoding)


async def _seed(services: Services) -> None:
    """A campaign with two phases, the education bureau and two of its people."""
    async with services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "自查自评", position=1)
        await f.phase(s, c, "整改落实", position=2)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "王芳", unit=edu)
        await f.person(s, "李强", unit=edu)
        await f.indicator(s, "E1", name="控辍保学与巩固率", veto=True)


async def _preview(services: Services, data: bytes, name: str = "表.csv",
                   options: ImportOptions = OPTIONS) -> ImportPreview:
    async with services.session() as s:
        return await preview_import(s, data, name, options)


async def _apply(services: Services, data: bytes, name: str = "表.csv",
                 options: ImportOptions = OPTIONS) -> ImportPreview:
    async with services.session() as s:
        return await apply_import(s, data, name, options, actor_id=None, now=DEFAULT_NOW)


async def _counts(services: Services) -> dict[str, int]:
    async with services.session() as s:
        return {
            model.__name__: int((await s.execute(select(func.count()).select_from(model)))
                                .scalar_one())
            for model in (Task, TaskEvent, Unit, Person, Indicator)
        }


async def _tasks(s: AsyncSession) -> dict[str, Task]:
    rows = (await s.execute(select(Task).order_by(Task.id))).scalars().all()
    return {t.key: t for t in rows}


VALID = _csv(
    HEADER,
    "E-1,县教育局,,核对学籍系统数据,E1,,,王芳,2026-12-01,自查自评,2,逐校核对",
    "E-2,县教育局,,制定一校一策整改方案,B4,薄弱学校改造,是,李强,2026/12/05 12:00,整改落实,是,",
    "S-1,石门镇中心小学,石门镇,补充图书室藏书,A2,图书配备,否,苏建华,2026年12月10日,,3,",
    "S-2,石门镇,,建立劝返台账,E1,,,曹明,2026-11-20,整改落实,0,",
)


async def test_valid_table_creates_tasks_units_people_and_indicators(services: Services) -> None:
    await _seed(services)
    preview = await _preview(services, VALID)
    assert preview.ok
    assert (preview.rows, preview.new_tasks, preview.updated_tasks) == (4, 4, 0)
    assert preview.new_units == ("石门镇", "石门镇中心小学")
    assert preview.new_people == ("苏建华", "曹明")
    assert preview.new_indicators == ("B4", "A2")
    assert await _counts(services) == {"Task": 0, "TaskEvent": 0, "Unit": 1, "Person": 2,
                                       "Indicator": 1}

    result = await _apply(services, VALID)
    assert result.new_tasks == 4
    async with services.session() as s:
        tasks = await _tasks(s)
        units = {u.name: u for u in (await s.execute(select(Unit))).scalars()}
        b4 = (await s.execute(select(Indicator).where(Indicator.code == "B4"))).scalar_one()
        phases = {p.id: p.name for p in (await s.execute(select(Phase))).scalars()}
        people = {p.id: p for p in (await s.execute(select(Person))).scalars()}
        events = (await s.execute(select(TaskEvent))).scalars().all()
    assert set(tasks) == {"E-1", "E-2", "S-1", "S-2"}
    school = tasks["S-1"]
    assert school.unit_id == units["石门镇中心小学"].id
    assert units["石门镇中心小学"].parent_id == units["石门镇"].id
    assert people[school.owner_id or 0].name == "苏建华"
    assert people[school.owner_id or 0].unit_id == units["石门镇中心小学"].id
    assert people[school.owner_id or 0].role is Role.RESPONSIBLE
    assert school.due_at == datetime(2026, 12, 10, 17, 30, tzinfo=ZONE)
    assert school.phase_id is None and school.evidence_required == 3
    assert tasks["E-2"].due_at == datetime(2026, 12, 5, 12, 0, tzinfo=ZONE)
    assert phases[tasks["E-2"].phase_id or 0] == "整改落实"
    assert tasks["E-2"].evidence_required == 1
    assert (b4.name, b4.veto) == ("薄弱学校改造", True)
    assert tasks["E-1"].description == "逐校核对"
    assert all(t.status is TaskStatus.TODO and t.progress == 0 for t in tasks.values())
    assert sorted((e.kind, e.new_value, e.note) for e in events) == sorted(
        ("imported", t.title, "表.csv") for t in tasks.values()
    )


async def test_reimport_updates_by_key_and_records_what_changed(services: Services) -> None:
    await _seed(services)
    await _apply(services, VALID)
    before = await _counts(services)
    changed = _csv(
        HEADER,
        "E-1,县教育局,,核对学籍系统数据,E1,,,李强,2026-12-03,自查自评,2,逐校核对",
        "E-2,县教育局,,制定一校一策整改方案,B4,,,李强,2026/12/05 12:00,整改落实,1,",
        "S-1,石门镇中心小学,石门镇,补充图书室藏书（含电子图书）,A2,,,苏建华,2026-12-10,,3,",
        "S-2,石门镇,,建立劝返台账,E1,,,曹明,2026-11-20,整改落实,0,",
    )
    preview = await _preview(services, changed)
    assert (preview.new_tasks, preview.updated_tasks, preview.unchanged_tasks) == (0, 2, 2)
    await _apply(services, changed)
    after = await _counts(services)
    assert after["Task"] == before["Task"] and after["Person"] == before["Person"]
    async with services.session() as s:
        tasks = await _tasks(s)
        updates = (await s.execute(
            select(TaskEvent).where(TaskEvent.kind == "updated").order_by(TaskEvent.id)
        )).scalars().all()
    assert tasks["E-1"].due_at == datetime(2026, 12, 3, 17, 30, tzinfo=ZONE)
    assert {(e.task_id, e.note, e.old_value, e.new_value) for e in updates} == {
        (tasks["E-1"].id, "owner", "王芳", "李强"),
        (tasks["E-1"].id, "due_at", "2026-12-01 17:30", "2026-12-03 17:30"),
        (tasks["S-1"].id, "title", "补充图书室藏书", "补充图书室藏书（含电子图书）"),
    }
    # Importing the same table again changes nothing at all.
    again = await _apply(services, changed)
    assert (again.updated_tasks, again.unchanged_tasks) == (0, 4)
    assert await _counts(services) == after


async def test_without_a_key_column_unit_and_task_are_the_key(services: Services) -> None:
    await _seed(services)
    table = _csv("单位,任务,责任人,截止时间", "县教育局,核对学籍,王芳,2026-12-01",
                 "县教育局,整理档案,李强,2026-12-02")
    await _apply(services, table)
    moved = _csv("单位,任务,责任人,截止时间", "县教育局,核对学籍,王芳,2026-12-08",
                 "县教育局,整理档案,李强,2026-12-02")
    result = await _apply(services, moved)
    assert (result.new_tasks, result.updated_tasks, result.unchanged_tasks) == (0, 1, 1)
    assert (await _counts(services))["Task"] == 2


async def test_a_column_the_table_lacks_leaves_that_field_alone(services: Services) -> None:
    await _seed(services)
    await _apply(services, VALID)
    narrow = _csv("编号,单位,任务,责任人,截止时间",
                  "E-1,县教育局,核对学籍系统数据,王芳,2026-12-01")
    result = await _apply(services, narrow)
    assert result.unchanged_tasks == 1 and result.absent_tasks == 3
    async with services.session() as s:
        task = (await _tasks(s))["E-1"]
    assert task.description == "逐校核对" and task.evidence_required == 2


@pytest.mark.parametrize(
    ("table", "message_id"),
    [
        (_csv("单位,任务,截止时间", "县教育局,核对学籍,2026-12-01"), "tables.missing_columns"),
        (b"", "tables.empty_sheet"),
        (_csv("单位,任务,责任人,截止时间"), "tables.no_rows"),
    ],
)
async def test_broken_files_are_refused_whole(
    services: Services, table: bytes, message_id: str
) -> None:
    await _seed(services)
    with pytest.raises(InvalidInput) as caught:
        await _preview(services, table)
    assert caught.value.message_id == message_id


async def _row_errors(services: Services, table: bytes,
                      options: ImportOptions = OPTIONS) -> set[tuple[int, str, str]]:
    preview = await _preview(services, table, options=options)
    return {(e.row, e.column, e.message_id) for e in preview.errors}


async def test_bad_date_is_a_row_error(services: Services) -> None:
    await _seed(services)
    errors = await _row_errors(services, _csv("单位,任务,责任人,完成时限",
                                              "县教育局,核对学籍,王芳,2026-12-01",
                                              "县教育局,整理档案,王芳,下周五"))
    assert errors == {(3, "完成时限", "error.bad_date")}


async def test_unknown_owner_in_strict_roster_mode(services: Services) -> None:
    await _seed(services)
    table = _csv("单位,任务,责任人,截止时间", "县教育局,核对学籍,王芳,2026-12-01",
                 "县教育局,整理档案,王方,2026-12-01")
    # The closest name on the roster is offered: 王方 is most likely 王芳.
    assert await _row_errors(services, table, STRICT) == {
        (3, "责任人", "tables.err.unknown_owner_guess")
    }
    # In the default mode the same name is a new person, listed in the preview.
    assert (await _preview(services, table)).new_people == ("王方",)


async def test_owner_name_shared_by_two_people_elsewhere_is_ambiguous(services: Services) -> None:
    await _seed(services)
    async with services.session() as s:
        for name in ("县财政局", "县人社局"):
            await f.person(s, "张伟", unit=await f.unit(s, name))
    table = _csv("单位,任务,责任人,截止时间", "县教育局,核对经费,张伟,2026-12-01",
                 "县财政局,拨付经费,张伟,2026-12-01")
    preview = await _preview(services, table)
    assert {(e.row, e.message_id) for e in preview.errors} == {
        (2, "tables.err.ambiguous_owner")
    }
    assert "县财政局" in str(preview.errors[0].params["units"])


async def test_a_deactivated_owner_is_not_recreated(services: Services) -> None:
    await _seed(services)
    async with services.session() as s:
        edu = (await s.execute(select(Unit).where(Unit.name == "县教育局"))).scalar_one()
        (await f.person(s, "赵六", unit=edu)).is_active = False
    table = _csv("单位,任务,责任人,截止时间", "县教育局,核对学籍,赵六,2026-12-01")
    assert await _row_errors(services, table) == {(2, "责任人", "tables.err.inactive_owner")}


async def test_duplicate_keys_and_unknown_phase_are_row_errors(services: Services) -> None:
    await _seed(services)
    table = _csv("编号,单位,任务,责任人,截止时间,阶段",
                 "A-1,县教育局,核对学籍,王芳,2026-12-01,整改落实",
                 "A-1,县教育局,整理档案,王芳,2026-12-01,整改落实",
                 "A-2,县教育局,整理台账,王芳,2026-12-01,整改阶段")
    assert await _row_errors(services, table) == {
        (3, "编号", "tables.err.duplicate_key"),
        (4, "阶段", "tables.err.unknown_phase"),
    }


async def test_a_failed_import_changes_nothing(services: Services) -> None:
    await _seed(services)
    await _apply(services, VALID)
    before = await _counts(services)
    # Valid rows that would create a unit, a person and an indicator, then one bad row.
    table = _csv(HEADER,
                 "N-1,城关镇,,入户核查,F9,新指标,否,邓勇,2026-12-01,,1,",
                 "E-1,县教育局,,核对学籍系统数据,E1,,,李强,2026-12-09,自查自评,2,",
                 "N-2,城关镇,,清理摊点,,,,邓勇,2026-02-30,,1,")
    with pytest.raises(InvalidInput) as caught:
        await _apply(services, table)
    assert caught.value.message_id == "tables.apply_refused"
    assert await _counts(services) == before
    async with services.session() as s:
        assert (await _tasks(s))["E-1"].due_at == datetime(2026, 12, 1, 17, 30, tzinfo=ZONE)


async def test_gbk_csv_from_excel_imports(services: Services) -> None:
    await _seed(services)
    table = _csv("单位,任务,责任人,截止时间,佐证材料", "县教育局,补齐图书借阅登记,王芳,2026-12-01,是",
                 encoding="gbk")
    result = await _apply(services, table)
    assert result.new_tasks == 1
    async with services.session() as s:
        (task,) = (await _tasks(s)).values()
    assert task.title == "补齐图书借阅登记" and task.evidence_required == 1


@contextmanager
def _statements(services: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_five_thousand_rows_import_in_a_few_statements(services: Services) -> None:
    await _seed(services)
    lines = ["编号,单位,任务,指标,责任人,截止时间,阶段,佐证材料"]
    lines += [
        f"K{i},单位{i % 50},任务{i},I{i % 30},人员{i % 400},2026-12-{1 + i % 28:02d},整改落实,{i % 3}"
        for i in range(5000)
    ]
    table = _csv(*lines)
    with _statements(services) as statements:
        result = await _apply(services, table)
    assert (result.rows, result.new_tasks, len(result.new_people)) == (5000, 5000, 400)
    # Bulk loads and batched inserts: a per-row SELECT or INSERT would be thousands.
    assert len(statements) < 60, len(statements)
    counts = await _counts(services)
    assert counts["Task"] == 5000 and counts["TaskEvent"] == 5000
    with _statements(services) as statements:
        again = await _preview(services, table)
    assert again.unchanged_tasks == 5000 and len(statements) < 20


async def test_export_then_import_round_trips_unchanged(services: Services) -> None:
    await _seed(services)
    await _apply(services, VALID)
    async with services.session() as s:
        campaign = (await s.execute(select(Campaign))).scalar_one()
        edu = (await s.execute(select(Unit).where(Unit.name == "县教育局"))).scalar_one()
        owner = (await s.execute(select(Person).where(Person.name == "王芳"))).scalar_one()
        # Edge cases: a midnight deadline, a title that looks like a formula, a multi-line
        # description, a finished task, and a task created by hand (derived key).
        odd = await f.task(s, campaign, unit=edu, owner=owner, title="=SUM(A1:A3) 核对",
                           due_at=datetime(2026, 12, 2, 0, 0, tzinfo=ZONE),
                           status=TaskStatus.DONE)
        odd.description = "第一行\n第二行"
        odd.priority = 1
    buffer = io.BytesIO()
    async with services.session() as s:
        count = await export_tasks(s, buffer, zone=ZONE, status_labels=LABELS)
    assert count == 5
    sheet = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True).worksheets[0]
    header = next(sheet.iter_rows(values_only=True))
    assert header[:4] == ("编号", "单位", "配合单位", "任务") and "状态" in header
    assert {"责任领导", "佐证材料清单"} <= set(header)
    result = await _preview(services, buffer.getvalue(), "导出.xlsx")
    assert result.ok, result.errors
    assert (result.new_tasks, result.updated_tasks, result.unchanged_tasks) == (0, 0, 5)
    assert not (result.new_units or result.new_people or result.new_indicators)


async def test_the_examples_set_up_and_import_cleanly(services: Services) -> None:
    spec = campaign_setup.load_setup(EXAMPLES / "campaign.toml")
    async with services.session() as s:
        await campaign_setup.apply_setup(s, spec, "campaign.toml")
    xlsx = (EXAMPLES / "breakdown.xlsx").read_bytes()
    csv = (EXAMPLES / "breakdown.csv").read_bytes()
    preview = await _preview(services, xlsx, "breakdown.xlsx", STRICT)
    assert preview.ok, preview.errors
    assert 60 <= preview.new_tasks <= 120
    assert not (preview.new_units or preview.new_people or preview.new_indicators)
    await _apply(services, xlsx, "breakdown.xlsx", STRICT)
    # The CSV is the same table: nothing to change.
    same = await _preview(services, csv, "breakdown.csv", STRICT)
    assert same.ok and same.unchanged_tasks == preview.new_tasks
    async with services.session() as s:
        tasks = list((await _tasks(s)).values())
    due = [t.due_at for t in tasks if t.due_at]
    assert min(due) < DEFAULT_NOW < max(due)  # overdue, due soon and later tasks


async def test_a_pending_import_is_claimed_once(services: Services) -> None:
    await _seed(services)
    async with services.session() as s:
        campaign = (await s.execute(select(Campaign))).scalar_one()
        admin = await f.person(s, "周敏", role=Role.ADMIN)
        pending = await imports_repo.add_pending_import(session=s, pending=PendingImport(
            token="t1", person_id=admin.id, campaign_id=campaign.id, file_name="表.xlsx",
            stored_path="/nowhere", created_at=DEFAULT_NOW))
    async with services.session() as s:
        assert await imports_repo.claim_pending_import(session=s, import_id=pending.id,
                                                       now=DEFAULT_NOW)
    async with services.session() as s:
        assert not await imports_repo.claim_pending_import(session=s, import_id=pending.id,
                                                           now=DEFAULT_NOW)
