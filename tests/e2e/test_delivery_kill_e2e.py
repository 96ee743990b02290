"""Issue 11, row 15: `kill -9` of the bot process in the middle of a fan-out, with 300 ms
of API latency. Nothing is lost; what is sent twice is at most what was on the wire (or
answered and not yet recorded) at the kill, and the dispatcher keeps that window at
`[reminders.delivery] max_sending` messages.

The bot runs as `inspectbot run` in its own process against the sandbox; the test kills
it at a moment when the sandbox holds the most requests in flight, then starts the bot
again in this process once the killed process's leases have run out.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from bot.config import AppConfig
from bot.core.clock import SystemClock
from db.models import OutboxState
from db.repositories import delivery as outbox_repo
from db.session import Database
from sandbox import SandboxClient, SimUser
from tests.e2e.conftest import StartBot, sandbox_server

PEOPLE, EACH = 40, 4
LATENCY_MS = 300
LEASE_SECONDS = 10  # the shortest the configuration allows


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string or number is TOML too


def _child_config(config: AppConfig, sandbox: SandboxClient, path: Path) -> Path:
    assert sandbox.token is not None
    path.write_text("\n".join([
        "[telegram]",
        f"token = {_toml(sandbox.token)}",
        f"base_url = {_toml(sandbox.base_url)}",
        f"base_file_url = {_toml(sandbox.base_file_url)}",
        "[database]",
        f"url = {_toml(config.database.url)}",
        "[storage]",
        f"data_dir = {_toml(str(config.storage.data_dir))}",
        "[reminders.delivery]",
        f"lease_seconds = {LEASE_SECONDS}",
    ]) + "\n", encoding="utf-8")
    return path


async def _received(users: list[SimUser]) -> Counter[str]:
    got: Counter[str] = Counter()
    for user in users:
        got.update(m.text or "" for m in await user.messages(from_bot=True))
    return got


async def test_kill_9_mid_fan_out_sends_at_most_the_window_twice(
    sandbox: SandboxClient, config: AppConfig, start_bot: StartBot, tmp_path: Path
) -> None:
    server = sandbox_server(sandbox)
    await sandbox.set_rate_limits(enabled=True, global_per_second=30, private_per_second=1.0,
                                  private_burst=1)
    await sandbox.set_faults(latency_ms=LATENCY_MS, methods=["sendMessage"])
    users = [await sandbox.add_user(f"责任人{i}", user_id=7300 + i, started=True)
             for i in range(PEOPLE)]
    total = PEOPLE * EACH
    db = Database(config.database.url)
    async with db.session() as session:
        for n in range(EACH):
            for user in users:
                await outbox_repo.enqueue(session=session, key=f"kill:{user.id}:{n}",
                                          chat_id=user.id, text=f"通知 {user.id}-{n}",
                                          kind="reminder", now=SystemClock().now())
    config.storage.data_dir.mkdir(parents=True, exist_ok=True)
    window = config.reminders.delivery.max_sending
    stats = server.state.stats

    def on_the_wire() -> int:
        answered = (sum(stats.delivered_per_chat.values())
                    + sum(stats.rate_limited_per_chat.values()) + sum(stats.errors.values()))
        return stats.requests["sendMessage"] - answered

    log = (tmp_path / "bot.log").open("wb")
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "-c", str(_child_config(config, sandbox,
                                                                   tmp_path / "bot.toml")),
        "run", stdout=log, stderr=log, cwd=str(tmp_path), env={**os.environ},
    )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        # A third of the way in, at a moment the window is full: as bad a moment as any.
        while not (sum(stats.delivered_per_chat.values()) >= total // 3
                   and on_the_wire() >= window):
            assert loop.time() < deadline, "the fan-out did not get going"
            assert child.returncode is None, (tmp_path / "bot.log").read_text()
            await asyncio.sleep(0.002)
        in_flight = on_the_wire()
        child.send_signal(signal.SIGKILL)
        await child.wait()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        log.close()

    await asyncio.sleep(LATENCY_MS / 1000 + 0.5)  # what was on the wire arrives regardless
    delivered_before = await _received(users)
    async with db.session() as session:
        states = await outbox_repo.counts_by_state(session=session)
    await db.dispose()
    unrecorded = sum(delivered_before.values()) - states.get(OutboxState.SENT, 0)
    assert 0 < in_flight <= unrecorded  # the requests on the wire at the kill, at least

    await asyncio.sleep(LEASE_SECONDS)  # the killed process's claims run out
    bot = await start_bot()
    assert await bot.services.delivery.dispatcher.wait_idle(timeout=60)

    received = await _received(users)
    expected = {f"通知 {u.id}-{n}" for u in users for n in range(EACH)}
    duplicated = sum(n - 1 for n in received.values())
    print(f"\nkill -9 at {LATENCY_MS} ms latency: {in_flight} requests on the wire, "
          f"{unrecorded} delivered but not recorded, {duplicated} sent twice "
          f"(max_sending = {window})")
    assert set(received) == expected  # nothing lost
    assert duplicated == unrecorded  # exactly the window at the kill is sent again
    assert duplicated <= window
