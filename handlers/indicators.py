"""Indicator data in Telegram: /certify, /school, /whatif, /plan, the office's /indicators
and its data workbook, sent back as a file.

The workbook is claimed in its own group before the breakdown table: an admin's .xlsx is
downloaded, and only a workbook this feature wrote (its `_meta` sheet or its school sheet)
is imported here; any other file goes on to the table import untouched.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core import callbacks
from bot.core.access import require_admin
from bot.core.errors import InvalidInput, PermissionDenied
from bot.core.parsing import task_id_in
from bot.indicators import certify, importing, planning, schools
from bot.indicators.charts import coefficient_figure, minimum_figure
from bot.indicators.names import fold
from bot.indicators.settings import choose_standard
from bot.indicators.template import template_for
from bot.indicators.views import (
    certify_keyboard,
    certify_text,
    corrected_text,
    fields_keyboard,
    import_keyboard,
    import_preview_text,
    import_result_text,
    plan_keyboard,
    plan_text,
    planned_description,
    planned_title,
    prompt_text,
    school_keyboard,
    school_text,
    schools_page,
    tasks_done_text,
    tasks_keyboard,
    tasks_preview_text,
    whatif_text,
)
from bot.indicators.workbook import is_county_book
from bot.reports.charts import ChartStyle, find_cjk_font, render_png
from db.models import SchoolLevel
from handlers import outgoing
from handlers.common import actor_of, command_args, incoming, pressed, t
from handlers.context import AppContext, AppType
from handlers.groups import Group
from handlers.outgoing import edit_or_reply, reply

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
PROMPT_MARK = "✏️"
MAX_ERRORS = 30


# /certify --------------------------------------------------------------------------------
async def certify_command(update: Update, context: AppContext) -> None:
    """/certify: every threshold and veto item, what blocks certification first."""
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        view = await certify.for_actor(session, services.indicators.standards, actor,
                                       services.clock.now())
    texts = services.texts
    await reply(update, certify_text(texts, actor.language, view),
                certify_keyboard(texts, actor.language, view))


async def _charts(update: Update, context: AppContext) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        view, records = await certify.chart_data(session, services.indicators.standards, actor,
                                                 services.clock.now())
    assert view.status is not None
    style = ChartStyle.choose(find_cjk_font(services.config.reports.cjk_font), actor.language)
    texts = services.texts
    balance = view.status.balance
    chat_id = incoming(update).chat_id
    for figure, name, caption in (
        (coefficient_figure(view.standard, balance, texts, style), "coefficients.png",
         "indicators.chart.coefficients_caption"),
        (minimum_figure(view.standard, balance, records, texts, style), "schools.png",
         "indicators.chart.schools_caption"),
    ):
        png = await asyncio.to_thread(render_png, figure)
        await outgoing.send_file(context.bot, chat_id, "photo", png,
                                 texts.get(actor.language, caption), filename=name)


# /school ---------------------------------------------------------------------------------
async def _show_school(update: Update, context: AppContext, *, name: str | None = None,
                       unit_id: int | None = None) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        view = await schools.view(session, services.indicators.standards, actor, name=name,
                                  unit_id=unit_id)
    texts = services.texts
    await edit_or_reply(update, school_text(texts, actor.language, view, services.config.zone),
                        school_keyboard(texts, actor.language, view))


async def school_command(update: Update, context: AppContext) -> None:
    """/school: your school's figures; /school <name>; /school 图书 12000 to correct."""
    actor = actor_of(context)
    services = context.services
    text = " ".join(command_args(context)).strip()
    standards = services.indicators.standards
    if not text:
        async with services.session() as session:
            found = await schools.choices(session, standards, actor)
            access = await schools.access_of(session, actor)
        if len(access.schools) == 1:
            await _show_school(update, context, unit_id=access.schools[0])
            return
        if not found:
            raise InvalidInput("indicators.no_schools")
        await reply(update, *schools_page(services.texts, actor.language, found, 0))
        return
    async with services.session() as session:
        names = {fold(s.name) for s in await schools.choices(session, standards, actor)}
    if fold(text) in names or not re.search(r"\d", text):
        await _show_school(update, context, name=text)
        return
    async with services.session() as session:
        corrected = await schools.correct(session, standards, actor, text,
                                          now=services.clock.now())
    await reply(update, corrected_text(services.texts, actor.language, corrected))


