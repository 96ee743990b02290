"""The one way the bot answers people: within Telegram's limits, and through a flaky network.

Every handler sends through here, never with `message.reply_*` or `bot.send_*` itself:
- a text over 4,096 characters goes out as several messages, split at line breaks
  (`bot.core.textfit`), the buttons under the last one;
- a caption over 1,024 characters is shortened with "…" and the whole text follows as a
  message; an album of any size goes out in chunks of ten;
- a transient failure (a dropped connection, a timeout, a 5xx) is tried again within a few
  seconds, a short flood wait (429) is waited out and a long one given up, quietly and with
  a log line (`bot.core.retry`). The change the person made is committed before anything
  is sent, so giving up a reply never loses it, and it is never reported as an error.
Lists are paged by the views (`bot.core.paging`), so no keyboard grows past 100 buttons.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Literal, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.core.keyboard import Keyboard
from bot.core.retry import ALBUM, INTERACTIVE, RetryPolicy
from bot.core.runtime import release_update_connection
from bot.core.textfit import MAX_ALBUM, MAX_ANSWER, MAX_CAPTION, clip, shorten_html, split_html
from bot.delivery.pacing import replying

log = logging.getLogger(__name__)

T = TypeVar("T")
FileKind = Literal["photo", "document"]
FileInput = str | bytes | Path | InputFile

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Telegram's answers to an edit that need no further action: the card already shows this.
_NOT_MODIFIED = "message is not modified"
# …and to an edit that cannot happen: the answer goes out as a new message instead.
_CANNOT_EDIT = ("message to edit not found", "message can't be edited",
                "there is no text in the message to edit")


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    """A view's plain keyboard as Telegram's object (None for no buttons)."""
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row]
         for row in keyboard.rows]
    )


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def attempt(
    call: Callable[[], Awaitable[T]], *, what: str, policy: RetryPolicy = INTERACTIVE
) -> T | None:
    """`call()`, tried again on transient failures; None when it was given up.

    Refusals that another try cannot change (a 400, a 403) are raised as they are.
    """
    failed = 0
    waited = 0.0
    # The update's read transaction (the gate's) ends before the network wait.
    await release_update_connection()
    while True:
        try:
            with replying():
                return await call()
        except RetryAfter as exc:
            failed += 1
            flood_wait = _seconds(exc.retry_after)
            wait = policy.wait_before_retry(failed, waited, retry_after=flood_wait)
            reason = f"flood wait of {flood_wait:g} s"
        except BadRequest:
            raise  # a subclass of NetworkError in PTB, but another try gets the same answer
        except NetworkError as exc:  # TimedOut, a dropped connection, a 5xx
            failed += 1
            wait = policy.wait_before_retry(failed, waited)
            reason = type(exc).__name__
        if wait is None:
            log.warning("gave up %s after %d tries (%s)", what, failed, reason)
            return None
        await asyncio.sleep(wait)
        waited += wait


async def send(
    bot: Bot,
    chat_id: int,
    text: str,
    keyboard: Keyboard | None = None,
    *,
    force_reply: bool = False,
    reply_to: int | None = None,
    policy: RetryPolicy = INTERACTIVE,
) -> Message | None:
    """A text to a chat, in as many messages as it needs; the last one sent, or None."""
    parts = split_html(text)
    last: Message | None = None
    for index, part in enumerate(parts):
        final = index == len(parts) - 1
        buttons: InlineKeyboardMarkup | ForceReply | None = None
        if final:
            buttons = ForceReply(selective=True) if force_reply else markup(keyboard)
        quote = (ReplyParameters(reply_to, allow_sending_without_reply=True)
                 if reply_to is not None and index == 0 else None)

        def message(
            part: str = part,
            buttons: InlineKeyboardMarkup | ForceReply | None = buttons,
            quote: ReplyParameters | None = quote,
        ) -> Awaitable[Message]:
            return bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                    link_preview_options=NO_PREVIEW, reply_markup=buttons,
                                    reply_parameters=quote)

        sent = await attempt(message, what=f"sendMessage to {chat_id}", policy=policy)
        if sent is None:
            return None  # later parts would only arrive out of context
        last = sent
    return last


async def reply(
    update: Update,
    text: str,
    keyboard: Keyboard | None = None,
    *,
    force_reply: bool = False,
    quote: bool = False,
) -> Message | None:
    """Answer in the chat the update came from (a callback's message chat included)."""
    message = update.effective_message
    if message is None:
        return None
    return await send(message.get_bot(), message.chat_id, text, keyboard,
                      force_reply=force_reply, reply_to=message.message_id if quote else None)


async def edit_or_reply(
    update: Update, text: str, keyboard: Keyboard | None = None
) -> Message | None:
    """From a button press, replace the card in place; from a command, send a new one.

    A text too long for one message replaces the card with its first part and sends the
    rest below, the buttons under the last part.
    """
    query = update.callback_query
    card = query.message if query is not None else None
    if not isinstance(card, Message) or card.text is None:
        return await reply(update, text, keyboard)
    parts = split_html(text)
    if not parts:
        return None
    rest = "\n".join(parts[1:])
    edited = await edit_text(card, parts[0], None if rest else keyboard)
    if edited is None:
        return None
    if edited is False:
        return await reply(update, text, keyboard)
    if rest:
        return await send(card.get_bot(), card.chat_id, rest, keyboard)
    return edited


async def edit_text(
    message: Message, text: str, keyboard: Keyboard | None = None
) -> Message | Literal[False] | None:
    """Replace a message's text: the message, False when it cannot be edited, None when
    the edit was given up (network)."""
    try:
        result = await attempt(
            lambda: message.edit_text(text, parse_mode=ParseMode.HTML,
                                      reply_markup=markup(keyboard),
                                      link_preview_options=NO_PREVIEW),
            what=f"editMessageText in {message.chat_id}",
        )
    except BadRequest as exc:
        if _NOT_MODIFIED in exc.message:
            return message
        if any(reason in exc.message for reason in _CANNOT_EDIT):
            return False
        raise
    if result is None:
        return None
    return result if isinstance(result, Message) else message


async def edit_caption(message: Message, caption: str, keyboard: Keyboard | None = None) -> bool:
    """Replace a photo's or document's caption, shortened to fit; False when it could not."""
    try:
        done = await attempt(
            lambda: message.edit_caption(shorten_html(caption, MAX_CAPTION),
                                         parse_mode=ParseMode.HTML,
                                         reply_markup=markup(keyboard)),
            what=f"editMessageCaption in {message.chat_id}",
        )
    except BadRequest as exc:
        if _NOT_MODIFIED in exc.message:
            return True
        log.info("caption not edited: %s", exc.message)
        return False
    return done is not None


async def edit_markup(message: object, keyboard: Keyboard | None) -> None:
    """Replace (or with None remove) a message's buttons; an old message stays as it is."""
    if not isinstance(message, Message):
        return
    try:
        await attempt(lambda: message.edit_reply_markup(markup(keyboard)),
                      what=f"editMessageReplyMarkup in {message.chat_id}")
    except BadRequest as exc:
        # "not modified", or a message too old to edit: the buttons are only a courtesy.
        log.info("buttons not changed: %s", exc.message)


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a pressed button (the spinner stops); the text shows as a toast or alert."""
    shown = clip(text, MAX_ANSWER) if text else None
    try:
        await attempt(lambda: query.answer(shown, show_alert=alert or None),
                      what="answerCallbackQuery")
    except BadRequest as exc:
        # A query older than about fifteen seconds can no longer be answered; what the
        # press did is done, and any message it sends still arrives.
        log.info("callback query not answered: %s", exc.message)


async def send_file(
    bot: Bot,
    chat_id: int,
    kind: FileKind,
    file: FileInput,
    caption: str = "",
    keyboard: Keyboard | None = None,
    *,
    filename: str | None = None,
    upload_seconds: float | None = None,
    policy: RetryPolicy = INTERACTIVE,
) -> Message | None:
    """A photo or document with its caption; a caption too long for Telegram is shortened
    with "…" and the whole text follows as a message."""
    short = shorten_html(caption, MAX_CAPTION) if caption else ""

    def upload() -> Awaitable[Message]:
        if kind == "photo":
            return bot.send_photo(chat_id, file, caption=short or None, parse_mode=ParseMode.HTML,
                                  reply_markup=markup(keyboard), filename=filename,
                                  read_timeout=upload_seconds, write_timeout=upload_seconds)
        return bot.send_document(chat_id, file, caption=short or None, parse_mode=ParseMode.HTML,
                                 reply_markup=markup(keyboard), filename=filename,
                                 read_timeout=upload_seconds, write_timeout=upload_seconds)

    sent = await attempt(upload, what=f"send{kind.title()} to {chat_id}", policy=policy)
    if sent is not None and short != caption:
        await send(bot, chat_id, caption)
    return sent


async def send_album(
    bot: Bot, chat_id: int, kind: FileKind, items: Sequence[tuple[str, str]]
) -> int:
    """Files already on Telegram (file id, caption) as albums of at most ten; how many
    went out. Each chunk may wait out the chat's pace; a chunk given up ends the album."""
    delivered = 0
    for start in range(0, len(items), MAX_ALBUM):
        chunk = items[start:start + MAX_ALBUM]
        if len(chunk) == 1:
            file_id, caption = chunk[0]
            if await send_file(bot, chat_id, kind, file_id, caption, policy=ALBUM) is None:
                return delivered
            delivered += 1
            continue
        media: list[InputMediaPhoto] | list[InputMediaDocument]
        if kind == "photo":
            media = [InputMediaPhoto(file_id, caption=shorten_html(caption, MAX_CAPTION),
                                     parse_mode=ParseMode.HTML) for file_id, caption in chunk]
        else:
            media = [InputMediaDocument(file_id, caption=shorten_html(caption, MAX_CAPTION),
                                        parse_mode=ParseMode.HTML) for file_id, caption in chunk]

        def album(
            media: list[InputMediaPhoto] | list[InputMediaDocument] = media,
        ) -> Awaitable[tuple[Message, ...]]:
            return bot.send_media_group(chat_id, media)

        sent = await attempt(album, what=f"sendMediaGroup to {chat_id}", policy=ALBUM)
        if sent is None:
            return delivered
        delivered += len(chunk)
    return delivered


async def deliver(call: Callable[[], Awaitable[T]], *, what: str) -> T | None:
    """Any other request made for someone waiting (a poll, a command menu), tried like a
    reply: again on a transient failure, given up quietly on a long flood wait."""
    return await attempt(call, what=what)
