"""The Telegram edge: narrow the update, call a service, render a text, reply."""

from __future__ import annotations

from handlers import (
    chats,
    delivery,
    errors,
    evidence,
    flood,
    gate,
    indicators,
    onboarding,
    quiz,
    reminders,
    reports,
    tables,
    tasks,
)
from handlers.context import AppType


def register_all(app: AppType) -> None:
    """Every handler of the bot, in one place.

    Groups (`handlers.groups.Group`) decide what runs before what across features. Within
    the features' group the first matching handler wins, so specific handlers (commands,
    button prefixes) come before the catch-all ones (a plain photo or document), and the
    order below is the order of that claim: the office's table import before evidence
    files, evidence before quiz answers, and the error handler last. Flood control, the
    gate and the group-chat rule come first: their groups run before any feature's. The
    county's data workbook has a group of its own, before the table import's.
    """
    for feature in (flood, gate, chats, onboarding, tasks, delivery, reminders, indicators,
                    tables, evidence, quiz, reports, errors):
        feature.register(app)


async def on_startup(app: AppType) -> None:
    """Edge work left from before a restart, once every feature has started."""
    await evidence.resume_albums(app)
