"""Background work gives way to the rest of the event loop, and only when there is any."""

from __future__ import annotations

import asyncio
import time

from bot.core.pace import Pace


# Work is measured as the pacing measures it, in the thread's CPU time: on a machine busy
# with other processes wall time would count their turns as ours.
def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def _job(pace: Pace, until: float, worked: list[float]) -> None:
    while time.perf_counter() < until:
        started = time.thread_time()
        _spin(0.001)
        worked.append(time.thread_time() - started)
        await pace.step()


async def test_on_an_idle_loop_the_work_never_pauses() -> None:
    pace = Pace()
    worked: list[float] = []
    cpu = time.thread_time()
    await _job(pace, time.perf_counter() + 0.3, worked)
    cpu = time.thread_time() - cpu
    assert pace.pauses == 0 and pace.paused == 0
    assert sum(worked) > 0.8 * cpu  # it had the loop to itself


async def test_while_updates_are_handled_the_work_takes_about_its_share() -> None:
    pace = Pace(share=0.1)
    until = time.perf_counter() + 1.0
    ours: list[float] = []
    theirs: list[float] = []

    async def handlers() -> None:  # updates arriving all the time, 2 ms of work each
        while time.perf_counter() < until:
            started = time.thread_time()
            _spin(0.002)
            theirs.append(time.thread_time() - started)
            await asyncio.sleep(0)

    await asyncio.gather(_job(pace, until, ours), handlers())
    share = sum(ours) / (sum(ours) + sum(theirs))
    # Yielding alone would split the loop about evenly; the pauses keep it near a tenth.
    assert pace.pauses > 0 and share < 0.2, share
