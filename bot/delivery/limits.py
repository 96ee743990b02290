"""Telegram's flood limits, kept on our side so the bot does not meet a 429.

Overall about 30 messages a second, one a second per private chat, 20 a minute per group.
The overall and group limits are sliding windows ("at most N in any span"), as Telegram
counts them; a private chat is a minimum spacing. A 429's `retry_after` pauses the chat.

Every request is counted from the moment its **answer** arrives, not from when it left:
Telegram counted it somewhere in between, so a send that starts one span after the
previous answer cannot arrive less than one span after the previous request did, however
the request and the answer were delayed on the way. That makes the limits exact without
a safety margin against jitter; the price is one round trip per span per slot. A request
on the wire holds its slot (it counts, but has not started ageing yet).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

# Guards the comparisons against float rounding only, not against timing jitter.
SLACK = 0.001


class _Window:
    """At most `limit` requests in any `span` seconds, each counted from its answer."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.answered: deque[float] = deque()
        self.in_flight = 0

    def wait(self, now: float) -> float:
        """Seconds until one more request fits; inf while only an answer can make room."""
        while self.answered and self.answered[0] + self.span <= now:
            self.answered.popleft()
        excess = len(self.answered) + self.in_flight + 1 - self.limit
        if excess <= 0:
            return 0.0
        if excess > len(self.answered):
            return math.inf
        return self.answered[excess - 1] + self.span - now

    def idle(self) -> bool:
        return not self.answered and not self.in_flight


def is_private(chat_id: int) -> bool:
    """Telegram gives users positive ids and groups and channels negative ones."""
    return chat_id > 0


class Throttle:
    """Tells when one more request to a chat fits every limit, and counts requests.

    The caller asks `wait(chat_id)`, calls `begin(chat_id)` when it sends, and then
    exactly one of `answered(chat_id)` (an answer or an error came back) or
    `cancel(chat_id)` (nothing was sent after all). One request per chat at a time.
    """

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
        self._global = _Window(count, span + SLACK)
        self._private_gap = 1.0 / private_per_second + SLACK
        self._group_per_minute = group_per_minute
        self.clock = clock
        self._next_private: dict[int, float] = {}
        self._groups: dict[int, _Window] = {}
        self._paused: dict[int, float] = {}

    def _group(self, chat_id: int) -> _Window:
        window = self._groups.get(chat_id)
        if window is None:
            window = self._groups[chat_id] = _Window(self._group_per_minute, 60.0 + SLACK)
        return window

    def global_wait(self, now: float) -> float:
        return self._global.wait(now)

    def chat_wait(self, chat_id: int, now: float) -> float:
        """Seconds until this chat's own limits (and any flood pause) allow a request."""
        wait = self._paused.get(chat_id, 0.0) - now
        if is_private(chat_id):
            wait = max(wait, self._next_private.get(chat_id, 0.0) - now)
        else:
            wait = max(wait, self._group(chat_id).wait(now))
        return max(0.0, wait)

    def wait(self, chat_id: int) -> float:
        now = self.clock()
        return max(self.chat_wait(chat_id, now), self.global_wait(now))

    def begin(self, chat_id: int) -> None:
        """A request to `chat_id` leaves now: it holds a slot until it is answered."""
        self._global.in_flight += 1
        if not is_private(chat_id):
            self._group(chat_id).in_flight += 1

    def answered(self, chat_id: int) -> None:
        """The request's answer (or its error) came back now: its span starts ageing.

        A 429 is counted too: when another process shares the token, our own count is
        short, and a refused request should not make room for yet another one.
        """
        now = self.clock()
        self._global.in_flight -= 1
        self._global.answered.append(now)
        if is_private(chat_id):
            self._next_private[chat_id] = now + self._private_gap
        else:
            window = self._group(chat_id)
            window.in_flight -= 1
            window.answered.append(now)

    def cancel(self, chat_id: int) -> None:
        """The request was not sent after all (a guard dropped the message)."""
        self._global.in_flight -= 1
        if not is_private(chat_id):
            self._group(chat_id).in_flight -= 1

    def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429 for this chat (or asked us to back off): wait `seconds`."""
        until = self.clock() + seconds
        self._paused[chat_id] = max(self._paused.get(chat_id, 0.0), until)

    def forget(self, chat_id: int) -> None:
        """Drop a chat's state once nothing is queued for it (keeps memory bounded)."""
        now = self.clock()
        if self._next_private.get(chat_id, 0.0) <= now:
            self._next_private.pop(chat_id, None)
        if self._paused.get(chat_id, 0.0) <= now:
            self._paused.pop(chat_id, None)
        window = self._groups.get(chat_id)
        if window is not None and window.wait(now) == 0 and window.idle():
            self._groups.pop(chat_id, None)


def _as_window(per_second: float) -> tuple[int, float]:
    if per_second >= 1 and float(per_second).is_integer():
        return int(per_second), 1.0
    for span in (2.0, 4.0, 5.0, 10.0):
        if float(per_second * span).is_integer():
            return max(1, int(per_second * span)), span
    return max(1, round(per_second * 10)), 10.0
