"""Benchmark: the leaders' summary and the ledger on a county-sized campaign (SQLite).

    .venv/bin/python -m bench.reports [--sizes 10000,50000,200000] [--repeat 7]

Builds one campaign with 2,000 units and 20,000 people, grows it to each task count with
Core bulk inserts, and times `build_summary` for a leader (everything), a township leader
(a subtree of ~20 units) and a responsible person. Each figure is also given as a ratio to
a baseline measured in the same process right before it: `SELECT count(*)` over the
campaign's tasks, the cheapest possible full look at them. Before the figures of each
size the tallies' minute job runs once (the mark moved to now, the rows folded), as it
does every minute in a running bot. At the largest size it writes
the ledger with each method — the bot's (`write_ledger`), the previous openpyxl path kept
here as the baseline, XlsxWriter's constant-memory mode (when installed) and plain CSV —
each in a fresh process, and reports wall and CPU time as ratios to the baseline of the
same run, and each process's peak RSS:

    .venv/bin/python -m bench.reports --sizes 200000 --repeat 3 --ledger-repeat 2

`--handler` drives `/summary` through the real Application instead (the gate, the scope,
the handler, its views and the reply to a recording request, no network, no send limiter)
for a leader, a township leader and a responsible person, each interleaved with `/help`
from the same person as the baseline (ratio = /summary ÷ /help, medians). `--units` sets
the county's size, so `--units 20` against `--units 2000` shows whether a scoped reader's
summary depends on the units outside their scope:

    .venv/bin/python -m bench.reports --handler --units 2000 --sizes 10000,50000,200000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, insert, select, update
from sqlalchemy.engine import Connection

from bot.reports.ledger import LEDGER_COLUMNS, LedgerWords, ledger_values, write_ledger
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
from db.repositories import tasks as tasks_repo
from db.repositories.reports import EVERYTHING, TaskScope, kept
from db.repositories.reports import ledger as ledger_repo
from db.session import Database

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=ZONE)
UNITS = 2000  # --units
PEOPLE = 20000
# Linked accounts for --handler: a county leader, the leader of township #3, a person.
LEADER, TOWNSHIP_LEADER, RESPONSIBLE = 1, 3, 7
FIRST_USER = 8_000_000
INDICATORS = 60
VETO_EVERY = 8  # one indicator in eight is one-vote-veto
STATUS_WEIGHTS = {
    TaskStatus.DONE: 40, TaskStatus.IN_PROGRESS: 25, TaskStatus.TODO: 20,
    TaskStatus.BLOCKED: 4, TaskStatus.SUBMITTED: 6, TaskStatus.CANCELLED: 5,
}


def _seed_roster(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        seed_roster_on(conn)
    engine.dispose()


def seed_roster_on(conn: Connection) -> None:
    """The campaign, its phases, the units, people and indicators (no tasks)."""
    start = date(2026, 8, 1)
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
    townships = _townships()
    units += [{"id": i, "name": f"乡镇{i:03d}", "kind": UnitKind.TOWNSHIP, "parent_id": 1}
              for i in range(2, townships + 2)]
    units += [{"id": i, "name": f"学校{i:04d}", "kind": UnitKind.SCHOOL,
               "parent_id": _township_of(i)} for i in range(townships + 2, UNITS + 1)]
    conn.execute(insert(Unit), units)
    roles = {LEADER: Role.LEADER}
    conn.execute(insert(Person), [{
        "id": i, "name": f"人员{i:05d}", "unit_id": 1 + (i % UNITS),
        "role": roles.get(i, Role.RESPONSIBLE), "language": "zh", "is_active": True,
        "telegram_id": FIRST_USER + i if i in (LEADER, TOWNSHIP_LEADER, RESPONSIBLE) else None,
    } for i in range(1, PEOPLE + 1)])
    conn.execute(update(Unit).where(Unit.id == 3).values(leader_id=TOWNSHIP_LEADER))
    conn.execute(insert(Indicator), [{
        "id": i, "code": f"B{i:02d}", "name": f"指标{i:02d}", "veto": i % VETO_EVERY == 0,
        "description": "",
    } for i in range(1, INDICATORS + 1)])


def _townships() -> int:
    """99 townships under the county in a county of 2,000 units; fewer in a small one."""
    return min(99, max(1, UNITS // 20))


def _township_of(school: int) -> int:
    return 2 + (school % _townships())


def _township_scope() -> frozenset[int]:
    """Township #3 and the schools under it, as `Actor.led_unit_ids` would hold them."""
    return frozenset({3} | {i for i in range(_townships() + 2, UNITS + 1)
                            if _township_of(i) == 3})


