"""Benchmark: the leaders' summary and the ledger on a county-sized campaign (SQLite).

    .venv/bin/python -m bench.reports [--sizes 10000,50000,200000] [--repeat 7]

Builds one campaign with 2,000 units and 20,000 people, grows it to each task count with
Core bulk inserts, and times `build_summary` for a leader (everything), a township leader
(a subtree of ~20 units) and a responsible person. Each figure is also given as a ratio to
a baseline measured in the same process right before it: `SELECT count(*)` over the
campaign's tasks, the cheapest possible full look at them. At the largest size it exports
the ledger in a fresh process and reports its time and that process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, insert, select

from bot.quiz.readiness import ReadinessCache
from bot.reports.ledger import write_ledger
from bot.reports.summary import build_summary
from bot.texts import Texts
from db.base import Base
from db.models import (
    Campaign,
    Indicator,
    Person,
    Phase,
    Role,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
    UnitKind,
)
from db.repositories.reports import EVERYTHING, TaskScope
from db.session import Database

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=ZONE)
UNITS = 2000
PEOPLE = 20000
INDICATORS = 60
VETO_EVERY = 8  # one indicator in eight is one-vote-veto
STATUS_WEIGHTS = {
    TaskStatus.DONE: 40, TaskStatus.IN_PROGRESS: 25, TaskStatus.TODO: 20,
    TaskStatus.BLOCKED: 4, TaskStatus.SUBMITTED: 6, TaskStatus.CANCELLED: 5,
}


def _seed_roster(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    start = date(2026, 8, 1)
    with engine.begin() as conn:
        conn.execute(insert(Campaign), [{
            "id": 1, "name": "义务教育优质均衡迎检", "inspection_date": date(2026, 12, 20),
            "timezone": "Asia/Shanghai", "is_active": True,
        }])
        names = ["宣传动员", "自查自评", "整改", "督查", "模拟验收", "巩固提高", "迎检"]
        conn.execute(insert(Phase), [{
            "id": i + 1, "campaign_id": 1, "name": n, "position": i,
            "starts_on": start + timedelta(days=20 * i),
            "ends_on": start + timedelta(days=20 * i + 19),
        } for i, n in enumerate(names)])
        # 1 county, 99 townships/departments under it, the rest schools under townships.
        units: list[dict[str, Any]] = [{"id": 1, "name": "县人民政府", "kind": UnitKind.COUNTY}]
        units += [{"id": i, "name": f"乡镇{i:03d}", "kind": UnitKind.TOWNSHIP, "parent_id": 1}
                  for i in range(2, 101)]
        units += [{"id": i, "name": f"学校{i:04d}", "kind": UnitKind.SCHOOL,
                   "parent_id": 2 + (i % 99)} for i in range(101, UNITS + 1)]
        conn.execute(insert(Unit), units)
        conn.execute(insert(Person), [{
            "id": i, "name": f"人员{i:05d}", "unit_id": 1 + (i % UNITS), "role": Role.RESPONSIBLE,
            "language": "zh", "is_active": True,
        } for i in range(1, PEOPLE + 1)])
        conn.execute(insert(Indicator), [{
            "id": i, "code": f"B{i:02d}", "name": f"指标{i:02d}", "veto": i % VETO_EVERY == 0,
            "description": "",
        } for i in range(1, INDICATORS + 1)])
    engine.dispose()


def _grow(url: str, first_id: int, count: int, rng: random.Random) -> None:
    """Add `count` tasks (ids from `first_id`) with a plausible history of events."""
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    engine = create_engine(url)
    tasks: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for task_id in range(first_id, first_id + count):
        status = rng.choices(statuses, weights)[0]
        created = NOW - timedelta(days=rng.randint(20, 110), minutes=rng.randint(0, 600))
        due = None if rng.random() < 0.1 else NOW + timedelta(days=rng.randint(-30, 30))
        done_at = created + timedelta(days=rng.randint(1, 19)) if status is TaskStatus.DONE else None
        tasks.append({
            "id": task_id, "campaign_id": 1, "key": f"k{task_id}",
            "title": f"整改任务 {task_id}：完善功能室配备与台账",
            "description": "按评估细则逐项整改，形成佐证材料。",
            "indicator_id": rng.randint(1, INDICATORS), "unit_id": rng.randint(1, UNITS),
            "owner_id": rng.randint(1, PEOPLE), "phase_id": rng.randint(1, 7), "due_at": due,
            "priority": 2, "status": status,
            "progress": 100 if status is TaskStatus.DONE else rng.choice((0, 25, 50, 75)),
            "evidence_required": rng.randint(0, 3), "created_at": created,
            "updated_at": done_at or created, "done_at": done_at,
        })
        if done_at is not None:
            events.append({"task_id": task_id, "at": done_at, "kind": "status",
                           "old_value": "in_progress", "new_value": "done",
                           "note": "已完成并上传台账" if rng.random() < 0.3 else ""})
        if rng.random() < 0.5:
            events.append({"task_id": task_id, "at": created + timedelta(hours=5),
                           "kind": "note", "old_value": None, "new_value": None,
                           "note": f"进展说明 {task_id}"})
    with engine.begin() as conn:
        conn.execute(insert(Task), tasks)
        conn.execute(insert(TaskEvent), events)
    engine.dispose()


async def _median_ms(repeat: int, action: Callable[[], Awaitable[object]]) -> float:
    await action()  # warm caches and compiled statements
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def _measure_summary(db: Database, repeat: int) -> list[tuple[str, float, float]]:
    # Township #3 and the schools under it, as `Actor.led_unit_ids` would hold them.
    township = frozenset({3} | {i for i in range(101, UNITS + 1) if 2 + (i % 99) == 3})
    scopes = {
        "leader (everything)": EVERYTHING,
        f"township leader ({len(township)} units)": TaskScope(unit_ids=township, owner_id=7),
        "responsible person": TaskScope(owner_id=7),
    }
    async with db.session() as session:
        campaign = await session.get(Campaign, 1)
        assert campaign is not None

        async def baseline() -> object:
            stmt = select(func.count()).select_from(Task).where(Task.campaign_id == 1)
            return (await session.execute(stmt)).scalar_one()

        results = []
        for label, scope in scopes.items():
            base = await _median_ms(repeat, baseline)

            async def summary(scope: TaskScope = scope) -> object:
                return await build_summary(session, campaign, scope, NOW, ZONE,
                                           readiness=ReadinessCache(zone=ZONE, threshold=0.8))

            took = await _median_ms(repeat, summary)
            results.append((label, took, took / base))
    return results


async def _export(db: Database, path: Path) -> int:
    async with db.session() as session:
        campaign = await session.get(Campaign, 1)
        assert campaign is not None
        stats = await write_ledger(session, campaign=campaign, scope=EVERYTHING, now=NOW,
                                   zone=ZONE, texts=Texts.load(), lang="zh", path=path)
    return stats.rows


async def _measure_ledger(db: Database, url: str, workdir: Path) -> None:
    """Export in a fresh process, so its peak RSS is the export's and not the loader's."""
    baseline = await _median_ms(3, lambda: _count(db))
    out = workdir / "ledger.xlsx"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.reports", "--export", url, str(out),
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await child.communicate()
    assert child.returncode == 0, "the export process failed"
    rows, took, before_kb, peak_kb = stdout.decode().split()
    seconds = float(took)
    print(f"  ledger export: {int(rows):,} rows in {seconds:.1f} s "
          f"({seconds * 1000 / baseline:,.0f}x count(*)), {out.stat().st_size / 1e6:.1f} MB file; "
          f"peak RSS {int(peak_kb) / 1024:.0f} MB ({int(before_kb) / 1024:.0f} MB of it "
          f"before the export started)")


def _high_water_kb() -> int:
    """Peak RSS of this process image (Linux VmHWM; unlike ru_maxrss it is not carried
    over from the parent through exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _export_main(url: str, out: Path) -> None:
    """`--export URL OUT`: rows, seconds, RSS before and peak RSS (KB), for the parent."""

    async def run() -> None:
        db = Database(url)
        before = _high_water_kb()
        started = time.perf_counter()
        try:
            rows = await _export(db, out)
        finally:
            await db.dispose()
        took = time.perf_counter() - started
        peak = _high_water_kb()
        print(rows, f"{took:.3f}", before, peak)

    asyncio.run(run())


async def _count(db: Database) -> object:
    async with db.session() as session:
        stmt = select(func.count()).select_from(Task).where(Task.campaign_id == 1)
        return (await session.execute(stmt)).scalar_one()


async def _run(sizes: list[int], repeat: int, workdir: Path) -> None:
    path = workdir / "bench.db"
    url = f"sqlite:///{path}"
    _seed_roster(url)
    rng = random.Random(20261122)
    have = 0
    print(f"units={UNITS} people={PEOPLE} indicators={INDICATORS}")
    for size in sizes:
        started = time.perf_counter()
        _grow(url, have + 1, size - have, rng)
        have = size
        print(f"\n== {size:,} tasks (inserted in {time.perf_counter() - started:.1f} s)")
        db = Database(url)
        try:
            for label, took, ratio in await _measure_summary(db, repeat):
                print(f"  /summary {label:<32} {took:8.1f} ms   {ratio:6.1f}x count(*)")
            if size == sizes[-1]:
                await _measure_ledger(db, url, workdir)
        finally:
            await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,200000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--export", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        _export_main(args.export[0], Path(args.export[1]))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        asyncio.run(_run(sizes, args.repeat, Path(tmp)))


if __name__ == "__main__":
    main()
