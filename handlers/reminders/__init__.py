"""Reminders at the Telegram edge: reminder buttons and /settings."""

from __future__ import annotations

from handlers.context import AppType
from handlers.reminders import buttons, settings


def register(app: AppType) -> None:
    buttons.register(app)
    settings.register(app)
