"""The connection pool serves waiters in the order they came: a task that gives a
connection back and asks again at once queues behind those already waiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.pool import FairAsyncPool
from db.session import Database


def _engine(tmp_path: Path, *, timeout: float = 5.0) -> AsyncEngine:
    return create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}",
                               poolclass=FairAsyncPool, pool_size=1, max_overflow=0,
                               pool_timeout=timeout)


def test_the_app_engine_uses_it(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    assert isinstance(db.engine.sync_engine.pool, FairAsyncPool)


async def test_waiters_are_served_in_turn(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    served: list[str] = []
    held = await engine.connect()

    async def waiter(name: str) -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            served.append(name)

    first = asyncio.create_task(waiter("first"))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(waiter("second"))
    await asyncio.sleep(0.01)
    await held.close()
    # Asking again in the same instant, as a handler does for its next update: it has to
    # wait behind the two who were already waiting.
    async with engine.connect() as again:
        await again.execute(text("SELECT 1"))
        served.append("again")
    await asyncio.gather(first, second)
    assert served == ["first", "second", "again"]
    await engine.dispose()


async def test_a_waiter_that_times_out_or_is_cancelled_leaves_the_line(tmp_path: Path) -> None:
    engine = _engine(tmp_path, timeout=0.2)
    held = await engine.connect()
    with pytest.raises(PoolTimeout):
        await engine.connect()
    async def ask() -> None:
        async with engine.connect():
            pass

    cancelled = asyncio.create_task(ask())
    await asyncio.sleep(0.05)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await held.close()
    # Neither left a place in line nor took the connection with it.
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    await engine.dispose()


async def test_many_tasks_on_few_connections_all_get_through(tmp_path: Path) -> None:
    """More tasks than connections, each going round again as soon as it is served:
    nobody waits out the pool timeout."""
    engine = _engine(tmp_path, timeout=5.0)
    rounds: dict[int, int] = {}

    async def worker(n: int) -> None:
        for _ in range(20):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            rounds[n] = rounds.get(n, 0) + 1

    await asyncio.wait_for(asyncio.gather(*(worker(n) for n in range(12))), 30)
    assert rounds == {n: 20 for n in range(12)}
    await engine.dispose()
