"""The SQLite driver: every statement is one trip to aiosqlite's thread, what a statement
returns (rows, their columns, row counts, new ids, errors) is what the stock adapter
returned, and an engine's writers take turns in the process instead of sleeping in
SQLite's busy handler."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from db import sqlite_driver
from db.base import Base
from db.models import Unit
from db.session import Database
from db.sqlite_driver import OneTripCursor, OneTripDBAPI, writes


class _CountingQueue:
    """Stands in front of aiosqlite's queue to its thread and counts what is put on it."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.puts = 0

    def put_nowait(self, item: Any) -> None:
        self.puts += 1
        self.queue.put_nowait(item)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.queue, name)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'driver.db'}")
    async with db.engine.begin() as conn:
        await conn.execute(text(
            "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INT)"
        ))
    yield db
    await db.dispose()


async def _trips(db: Database) -> _CountingQueue:
    """The pooled connection's queue, counted from now on."""
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        aio = raw.driver_connection
        assert aio is not None
        counting = _CountingQueue(aio._tx)
        aio._tx = counting
    return counting


async def test_the_app_engine_uses_it(database: Database) -> None:
    assert isinstance(database.engine.sync_engine.dialect.dbapi, OneTripDBAPI)
    async with database.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]


async def test_one_trip_per_statement(database: Database) -> None:
    counting = await _trips(database)
    async with database.engine.connect() as conn:
        before = counting.puts
        rows = (await conn.execute(text("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'"))).all()
        assert rows == [(1, "x"), (2, "y")]
        assert counting.puts - before == 1
        before = counting.puts
        await conn.execute(text("INSERT INTO things (name, n) VALUES ('a', 1)"))
        assert counting.puts - before == 1
        await conn.rollback()


async def test_rows_columns_counts_and_ids(database: Database) -> None:
    async with database.engine.begin() as conn:
        first = await conn.execute(text("INSERT INTO things (name, n) VALUES ('a', 1)"))
        second = await conn.execute(text("INSERT INTO things (name, n) VALUES ('b', 2)"))
        assert (first.lastrowid, second.lastrowid) == (1, 2)
        many = await conn.execute(text("INSERT INTO things (name, n) VALUES (:name, :n)"),
                                  [{"name": f"m{i}", "n": i} for i in range(5)])
        assert many.rowcount == 5
        changed = await conn.execute(text("UPDATE things SET n = n + 10 WHERE n < 3"))
        assert changed.rowcount == 5  # a, b, m0, m1, m2
    async with database.engine.connect() as conn:
        result = await conn.execute(text("SELECT name, n FROM things ORDER BY id"))
        assert list(result.keys()) == ["name", "n"]
        assert dict(result.mappings().first() or {}) == {"name": "a", "n": 11}
        nothing = await conn.execute(text("SELECT name FROM things WHERE n > 1000"))
        assert nothing.all() == []
        assert list(nothing.keys()) == ["name"]


