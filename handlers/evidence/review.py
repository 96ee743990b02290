"""Reviewing evidence from Telegram: the /review queue and the approve/reject buttons.

A rejection asks for its reason with a ForceReply prompt whose text names the evidence
(`E<id>`), so the reply finds it again without any state kept between messages.
"""

from __future__ import annotations

import asyncio
import re
import time

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core import callbacks
from bot.core.access import Actor
from bot.core.errors import Conflict
from bot.core.parsing import parse_id
from bot.core.textfit import MAX_CAPTION, shorten_html, visible_length
from bot.evidence import notices as notices_service
from bot.evidence import review as review_service
from bot.evidence.archive import Progress, build_archive
from bot.evidence.review import Decision
from bot.evidence.uploads import campaign_start_of
from bot.evidence.views import archive_labels, decided_suffix, owner_notices, review_card
from db.models import EvidenceKind, EvidenceStatus, Role
from handlers import outgoing
from handlers.common import actor_of, incoming, pressed, require, t
from handlers.context import AppContext, AppType
from handlers.outgoing import reply

# The reject prompt starts with this mark and names the evidence; no `#<id>`, so the
# task handlers never mistake the reason for a note on a task.
REJECT_MARK = "❌"
MB = 1024 * 1024
PROGRESS_EVERY = 2.0
UPLOAD_TIMEOUT = 300.0
_PROMPT = re.compile(rf"^{REJECT_MARK}.*?\bE([0-9]+)\b")


def evidence_in_prompt(text: str | None) -> int | None:
    match = _PROMPT.match(text or "")
    return parse_id(match.group(1)) if match else None


class _RejectPrompt(filters.MessageFilter):
    """A text replying to the bot's reject prompt."""

    def filter(self, message: Message) -> bool:
        quoted = message.reply_to_message
        return (
            quoted is not None
            and quoted.from_user is not None
            and quoted.from_user.is_bot
            and evidence_in_prompt(quoted.text) is not None
        )


async def review_command(update: Update, context: AppContext) -> None:
    """/review: the oldest file waiting for this reviewer."""
    await send_next(update, context, after_id=0)


async def send_next(update: Update, context: AppContext, *, after_id: int) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        item = await review_service.next_for_review(session, actor, after_id)
        evidence = item.evidence
        if evidence is None:
            await reply(update, t(context, "evidence.review.empty"))
            return
        start = await campaign_start_of(session, evidence.task.campaign_id, services.config)
        approved = await review_service.approved_count(session, evidence.task_id)
    text, keyboard = review_card(
        services.texts, actor.language, evidence, remaining=item.remaining, approved=approved,
        campaign_start=start, zone=services.config.zone,
    )
    # A caption the owner wrote near Telegram's 1,024 characters does not leave room for
    # the card's own lines: the card shows the start, and the whole text follows it.
    kind: outgoing.FileKind = "photo" if evidence.kind is EvidenceKind.PHOTO else "document"
    await outgoing.send_file(context.bot, incoming(update).chat_id, kind, evidence.file_id,
                             text, keyboard)


async def on_review_button(update: Update, context: AppContext) -> None:
    """ev:ok / ev:no / ev:skip on a review card."""
    button = await pressed(update, callbacks.EVIDENCE)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    evidence_id = parsed.id
    if parsed.action == "skip":
        await outgoing.answer(query)
        await send_next(update, context, after_id=evidence_id)
    elif parsed.action == "no":
        await outgoing.answer(query)
        await reply(update, t(context, "evidence.review.reject_prompt", evidence_id=evidence_id),
                    force_reply=True)
    elif parsed.action == "ok":
        decision = await _decide(context, actor, evidence_id, approve=True, reason="")
        await outgoing.answer(query, context.services.texts.plain(
            actor.language, "evidence.review.approved", evidence_id=evidence_id))
        await _mark_card(query.message, context, actor, EvidenceStatus.APPROVED)
        if decision.closed:
            await reply(update, t(context, "evidence.review.closed", task_id=decision.task.id))
        await send_next(update, context, after_id=evidence_id)
    else:
        await outgoing.answer(query)


async def on_reject_reason(update: Update, context: AppContext) -> None:
    """The reply to a reject prompt: the reason; the owner is told."""
    message = incoming(update).message
    if message is None or message.reply_to_message is None or not message.text:
        return
    evidence_id = evidence_in_prompt(message.reply_to_message.text)
    if evidence_id is None:
        return
    actor = actor_of(context)
    decision = await _decide(context, actor, evidence_id, approve=False, reason=message.text)
    await reply(update, t(context, "evidence.review.rejected", evidence_id=evidence_id))
    if decision.reopened:
        await reply(update, t(context, "evidence.review.reopened", task_id=decision.task.id))
    await send_next(update, context, after_id=evidence_id)


