"""The one way the bot writes a spreadsheet: a streaming XLSX writer that keeps typed text
as text.

Every workbook the bot hands out (the ledger, the archive's index, the breakdown-table
export) is written here, so two rules hold everywhere:
- **what a person typed stays text.** A string is always a string cell, never a formula,
  whatever it starts with; one starting with `=`, `+`, `-`, `@`, a tab or a carriage
  return also gets Excel's "quote prefix", so editing the cell later does not turn
  `=HYPERLINK(…)` into a live formula either;
- **no character XML forbids** reaches the file (`bot.core.xmltext`), and a string longer
  than Excel's 32,767-character cell is cut with "…".

The sheet XML is streamed into the ZIP as rows come (memory stays flat at any size) and
only the parts an office needs are written: column widths, a frozen header row with
filters, fills for highlighted rows, number formats, and the print setup (landscape A4,
header row repeated on every page, fit to the page width, page numbers). Measured against
openpyxl's and XlsxWriter's streaming modes in `bench.reports` (docs/reports.md): this
writer is the one that makes a 200,000-row ledger take seconds instead of most of a minute.
Blocking I/O: call it from a worker thread when on the event loop.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

from bot.core.xmltext import ILLEGAL_XML

MAX_CELL = 32767  # Excel's limit for one cell's text
ELLIPSIS = "…"
# Values a spreadsheet program would read as the start of a formula (or a DDE call).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_TIME = "yyyy-mm-dd hh:mm"
DATE = "yyyy-mm-dd"
PERCENT = "0%"
HEADER_FILL = "DDEBF7"
HIGHLIGHT_RED = "FFC7CE"

_EPOCH = datetime(1899, 12, 30)
# One search finds anything that needs more than copying: markup or a forbidden character.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FLUSH_CHARS = 1 << 16
_MAX_ROWS = 1_048_576
_MAX_SHEET_NAME = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_BUILTIN_FORMATS = {"0": 1, "0.00": 2, "0%": 9, "0.00%": 10, "yyyy-mm-dd": 14}
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text_value(value: str) -> str:
    """A string as a cell may hold it: forbidden characters out, cut at Excel's limit."""
    cleaned = ILLEGAL_XML.sub("", value)
    if len(cleaned) > MAX_CELL:
        cleaned = cleaned[: MAX_CELL - 1] + ELLIPSIS
    return cleaned


def _s(style: int) -> str:
    return f' s="{style}"' if style else ""


