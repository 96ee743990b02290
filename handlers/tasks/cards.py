"""A responsible person's tasks: list, card, and the buttons and commands that update them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core import callbacks
from bot.core.access import can_update_task
from bot.core.errors import InvalidInput
from bot.core.keyboard import Keyboard
from bot.core.parsing import parse_percent, parse_task_id, task_id_in
from bot.tasks import service as task_service
from bot.tasks.views import TASKS_PAGE, progress_keyboard, task_card, task_keyboard, task_list
from db.models import Task
from handlers import outgoing
from handlers.common import actor_of, command_args, pressed, t
from handlers.context import AppContext, AppType
from handlers.groups import Group
from handlers.outgoing import edit_or_reply, reply

# A prompt that asks for a blocking reason starts with this mark (both languages), so the
# reply to it is read as a reason and not as a plain note.
BLOCK_MARK = "⛔"


def _render(context: AppContext, task: Task) -> tuple[str, Keyboard | None]:
    services = context.services
    lang = actor_of(context).language
    text = task_card(services.texts, lang, task, services.clock.now(), services.config.zone)
    can_act = can_update_task(actor_of(context), task)
    return text, task_keyboard(services.texts, lang, task, can_act=can_act)


async def show_card(update: Update, context: AppContext, task: Task) -> None:
    text, keyboard = _render(context, task)
    await edit_or_reply(update, text, keyboard)


async def list_tasks(update: Update, context: AppContext) -> None:
    """/tasks: my open tasks, earliest deadline first, with overdue marks."""
    await _task_page(update, context, 0)


async def on_page(update: Update, context: AppContext) -> None:
    """page:tasks:<offset>: another page of my open tasks, in place of the list."""
    button = await pressed(update, callbacks.PAGE)
    if button is None:
        return
    query, parsed = button
    await outgoing.answer(query)
    await _task_page(update, context, parsed.number(0))


async def _task_page(update: Update, context: AppContext, offset: int) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        tasks, page = await task_service.my_open_tasks(session, actor, offset=offset,
                                                       size=TASKS_PAGE)
    text, keyboard = task_list(
        services.texts, actor.language, tasks, page, services.clock.now(), services.config.zone
    )
    await edit_or_reply(update, text, keyboard)


async def task_command(update: Update, context: AppContext) -> None:
    """/task <id>: one task's card."""
    args = command_args(context)
    if not args:
        raise InvalidInput("usage.task")
    actor = actor_of(context)
    async with context.services.session() as session:
        task = await task_service.view_task(session, actor, parse_task_id(args[0]))
    await show_card(update, context, task)


async def done_command(update: Update, context: AppContext) -> None:
    """/done <id> [note]."""
    args = command_args(context)
    if not args:
        raise InvalidInput("usage.done")
    await _apply(update, context, "done", parse_task_id(args[0]), note=" ".join(args[1:]))


async def progress_command(update: Update, context: AppContext) -> None:
    """/progress <id> <percent> [note]."""
    args = command_args(context)
    if len(args) < 2:
        raise InvalidInput("usage.progress")
    await _apply(
        update, context, "setp", parse_task_id(args[0]),
        value=parse_percent(args[1]), note=" ".join(args[2:]),
    )


async def note_command(update: Update, context: AppContext) -> None:
    """/note <id> <text>."""
    args = command_args(context)
    if len(args) < 2:
        raise InvalidInput("usage.note")
    await _apply(update, context, "note", parse_task_id(args[0]), note=" ".join(args[1:]))


async def block_command(update: Update, context: AppContext) -> None:
    """/block <id> <reason>."""
    args = command_args(context)
    if len(args) < 2:
        raise InvalidInput("usage.block")
    await _apply(update, context, "block", parse_task_id(args[0]), note=" ".join(args[1:]))


async def _apply(
    update: Update,
    context: AppContext,
    action: str,
    task_id: int,
    *,
    value: int | None = None,
    note: str = "",
) -> None:
    actor = actor_of(context)
    services = context.services
    now = services.clock.now()
    async with services.session() as session:
        if action == "start":
            task = await task_service.start(session, actor, task_id, now)
        elif action == "setp":
            task = await task_service.set_progress(session, actor, task_id, value or 0, now, note)
        elif action == "done":
            task = await task_service.complete(session, actor, task_id, now, note)
        elif action == "block":
            task = await task_service.block(session, actor, task_id, note, now)
        elif action == "note":
            task = await task_service.add_note(session, actor, task_id, note, now)
        else:
            raise InvalidInput("error.unknown_action")
    if update.callback_query is not None:
        await outgoing.answer(update.callback_query,
                              services.texts.plain(actor.language, f"ack.{action}", id=task.id))
        await show_card(update, context, task)
        return
    await reply(update, t(context, f"ack.{action}", id=task.id))
    text, keyboard = _render(context, task)
    await reply(update, text, keyboard)


async def on_task_button(update: Update, context: AppContext) -> None:
    """Buttons on task cards: task:<action>:<id>[:<value>]."""
    button = await pressed(update, callbacks.TASK)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    lang = actor.language
    if parsed.action in ("open", "back"):
        # Answered once the task is found: a refusal is the press's answer, not hidden
        # behind an empty one.
        async with services.session() as session:
            task = await task_service.view_task(session, actor, parsed.id)
        await outgoing.answer(query)
        if parsed.action == "back":
            await show_card(update, context, task)
        else:
            # From a list: a new card, so the list stays to pick the next task from.
            text, keyboard = _render(context, task)
            await reply(update, text, keyboard)
    elif parsed.action == "prog":
        await outgoing.answer(query)
        await outgoing.edit_markup(query.message,
                                   progress_keyboard(services.texts, lang, parsed.id))
    elif parsed.action in ("note", "block"):
        await outgoing.answer(query)
        key = "prompt.block" if parsed.action == "block" else "prompt.note"
        await reply(update, services.texts.get(lang, key, id=parsed.id, mark=BLOCK_MARK),
                    force_reply=True)
    else:
        value = parsed.number(1) if parsed.action == "setp" else None
        await _apply(update, context, parsed.action, parsed.id, value=value)


async def on_reply(update: Update, context: AppContext) -> None:
    """Text replying to a task card or prompt: a note, or a blocking reason."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or not message.text:
        return
    quoted = message.reply_to_message
    if quoted.from_user is None or quoted.from_user.id != context.bot.id:
        return
    task_id = task_id_in(quoted.text)
    if task_id is None:
        return
    action = "block" if (quoted.text or "").startswith(BLOCK_MARK) else "note"
    await _apply(update, context, action, task_id, note=message.text)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("tasks", list_tasks))
    app.add_handler(CommandHandler("task", task_command))
    app.add_handler(CommandHandler("done", done_command))
    app.add_handler(CommandHandler("progress", progress_command))
    app.add_handler(CommandHandler("note", note_command))
    app.add_handler(CommandHandler("block", block_command))
    app.add_handler(CallbackQueryHandler(on_task_button, pattern=callbacks.pattern(callbacks.TASK)))
    app.add_handler(
        CallbackQueryHandler(on_page, pattern=callbacks.pattern(callbacks.PAGE, "tasks")))
    app.add_handler(
        MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, on_reply),
        group=Group.CARD_REPLIES,
    )
