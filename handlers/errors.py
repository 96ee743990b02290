"""The one error handler: domain errors become text; anything else is logged with its
traceback, the person is told, and the admins get it in the next error digest."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.date import DateTrigger
from telegram import Update, User
from telegram.error import Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationHandlerStop

from bot.core import metrics
from bot.core.access import actor_by_telegram_id, languages_of
from bot.core.errors import AlreadyDone, DomainError
from bot.services import Services
from handlers import outgoing
from handlers.common import NotForUs, language_of
from handlers.context import AppContext, AppType

log = logging.getLogger(__name__)

DIGEST_JOB = "errors:digest"
# Each summary is at most a couple of hundred characters and a digest names at most 15;
# the cut is only a guard against Telegram's 4,096.


async def on_error(update: object, context: AppContext) -> None:
    """Tell the user something useful; log and notify the office about real faults.

    An update whose handler failed is finished: raising ApplicationHandlerStop keeps later
    handler groups (another feature's catch-all) from acting on it as well.
    """
    metrics.mark_update("refused" if isinstance(context.error, DomainError | NotForUs) else "error")
    await _report(update, context)
    if isinstance(update, Update):
        raise ApplicationHandlerStop


async def _report(update: object, context: AppContext) -> None:
    error = context.error
    if isinstance(error, NotForUs):
        return
    tg_update = update if isinstance(update, Update) else None
    user = tg_update.effective_user if tg_update else None
    texts = context.services.texts
    lang = await _reader_language(context, user)
    if isinstance(error, DomainError):
        text = texts.get(lang, error.message_id, **error.params)
        await _tell(tg_update, text, texts.plain(lang, error.message_id, **error.params),
                    alert=not isinstance(error, AlreadyDone))
        return
    if isinstance(error, (Forbidden, NetworkError, RetryAfter)):
        # Telegram's refusals, its flood control and the network: nothing for the office
        # to fix (replies already try again and give up quietly, handlers.outgoing), and
        # reporting each would add to the very traffic that caused them.
        log.warning("telegram refused or was unreachable: %s", error)
        return
    log.error("unhandled error while processing an update", exc_info=error)
    await _tell(tg_update, texts.get(lang, "error.internal"), texts.plain(lang, "error.internal"))
    if error is not None:
        _count_for_digest(context, error)


async def _reader_language(context: AppContext, user: User | None) -> str:
    """The language the person chose, also here: the error handler gets a context of its
    own, without the actor the gate found, and a linked person's /settings language
    outranks their Telegram client's."""
    if context.actor is None and user is not None:
        try:
            async with context.services.session() as session:
                context.actor = await actor_by_telegram_id(session=session, telegram_id=user.id)
        except Exception:
            # The database may be the very fault being reported: the client's language will do.
            log.warning("could not look up the language of the person an error is for")
    return language_of(context, user)


def _count_for_digest(context: AppContext, error: BaseException) -> None:
    """Count the fault; the first of a period schedules the one digest that names it."""
    services = context.services
    if not services.config.telegram.admin_ids:
        return
    delay = services.errors.note(error)
    if delay is None:
        return
    app = context.application
    services.scheduler.put(DIGEST_JOB, send_digest, DateTrigger(
        run_date=datetime.now(UTC) + timedelta(seconds=delay)), app=app)


async def send_digest(app: AppType) -> None:
    """One message to each admin: every distinct fault since the last digest, counted."""
    services: Services = app.bot_data["services"]
    digest = services.errors.drain()
    if digest is None:
        return
    texts = services.texts
    admin_ids = services.config.telegram.admin_ids
    try:
        async with services.session() as session:
            languages = await languages_of(session=session, telegram_ids=admin_ids,
                                           default=services.config.bot.default_language)
    except Exception:
        log.warning("could not look up the admins' languages for the error digest")
        languages = {}
    for admin_id in admin_ids:
        lang = languages.get(admin_id, services.config.bot.default_language)
        # Each admin reads it in their own language; the fault summaries themselves are the
        # exception's type and place, as the log has them.
        lines = [texts.get(lang, "error.digest_header", total=digest.total)]
        lines += [texts.get(lang, "error.digest_line", summary=line.summary, count=line.count)
                  for line in digest.lines]
        if digest.others:
            lines.append(texts.get(lang, "error.digest_others", count=digest.others))
        try:
            await outgoing.send(app.bot, admin_id, "\n".join(lines))
        except Exception:
            log.warning("could not send the error digest to an admin")


async def _tell(update: Update | None, html_text: str, plain_text: str, *,
                alert: bool = True) -> None:
    if update is None:
        return
    try:
        if update.callback_query is not None:
            await outgoing.answer(update.callback_query, plain_text, alert=alert)
        elif update.effective_message is not None:
            await outgoing.reply(update, html_text)
    except Exception:
        log.warning("could not deliver an error message to the user")


def register(app: AppType) -> None:
    app.add_error_handler(on_error)
