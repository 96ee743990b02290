"""Benchmark: what telling new owners adds to a large import, on SQLite.

    .venv/bin/python -m bench.assignments [--rows 5000] [--repeat 3]

A table of `--rows` new tasks for 400 linked owners (in 50 units already on the roster)
is imported into a fresh migrated SQLite file, each run into emptied task tables:

import    read + check + write the table in one transaction (`apply_import`)
notices   inside the same transaction, after the import: the before-commit listener
          that reads who got what and queues one message per new owner
          (`AssignmentNotices.on_changes`, via `EventBus.settle`)

The best of `--repeat` runs of each is reported, and the listener as a ratio to the
import measured in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, func, select

from bench.tables import NOW, OPTIONS, as_xlsx, table_rows
from bot.config import AppConfig
from bot.core.clock import FrozenClock
from bot.services import Services, build_services
from bot.tables.importer import apply_import
from db.migrate import upgrade
from db.models import Campaign, OutboxMessage, Person, Phase, Role, Task, TaskEvent, Unit

OWNERS, UNITS = 400, 50


async def roster(services: Services) -> None:
    """The campaign, and the units and owners the table names, all of them linked."""
    async with services.db.session() as session:
        campaign = Campaign(name="基准测试", timezone="Asia/Shanghai")
        session.add(campaign)
        await session.flush()
        session.add(Phase(campaign_id=campaign.id, name="整改落实", position=1))
        units = [Unit(name=f"单位{n:02d}") for n in range(UNITS)]
        session.add_all(units)
        await session.flush()
        session.add_all([
            Person(name=f"人员{n:03d}", unit_id=units[n % UNITS].id, role=Role.RESPONSIBLE,
                   telegram_id=900_000 + n)
            for n in range(OWNERS)
        ])


async def wipe(services: Services) -> None:
    async with services.db.session() as session:
        for model in (OutboxMessage, TaskEvent, Task):
            await session.execute(delete(model))


async def one_run(services: Services, data: bytes) -> tuple[float, float, int]:
    """(import seconds, listener seconds, notices queued) of one import."""
    async with services.db.session() as session:
        start = time.perf_counter()
        await apply_import(session, data, "table.xlsx", OPTIONS, actor_id=None, now=NOW)
        await session.flush()
        imported = time.perf_counter() - start
        start = time.perf_counter()
        await services.bus.settle(session)
        await session.flush()
        listened = time.perf_counter() - start
        queued = int((await session.execute(
            select(func.count()).select_from(OutboxMessage))).scalar_one())
    return imported, listened, queued


async def main(rows_count: int, repeat: int) -> None:
    data = as_xlsx(table_rows(rows_count))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        await asyncio.to_thread(upgrade, f"sqlite:///{path}")
        config = AppConfig.model_validate({
            "database": {"url": f"sqlite:///{path}"},
            "storage": {"data_dir": str(Path(tmp) / "data")},
        })
        services = build_services(config, clock=FrozenClock(NOW))
        try:
            await roster(services)
            runs = []
            for _ in range(repeat):
                await wipe(services)
                runs.append(await one_run(services, data))
        finally:
            await services.db.dispose()
    imported = min(r[0] for r in runs)
    listened = min(r[1] for r in runs)
    queued = runs[-1][2]
    print(f"{rows_count} new tasks for {OWNERS} linked owners, best of {repeat}")
    print(f"  import   {imported:7.3f} s   1.00×")
    print(f"  notices  {listened:7.3f} s   {listened / imported:5.2f}×  ({queued} messages "
          f"queued, one per owner)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.repeat))
