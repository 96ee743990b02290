"""Turning one raw row of a breakdown table into checked values, or row-level errors.

Pure: what a cell may contain is decided here; what it refers to (units, people, phases
already in the database) is decided by `table_import`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.errors import DomainError
from bot.core.parsing import as_deadline, ascii_int, fold
from bot.tables.parse import Column, RawRow, Sheet
from bot.tasks.admin import TITLE_MAX, task_key

KEY_MAX = 200
UNIT_MAX = 200
PERSON_MAX = 100
INDICATOR_CODE_MAX = 32
INDICATOR_NAME_MAX = 200
EVIDENCE_MAX = 100
# Priority is stored as a number: 1 high, 2 normal (the default), 3 low.
PRIORITY_WORDS: dict[str, int] = {
    "高": 1, "中": 2, "低": 3, "high": 1, "normal": 2, "medium": 2, "low": 3,
    "1": 1, "2": 2, "3": 3,
}
PRIORITY_LABELS = {1: "高", 2: "中", 3: "低"}
_YES = {"是", "有", "需要", "y", "yes", "true", "√", "✓"}
_NO = {"否", "无", "不需要", "n", "no", "false", "×", "-", "—"}
# Two owners in one cell: the table must name one accountable person per row.
_SEVERAL = re.compile(r"[、,，/;；]|\s和\s")


@dataclass(frozen=True)
class RowError:
    """What is wrong, where: rendered later through the catalogs in the reader's language."""

    row: int
    column: str
    message_id: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TableRow:
    number: int
    key: str
    unit: str
    parent_unit: str
    title: str
    owner: str
    due_at: datetime
    indicator: str
    indicator_name: str
    indicator_veto: bool
    phase: str
    evidence_required: int
    description: str
    priority: int


class CellError(DomainError):
    """A cell's value cannot be used; raised by the converters below."""


def text_of(value: object) -> str:
    """A cell as one line of text; Excel's `12.0` for a typed-in 12 reads back as `12`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return " ".join(str(value).split())


def parse_evidence(value: object) -> int:
    """How many pieces of evidence a task needs: a count, or 是/否 for one or none."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and float(value).is_integer():
        count = int(value)
    else:
        word = text_of(value).lower().removesuffix("份").removesuffix("张").strip()
        if word == "":
            return 0
        if word in _YES:
            return 1
        if word in _NO:
            return 0
        digits = fold(word)
        if not (digits.isascii() and digits.isdigit()):
            raise CellError("tables.err.bad_evidence", value=text_of(value))
        number = ascii_int(digits, 0, EVIDENCE_MAX)
        if number is None:
            raise CellError("tables.err.evidence_range", limit=EVIDENCE_MAX)
        count = number
    if not 0 <= count <= EVIDENCE_MAX:
        raise CellError("tables.err.evidence_range", limit=EVIDENCE_MAX)
    return count


def parse_veto(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = text_of(value).lower()
    if word in _YES:
        return True
    if word in _NO or word == "" or word == "0":
        return False
    if word == "1":
        return True
    raise CellError("tables.err.bad_yes_no", value=text_of(value))


def parse_priority(value: object) -> int:
    word = text_of(value).lower().removesuffix("优先级").strip()
    if word == "":
        return 2
    if word in PRIORITY_WORDS:
        return PRIORITY_WORDS[word]
    raise CellError("tables.err.bad_priority", value=text_of(value))


def _limited(text: str, limit: int) -> str:
    if len(text) > limit:
        raise CellError("tables.err.too_long", limit=limit)
    return text


def convert_row(
    sheet: Sheet, raw: RawRow, *, zone: ZoneInfo, default_due_time: time
) -> TableRow | list[RowError]:
    """The row's values, or every problem found in it (not just the first)."""
    errors: list[RowError] = []
    cells = raw.cells

    def cell(column: Column, convert: Any, *, required: bool = False, default: Any = "") -> Any:
        value = cells.get(column)
        if text_of(value) == "":
            if required:
                errors.append(RowError(raw.number, sheet.label(column), "tables.err.required"))
            return default
        try:
            return convert(value)
        except DomainError as exc:
            errors.append(RowError(raw.number, sheet.label(column), exc.message_id, exc.params))
            return default

    unit = cell(Column.UNIT, lambda v: _limited(text_of(v), UNIT_MAX), required=True)
    parent = cell(Column.PARENT_UNIT, lambda v: _limited(text_of(v), UNIT_MAX))
    title = cell(Column.TASK, lambda v: _limited(text_of(v), TITLE_MAX), required=True)
    owner = cell(Column.OWNER, lambda v: _one_person(text_of(v)), required=True)
    due_at = cell(
        Column.DEADLINE, lambda v: as_deadline(v, zone, default_due_time), required=True,
        default=None,
    )
    explicit_key = cell(Column.KEY, lambda v: _limited(text_of(v), KEY_MAX))
    indicator = cell(Column.INDICATOR, lambda v: _limited(text_of(v), INDICATOR_CODE_MAX))
    indicator_name = cell(
        Column.INDICATOR_NAME, lambda v: _limited(text_of(v), INDICATOR_NAME_MAX)
    )
    veto = cell(Column.VETO, parse_veto, default=False)
    phase = cell(Column.PHASE, text_of)
    evidence = cell(Column.EVIDENCE, parse_evidence, default=0)
    priority = cell(Column.PRIORITY, parse_priority, default=2)
    description_value = cells.get(Column.DESCRIPTION)
    description = "" if description_value is None else str(description_value).strip()
    if parent and parent == unit:
        errors.append(RowError(raw.number, sheet.label(Column.PARENT_UNIT),
                               "tables.err.parent_is_self"))
    if errors:
        return errors
    return TableRow(
        number=raw.number,
        key=explicit_key or task_key(unit, title),
        unit=unit,
        parent_unit=parent,
        title=title,
        owner=owner,
        due_at=due_at,
        indicator=indicator,
        indicator_name=indicator_name,
        indicator_veto=veto,
        phase=phase,
        evidence_required=evidence,
        description=description,
        priority=priority,
    )


def _one_person(name: str) -> str:
    if _SEVERAL.search(name):
        raise CellError("tables.err.several_owners", value=name)
    return _limited(name, PERSON_MAX)
