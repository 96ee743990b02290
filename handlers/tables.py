"""The office's breakdown tables in Telegram: send a spreadsheet, preview, confirm; /export.

A spreadsheet is claimed here only when an admin sends it as a plain message; everyone
else's files (and an admin's evidence: `#id` caption, a reply to a card, or after a card's
upload button) go on to the evidence handler registered after this one.
"""

from __future__ import annotations

import io
from datetime import datetime

from telegram import Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.core.kept import is_office_file
from bot.core.parsing import task_id_in
from bot.core.textfit import MAX_TEXT, visible_length
from bot.tables import pending
from bot.tables.export import export_tasks
from bot.tables.parse import file_kind
from bot.tables.planner import ImportOptions, ImportPreview
from bot.tables.views import confirm_keyboard, preview_text, result_text
from bot.texts import Texts
from db.models import Role, TaskStatus
from handlers import outgoing
from handlers.common import incoming, pressed, require, t
from handlers.context import AppContext, AppType
from handlers.groups import Group
from handlers.outgoing import edit_or_reply, reply

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A preview reads best as one message: it lists fewer errors until it fits.
ERROR_LIST_SIZES = (20, 10, 5, 0)


class _RepliesToCard(filters.MessageFilter):
    """A reply to a task card (or a prompt quoting one): evidence for that task."""

    def filter(self, message: Message) -> bool:
        quoted = message.reply_to_message
        return quoted is not None and task_id_in(quoted.text or quoted.caption) is not None


SPREADSHEET = (
    filters.ChatType.PRIVATE
    & (filters.Document.FileExtension("xlsx") | filters.Document.FileExtension("csv"))
    & ~filters.CaptionRegex(r"^\s*#")
    & ~_RepliesToCard()
)


async def on_office_spreadsheet(update: Update, context: AppContext) -> None:
    """An .xlsx/.csv from the office is a breakdown table; anything else is not ours."""
    if not await _from_office(context):
        return
    await on_table(update, context)
    raise ApplicationHandlerStop


async def _from_office(context: AppContext) -> bool:
    async with context.services.session() as session:
        return await is_office_file(session, context.actor, context.services.clock.now())


def _size(value: int) -> str:
    return f"{value / 1024 / 1024:.1f} MB"


def _fit_preview(texts: Texts, lang: str, preview: ImportPreview) -> str:
    text = ""
    for size in ERROR_LIST_SIZES:
        text = preview_text(texts, lang, preview, html=True, max_errors=size)
        if visible_length(text) <= MAX_TEXT:
            break
    return text


async def import_help(update: Update, context: AppContext) -> None:
    """/import: which columns a breakdown table needs; the file itself is just sent."""
    require(context, Role.ADMIN)
    await reply(update, t(context, "tables.help.text"))


async def on_table(update: Update, context: AppContext) -> None:
    """An admin's .xlsx/.csv: store it, preview it, and offer to import it."""
    actor = require(context, Role.ADMIN)
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    name = document.file_name or "table.xlsx"
    file_kind(name)  # an unsupported type is refused before the download
    if document.file_size and document.file_size > MAX_UPLOAD_BYTES:
        raise InvalidInput("tables.too_large", size=_size(document.file_size),
                           limit=_size(MAX_UPLOAD_BYTES))
    services = context.services
    telegram_file = await context.bot.get_file(document.file_id)
    data = bytes(await telegram_file.download_as_bytearray())
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("tables.too_large", size=_size(len(data)),
                           limit=_size(MAX_UPLOAD_BYTES))
    async with services.session() as session:
        received = await pending.receive(
            session, actor, data=data, file_name=name,
            options=ImportOptions.from_config(services.config),
            data_dir=services.config.storage.data_dir, now=services.clock.now(),
        )
    keyboard = (
        confirm_keyboard(services.texts, actor.language, received.pending_id)
        if received.pending_id is not None else None
    )
    await reply(update, _fit_preview(services.texts, actor.language, received.preview), keyboard)


async def on_button(update: Update, context: AppContext) -> None:
    """import:ok:<id> applies the stored table in one transaction; import:no:<id> drops it."""
    button = await pressed(update, callbacks.IMPORT)
    if button is None:
        return
    query, parsed = button
    actor = require(context, Role.ADMIN)
    services = context.services
    async with services.session() as session:
        if parsed.action == "no":
            await pending.cancel(session, actor, parsed.id)
            text = t(context, "tables.result.cancelled")
        else:
            result = await pending.confirm(
                session, actor, parsed.id, ImportOptions.from_config(services.config),
                services.clock.now(),
            )
            text = result_text(services.texts, actor.language, result, html=True)
    await outgoing.answer(query)
    await edit_or_reply(update, text)


async def export_command(update: Update, context: AppContext) -> None:
    """/export: every task of the campaign as an XLSX the office can edit and send back."""
    actor = require(context, Role.ADMIN, Role.LEADER)
    services = context.services
    labels = {s: services.texts.plain(actor.language, f"status.{s.value}") for s in TaskStatus}
    buffer = io.BytesIO()
    async with services.session() as session:
        count = await export_tasks(session, buffer, zone=services.config.zone,
                                   status_labels=labels)
    if count == 0:
        await reply(update, t(context, "tables.export.empty"))
        return
    local: datetime = services.clock.now().astimezone(services.config.zone)
    prefix = services.texts.plain(actor.language, "tables.export.file_prefix")
    await outgoing.send_file(
        context.bot, incoming(update).chat_id, "document", buffer.getvalue(),
        t(context, "tables.export.caption", count=count, when=f"{local:%Y-%m-%d %H:%M}"),
        filename=f"{prefix}-{local:%Y%m%d-%H%M}.xlsx",
    )


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("import", import_help))
    app.add_handler(CommandHandler("export", export_command))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(callbacks.IMPORT)))
    app.add_handler(MessageHandler(SPREADSHEET, on_office_spreadsheet), group=Group.OFFICE_FILES)
