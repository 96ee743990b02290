"""Reading a task breakdown table (任务分解表) from XLSX or CSV into raw rows.

Nothing here knows the database: the result is the header the file uses and, per data row,
the raw cell values keyed by column. Converting and checking the values is `table_rows`.
"""

from __future__ import annotations

import asyncio
import csv
import enum
import io
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any
from xml.etree.ElementTree import ParseError

from bot.core.errors import InvalidInput
from bot.core.xmltext import xml_safe
from bot.tables.xlsx import MB, ReadLimits, xlsx_rows


class Column(enum.StrEnum):
    KEY = "key"
    UNIT = "unit"
    PARTNERS = "partners"
    PARENT_UNIT = "parent_unit"
    TASK = "task"
    INDICATOR = "indicator"
    INDICATOR_NAME = "indicator_name"
    VETO = "veto"
    OWNER = "owner"
    LEADER = "leader"
    DEADLINE = "deadline"
    PHASE = "phase"
    EVIDENCE = "evidence"
    EVIDENCE_LIST = "evidence_list"
    DESCRIPTION = "description"
    PRIORITY = "priority"
    # Written by the export for the reader; the importer reads but never applies them, since
    # status and progress belong to the owners who report them.
    STATUS = "status"
    PROGRESS = "progress"


# The first alias of each column is the header the export writes.
ALIASES: dict[Column, tuple[str, ...]] = {
    Column.KEY: ("编号", "任务编号", "key", "id"),
    Column.UNIT: ("单位", "责任单位", "牵头单位", "承办单位", "unit"),
    Column.PARTNERS: ("配合单位", "协办单位", "会同单位", "协同单位", "配合部门", "co-units",
                      "partners", "cooperating units"),
    Column.PARENT_UNIT: ("上级单位", "主管单位", "parent unit", "parent"),
    Column.TASK: ("任务", "工作任务", "任务内容", "整改任务", "任务名称", "存在问题", "问题",
                  "task", "title", "problem"),
    Column.INDICATOR: ("指标", "指标编码", "评估指标", "指标编号", "indicator", "indicator code"),
    Column.INDICATOR_NAME: ("指标名称", "indicator name"),
    Column.VETO: ("一票否决", "veto"),
    Column.OWNER: ("责任人", "负责人", "指标负责人", "owner", "responsible"),
    Column.LEADER: ("责任领导", "分管领导", "牵头领导", "包保领导", "leader",
                    "responsible leader"),
    Column.DEADLINE: ("截止时间", "完成时限", "截止日期", "完成时间", "deadline", "due"),
    Column.PHASE: ("阶段", "所属阶段", "phase"),
    Column.EVIDENCE: ("佐证材料", "佐证数量", "佐证材料数量", "evidence"),
    Column.EVIDENCE_LIST: ("佐证材料清单", "佐证材料名称", "所需佐证材料", "材料清单",
                           "evidence list", "evidence items"),
    Column.DESCRIPTION: ("说明", "备注", "工作要求", "具体要求", "整改措施", "description",
                         "notes", "measures"),
    Column.PRIORITY: ("优先级", "priority"),
    Column.STATUS: ("状态", "status"),
    Column.PROGRESS: ("进度", "progress"),
}
REQUIRED: tuple[Column, ...] = (Column.UNIT, Column.TASK, Column.OWNER, Column.DEADLINE)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
# How far down a title block (a merged heading, a date line) may push the header row.
HEADER_SCAN_ROWS = 10
_DELIMITERS = (",", "\t", ";")
_STRIP_MARKS = "*＊:："


def canonical_header(text: str) -> str:
    """`* 责任单位（必填）` → `责任单位`: marks, bracketed notes and spacing are decoration."""
    value = "".join(text.split()).strip(_STRIP_MARKS)
    for opening in ("(", "（"):
        if opening in value:
            value = value.split(opening, 1)[0]
    return value.strip(_STRIP_MARKS).lower()


_BY_HEADER: dict[str, Column] = {
    canonical_header(alias): column for column, names in ALIASES.items() for alias in names
}


def column_for(header: object) -> Column | None:
    if header is None:
        return None
    return _BY_HEADER.get(canonical_header(str(header)))


@dataclass(frozen=True)
class RawRow:
    """One data row: its row number as a spreadsheet program shows it, and its cells."""

    number: int
    cells: dict[Column, Any]


