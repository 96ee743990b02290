"""Albums: Telegram delivers each item of a media group as its own update, with no marker
for the last one. Wait until the group has been quiet for a short window, then act once.

Only the timer lives in memory; the items themselves are already in the inbox table, so
a restart during the window loses nothing (the startup hook finishes such batches).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Action = Callable[[], Awaitable[None]]


class Debouncer:
    """Runs the action for a key once, `delay` seconds after that key was last touched."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._timers: dict[str, tuple[asyncio.TimerHandle, Action]] = {}
        self._running: set[asyncio.Task[None]] = set()

    def touch(self, key: str, action: Action) -> None:
        loop = asyncio.get_running_loop()
        previous = self._timers.pop(key, None)
        if previous is not None:
            previous[0].cancel()
        self._timers[key] = (loop.call_later(self.delay, self._fire, key, action), action)

    def pending(self) -> int:
        return len(self._timers) + len(self._running)

    def _fire(self, key: str, action: Action) -> None:
        self._timers.pop(key, None)
        task = asyncio.get_running_loop().create_task(self._run(key, action))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, key: str, action: Action) -> None:
        try:
            await action()
        except Exception:
            log.exception("album %s could not be processed", key)

    def cancel_all(self) -> None:
        """Forget the timers (shutdown): the files wait in the inbox for the next start."""
        for handle, _ in self._timers.values():
            handle.cancel()
        self._timers.clear()

    async def drain(self) -> None:
        """Fire everything still waiting and wait for it (shutdown, tests)."""
        for key, (handle, action) in list(self._timers.items()):
            handle.cancel()
            self._fire(key, action)
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
