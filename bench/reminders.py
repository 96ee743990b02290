"""Benchmark: reminder fan-out through the sandbox, and finding due reminders at scale.

    .venv/bin/python -m bench.reminders [fanout|sweep|all] [--messages 2000] [--chats 100]
                                        [--sizes 10000,50000,200000]

fanout  The bot's own dispatcher (built by `build_application`, PTB's rate limiter
        included) sends `--messages` queued reminders to `--chats` private chats through
        a sandbox Bot API server that enforces Telegram's limits (30/s overall, 1/s per
        private chat). Reports delivered messages per second between the first and the
        last `sent_at`, as a fraction of the enforced 30/s (the baseline), the 429s the
        sandbox answered, and from the sandbox's own chat logs: lost and duplicated.
sweep   For each size, a fresh SQLite file holds that many open tasks (deadlines spread
        over 60 days, 500 owners, cursors as the bot keeps them). The clock then moves in
        5-minute steps; each step times (a) the indexed query that finds the due cursors
        and (b) a whole sweep: find, derive, queue. Median of 7 steps; the growth is the
        ratio to the smallest size, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.app import build_application, build_services
from bot.clock import FrozenClock
from bot.config import AppConfig
from bot.services.reminders import Reminders
from db.migrate import upgrade
from db.models import Campaign, OutboxMessage, OutboxState, Person, ReminderCursor, Task, Unit
from db.repositories import outbox as outbox_repo
from db.repositories import reminders as reminders_repo
from sandbox import SandboxClient, SandboxServer

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def _config(db_path: Path, **telegram: object) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": f"sqlite:///{db_path}"},
        "storage": {"data_dir": str(db_path.parent / "data")},
        "telegram": telegram,
    })


async def fanout(messages: int, chats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "fanout.db"
        await asyncio.to_thread(upgrade, f"sqlite:///{db_path}")
        server = SandboxServer()
        await server.start()
        client = SandboxClient.for_server(server)
        try:
            users = [await client.add_user(f"U{i}", user_id=8_000_000 + i, started=True)
                     for i in range(chats)]
            config = _config(db_path, token=server.token, base_url=client.base_url,
                             base_file_url=client.base_file_url)
            services = build_services(config)
            app = build_application(config, services=services, updater=False)
            await app.initialize()
            delivery = services.features["delivery"]
            bot = Bot(server.token, base_url=client.base_url, base_file_url=client.base_file_url,
                      request=HTTPXRequest(connection_pool_size=64))
            await bot.initialize()
            async with services.session() as s:
                for i in range(messages):
                    user = users[i % chats]
                    await outbox_repo.enqueue(session=s, key=f"bench:{i}", chat_id=user.id,
                                              text=f"提醒 {i}", kind="bench", now=NOW)
            await client.reset_stats()
            started = time.perf_counter()
            await delivery.start(bot)
            idle = await delivery.wait_idle(timeout=messages / 10)
            wall = time.perf_counter() - started
            await delivery.stop()
            stats = await client.stats()
            async with services.session() as s:
                rows = await s.execute(
                    select(func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at))
                )
                first, last = rows.one()
                states = await outbox_repo.counts_by_state(session=s)
            received: Counter[str] = Counter()
            for user in users:
                for message in await user.messages(from_bot=True):
                    received[message.text or ""] += 1
            await bot.shutdown()
            await app.shutdown()
            await services.db.dispose()
        finally:
            await client.close()
            await server.stop()
    expected = {f"提醒 {i}" for i in range(messages)}
    assert first is not None and last is not None
    span = (last - first).total_seconds()
    rate = (messages - 1) / span if span else float("inf")
    print(f"fan-out: {messages} messages to {chats} private chats, idle={idle}")
    print(f"  wall time {wall:.1f} s; first→last sent {span:.1f} s")
    print(f"  delivered {rate:.2f} msg/s = {rate / 30:.3f} of the enforced 30/s")
    print(f"  lost {len(expected - set(received))}, duplicated "
          f"{sum(n - 1 for n in received.values() if n > 1)}, states {dict(states)}")
    print(f"  sandbox stats: {stats}")
    assert states.get(OutboxState.SENT) == messages


def _populate(db_path: Path, size: int) -> None:
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        conn.execute(insert(Campaign), [{"id": 1, "name": "bench", "timezone": "Asia/Shanghai",
                                         "is_active": True, "created_at": NOW}])
        conn.execute(insert(Unit), [{"id": u, "name": f"单位{u}", "kind": "department"}
                                    for u in range(1, 51)])
        conn.execute(insert(Person), [
            {"id": p, "name": f"人{p}", "unit_id": 1 + p % 50, "role": "responsible",
             "language": "zh", "telegram_id": 9_000_000 + p, "is_active": True,
             "created_at": NOW}
            for p in range(1, 501)
        ])
        step = timedelta(days=60) / size
        tasks, cursors = [], []
        for i in range(1, size + 1):
            due = NOW + timedelta(days=3, minutes=30) + step * i
            tasks.append({"id": i, "campaign_id": 1, "key": f"k{i}", "title": f"任务{i}",
                          "description": "", "unit_id": 1 + i % 50, "owner_id": 1 + i % 500,
                          "due_at": due, "priority": 2, "status": "todo", "progress": 0,
                          "evidence_required": 0, "created_at": NOW, "updated_at": NOW})
            cursors.append({"subject": "task", "subject_id": i, "next_at": due - timedelta(days=3),
                            "derived_at": NOW})
        conn.execute(insert(Task), tasks)
        conn.execute(insert(ReminderCursor), cursors)
    engine.dispose()


async def sweep(sizes: list[int]) -> None:
    results: list[tuple[int, float, float, float]] = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            db_path = Path(tmp) / "sweep.db"
            await asyncio.to_thread(upgrade, f"sqlite:///{db_path}")
            _populate(db_path, size)
            clock = FrozenClock(NOW + timedelta(minutes=30))
            services = build_services(_config(db_path), clock=clock)
            app = build_application(services.config, services=services, updater=False)
            reminders = services.features["reminders"]
            assert isinstance(reminders, Reminders)
            finds, sweeps, due_counts = [], [], []
            for _ in range(7):
                clock.advance(timedelta(minutes=5))
                started = time.perf_counter()
                async with services.session() as s:
                    due = await reminders_repo.due_cursors(session=s, now=clock.now(),
                                                           limit=100_000)
                finds.append(time.perf_counter() - started)
                due_counts.append(len(due))
                started = time.perf_counter()
                await reminders.sweep()
                sweeps.append(time.perf_counter() - started)
            del app
            await services.db.dispose()
        results.append((size, statistics.median(finds) * 1000, statistics.median(sweeps) * 1000,
                        statistics.mean(due_counts)))
    base_find, base_sweep = results[0][1], results[0][2]
    print("sweep on SQLite (median of 7 sweeps, 5 minutes of due reminders each):")
    print("  tasks     due/sweep  find ms  (×base)  sweep ms  (×base)")
    for size, find_ms, sweep_ms, due_avg in results:
        print(f"  {size:>7}  {due_avg:>9.1f}  {find_ms:>7.2f}  ({find_ms / base_find:>4.2f})"
              f"  {sweep_ms:>8.2f}  ({sweep_ms / base_sweep:>4.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", nargs="?", default="all", choices=("fanout", "sweep", "all"))
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--sizes", default="10000,50000,200000")
    args = parser.parse_args()
    if args.part in ("sweep", "all"):
        asyncio.run(sweep([int(s) for s in args.sizes.split(",")]))
    if args.part in ("fanout", "all"):
        asyncio.run(fanout(args.messages, args.chats))


if __name__ == "__main__":
    main()
