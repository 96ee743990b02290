"""Hand-written XLSX files: what a spreadsheet program would never produce, but a hostile or
broken one can (a lying <dimension>, a ZIP bomb), and the odd corners real files have."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _cell(ref: str, value: object) -> str:
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_xml(rows: Sequence[tuple[int, Sequence[tuple[str, object]]]], *,
              dimension: str = "A1:F3", padding: str = "") -> str:
    body = "".join(
        f'<row r="{number}">' + "".join(_cell(ref, value) for ref, value in cells) + "</row>"
        for number, cells in rows
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS}" xmlns:r="{_R}">'
            f'<dimension ref="{dimension}"/><sheetData>{body}{padding}</sheetData></worksheet>')


def xlsx(sheet: str, *, shared: str | None = None, styles: str | None = None,
         date1904: bool = False) -> bytes:
    """A minimal workbook around one sheet's XML (optionally shared strings and styles)."""
    relations = [f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared is not None:
        relations.append(f'<Relationship Id="rId2" Type="{_R}/sharedStrings" '
                         'Target="sharedStrings.xml"/>')
    if styles is not None:
        relations.append(f'<Relationship Id="rId3" Type="{_R}/styles" Target="styles.xml"/>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{_R}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_NS}" xmlns:r="{_R}">'
            f'<workbookPr{" date1904=" + chr(34) + "1" + chr(34) if date1904 else ""}/>'
            '<sheets><sheet name="表" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships">{"".join(relations)}'
            '</Relationships>'))
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
        if styles is not None:
            z.writestr("xl/styles.xml", styles)
    return buffer.getvalue()


HEADER: list[tuple[str, object]] = [("A1", "单位"), ("B1", "任务"), ("C1", "责任人"),
                                   ("D1", "截止时间")]


def dimension_bomb(*, far_value: bool) -> bytes:
    """A table of one task whose <dimension> claims the whole sheet (A1:XFD1048576); with
    `far_value`, a value also sits in the last column of the last row."""
    rows: list[tuple[int, list[tuple[str, object]]]] = [
        (1, HEADER),
        (2, [("A2", "县教育局"), ("B2", "核对学籍"), ("C2", "王芳"), ("D2", "2026-12-01")]),
    ]
    if far_value:
        rows.append((1048576, [("XFD1048576", "x")]))
    return xlsx(sheet_xml(rows, dimension="A1:XFD1048576"))
