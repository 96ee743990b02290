"""Prometheus metrics: counted at the few places everything passes through.

Label values come from fixed sets in the code (command names the bot registered, callback
prefixes and actions of `bot.core.callbacks`, Telegram's message types, outbox kinds) and
never from what someone typed, so the number of series stays bounded. Each process counts
its own; with several processes each one's /metrics is scraped (see docs/operations.md).

The edge reports what became of the update it is handling with `mark_update`; the
application wraps each update in `handling_update`, which times it and counts it once.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final, Literal, ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram

P = ParamSpec("P")
R = TypeVar("R")

Outcome = Literal["ok", "refused", "error", "flood-dropped"]
# When several are reported for one update, the worst is the one counted.
_RANK: Final[dict[Outcome, int]] = {"ok": 0, "refused": 1, "flood-dropped": 2, "error": 3}

UPDATES = Counter(
    "inspectbot_updates", "Updates handled, by kind, name and outcome",
    ["kind", "name", "outcome"])
UPDATE_SECONDS = Histogram(
    "inspectbot_update_seconds", "Time from taking an update to finishing it, by kind",
    ["kind"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
OUTBOX_QUEUED = Counter(
    "inspectbot_outbox_queued", "Messages queued in the outbox (a batch reports only how "
    "many it queued, so this one has no kind)")
OUTBOX_SENT = Counter(
    "inspectbot_outbox_sent", "Outbox messages Telegram accepted, by kind", ["kind"])
OUTBOX_FAILED = Counter(
    "inspectbot_outbox_failed",
    "Outbox messages given up: failed (refused or out of attempts) or dead (blocked, chat gone)",
    ["kind", "state"])
OUTBOX_CANCELLED = Counter(
    "inspectbot_outbox_cancelled", "Outbox messages no longer true when their turn came",
    ["kind"])
OUTBOX_DUE = Gauge(
    "inspectbot_outbox_due",
    "Messages due now and not yet sent, across all processes (read at each scrape)")
OUTBOX_OLDEST_DUE = Gauge(
    "inspectbot_outbox_oldest_due_seconds",
    "How long the oldest due outbox message has waited (read at each scrape)")
HEALTH = Gauge("inspectbot_health_check_ok", "1 when the /healthz check passes", ["check"])
FLOOD_WAITS = Counter(
    "inspectbot_telegram_429", "429 (flood control) answers from Telegram, by path: reply "
    "(someone waiting in the chat), outbox (the dispatcher) or other", ["path"])
REMINDERS_DUE = Counter(
    "inspectbot_reminders_due", "Reminders the sweep found due (before those already queued "
    "are skipped)")
REMINDERS_SENT = Counter("inspectbot_reminders_sent", "Reminders Telegram accepted")
EVIDENCE_BYTES = Counter(
    "inspectbot_evidence_stored_bytes", "Bytes of evidence newly written to the store")
EVIDENCE_FILES = Counter(
    "inspectbot_evidence_stored_files", "Evidence files newly written to the store "
    "(a file already stored, by its SHA-256, is not counted again)")
IMPORT_SECONDS = Histogram(
    "inspectbot_import_seconds", "Reading and checking (preview) or writing (apply) an "
    "office table", ["table", "step"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120))


@dataclass
class _Handling:
    outcome: Outcome = "ok"


_CURRENT: ContextVar[_Handling | None] = ContextVar("metrics_update", default=None)


@contextmanager
def handling_update(kind: str, name: str) -> Iterator[None]:
    """Time one update and count it once, with the worst outcome reported meanwhile."""
    handling = _Handling()
    token = _CURRENT.set(handling)
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        handling.outcome = "error"
        raise
    finally:
        _CURRENT.reset(token)
        UPDATE_SECONDS.labels(kind).observe(time.perf_counter() - started)
        UPDATES.labels(kind, name, handling.outcome).inc()


def mark_update(outcome: Outcome) -> None:
    """What became of the update being handled (outside one, nothing happens)."""
    handling = _CURRENT.get()
    if handling is not None and _RANK[outcome] > _RANK[handling.outcome]:
        handling.outcome = outcome


def outbox_queued(count: int = 1) -> None:
    OUTBOX_QUEUED.inc(count)


def outbox_settled(kind: str, state: str) -> None:
    """A message left the outbox: sent, failed, dead or cancelled."""
    if state == "sent":
        OUTBOX_SENT.labels(kind).inc()
        if kind.startswith("reminder."):
            REMINDERS_SENT.inc()
    elif state == "cancelled":
        OUTBOX_CANCELLED.labels(kind).inc()
    else:
        OUTBOX_FAILED.labels(kind, state).inc()


def flood_wait(path: Literal["reply", "outbox", "other"]) -> None:
    FLOOD_WAITS.labels(path).inc()


def evidence_stored(size: int, *, created: bool) -> None:
    if created:
        EVIDENCE_FILES.inc()
        EVIDENCE_BYTES.inc(size)


def timed_import(table: str, step: str) -> Callable[[Callable[P, Awaitable[R]]],
                                                    Callable[P, Awaitable[R]]]:
    """Decorate a coroutine function: its duration goes to `inspectbot_import_seconds`."""
    def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(function)
        async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                IMPORT_SECONDS.labels(table, step).observe(time.perf_counter() - started)
        return timed
    return decorate
