"""The streaming XLSX reader: what is in the file, not what its headers claim; within limits."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from bot.core.errors import InvalidInput
from bot.tables.parse import read_table
from bot.tables.xlsx import MB, ReadLimits, column_index, is_date_format, xlsx_rows
from tests.utils.xlsx_files import HEADER, dimension_bomb, sheet_xml, xlsx


def test_a_lying_dimension_is_ignored() -> None:
    data = dimension_bomb(far_value=False)
    assert len(data) < 2000
    started = time.perf_counter()
    sheet = read_table(data, "bomb.xlsx", max_rows=100)
    assert time.perf_counter() - started < 1.0
    assert [r.number for r in sheet.rows] == [2]


def test_a_value_far_to_the_right_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        read_table(dimension_bomb(far_value=True), "bomb.xlsx", max_rows=100)
    assert refused.value.message_id == "tables.limit_columns"
    assert refused.value.params == {"limit": 200}


def test_empty_styled_cells_far_away_cost_nothing() -> None:
    styled = "".join(f'<row r="{n}"><c r="XFD{n}" s="1"/></row>' for n in range(3, 2000))
    data = xlsx(sheet_xml([(1, HEADER), (2, [("A2", "县教育局"), ("B2", "核对学籍"),
                                             ("C2", "王芳"), ("D2", "2026-12-01")])],
                          padding=styled))
    assert len(read_table(data, "t.xlsx", max_rows=10).rows) == 1


def test_a_zip_bomb_is_refused_by_what_it_unpacks() -> None:
    padding = "<row r='3'/>" * (2 * MB // 12)
    data = xlsx(sheet_xml([(1, HEADER)], padding=padding))
    assert len(data) < 50_000
    with pytest.raises(InvalidInput) as refused:
        list(xlsx_rows(data, ReadLimits(bytes=MB)))
    assert refused.value.message_id == "tables.limit_bytes"


def test_reading_stops_at_the_time_limit() -> None:
    rows = [(n, [(f"A{n}", f"单位{n}"), (f"B{n}", "任务")]) for n in range(1, 3000)]
    with pytest.raises(InvalidInput) as refused:
        list(xlsx_rows(xlsx(sheet_xml(rows)), ReadLimits(seconds=1e-6)))
    assert refused.value.message_id == "tables.limit_seconds"


def test_shared_strings_rich_text_dates_and_the_1904_system() -> None:
    shared = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>单位</t></si><si><r><t>县</t></r><r><t>教育局</t></r>"
        "<rPh><t>けん</t></rPh></si></sst>"
    )
    styles = (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
        '<numFmt numFmtId="165" formatCode="0.00&quot;d&quot;"/></numFmts>'
        '<cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="31"/><xf numFmtId="165"/>'
        "</cellXfs></styleSheet>"
    )
    sheet = sheet_xml([
        (1, []),
        (2, []),
    ]).replace("<sheetData>", "<sheetData>"
               '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
               '<row r="2"><c r="A2" s="1"><v>46357.5</v></c><c r="B2" s="2"><v>46357</v></c>'
               '<c r="C2" s="3"><v>2.5</v></c><c r="D2" t="b"><v>1</v></c>'
               '<c r="E2" t="str"><v>=SUM(A1)</v></c><c r="F2"><v>12</v></c></row>', 1)
    rows = list(xlsx_rows(xlsx(sheet, shared=shared, styles=styles), ReadLimits()))
    assert rows[0] == (1, ["单位", None, "县教育局"])
    assert rows[1] == (2, [datetime(2026, 12, 1, 12, 0), datetime(2026, 12, 1), 2.5, True, "=SUM(A1)",
                           12])
    rows_1904 = list(xlsx_rows(xlsx(sheet, shared=shared, styles=styles, date1904=True),
                               ReadLimits()))
    assert rows_1904[1][1][1] == datetime(2030, 12, 2)


def test_what_excel_writes_reads_as_openpyxl_read_it() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["标题"])
    sheet.append(["单位", "任务", "截止时间"])
    sheet.append(["县教育局", "核对学籍", datetime(2026, 12, 1, 17, 30)])
    buffer = io.BytesIO()
    book.save(buffer)
    assert list(xlsx_rows(buffer.getvalue(), ReadLimits())) == [
        (1, ["标题"]), (2, ["单位", "任务", "截止时间"]),
        (3, ["县教育局", "核对学籍", datetime(2026, 12, 1, 17, 30)]),
    ]


def test_damaged_files_are_unreadable_not_internal_errors() -> None:
    good = dimension_bomb(far_value=False)
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.endswith("sheet1.xml"):
                content = content[:200]
            target.writestr(item, content)
    for data in (b"not a zip", broken.getvalue()):
        with pytest.raises(InvalidInput) as refused:
            read_table(data, "t.xlsx", max_rows=10)
        assert refused.value.message_id == "tables.unreadable"


def test_helpers() -> None:
    assert [column_index(c) for c in ("A", "Z", "AA", "XFD")] == [0, 25, 26, 16383]
    assert is_date_format("yyyy-mm-dd hh:mm") and is_date_format('[$-804]yyyy"年"m"月"')
    assert not is_date_format('0.00"d"') and not is_date_format("General")
