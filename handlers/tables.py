"""The office's breakdown tables in Telegram: send a spreadsheet, preview, confirm; /export.

A spreadsheet is claimed here only when an admin sends it as a plain message; everyone
else's files (and an admin's evidence: `#id` caption, a reply to a card, or after a card's
upload button) go on to the evidence handler registered after this one.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import LEADERS, OFFICE, AppContext, AppType, CommandSpec, Services
from bot.core import callbacks
from bot.core.errors import InvalidInput, NotFound, PermissionDenied
from bot.tables.export import export_tasks
from bot.tables.importer import ImportOptions, ImportPreview, apply_import, preview_import
from bot.tables.parse import file_kind
from bot.tables.views import (
    IMPORT,
    confirm_keyboard,
    needs_writing,
    parse_import,
    preview_text,
    result_text,
)
from bot.tasks.views import task_id_in
from bot.texts import Texts
from db.models import PendingImport, Role, TaskStatus
from db.repositories import tables as imports_repo
from handlers.common import edit_or_reply, pressed, reply, require, t

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Telegram refuses messages over 4096 characters; the preview lists fewer errors to fit.
MESSAGE_LIMIT = 4000
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


# Between the gate and the features: an admin's spreadsheet is a breakdown table and
# stops here; anyone else's file goes on to the evidence handlers in group 0.
GROUP = -1


async def on_office_spreadsheet(update: Update, context: AppContext) -> None:
    """An .xlsx/.csv from the office is a breakdown table; anything else is not ours."""
    if not await _from_office(context):
        return
    await on_table(update, context)
    raise ApplicationHandlerStop


async def _from_office(context: AppContext) -> bool:
    actor = context.actor
    if actor is None or not actor.is_admin:
        return False
    # After a card's "upload evidence" button the admin's next file is evidence.
    async with context.services.session() as session:
        return not await imports_repo.has_upload_target(
            session=session, person_id=actor.person_id, now=context.services.clock.now()
        )


def _size(value: int) -> str:
    return f"{value / 1024 / 1024:.1f} MB"


def _fit_preview(texts: Texts, lang: str, preview: ImportPreview) -> str:
    text = ""
    for size in ERROR_LIST_SIZES:
        text = preview_text(texts, lang, preview, html=True, max_errors=size)
        if len(text) <= MESSAGE_LIMIT:
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
    kind = file_kind(name)
    if document.file_size and document.file_size > MAX_UPLOAD_BYTES:
        raise InvalidInput("tables.too_large", size=_size(document.file_size),
                           limit=_size(MAX_UPLOAD_BYTES))
    services = context.services
    telegram_file = await context.bot.get_file(document.file_id)
    data = bytes(await telegram_file.download_as_bytearray())
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("tables.too_large", size=_size(len(data)),
                           limit=_size(MAX_UPLOAD_BYTES))
    options = ImportOptions.from_config(services.config)
    async with services.session() as session:
        preview = await preview_import(session, data, name, options)
        pending = None
        if needs_writing(preview):
            token = secrets.token_hex(12)
            path = services.config.storage.data_dir / "imports" / f"{token}.{kind}"
            await asyncio.to_thread(_store, path, data)
            pending = await imports_repo.add_pending_import(
                session=session,
                pending=PendingImport(
                    token=token, person_id=actor.person_id, campaign_id=preview.campaign_id,
                    file_name=name[:300], stored_path=str(path),
                    created_at=services.clock.now(),
                ),
            )
    keyboard = confirm_keyboard(services.texts, actor.language, pending.id) if pending else None
    await reply(update, _fit_preview(services.texts, actor.language, preview), keyboard)


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


async def on_button(update: Update, context: AppContext) -> None:
    """import:ok:<id> applies the stored table in one transaction; import:no:<id> drops it."""
    button = await pressed(update, parse_import)
    if button is None:
        return
    query, parsed = button
    actor = require(context, Role.ADMIN)
    services = context.services
    now = services.clock.now()
    async with services.session() as session:
        if parsed.action == "no":
            pending = await _own_pending(session, parsed.import_id, actor.person_id)
            if pending.applied_at is not None:
                raise InvalidInput("tables.result.already")
            await imports_repo.delete_pending_import(session=session, import_id=pending.id)
            await asyncio.to_thread(Path(pending.stored_path).unlink, missing_ok=True)
            text = t(context, "tables.result.cancelled")
        else:
            # Claimed before anything is read, so a second press finds it taken.
            claimed = await imports_repo.claim_pending_import(
                session=session, import_id=parsed.import_id, now=now
            )
            pending = await _own_pending(session, parsed.import_id, actor.person_id)
            if not claimed:
                raise InvalidInput("tables.result.already")
            data = await asyncio.to_thread(_read, Path(pending.stored_path))
            if data is None:
                raise NotFound("tables.result.gone")
            result = await apply_import(
                session, data, pending.file_name, ImportOptions.from_config(services.config),
                actor_id=actor.person_id, now=now, campaign_id=pending.campaign_id,
            )
            text = result_text(services.texts, actor.language, result, html=True)
    await query.answer()
    await edit_or_reply(update, text)


async def _own_pending(session: AsyncSession, import_id: int, person_id: int) -> PendingImport:
    pending = await imports_repo.get_pending_import(session=session, import_id=import_id)
    if pending is None:
        raise NotFound("tables.result.gone")
    if pending.person_id != person_id:
        raise PermissionDenied("tables.result.not_yours")
    return pending


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
    message = update.effective_message
    if message is None:
        return
    await message.reply_document(
        buffer.getvalue(),
        filename=f"{prefix}-{local:%Y%m%d-%H%M}.xlsx",
        caption=services.texts.plain(actor.language, "tables.export.caption", count=count,
                                     when=f"{local:%Y-%m-%d %H:%M}"),
        do_quote=False,
    )


def register(app: AppType, services: Services) -> None:
    services.add_commands(
        CommandSpec("import", "tables.cmd.import", OFFICE),
        CommandSpec("export", "tables.cmd.export", LEADERS),
    )
    app.add_handler(CommandHandler("import", import_help))
    app.add_handler(CommandHandler("export", export_command))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(IMPORT)))
    app.add_handler(MessageHandler(SPREADSHEET, on_office_spreadsheet), group=GROUP)
