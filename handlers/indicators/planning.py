"""/whatif and /plan at the Telegram edge: coefficients before and after a change, the
fewest improvements that meet the standard, and the office's tasks made from a plan."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.core import callbacks
from bot.core.access import require_admin
from bot.indicators import certify, planning
from bot.indicators.views.plan import (
    plan_keyboard,
    plan_text,
    planned_description,
    planned_title,
    tasks_done_text,
    tasks_keyboard,
    tasks_preview_text,
)
from bot.indicators.views.whatif import whatif_text
from handlers import outgoing
from handlers.common import actor_of, command_args, pressed, t
from handlers.context import AppContext, AppType
from handlers.outgoing import edit_or_reply, reply


async def whatif_command(update: Update, context: AppContext) -> None:
    """/whatif 石门镇中心小学 教学及辅助用房 +300 计算机 +20: each coefficient before → after."""
    actor = actor_of(context)
    services = context.services
    text = " ".join(command_args(context))
    if not text.strip():
        await reply(update, t(context, "indicators.whatif.usage"))
        return
    async with services.session() as session:
        view = await planning.run_what_if(session, services.indicators.standards, actor, text)
    await reply(update, whatif_text(services.texts, actor.language, view))


async def _plan(update: Update, context: AppContext) -> None:
    actor = actor_of(context)
    services = context.services
    certify.require_leader(actor)  # before saying it is working on it
    await reply(update, t(context, "indicators.plan.working"))
    async with services.session() as session:
        view = await planning.make_plan(session, services.indicators.standards, actor,
                                        services.clock.now())
    texts = services.texts
    await reply(update, plan_text(texts, actor.language, view),
                plan_keyboard(texts, actor.language, view, office=actor.is_admin))


async def plan_command(update: Update, context: AppContext) -> None:
    """/plan: the fewest school improvements that meet the standard, ranked."""
    await _plan(update, context)


def _due_text(context: AppContext, preview: planning.TasksPreview) -> str:
    local = preview.due_at.astimezone(context.services.config.zone)
    return f"{local:%Y-%m-%d %H:%M}"


async def _tasks_preview(update: Update, context: AppContext, plan_id: int) -> None:
    actor = actor_of(context)
    services = context.services
    config = services.config
    async with services.session() as session:
        preview = await planning.preview_tasks(
            session, services.indicators.standards, actor, plan_id, now=services.clock.now(),
            zone=config.zone, due_time=config.campaign.default_due_time)
    texts = services.texts
    await reply(update, tasks_preview_text(texts, actor.language, preview,
                                                _due_text(context, preview)),
                tasks_keyboard(texts, actor.language, plan_id))


async def _make_tasks(update: Update, context: AppContext, plan_id: int) -> None:
    actor = actor_of(context)
    services = context.services
    config = services.config
    texts = services.texts
    # Task titles are the campaign's data: written in the office's working language.
    lang = config.bot.default_language
    async with services.session() as session:
        made = await planning.make_tasks(
            session, services.indicators.standards, actor, plan_id, now=services.clock.now(),
            zone=config.zone, due_time=config.campaign.default_due_time,
            title=lambda task: planned_title(texts, lang, task),
            description=lambda task, year: planned_description(texts, lang, task, year))
    await edit_or_reply(update, tasks_done_text(texts, actor.language, made.created,
                                                     made.updated))


async def on_plan_button(update: Update, context: AppContext) -> None:
    """ind:plan, ind:tasks, ind:tok, ind:tno: the plan, and the tasks it becomes.

    The press is answered after the work, so a refusal can still answer it with an alert
    (the error handler does)."""
    button = await pressed(update, callbacks.INDICATORS)
    if button is None:
        return
    query, parsed = button
    action = parsed.action
    if action == "plan":
        await _plan(update, context)
    elif action == "tasks":
        await _tasks_preview(update, context, parsed.id)
    elif action == "tok":
        await _make_tasks(update, context, parsed.id)
    elif action == "tno":
        require_admin(actor_of(context))
        await edit_or_reply(update, t(context, "indicators.tasks.cancelled"))
    await outgoing.answer(query)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("whatif", whatif_command))
    app.add_handler(CommandHandler("plan", plan_command))
    app.add_handler(CallbackQueryHandler(
        on_plan_button, pattern=callbacks.pattern(callbacks.INDICATORS, "plan", "tasks", "tok",
                                                  "tno")))
