"""What the sandbox tells its observers: live events and counters."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

JSON = dict[str, Any]


@dataclass
class Stats:
    """Counters benchmarks read through ``GET /sandbox/stats``."""

    requests: Counter[str] = field(default_factory=Counter)
    delivered_per_chat: Counter[int] = field(default_factory=Counter)
    rate_limited_per_chat: Counter[int] = field(default_factory=Counter)
    errors: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    updates_created: int = 0
    updates_via_polling: int = 0
    updates_via_webhook: int = 0
    webhook_failures: int = 0

    def reset(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Counter):
                value.clear()
            else:
                setattr(self, item.name, 0)

    def as_json(self) -> JSON:
        return {
            "requests": dict(self.requests),
            "messages_delivered": sum(self.delivered_per_chat.values()),
            "delivered_per_chat": {str(k): v for k, v in self.delivered_per_chat.items()},
            "rate_limited": sum(self.rate_limited_per_chat.values()),
            "rate_limited_per_chat": {str(k): v for k, v in self.rate_limited_per_chat.items()},
            "errors_by_code": {str(k): v for k, v in self.errors.items()},
            "faults": dict(self.faults),
            "updates_created": self.updates_created,
            "updates_via_polling": self.updates_via_polling,
            "updates_via_webhook": self.updates_via_webhook,
            "webhook_failures": self.webhook_failures,
        }


class EventHub:
    """Fans events out to websocket subscribers and wakes long-polling waiters.

    ``version`` only grows, so a waiter that remembers the version it last saw
    never misses a change that happened between two requests.
    """

    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Event()
        self._subscribers: set[asyncio.Queue[JSON]] = set()

    def publish(self, kind: str, payload: JSON) -> None:
        self.version += 1
        event = {"event": kind, "version": self.version, **payload}
        for queue in self._subscribers:
            queue.put_nowait(event)
        # waiters hold the old event; a fresh one is armed for the next change
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_after(self, version: int, seconds: float) -> int:
        """Wait until something happens after ``version`` or the timeout passes."""
        if self.version <= version:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), seconds)
        return self.version

    def subscribe(self) -> asyncio.Queue[JSON]:
        queue: asyncio.Queue[JSON] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JSON]) -> None:
        self._subscribers.discard(queue)