async def _decide(
    context: AppContext, actor: Actor, evidence_id: int, *, approve: bool, reason: str
) -> Decision:
    services = context.services
    async with services.session() as session:
        if approve:
            decision = await review_service.approve(
                session, actor, evidence_id, services.clock.now()
            )
        else:
            decision = await review_service.reject(
                session, actor, evidence_id, reason, services.clock.now()
            )
        notices = owner_notices(services.texts, actor, decision, reason)
        await notices_service.queue(
            services.evidence.outbox, session, f"review.{evidence_id}", notices,
            decision.task.id,
        )
    return decision


async def _mark_card(
    message: object, context: AppContext, actor: Actor, status: EvidenceStatus
) -> None:
    """Leave the decision on the reviewed card and take its buttons away."""
    if not isinstance(message, Message):
        return
    suffix = "\n" + decided_suffix(context.services.texts, actor.language, status, actor.name)
    # The decision goes last and must show: the card's own text gives way to it.
    room = MAX_CAPTION - visible_length(suffix)
    caption = shorten_html(message.caption_html or "", room) + suffix
    if not await outgoing.edit_caption(message, caption):
        # The decision is recorded; at least the buttons must not invite a second one.
        await outgoing.edit_markup(message, None)


async def archive_command(update: Update, context: AppContext) -> None:
    """/archive: build the inspectors' ZIP, showing progress, then send it or its path."""
    actor = require(context, Role.ADMIN)
    services = context.services
    lock = services.evidence.archive_lock
    if lock.locked():
        raise Conflict("evidence.error.archive_busy")
    async with lock:
        status = await reply(update, t(context, "evidence.archive.starting"))
        now = services.clock.now().astimezone(services.config.zone)
        out = services.config.storage.data_dir / "exports" / f"evidence-{now:%Y%m%d-%H%M%S}.zip"
        await asyncio.to_thread(out.parent.mkdir, parents=True, exist_ok=True)
        stats = await build_archive(
            services.db, services.evidence.store, out,
            archive_labels(services.texts, actor.language), services.config.zone,
            on_progress=_progress_editor(context, status),
        )
        if stats.files == 0 and not stats.missing:
            await asyncio.to_thread(out.unlink, missing_ok=True)
            await _edit(status, t(context, "evidence.archive.empty"))
            return
        size = (await asyncio.to_thread(out.stat)).st_size
        await _edit(status, t(context, "evidence.archive.done", tasks=stats.tasks,
                              files=stats.files, size=f"{size / MB:.1f}"))
        if stats.missing or stats.mismatched:
            await reply(update, t(context, "evidence.archive.problems",
                                  missing=len(stats.missing), mismatched=len(stats.mismatched)))
        limit = services.config.evidence.archive_send_limit_mb
        if size > limit * MB:
            await reply(update, t(context, "evidence.archive.too_big", limit=limit,
                                  path=str(out.resolve())))
            return
        name = services.texts.plain(actor.language, "evidence.archive.file_name")
        await outgoing.send_file(
            context.bot, incoming(update).chat_id, "document", out,
            filename=f"{name}-{now:%Y%m%d}.zip", upload_seconds=UPLOAD_TIMEOUT,
        )


def _progress_editor(context: AppContext, status: Message | None) -> Progress:
    """Edit the progress message at most every few seconds (edits are rate limited)."""
    last = [0.0]

    async def edit(done: int, total: int) -> None:
        moment = time.monotonic()
        if moment - last[0] < PROGRESS_EVERY and done < total:
            return
        last[0] = moment
        percent = round(100 * done / total) if total else 100
        await _edit(status, t(context, "evidence.archive.progress", done=done, total=total,
                              percent=percent))

    return edit


async def _edit(message: Message | None, text: str) -> None:
    if message is None:
        return
    try:
        await outgoing.edit_text(message, text)
    except TelegramError:
        pass  # progress is only a courtesy; the archive is built whatever the chat shows


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("review", review_command))
    app.add_handler(CommandHandler("archive", archive_command))
    app.add_handler(CallbackQueryHandler(
        on_review_button, pattern=callbacks.pattern(callbacks.EVIDENCE, "ok", "no", "skip")
    ))
    app.add_handler(
        MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND & _RejectPrompt(),
                       on_reject_reason)
    )
