"""The infrastructure every feature shares, built once per process in `bot.services`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.core.clock import Clock
from bot.core.events import EventBus, recorded_changes
from bot.core.scheduler import Scheduler
from bot.texts import Texts
from db.session import Database


class _UpdateSession:
    """The one session of the update being handled, opened when first needed.

    The gate's reads and the handler's unit of work run on it in turn, so an update takes
    one connection from the pool and one transaction instead of one for each. A block
    that finds it in use (a unit of work inside another, or two tasks of one update) gets
    a session of its own, as outside an update.
    """

    def __init__(self, core: Core) -> None:
        self.core = core
        self.session: AsyncSession | None = None
        self.busy = False
        self.closed = False

    def take(self) -> AsyncSession | None:
        if self.busy or self.closed:
            return None
        if self.session is None:
            self.session = self.core.db.sessionmaker()
        self.busy = True
        return self.session

    def give_back(self) -> None:
        # Objects stay as a closed session leaves them: loaded, detached, never refreshed
        # behind the caller's back by a later block of the same update.
        if self.session is not None:
            self.session.expunge_all()
        self.busy = False

    async def release(self) -> None:
        """End a transaction only reads are in (the gate's), returning its connection."""
        if self.session is not None and not self.busy and self.session.in_transaction():
            await self.session.rollback()

    async def close(self) -> None:
        self.closed = True
        if self.session is not None:
            await self.session.close()


_UPDATE: ContextVar[_UpdateSession | None] = ContextVar("update_session", default=None)


async def release_update_connection() -> None:
    """Before waiting on the network: the update's idle read transaction lets go of its
    connection, so a slow Telegram call never holds one from the pool."""
    shared = _UPDATE.get()
    if shared is not None:
        await shared.release()


@dataclass
class Core:
    """Configuration, database, texts, time, the scheduler and the event bus."""

    config: AppConfig
    db: Database
    texts: Texts
    clock: Clock
    scheduler: Scheduler
    bus: EventBus = field(default_factory=EventBus)

    @asynccontextmanager
    async def update_scope(self) -> AsyncIterator[None]:
        """Everything one update does: its reads and units of work share one session."""
        shared = _UpdateSession(self)
        token = _UPDATE.set(shared)
        try:
            yield
        finally:
            _UPDATE.reset(token)
            await shared.close()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work; task changes are published only once it has committed (and
        the bus's before-commit listeners run inside it, on the way out)."""
        shared = _UPDATE.get()
        session = shared.take() if shared is not None else None
        if session is None:
            async with self.db.session() as session:
                yield session
                await self.bus.settle(session)
        else:
            assert shared is not None
            try:
                yield session
                await self.bus.settle(session)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                shared.give_back()
        changed = recorded_changes(session)
        if changed is not None:
            await self.bus.publish(changed)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """Reads the rest of the update builds on (the gate's): within an update, its
        session, left open for the handler's unit of work, which commits; elsewhere a
        unit of work of its own."""
        shared = _UPDATE.get()
        session = shared.take() if shared is not None else None
        if session is None:
            async with self.session() as own:
                yield own
            return
        assert shared is not None
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        finally:
            shared.give_back()
