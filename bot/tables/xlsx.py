"""Reading the rows of an XLSX sheet with a streaming XML parser, within limits.

A spreadsheet someone sends the bot is untrusted input. openpyxl trusts the sheet's
`<dimension>`: a 1.6 KB file claiming A1:XFD1048576 made it produce a million rows of
16,384 empty cells, twice per import (preview and confirm), on the event loop. This reader
never looks at `<dimension>`: it yields the rows and cells that are in the file, skips
empty styled cells, and stops with a clear refusal when the file asks for more than the
limits allow — columns with values, bytes unpacked (a ZIP bomb), or seconds spent. Only
what a breakdown table needs is read: the first sheet with content, shared strings, the
styles that say which numbers are dates, and the 1900/1904 date system.
"""

from __future__ import annotations

import io
import posixpath
import re
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any
from xml.etree.ElementTree import Element, iterparse

from bot.core.errors import InvalidInput
from bot.core.xmltext import xml_safe

MB = 1024 * 1024
MAX_SHEET_ROWS = 1_048_576
# Built-in number formats that are dates or times: the international ones, and those of
# Chinese, Japanese and Korean Excel (27–36, 50–58), which a county office's files use.
_DATE_FORMAT_IDS = frozenset(
    [*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)]
)
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")
# A custom format is a date when it has date/time codes outside quotes and brackets.
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_DATE_CODES = re.compile(r"[dmyhs]", re.IGNORECASE)
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)


@dataclass(frozen=True)
class ReadLimits:
    """How much of an untrusted table the bot is willing to read."""

    rows: int = 20000
    columns: int = 200
    bytes: int = 64 * MB  # XML unpacked from the ZIP, all parts together
    seconds: float = 20.0


