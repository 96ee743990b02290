"""Long background work that gives way to the people the bot is answering.

A job such as the daily reminder round runs on the event loop that also runs every
handler. It calls `step()` often; once a slice of its work is used up, it lets the loop run
whatever else is ready. When that turns out to be real work (updates being handled), it
pauses long enough to take at most `share` of the loop's time; on an idle loop it goes on
at once, at full speed.
"""

from __future__ import annotations

import asyncio
from time import perf_counter, thread_time


class Pace:
    """Cooperative pacing for one run of a background job."""

    def __init__(
        self,
        *,
        share: float = 0.1,
        slice_seconds: float = 0.004,
        busy_seconds: float = 0.0005,
        max_pause: float = 0.25,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("share is a fraction of the loop's time")
        self.share = share
        self.slice_seconds = slice_seconds
        # Other tasks using this much of the loop's thread in one turn means the loop is
        # busy; an idle loop gives the turn back within tens of microseconds. Times are the
        # thread's CPU time, so a machine busy with other processes is not mistaken for
        # updates waiting.
        self.busy_seconds = busy_seconds
        self.max_pause = max_pause
        self.paused = 0.0
        self.pauses = 0
        self._since = thread_time()
        self._slice_ends = perf_counter() + slice_seconds

    async def step(self) -> None:
        """Call between small pieces of work: yields only when the slice is used up.

        Called once per reminder or cursor, so it reads the cheap wall clock (tens of
        nanoseconds; the thread's CPU clock is a system call, ten times that): on a machine
        busy with other processes the slice then ends a little early, which only means
        giving way a little more often.
        """
        if perf_counter() >= self._slice_ends:
            await self.give_way()

    async def give_way(self) -> None:
        """Let the loop run what is ready, and pause if that was real work."""
        worked = thread_time() - self._since
        before = thread_time()
        await asyncio.sleep(0)
        others = thread_time() - before
        if others >= self.busy_seconds:
            pause = min(self.max_pause, worked * (1 / self.share - 1) - others)
            if pause > 0:
                await asyncio.sleep(pause)
                self.paused += pause
                self.pauses += 1
        self._since = thread_time()
        self._slice_ends = perf_counter() + self.slice_seconds
