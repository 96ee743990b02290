"""Benchmark: reminder fan-out through the sandbox, and finding due reminders at scale.

    .venv/bin/python -m bench.reminders [fanout|sweep|kill|round|first-start|all]
        [--messages 2000] [--chats 100] [--runs 3] [--sizes 10000,50000,200000]
        [--latencies 100,300,600] [--sending 10,1000]
        [--size 200000] [--backends sqlite,postgresql] [--database-url postgresql://…]
        [--concurrency 32] [--load-runs 4] [--load-seconds 20] [--no-legacy-load]

fanout  A sandbox Bot API server in this process, set explicitly to Telegram's limits
        (30 in any second overall, 1/s per private chat, burst 1). Each run first sends
        `--messages` plain sendMessage calls to `--chats` private chats in a paced raw
        loop without a database (the baseline: what the limit allows on this machine),
        then the bot's own dispatcher (the one `build_application` wires, on its own Bot)
        sends as many queued outbox messages to the same chats. Reports delivered
        messages per second (n / (first→last delivery + 1 s), see `_rate`) as a fraction
        of the enforced 30/s and of the raw loop, the 429s the sandbox answered, lost and
        duplicated from the sandbox's chat logs, and where the dispatcher's time went;
        the median of `--runs`.
sweep   For each size, a fresh SQLite file holds that many open tasks (deadlines spread
        over 60 days, 500 owners, cursors as the bot keeps them). The clock then moves in
        5-minute steps; each step times (a) the indexed query that finds the due cursors
        and (b) a whole sweep: find, derive, queue. Median of 7 steps; the growth is the
        ratio to the smallest size, measured in the same run.
kill    How many messages a `kill -9` mid fan-out sends twice. The sandbox runs here with
        Telegram's limits and `--latencies` ms before each sendMessage is answered (a
        request that has arrived is delivered even if its sender is gone by then); the
        bot runs as `inspectbot run` in its own process, with `max_sending` set to each
        of `--sending` (1000: no cap, the dispatcher before the cap). A third of the way
        into a fan-out of `--messages` (default 300 here) to `--chats` (60) the process
        is killed, when the sandbox holds as many requests as it held at most since a
        quarter of the way in (or after five more seconds, whatever it holds); once the
        process's leases have run out, a dispatcher in this process sends the rest.
        Reports the rate before the kill, requests on the wire at the kill, messages
        delivered but not recorded as sent, and how many arrived twice (and lost).
round   The daily overdue round at 09:00 over `--size` tasks (`bench.reminders_data`: a
        county's breakdown with a quarter of it open and overdue, cursors and sent
        reminders as a bot running daily leaves them), on each of `--backends`: the round
        alone, timed for the current code (`--runs`, median) and once for the old per-row
        code (`bench.reminders_legacy`) on a copy of the same database, with the messages
        each queued compared; then the round while `--concurrency` updates at a time
        (/tasks, a task's card, its progress, from the linked owners) go through the real
        Application, against a control run without the round, interleaved (`--load-runs`
        pairs, each side measured over `--load-seconds`, the order alternating from pair to
        pair; the first pair also for the old code unless `--no-legacy-load`): updates/s,
        p50/p99, handler errors and "database is locked". `--runs 0` skips the round alone.
first-start  The same tasks bulk-loaded without cursors: reconcile and sweep until every
        cursor is derived, current (`--runs`) and old code (unless `--no-legacy`), same
        messages compared; on SQLite also the same rows written with plain sqlite3 alone
        (the database's share), and how many messages the escalations and the owners'
        reminders make as the dispatcher's lists.
PostgreSQL needs `--database-url` (or BENCH_DATABASE_URL) naming a database on a server
where the user may create databases: the runs use `<name>_tpl` and `<name>_run<N>` beside
it (a throwaway server as `.ci/run` starts one is the intended target).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select
from telegram import Bot
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from bench import reminders_round
from bot.app import build_application
from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.delivery.dispatcher import Dispatcher
from bot.reminders.service import Reminders
from bot.services import build_services
from db.migrate import upgrade
from db.models import Campaign, OutboxMessage, OutboxState, Person, ReminderCursor, Task, Unit
from db.repositories import delivery as outbox_repo
from db.repositories import reminders as reminders_repo
from sandbox import SandboxClient, SandboxServer, SimUser

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
# Telegram's documented limits, set on the sandbox explicitly (its defaults are the same).
LIMITS: dict[str, float | bool] = {
    "enabled": True, "global_per_second": 30, "private_per_second": 1.0, "private_burst": 1,
    "group_per_minute": 20,
}


def _config(db_path: Path, **telegram: object) -> AppConfig:
    return AppConfig.model_validate({
        "database": {"url": f"sqlite:///{db_path}"},
        "storage": {"data_dir": str(db_path.parent / "data")},
        "telegram": telegram,
    })


@dataclass
class FanoutRun:
    baseline: float  # msg/s of the paced raw loop
    baseline_refused: int
    rate: float  # msg/s of the dispatcher
    refused: int
    lost: int
    duplicated: int
    wall: float
    timings: dict[str, float]
    claims: int


def _rate(times: list[float]) -> float:
    """Messages per (first→last delivery + 1 s): any T seconds admit at most 30·(T+1)
    under a 30-in-any-second window, so this is 30/s at best, never more; (n-1)/T
    would credit the bursts at both ends and read above the limit."""
    return len(times) / (max(times) - min(times) + 1.0)


async def _paced_loop(bot: Bot, chat_ids: list[int], messages: int) -> tuple[float, int]:
    """The ceiling on this machine: plain sendMessage in a loop, no database.

    As many lanes as the overall limit allows per second; a lane sends, waits for the
    answer, and sends its next message one second after that answer, the earliest instant
    the sandbox's window is sure to have room. Message i goes to chat i mod chats.
    """
    answers: list[float] = []
    refused = 0
    order = iter(range(messages))

    async def lane() -> None:
        nonlocal refused
        for i in order:
            while True:
                try:
                    await bot.send_message(chat_ids[i % len(chat_ids)], f"基线 {i}")
                    break
                except RetryAfter as exc:
                    refused += 1
                    await asyncio.sleep(float(exc.retry_after))  # type: ignore[arg-type]
            answered = time.monotonic()
            answers.append(answered)
            await asyncio.sleep(answered + 1.0 + 0.001 - time.monotonic())

    await asyncio.gather(*(lane() for _ in range(int(LIMITS["global_per_second"]))))
    return _rate(answers), refused


async def _fanout_once(messages: int, chats: int) -> FanoutRun:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "fanout.db"
        await asyncio.to_thread(upgrade, f"sqlite:///{db_path}")
        server = SandboxServer()
        await server.start()
        client = SandboxClient.for_server(server)
        try:
            await client.set_rate_limits(**LIMITS)
            users = [await client.add_user(f"U{i}", user_id=8_000_000 + i, started=True)
                     for i in range(chats)]
            config = _config(db_path, token=server.token, base_url=client.base_url,
                             base_file_url=client.base_file_url)
            services = build_services(config)
            app = build_application(config, services=services, updater=False)
            await app.initialize()
            delivery = services.delivery.dispatcher
            assert isinstance(delivery, Dispatcher)
            bot = Bot(server.token, base_url=client.base_url, base_file_url=client.base_file_url,
                      request=HTTPXRequest(connection_pool_size=64))
            await bot.initialize()

            baseline, baseline_refused = await _paced_loop(bot, [u.id for u in users], messages)
            await asyncio.sleep(1.1)  # every window and bucket full again

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
                sent_at = (await s.execute(select(OutboxMessage.sent_at))).scalars().all()
                states = await outbox_repo.counts_by_state(session=s)
            received: Counter[str] = Counter()
            for user in users:
                for message in await user.messages(from_bot=True):
                    if (message.text or "").startswith("提醒 "):
                        received[message.text or ""] += 1
            await bot.shutdown()
            await app.shutdown()
            await services.db.dispose()
        finally:
            await client.close()
            await server.stop()
    assert idle and states.get(OutboxState.SENT) == messages, states
    expected = {f"提醒 {i}" for i in range(messages)}
    return FanoutRun(
        baseline=baseline, baseline_refused=baseline_refused,
        rate=_rate([t.timestamp() for t in sent_at if t is not None]),
        refused=int(stats["rate_limited"]), lost=len(expected - set(received)),
        duplicated=sum(n - 1 for n in received.values() if n > 1), wall=wall,
        timings=dict(delivery.timings), claims=delivery.stats["claims"],
    )


async def fanout(messages: int, chats: int, runs: int) -> None:
    limit = float(LIMITS["global_per_second"])
    print(f"fan-out: {messages} messages to {chats} private chats; sandbox limits {LIMITS}")
    results = []
    for n in range(1, runs + 1):
        r = await _fanout_once(messages, chats)
        results.append(r)
        waits = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r.timings.items()))
        print(f"  run {n}: dispatcher {r.rate:.2f} msg/s = {r.rate / limit:.3f} of {limit:g}/s, "
              f"429s {r.refused}, lost {r.lost}, duplicated {r.duplicated}, wall {r.wall:.1f} s")
        print(f"         paced raw loop {r.baseline:.2f} msg/s = {r.baseline / limit:.3f}, "
              f"429s {r.baseline_refused}; dispatcher / raw loop {r.rate / r.baseline:.3f}")
        print(f"         dispatcher seconds: {waits}; {r.claims} claim transactions")
    rate = statistics.median(r.rate for r in results)
    base = statistics.median(r.baseline for r in results)
    ratio = statistics.median(r.rate / r.baseline for r in results)
    print(f"median of {runs}: dispatcher {rate:.2f} msg/s = {rate / limit:.3f} of the enforced "
          f"{limit:g}/s; paced raw loop {base:.2f} msg/s = {base / limit:.3f}; "
          f"dispatcher / raw loop {ratio:.3f}")
    print(f"  429s {[r.refused for r in results]}, lost {[r.lost for r in results]}, "
          f"duplicated {[r.duplicated for r in results]}")


@dataclass
class KillRun:
    latency_ms: int
    max_sending: int
    rate: float  # msg/s delivered before the kill
    on_wire: int  # requests the sandbox held unanswered at the kill
    unrecorded: int  # delivered, but not recorded as sent by the killed process
    duplicated: int
    lost: int


LEASE_SECONDS = 10  # the shortest the configuration allows


async def _poll(condition: Callable[[], bool]) -> None:
    """Every 2 ms until true: the sandbox's counters change in this loop, with no event."""
    while True:
        if condition():
            return
        await asyncio.sleep(0.002)


