"""Benchmark: importing and exporting a large task breakdown table on SQLite.

    .venv/bin/python -m bench.tables [--rows 5000] [--repeat 3]

A table of `--rows` tasks (50 units, 400 owners, 30 indicators, all of them new) is
generated as XLSX and as CSV. For each format, in a fresh migrated SQLite file:

baseline  reading the file into rows (`read_table`): the cost every import pays anyway
preview   read + check every row against the database (nothing written)
apply     read + check + write everything in one transaction (tasks, units, people,
          indicators, one history row per task), each run into an emptied database
again     the same table imported a second time: every row is found unchanged
export    every task written back to an XLSX file (write-only workbook)

The best of `--repeat` runs is reported in seconds and as a ratio to the baseline run in
the same process. A last line compares writing the same tasks through the ORM's unit of
work (`session.add_all` + flush, one INSERT per row on SQLite) with the batched INSERT
the importer uses.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import delete

from bot.tables.export import export_tasks
from bot.tables.importer import apply_import, preview_import
from bot.tables.parse import read_table
from bot.tables.planner import ImportOptions
from db.migrate import upgrade
from db.models import Campaign, Indicator, Person, Phase, Task, TaskEvent, TaskStatus, Unit
from db.repositories import tables as imports_repo
from db.session import Database

ZONE = ZoneInfo("Asia/Shanghai")
OPTIONS = ImportOptions(zone=ZONE, default_due_time=clock_time(17, 30), create_people=True,
                        max_rows=1_000_000)
HEADER = ["编号", "单位", "任务", "指标", "责任人", "截止时间", "阶段", "佐证材料", "说明"]
NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def table_rows(count: int) -> list[list[object]]:
    return [
        [f"K{i:06d}", f"单位{i % 50:02d}", f"第{i}项整改任务：核对并补齐相关台账", f"I{i % 30}",
         f"人员{i % 400:03d}", f"2026-12-{1 + i % 28:02d}", "整改落实", i % 3,
         "按评估标准逐项落实，资料真实准确"]
        for i in range(count)
    ]


def as_csv(rows: list[list[object]]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(str(v) for v in row) for row in rows]
    return "\n".join(lines).encode("utf-8")


def as_xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def fresh_database(directory: Path, name: str) -> Database:
    path = directory / f"{name}.db"
    await asyncio.to_thread(upgrade, f"sqlite:///{path}")
    database = Database(f"sqlite:///{path}")
    async with database.session() as session:
        campaign = Campaign(name="基准测试", timezone="Asia/Shanghai")
        session.add(campaign)
        await session.flush()
        session.add(Phase(campaign_id=campaign.id, name="整改落实", position=1))
    return database


async def best(repeat: int, run: Callable[[], Awaitable[object]],
               reset: Callable[[], Awaitable[None]] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if reset is not None:
            await reset()
        start = time.perf_counter()
        await run()
        times.append(time.perf_counter() - start)
    return min(times)


async def measure(data: bytes, name: str, directory: Path, repeat: int) -> dict[str, float]:
    database = await fresh_database(directory, name.replace(".", "_"))

    async def read() -> None:
        read_table(data, name, max_rows=OPTIONS.max_rows)

    async def preview() -> None:
        async with database.session() as session:
            await preview_import(session, data, name, OPTIONS)

    async def apply() -> None:
        async with database.session() as session:
            await apply_import(session, data, name, OPTIONS, actor_id=None, now=NOW)

    async def wipe() -> None:
        # Back to an empty roster, so every apply creates the units, people and indicators.
        async with database.session() as session:
            for model in (TaskEvent, Task, Person, Unit, Indicator):
                await session.execute(delete(model))

    async def export() -> None:
        async with database.session() as session:
            await export_tasks(session, io.BytesIO(), zone=ZONE,
                               status_labels={s: s.value for s in TaskStatus})

    try:
        results = {"baseline": await best(repeat, read)}
        results["preview"] = await best(repeat, preview, wipe)
        results["apply"] = await best(repeat, apply, wipe)
        results["again"] = await best(repeat, apply)
        results["export"] = await best(repeat, export)
    finally:
        await database.dispose()
    return results


async def orm_versus_batched(count: int, directory: Path) -> tuple[float, float]:
    """The same new tasks written by the unit of work, then by one batched INSERT."""
    database = await fresh_database(directory, "orm")
    try:
        async with database.session() as session:
            unit = Unit(name="单位")
            session.add(unit)
            await session.flush()
            unit_id = unit.id

        def rows(prefix: str) -> list[dict[str, object]]:
            return [{"campaign_id": 1, "key": f"{prefix}{i}", "title": f"任务{i}",
                     "unit_id": unit_id, "due_at": NOW, "created_at": NOW, "updated_at": NOW,
                     "status": TaskStatus.TODO, "progress": 0, "priority": 2,
                     "evidence_required": 0, "description": ""} for i in range(count)]

        start = time.perf_counter()
        async with database.session() as session:
            session.add_all([Task(**row) for row in rows("orm")])
            await session.flush()
        orm = time.perf_counter() - start
        start = time.perf_counter()
        async with database.session() as session:
            await imports_repo.insert_tasks(session=session, rows=rows("bulk"))
        batched = time.perf_counter() - start
    finally:
        await database.dispose()
    return orm, batched


async def main(rows_count: int, repeat: int) -> None:
    rows = table_rows(rows_count)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        print(f"{rows_count} rows, best of {repeat}; ratio = time / baseline (reading the file)")
        for name, data in (("table.xlsx", as_xlsx(rows)), ("table.csv", as_csv(rows))):
            results = await measure(data, name, directory, repeat)
            base = results["baseline"]
            print(f"\n{name} ({len(data) / 1024:.0f} KB)")
            for step, seconds in results.items():
                print(f"  {step:<9} {seconds:7.3f} s   {seconds / base:6.2f}×")
        orm, batched = await orm_versus_batched(rows_count, directory)
        print(f"\nwriting {rows_count} tasks: unit of work {orm:.3f} s, batched INSERT "
              f"{batched:.3f} s ({orm / batched:.1f}× faster batched)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.repeat))
