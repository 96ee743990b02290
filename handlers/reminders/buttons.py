"""Reminders at the Telegram edge: the buttons on a reminder."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.core import callbacks
from handlers import outgoing
from handlers.common import actor_of, pressed
from handlers.context import AppContext, AppType


async def on_reminder_button(update: Update, context: AppContext) -> None:
    """Snooze buttons on a reminder: rem:snz:<task>:<minutes> and rem:morn:<task>; a
    leader's rem:nudge:<task> on a task card."""
    button = await pressed(update, callbacks.REMINDER)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    now = services.clock.now()
    if parsed.action == "nudge":
        async with services.session() as session:
            task, name = await services.reminders.nudge(session, actor, parsed.id, now=now)
        await outgoing.answer(query, services.texts.plain(
            actor.language, "reminders.nudge.sent", name=name, id=task.id))
        return
    async with services.session() as session:
        until = await services.reminders.snooze(
            session, actor, parsed.id,
            minutes=parsed.number(1) if parsed.action == "snz" else None, now=now,
        )
    when = until.astimezone(services.config.zone).strftime("%m-%d %H:%M")
    await outgoing.answer(query, services.texts.plain(actor.language, "reminders.ack.snoozed",
                                                      when=when))
    await outgoing.edit_markup(query.message, None)


def register(app: AppType) -> None:
    app.add_handler(
        CallbackQueryHandler(on_reminder_button, pattern=callbacks.pattern(callbacks.REMINDER))
    )