class _Budget:
    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.unpacked = 0

    def take(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self.limits.bytes:
            raise InvalidInput("tables.limit_bytes", limit=f"{self.limits.bytes / MB:.0f} MB")
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise InvalidInput("tables.limit_seconds", seconds=f"{self.limits.seconds:g}")


class _Counted(io.RawIOBase):
    """A ZIP member read through the budget: every byte unpacked is counted, whatever the
    ZIP's headers claim."""

    def __init__(self, source: IO[bytes], budget: _Budget) -> None:
        self.source = source
        self.budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        self.budget.take(len(data))
        buffer[: len(data)] = data
        return len(data)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element: Element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (transitional or strict)."""
    value = element.get(name)
    if value is not None:
        return value
    for key, found in element.attrib.items():
        if key.endswith("}" + name):
            return found
    return None


def column_index(letters: str) -> int:
    """A → 0, Z → 25, AA → 26."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - 64)
    return index - 1


def is_date_format(code: str) -> bool:
    bare = _QUOTED.sub("", code)
    if "General" in bare or bare.strip() in ("@", ""):
        return False
    return bool(_DATE_CODES.search(bare))


class _Book:
    def __init__(self, archive: zipfile.ZipFile, budget: _Budget) -> None:
        self.archive = archive
        self.budget = budget
        self.names = set(archive.namelist())

    def events(self, name: str) -> Iterator[tuple[str, Element]]:
        if name not in self.names:
            return
        with self.archive.open(name) as member:
            stream = io.BufferedReader(_Counted(member, self.budget), 1 << 16)
            yield from iterparse(stream, events=("start", "end"))

    def relations(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, target part) for `part` (e.g. xl/workbook.xml)."""
        folder, base = posixpath.split(part)
        found: dict[str, tuple[str, str]] = {}
        for event, element in self.events(posixpath.join(folder, "_rels", base + ".rels")):
            if event == "end" and _local(element.tag) == "Relationship":
                target = element.get("Target", "")
                path = (target.lstrip("/") if target.startswith("/")
                        else posixpath.normpath(posixpath.join(folder, target)))
                found[element.get("Id", "")] = (element.get("Type", ""), path)
        return found

    def sheets(self) -> tuple[list[str], bool, str | None, str | None]:
        """Worksheet parts in tab order, the 1904 flag, shared strings and styles parts."""
        relations = self.relations("xl/workbook.xml")
        order: list[str] = []
        date1904 = False
        for event, element in self.events("xl/workbook.xml"):
            if event != "end":
                continue
            tag = _local(element.tag)
            if tag == "workbookPr":
                date1904 = (element.get("date1904") or "").lower() in ("1", "true")
            elif tag == "sheet":
                kind, path = relations.get(_attr(element, "id") or "", ("", ""))
                if kind.endswith("/worksheet"):
                    order.append(path)
        strings = next((p for k, p in relations.values() if k.endswith("/sharedStrings")), None)
        styles = next((p for k, p in relations.values() if k.endswith("/styles")), None)
        return order, date1904, strings, styles

    def shared_strings(self, part: str | None) -> list[str]:
        strings: list[str] = []
        if part is None:
            return strings
        for event, element in self.events(part):
            if event == "end" and _local(element.tag) == "si":
                strings.append(_text_of(element))
                element.clear()
        return strings

    def date_styles(self, part: str | None) -> frozenset[int]:
        """Indices of the cell styles whose number format shows a date or a time."""
        if part is None:
            return frozenset()
        custom: dict[int, str] = {}
        formats: list[int] = []
        in_xfs = False
        for event, element in self.events(part):
            tag = _local(element.tag)
            if tag == "cellXfs":
                in_xfs = event == "start"
            elif event == "end" and tag == "numFmt":
                number = element.get("numFmtId", "")
                if number.isdigit():
                    custom[int(number)] = element.get("formatCode", "")
            elif event == "end" and tag == "xf" and in_xfs:
                number = element.get("numFmtId", "0")
                formats.append(int(number) if number.isdigit() else 0)
        return frozenset(
            index for index, number in enumerate(formats)
            if (number in custom and is_date_format(custom[number]))
            or (number not in custom and number in _DATE_FORMAT_IDS)
        )


def _text_of(element: Element) -> str:
    """A shared or inline string: its `t` runs, without phonetic guides (`rPh`)."""
    parts: list[str] = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return xml_safe("".join(parts))


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


class _SheetReader:
    def __init__(self, book: _Book, strings: Sequence[str], dates: frozenset[int],
                 epoch: datetime, limits: ReadLimits) -> None:
        self.book = book
        self.strings = strings
        self.dates = dates
        self.epoch = epoch
        self.limits = limits

    def value(self, cell: Element) -> Any:
        kind = cell.get("t", "n")
        raw: str | None = None
        inline: Element | None = None
        for child in cell:
            tag = _local(child.tag)
            if tag == "v":
                raw = child.text
            elif tag == "is":
                inline = child
        if kind == "inlineStr":
            return None if inline is None else _text_of(inline)
        if raw is None:
            return None  # an empty cell with only a style
        if kind == "s":
            return self.strings[int(raw)]
        if kind in ("str", "e"):
            return xml_safe(raw)
        if kind == "b":
            return raw.strip() == "1"
        if kind == "d":
            return datetime.fromisoformat(raw)
        number = _number(raw)
        style = cell.get("s")
        if style is not None and style.isdigit() and int(style) in self.dates:
            days, fraction = divmod(float(number), 1)
            # To the millisecond, as Excel shows it: a float day count is never exact.
            return self.epoch + timedelta(days=days, milliseconds=round(fraction * 86_400_000))
        return number

    def rows(self, part: str) -> Iterator[tuple[int, list[Any]]]:
        budget = self.book.budget
        limit = self.limits.columns
        row_number = 0
        cells: dict[int, Any] = {}
        next_column = 0
        data: Element | None = None
        for event, element in self.book.events(part):
            tag = _local(element.tag)
            if event == "start":
                if tag == "sheetData":
                    data = element
                elif tag == "row":
                    number = element.get("r")
                    row_number = int(number) if number and number.isdigit() else row_number + 1
                    if row_number > MAX_SHEET_ROWS:
                        raise ValueError("row number beyond a worksheet")
                    cells, next_column = {}, 0
                continue
            if tag == "c":
                ref = element.get("r")
                match = _CELL_REF.fullmatch(ref) if ref else None
                column = column_index(match.group(1)) if match else next_column
                next_column = column + 1
                value = self.value(element)
                element.clear()
                if value is None or value == "":
                    continue
                if column >= limit:
                    raise InvalidInput("tables.limit_columns", limit=limit)
                cells[column] = value
            elif tag == "row":
                element.clear()
                if data is not None:
                    data.clear()  # what is read is let go: memory stays flat
                budget.check_time()
                if cells:
                    width = max(cells) + 1
                    yield row_number, [cells.get(i) for i in range(width)]


def xlsx_rows(data: bytes, limits: ReadLimits) -> Iterator[tuple[int, Sequence[Any]]]:
    """The rows of the first worksheet that has any value, numbered as Excel shows them.

    Raises InvalidInput when a limit is reached, and the parser's own errors (ValueError,
    KeyError, zipfile.BadZipFile, …) for a damaged file.
    """
    budget = _Budget(limits)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        book = _Book(archive, budget)
        order, date1904, strings_part, styles_part = book.sheets()
        reader = _SheetReader(book, book.shared_strings(strings_part),
                              book.date_styles(styles_part),
                              _EPOCH_1904 if date1904 else _EPOCH_1900, limits)
        for part in order:
            produced = False
            for number, values in reader.rows(part):
                produced = True
                yield number, values
            if produced:
                return
