"""Migrations and the refusal to run on a schema that is behind (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.core.schema import SchemaBehind, check_schema
from bot.services import Services
from db.migrate import SchemaState, downgrade, schema_state, upgrade
from db.models import Task, TaskEvent, TaskStatus
from db.repositories import people as people_repo
from db.repositories import tasks as tasks_repo
from db.session import Database
from tests.conftest import PG_URL
from tests.utils import factories as f


@pytest.mark.skipif(bool(PG_URL), reason="uses its own SQLite file")
def test_upgrade_downgrade_upgrade_on_a_fresh_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)

    async def state() -> SchemaState:
        db = Database(url)
        try:
            return await schema_state(db.engine)
        finally:
            await db.dispose()

    result = asyncio.run(state())
    assert result.up_to_date and not result.empty, result


async def test_current_schema_passes_the_check(services: Services) -> None:
    await check_schema(services.db)


async def test_a_schema_that_is_behind_is_refused(services: Services) -> None:
    async with services.db.engine.begin() as conn:
        heads = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        # Feature branches mean several heads (rows); pretend only an older one is applied.
        await conn.execute(text("DELETE FROM alembic_version"))
        await conn.execute(text("INSERT INTO alembic_version VALUES ('0001_foundation')"))
    try:
        with pytest.raises(SchemaBehind, match="inspectbot db upgrade"):
            await check_schema(services.db)
    finally:
        # On PostgreSQL the database outlives the test: put the real heads back.
        async with services.db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
            for head in heads:
                await conn.execute(
                    text("INSERT INTO alembic_version VALUES (:v)"), {"v": head}
                )


async def test_instants_come_back_aware_and_equal(services: Services) -> None:
    beijing = datetime(2026, 12, 15, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    async with services.session() as s:
        c = await f.campaign(s)
        u = await f.unit(s)
        t = await f.task(s, c, unit=u, owner=None, due_at=beijing)
        task_id = t.id
    async with services.session() as s:
        loaded = await s.get(Task, task_id)
        assert loaded is not None and loaded.due_at is not None
        assert loaded.due_at.tzinfo is not None
        assert loaded.due_at == beijing
        assert loaded.due_at.astimezone(UTC).hour == 9


async def test_naive_datetimes_are_refused(services: Services) -> None:
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="naive"):
        async with services.session() as s:
            c = await f.campaign(s)
            u = await f.unit(s)
            await f.task(s, c, unit=u, owner=None, due_at=datetime(2026, 12, 1))


async def test_open_tasks_are_ordered_by_deadline_with_undated_last(services: Services) -> None:
    now = services.clock.now()
    async with services.session() as s:
        c = await f.campaign(s)
        u = await f.unit(s)
        p = await f.person(s, unit=u)
        later = await f.task(s, c, unit=u, owner=p, due_at=now + timedelta(days=9))
        undated = await f.task(s, c, unit=u, owner=p, due_at=None)
        sooner = await f.task(s, c, unit=u, owner=p, due_at=now + timedelta(days=1))
        await f.task(s, c, unit=u, owner=p, due_at=now, status=TaskStatus.DONE)
        found = await tasks_repo.open_tasks_of(session=s, owner_id=p.id)
        assert [t.id for t in found] == [sooner.id, later.id, undated.id]
        assert await tasks_repo.count_open_tasks_of(session=s, owner_id=p.id) == 3


async def test_unit_subtree(services: Services) -> None:
    async with services.session() as s:
        county = await f.unit(s, "青川县")
        edu = await f.unit(s, "县教育局", parent=county)
        school = await f.unit(s, "城关小学", parent=edu)
        other = await f.unit(s, "县财政局", parent=county)
        assert await people_repo.subtree_unit_ids(session=s, root_id=edu.id) == {edu.id, school.id}
        assert await people_repo.subtree_unit_ids(session=s, root_id=county.id) == {
            county.id, edu.id, school.id, other.id,
        }


async def test_history_is_kept_in_order(services: Services) -> None:
    now = services.clock.now()
    async with services.session() as s:
        c = await f.campaign(s)
        u = await f.unit(s)
        t = await f.task(s, c, unit=u, owner=None)
        for i in range(3):
            await tasks_repo.add_event(session=s, task_id=t.id, actor_id=None,
                                       at=now + timedelta(minutes=i), kind="note", note=f"n{i}")
        events = await tasks_repo.events_of(session=s, task_id=t.id)
        assert [e.note for e in events] == ["n0", "n1", "n2"]
        latest = await tasks_repo.latest_note(session=s, task_id=t.id)
        assert latest is not None and latest.note == "n2"
        count = (await s.execute(select(TaskEvent))).scalars().all()
        assert len(count) == 3