def _escape(text: str) -> str:
    # A carriage return as a reference: a literal one would be read back as a line feed.
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def excel_serial(value: datetime | date) -> float:
    """A naive date or wall-clock datetime as Excel's serial day number (1900 system)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is not None:
        raise ValueError("a spreadsheet has no time zones: give the local wall-clock time")
    delta = value - _EPOCH
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000


@dataclass(frozen=True)
class Look:
    """How a cell looks; the writer turns each distinct look into one style."""

    bold: bool = False
    fill: str | None = None  # RGB hex, e.g. "FFC7CE"
    number_format: str | None = None
    wrap: bool = False
    quote_prefix: bool = False


@dataclass(frozen=True)
class ColumnSpec:
    header: str
    width: float = 10.0
    number_format: str | None = None  # for numbers and dates in the column
    wrap: bool = False


@dataclass(frozen=True)
class PrintSetup:
    """How a sheet prints: offices print ledgers and keep them in the file."""

    landscape: bool = True
    repeat_header: bool = True
    fit_width: bool = True
    footer: str = ""  # e.g. "第 &P 页，共 &N 页" (Excel's header/footer codes)


class _Styles:
    def __init__(self) -> None:
        self.looks: dict[Look, int] = {Look(): 0}
        self.fills: list[str] = []
        self.formats: dict[str, int] = {}

    def index(self, look: Look) -> int:
        found = self.looks.get(look)
        if found is None:
            found = self.looks[look] = len(self.looks)
            if look.fill and look.fill not in self.fills:
                self.fills.append(look.fill)
            fmt = look.number_format
            if fmt and fmt not in _BUILTIN_FORMATS and fmt not in self.formats:
                self.formats[fmt] = 164 + len(self.formats)
        return found

    def xml(self) -> str:
        formats = "".join(
            f'<numFmt numFmtId="{number}" formatCode={quoteattr(code)}/>'
            for code, number in self.formats.items()
        )
        fills = "".join(
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/>'
            f'<bgColor indexed="64"/></patternFill></fill>'
            for rgb in self.fills
        )
        xfs = []
        for look in self.looks:
            fmt = look.number_format
            number = (0 if not fmt else _BUILTIN_FORMATS.get(fmt) or self.formats[fmt])
            fill = 2 + self.fills.index(look.fill) if look.fill else 0
            attrs = (f'numFmtId="{number}" fontId="{int(look.bold)}" fillId="{fill}" '
                     f'borderId="0" xfId="0"')
            if number:
                attrs += ' applyNumberFormat="1"'
            if look.bold:
                attrs += ' applyFont="1"'
            if fill:
                attrs += ' applyFill="1"'
            if look.quote_prefix:
                attrs += ' quotePrefix="1"'
            if look.wrap:
                xfs.append(f'<xf {attrs} applyAlignment="1">'
                           f'<alignment vertical="top" wrapText="1"/></xf>')
            else:
                xfs.append(f"<xf {attrs}/>")
        return (
            f'{_XML_DECL}<styleSheet xmlns="{_NS}">'
            + (f'<numFmts count="{len(self.formats)}">{formats}</numFmts>' if formats else "")
            + '<fonts count="2"><font><sz val="11"/><name val="等线"/><family val="2"/>'
            '<charset val="134"/></font><font><b/><sz val="11"/><name val="等线"/>'
            '<family val="2"/><charset val="134"/></font></fonts>'
            f'<fills count="{2 + len(self.fills)}"><fill><patternFill patternType="none"/></fill>'
            f'<fill><patternFill patternType="gray125"/></fill>{fills}</fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            'borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        )


def sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A name Excel accepts: no `[]:*?/\\`, at most 31 characters, unique in the book."""
    base = _SHEET_NAME_FORBIDDEN.sub("_", text_value(name)).strip("'") or "Sheet"
    base = base[:_MAX_SHEET_NAME]
    used = {n.lower() for n in taken}
    candidate, number = base, 1
    while candidate.lower() in used:
        number += 1
        suffix = f" ({number})"
        candidate = base[: _MAX_SHEET_NAME - len(suffix)] + suffix
    return candidate


