"""The one error handler: domain errors become text, anything else is logged and reported."""

from __future__ import annotations

import html
import logging
import traceback

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationHandlerStop

from bot.core.errors import DomainError
from handlers import outgoing
from handlers.common import NotForUs, language_of
from handlers.context import AppContext, AppType

log = logging.getLogger(__name__)


async def on_error(update: object, context: AppContext) -> None:
    """Tell the user something useful; log and notify the office about real faults.

    An update whose handler failed is finished: raising ApplicationHandlerStop keeps later
    handler groups (another feature's catch-all) from acting on it as well.
    """
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
    lang = language_of(context, user)
    if isinstance(error, DomainError):
        text = texts.get(lang, error.message_id, **error.params)
        await _tell(tg_update, text, texts.plain(lang, error.message_id, **error.params))
        return
    if isinstance(error, (Forbidden, NetworkError, RetryAfter)):
        # Replies already try again and give up quietly (handlers.outgoing); what reaches
        # here is a request made elsewhere, and no fault of the bot's to report.
        log.warning("telegram refused or was unreachable: %s", error)
        return
    log.error("unhandled error while processing an update", exc_info=error)
    await _tell(tg_update, texts.get(lang, "error.internal"), texts.plain(lang, "error.internal"))
    trace = "".join(traceback.format_exception(error)) if error else ""
    for admin_id in context.services.config.telegram.admin_ids:
        try:
            await outgoing.send(
                context.bot, admin_id,
                texts.get("zh", "error.admin_report", error=type(error).__name__)
                + f"\n<pre>{html.escape(trace[-3000:])}</pre>",
            )
        except Exception:
            log.warning("could not notify admin chat about an error")


async def _tell(update: Update | None, html_text: str, plain_text: str) -> None:
    if update is None:
        return
    try:
        if update.callback_query is not None:
            await outgoing.answer(update.callback_query, plain_text, alert=True)
        elif update.effective_message is not None:
            await outgoing.reply(update, html_text)
    except Exception:
        log.warning("could not deliver an error message to the user")


def register(app: AppType) -> None:
    app.add_error_handler(on_error)
