"""The SQLite driver: every statement is one trip to aiosqlite's thread, and what a
statement returns (rows, their columns, row counts, new ids, errors) is what the stock
adapter returned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from db.base import Base
from db.models import Unit
from db.session import Database
from db.sqlite_driver import OneTripCursor, OneTripDBAPI


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
        assert result.mappings().first() == {"name": "a", "n": 11}
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