def _grow(url: str, first_id: int, count: int, rng: random.Random) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        grow_on(conn, first_id, count, rng)
    engine.dispose()


def grow_on(conn: Connection, first_id: int, count: int, rng: random.Random) -> None:
    """Add `count` tasks (ids from `first_id`) with a plausible history of events."""
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
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
    conn.execute(insert(Task), tasks)
    conn.execute(insert(TaskEvent), events)


async def _median_ms(repeat: int, action: Callable[[], Awaitable[object]]) -> float:
    await action()  # warm caches and compiled statements
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def _measure_summary(db: Database, repeat: int) -> list[tuple[str, float, float]]:
    # Here, not at the top: the export processes below stay free of the quizzes' imports.
    from bot.quiz.readiness import ReadinessCache

    township = _township_scope()
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


def _command(person: int, text: str, number: int, bot: Any) -> Any:
    from telegram import Chat, Message, MessageEntity, Update, User

    user = User(FIRST_USER + person, f"人员{person}", is_bot=False)
    message = Message(number, NOW, Chat(user.id, Chat.PRIVATE), from_user=user, text=text,
                      entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, len(text))])
    message.set_bot(bot)
    return Update(number, message=message)


async def _measure_handler(path: Path, repeat: int) -> list[tuple[str, float, float, float]]:
    """`/summary` and `/help` through the Application, alternating, for three readers."""
    from bench.limits import SendAtOnce
    from bench.quiz import _Recorder
    from bot.app import build_application
    from bot.config import AppConfig
    from bot.core import heap
    from bot.core.clock import FrozenClock
    from bot.services import build_services

    config = AppConfig.model_validate({
        "database": {"url": f"sqlite:///{path}"},
        "storage": {"data_dir": str(path.parent / "data")},
        "quiz": {"load_starter_bank": False},
        # One sender's commands back to back: the per-sender budget is not what is measured.
        "flood": {"burst": 1000, "per_minute": 6000},
    })
    services = build_services(config, clock=FrozenClock(NOW))
    app = build_application(config, services=services, request=_Recorder(), updater=False,
                            rate_limiter=SendAtOnce())
    readers = {
        "leader (everything)": LEADER,
        f"township leader ({len(_township_scope())} units)": TOWNSHIP_LEADER,
        "responsible person": RESPONSIBLE,
    }
    numbers = itertools.count(1)
    results = []
    # The running bot's minute job has moved the mark and folded the tallies' rows.
    await services.reports.tallies.keep()
    heap.settle()  # as the bot's post-init does, once per process
    async with app:
        for label, person in readers.items():
            summaries: list[float] = []
            helps: list[float] = []
            for i in range(repeat + 1):
                for text, samples in (("/help", helps), ("/summary", summaries)):
                    update = _command(person, text, next(numbers), app.bot)
                    started = time.perf_counter()
                    await app.process_update(update)
                    if i:  # the first round warms caches and compiled statements
                        samples.append((time.perf_counter() - started) * 1000)
            took, base = statistics.median(summaries), statistics.median(helps)
            results.append((label, took, base, took / base))
    await services.db.dispose()
    return results


LEDGER_METHODS = ("openpyxl", "ledger", "xlsxwriter", "csv")


async def _rows(db: Database) -> AsyncIterator[list[list[Any]]]:
    """The ledger's rows as cell values (the same for every method), in batches; each row
    ends with whether it is overdue."""
    texts = Texts.load()
    words = LedgerWords.of(texts, "zh")
    number = 0
    async with db.session() as session:
        partners = await tasks_repo.partner_names(session=session, campaign_id=1)
        async for batch in ledger_repo.ledger_rows(session=session, campaign_id=1,
                                                    scope=EVERYTHING):
            values = []
            for row in batch:
                number += 1
                cells, late = ledger_values(number, row, words, NOW, ZONE,
                                            partners.get(row.id, ""))
                values.append([*cells, late])
            yield values


