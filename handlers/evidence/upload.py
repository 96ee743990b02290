"""Evidence from Telegram: photos and files attached to tasks, submitting, viewing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.core.parsing import parse_task_id, task_id_in
from bot.evidence import notices as notices_service
from bot.evidence import review as review_service
from bot.evidence.rules import task_tag
from bot.evidence.uploads import DownloadRefused, Fetch, IncomingFile
from bot.evidence.views import album_caption, upload_answer
from bot.services import Services
from bot.tasks import service as task_service
from db.models import Evidence, EvidenceKind, Task
from handlers.common import actor_of, command_args, incoming, markup, pressed, reply, t
from handlers.context import AppContext, AppType

log = logging.getLogger(__name__)

ALBUM_SIZE = 10  # Telegram's maximum media group
DOWNLOAD_TIMEOUT = 120.0


def telegram_fetch(bot: Bot) -> Fetch:
    async def fetch(file_id: str, target: Path) -> None:
        try:
            tg_file = await bot.get_file(file_id)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise DownloadRefused("evidence.refused.download_too_big") from exc
            raise
        await tg_file.download_to_drive(target, read_timeout=DOWNLOAD_TIMEOUT)

    return fetch


def incoming_file(message: Message, bot_id: int) -> IncomingFile | None:
    """The photo or document a message carries, and the task it names, if any."""
    if message.photo:
        best = message.photo[-1]
        kind, file_id, unique, name, mime, size = (
            EvidenceKind.PHOTO, best.file_id, best.file_unique_id, "", "image/jpeg", best.file_size
        )
    elif message.document is not None:
        doc = message.document
        kind, file_id, unique, name, mime, size = (
            EvidenceKind.DOCUMENT, doc.file_id, doc.file_unique_id, doc.file_name or "",
            doc.mime_type or "", doc.file_size,
        )
    else:
        return None
    caption = message.caption or ""
    named = task_tag(caption)
    quoted = message.reply_to_message
    if named is None and quoted is not None and quoted.from_user is not None:
        if quoted.from_user.id == bot_id:
            named = task_id_in(quoted.text or quoted.caption)
    return IncomingFile(
        kind=kind, file_id=file_id, file_unique_id=unique, file_name=name, mime_type=mime,
        size=size, caption=caption, chat_id=message.chat_id, message_id=message.message_id,
        media_group_id=message.media_group_id, named_task_id=named,
    )


async def finish_batch(
    app: Application[Any, Any, Any, Any, Any, Any],
    services: Services,
    person_id: int,
    batch_key: str,
    chosen_task_id: int | None = None,
) -> None:
    """Attach (or ask about) one message or album and answer once."""
    outcome = await services.evidence.service.process_batch(
        person_id, batch_key, telegram_fetch(app.bot), chosen_task_id=chosen_task_id
    )
    if outcome is None:
        return
    text, keyboard = upload_answer(services.texts, outcome, services.config.zone)
    await app.bot.send_message(
        outcome.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard),
        disable_web_page_preview=True,
    )


async def on_file(update: Update, context: AppContext) -> None:
    """A photo or document in a private chat: evidence for a task."""
    actor = actor_of(context)
    message = incoming(update).message
    if message is None:
        return
    file = incoming_file(message, context.bot.id)
    if file is None:
        return
    services = context.services
    shared = services.evidence
    batch = await shared.service.receive(actor, file)
    app = context.application
    if file.media_group_id is None:
        await finish_batch(app, services, actor.person_id, batch)
        return

    async def flush() -> None:
        await finish_batch(app, services, actor.person_id, batch)

    shared.albums.touch(f"{actor.person_id}:{batch}", flush)


async def on_button(update: Update, context: AppContext) -> None:
    """ev:up / ev:pick / ev:drop / ev:sub / ev:view."""
    button = await pressed(update, callbacks.EVIDENCE)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    service = services.evidence.service
    lang = actor.language
    if parsed.action == "up":
        task = await service.open_upload_window(actor, parsed.id)
        await query.answer(services.texts.plain(lang, "evidence.upload.window_ack"))
        await reply(update, t(context, "evidence.upload.window", id=task.id, title=task.title,
                              minutes=services.config.evidence.upload_window_minutes))
    elif parsed.action == "pick":
        batch = await service.batch_of_choice(actor, parsed.id)
        await query.answer()
        await _clear_buttons(query.message)
        await finish_batch(context.application, services, actor.person_id, batch,
                           chosen_task_id=parsed.number(1))
    elif parsed.action == "drop":
        count = await service.drop_batch(actor, parsed.id)
        await query.answer()
        await _clear_buttons(query.message)
        await reply(update, t(context, "evidence.upload.dropped", count=count))
    elif parsed.action == "sub":
        await query.answer()
        await submit(update, context, parsed.id)
    elif parsed.action == "view":
        await query.answer()
        await show_evidence(update, context, parsed.id)
    else:
        await query.answer()


async def _clear_buttons(message: object) -> None:
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(None)
        except TelegramError:
            pass  # an old message may no longer be editable; the answer follows anyway


async def submit_command(update: Update, context: AppContext) -> None:
    """/submit <task id>: send the task and its evidence for review."""
    args = command_args(context)
    if not args:
        raise InvalidInput("evidence.usage.submit")
    await submit(update, context, parse_task_id(args[0]))


async def submit(update: Update, context: AppContext, task_id: int) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        task = await task_service.submit(session, actor, task_id, services.clock.now())
        reviewers = await review_service.reviewers_to_tell(session, task)
        counts = await review_service.evidence_counts(session, task.id)
        notices = [
            (person_id, chat_id, services.texts.get(
                language, "evidence.notify.submitted", owner=actor.name, task_id=task.id,
                title=task.title, count=counts,
            ))
            for person_id, chat_id, language in reviewers
        ]
        await notices_service.queue(
            services.evidence.outbox, session,
            f"submit.{task.id}.{int(task.updated_at.timestamp())}", notices, task.id,
        )
    await reply(update, t(context, "evidence.submit.done", task_id=task.id))


async def evidence_command(update: Update, context: AppContext) -> None:
    """/evidence <task id>: the task's files as an album."""
    args = command_args(context)
    if not args:
        raise InvalidInput("evidence.usage.evidence")
    await show_evidence(update, context, parse_task_id(args[0]))


