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
from bot.core.xmltext import xml_safe
from bot.tables.parse import Column, RawRow, Sheet
from bot.tasks.admin import TITLE_MAX, task_key

KEY_MAX = 200
UNIT_MAX = 200
PERSON_MAX = 100
INDICATOR_CODE_MAX = 32
INDICATOR_NAME_MAX = 200
EVIDENCE_MAX = 100
EVIDENCE_ITEM_MAX = 100
EVIDENCE_ITEMS_MAX = 30
PARTNERS_MAX = 20
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
# Several units or evidence names in one cell. Not "和": it is inside unit names
# (县人力资源和社会保障局).
_LIST_SEP = re.compile(r"[、,，;；/／\n]+")
# "会同县财政局、县人社局", "配合：县残联": the leading word is how offices write it.
_PARTNER_LEAD = re.compile(r"^(?:会同|配合|协同|协助)[:：]?\s*")
# "1." "（2）" "③" before an evidence name: numbering, not part of the name.
_ITEM_NUMBER = re.compile(r"^(?:[0-9]+[.、)）]|[（(][0-9]+[）)]|[①-⑳])\s*")


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
    leader: str
    partners: tuple[str, ...]
    due_at: datetime
    indicator: str
    indicator_name: str
    indicator_veto: bool
    phase: str
    evidence_required: int
    evidence_items: tuple[str, ...]
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
    return " ".join(xml_safe(str(value)).split())


def _lines_of(value: object) -> list[str]:
    """A cell's parts separated by 、 , ; / or line breaks (each part on one line)."""
    raw = "" if value is None else xml_safe(str(value))
    return [" ".join(part.split()) for part in _LIST_SEP.split(raw) if part.strip()]


def parse_partners(value: object) -> tuple[str, ...]:
    """`会同县财政局、县人社局` → (县财政局, 县人社局): the units that help, in order, once each."""
    raw = "" if value is None else xml_safe(str(value)).strip()
    names: list[str] = []
    for part in _lines_of(_PARTNER_LEAD.sub("", raw)):
        name = _limited(_PARTNER_LEAD.sub("", part), UNIT_MAX)
        if name and name not in names:
            names.append(name)
    if len(names) > PARTNERS_MAX:
        raise CellError("tables.err.too_many", limit=PARTNERS_MAX)
    return tuple(names)


def parse_evidence_items(value: object) -> tuple[str, ...]:
    """`1.会议纪要；2.签到表` → (会议纪要, 签到表): the evidence asked for, by name."""
    names: list[str] = []
    for part in _lines_of(value):
        name = _limited(_ITEM_NUMBER.sub("", part).strip(), EVIDENCE_ITEM_MAX)
        if name and name not in names:
            names.append(name)
    if len(names) > EVIDENCE_ITEMS_MAX:
        raise CellError("tables.err.too_many", limit=EVIDENCE_ITEMS_MAX)
    return tuple(names)


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
    leader = cell(Column.LEADER, lambda v: _one_person(text_of(v)))
    partners = cell(Column.PARTNERS, parse_partners, default=())
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
    evidence_items = cell(Column.EVIDENCE_LIST, parse_evidence_items, default=())
    priority = cell(Column.PRIORITY, parse_priority, default=2)
    description_value = cells.get(Column.DESCRIPTION)
    description = "" if description_value is None else xml_safe(str(description_value)).strip()
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
        leader=leader,
        partners=tuple(p for p in partners if p != unit),
        due_at=due_at,
        indicator=indicator,
        indicator_name=indicator_name,
        indicator_veto=veto,
        phase=phase,
        # Each named piece is at least one; a larger count asks for more of them.
        evidence_required=max(evidence, len(evidence_items)),
        evidence_items=evidence_items,
        description=description,
        priority=priority,
    )


def _one_person(name: str) -> str:
    if _SEVERAL.search(name):
        raise CellError("tables.err.several_owners", value=name)
    return _limited(name, PERSON_MAX)