class Sheet:
    """One worksheet being streamed: `append` rows, then the book finishes it."""

    def __init__(self, book: Workbook, index: int, name: str, columns: Sequence[ColumnSpec],
                 *, freeze_header: bool, autofilter: bool, setup: PrintSetup | None) -> None:
        self.book = book
        self.index = index
        self.name = name
        self.columns = tuple(columns)
        self.rows = 0
        self._freeze = freeze_header
        self._autofilter = autofilter and bool(columns)
        self.setup = setup
        self._letters = [column_letter(i) for i in range(max(len(columns), 1))]
        self._base = [Look(number_format=c.number_format, wrap=c.wrap) for c in columns]
        self._style_cache: dict[tuple[int, Look | None, bool, str | None], int] = {}
        # Columns whose cells need no style of their own (beyond the sheet's default).
        self._plain = frozenset(i for i, look in enumerate(self._base) if look == Look())
        self._buffer: list[str] = []
        self._size = 0
        self._closed = False
        self._stream: IO[bytes] = book.zip.open(
            f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True
        )
        self._write(self._head())
        if columns:
            self.append([c.header for c in columns], look=Look(bold=True, fill=HEADER_FILL))

    def _head(self) -> str:
        parts = [_XML_DECL, f'<worksheet xmlns="{_NS}" xmlns:r="{_NS_R}">']
        if self.setup is not None and self.setup.fit_width:
            parts.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        selected = ' tabSelected="1"' if self.index == 1 else ""
        if self._freeze:
            parts.append(
                f'<sheetViews><sheetView workbookViewId="0"{selected}>'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                "</sheetView></sheetViews>"
            )
        else:
            parts.append(f'<sheetViews><sheetView workbookViewId="0"{selected}/></sheetViews>')
        parts.append('<sheetFormatPr defaultRowHeight="15"/>')
        if self.columns:
            parts.append("<cols>")
            for number, column in enumerate(self.columns, start=1):
                parts.append(f'<col min="{number}" max="{number}" width="{column.width:g}" '
                             'customWidth="1"/>')
            parts.append("</cols>")
        parts.append("<sheetData>")
        return "".join(parts)

    def _style(self, column: int, look: Look | None, quote: bool = False,
               number_format: str | None = None) -> int:
        """The style index of a cell: its column's format, the row's look, a quote prefix."""
        key = (column, look, quote, number_format)
        found = self._style_cache.get(key)
        if found is None:
            base = self._base[column] if column < len(self._base) else Look()
            found = self._style_cache[key] = self.book.styles.index(Look(
                bold=look.bold if look else False, fill=look.fill if look else None,
                number_format=number_format or base.number_format, wrap=base.wrap,
                quote_prefix=quote))
        return found

    def append(self, values: Sequence[Any], *, look: Look | None = None,
               looks: Sequence[Look | None] | None = None) -> None:
        """One row. None is an empty cell; str is always text; bool, int, float, date and
        naive datetime are typed cells. `look` (a fill, bold) applies to the whole row;
        `looks`, one per cell, to each (a few rows of a small sheet: not the fast path)."""
        if looks is not None:
            if self._closed:
                raise RuntimeError("this sheet is finished")
            self.rows += 1
            row = str(self.rows)
            self._write("".join([
                f'<row r="{row}">',
                *(self._cell(column, row, value, cell_look)
                  for column, (value, cell_look) in enumerate(zip(values, looks, strict=False))),
                "</row>",
            ]))
            return
        if self._closed:
            raise RuntimeError("this sheet is finished")
        if self.rows >= _MAX_ROWS:
            raise ValueError("more rows than a worksheet holds")
        self.rows += 1
        number = str(self.rows)
        letters = self._letters
        if len(values) > len(letters):
            letters.extend(column_letter(i) for i in range(len(letters), len(values)))
        plain = self._plain
        cells = [f'<row r="{number}">']
        add = cells.append
        for column, value in enumerate(values):
            ref = letters[column] + number
            kind = type(value)
            if kind is str:
                add(self._string(ref, column, value, look))
            elif value is None:
                if look is not None:
                    add(f'<c r="{ref}"{_s(self._style(column, look))}/>')
            elif kind is int or (kind is float and math.isfinite(value)):
                style = 0 if look is None and column in plain else self._style(column, look)
                add(f'<c r="{ref}"{_s(style)}><v>{value!r}</v></c>')
            elif kind is datetime or kind is date:
                dated = column < len(self._base) and self._base[column].number_format
                style = self._style(column, look,
                                    number_format=None if dated else
                                    DATE_TIME if kind is datetime else DATE)
                add(f'<c r="{ref}"{_s(style)}><v>{excel_serial(value)!r}</v></c>')
            elif kind is bool:
                style = 0 if look is None else self._style(column, look)
                add(f'<c r="{ref}"{_s(style)} t="b"><v>{int(value)}</v></c>')
            else:
                # Anything else (NaN, a Decimal, an enum) as people would read it.
                add(self._string(ref, column, str(value), look))
        add("</row>")
        self._write("".join(cells))

    def _cell(self, column: int, row: str, value: Any, look: Look | None) -> str:
        """One cell with a look of its own (the slow path, for small sheets)."""
        ref = column_letter(column) + row
        if type(value) is str:
            return self._string(ref, column, value, look)
        if value is None:
            return f'<c r="{ref}"{_s(self._style(column, look))}/>' if look is not None else ""
        if type(value) is bool:
            return f'<c r="{ref}"{_s(self._style(column, look))} t="b"><v>{int(value)}</v></c>'
        if type(value) in (int, float) and math.isfinite(value):
            return f'<c r="{ref}"{_s(self._style(column, look))}><v>{value!r}</v></c>'
        if isinstance(value, datetime | date):
            fmt = DATE_TIME if isinstance(value, datetime) else DATE
            return (f'<c r="{ref}"{_s(self._style(column, look, number_format=fmt))}>'
                    f"<v>{excel_serial(value)!r}</v></c>")
        return self._string(ref, column, str(value), look)

    def _string(self, ref: str, column: int, text: str, look: Look | None) -> str:
        quote = text.startswith(FORMULA_START)
        if _SPECIAL.search(text) is not None:
            text = _escape(text_value(text))
        elif len(text) > MAX_CELL:
            text = text_value(text)
        style = (0 if look is None and not quote and column in self._plain
                 else self._style(column, look, quote))
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'<c r="{ref}"{_s(style)} t="inlineStr"><is><t{space}>{text}</t></is></c>'

    def _write(self, text: str) -> None:
        self._buffer.append(text)
        self._size += len(text)
        if self._size >= _FLUSH_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._stream.write("".join(self._buffer).encode("utf-8"))
            self._buffer.clear()
            self._size = 0

    def discard(self) -> None:
        self._closed = True
        self._buffer.clear()
        self._stream.close()

    @property
    def filter_range(self) -> str | None:
        if not self._autofilter:
            return None
        last = column_letter(len(self.columns) - 1)
        return f"$A$1:${last}${max(self.rows, 1)}"

    def finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        tail = ["</sheetData>"]
        if self._autofilter:
            last = column_letter(len(self.columns) - 1)
            tail.append(f'<autoFilter ref="A1:{last}{max(self.rows, 1)}"/>')
        setup = self.setup
        if setup is not None:
            tail.append('<printOptions horizontalCentered="1" gridLines="1"/>')
            tail.append('<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" '
                        'header="0.3" footer="0.3"/>')
            attrs = 'paperSize="9"'  # A4
            if setup.fit_width:
                attrs += ' fitToWidth="1" fitToHeight="0"'
            attrs += ' orientation="landscape"' if setup.landscape else ' orientation="portrait"'
            tail.append(f"<pageSetup {attrs}/>")
            if setup.footer:
                footer = _escape(text_value(setup.footer))
                tail.append(f"<headerFooter><oddFooter>&amp;C{footer}</oddFooter></headerFooter>")
        tail.append("</worksheet>")
        self._write("".join(tail))
        self._flush()
        self._stream.close()


