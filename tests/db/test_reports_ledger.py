"""The rectification ledger written from a real database and read back cell by cell."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.reports.ledger import LEDGER_COLUMNS, write_ledger
from bot.services import Services
from db.models import Evidence, EvidenceKind, EvidenceStatus, Task, TaskEvent, TaskPartner
from db.repositories.reports import EVERYTHING, TaskScope
from tests.conftest import DEFAULT_NOW, SHANGHAI
from tests.db.test_reports_aggregation import NOW, World, seed

RED = "FFFFC7CE"


async def _evidence_and_notes(services: Services, w: World) -> None:
    async with services.session() as s:
        for n, status in enumerate((EvidenceStatus.PENDING, EvidenceStatus.APPROVED,
                                    EvidenceStatus.REJECTED)):
            s.add(Evidence(task_id=w.tasks["t2"], kind=EvidenceKind.PHOTO, file_id=f"f{n}",
                           file_unique_id=f"u{n}", file_name=f"{n}.jpg", mime_type="image/jpeg",
                           size=10, sha256=f"{n:064d}", chat_id=1, message_id=n,
                           uploaded_at=DEFAULT_NOW, status=status))
        for note in ("已收集数据", "台账已归档"):
            s.add(TaskEvent(task_id=w.tasks["t1"], actor_id=None, at=DEFAULT_NOW, kind="note",
                            note=note))
        s.add(TaskEvent(task_id=w.tasks["t1"], actor_id=None, at=DEFAULT_NOW, kind="status",
                        old_value="todo", new_value="in_progress", note=""))
        # The system's own notes come later and must not hide what a person wrote.
        s.add(TaskEvent(task_id=w.tasks["t1"], actor_id=None, at=DEFAULT_NOW, kind="evidence",
                        new_value="E9", note="IMG_0042.jpg"))
        s.add(TaskEvent(task_id=w.tasks["t1"], actor_id=None, at=DEFAULT_NOW, kind="updated",
                        old_value="a", new_value="b", note="title"))
        s.add(TaskEvent(task_id=w.tasks["t3"], actor_id=None, at=DEFAULT_NOW, kind="imported",
                        new_value="x", note="任务分解表.xlsx"))
        # A note someone pasted: a formula and a vertical tab.
        s.add(TaskEvent(task_id=w.tasks["t7"], actor_id=None, at=DEFAULT_NOW, kind="note",
                        note='=HYPERLINK("http://x","y")\x0b'))
        task = await s.get(Task, w.tasks["t1"])
        assert task is not None
        task.description = "逐校核对学籍，劝返到位"
        task.evidence_items = ["劝返台账", "会议纪要"]
        task.evidence_required = 2
        task.leader_id = w.people["王镇长"]
        s.add(TaskPartner(task_id=task.id, unit_id=w.units["城关镇"], position=0))
        s.add(TaskPartner(task_id=task.id, unit_id=w.units["实验小学"], position=1))


async def _write(services: Services, w: World, path: Path, scope: TaskScope = EVERYTHING) -> None:
    async with services.session() as s:
        await write_ledger(s, campaign=w.campaign, scope=scope, now=NOW, zone=SHANGHAI,
                           texts=services.texts, lang="zh", path=path)


async def test_ledger_cells(services: Services, tmp_path: Path) -> None:
    w = await seed(services)
    await _evidence_and_notes(services, w)
    path = tmp_path / "ledger.xlsx"
    await _write(services, w, path)

    book = load_workbook(path)
    assert book.sheetnames == ["整改台账", "单位汇总"]
    sheet = book["整改台账"]
    header = [c.value for c in sheet[1]]
    assert header == ["序号", "任务编号", "问题", "整改措施", "责任单位", "配合单位", "责任领导",
                      "责任人", "完成时限", "完成情况", "销号（日期）", "评估指标", "一票否决",
                      "阶段", "已交佐证(份)", "应交(份)", "所需佐证材料", "最新备注", "逾期天数",
                      "最后更新"]
    assert len(header) == len(LEDGER_COLUMNS)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:T8"
    assert sheet.print_title_rows == "$1:$1"
    assert (sheet.page_setup.orientation, sheet.page_setup.paperSize,
            sheet.page_setup.fitToWidth) == ("landscape", 9, 1)
    assert sheet.max_row == 8  # header + seven tasks, cancelled ones included
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == list(range(1, 8))
    rows = {row[1].value: [c.value for c in row] for row in sheet.iter_rows(min_row=2)}
    cells = {row[1].value: row for row in sheet.iter_rows(min_row=2)}

    t1 = rows[w.tasks["t1"]]
    assert t1[3:8] == ["逐校核对学籍，劝返到位", "教育局", "城关镇、实验小学", "王镇长", "张三"]
    assert t1[8] == datetime(2026, 11, 19, 9, 0)  # three days ago, local wall-clock time
    assert t1[9] == "逾期 3 天（0%）" and t1[10] is None
    assert t1[11:17] == ["FJ-1 控辍保学", "是", None, 0, 2, "劝返台账、会议纪要"]
    # The last note a person wrote, not the photo's name nor the importer's field name.
    assert t1[17] == "台账已归档" and t1[18] == 3
    assert [c.fill.start_color.rgb for c in cells[w.tasks["t1"]]] == [RED] * 20
    assert cells[w.tasks["t1"]][8].number_format == "yyyy-mm-dd hh:mm"

    t2 = rows[w.tasks["t2"]]
    assert t2[9] == "已完成" and t2[10] == datetime(2026, 11, 21)  # 销号: the day it closed
    assert t2[14] == 2  # rejected evidence not counted
    assert t2[13] == "自查" and t2[17] is None and t2[18] is None
    assert cells[w.tasks["t2"]][0].fill.start_color.rgb != RED

    t3 = rows[w.tasks["t3"]]
    assert t3[8] is None and t3[9] == "进行中（40%）" and t3[18] is None
    assert t3[17] is None  # the import's file name is no note
    t6 = rows[w.tasks["t6"]]
    assert t6[9] == "已撤销" and t6[18] is None and t6[10] is None  # cancelled: never late
    t7 = cells[w.tasks["t7"]]
    assert t7[0].fill.start_color.rgb == RED
    # A pasted formula stays text (and the vertical tab, which XML cannot hold, is gone).
    assert t7[17].value == '=HYPERLINK("http://x","y")' and t7[17].data_type == "s"

    units = book["单位汇总"]
    assert [c.value for c in units[1]] == ["排名", "单位", "任务数", "已完成", "完成率", "未完成",
                                           "逾期", "受阻", "平均进度"]
    summary = [[c.value for c in row] for row in units.iter_rows(min_row=2)]
    assert summary == [
        [1, "实验小学", 2, 1, 0.5, 1, 1, 0, pytest.approx(0.9)],
        [2, "教育局", 3, 1, pytest.approx(1 / 3), 2, 1, 0, pytest.approx(140 / 300)],
        [3, "城关镇", 1, 0, 0.0, 1, 0, 1, 0.0],
    ]
    assert units.freeze_panes == "A2" and units.auto_filter.ref == "A1:I4"
    assert units["E2"].number_format == "0%" and units["G2"].fill.start_color.rgb == RED


async def test_ledger_respects_scope(services: Services, tmp_path: Path) -> None:
    w = await seed(services)
    path = tmp_path / "mine.xlsx"
    await _write(services, w, path, TaskScope(owner_id=w.people["赵六"]))
    sheet = load_workbook(path)["整改台账"]
    ids = sorted(row[1].value for row in sheet.iter_rows(min_row=2))
    assert ids == sorted(w.tasks[k] for k in ("t4", "t5", "t6"))


async def test_ledger_from_the_cli(services: Services, tmp_path: Path, database_url: str,
                                   capsys: object) -> None:
    await seed(services)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    out = tmp_path / "cli.xlsx"
    assert await asyncio.to_thread(main, ["-c", str(config), "report", str(out)]) == 0
    assert load_workbook(out)["整改台账"].max_row == 8