@dataclass(frozen=True)
class Sheet:
    """The columns found (each with the header text the file uses) and the data rows."""

    labels: dict[Column, str]
    rows: list[RawRow]

    def label(self, column: Column) -> str:
        return self.labels.get(column, ALIASES[column][0])

    def has(self, column: Column) -> bool:
        return column in self.labels


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _find_header(rows: Sequence[tuple[int, Sequence[Any]]]) -> int | None:
    """Index of the row that names the most known columns (at least two), else None."""
    best, best_count = None, 1
    for index, (_, values) in enumerate(rows):
        count = len({c for c in (column_for(v) for v in values) if c is not None})
        if count > best_count:
            best, best_count = index, count
    return best


def build_sheet(numbered: Iterable[tuple[int, Sequence[Any]]], *, max_rows: int) -> Sheet:
    """Find the header among the first rows, then collect the data rows under it."""
    iterator = iter(numbered)
    head: list[tuple[int, Sequence[Any]]] = []
    for number, values in iterator:
        if all(_is_blank(v) for v in values):
            continue
        head.append((number, values))
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not head:
        raise InvalidInput("tables.empty_sheet")
    header_index = _find_header(head)
    if header_index is None:
        raise InvalidInput(
            "tables.no_header",
            required="、".join(ALIASES[c][0] for c in REQUIRED),
        )
    positions: dict[Column, int] = {}
    labels: dict[Column, str] = {}
    for position, value in enumerate(head[header_index][1]):
        column = column_for(value)
        if column is None:
            continue
        if column in positions:
            raise InvalidInput(
                "tables.duplicate_column", first=labels[column], second=str(value).strip()
            )
        positions[column] = position
        labels[column] = str(value).strip()
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        raise InvalidInput(
            "tables.missing_columns",
            columns="、".join(f"{ALIASES[c][0]}（{'/'.join(ALIASES[c][1:])}）" for c in missing),
        )
    rows: list[RawRow] = []
    for number, values in [*head[header_index + 1 :], *iterator]:
        cells = {
            column: values[position] if position < len(values) else None
            for column, position in positions.items()
        }
        if all(_is_blank(v) for v in cells.values()):
            continue
        if len(rows) >= max_rows:
            raise InvalidInput("tables.too_many_rows", limit=max_rows)
        rows.append(RawRow(number, cells))
    if not rows:
        raise InvalidInput("tables.no_rows")
    return Sheet(labels, rows)


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, what Excel on a Chinese
    Windows saves as "CSV")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("tables.bad_encoding")


def sniff_delimiter(text: str) -> str:
    """The separator that splits the header line most: comma, tab or semicolon."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(_DELIMITERS, key=first.count)


def _csv_rows(data: bytes, limits: ReadLimits) -> Iterator[tuple[int, Sequence[Any]]]:
    if len(data) > limits.bytes:
        raise InvalidInput("tables.limit_bytes", limit=f"{limits.bytes / MB:.0f} MB")
    deadline = time.monotonic() + limits.seconds
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    for number, values in enumerate(reader, start=1):
        if number % 500 == 0 and time.monotonic() > deadline:
            raise InvalidInput("tables.limit_seconds", seconds=f"{limits.seconds:g}")
        last = max((i for i, v in enumerate(values) if v.strip()), default=-1)
        if last >= limits.columns:
            raise InvalidInput("tables.limit_columns", limit=limits.columns)
        yield number, [xml_safe(v) for v in values[: last + 1]]


def file_kind(file_name: str) -> str:
    suffix = PurePath(file_name).suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise InvalidInput("tables.unsupported_type", name=file_name)


def read_table(
    data: bytes, file_name: str, *, max_rows: int, limits: ReadLimits | None = None
) -> Sheet:
    """The table in `data`, judged by the file name's extension, within `limits`.

    Blocking and CPU-bound: on the event loop, call `read_table_off_loop`."""
    limits = replace(limits or ReadLimits(), rows=max_rows)
    kind = file_kind(file_name)
    if kind == "xlsx":
        try:
            return build_sheet(xlsx_rows(data, limits), max_rows=max_rows)
        except (zipfile.BadZipFile, KeyError, IndexError, OSError, ValueError,
                ParseError) as exc:
            raise InvalidInput("tables.unreadable", name=file_name) from exc
    try:
        return build_sheet(_csv_rows(data, limits), max_rows=max_rows)
    except csv.Error as exc:
        raise InvalidInput("tables.unreadable", name=file_name) from exc


async def read_table_off_loop(
    data: bytes, file_name: str, *, max_rows: int, limits: ReadLimits | None = None
) -> Sheet:
    """`read_table` in a worker thread: a large or hostile file never holds up the other
    people the bot is answering (issue 11, row 4); the limits bound how long it may take."""
    return await asyncio.to_thread(read_table, data, file_name, max_rows=max_rows,
                                   limits=limits)
