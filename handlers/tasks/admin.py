"""The office's task commands: creating, reassigning, rescheduling and cancelling tasks."""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import CommandHandler

from bot.core.access import require_admin
from bot.core.deadlines import is_overdue
from bot.core.errors import InvalidInput
from bot.core.parsing import parse_deadline, parse_task_id
from bot.tasks import service as task_service
from bot.tasks.admin import NewTask, create_task
from handlers.common import actor_of, command_args, t
from handlers.context import AppContext, AppType
from handlers.outgoing import reply
from handlers.tasks.cards import show_card


def _pipe_args(context: AppContext) -> list[str]:
    return [part.strip() for part in " ".join(command_args(context)).split("|")]


async def new_task(update: Update, context: AppContext) -> None:
    """/newtask 单位 | 任务 | 责任人 | 截止时间 [| 指标编码]."""
    actor = actor_of(context)
    require_admin(actor)
    parts = _pipe_args(context)
    if len(parts) < 4 or not all(parts[:4]):
        raise InvalidInput("usage.newtask")
    services = context.services
    due = parse_deadline(parts[3], services.config.zone, services.config.campaign.default_due_time)
    spec = NewTask(
        unit=parts[0], title=parts[1], owner=parts[2], due_at=due,
        indicator=parts[4] if len(parts) > 4 and parts[4] else None,
    )
    now = services.clock.now()
    async with services.session() as session:
        task = await create_task(session, actor, spec, now=now)
    await reply(update, t(context, "admin.task_created", id=task.id))
    await _warn_if_past(update, context, task.id, due, now)
    await show_card(update, context, task)


async def _warn_if_past(
    update: Update, context: AppContext, task_id: int, due: datetime, now: datetime
) -> None:
    """A deadline already past is kept (a late task is still a task), with a warning."""
    if is_overdue(due, now):
        when = due.astimezone(context.services.config.zone).strftime("%Y-%m-%d %H:%M")
        await reply(update, t(context, "admin.past_deadline", id=task_id, when=when))


async def reassign(update: Update, context: AppContext) -> None:
    """/reassign <task id> <person id or name>."""
    actor = actor_of(context)
    require_admin(actor)
    args = command_args(context)
    if len(args) < 2:
        raise InvalidInput("usage.reassign")
    services = context.services
    async with services.session() as session:
        person = await task_service.find_person(session, " ".join(args[1:]))
        task = await task_service.reassign(
            session, actor, parse_task_id(args[0]), person, services.clock.now()
        )
    await reply(update, t(context, "admin.reassigned", id=task.id, name=person.name))


async def move_deadline(update: Update, context: AppContext) -> None:
    """/deadline <task id> <date> [time]."""
    actor = actor_of(context)
    require_admin(actor)
    args = command_args(context)
    if len(args) < 2:
        raise InvalidInput("usage.deadline")
    services = context.services
    due = parse_deadline(
        " ".join(args[1:]), services.config.zone, services.config.campaign.default_due_time
    )
    now = services.clock.now()
    async with services.session() as session:
        task = await task_service.move_deadline(session, actor, parse_task_id(args[0]), due, now)
    when = due.astimezone(services.config.zone).strftime("%Y-%m-%d %H:%M")
    await reply(update, t(context, "admin.deadline_moved", id=task.id, when=when))
    await _warn_if_past(update, context, task.id, due, now)


async def cancel(update: Update, context: AppContext) -> None:
    """/cancel <task id> [reason]."""
    actor = actor_of(context)
    require_admin(actor)
    args = command_args(context)
    if not args:
        raise InvalidInput("usage.cancel")
    services = context.services
    async with services.session() as session:
        task = await task_service.cancel(
            session, actor, parse_task_id(args[0]), " ".join(args[1:]), services.clock.now()
        )
    await reply(update, t(context, "admin.cancelled", id=task.id))


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("newtask", new_task))
    app.add_handler(CommandHandler("reassign", reassign))
    app.add_handler(CommandHandler("deadline", move_deadline))
    app.add_handler(CommandHandler("cancel", cancel))