async def _delivered(users: list[SimUser]) -> Counter[str]:
    got: Counter[str] = Counter()
    for user in users:
        got.update(m.text or "" for m in await user.messages(from_bot=True))
    return got


async def _kill_once(latency_ms: int, max_sending: int, messages: int, chats: int) -> KillRun:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "kill.db"
        await asyncio.to_thread(upgrade, f"sqlite:///{db_path}")
        server = SandboxServer()
        await server.start()
        client = SandboxClient.for_server(server)
        try:
            await client.set_rate_limits(**LIMITS)
            await client.set_faults(latency_ms=latency_ms, methods=["sendMessage"])
            users = [await client.add_user(f"U{i}", user_id=8_100_000 + i, started=True)
                     for i in range(chats)]
            config = AppConfig.model_validate({
                "database": {"url": f"sqlite:///{db_path}"},
                "storage": {"data_dir": str(Path(tmp) / "data")},
                "telegram": {"token": server.token, "base_url": client.base_url,
                             "base_file_url": client.base_file_url},
                "reminders": {"delivery": {"lease_seconds": LEASE_SECONDS,
                                           "max_sending": max_sending}},
            })
            services = build_services(config)
            async with services.session() as s:
                for i in range(messages):
                    await outbox_repo.enqueue(session=s, key=f"kill:{i}",
                                              chat_id=users[i % chats].id, text=f"提醒 {i}",
                                              kind="bench", now=NOW)
            settings = Path(tmp) / "bot.toml"
            settings.write_text("\n".join([
                "[telegram]", *(f"{k} = {json.dumps(v)}" for k, v in (
                    ("token", server.token), ("base_url", client.base_url),
                    ("base_file_url", client.base_file_url))),
                "[database]", f"url = {json.dumps(f'sqlite:///{db_path}')}",
                "[storage]", f"data_dir = {json.dumps(str(Path(tmp) / 'data'))}",
                "[reminders.delivery]", f"lease_seconds = {LEASE_SECONDS}",
                f"max_sending = {max_sending}",
            ]) + "\n")
            stats = server.state.stats

            def delivered() -> int:
                return sum(stats.delivered_per_chat.values())

            def on_wire() -> int:
                answered = (delivered() + sum(stats.rate_limited_per_chat.values())
                            + sum(stats.errors.values()))
                return stats.requests["sendMessage"] - answered

            log = (Path(tmp) / "bot.log").open("wb")
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "-c", str(settings), "run",
                stdout=log, stderr=log, cwd=tmp, env={**os.environ})
            try:
                await _poll(lambda: delivered() > 0)
                first = time.perf_counter()
                await _poll(lambda: delivered() >= messages // 4)
                peak = 0
                while delivered() < messages // 3:
                    peak = max(peak, on_wire())
                    await asyncio.sleep(0.002)
                # The most the sandbox held at once since a quarter of the way in: kill
                # when it holds as many again (or after five seconds, whatever it holds).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_poll(lambda: on_wire() >= peak), 5.0)
                at_kill, sent_at_kill = on_wire(), delivered()
                rate = sent_at_kill / (time.perf_counter() - first)
                child.send_signal(signal.SIGKILL)
                await child.wait()
            finally:
                if child.returncode is None:
                    child.kill()
                    await child.wait()
                log.close()
            await asyncio.sleep(latency_ms / 1000 + 0.5)
            async with services.session() as s:
                states = await outbox_repo.counts_by_state(session=s)
            unrecorded = sum((await _delivered(users)).values()) - states.get(OutboxState.SENT, 0)
            await asyncio.sleep(LEASE_SECONDS)
            delivery = services.delivery.dispatcher
            bot = Bot(server.token, base_url=client.base_url, base_file_url=client.base_file_url,
                      request=HTTPXRequest(connection_pool_size=64))
            await bot.initialize()
            await delivery.start(bot)
            idle = await delivery.wait_idle(timeout=messages)
            await delivery.stop()
            await bot.shutdown()
            received = await _delivered(users)
            await services.db.dispose()
        finally:
            await client.close()
            await server.stop()
    assert idle
    return KillRun(
        latency_ms=latency_ms, max_sending=max_sending, rate=rate, on_wire=at_kill,
        unrecorded=unrecorded, duplicated=sum(n - 1 for n in received.values() if n > 1),
        lost=len({f"提醒 {i}" for i in range(messages)} - set(received)),
    )


async def kill(messages: int, chats: int, runs: int, latencies: list[int],
               sending: list[int]) -> None:
    print(f"kill -9 mid fan-out: {messages} messages to {chats} private chats, sandbox "
          f"limits {LIMITS}; median of {runs} runs (each run's figures in brackets)")
    print("  latency  max_sending  msg/s before  on the wire  not recorded  sent twice  lost")
    for latency in latencies:
        for cap in sending:
            results = [await _kill_once(latency, cap, messages, chats) for _ in range(runs)]

            def show(values: list[float], digits: int = 0) -> str:
                each = ", ".join(f"{v:.{digits}f}" for v in values)
                return f"{statistics.median(values):.{digits}f} [{each}]"

            print(f"  {latency:>4} ms  {cap:>11}  {show([r.rate for r in results], 1):>12}"
                  f"  {show([r.on_wire for r in results]):>11}"
                  f"  {show([r.unrecorded for r in results]):>12}"
                  f"  {show([r.duplicated for r in results]):>10}"
                  f"  {sum(r.lost for r in results):>4}", flush=True)


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
            reminders = services.reminders
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
    parser.add_argument("part", nargs="?", default="all",
                        choices=("fanout", "sweep", "kill", "round", "first-start", "all"))
    parser.add_argument("--messages", type=int, default=None,
                        help="2000 for fanout, 300 for kill")
    parser.add_argument("--chats", type=int, default=None, help="100 for fanout, 60 for kill")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="10000,50000,200000")
    parser.add_argument("--latencies", default="100,300,600")
    parser.add_argument("--sending", default="10,1000")
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--load-runs", type=int, default=4)
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--no-legacy-load", action="store_true")
    parser.add_argument("--no-legacy", action="store_true",
                        help="first-start: time the current code only")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if args.part in ("round", "first-start"):
        reminders_round.quiet_logs()
    if args.part == "round":
        asyncio.run(reminders_round.round_part(args.size, args.runs, backends,
                                               args.database_url, args.concurrency,
                                               args.load_runs, args.load_seconds,
                                               not args.no_legacy_load))
    if args.part == "first-start":
        asyncio.run(reminders_round.first_start_part(args.size, args.runs, backends,
                                                     args.database_url, not args.no_legacy))
    if args.part in ("sweep", "all"):
        asyncio.run(sweep([int(s) for s in args.sizes.split(",")]))
    if args.part in ("fanout", "all"):
        asyncio.run(fanout(args.messages or 2000, args.chats or 100, args.runs))
    if args.part in ("kill", "all"):
        asyncio.run(kill(args.messages or 300, args.chats or 60, args.runs,
                         [int(v) for v in args.latencies.split(",")],
                         [int(v) for v in args.sending.split(",")]))


if __name__ == "__main__":
    main()