async def _openpyxl_ledger(db: Database, path: Path) -> int:
    """The previous ledger, kept as the baseline: openpyxl's write-only mode, row by row on
    the event loop, dates and overdue rows styled with WriteOnlyCell, zipped in a thread."""
    from openpyxl import Workbook as OpenpyxlBook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    red = PatternFill(fill_type="solid", start_color="FFC7CE", end_color="FFC7CE")
    book = OpenpyxlBook(write_only=True)
    sheet = book.create_sheet("整改台账")
    sheet.freeze_panes = "A2"
    header = []
    for key, *_ in LEDGER_COLUMNS:
        cell = WriteOnlyCell(sheet, value=key)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    dated = {i for i, (key, *_) in enumerate(LEDGER_COLUMNS) if key in ("due", "updated")}
    count = 0
    async for batch in _rows(db):
        for *values, late in batch:
            cells: list[Any] = []
            for i, value in enumerate(values):
                if late or (i in dated and value is not None):
                    cell = WriteOnlyCell(sheet, value=value)
                    if late:
                        cell.fill = red
                    if i in dated:
                        cell.number_format = "yyyy-mm-dd hh:mm"
                    cells.append(cell)
                else:
                    cells.append(value)
            sheet.append(cells)
            count += 1
            if count % 200 == 0:
                await asyncio.sleep(0)
    await asyncio.to_thread(book.save, str(path))
    return count


async def _xlsxwriter_ledger(db: Database, path: Path) -> int:
    """XlsxWriter in constant-memory mode, for comparison (not a dependency of the bot)."""
    import xlsxwriter  # type: ignore[import-not-found, import-untyped, unused-ignore]

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("整改台账")
    red = book.add_format({"bg_color": "#FFC7CE"})
    dated = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    count = 0
    async for batch in _rows(db):
        for *values, late in batch:
            count += 1
            for column, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(count, column, value, red if late else None)
                elif isinstance(value, datetime | date):
                    sheet.write_datetime(count, column, value, dated)
                else:
                    sheet.write_number(count, column, value, red if late else None)
    await asyncio.to_thread(book.close)
    return count


