"""The infrastructure every feature shares, built once per process in `bot.services`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig
from bot.core.clock import Clock
from bot.core.events import EventBus, recorded_changes
from bot.core.scheduler import Scheduler
from bot.texts import Texts
from db.session import Database


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
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work; task changes are published only once it has committed (and
        the bus's before-commit listeners run inside it, on the way out)."""
        async with self.db.session() as session:
            yield session
            await self.bus.settle(session)
        changed = recorded_changes(session)
        if changed is not None:
            await self.bus.publish(changed)
