"""The tallies the database keeps (`db.models.tallies`) against counting the tasks.

Random histories of one campaign — tasks inserted in bulk, updated one by one and in
sets (status, deadline, progress, unit, indicator, phase), deleted; the mark moved back
and forth; the rows folded — must leave the whole county's summary equal to what
counting the task rows one by one gives, at any instant asked about. Then: the migrated
schema has the triggers, a deleted campaign leaves no rows, the minute job folds the
rows, `inspectbot db tallies` finds and mends counts the triggers missed, and on
PostgreSQL a write in flight cannot slip past a moving mark.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, text, update

from bot.cli import main
from bot.services import Services
from db.models import Campaign, Task, TaskStatus, TaskTally, TaskTallyMark, Unit, UnitKind
from db.models.tallies import EPOCH, TRIGGERS, UNIT_PART, drop_triggers, install_triggers
from db.repositories import reports as reports_repo
from db.repositories.reports import EVERYTHING, kept
from db.session import Database
from tests.conftest import DEFAULT_NOW, PG_URL
from tests.db.test_summary_tallies import TASK, UNITS, _brute, _seed

NOW = DEFAULT_NOW
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INSTANT = st.integers(-25 * 24 * 60, 25 * 24 * 60).map(lambda m: NOW + timedelta(minutes=m))
CHANGE = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(list(TaskStatus)),
    "due_at": st.one_of(st.none(), INSTANT),
    "progress": st.sampled_from([0, 30, 60, 100]),
    "unit_id": st.integers(1, UNITS),
    "indicator_id": st.one_of(st.none(), st.integers(1, 4)),
    "phase_id": st.one_of(st.none(), st.integers(1, 3)),
    "title": st.just("改过的标题"),
})
STEP = st.one_of(
    st.tuples(st.just("insert"), st.lists(TASK, min_size=1, max_size=8)),
    st.tuples(st.just("update"), st.integers(0, 30), CHANGE),
    st.tuples(st.just("update_all"), st.sampled_from(list(TaskStatus)), CHANGE),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("mark"), INSTANT),
    st.tuples(st.just("fold"), st.none()),
)


async def _play(url: str, steps: list[tuple[Any, ...]], asked: list[Any]) -> None:
    db = Database(url)
    try:
        async with db.session() as s:
            await s.execute(delete(Task))
            await s.execute(update(TaskTallyMark).values(mark=EPOCH, previous=EPOCH))
        ids: list[int] = []
        next_id = 1
        for step in steps:
            async with db.session() as s:
                kind = step[0]
                if kind == "insert":
                    rows = [{**t, "id": next_id + i, "campaign_id": 1, "key": f"k{next_id + i}",
                             "title": "任务"} for i, t in enumerate(step[1])]
                    await s.execute(insert(Task), rows)
                    ids += [r["id"] for r in rows]
                    next_id += len(rows)
                elif kind == "update" and ids and step[2]:
                    task = await s.get(Task, ids[step[1] % len(ids)])
                    assert task is not None
                    for name, value in step[2].items():
                        setattr(task, name, value)
                elif kind == "update_all" and step[2]:
                    await s.execute(update(Task).where(Task.status == step[1]).values(**step[2]))
                elif kind == "delete" and ids:
                    gone = ids.pop(step[1] % len(ids))
                    await s.execute(delete(Task).where(Task.id == gone))
                elif kind == "mark":
                    await kept.move_mark(session=s, campaign_id=1, to=step[1])
                elif kind == "fold":
                    await kept.compact(session=s, campaign_id=1)
        # A task of the other campaign, which must count nowhere here.
        async with db.session() as s:
            await s.execute(insert(Task), [{"id": 10_000, "campaign_id": 2, "key": "x",
                                            "title": "别的", "unit_id": 1, "status": "todo"}])
        async with db.session() as s:
            tasks = [
                {"unit_id": t.unit_id, "indicator_id": t.indicator_id, "phase_id": t.phase_id,
                 "status": t.status, "due_at": t.due_at, "progress": t.progress}
                for t in (await s.scalars(select(Task).where(Task.campaign_id == 1))).all()
            ]
            for at in asked:
                counted = await reports_repo.summary_tallies(
                    session=s, campaign_id=1, scope=EVERYTHING, now=at)
                assert {t.key: t for t in counted.by_unit} == _brute(
                    tasks, lambda t: t["unit_id"], now=at)
                assert {t.key: t for t in counted.by_indicator} == _brute(
                    tasks, lambda t: t["indicator_id"], now=at)
                assert {t.key: t for t in counted.by_phase} == _brute(
                    tasks, lambda t: t["phase_id"], now=at)
    finally:
        await db.dispose()


def test_kept_tallies_equal_counting_task_by_task(database_url: str) -> None:
    asyncio.run(_seed(database_url))

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=st.lists(STEP, max_size=12), asked=st.lists(INSTANT, min_size=1, max_size=3))
    def check(steps: list[tuple[Any, ...]], asked: list[Any]) -> None:
        asyncio.run(_play(database_url, steps, asked))

    check()


async def test_the_migrated_schema_has_the_triggers(services: Services) -> None:
    async with services.db.session() as s:
        if services.db.dialect == "postgresql":
            found = text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            found = text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = set((await s.execute(found)).scalars().all())
    assert set(TRIGGERS) <= names


async def test_a_new_campaign_has_a_mark_and_a_deleted_one_leaves_no_rows(
    services: Services,
) -> None:
    async with services.db.session() as s:
        s.add(Campaign(id=7, name="新", timezone="Asia/Shanghai", is_active=False))
        await s.flush()
        s.add(Unit(id=1, name="学校", kind=UnitKind.SCHOOL))
        await s.flush()
        await s.execute(insert(Task), [{"id": 1, "campaign_id": 7, "key": "a", "title": "甲",
                                        "unit_id": 1, "status": "todo"}])
        mark = await s.get(TaskTallyMark, 7)
        assert mark is not None and mark.mark == EPOCH
    async with services.db.session() as s:
        await s.execute(delete(Campaign).where(Campaign.id == 7))
    async with services.db.session() as s:
        left = await s.scalar(select(func.count()).select_from(TaskTally)
                              .where(TaskTally.campaign_id == 7))
        assert left == 0
        assert await s.get(TaskTallyMark, 7) is None


async def test_the_minute_job_moves_the_mark_and_folds_the_rows(services: Services) -> None:
    await _seed(services.config.database.url)
    async with services.db.session() as s:
        await s.execute(insert(Task), [
            {"id": n, "campaign_id": 1, "key": f"k{n}", "title": "任务", "unit_id": 1 + n % 3,
             "status": "todo", "due_at": NOW + timedelta(days=n - 10), "progress": 10}
            for n in range(1, 21)
        ])
    async with services.db.session() as s:
        for n in range(1, 21, 2):
            await s.execute(update(Task).where(Task.id == n).values(progress=50))
        before = await reports_repo.summary_tallies(session=s, campaign_id=1, scope=EVERYTHING,
                                                    now=NOW)
    await services.reports.tallies.keep()
    async with services.db.session() as s:
        assert (await s.get(TaskTallyMark, 1)).mark == NOW  # type: ignore[union-attr]
        # One row per group: three units, one indicator × phase (none × none).
        assert await kept.tally_rows(session=s, campaign_id=1) == 4
        after = await reports_repo.summary_tallies(session=s, campaign_id=1, scope=EVERYTHING,
                                                   now=NOW)
    assert after == before
    assert sum(t.overdue for t in after.by_unit) == 9  # the tenth is due at NOW itself



@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite has one writer at a time")
async def test_a_write_in_flight_cannot_slip_past_a_moving_mark(services: Services) -> None:
    """A task made late (deadline before the new mark) by a transaction still open while
    the mark moves: the move waits for it and counts it, or the write reads the new mark."""
    await _seed(services.config.database.url)
    async with services.db.session() as s:
        await s.execute(insert(Task), [{"id": 1, "campaign_id": 1, "key": "a", "title": "甲",
                                        "unit_id": 1, "status": "todo",
                                        "due_at": NOW + timedelta(days=3)}])
    async with services.db.session() as writer:
        await writer.execute(update(Task).where(Task.id == 1)
                             .values(due_at=NOW - timedelta(hours=1)))
        moving = asyncio.create_task(_move(services.db, NOW))
        await asyncio.sleep(0.3)
        assert not moving.done()  # waiting for the writer, which holds the old mark
    assert await moving == 1
    async with services.db.session() as s:
        rows = await s.execute(select(func.sum(TaskTally.late))
                               .where(TaskTally.campaign_id == 1, TaskTally.part == UNIT_PART))
        assert rows.scalar_one() == 1  # in the tallies themselves, not left to a correction
        counted = await reports_repo.summary_tallies(session=s, campaign_id=1, scope=EVERYTHING,
                                                     now=NOW)
        assert [t.overdue for t in counted.by_unit] == [1]


async def _move(db: Database, to: Any) -> int:
    async with db.session() as s:
        return await kept.move_mark(session=s, campaign_id=1, to=to)


def test_db_tallies_finds_counts_that_parted_from_the_tasks_and_counts_again(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n'
                      f'[storage]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    assert main(["-c", str(config), "setup", str(EXAMPLES / "campaign.toml")]) == 0
    assert main(["-c", str(config), "import", "--yes", str(EXAMPLES / "breakdown.csv")]) == 0
    capsys.readouterr()
    assert main(["-c", str(config), "db", "tallies"]) == 0
    assert "组计数与任务一致" in capsys.readouterr().out

    # Tasks closed behind the triggers' back (as a migration that lost them would).
    asyncio.run(_close_without_triggers(database_url))
    assert main(["-c", str(config), "db", "tallies"]) == 1
    assert "组计数与任务不符，已按任务重新统计" in capsys.readouterr().out
    assert main(["-c", str(config), "db", "tallies"]) == 0
    assert "组计数与任务一致" in capsys.readouterr().out


async def _close_without_triggers(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(drop_triggers)
            await conn.execute(update(Task).where(Task.id % 3 == 0).values(status="done"))
            await conn.run_sync(install_triggers)
    finally:
        await db.dispose()
