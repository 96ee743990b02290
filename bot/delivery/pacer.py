"""The pacer: which chat the dispatcher sends to next, and when, under the flood limits.

Claimed messages wait here in one short queue per chat, in sending order. The pump
starts a send (a chat's turn) whenever the throttle allows one; the dispatcher runs the
turn, settles its message and kicks the pump again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from bot.delivery.limits import Throttle
from db.models import OutboxMessage

log = logging.getLogger(__name__)

# A chat's queue in memory stays short, so one slow chat cannot hold every slot.
PER_CHAT_QUEUE = 3

Turn = Callable[[int], Coroutine[Any, Any, None]]


class Pacer:
    """Claimed messages per chat, and the pump that starts each chat's next turn."""

    def __init__(
        self, *, throttle: Throttle, timings: defaultdict[str, float], turn: Turn,
        max_sending: int = 10,
    ) -> None:
        self.throttle = throttle
        # Turns under way at once, each from its request until its row is settled: what a
        # kill -9 can leave sent at Telegram but not recorded here.
        self.max_sending = max_sending
        # The pacer's waits by cause, in the dispatcher's timings.
        self.timings = timings
        self._turn = turn
        # Claimed rows per chat, in sending order; a chat with a turn is being sent to.
        self.queues: dict[int, deque[OutboxMessage]] = {}
        self.turns: dict[int, asyncio.Task[None]] = {}
        self.kick = asyncio.Event()

    def buffered(self) -> int:
        return sum(len(q) for q in self.queues.values())

    def held_ids(self) -> list[int]:
        return [row.id for q in self.queues.values() for row in q]

    def busy_chats(self) -> list[int]:
        """Chats whose queue is full: the next claim skips them."""
        return [chat for chat, q in self.queues.items() if len(q) >= PER_CHAT_QUEUE]

    def add(self, rows: Sequence[OutboxMessage]) -> None:
        held = set(self.held_ids())
        for row in rows:
            if row.id in held:
                # Our own lease ran out while the row waited here (a long flood wait);
                # the claim just renewed it, and it must not be queued twice.
                continue
            self.queues.setdefault(row.chat_id, deque()).append(row)
        if rows:
            self.kick.set()

    def clear(self) -> None:
        self.queues.clear()
        self.turns.clear()

    async def pump(self, stopping: Callable[[], bool]) -> None:
        """Start a send whenever the limits allow one, to the chat whose next message is
        oldest among those that may receive one now. Sends to different chats overlap;
        each chat has at most one turn at a time, so its messages keep their order, and
        oldest-first keeps the chats advancing together instead of leaving a few chats'
        backlog (at one a second each) for the end."""
        while not stopping():
            self.kick.clear()
            try:
                wait, cause = self._start_next()
            except Exception:
                # Nothing may be sent while the pacer is down; never let it die quietly.
                log.exception("outbox pacer failed; going on in a second")
                wait, cause = 1.0, "wait_error"
            if wait <= 0:
                continue
            started = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.kick.wait(), None if math.isinf(wait) else wait)
            self.timings[cause] += time.perf_counter() - started

    def _start_next(self) -> tuple[float, str]:
        """Start one send if the limits allow; else how long to wait, and why."""
        if len(self.turns) >= self.max_sending:
            return math.inf, "wait_sending"  # a turn that ends kicks the pump
        now = self.throttle.clock()
        wait = self.throttle.global_wait(now)
        if wait > 0:
            return wait, "wait_global"
        chat_id, wait = self._next_chat(now)
        if chat_id is not None:
            self.throttle.begin(chat_id)
            self.turns[chat_id] = asyncio.create_task(self._turn(chat_id))
            return 0.0, "sending"
        if wait < math.inf:
            return wait, "wait_chat"
        return wait, "wait_turns" if self.turns else "wait_idle"

    def _next_chat(self, now: float) -> tuple[int | None, float]:
        """The chat to send to now, or None and how long until one may receive."""
        chosen: int | None = None
        oldest: tuple[datetime, int] | None = None
        soonest = math.inf
        for chat_id, queue in self.queues.items():
            if chat_id in self.turns or not queue:
                continue
            wait = self.throttle.chat_wait(chat_id, now)
            if wait > 0:
                soonest = min(soonest, wait)
                continue
            head = (queue[0].not_before, queue[0].id)
            if oldest is None or head < oldest:
                chosen, oldest = chat_id, head
        return chosen, 0.0 if chosen is not None else soonest
