"""Delivery at the Telegram edge: the office's /undelivered, and noticing that a person
who had blocked the bot can be reached again."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, TypeHandler

from bot.core.errors import InvalidInput
from bot.core.parsing import parse_task_id
from bot.delivery import undelivered as undelivered_service
from db.models import Role
from handlers.common import command_args, reply, require, t
from handlers.context import AppContext, AppType
from handlers.groups import Group


async def undelivered(update: Update, context: AppContext) -> None:
    """/undelivered [retry <id>]: what could not be delivered, and resending one."""
    require(context, Role.ADMIN)
    args = command_args(context)
    services = context.services
    if args and args[0] == "retry":
        if len(args) != 2:
            raise InvalidInput("reminders.undelivered.usage")
        message_id = parse_task_id(args[1])
        async with services.session() as session:
            await undelivered_service.retry(session, message_id, services.clock.now())
        services.delivery.dispatcher.wake()
        await reply(update, t(context, "reminders.undelivered.retried", id=message_id))
        return
    async with services.session() as session:
        rows = await undelivered_service.listing(session, limit=20)
    if not rows:
        await reply(update, t(context, "reminders.undelivered.none"))
        return
    lines = [t(context, "reminders.undelivered.header", count=len(rows))]
    for item in rows:
        row = item.message
        who = item.recipient or str(row.chat_id)
        lines.append(t(context, "reminders.undelivered.line", id=row.id, kind=row.kind,
                       state=t(context, f"reminders.state.{row.state.value}"), who=who,
                       error=row.last_error or ""))
    await reply(update, "\n".join(lines))


async def note_reachable(update: Update, context: AppContext) -> None:
    """Someone who had blocked the bot writes again: reminders may reach them again."""
    if context.actor is None:
        return
    await context.services.delivery.dispatcher.note_reachable(context.actor.person_id)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("undelivered", undelivered))
    app.add_handler(TypeHandler(Update, note_reachable), group=Group.BOOKKEEPING)
