"""Delivery at the Telegram edge: the office's /undelivered, and noticing that a person
who had blocked the bot can be reached again."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, TypeHandler

from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.core.keyboard import Keyboard
from bot.core.paging import page_buttons, page_footer
from bot.core.parsing import parse_task_id
from bot.delivery import undelivered as undelivered_service
from bot.delivery.feature import UNDELIVERED_WORDS
from bot.texts import Label
from db.models import Role
from handlers import outgoing
from handlers.common import actor_of, command_args, pressed, require, t
from handlers.context import AppContext, AppType
from handlers.groups import Group
from handlers.outgoing import edit_or_reply, reply

UNDELIVERED_PAGE = 10


async def undelivered(update: Update, context: AppContext) -> None:
    """/undelivered [retry <id>]: what could not be delivered, and resending one."""
    require(context, Role.ADMIN)
    args = command_args(context)
    services = context.services
    if args and UNDELIVERED_WORDS.canonical(args[0]) == "retry":
        if len(args) != 2:
            raise InvalidInput("reminders.undelivered.usage")
        message_id = parse_task_id(args[1])
        async with services.session() as session:
            await undelivered_service.retry(session, message_id, services.clock.now())
        services.delivery.dispatcher.wake()
        await reply(update, t(context, "reminders.undelivered.retried", id=message_id))
        return
    await _listing(update, context, 0)


async def _listing(update: Update, context: AppContext, offset: int) -> None:
    services = context.services
    async with services.session() as session:
        rows, page = await undelivered_service.listing(session, offset=offset,
                                                       size=UNDELIVERED_PAGE)
    if not rows:
        await edit_or_reply(update, t(context, "reminders.undelivered.none"))
        return
    lines = [t(context, "reminders.undelivered.header", count=page.total)]
    for item in rows:
        row = item.message
        lines.append(t(context, "reminders.undelivered.line", id=row.id, what=item.what,
                       about=item.about, state=Label(f"reminders.state.{row.state.value}"),
                       who=item.who, reason=item.reason))
    lang = actor_of(context).language
    footer = page_footer(services.texts, lang, page)
    if footer:
        lines.append(footer)
    keyboard = Keyboard.of([page_buttons(services.texts, lang, page,
                                         lambda at: callbacks.page("undl", at))])
    await edit_or_reply(update, "\n".join(lines), keyboard or None)


async def on_page(update: Update, context: AppContext) -> None:
    """page:undl:<offset>: another page of undelivered messages."""
    require(context, Role.ADMIN)
    button = await pressed(update, callbacks.PAGE)
    if button is None:
        return
    query, parsed = button
    await outgoing.answer(query)
    await _listing(update, context, parsed.number(0))


async def note_reachable(update: Update, context: AppContext) -> None:
    """Someone who had blocked the bot writes again: reminders may reach them again."""
    if context.actor is None:
        return
    await context.services.delivery.dispatcher.note_reachable(context.actor.person_id)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("undelivered", undelivered))
    app.add_handler(
        CallbackQueryHandler(on_page, pattern=callbacks.pattern(callbacks.PAGE, "undl")))
    app.add_handler(TypeHandler(Update, note_reachable), group=Group.BOOKKEEPING)
