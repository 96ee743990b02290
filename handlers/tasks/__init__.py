"""Tasks at the Telegram edge: cards, buttons, the owners' and the office's commands."""

from __future__ import annotations

from handlers.context import AppType
from handlers.tasks import admin, cards


def register(app: AppType) -> None:
    admin.register(app)
    cards.register(app)
