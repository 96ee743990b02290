"""The services every handler and job can reach, and the typed callback context."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import AppConfig
from bot.core.clock import Clock
from bot.core.events import EventBus
from bot.core.scheduler import Scheduler
from bot.texts import Texts
from db.models import Role
from db.session import Database

if TYPE_CHECKING:
    from bot.core.access import Actor

Hook = Callable[["Application[Any, Any, Any, Any, Any, Any]"], Awaitable[None]]


@dataclass(frozen=True)
class CommandSpec:
    """A command shown in the menu of the given roles; `text_id` describes it."""

    name: str
    text_id: str
    roles: frozenset[Role]


ALL_ROLES = frozenset(Role)
OFFICE = frozenset({Role.ADMIN})
LEADERS = frozenset({Role.ADMIN, Role.LEADER})


@dataclass
class Services:
    config: AppConfig
    db: Database
    texts: Texts
    clock: Clock
    scheduler: Scheduler
    bus: EventBus = field(default_factory=EventBus)
    commands: list[CommandSpec] = field(default_factory=list)
    startup_hooks: list[Hook] = field(default_factory=list)
    shutdown_hooks: list[Hook] = field(default_factory=list)
    # Feature services that other features reach by name (set by their `register`).
    features: dict[str, Any] = field(default_factory=dict)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work; task changes are published only once it has committed."""
        async with self.db.session() as session:
            yield session
        changes = session.info.pop("task_changes", [])
        if changes:
            from bot.tasks.service import TasksChanged

            await self.bus.publish(TasksChanged(tuple(changes)))

    def add_commands(self, *specs: CommandSpec) -> None:
        self.commands.extend(specs)


class AppContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Callback context with typed access to the services and the acting person."""

    actor: Actor | None = None

    @property
    def services(self) -> Services:
        services = self.application.bot_data["services"]
        assert isinstance(services, Services)
        return services


AppType = Application[
    ExtBot[None], AppContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
