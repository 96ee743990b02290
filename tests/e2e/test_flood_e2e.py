"""Issue 11, row 3: one sender's flood does not slow anyone else down.

Through the sandbox (Telegram's limits enforced, including one message a second in a
private chat), a linked person or a stranger sends 300 messages at 20 a second while
another person asks for their task list once a second. The other person's reply latency
is measured against a baseline taken just before, in the same test. The loops are
bounded in count and time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import AppConfig
from bot.core.clock import SystemClock
from db.models import Role
from sandbox import SandboxClient, SimUser
from tests.e2e.conftest import LiveBot, StartBot
from tests.utils import factories as f

FLOODER, OTHER, ADMIN, STRANGER = 4800001, 4800002, 4800003, 4800004
FLOOD_MESSAGES = 300
FLOOD_RATE = 20.0  # per second
PROBES = 12
# The other person's worst reply during the flood. Telegram itself paces a chat at about
# one message a second, and the unflooded bot answers in well under 0.3 s here (the
# baseline below); two seconds is "no one notices", with room for a noisy 2-core machine.
# Before flood control the same measurement was 30-65 s.
MAX_LATENCY = 2.0


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    """The real flood limits (the suite's default lifts them); digests gathered quickly."""
    return AppConfig.model_validate({
        **config.model_dump(by_alias=True),
        "flood": {"error_gather_seconds": 1},
        "telegram": {**config.telegram.model_dump(), "admin_ids": [ADMIN]},
    })


async def _seed(bot: LiveBot) -> None:
    async with bot.services.session() as s:
        c = await f.campaign(s)
        edu = await f.unit(s, "县教育局")
        await f.person(s, "王主任", role=Role.ADMIN, telegram_id=ADMIN)
        for name, telegram_id in (("张三", FLOODER), ("李四", OTHER)):
            person = await f.person(s, name, unit=edu, telegram_id=telegram_id)
            await f.task(s, c, unit=edu, owner=person, title=f"{name}的任务",
                         due_at=SystemClock().now() + timedelta(days=3))


async def _latency(user: SimUser) -> float:
    started = time.monotonic()
    await user.send("/tasks")
    await user.expect_message(contains="李四的任务", timeout=90)
    return time.monotonic() - started


async def _flood(user: SimUser, text: str) -> float:
    started = time.monotonic()
    for n in range(FLOOD_MESSAGES):
        await user.send(f"{text} {n}")
        # Paced against the clock, so slow sends do not stretch the flood.
        delay = started + (n + 1) / FLOOD_RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    return time.monotonic() - started


async def _probes(user: SimUser, count: int) -> list[float]:
    found: list[float] = []
    for _ in range(count):
        began = time.monotonic()
        found.append(await _latency(user))
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
    return found


@pytest.mark.parametrize("flooder", ["linked", "stranger"])
async def test_a_flood_does_not_slow_anyone_else(
    start_bot: StartBot, sandbox: SandboxClient, flooder: str, tmp_path: Path
) -> None:
    bot = await start_bot(mode="polling")
    await _seed(bot)
    other = await sandbox.add_user("李四", user_id=OTHER, started=True)
    admin = await sandbox.add_user("王主任", user_id=ADMIN, started=True)
    if flooder == "linked":
        noisy = await sandbox.add_user("张三", user_id=FLOODER, started=True)
        text = "/tasks"
    else:
        noisy = await sandbox.add_user("路人", user_id=STRANGER)
        text = "你好"

    baseline = await _probes(other, 5)
    flood = asyncio.create_task(_flood(noisy, text))
    during = await _probes(other, PROBES)
    took = await flood
    await asyncio.sleep(2)  # replies still on their way, and a digest if one were due

    ratio = max(during) / statistics.median(baseline)
    print(f"\n{flooder} flood of {FLOOD_MESSAGES} in {took:.1f}s: other's latency "
          f"baseline median {statistics.median(baseline):.3f}s, during median "
          f"{statistics.median(during):.3f}s, max {max(during):.3f}s (max/baseline {ratio:.1f})")
    # Against the baseline of the same run, so a machine busy with other work does not
    # count as the flood's doing: the worst reply within MAX_LATENCY or ten times the
    # slowest reply without a flood, whichever is larger; the typical one barely moved.
    assert max(during) <= max(MAX_LATENCY, 10 * max(baseline)), (baseline, during)
    assert statistics.median(during) <= max(1.0, 4 * statistics.median(baseline)), during
    answered = len(await noisy.messages(from_bot=True))
    cfg = bot.config.flood
    if flooder == "linked":
        # The burst, then one every 2 s; nothing else was answered or even processed (some
        # replies of what was let through may still be on their way at the chat's pace).
        allowed = cfg.burst + cfg.per_minute / 60 * (took + 3)
        assert answered <= allowed
    else:
        allowed = 1
        assert answered == 1  # one polite explanation for 300 messages
    assert bot.services.flood.dropped >= FLOOD_MESSAGES - allowed - 5
    assert len(await admin.messages(from_bot=True)) <= 1  # at most one digest
