"""The shared XLSX writer, read back with openpyxl: text stays text, formats survive."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.core.spreadsheet import (
    DATE_TIME,
    MAX_CELL,
    PERCENT,
    ColumnSpec,
    Look,
    PrintSetup,
    Workbook,
    column_letter,
    excel_serial,
    sheet_name,
)
from bot.core.xmltext import xml_safe

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _book(path: Path, rows: list[list[object]], **sheet: object) -> None:
    with Workbook(path) as book:
        out = book.add_sheet("台账", [ColumnSpec("a"), ColumnSpec("b", 30, DATE_TIME)],
                             **sheet)  # type: ignore[arg-type]
        for row in rows:
            out.append(row)


def test_typed_text_is_never_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    _book(path, [[text, None] for text in FORMULAS])
    sheet = load_workbook(path).active
    assert sheet is not None
    for row, text in enumerate(FORMULAS, start=2):
        cell = sheet.cell(row, 1)
        assert cell.data_type == "s" and cell.value == text
        assert cell.quotePrefix  # Excel keeps it text even when the cell is edited
    raw = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in raw


def test_forbidden_characters_and_long_text(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    _book(path, [["a\x0bb\x00c\ud800d\ufffe<&>", None], ["x" * (MAX_CELL + 10), None]])
    sheet = load_workbook(path).active
    assert sheet is not None
    assert sheet["A2"].value == "abcd<&>"
    assert len(sheet["A3"].value) == MAX_CELL and sheet["A3"].value.endswith("…")


def test_values_formats_and_print_setup(tmp_path: Path) -> None:
    path = tmp_path / "v.xlsx"
    with Workbook(path) as book:
        sheet = book.add_sheet("整改台账", [ColumnSpec("n", 6), ColumnSpec("when", 17, DATE_TIME),
                                        ColumnSpec("rate", 8, PERCENT)],
                               setup=PrintSetup(footer="第 &P 页"))
        sheet.append([1, datetime(2026, 11, 22, 9, 30), 0.5])
        sheet.append([True, date(2026, 1, 2), None], look=Look(fill="FFC7CE"))
        book.add_sheet("汇总", [ColumnSpec("x")]).append([float("nan")])
    wb = load_workbook(path)
    ws = wb["整改台账"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:C3"
    assert ws.print_title_rows == "$1:$1"
    setup = ws.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == (
        "landscape", 9, 1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["B"].width == 17
    assert ws["A1"].font.b and ws["B2"].value == datetime(2026, 11, 22, 9, 30)
    assert ws["B2"].number_format == DATE_TIME and ws["C2"].number_format == PERCENT
    assert ws["A3"].value is True and ws["C3"].fill.fgColor.rgb == "FFFFC7CE"
    assert wb["汇总"]["A2"].value == "nan"


def test_streams_into_a_buffer_and_refuses_aware_datetimes() -> None:
    buffer = io.BytesIO()
    with pytest.raises(ValueError), Workbook(buffer) as book:
        book.add_sheet("s", [ColumnSpec("a")]).append([datetime.now().astimezone()])


def test_names_and_numbers() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert sheet_name("a/b:c", ["a_b_c"]) == "a_b_c (2)"
    assert len(sheet_name("长" * 40)) == 31
    assert excel_serial(datetime(1900, 3, 1)) == 61
    assert excel_serial(date(2026, 11, 22)) == 46348


@given(st.text())
def test_any_text_reads_back_without_forbidden_characters(text: str) -> None:
    buffer = io.BytesIO()
    with Workbook(buffer) as book:
        book.add_sheet("s", [ColumnSpec("a")]).append([text])
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet is not None
    value = sheet["A2"].value
    expected = xml_safe(text)[:MAX_CELL]
    assert (value or "") == expected  # openpyxl reads an empty string as an empty cell
