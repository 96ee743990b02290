"""Every shape of callback data the bot's buttons carry: one table, one parser, one builder.

Grammar: `<prefix>:<action>[:<field>…]`, ASCII only, at most 64 bytes (Telegram's limit
for `callback_data`). Each (prefix, action) declares its fields: a bounded number written
in ASCII digits, or a word from a fixed set. Anything else — a forged press, an old button
from a previous version — parses to None and is answered without effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

MAX_BYTES = 64  # Telegram's limit for callback_data


@dataclass(frozen=True)
class Number:
    """A whole number in ASCII digits, within [low, high]."""

    low: int
    high: int

    def read(self, text: str) -> int | None:
        # str.isdigit() accepts '²' and other Unicode digits; the grammar is ASCII only.
        if not text or not text.isascii() or not text.isdigit() or len(text) > 10:
            return None
        value = int(text)
        return value if self.low <= value <= self.high else None

    def write(self, value: int | str) -> str:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"expected a number, got {value!r}")
        if not self.low <= value <= self.high:
            raise ValueError(f"{value} outside [{self.low}, {self.high}]")
        return str(value)


@dataclass(frozen=True)
class Word:
    """One of a fixed set of short ASCII words."""

    choices: frozenset[str]

    def read(self, text: str) -> str | None:
        return text if text in self.choices else None

    def write(self, value: int | str) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError(f"{value!r} not one of {sorted(self.choices)}")
        return value


Field = Number | Word

# Database ids are 32-bit on PostgreSQL (INTEGER primary keys).
ID = Number(1, 2**31 - 1)
ID_OR_NONE = Number(0, 2**31 - 1)
PERCENT = Number(0, 100)
MINUTES = Number(1, 7 * 24 * 60)
# Where a page of a list starts; far beyond any list the bot shows.
OFFSET = Number(0, 1_000_000)

TASK = "task"
EVIDENCE = "ev"
REMINDER = "rem"
REPORT = "rep"
IMPORT = "import"
QUIZ = "quiz"
SETTINGS = "set"
PAGE = "page"
INDICATORS = "ind"

PART = Number(0, 2)  # a school's part: 0 primary, 1 junior, 2 what a nine-year school shares
FIELD = Number(0, 99)  # a figure, by its place in the feature's resource list

# prefix → action → fields. The single source of truth for every button's data.
SHAPES: dict[str, dict[str, tuple[Field, ...]]] = {
    # Task cards: open from a list, back from the progress picker, and the owner's moves.
    TASK: {
        "open": (ID,), "back": (ID,), "start": (ID,), "prog": (ID,), "done": (ID,),
        "note": (ID,), "block": (ID,), "setp": (ID, PERCENT),
    },
    # up: upload window · pick/drop: choose a task for a waiting file (inbox row, task) ·
    # retry: download a waiting file again (inbox row, task) · sub: submit for review ·
    # ok/no/skip: review decisions · view: a task's evidence.
    EVIDENCE: {
        "up": (ID,), "pick": (ID, ID), "drop": (ID,), "retry": (ID, ID), "sub": (ID,),
        "ok": (ID,), "no": (ID,), "skip": (ID,), "view": (ID,),
    },
    # A reminder's own buttons: snooze for N minutes, or until tomorrow morning (its done
    # and progress buttons are the task card's); nudge: a leader reminds the owner.
    REMINDER: {"snz": (ID, MINUTES), "morn": (ID,), "nudge": (ID,)},
    # Summary drill-down: back to the summary, a unit, an indicator, the overdue list;
    # bsend sends the previewed bulletin of a campaign.
    REPORT: {
        "sum": (ID_OR_NONE,), "unit": (ID,), "ind": (ID,), "ovd": (ID_OR_NONE,),
        "bsend": (ID,),
    },
    # A breakdown table's preview: confirm or cancel the pending import.
    IMPORT: {"ok": (ID,), "no": (ID,)},
    # Under a quiz poll: skip this question (session, question), stop the session.
    QUIZ: {"skip": (ID, ID), "stop": (ID,)},
    # Indicator data: iok/ino confirm or cancel a school-data import; school opens a
    # school's figures, edit lists its fields and field (school, part, figure) asks for one;
    # chart and plan from the certification view; tasks previews a plan's tasks (plan id)
    # and tok/tno confirm or cancel making them.
    INDICATORS: {
        "iok": (ID,), "ino": (ID,), "school": (ID,), "edit": (ID,),
        "field": (ID, PART, FIELD), "chart": (ID_OR_NONE,), "plan": (ID_OR_NONE,),
        "tasks": (ID,), "tok": (ID,), "tno": (ID,),
    },
    # /settings buttons.
    SETTINGS: {
        "language": (Word(frozenset({"zh", "en"})),),
        "quiet": (Word(frozenset({"default", "off"})),),
    },
    # A page of a long list, read again from the database at the offset (bot.core.paging).
    # tasks: my open tasks · ovd: overdue · veto: one-vote-veto risks · unit / ind: a unit's
    # or an indicator's tasks · pick: tasks to choose for a waiting file (inbox row) ·
    # ev: a task's evidence from the offset on · rku / rkp: quiz standings of units / people
    # (week or all) · ask: more /ask results · undl: undelivered messages · sch: the schools
    # to open with /school.
    PAGE: {
        "tasks": (OFFSET,), "ovd": (OFFSET,), "veto": (OFFSET,),
        "unit": (ID, OFFSET), "ind": (ID, OFFSET), "pick": (ID, OFFSET), "ev": (ID, OFFSET),
        "rku": (Word(frozenset({"week", "all"})), OFFSET),
        "rkp": (Word(frozenset({"week", "all"})), OFFSET),
        "ask": (OFFSET,), "undl": (OFFSET,), "sch": (OFFSET,),
    },
}


class Callback(NamedTuple):
    """Parsed callback data; `args` follow the shape's fields."""

    prefix: str
    action: str
    args: tuple[int | str, ...]

    def number(self, index: int = 0) -> int:
        value = self.args[index]
        if not isinstance(value, int):
            raise TypeError(f"field {index} of {self.prefix}:{self.action} is not a number")
        return value

    def word(self, index: int = 0) -> str:
        value = self.args[index]
        if not isinstance(value, str):
            raise TypeError(f"field {index} of {self.prefix}:{self.action} is not a word")
        return value

    @property
    def id(self) -> int:
        """The first field, which is the subject's id for every id-carrying shape."""
        return self.number(0)