async def _edit_fields(update: Update, context: AppContext, unit_id: int) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        school, found, order = await schools.fields(session, services.indicators.standards,
                                                    actor, unit_id)
    nine = school.level is SchoolLevel.NINE_YEAR
    await reply(update, t(context, "indicators.school.pick_field", school=school.name),
                fields_keyboard(services.texts, actor.language, unit_id, nine, found, order))


async def _ask_field(update: Update, context: AppContext, unit_id: int, part_index: int,
                     field_index: int) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        school, field, year = await schools.ask(session, services.indicators.standards, actor,
                                                unit_id, part_index, field_index)
    nine = school.level is SchoolLevel.NINE_YEAR
    sent = await reply(update, prompt_text(services.texts, actor.language, school.name,
                                           field.part, nine, field.resource, field.amount),
                       force_reply=True)
    if sent is None:
        return  # given up (network): no prompt to answer
    async with services.session() as session:
        await schools.remember_prompt(session, actor, unit_id=unit_id, year=year,
                                      part=field.part, resource_id=field.resource.id,
                                      chat_id=sent.chat_id, message_id=sent.message_id,
                                      now=services.clock.now())


class _EditPrompt(filters.MessageFilter):
    """A text replying to the bot's request for one figure."""

    def filter(self, message: Message) -> bool:
        quoted = message.reply_to_message
        return (quoted is not None and quoted.from_user is not None and quoted.from_user.is_bot
                and (quoted.text or "").startswith(PROMPT_MARK))


async def on_prompt_reply(update: Update, context: AppContext) -> None:
    """The reply to a figure's prompt is its new value; the change goes into the history."""
    message = incoming(update).message
    if message is None or message.reply_to_message is None or not message.text:
        return
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        corrected = await schools.answer_prompt(
            session, services.indicators.standards, actor, chat_id=message.chat_id,
            message_id=message.reply_to_message.message_id, text=message.text,
            now=services.clock.now())
    if corrected is None:
        await reply(update, t(context, "indicators.school.prompt_gone"))
    else:
        await reply(update, corrected_text(services.texts, actor.language, corrected))
    raise ApplicationHandlerStop


# /whatif and /plan -----------------------------------------------------------------------
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


# The office: /indicators and the workbook ------------------------------------------------
async def indicators_command(update: Update, context: AppContext) -> None:
    """/indicators [template [year] | standard <id>]: the office's data tools."""
    actor = actor_of(context)
    if not actor.is_admin:
        raise PermissionDenied("indicators.office_only")
    args = command_args(context)
    action = args[0].lower() if args else ""
    if action in ("template", "模板"):
        year = int(args[1]) if len(args) > 1 and args[1].isdigit() else None
        await _send_template(update, context, year)
    elif action in ("standard", "标准") and len(args) > 1:
        services = context.services
        async with services.session() as session:
            standard = await choose_standard(session, services.indicators.standards,
                                             await certify.active_campaign_id(session),
                                             standard_id=args[1])
        await reply(update, t(context, "indicators.standard_chosen", standard=standard.title,
                              id=standard.id))
    else:
        ids = ", ".join(context.services.indicators.standards.library.sets)
        await reply(update, t(context, "indicators.help", standards=ids))


async def _send_template(update: Update, context: AppContext, year: int | None) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        data, year_used = await template_for(
            session, services.indicators.standards, services.texts, actor,
            campaign_id=await certify.active_campaign_id(session), now=services.clock.now(),
            zone=services.config.zone, year=year)
    prefix = services.texts.plain(actor.language, "indicators.template.file_prefix")
    await outgoing.send_file(
        context.bot, incoming(update).chat_id, "document", data,
        services.texts.get(actor.language, "indicators.template.caption", year=year_used),
        filename=f"{prefix}-{year_used}.xlsx")


class _RepliesToCard(filters.MessageFilter):
    """A reply to a task card: the file is evidence for that task, not ours."""

    def filter(self, message: Message) -> bool:
        quoted = message.reply_to_message
        return quoted is not None and task_id_in(quoted.text or quoted.caption) is not None


WORKBOOK = (
    filters.ChatType.PRIVATE
    & (filters.Document.FileExtension("xlsx") | filters.Document.FileExtension("xlsm"))
    & ~filters.CaptionRegex(r"^\s*#")
    & ~_RepliesToCard()
)


