"""/settings: a person's quiet hours, digest time and language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.delivery.menus import publish_menu_for
from bot.reminders import settings as reminder_settings
from bot.reminders.views import settings_view
from handlers import outgoing
from handlers.common import actor_of, command_args, pressed
from handlers.context import AppContext, AppType
from handlers.outgoing import edit_or_reply


async def _apply(update: Update, context: AppContext, what: str | None, value: str) -> None:
    actor = actor_of(context)
    services = context.services
    reminders = services.reminders
    async with services.session() as session:
        if what is None:
            person = await reminder_settings.person_of(session, actor.person_id)
        else:
            person = await reminder_settings.change(session, actor.person_id, what, value)
            await reminders.person_changed(session, person.id)
        text, keyboard = settings_view(services.texts, person, reminders.policy_for(None))
        language_changed = person.language != actor.language
    if update.callback_query is not None:
        await outgoing.answer(update.callback_query,
                              services.texts.plain(person.language, "reminders.settings.saved"))
    await edit_or_reply(update, text, keyboard)
    telegram_id = actor.telegram_id
    if language_changed and telegram_id:
        # The command menu is per language: publish the person's in the new one.
        await outgoing.deliver(
            lambda: publish_menu_for(context.bot, services, services.commands, telegram_id,
                                     actor.role, person.language),
            what=f"setMyCommands for {telegram_id}",
        )


async def settings_command(update: Update, context: AppContext) -> None:
    """/settings [quiet|digest|language <value>]."""
    args = command_args(context)
    if not args:
        await _apply(update, context, None, "")
        return
    if len(args) != 2:
        raise InvalidInput("reminders.settings.usage")
    await _apply(update, context, args[0].lower(), args[1])


async def on_settings_button(update: Update, context: AppContext) -> None:
    """Buttons under /settings: set:<what>:<value>."""
    button = await pressed(update, callbacks.SETTINGS)
    if button is None:
        return
    _, parsed = button
    await _apply(update, context, parsed.action, parsed.word())


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("settings", settings_command))
    app.add_handler(
        CallbackQueryHandler(on_settings_button, pattern=callbacks.pattern(callbacks.SETTINGS))
    )