async def show_evidence(update: Update, context: AppContext, task_id: int) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        task, items = await review_service.task_evidence(session, actor, task_id)
    if not items:
        await reply(update, t(context, "evidence.view.none", task_id=task.id))
        return
    await reply(update, t(context, "evidence.view.header", task_id=task.id, title=task.title,
                          count=len(items)))
    await send_album(context.bot, incoming(update).chat_id, services, actor.language, task, items)


async def send_album(
    bot: Bot, chat_id: int, services: Services, lang: str, task: Task, items: Sequence[Evidence]
) -> None:
    """Photos as photo albums, files as document albums (Telegram cannot mix the two)."""
    zone = services.config.zone
    for kind in (EvidenceKind.PHOTO, EvidenceKind.DOCUMENT):
        group = [e for e in items if e.kind is kind]
        for start in range(0, len(group), ALBUM_SIZE):
            chunk = group[start:start + ALBUM_SIZE]
            captions = [album_caption(services.texts, lang, e, zone) for e in chunk]
            if len(chunk) == 1:
                send = bot.send_photo if kind is EvidenceKind.PHOTO else bot.send_document
                await send(chat_id, chunk[0].file_id, caption=captions[0],
                           parse_mode=ParseMode.HTML)
                continue
            media: list[InputMediaPhoto] | list[InputMediaDocument]
            if kind is EvidenceKind.PHOTO:
                media = [InputMediaPhoto(e.file_id, caption=c, parse_mode=ParseMode.HTML)
                         for e, c in zip(chunk, captions, strict=True)]
            else:
                media = [InputMediaDocument(e.file_id, caption=c, parse_mode=ParseMode.HTML)
                         for e, c in zip(chunk, captions, strict=True)]
            await bot.send_media_group(chat_id, media)


async def resume_albums(app: AppType) -> None:
    """Albums cut short by a restart: their files are in the inbox; finish them now."""
    services: Services = app.bot_data["services"]
    for person_id, batch in await services.evidence.service.leftover_batches():
        try:
            await finish_batch(app, services, person_id, batch)
        except Exception:
            # One bad batch must not stop the bot from starting; it stays in the inbox
            # for the next start until it ages out.
            log.exception("could not finish evidence batch %s of person %s", batch, person_id)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("evidence", evidence_command))
    app.add_handler(CommandHandler("submit", submit_command))
    app.add_handler(CallbackQueryHandler(
        on_button, pattern=callbacks.pattern(callbacks.EVIDENCE, "up", "pick", "drop", "sub", "view")
    ))
    # After the office's table import (its own group): a file here is evidence.
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & (filters.PHOTO | filters.Document.ALL), on_file
        )
    )
