"""Every update timed and counted by what it is and what became of it (`bot.core.metrics`).

The application class itself wraps `process_update`, so every path in — polling, the
webhook, a test's `process_update` — is counted once, after every handler group and the
error handler have had their say. The names come from fixed sets (the commands some
handler answers, the callback grammar, Telegram's message types): never from what
someone typed.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.helpers import effective_message_type

from bot.core import callbacks, metrics
from handlers.chats import registered_commands

OTHER = "other"


def update_kind(update: object, commands: frozenset[str]) -> tuple[str, str]:
    """(kind, name): ("command", "done"), ("callback", "task:done"), ("message", "photo")…"""
    if not isinstance(update, Update):
        return OTHER, OTHER
    query = update.callback_query
    if query is not None:
        parts = (query.data or "").split(":", 2)
        if len(parts) >= 2 and parts[1] in callbacks.SHAPES.get(parts[0], {}):
            return "callback", f"{parts[0]}:{parts[1]}"
        return "callback", OTHER
    message = update.message
    if message is not None:
        text = message.text or ""
        if text.startswith("/"):
            name = text.split(maxsplit=1)[0][1:].partition("@")[0].lower()
            return "command", name if name in commands else OTHER
        return "message", effective_message_type(message) or OTHER
    for kind in ("edited_message", "poll_answer", "poll", "my_chat_member", "chat_member"):
        if getattr(update, kind, None) is not None:
            return kind, kind
    return OTHER, OTHER


class ObservedApplication(Application[Any, Any, Any, Any, Any, Any]):
    """python-telegram-bot's Application, each update timed and counted once."""

    __slots__ = ("_commands",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._commands: frozenset[str] | None = None

    async def process_update(self, update: object) -> None:
        if self._commands is None:
            # Handlers are all registered before the first update arrives.
            self._commands = registered_commands(self)
        kind, name = update_kind(update, self._commands)
        with metrics.handling_update(kind, name):
            await super().process_update(update)
