"""Reminders at the Telegram edge: the buttons on a reminder."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.core import callbacks
from bot.tasks import service as task_service
from bot.tasks.views import progress_keyboard, task_card
from handlers.common import actor_of, markup, pressed
from handlers.context import AppContext, AppType


async def on_reminder_button(update: Update, context: AppContext) -> None:
    """Buttons on a reminder: rem:done|prog|morn:<task> and rem:snz:<task>:<minutes>."""
    button = await pressed(update, callbacks.REMINDER)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    lang = actor.language
    now = services.clock.now()
    if parsed.action == "prog":
        async with services.session() as session:
            await task_service.view_task(session, actor, parsed.id)
        await query.answer()
        await query.edit_message_reply_markup(
            markup(progress_keyboard(services.texts, lang, parsed.id)))
        return
    if parsed.action == "done":
        async with services.session() as session:
            task = await task_service.complete(session, actor, parsed.id, now)
        await query.answer(services.texts.plain(lang, "reminders.ack.done", id=task.id))
        await query.edit_message_text(
            task_card(services.texts, lang, task, now, services.config.zone),
            parse_mode="HTML", reply_markup=None,
        )
        return
    async with services.session() as session:
        until = await services.reminders.snooze(
            session, actor, parsed.id,
            minutes=parsed.number(1) if parsed.action == "snz" else None, now=now,
        )
    when = until.astimezone(services.config.zone).strftime("%m-%d %H:%M")
    await query.answer(services.texts.plain(lang, "reminders.ack.snoozed", when=when))
    await query.edit_message_reply_markup(None)


def register(app: AppType) -> None:
    app.add_handler(
        CallbackQueryHandler(on_reminder_button, pattern=callbacks.pattern(callbacks.REMINDER))
    )