async def test_orm_and_core_statements(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with database.session() as session:
        session.add_all([Unit(name="一中"), Unit(name="二中")])
        await session.flush()
        ids = (await session.execute(select(Unit.id).order_by(Unit.id))).scalars().all()
        assert len(ids) == 2
        await session.execute(update(Unit).where(Unit.name == "一中").values(name="第一中学"))
        await session.execute(insert(Unit).values(name="三中"))
    async with database.session() as session:
        names = (await session.execute(select(Unit.name).order_by(Unit.id))).scalars().all()
        assert names == ["第一中学", "二中", "三中"]
        streamed = [u.name async for u in await session.stream_scalars(
            select(Unit).order_by(Unit.id))]
        assert streamed == names


async def test_errors_are_the_drivers_and_nothing_is_kept(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO things (name, n) VALUES ('a', 1)"))
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as conn:
            await conn.execute(text("INSERT INTO things (name, n) VALUES ('b', 2)"))
            await conn.execute(text("INSERT INTO things (name, n) VALUES ('a', 3)"))
    with pytest.raises(OperationalError):
        async with database.engine.connect() as conn:
            await conn.execute(text("SELECT nothing FROM nowhere"))
    async with database.engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM things"))).scalars().all()
        assert names == ["a"]


@pytest.mark.parametrize(("statement", "expected"), [
    ("SELECT 1", False),
    ("  select * from things", False),
    ("WITH fix AS (SELECT tasks.unit_id FROM tasks) SELECT * FROM fix", False),
    ("WITH picked AS MATERIALIZED (SELECT outbox.id FROM outbox) UPDATE outbox SET x = 1", True),
    ("WITH t AS (SELECT 1) INSERT INTO things SELECT * FROM t", True),
    ("SELECT tasks.updated_at, tasks.deleted FROM tasks", False),
    ("PRAGMA foreign_keys=ON", False),
    ("SAVEPOINT sa_savepoint_1", False),
    ("RELEASE SAVEPOINT sa_savepoint_1", False),
    ("BEGIN", False),
    ("BEGIN IMMEDIATE", True),
    ("INSERT INTO things (name) VALUES (?)", True),
    ("UPDATE things SET n = 1", True),
    ("DELETE FROM things", True),
    ("REPLACE INTO things (name) VALUES ('a')", True),
    ("CREATE TABLE x (id INT)", True),
])
def test_which_statements_write(statement: str, expected: bool) -> None:
    assert writes(statement) is expected


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_writers_take_turns_without_sleeping(database: Database) -> None:
    """A second writer waits for the first one's commit in this process, not in SQLite's
    busy handler, and goes on as soon as the first has committed; readers never wait."""
    async with database.engine.connect() as first:
        await first.execute(text("INSERT INTO things (name, n) VALUES ('a', 1)"))
        turn = database.engine.sync_engine.dialect.dbapi.write_turn()  # type: ignore[union-attr]
        assert turn.locked()

        async def second_writer() -> float:
            async with database.engine.begin() as second:
                await second.execute(text("INSERT INTO things (name, n) VALUES ('b', 2)"))
            return time.perf_counter()

        waiting = asyncio.create_task(second_writer())
        await _settle()
        assert not waiting.done()
        async with database.engine.connect() as reader:  # WAL: reads go on beside the writer
            assert (await reader.execute(text("SELECT count(*) FROM things"))).scalar() == 0
        committed = time.perf_counter()
        await first.commit()
        finished = await asyncio.wait_for(waiting, 5)
        # SQLite's busy handler would have slept at least its first steps (1 + 2 + 5 ms …)
        # and usually far more; a turn is handed on at once.
        assert finished - committed < 0.5
    assert not turn.locked()
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM things ORDER BY id"))).scalars().all() \
            == ["a", "b"]


async def test_the_turn_comes_back_however_a_transaction_ends(database: Database) -> None:
    turn = None
    # rolled back
    async with database.engine.connect() as conn:
        await conn.execute(text("INSERT INTO things (name, n) VALUES ('x', 1)"))
        turn = database.engine.sync_engine.dialect.dbapi.write_turn()  # type: ignore[union-attr]
        assert turn.locked()
        await conn.rollback()
        assert not turn.locked()
    # a write that fails before SQLite began a transaction
    async with database.engine.connect() as conn:
        with pytest.raises(OperationalError):
            await conn.execute(text("INSERT INTO nowhere (name) VALUES ('x')"))
        assert not turn.locked()
    # a constraint error inside the transaction: the turn stays until the rollback
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as conn:
            await conn.execute(text("INSERT INTO things (name, n) VALUES ('y', 1)"))
            await conn.execute(text("INSERT INTO things (name, n) VALUES ('y', 2)"))
    assert not turn.locked()
    # autocommit: each statement commits, and gives the turn back at once
    async with database.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("INSERT INTO things (name, n) VALUES ('z', 1)"))
        assert not turn.locked()
    # a session that writes and commits
    async with database.session() as session:
        await session.execute(text("UPDATE things SET n = 5"))
    assert not turn.locked()
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("SELECT name, n FROM things ORDER BY id"))).all() \
            == [("z", 5)]


async def test_a_turn_not_had_in_time_is_database_is_locked(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "WRITE_TURN_TIMEOUT", 0.2)
    async with database.engine.connect() as first:
        await first.execute(text("INSERT INTO things (name, n) VALUES ('a', 1)"))
        with pytest.raises(OperationalError, match="database is locked"):
            async with database.engine.begin() as second:
                await second.execute(text("INSERT INTO things (name, n) VALUES ('b', 2)"))
        await first.commit()
    async with database.engine.begin() as third:  # and nothing was left held
        await third.execute(text("INSERT INTO things (name, n) VALUES ('c', 3)"))
