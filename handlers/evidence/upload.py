"""Evidence from Telegram: photos and files attached to tasks, submitting, viewing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, Message, Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.core.parsing import parse_task_id, task_id_in
from bot.core.retry import ALBUM, DOWNLOAD, RetryPolicy
from bot.evidence import notices as notices_service
from bot.evidence import review as review_service
from bot.evidence.batch import DownloadFailed, DownloadRefused, Fetch, IncomingFile
from bot.evidence.rules import task_tag
from bot.evidence.views import album_caption, album_rest, choice_keyboard, upload_answer
from bot.services import Services
from bot.tasks import service as task_service
from db.models import Evidence, EvidenceKind
from handlers import outgoing
from handlers.common import actor_of, command_args, incoming, pressed, t
from handlers.context import AppContext, AppType
from handlers.outgoing import reply

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 120.0
_FILE_KIND: dict[EvidenceKind, outgoing.FileKind] = {
    EvidenceKind.PHOTO: "photo", EvidenceKind.DOCUMENT: "document",
}


def telegram_fetch(bot: Bot, policy: RetryPolicy = DOWNLOAD) -> Fetch:
    """getFile and the download, tried again on a 5xx, a dropped connection or a short
    flood wait; DownloadRefused when Telegram will never hand the file over, DownloadFailed
    when it did not this time."""

    async def fetch(file_id: str, target: Path) -> None:
        failed = 0
        waited = 0.0
        while True:
            try:
                tg_file = await bot.get_file(file_id)
                await tg_file.download_to_drive(target, read_timeout=DOWNLOAD_TIMEOUT)
                return
            except RetryAfter as exc:
                failed += 1
                flood = exc.retry_after
                seconds = flood.total_seconds() if isinstance(flood, timedelta) else float(flood)
                wait = policy.wait_before_retry(failed, waited, retry_after=seconds)
                reason = f"flood wait of {seconds:g} s"
            except BadRequest as exc:  # a subclass of NetworkError, but final
                if "too big" in exc.message.lower():
                    raise DownloadRefused("evidence.refused.download_too_big") from exc
                # "wrong file_id or the file is temporarily unavailable": not now, maybe
                # later; the sender keeps the button.
                log.warning("getFile refused: %s", exc.message)
                raise DownloadFailed("evidence.refused.download_failed") from exc
            except NetworkError as exc:  # a 5xx, a timeout, a dropped connection
                failed += 1
                wait = policy.wait_before_retry(failed, waited)
                reason = type(exc).__name__
            except TelegramError as exc:  # a 404 on the file's path reads as InvalidToken
                log.warning("file download refused: %s", exc.message)
                raise DownloadFailed("evidence.refused.download_failed") from exc
            if wait is None:
                log.warning("gave up downloading a file after %d tries (%s)", failed, reason)
                raise DownloadFailed("evidence.refused.download_failed")
            await asyncio.sleep(wait)
            waited += wait

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
    await outgoing.send(app.bot, outcome.chat_id, text, keyboard)


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
    """ev:up / ev:pick / ev:retry / ev:drop / ev:sub / ev:view."""
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
        await outgoing.answer(query, services.texts.plain(lang, "evidence.upload.window_ack"))
        await reply(update, t(context, "evidence.upload.window", id=task.id, title=task.title,
                              minutes=services.config.evidence.upload_window_minutes))
    elif parsed.action in ("pick", "retry"):
        # retry: files Telegram did not hand over, tried again for the task they were for.
        batch = await service.batch_of_choice(actor, parsed.id)
        await outgoing.answer(query)
        await outgoing.edit_markup(query.message, None)
        await finish_batch(context.application, services, actor.person_id, batch,
                           chosen_task_id=parsed.number(1))
    elif parsed.action == "drop":
        count = await service.drop_batch(actor, parsed.id)
        await outgoing.answer(query)
        await outgoing.edit_markup(query.message, None)
        await reply(update, t(context, "evidence.upload.dropped", count=count))
    elif parsed.action == "sub":
        # Answered only after submitting: an old button (the task submitted or closed
        # since) is answered with what happened, which an earlier empty answer would hide.
        await submit(update, context, parsed.id)
    elif parsed.action == "view":
        await outgoing.answer(query)
        await show_evidence(update, context, parsed.id)
    else:
        await outgoing.answer(query)


async def on_page(update: Update, context: AppContext) -> None:
    """page:pick:<row>:<offset> — more tasks for a waiting file; page:ev:<task>:<offset> —
    the rest of a task's evidence."""
    button = await pressed(update, callbacks.PAGE)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    await outgoing.answer(query)
    if parsed.action == "pick":
        choices, page = await services.evidence.service.choices(actor, parsed.id, parsed.number(1))
        await outgoing.edit_markup(
            query.message, choice_keyboard(services.texts, actor.language, parsed.id, choices, page))
    else:
        await outgoing.edit_markup(query.message, None)
        await show_evidence(update, context, parsed.id, offset=parsed.number(1))


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
    query = update.callback_query
    if query is not None:
        await outgoing.answer(query, services.texts.plain(
            actor.language, "evidence.submit.already", task_id=task.id))
        await outgoing.edit_markup(query.message, None)
    await reply(update, t(context, "evidence.submit.done", task_id=task.id))


