"""Flood control as Telegram applies it to bots.

Telegram documents roughly 30 messages per second overall, one message per second
per private chat (short bursts are tolerated) and 20 messages per minute per group.
A refused send does not consume quota, so a bot that honours ``retry_after``
gets through on its next attempt.

An album counts one message per item. In a private chat an album larger than the
burst goes out once the chat's bucket is full and leaves the chat in debt (the next
message waits until the items are paid for): otherwise such an album could never be
sent, and the ``retry_after`` it was given would be a promise the server breaks.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import too_many_requests


@dataclass
class RateLimitConfig:
    enabled: bool = True
    global_per_second: int = 30
    private_per_second: float = 1.0
    private_burst: int = 1
    group_per_minute: int = 20


@dataclass
class _Bucket:
    tokens: float
    updated: float


class _Window:
    """At most ``limit`` events in any ``span`` seconds."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.times: deque[float] = deque()

    def wait_needed(self, now: float, count: int) -> float:
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        if len(self.times) + count <= self.limit:
            return 0.0
        if count > self.limit:
            return self.span
        # the oldest entries have to age out before ``count`` more fit
        blocking = self.times[len(self.times) + count - self.limit - 1]
        return blocking + self.span - now

    def record(self, now: float, count: int) -> None:
        self.times.extend([now] * count)


class RateLimiter:
    def __init__(
        self, config: RateLimitConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.reconfigure(config)

    def reconfigure(self, config: RateLimitConfig) -> None:
        """Apply new limits; quota already used is forgotten."""
        self.config = config
        self._global = _Window(config.global_per_second, 1.0)
        self._groups: dict[int, _Window] = {}
        self._private: dict[int, _Bucket] = {}

    def acquire(self, chat_id: int, *, is_private: bool, count: int = 1) -> None:
        """Take quota for ``count`` messages or raise Telegram's 429 with retry_after."""
        if not self.config.enabled:
            return
        now = self.clock()
        waits = [self._global.wait_needed(now, count)]
        bucket: _Bucket | None = None
        group: _Window | None = None
        if is_private:
            bucket = self._refilled(chat_id, now)
            needed = min(count, max(1, self.config.private_burst))
            if bucket.tokens < needed:
                waits.append((needed - bucket.tokens) / self.config.private_per_second)
        else:
            group = self._groups.setdefault(chat_id, _Window(self.config.group_per_minute, 60.0))
            waits.append(group.wait_needed(now, count))
        wait = max(waits)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        self._global.record(now, count)
        if bucket is not None:
            bucket.tokens -= count
        if group is not None:
            group.record(now, count)

    def _refilled(self, chat_id: int, now: float) -> _Bucket:
        burst = max(1, self.config.private_burst)
        bucket = self._private.setdefault(chat_id, _Bucket(float(burst), now))
        elapsed = now - bucket.updated
        bucket.tokens = min(float(burst), bucket.tokens + elapsed * self.config.private_per_second)
        bucket.updated = now
        return bucket