class Workbook:
    """An XLSX file written sheet after sheet; `close()` (or the `with` block) completes it.

    Only one sheet is open at a time: adding the next one finishes the previous.
    """

    def __init__(self, target: Path | IO[bytes], *, compresslevel: int = 1) -> None:
        self.zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True,
                                   compresslevel=compresslevel)
        self.styles = _Styles()
        self.sheets: list[Sheet] = []
        self._closed = False

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is None:
            self.close()
        else:
            self.abort()

    def add_sheet(
        self,
        name: str,
        columns: Sequence[ColumnSpec],
        *,
        freeze_header: bool = True,
        autofilter: bool = True,
        setup: PrintSetup | None = None,
    ) -> Sheet:
        if self.sheets:
            self.sheets[-1].finish()
        sheet = Sheet(self, len(self.sheets) + 1, sheet_name(name, (s.name for s in self.sheets)),
                      columns, freeze_header=freeze_header, autofilter=autofilter, setup=setup)
        self.sheets.append(sheet)
        return sheet

    def abort(self) -> None:
        """Give up: the file is left incomplete (the caller deletes it)."""
        self._closed = True
        try:
            if self.sheets:
                self.sheets[-1].discard()
            self.zip.close()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self.sheets:
            self.add_sheet("Sheet1", ())
        self.sheets[-1].finish()
        count = len(self.sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, count + 1)
        )
        self.zip.writestr("[Content_Types].xml", (
            f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"
        ))
        self.zip.writestr("_rels/.rels", (
            f'{_XML_DECL}<Relationships xmlns="{_NS_PKG}"><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ))
        sheets = "".join(
            f'<sheet name={quoteattr(s.name)} sheetId="{s.index}" r:id="rId{s.index}"/>'
            for s in self.sheets
        )
        names = []
        for s in self.sheets:
            quoted = "'" + s.name.replace("'", "''") + "'"
            if s.filter_range:
                names.append(f'<definedName name="_xlnm._FilterDatabase" '
                             f'localSheetId="{s.index - 1}" hidden="1">'
                             f"{_escape(quoted)}!{s.filter_range}</definedName>")
            if s.setup is not None and s.setup.repeat_header and s.columns:
                names.append(f'<definedName name="_xlnm.Print_Titles" '
                             f'localSheetId="{s.index - 1}">{_escape(quoted)}!$1:$1'
                             "</definedName>")
        defined = f"<definedNames>{''.join(names)}</definedNames>" if names else ""
        self.zip.writestr("xl/workbook.xml", (
            f'{_XML_DECL}<workbook xmlns="{_NS}" xmlns:r="{_NS_R}"><workbookPr/>'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f'<sheets>{sheets}</sheets>{defined}<calcPr calcId="191029"/></workbook>'
        ))
        relations = "".join(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, count + 1)
        )
        self.zip.writestr("xl/_rels/workbook.xml.rels", (
            f'{_XML_DECL}<Relationships xmlns="{_NS_PKG}">{relations}<Relationship '
            f'Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/styles" Target="styles.xml"/></Relationships>'
        ))
        self.zip.writestr("xl/styles.xml", self.styles.xml())
        self.zip.close()