def _preview(context: AppContext, lang: str, preview: importing.ImportPreview) -> str:
    # The first errors name the pattern; the rest are counted (a message splits anyway).
    return import_preview_text(context.services.texts, lang, preview, html=True,
                               max_errors=MAX_ERRORS)


async def on_workbook(update: Update, context: AppContext) -> None:
    """An admin's .xlsx that is the county's data workbook: preview it, offer to import."""
    actor = context.actor
    message = update.effective_message
    if actor is None or not actor.is_admin or message is None or message.document is None:
        return
    services = context.services
    async with services.session() as session:
        if not await importing.is_office_book(session, actor, services.clock.now()):
            return
    document = message.document
    if document.file_size and document.file_size > MAX_UPLOAD_BYTES:
        return  # the table import says why a file is too large
    telegram_file = await context.bot.get_file(document.file_id)
    data = bytes(await telegram_file.download_as_bytearray())
    if not await asyncio.to_thread(is_county_book, data):
        return
    async with services.session() as session:
        received = await importing.receive(
            session, services.indicators.standards, services.texts, actor,
            campaign_id=await certify.active_campaign_id(session), data=data,
            file_name=document.file_name or "data.xlsx",
            data_dir=services.config.storage.data_dir, now=services.clock.now())
    keyboard = (import_keyboard(services.texts, actor.language, received.pending_id)
                if received.pending_id is not None else None)
    await reply(update, _preview(context, actor.language, received.preview), keyboard)
    raise ApplicationHandlerStop


async def _import_button(update: Update, context: AppContext, action: str,
                         import_id: int) -> None:
    actor = actor_of(context)
    services = context.services
    standards = services.indicators.standards
    async with services.session() as session:
        if action == "ino":
            await importing.cancel(session, actor, import_id)
            text = t(context, "indicators.import.cancelled")
            result = None
        else:
            result = await importing.confirm(session, standards, services.texts, actor,
                                             import_id, services.clock.now())
            text = import_result_text(services.texts, actor.language, result)
    await edit_or_reply(update, text)
    if result is not None:
        await services.indicators.after_import()


# Buttons ---------------------------------------------------------------------------------
async def on_button(update: Update, context: AppContext) -> None:
    """ind: buttons — imports, schools and their fields, charts, the plan and its tasks.

    The press is answered after the work, so a refusal can still answer it with an alert
    (the error handler does)."""
    button = await pressed(update, callbacks.INDICATORS)
    if button is None:
        return
    query, parsed = button
    action = parsed.action
    if action in ("iok", "ino"):
        await _import_button(update, context, action, parsed.id)
    elif action == "school":
        await _show_school(update, context, unit_id=parsed.id)
    elif action == "edit":
        await _edit_fields(update, context, parsed.id)
    elif action == "field":
        await _ask_field(update, context, parsed.id, parsed.number(1), parsed.number(2))
    elif action == "chart":
        await _charts(update, context)
    elif action == "plan":
        await _plan(update, context)
    elif action == "tasks":
        await _tasks_preview(update, context, parsed.id)
    elif action == "tok":
        await _make_tasks(update, context, parsed.id)
    elif action == "tno":
        require_admin(actor_of(context))
        await edit_or_reply(update, t(context, "indicators.tasks.cancelled"))
    await outgoing.answer(query)


async def on_page(update: Update, context: AppContext) -> None:
    """page:sch:<offset>: another page of the schools to open."""
    button = await pressed(update, callbacks.PAGE)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        found = await schools.choices(session, services.indicators.standards, actor)
    await edit_or_reply(update, *schools_page(services.texts, actor.language, found,
                                              parsed.number(0)))
    await outgoing.answer(query)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("certify", certify_command))
    app.add_handler(CommandHandler("school", school_command))
    app.add_handler(CommandHandler("whatif", whatif_command))
    app.add_handler(CommandHandler("plan", plan_command))
    app.add_handler(CommandHandler("indicators", indicators_command))
    app.add_handler(CallbackQueryHandler(on_button,
                                         pattern=callbacks.pattern(callbacks.INDICATORS)))
    app.add_handler(CallbackQueryHandler(on_page,
                                         pattern=callbacks.pattern(callbacks.PAGE, "sch")))
    app.add_handler(MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND
                                   & _EditPrompt(), on_prompt_reply))
    app.add_handler(MessageHandler(WORKBOOK, on_workbook), group=Group.OFFICE_DATA)
