"""Telegram's flood limits, kept on our side so the bot rarely meets a 429.

Overall about 30 messages a second, one a second per private chat, 20 a minute per group.
The overall and group limits are sliding windows ("at most N in any span"), as Telegram
counts them; a private chat is a minimum spacing. A 429's `retry_after` pauses the chat.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class _Window:
    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.span - now

    def record(self, now: float) -> None:
        self.times.append(now)


def is_private(chat_id: int) -> bool:
    """Telegram gives users positive ids and groups and channels negative ones."""
    return chat_id > 0


class Throttle:
    """Waits until one more message to `chat_id` fits every limit, then counts it."""

    # Sends leave here and arrive at Telegram a little apart; a small margin keeps
    # arrival jitter from pushing a window over the limit (a 429 costs a whole second).
    SPAN_MARGIN = 1.04
    PRIVATE_MARGIN = 1.1

    def __init__(
        self,
        *,
        per_second: float = 30,
        private_per_second: float = 1.0,
        group_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # A fractional rate becomes a whole count over a longer window (2.5/s = 5 per 2 s).
        count, span = _as_window(per_second)
        self._global = _Window(count, span * self.SPAN_MARGIN)
        self._private_gap = self.PRIVATE_MARGIN / private_per_second
        self._group_per_minute = group_per_minute
        self._clock = clock
        self._next_private: dict[int, float] = {}
        self._groups: dict[int, _Window] = {}
        self._paused: dict[int, float] = {}
        self._paused_all = 0.0
        self._lock = asyncio.Lock()

    def _chat_wait(self, chat_id: int, now: float) -> float:
        waits = [self._paused.get(chat_id, 0.0) - now, self._paused_all - now]
        if is_private(chat_id):
            waits.append(self._next_private.get(chat_id, 0.0) - now)
        else:
            window = self._groups.setdefault(chat_id, _Window(self._group_per_minute, 60.0))
            waits.append(window.wait(now))
        return max(0.0, *waits)

    def wait_time(self, chat_id: int) -> float:
        now = self._clock()
        return max(self._chat_wait(chat_id, now), self._global.wait(now))

    async def acquire(self, chat_id: int) -> None:
        while True:
            # The lock makes check-and-record atomic across the chat workers; a worker
            # never sleeps while holding it.
            async with self._lock:
                now = self._clock()
                wait = max(self._chat_wait(chat_id, now), self._global.wait(now))
                if wait <= 0:
                    self._global.record(now)
                    if is_private(chat_id):
                        self._next_private[chat_id] = now + self._private_gap
                    else:
                        self._groups[chat_id].record(now)
                    return
            await asyncio.sleep(wait)

    def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429 for this chat: nothing more to it for `seconds`."""
        until = self._clock() + seconds
        self._paused[chat_id] = max(self._paused.get(chat_id, 0.0), until)

    def pause_all(self, seconds: float) -> None:
        self._paused_all = max(self._paused_all, self._clock() + seconds)

    def forget(self, chat_id: int) -> None:
        """Drop a chat's state once nothing is queued for it (keeps memory bounded)."""
        now = self._clock()
        if self._next_private.get(chat_id, 0.0) <= now:
            self._next_private.pop(chat_id, None)
        if self._paused.get(chat_id, 0.0) <= now:
            self._paused.pop(chat_id, None)
        window = self._groups.get(chat_id)
        if window is not None and window.wait(now) == 0 and not window.times:
            self._groups.pop(chat_id, None)


def _as_window(per_second: float) -> tuple[int, float]:
    if per_second >= 1 and float(per_second).is_integer():
        return int(per_second), 1.0
    for span in (2.0, 4.0, 5.0, 10.0):
        if float(per_second * span).is_integer():
            return max(1, int(per_second * span)), span
    return max(1, round(per_second * 10)), 10.0
