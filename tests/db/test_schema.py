"""Migrations and the refusal to run on a schema that is behind (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from bot.core.schema import SchemaBehind, check_schema
from bot.services import Services
from db.migrate import (
    SchemaState,
    downgrade,
    expected_head,
    schema_state,
    script_directory,
    upgrade,
)
from db.models import Task, TaskEvent, TaskStatus
from db.repositories import people as people_repo
from db.repositories import tasks as tasks_repo
from db.session import Database
from tests.conftest import PG_URL
from tests.utils import factories as f


def test_history_is_one_linear_chain() -> None:
    """One base, one head, nothing merged, labelled or depended on: `upgrade head` and
    "behind" each mean one thing. A new revision revises the current head."""
    scripts = script_directory()
    heads = scripts.get_heads()
    assert len(heads) == 1, (
        f"the migration history has {len(heads)} heads {sorted(heads)}; give the new "
        "revision the current head as its down_revision instead of starting a branch"
    )
    assert scripts.get_bases() == ["0001_foundation"]
    chain = list(reversed(list(scripts.walk_revisions())))
    for script in chain:
        assert not script.is_merge_point, f"{script.revision} merges {script.down_revision}"
        assert not script.is_branch_point, f"{script.revision} has several children"
        assert not script.branch_labels, f"{script.revision} has branch labels"
        assert not script.dependencies, f"{script.revision} depends_on another revision"
    numbers = [script.revision.split("_", 1)[0] for script in chain]
    assert numbers == [f"{n:04d}" for n in range(1, len(chain) + 1)], (
        "revision ids are numbered in chain order (0001_…, 0002_…)"
    )
    assert expected_head() == chain[-1].revision


def _snapshot(url: str) -> tuple[str | None, dict[str, Any]]:
    """The revision a database is at and every table's columns, keys and indexes."""

    def read(connection: Connection) -> tuple[str | None, dict[str, Any]]:
        inspector = inspect(connection)
        tables = {
            name: (
                [(c["name"], repr(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
                inspector.get_pk_constraint(name),
                sorted(inspector.get_foreign_keys(name), key=lambda fk: fk["name"] or ""),
                sorted(inspector.get_unique_constraints(name), key=lambda uq: uq["name"] or ""),
                sorted(inspector.get_indexes(name), key=lambda ix: ix["name"] or ""),
            )
            for name in inspector.get_table_names()
            if name != "alembic_version"
        }
        revision = connection.execute(text("SELECT version_num FROM alembic_version"))
        return revision.scalar_one_or_none(), tables

    async def run() -> tuple[str | None, dict[str, Any]]:
        db = Database(url)
        try:
            async with db.engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_each_downgrade_undoes_its_upgrade(database_url: str) -> None:
    """Down one revision at a time to nothing, then up again: every step back restores
    exactly the schema the previous revision had made (SQLite and PostgreSQL)."""
    chain = [script.revision for script in script_directory().walk_revisions()]  # head first
    try:
        on_the_way_down: dict[str | None, tuple[str | None, dict[str, Any]]] = {
            chain[0]: _snapshot(database_url)
        }
        for previous in [*chain[1:], None]:
            downgrade(database_url, "-1")
            on_the_way_down[previous] = _snapshot(database_url)
        assert on_the_way_down[None] == (None, {}), "downgrading to base left tables behind"
        for revision in reversed(chain):
            upgrade(database_url, "+1")
            revision_after, tables_after = _snapshot(database_url)
            assert revision_after == revision
            assert tables_after == on_the_way_down[revision][1], (
                f"downgrading from the revision after {revision} did not restore its schema"
            )
    finally:
        # On PostgreSQL the database is shared with the rest of the run.
        upgrade(database_url)


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
        head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001_foundation'"))
    try:
        with pytest.raises(SchemaBehind, match="inspectbot db upgrade"):
            await check_schema(services.db)
    finally:
        # On PostgreSQL the database outlives the test: put the real head back.
        async with services.db.engine.begin() as conn:
            await conn.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": head}
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
