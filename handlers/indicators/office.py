"""The office's data tools at the Telegram edge: /indicators (the template, the standard
set) and the county's data workbook sent back, previewed and confirmed.

The workbook is claimed in its own group before the breakdown table: an admin's .xlsx is
downloaded, and only a workbook this feature wrote (its `_meta` sheet or its school sheet)
is imported here; any other file goes on to the table import untouched.
"""

from __future__ import annotations

import asyncio

from telegram import Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core import callbacks
from bot.core.errors import PermissionDenied
from bot.core.kept import is_office_file
from bot.core.parsing import task_id_in
from bot.indicators import certify, importing
from bot.indicators.settings import choose_standard
from bot.indicators.template import template_for
from bot.indicators.views.importing import (
    import_keyboard,
    import_preview_text,
    import_result_text,
)
from bot.indicators.workbook.reading import is_county_book
from handlers import outgoing
from handlers.common import actor_of, command_args, incoming, pressed, t
from handlers.context import AppContext, AppType
from handlers.groups import Group
from handlers.outgoing import edit_or_reply, reply

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ERRORS = 30


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
        if not await is_office_file(session, actor, services.clock.now()):
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


async def on_import_button(update: Update, context: AppContext) -> None:
    """ind:iok, ind:ino: import the workbook waiting for confirmation, or drop it.

    The press is answered after the work, so a refusal can still answer it with an alert
    (the error handler does)."""
    button = await pressed(update, callbacks.INDICATORS)
    if button is None:
        return
    query, parsed = button
    await _import_button(update, context, parsed.action, parsed.id)
    await outgoing.answer(query)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("indicators", indicators_command))
    app.add_handler(CallbackQueryHandler(
        on_import_button, pattern=callbacks.pattern(callbacks.INDICATORS, "iok", "ino")))
    app.add_handler(MessageHandler(WORKBOOK, on_workbook), group=Group.OFFICE_DATA)
