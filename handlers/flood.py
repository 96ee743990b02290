"""Flood control at the edge: an update over its sender's budget is dropped here, unanswered.

This group runs before the gate, so a flood costs neither a database lookup nor a reply;
the budgets themselves are `bot.core.flood.FloodControl`.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.core import metrics
from handlers.context import AppContext, AppType
from handlers.groups import Group


async def throttle(update: Update, context: AppContext) -> None:
    """Admit the update, or end it for every later group without a word."""
    user = update.effective_user
    if user is None:
        return  # poll state and the like come from Telegram, not from a person
    message = update.message
    album = message.media_group_id if message is not None else None
    if not context.services.flood.admit(user.id, album=album):
        metrics.mark_update("flood-dropped")
        raise ApplicationHandlerStop


def register(app: AppType) -> None:
    app.add_handler(TypeHandler(Update, throttle), group=Group.FLOOD)
