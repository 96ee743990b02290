"""Reminders at the Telegram edge: the buttons on a reminder, the office's /undelivered,
and the lifecycle of the dispatcher and the sweeps."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler
from telegram.request import HTTPXRequest

from bot.context import OFFICE, AppContext, AppType, CommandSpec, Services
from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.core.parsing import parse_task_id
from bot.delivery.dispatcher import Delivery
from bot.reminders.service import Reminders
from bot.reminders.views import REM, parse_rem
from bot.tasks import service as task_service
from bot.tasks.service import TasksChanged
from bot.tasks.views import progress_keyboard, task_card
from db.models import Role
from db.repositories import delivery as outbox_repo
from handlers.common import actor_of, command_args, pressed, reply, require, t


def build_delivery(services: Services) -> Delivery:
    config = services.config
    return Delivery(
        db=services.db,
        clock=services.clock,
        config=config.reminders.delivery,
        texts=services.texts,
        admin_ids=config.telegram.admin_ids,
    )


def _reminders(context: AppContext) -> Reminders:
    found = context.services.features["reminders"]
    assert isinstance(found, Reminders)
    return found


async def on_reminder_button(update: Update, context: AppContext) -> None:
    """Buttons on a reminder: rem:done|prog|morn:<task> and rem:snz:<task>:<minutes>."""
    button = await pressed(update, parse_rem)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    lang = actor.language
    now = services.clock.now()
    if parsed.action == "prog":
        async with services.session() as session:
            await task_service.view_task(session, actor, parsed.task_id)
        await query.answer()
        await query.edit_message_reply_markup(
            progress_keyboard(services.texts, lang, parsed.task_id))
        return
    if parsed.action == "done":
        async with services.session() as session:
            task = await task_service.complete(session, actor, parsed.task_id, now)
        await query.answer(services.texts.plain(lang, "reminders.ack.done", id=task.id))
        await query.edit_message_text(
            task_card(services.texts, lang, task, now, services.config.zone),
            parse_mode="HTML", reply_markup=None,
        )
        return
    async with services.session() as session:
        until = await _reminders(context).snooze(
            session, actor, parsed.task_id,
            minutes=parsed.minutes if parsed.action == "snz" else None, now=now,
        )
    when = until.astimezone(services.config.zone).strftime("%m-%d %H:%M")
    await query.answer(services.texts.plain(lang, "reminders.ack.snoozed", when=when))
    await query.edit_message_reply_markup(None)


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
            done = await outbox_repo.retry(session=session, message_id=message_id,
                                           now=services.clock.now())
        if not done:
            raise InvalidInput("reminders.undelivered.not_found", id=message_id)
        services.features["delivery"].wake()
        await reply(update, t(context, "reminders.undelivered.retried", id=message_id))
        return
    async with services.session() as session:
        rows = await outbox_repo.undelivered(session=session, limit=20)
        names = {
            p.id: p.name
            for p in await outbox_repo.people_named(
                session=session, ids={r.person_id for r in rows if r.person_id})
        }
    if not rows:
        await reply(update, t(context, "reminders.undelivered.none"))
        return
    lines = [t(context, "reminders.undelivered.header", count=len(rows))]
    for row in rows:
        who = names.get(row.person_id or 0) or str(row.chat_id)
        lines.append(t(context, "reminders.undelivered.line", id=row.id, kind=row.kind,
                       state=t(context, f"reminders.state.{row.state.value}"), who=who,
                       error=row.last_error or ""))
    await reply(update, "\n".join(lines))


def register(app: AppType, services: Services) -> None:
    delivery = build_delivery(services)
    reminders = Reminders(services, delivery)
    services.features["delivery"] = delivery
    services.features["reminders"] = reminders
    delivery.add_guard("reminder.", reminders.still_applies)
    services.bus.subscribe(TasksChanged, reminders.on_task_change)

    # The dispatcher has its own Bot without PTB's rate limiter: its throttle is the one
    # limit for unprompted messages, and a second limiter in series bunches requests up
    # into exactly the bursts Telegram answers with 429.
    own: list[Bot] = []

    async def start(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        telegram = services.config.telegram
        bot = Bot(
            application.bot.token,
            base_url=telegram.base_url or "https://api.telegram.org/bot",
            base_file_url=telegram.base_file_url or "https://api.telegram.org/file/bot",
            request=HTTPXRequest(connection_pool_size=64),
        )
        await bot.initialize()
        own.append(bot)
        await delivery.start(bot)
        await reminders.start()

    async def stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await delivery.stop()
        for bot in own:
            await bot.shutdown()
        own.clear()

    services.startup_hooks.append(start)
    services.shutdown_hooks.append(stop)
    services.add_commands(CommandSpec("undelivered", "reminders.cmd.undelivered", OFFICE))
    app.add_handler(CommandHandler("undelivered", undelivered))
    app.add_handler(CallbackQueryHandler(on_reminder_button, pattern=callbacks.pattern(REM)))
