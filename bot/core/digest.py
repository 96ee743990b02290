"""The office hears about faults as one digest per period, not one traceback per update.

A fault that hits every update of a flood would otherwise send the admins one message
per update (and those messages compete with the replies for Telegram's limits). Faults
are counted by where they happened; the first digest goes out a short while after the
first fault, gathering what else goes wrong, and then at most one per period. The
tracebacks themselves are in the log.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

# How many distinct faults one digest names; the rest are counted together.
MAX_NAMED = 15
SUMMARY_CHARS = 160


@dataclass
class DigestLine:
    summary: str
    count: int


@dataclass(frozen=True)
class Digest:
    lines: tuple[DigestLine, ...]
    others: int  # faults beyond the named ones

    @property
    def total(self) -> int:
        return sum(line.count for line in self.lines) + self.others


def fault_key(error: BaseException) -> tuple[str, str]:
    """(what, where): the exception type and the innermost frame of our own code."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    where = ""
    if ours:
        frame = ours[-1]
        path = frame.filename.replace("\\", "/")
        short = "/".join(path.split("/")[-2:])
        where = f"{short}:{frame.lineno} ({frame.name})"
    return type(error).__name__, where


class ErrorDigest:
    """Counts faults by kind and place; says when the next digest is due."""

    def __init__(self, *, gather_seconds: float, period_seconds: float,
                 redact: Callable[[str], str] = lambda text: text,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.gather = gather_seconds
        self.period = period_seconds
        self.redact = redact
        self.clock = clock
        self._pending: dict[tuple[str, str], DigestLine] = {}
        self._scheduled = False
        self._last_sent: float | None = None

    def note(self, error: BaseException) -> float | None:
        """Count a fault; the delay until a digest should be sent, when none is due yet."""
        kind, where = fault_key(error)
        line = self._pending.get((kind, where))
        if line is None:
            message = " ".join(str(error).split())
            summary = f"{kind}: {message}" if message else kind
            if len(summary) > SUMMARY_CHARS:
                summary = summary[:SUMMARY_CHARS] + "…"
            if where:
                summary += f" — {where}"
            line = self._pending[(kind, where)] = DigestLine(self.redact(summary), 0)
        line.count += 1
        if self._scheduled:
            return None
        self._scheduled = True
        now = self.clock()
        if self._last_sent is None:
            return self.gather
        return max(self.gather, self._last_sent + self.period - now)

    def drain(self) -> Digest | None:
        """What to send now (None when nothing happened); the period starts again."""
        self._scheduled = False
        if not self._pending:
            return None
        lines = sorted(self._pending.values(), key=lambda line: -line.count)
        self._pending = {}
        self._last_sent = self.clock()
        named = tuple(lines[:MAX_NAMED])
        return Digest(named, sum(line.count for line in lines[MAX_NAMED:]))
