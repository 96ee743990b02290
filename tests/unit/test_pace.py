"""Background work gives way to the rest of the event loop, and only when there is any."""

from __future__ import annotations

import asyncio
import time

from bot.core.pace import Pace


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _job(pace: Pace, until: float, worked: list[float]) -> None:
    while time.perf_counter() < until:
        started = time.perf_counter()
        _spin(0.001)
        worked.append(time.perf_counter() - started)
        await pace.step()


async def test_on_an_idle_loop_the_work_never_pauses() -> None:
    pace = Pace()
    worked: list[float] = []
    await _job(pace, time.perf_counter() + 0.3, worked)
    assert pace.pauses == 0 and pace.paused == 0
    assert sum(worked) > 0.25  # it had the loop to itself


async def test_while_updates_are_handled_the_work_takes_about_its_share() -> None:
    pace = Pace(share=0.1)
    until = time.perf_counter() + 1.0
    ours: list[float] = []
    theirs: list[float] = []

    async def handlers() -> None:  # updates arriving all the time, 2 ms of work each
        while time.perf_counter() < until:
            started = time.perf_counter()
            _spin(0.002)
            theirs.append(time.perf_counter() - started)
            await asyncio.sleep(0)

    await asyncio.gather(_job(pace, until, ours), handlers())
    share = sum(ours) / (sum(ours) + sum(theirs))
    # Yielding alone would split the loop about evenly; the pauses keep it near a tenth.
    assert pace.pauses > 0 and share < 0.2, share
