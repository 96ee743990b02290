"""Reading breakdown tables: header aliases, encodings, delimiters and cell values."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from bot.core.errors import DomainError, InvalidInput
from bot.tables.parse import (
    ALIASES,
    Column,
    canonical_header,
    column_for,
    decode_csv,
    read_table,
    sniff_delimiter,
)
from bot.tables.rows import (
    RowError,
    TableRow,
    convert_row,
    parse_evidence,
    parse_priority,
    parse_veto,
    text_of,
)
from bot.tasks.admin import task_key

ZONE = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(17, 30)
HEADER = "单位,任务,责任人,截止时间"


def _csv(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\n".join(lines).encode(encoding)


def _xlsx(rows: list[list[object]], *, sheets_before: int = 0) -> bytes:
    workbook = Workbook()
    first = workbook.active
    for _ in range(sheets_before):
        workbook.create_sheet("空白")
    sheet = workbook.create_sheet("任务") if sheets_before else first
    if sheets_before:
        workbook.move_sheet(sheet, offset=sheets_before + 1)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("单位", Column.UNIT), ("责任单位", Column.UNIT), ("牵头单位", Column.UNIT),
        ("上级单位", Column.PARENT_UNIT),
        ("任务", Column.TASK), ("工作任务", Column.TASK), ("任务内容", Column.TASK),
        ("整改任务", Column.TASK),
        ("指标", Column.INDICATOR), ("指标编码", Column.INDICATOR), ("评估指标", Column.INDICATOR),
        ("指标名称", Column.INDICATOR_NAME), ("一票否决", Column.VETO),
        ("责任人", Column.OWNER), ("负责人", Column.OWNER),
        ("截止时间", Column.DEADLINE), ("完成时限", Column.DEADLINE),
        ("截止日期", Column.DEADLINE),
        ("阶段", Column.PHASE), ("佐证材料", Column.EVIDENCE), ("佐证数量", Column.EVIDENCE),
        ("编号", Column.KEY), ("说明", Column.DESCRIPTION), ("备注", Column.DESCRIPTION),
        ("工作要求", Column.DESCRIPTION), ("优先级", Column.PRIORITY),
        ("Deadline", Column.DEADLINE), (" Owner ", Column.OWNER),
        ("*责任单位", Column.UNIT), ("截止时间（必填）", Column.DEADLINE),
        ("责 任 人", Column.OWNER), ("阶段：", Column.PHASE),
    ],
)
def test_header_aliases(header: str, column: Column) -> None:
    assert column_for(header) is column


@pytest.mark.parametrize("header", ["序号", "联系电话", "", None, "完成情况说明书"])
def test_unknown_headers_are_ignored(header: str | None) -> None:
    assert column_for(header) is None


def test_every_alias_maps_back_to_its_column() -> None:
    for column, names in ALIASES.items():
        for name in names:
            assert column_for(name) is column, name
    assert canonical_header(" * 单位 (必填) ") == "单位"


def test_csv_utf8_with_bom_and_gbk_decode_alike() -> None:
    text = HEADER + "\n县教育局,整理档案,王芳,2026-12-01"
    assert decode_csv(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_csv(text.encode("gbk")) == text
    assert decode_csv(text.encode("gb18030")) == text


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [("单位,任务,责任人", ","), ("单位\t任务\t责任人", "\t"), ("单位;任务;责任人", ";")],
)
def test_delimiter_is_sniffed(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line + "\n") == delimiter


def test_tab_separated_gbk_file_reads() -> None:
    data = _csv("单位\t任务\t责任人\t截止时间", "石门镇\t劝返辍学学生\t曹明\t2026-12-01",
                encoding="gbk")
    sheet = read_table(data, "表.csv", max_rows=10)
    assert sheet.rows[0].cells[Column.UNIT] == "石门镇"
    assert sheet.rows[0].number == 2


def test_header_under_a_title_row_is_found_and_row_numbers_match_the_sheet() -> None:
    data = _xlsx([
        ["青岚县迎检任务分解表"],
        [],
        ["序号", "责任单位", "工作任务", "负责人", "完成时限"],
        [1, "县教育局", "整理档案", "王芳", datetime(2026, 12, 1)],
        [None, None, None, None, None],
        [2, "县财政局", "拨付资金", "郑伟", "2026-12-02"],
    ])
    sheet = read_table(data, "t.xlsx", max_rows=10)
    assert sheet.label(Column.UNIT) == "责任单位"
    assert [r.number for r in sheet.rows] == [4, 6]
    assert Column.KEY not in sheet.rows[0].cells  # 序号 is a running count, not a key


def test_first_sheet_with_content_is_read() -> None:
    data = _xlsx([["单位", "任务", "责任人", "截止时间"], ["城关镇", "入户核查", "邓勇", "2026-12-01"]],
                 sheets_before=1)
    sheet = read_table(data, "t.xlsx", max_rows=10)
    assert sheet.rows[0].cells[Column.OWNER] == "邓勇"


@pytest.mark.parametrize(
    ("data", "name", "message_id"),
    [
        (b"", "t.csv", "tables.empty_sheet"),
        (_xlsx([]), "t.xlsx", "tables.empty_sheet"),
        (_csv("单位,任务,截止时间", "县教育局,整理,2026-12-01"), "t.csv", "tables.missing_columns"),
        (_csv("甲,乙,丙", "1,2,3"), "t.csv", "tables.no_header"),
        (_csv(HEADER), "t.csv", "tables.no_rows"),
        (_csv("单位,责任单位,任务,责任人,截止时间"), "t.csv", "tables.duplicate_column"),
        (b"PK\x03\x04 not really a zip", "t.xlsx", "tables.unreadable"),
        (b"%PDF-1.4", "t.pdf", "tables.unsupported_type"),
        (b"\xff\xfe\x00\x00\x81", "t.csv", "tables.bad_encoding"),
    ],
)
def test_file_level_problems(data: bytes, name: str, message_id: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(data, name, max_rows=10)
    assert caught.value.message_id == message_id


def test_missing_columns_names_each_with_its_aliases() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(_csv("单位,任务", "县教育局,整理"), "t.csv", max_rows=10)
    columns = str(caught.value.params["columns"])
    assert "责任人（负责人" in columns and "截止时间（完成时限" in columns


def test_too_many_rows_is_refused() -> None:
    lines = [HEADER] + [f"县教育局,任务{i},王芳,2026-12-01" for i in range(6)]
    assert len(read_table(_csv(*lines), "t.csv", max_rows=6).rows) == 6
    with pytest.raises(InvalidInput) as caught:
        read_table(_csv(*lines), "t.csv", max_rows=5)
    assert caught.value.message_id == "tables.too_many_rows"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 0), ("", 0), ("3", 3), (3, 3), (2.0, 2), ("是", 1), ("否", 0), ("有", 1),
     ("无", 0), ("yes", 1), ("No", 0), ("4份", 4), (True, 1)],
)
def test_evidence_values(value: object, expected: int) -> None:
    assert parse_evidence(value) == expected


@pytest.mark.parametrize("value", ["若干", "-1", "2.5", 2.5, "101"])
def test_bad_evidence_values(value: object) -> None:
    with pytest.raises(DomainError):
        parse_evidence(value)


@pytest.mark.parametrize(("value", "expected"), [("是", True), ("否", False), ("", False),
                                                 ("Yes", True), (1, True), (0, False)])
def test_veto_values(value: object, expected: bool) -> None:
    assert parse_veto(value) is expected


@pytest.mark.parametrize(("value", "expected"), [("高", 1), ("中", 2), ("低", 3), ("", 2),
                                                 ("高优先级", 1), ("Low", 3), (1, 1)])
def test_priority_values(value: object, expected: int) -> None:
    assert parse_priority(value) == expected


def test_text_of_reads_excel_numbers_as_typed() -> None:
    assert text_of(12.0) == "12"
    assert text_of("  城关  镇 ") == "城关 镇"
    assert text_of(None) == ""


def _convert(*lines: str) -> TableRow | list[RowError]:
    sheet = read_table(_csv(*lines), "t.csv", max_rows=10)
    return convert_row(sheet, sheet.rows[0], zone=ZONE, default_due_time=END_OF_DAY)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-12-15", datetime(2026, 12, 15, 17, 30, tzinfo=ZONE)),
        ("2026/12/15 09:00", datetime(2026, 12, 15, 9, 0, tzinfo=ZONE)),
        ("2026年12月15日", datetime(2026, 12, 15, 17, 30, tzinfo=ZONE)),
        ("20261215", datetime(2026, 12, 15, 17, 30, tzinfo=ZONE)),
    ],
)
def test_text_deadlines(cell: str, expected: datetime) -> None:
    row = _convert(HEADER, f"县教育局,整理档案,王芳,{cell}")
    assert isinstance(row, TableRow)
    assert row.due_at == expected


def test_excel_date_cells() -> None:
    data = _xlsx([["单位", "任务", "责任人", "截止时间"],
                  ["县教育局", "甲", "王芳", datetime(2026, 12, 15)],
                  ["县教育局", "乙", "王芳", datetime(2026, 12, 15, 9, 30)],
                  ["县教育局", "丙", "王芳", date(2026, 12, 15)]])
    sheet = read_table(data, "t.xlsx", max_rows=10)
    rows = [convert_row(sheet, r, zone=ZONE, default_due_time=END_OF_DAY) for r in sheet.rows]
    assert [r.due_at.hour if isinstance(r, TableRow) else None for r in rows] == [17, 9, 17]


def test_row_errors_name_row_column_and_problem_all_at_once() -> None:
    result = _convert("编号,单位,任务,责任人,截止时间,佐证材料,优先级",
                      "A-1,县教育局,,王芳、李强,2026-13-40,若干,很急")
    assert isinstance(result, list)
    assert {(e.row, e.column, e.message_id) for e in result} == {
        (2, "任务", "tables.err.required"),
        (2, "责任人", "tables.err.several_owners"),
        (2, "截止时间", "error.bad_date"),
        (2, "佐证材料", "tables.err.bad_evidence"),
        (2, "优先级", "tables.err.bad_priority"),
    }


def test_key_is_explicit_or_derived_from_unit_and_task() -> None:
    explicit = _convert("编号,单位,任务,责任人,截止时间", "12,县教育局,整理档案,王芳,2026-12-01")
    derived = _convert(HEADER, "县教育局, 整理  档案 ,王芳,2026-12-01")
    assert isinstance(explicit, TableRow) and explicit.key == "12"
    assert isinstance(derived, TableRow) and derived.key == task_key("县教育局", "整理 档案")