async def _csv_ledger(db: Database, path: Path) -> int:
    """The same rows as CSV: the floor any spreadsheet writer is compared with."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        async for batch in _rows(db):
            for *values, _late in batch:
                writer.writerow(values)
                count += 1
    return count


async def _export(db: Database, method: str, path: Path) -> int:
    if method == "ledger":
        async with db.session() as session:
            campaign = await session.get(Campaign, 1)
            assert campaign is not None
            stats = await write_ledger(session, campaign=campaign, scope=EVERYTHING, now=NOW,
                                       zone=ZONE, texts=Texts.load(), lang="zh", path=path)
        return stats.rows
    if method == "openpyxl":
        return await _openpyxl_ledger(db, path)
    if method == "xlsxwriter":
        return await _xlsxwriter_ledger(db, path)
    return await _csv_ledger(db, path)


def _methods() -> tuple[str, ...]:
    try:
        import xlsxwriter  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: F401
    except ImportError:
        return tuple(m for m in LEDGER_METHODS if m != "xlsxwriter")
    return LEDGER_METHODS


async def _measure_ledger(url: str, workdir: Path, repeat: int,
                         only: Sequence[str] = ()) -> None:
    """Each method in a fresh process (its peak RSS is its own), interleaved `repeat` times;
    the ratios are to the openpyxl baseline measured in the same run."""
    methods = tuple(m for m in _methods() if not only or m in only or m == "openpyxl")
    runs: dict[str, list[tuple[int, float, float, int, int, int]]] = {m: [] for m in methods}
    for _ in range(repeat):
        for method in methods:
            out = workdir / f"ledger-{method}.{'csv' if method == 'csv' else 'xlsx'}"
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.reports", "--export", method, url, str(out),
                stdout=asyncio.subprocess.PIPE,
            )
            stdout, _ = await child.communicate()
            assert child.returncode == 0, f"the {method} export failed"
            rows, took, used, before_kb, peak_kb = stdout.decode().split()
            runs[method].append((int(rows), float(took), float(used), int(before_kb),
                                 int(peak_kb), out.stat().st_size))
            out.unlink()
    base_wall = statistics.median(r[1] for r in runs["openpyxl"])
    base_cpu = statistics.median(r[2] for r in runs["openpyxl"])
    print(f"  ledger at {runs['ledger'][0][0]:,} rows (medians of {repeat}; "
          "ratio = openpyxl baseline / method, same run):")
    for method, found in runs.items():
        wall = statistics.median(r[1] for r in found)
        cpu = statistics.median(r[2] for r in found)
        peak = max(r[4] for r in found) / 1024
        before = max(r[3] for r in found) / 1024
        size = found[-1][5] / 1e6
        print(f"    {method:<10} {wall:7.1f} s wall ({base_wall / wall:4.1f}x)  "
              f"{cpu:6.1f} s CPU ({base_cpu / cpu:4.1f}x)  peak RSS {peak:4.0f} MB "
              f"({before:.0f} MB before)  {size:5.1f} MB file")


def _high_water_kb() -> int:
    """Peak RSS of this process image (Linux VmHWM; unlike ru_maxrss it is not carried
    over from the parent through exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _export_main(method: str, url: str, out: Path) -> None:
    """`--export METHOD URL OUT`: rows, seconds, CPU seconds, RSS before and peak (KB)."""

    async def run() -> None:
        db = Database(url)
        before = _high_water_kb()
        started, cpu = time.perf_counter(), _cpu()
        try:
            rows = await _export(db, method, out)
        finally:
            await db.dispose()
        took, used = time.perf_counter() - started, _cpu() - cpu
        print(rows, f"{took:.3f}", f"{used:.3f}", before, _high_water_kb())

    asyncio.run(run())


async def _count(db: Database) -> object:
    async with db.session() as session:
        stmt = select(func.count()).select_from(Task).where(Task.campaign_id == 1)
        return (await session.execute(stmt)).scalar_one()


async def _keep_tallies(db: Database) -> None:
    """What the running bot's minute job does: the mark to now, the rows folded."""
    async with db.session() as session:
        await kept.move_mark(session=session, campaign_id=1, to=NOW)
    async with db.session() as session:
        await kept.compact(session=session, campaign_id=1)


async def _run(sizes: list[int], repeat: int, workdir: Path, ledger_repeat: int,
               methods: Sequence[str] = (), *, handler: bool = False) -> None:
    path = workdir / "bench.db"
    url = f"sqlite:///{path}"
    if handler:
        from db.migrate import upgrade

        # The bot refuses a database without its revision; Alembic runs its own loop.
        await asyncio.to_thread(upgrade, url)
    _seed_roster(url)
    rng = random.Random(20261122)
    have = 0
    print(f"units={UNITS} people={PEOPLE} indicators={INDICATORS}")
    for size in sizes:
        started = time.perf_counter()
        _grow(url, have + 1, size - have, rng)
        have = size
        print(f"\n== {size:,} tasks (inserted in {time.perf_counter() - started:.1f} s)")
        if handler:
            for label, took, base, ratio in await _measure_handler(path, repeat):
                print(f"  /summary {label:<32} {took:8.1f} ms   /help {base:5.1f} ms"
                      f"   {ratio:6.1f}x /help")
            continue
        db = Database(url)
        try:
            await _keep_tallies(db)
            for label, took, ratio in await _measure_summary(db, repeat):
                print(f"  /summary {label:<32} {took:8.1f} ms   {ratio:6.1f}x count(*)")
            if size == sizes[-1] and ledger_repeat:
                await _measure_ledger(url, workdir, ledger_repeat, methods)
        finally:
            await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,200000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--ledger-repeat", type=int, default=1,
                        help="runs of each ledger method at the largest size (0: none)")
    parser.add_argument("--ledger-methods", default="",
                        help=f"some of {','.join(LEDGER_METHODS)} (the baseline always runs)")
    parser.add_argument("--handler", action="store_true",
                        help="/summary through the Application, against /help (no ledger)")
    parser.add_argument("--units", type=int, default=2000, help="units in the county")
    parser.add_argument("--export", nargs=3, metavar=("METHOD", "URL", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        _export_main(args.export[0], args.export[1], Path(args.export[2]))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    global UNITS
    UNITS = args.units
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        methods = [m for m in args.ledger_methods.split(",") if m]
        asyncio.run(_run(sizes, args.repeat, Path(tmp), args.ledger_repeat, methods,
                         handler=args.handler))


if __name__ == "__main__":
    main()
