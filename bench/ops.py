"""Benchmark: what health and metrics cost.

    .venv/bin/python -m bench.ops [updates|probes|all] [--updates 400] [--due 20000]

updates  The real Application (a recording request, no network, no per-chat pace) handles
         a linked person's /help. Rounds alternate, in one process on one database:
         through `ObservedApplication.process_update` (timed and counted) and through
         python-telegram-bot's own `Application.process_update` on the same application
         (the baseline). Prints µs per update for each and the ratio, and the wrapper
         alone (naming, timing and counting an update) 20,000 times.
probes   The ops server on a free port over real HTTP: GET /healthz and GET /metrics,
         with an empty outbox and with `--due` messages due, against a baseline of a GET
         the server answers 404 without work (the HTTP round trip itself). Prints the
         median ms and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import insert
from telegram.ext import Application

from bench.limits import SendAtOnce
from bot.app import build_application
from bot.config import AppConfig
from bot.core import metrics
from bot.core.clock import SystemClock
from bot.ops.health import HealthChecks
from bot.ops.server import OpsServer
from bot.services import build_services
from db.migrate import upgrade
from db.models import OutboxMessage, OutboxState, Person, Role
from handlers.chats import registered_commands
from handlers.observe import update_kind
from tests.utils.telegram import RecordingRequest, UpdateFactory

PERSON = 820001


def _config(root: Path) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": f"sqlite:///{root / 'bench.db'}"},
        "storage": {"data_dir": str(root / "data")},
        # Flood control is not what is measured here.
        "flood": {"burst": 1000, "per_minute": 6000, "stranger_burst": 1000},
    })


async def _median(call: Callable[[], Awaitable[object]], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


async def bench_updates(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ops-") as tmp:
        config = _config(Path(tmp))
        await asyncio.to_thread(upgrade, config.database.url)
        services = build_services(config)
        async with services.session() as s:
            s.add(Person(name="张三", role=Role.ADMIN, telegram_id=PERSON))
        request = RecordingRequest()
        app = build_application(config, services=services, request=request, updater=False,
                                rate_limiter=SendAtOnce())
        updates = UpdateFactory(app.bot)
        person = updates.user(PERSON)
        observed: list[float] = []
        plain: list[float] = []
        async with app:
            for round_ in range(8):
                for wrapped, times in ((True, observed), (False, plain)):
                    batch = [updates.text(person, "/help") for _ in range(count // 8)]
                    started = time.perf_counter()
                    for update in batch:
                        if wrapped:
                            await app.process_update(update)
                        else:
                            await Application.process_update(app, update)
                    times.append((time.perf_counter() - started) / len(batch))
                    request.clear()
                del round_
            # The wrapper alone: naming the update, timing and counting it.
            commands = registered_commands(app)
            sample = updates.text(person, "/help")
            started = time.perf_counter()
            for _ in range(20000):
                with metrics.handling_update(*update_kind(sample, commands)):
                    pass
            wrapper_us = (time.perf_counter() - started) / 20000 * 1e6
        await services.db.dispose()
    observed_us, plain_us = statistics.median(observed) * 1e6, statistics.median(plain) * 1e6
    print(f"updates: /help through the real Application, {count} each way, medians of 8 "
          f"rounds: counted {observed_us:.0f} µs, uncounted {plain_us:.0f} µs per update; "
          f"ratio {observed_us / plain_us:.3f}; the wrapper alone {wrapper_us:.1f} µs "
          f"({wrapper_us / plain_us:.2%} of an uncounted update)")


async def _fill_outbox(config: AppConfig, due: int) -> None:
    services = build_services(config)
    now = SystemClock().now()
    rows = [{"key": f"bench:{n}", "kind": "reminder.owner", "chat_id": 900000 + n,
             "text": "提醒", "not_before": now - timedelta(seconds=n % 600),
             "state": OutboxState.PENDING, "attempts": 0, "created_at": now}
            for n in range(due)]
    async with services.session() as s:
        for start in range(0, len(rows), 5000):
            await s.execute(insert(OutboxMessage), rows[start:start + 5000])
    await services.db.dispose()


async def bench_probes(due: int, repeat: int = 200) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ops-") as tmp:
        config = _config(Path(tmp))
        await asyncio.to_thread(upgrade, config.database.url)
        for label, backlog in (("empty outbox", 0), (f"{due:,} due", due)):
            if backlog:
                await _fill_outbox(config, backlog)
            services = build_services(config)
            services.scheduler.start()
            checks = HealthChecks(db=services.db, scheduler=services.scheduler,
                                  clock=services.clock, config=config.ops)
            server = OpsServer(health=checks.run)
            await server.start("127.0.0.1", 0)
            base = f"http://127.0.0.1:{server.port}"
            async with aiohttp.ClientSession() as http:
                async def get(path: str, http: aiohttp.ClientSession = http,
                              base: str = base) -> None:
                    async with http.get(base + path) as response:
                        await response.read()

                await get("/healthz")  # warm the pool
                baseline = await _median(lambda: get("/nothing-here"), repeat)
                health = await _median(lambda: get("/healthz"), repeat)
                scrape = await _median(lambda: get("/metrics"), repeat)
            await server.stop()
            services.scheduler.shutdown()
            await services.db.dispose()
            print(f"probes ({label}): 404 baseline {baseline * 1e3:.2f} ms; /healthz "
                  f"{health * 1e3:.2f} ms (×{health / baseline:.1f}); /metrics "
                  f"{scrape * 1e3:.2f} ms (×{scrape / baseline:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ops")
    parser.add_argument("part", nargs="?", default="all", choices=["updates", "probes", "all"])
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--due", type=int, default=20000)
    args = parser.parse_args()
    if args.part in ("updates", "all"):
        asyncio.run(bench_updates(args.updates))
    if args.part in ("probes", "all"):
        asyncio.run(bench_probes(args.due))


if __name__ == "__main__":
    main()