async def evidence_command(update: Update, context: AppContext) -> None:
    """/evidence <task id>: the task's files as an album."""
    args = command_args(context)
    if not args:
        raise InvalidInput("evidence.usage.evidence")
    await show_evidence(update, context, parse_task_id(args[0]))


async def show_evidence(
    update: Update, context: AppContext, task_id: int, *, offset: int = 0
) -> None:
    """A task's files from `offset` on: photos, then documents (Telegram cannot mix them in
    one album), in albums of ten. If Telegram's pace cuts the albums short, a button
    offers the rest."""
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        task, items = await review_service.task_evidence(session, actor, task_id)
    if not items:
        await reply(update, t(context, "evidence.view.none", task_id=task.id))
        return
    ordered = [e for kind in (EvidenceKind.PHOTO, EvidenceKind.DOCUMENT)
               for e in items if e.kind is kind]
    offset = min(offset, len(ordered))
    if offset == 0:
        await reply(update, t(context, "evidence.view.header", task_id=task.id,
                              title=task.title, count=len(items)))
    chat_id = incoming(update).chat_id
    shown = offset + await send_albums(context.bot, chat_id, services, actor.language,
                                       ordered[offset:])
    if shown < len(ordered):
        # Right after the album was cut short, this too has to wait for the chat's pace.
        text, keyboard = album_rest(services.texts, actor.language, task.id, shown,
                                    len(ordered))
        await outgoing.send(context.bot, chat_id, text, keyboard, policy=ALBUM)


async def send_albums(
    bot: Bot, chat_id: int, services: Services, lang: str, items: Sequence[Evidence]
) -> int:
    """Photos as photo albums, files as document albums; how many went out, in order."""
    zone = services.config.zone
    shown = 0
    for kind in (EvidenceKind.PHOTO, EvidenceKind.DOCUMENT):
        group = [(e.file_id, album_caption(services.texts, lang, e, zone))
                 for e in items if e.kind is kind]
        if not group:
            continue
        sent = await outgoing.send_album(bot, chat_id, _FILE_KIND[kind], group)
        shown += sent
        if sent < len(group):
            break
    return shown


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
        on_button, pattern=callbacks.pattern(callbacks.EVIDENCE, "up", "pick", "retry", "drop", "sub",
                                 "view")
    ))
    app.add_handler(
        CallbackQueryHandler(on_page, pattern=callbacks.pattern(callbacks.PAGE, "pick", "ev")))
    # After the office's table import (its own group): a file here is evidence.
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & (filters.PHOTO | filters.Document.ALL), on_file
        )
    )