def build(prefix: str, action: str, *args: int | str) -> str:
    """The callback data for a button; a wrong shape is a programming error."""
    fields = SHAPES[prefix][action]
    if len(args) != len(fields):
        raise ValueError(f"{prefix}:{action} takes {len(fields)} field(s), got {len(args)}")
    data = ":".join([prefix, action, *(f.write(a) for f, a in zip(fields, args, strict=True))])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def parse(data: str | None, prefix: str | None = None) -> Callback | None:
    """Callback data → Callback, or None for anything malformed (or of another prefix)."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or (prefix is not None and parts[0] != prefix):
        return None
    fields = SHAPES.get(parts[0], {}).get(parts[1])
    if fields is None or len(parts) - 2 != len(fields):
        return None
    values: list[int | str] = []
    for field, text in zip(fields, parts[2:], strict=True):
        value = field.read(text)
        if value is None:
            return None
        values.append(value)
    return Callback(parts[0], parts[1], tuple(values))


def pattern(prefix: str, *actions: str) -> str:
    """The regex a CallbackQueryHandler uses to claim a prefix (or some of its actions)."""
    unknown = set(actions) - set(SHAPES[prefix])
    if unknown:
        raise ValueError(f"unknown actions for {prefix}: {sorted(unknown)}")
    if not actions:
        return rf"^{prefix}:"
    return rf"^{prefix}:({'|'.join(actions)}):"


def task(action: str, task_id: int, value: int | None = None) -> str:
    return build(TASK, action, task_id) if value is None else build(TASK, action, task_id, value)


def evidence(action: str, *ids: int) -> str:
    return build(EVIDENCE, action, *ids)


def page(action: str, *fields: int | str) -> str:
    """A page button's data: `page:<list>[:<subject>]:<offset>`."""
    return build(PAGE, action, *fields)
