"""The Bot API methods the sandbox answers, by Telegram's case-insensitive name."""

from __future__ import annotations

from . import bot, media, messages, polls
from .common import Handler


def method_table() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for module in (bot, messages, media, polls):
        table.update({name.lower(): handler for name, handler in module.METHODS.items()})
    return table


__all__ = ["Handler", "method_table"]
