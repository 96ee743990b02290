"""Benchmark: the whole county's counts from the kept tallies against counting the tasks.

    .venv/bin/python -m bench.summary_reads [--tasks 200000] [--repeat 9]
        [--database-url postgresql://…]

Builds the county of `bench.reports` (2,000 units, 20,000 people, 60 indicators, 7
phases) with `--tasks` tasks, on a fresh SQLite file or in the PostgreSQL database named
(its schema is dropped and migrated again; statistics gathered with `VACUUM ANALYZE`),
runs the tallies' minute job once, and then times, alternating, in one process:

- **count**: the counts per unit and per indicator × phase read from every task of the
  campaign (the statement a scoped reader's summary uses, for the whole county — what
  the leader's summary ran until the tallies);
- **kept**: the same counts from the kept tallies (`db.repositories.reports.kept`);
- **kept, mark an hour / a day behind**: as if the minute job had not run for that long
  (the read then corrects for every deadline in between);
- **summary**: the leader's whole `build_summary` (counts, the veto risk list, the names,
  the phases, the readiness section).

Medians of `--repeat`; each row also as a ratio to **count**. Then what the triggers cost
a write: `--writes` single-task updates (a progress change, each its own transaction),
in rounds of 100 alternating between the schema as it is and the schema with the
triggers dropped; medians per round, as a ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text, update

from bench.reports import NOW, ZONE, grow_on, seed_roster_on
from bot.quiz.readiness import ReadinessCache
from bot.reports.summary import build_summary
from db.migrate import upgrade
from db.models import Campaign, Task, TaskTallyMark
from db.models.tallies import drop_triggers, install_triggers
from db.repositories import reports as reports_repo
from db.repositories.reports import EVERYTHING, kept
from db.session import Database


async def _build(url: str, tasks: int) -> Database:
    db = Database(url)
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await asyncio.to_thread(upgrade, url)
    rng = random.Random(20261122)
    async with db.engine.begin() as conn:
        await conn.run_sync(seed_roster_on)
        await conn.run_sync(lambda sync: grow_on(sync, 1, tasks, rng))
    if not db.is_sqlite:
        async with db.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    async with db.session() as session:
        await kept.move_mark(session=session, campaign_id=1, to=NOW)
    async with db.session() as session:
        await kept.compact(session=session, campaign_id=1)
    return db


async def _measure(db: Database, repeat: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {}
    async with db.session() as session:
        campaign = await session.get(Campaign, 1)
        assert campaign is not None
        everything = reports_repo._summary_statement(EVERYTHING.shape)
        params = EVERYTHING.params(1) | {"now": NOW}

        async def count() -> object:
            return (await session.execute(everything, params)).all()

        async def kept_rows() -> object:
            return await kept.summary_rows(session=session, campaign_id=1, now=NOW)

        def behind(lag: timedelta) -> Callable[[], Awaitable[object]]:
            async def read() -> object:
                savepoint = await session.begin_nested()
                try:
                    await session.execute(update(TaskTallyMark).values(mark=NOW - lag))
                    return await kept.summary_rows(session=session, campaign_id=1, now=NOW)
                finally:
                    await savepoint.rollback()
            return read

        async def summary() -> object:
            return await build_summary(session, campaign, EVERYTHING, NOW, ZONE,
                                       readiness=ReadinessCache(zone=ZONE, threshold=0.8))

        actions: dict[str, Callable[[], Awaitable[object]]] = {
            "count": count, "kept": kept_rows,
            "kept, mark an hour behind": behind(timedelta(hours=1)),
            "kept, mark a day behind": behind(timedelta(days=1)),
            "summary (leader, whole)": summary,
        }
        for action in actions.values():  # warm caches and compiled statements
            await action()
        for _ in range(repeat):
            for label, action in actions.items():
                started = time.perf_counter()
                await action()
                samples.setdefault(label, []).append((time.perf_counter() - started) * 1000)
    return {label: statistics.median(values) for label, values in samples.items()}


async def _writes(db: Database, count: int, tasks: int) -> tuple[float, float]:
    """Milliseconds per single-task update with the triggers and without them."""
    rng = random.Random(7)
    rounds: dict[bool, list[float]] = {True: [], False: []}

    async def one_round() -> float:
        started = time.perf_counter()
        for _ in range(100):
            async with db.session() as session:
                await session.execute(update(Task).where(Task.id == rng.randint(1, tasks))
                                      .values(progress=rng.choice((10, 30, 60, 90))))
        return (time.perf_counter() - started) * 10  # ms per update

    with_triggers = True
    for _ in range(max(1, count // 100) * 2):
        async with db.engine.begin() as conn:
            await conn.run_sync(install_triggers if with_triggers else drop_triggers)
        rounds[with_triggers].append(await one_round())
        with_triggers = not with_triggers
    async with db.engine.begin() as conn:
        await conn.run_sync(install_triggers)
    async with db.session() as session:
        await kept.rebuild(session=session, campaign_id=1)
    return statistics.median(rounds[True]), statistics.median(rounds[False])


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-summary-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        db = await _build(url, args.tasks)
        backend = "SQLite" if db.is_sqlite else "PostgreSQL"
        print(f"{backend}, {args.tasks:,} tasks (built in {time.perf_counter() - started:.1f} s)")
        try:
            medians = await _measure(db, args.repeat)
            writes = await _writes(db, args.writes, args.tasks) if args.writes else None
        finally:
            await db.dispose()
    base = medians["count"]
    for label, took in medians.items():
        print(f"  {label:<28} {took:8.1f} ms   {took / base:5.2f}x count")
    if writes is not None:
        kept_ms, bare_ms = writes
        print(f"  a task update (own transaction): {kept_ms:.2f} ms with the triggers, "
              f"{bare_ms:.2f} ms without   {kept_ms / bare_ms:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--writes", type=int, default=2000,
                        help="single-task updates timed with and without the triggers (0: none)")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL database to drop and rebuild (default: SQLite)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
