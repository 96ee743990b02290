"""The typed callback context: every handler reaches the services and the acting person."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.core.access import Actor
from bot.services import Services


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
