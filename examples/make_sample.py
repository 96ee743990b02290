"""Build the sample spreadsheets from `breakdown.csv` (the hand-edited source).

    .venv/bin/python examples/make_sample.py

Writes `breakdown.xlsx` the way an office would prepare it: a title line above the header,
real date cells for the deadlines, numbers as numbers. Also writes `broken/empty.xlsx`.
Both outputs are committed, so the demo does not need this script to run.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
TITLE = "青岚县义务教育基本均衡发展迎检任务分解表"
WIDTHS = {"编号": 9, "单位": 20, "任务": 46, "责任人": 10, "截止时间": 17, "说明": 40}
_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y年%m月%d日")


def _cell(header: str, value: str) -> object:
    if header == "截止时间":
        for fmt in _FORMATS:
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
        return value
    if header == "佐证材料" and value.isdigit():
        return int(value)
    return value


def build_breakdown(source: Path, target: Path) -> int:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "任务分解表"
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for values in body:
        sheet.append([_cell(h, v) for h, v in zip(header, values, strict=True)])
    deadline_column = header.index("截止时间") + 1
    for (cell,) in sheet.iter_rows(min_row=3, min_col=deadline_column, max_col=deadline_column):
        if isinstance(cell.value, datetime):
            has_time = (cell.value.hour, cell.value.minute) != (0, 0)
            cell.number_format = "yyyy-mm-dd hh:mm" if has_time else "yyyy-mm-dd"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[sheet.cell(row=2, column=index).column_letter].width = (
            WIDTHS.get(name, 8)
        )
    sheet.freeze_panes = "A3"
    workbook.save(target)
    return len(body)


def build_empty(target: Path) -> None:
    workbook = Workbook()
    workbook.active.title = "Sheet1"
    workbook.save(target)


if __name__ == "__main__":
    count = build_breakdown(HERE / "breakdown.csv", HERE / "breakdown.xlsx")
    build_empty(HERE / "broken" / "empty.xlsx")
    print(f"breakdown.xlsx: {count} tasks; broken/empty.xlsx")
