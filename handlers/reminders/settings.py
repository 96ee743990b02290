"""/settings: a person's quiet hours, digest time and language."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, TypeHandler

from bot.context import ALL_ROLES, AppContext, AppType, CommandSpec, Services
from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.delivery.menus import publish_menu_for
from bot.reminders import settings as reminder_settings
from bot.reminders.policy import Policy
from bot.reminders.service import Reminders
from bot.texts import Texts
from db.models import Person
from handlers.common import actor_of, command_args, edit_or_reply, pressed

SET = "set"
# set:<what>:<value>; values are short ASCII words.
_BUTTONS = {("language", "zh"), ("language", "en"), ("quiet", "default"), ("quiet", "off")}


def parse_set(data: str) -> tuple[str, str] | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != SET or (parts[1], parts[2]) not in _BUTTONS:
        return None
    return parts[1], parts[2]


def render(texts: Texts, person: Person, policy: Policy) -> tuple[str, InlineKeyboardMarkup]:
    lang = person.language
    s = reminder_settings.settings_of(person, policy)
    clock = "%H:%M"
    if s.quiet_off:
        quiet = texts.plain(lang, "reminders.settings.quiet_off")
    else:
        key = "quiet_default" if s.quiet_is_default else "quiet_own"
        quiet = texts.plain(lang, f"reminders.settings.{key}", start=s.quiet_start.strftime(clock),
                            end=s.quiet_end.strftime(clock))
    digest_key = "digest_default" if s.digest_is_default else "digest_own"
    digest = texts.plain(lang, f"reminders.settings.{digest_key}",
                         time=s.digest_time.strftime(clock))
    text = texts.get(lang, "reminders.settings.show", quiet=quiet, digest=digest,
                     language=texts.plain(lang, "reminders.settings.language_name"))

    def button(key: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(texts.plain(lang, f"reminders.settings.{key}"),
                                    callback_data=data)

    keyboard = InlineKeyboardMarkup([
        [button("button_zh", "set:language:zh"), button("button_en", "set:language:en")],
        [button("button_quiet_default", "set:quiet:default"),
         button("button_quiet_off", "set:quiet:off")],
    ])
    return text, keyboard


async def _apply(update: Update, context: AppContext, what: str | None, value: str) -> None:
    actor = actor_of(context)
    services = context.services
    reminders = services.features["reminders"]
    assert isinstance(reminders, Reminders)
    async with services.session() as session:
        if what is None:
            person = await session.get(Person, actor.person_id)
            assert person is not None
        else:
            person = await reminder_settings.change(session, actor.person_id, what, value)
            await reminders.person_changed(session, person.id)
        text, keyboard = render(services.texts, person, reminders.policy_for(None))
        language_changed = person.language != actor.language
    if update.callback_query is not None:
        await update.callback_query.answer(
            services.texts.plain(person.language, "reminders.settings.saved"))
    await edit_or_reply(update, text, keyboard)
    if language_changed and actor.telegram_id:
        # The command menu is per language: publish the person's in the new one.
        await publish_menu_for(context.bot, services, actor.telegram_id, actor.role,
                               person.language)


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
    button = await pressed(update, parse_set)
    if button is None:
        return
    _, parsed = button
    await _apply(update, context, *parsed)


async def note_reachable(update: Update, context: AppContext) -> None:
    """Someone who had blocked the bot writes again: reminders may reach them again."""
    if context.actor is None:
        return
    delivery = context.services.features.get("delivery")
    if delivery is not None:
        await delivery.note_reachable(context.actor.person_id)


def register(app: AppType, services: Services) -> None:
    services.add_commands(CommandSpec("settings", "reminders.cmd.settings", ALL_ROLES))
    app.add_handler(CommandHandler("settings", settings_command))
    app.add_handler(CallbackQueryHandler(on_settings_button, pattern=callbacks.pattern(SET)))
    # A group of its own after every feature's: it only observes, never answers.
    app.add_handler(TypeHandler(Update, note_reachable), group=90)
