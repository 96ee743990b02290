"""Callback data grammar: `<prefix>:<action>:<arg>[:<arg>…]`, one parser per prefix.

Telegram allows 64 bytes of callback data; everything here is ASCII and short.
"""

from __future__ import annotations

from dataclasses import dataclass

TASK = "task"
TASK_ACTIONS = ("open", "back", "start", "prog", "done", "note", "block", "setp")


@dataclass(frozen=True)
class TaskCallback:
    action: str
    task_id: int
    value: int | None = None

    def encode(self) -> str:
        parts = [TASK, self.action, str(self.task_id)]
        if self.value is not None:
            parts.append(str(self.value))
        return ":".join(parts)


def task_cb(action: str, task_id: int, value: int | None = None) -> str:
    return TaskCallback(action, task_id, value).encode()


def parse_task(data: str) -> TaskCallback | None:
    """`task:done:42` → TaskCallback('done', 42); anything malformed → None."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != TASK or parts[1] not in TASK_ACTIONS:
        return None
    if not all(p.isdigit() for p in parts[2:]):
        return None
    value = int(parts[3]) if len(parts) == 4 else None
    return TaskCallback(parts[1], int(parts[2]), value)


def pattern(prefix: str) -> str:
    """The regex a CallbackQueryHandler uses to claim one prefix."""
    return rf"^{prefix}:"


EVIDENCE = "ev"
# up: upload window · pick/drop: choose a task for a waiting file · sub: submit for review
# ok/no/skip: review decisions · view: a task's evidence as an album.
EVIDENCE_ACTIONS = ("up", "pick", "drop", "sub", "ok", "no", "skip", "view")


@dataclass(frozen=True)
class EvidenceCallback:
    action: str
    args: tuple[int, ...]


def evidence_cb(action: str, *args: int) -> str:
    return ":".join([EVIDENCE, action, *(str(a) for a in args)])


def parse_evidence(data: str) -> EvidenceCallback | None:
    """`ev:pick:7:42` → EvidenceCallback('pick', (7, 42)); anything malformed → None."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != EVIDENCE or parts[1] not in EVIDENCE_ACTIONS:
        return None
    if not all(p.isdigit() for p in parts[2:]):
        return None
    return EvidenceCallback(parts[1], tuple(int(p) for p in parts[2:]))
