"""The pace of the bot's requests, kept only where Telegram counts them.

Telegram documents its limits for messages a bot sends (Bots FAQ, "My bot is hitting
limits"): about one message a second inside a chat (short bursts allowed), 20 a minute to
one group, and about 30 a second for bulk notifications to many users. So:

- a message sent into a private chat keeps that chat's pace (a burst, then about one a
  second), reply or not: a burst of replies into one chat waits for itself instead of
  meeting a 429;
- a message or an edit in a group keeps the group's 20 a minute;
- the overall 30 a second is for bulk: the outbox's unprompted messages and anything else
  sent outside `replying()`. A reply to someone who just wrote is one message in their
  chat, not a notification to many users, and does not queue behind the round;
- editing a message in a private chat (the card someone just pressed), answering a
  button (`answerCallbackQuery`), `getUpdates`, `getFile`, `sendChatAction`, `getChat`…
  send no message and are not paced at all.

PTB's `AIORateLimiter` paces every request that names a chat by the overall limit and, on
a 429, sleeps `retry_after` itself, holding back every other request meanwhile: one
person's flood wait of a minute became everyone's, and the replies of a busy morning
queued at 30 a second behind edits and button answers. Here a 429 goes straight back to
the caller, who knows what it can afford: a reply to someone waiting waits a few seconds
at most and otherwise gives up (`handlers.outgoing`), the outbox pauses that one chat and
tries again later (`bot.delivery.dispatcher`).

A reply and the outbox can meet in one chat (the office answering a preview while its
reminders go out). When a reply is told to wait, `on_reply_flood` tells the outbox to hold
back from that chat a moment longer than the reply does, so the person's answer takes the
chat's next turn instead of losing it to a reminder again and again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.core import metrics

JSONDict = dict[str, Any]
# Forget the limiters of groups that have been quiet long enough to have all their room.
_GROUPS_KEPT = 512
# How much longer than a reply the outbox waits after the reply met a 429 in its chat.
REPLY_HEAD_START = 1.0
# Telegram lets a private chat have a short burst before its one-a-second pace applies.
PRIVATE_BURST = 3
_SENDS = ("send", "copy", "forward")
# Named like a send, but no message: the "typing…" status.
_NOT_MESSAGES = frozenset({"sendChatAction"})
_EDITS = ("edit", "stopPoll")

_REPLYING: ContextVar[bool] = ContextVar("replying", default=False)


@contextlib.contextmanager
def replying() -> Iterator[None]:
    """Requests made inside are for someone waiting in the chat (see the module doc)."""
    token = _REPLYING.set(True)
    try:
        yield
    finally:
        _REPLYING.reset(token)


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _is_send(endpoint: str) -> bool:
    return endpoint.startswith(_SENDS) and endpoint not in _NOT_MESSAGES


class Pacing(BaseRateLimiter[None]):
    """About one message a second to each private chat, 20 a minute to each group, 30 a
    second overall for what is not a reply; edits, button answers and reads unpaced; no
    retries."""

    def __init__(
        self,
        overall_per_second: float = FloodLimit.MESSAGES_PER_SECOND,
        group_per_minute: float = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
        *,
        private_per_second: float = 1.0,
        on_reply_flood: Callable[[int, float], None] | None = None,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1)
        self._group_rate = group_per_minute
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._private_pace = private_per_second
        self._private: dict[int, AsyncLimiter] = {}
        self._on_reply_flood = on_reply_flood

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _group(self, chat_id: int | str) -> AsyncLimiter:
        if len(self._groups) > _GROUPS_KEPT:
            for key, limiter in list(self._groups.items()):
                if key != chat_id and limiter.has_capacity(limiter.max_rate):
                    del self._groups[key]
        if chat_id not in self._groups:
            self._groups[chat_id] = AsyncLimiter(self._group_rate, 60)
        return self._groups[chat_id]

    def _private_chat(self, chat_id: int) -> AsyncLimiter:
        if len(self._private) > _GROUPS_KEPT:
            for key, limiter in list(self._private.items()):
                if key != chat_id and limiter.has_capacity(PRIVATE_BURST):
                    del self._private[key]
        if chat_id not in self._private:
            self._private[chat_id] = AsyncLimiter(PRIVATE_BURST, PRIVATE_BURST / self._private_pace)
        return self._private[chat_id]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat_id: Any = data.get("chat_id")
        send = _is_send(endpoint)
        if chat_id is None or not (send or endpoint.startswith(_EDITS)):
            # getUpdates, getFile, answerCallbackQuery, sendChatAction, inline-message
            # edits…: no message to a chat, nothing Telegram's message limits count.
            return await callback(*args, **kwargs)
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        # Groups and channels have negative ids (or an @username); people positive ones.
        group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        if not group and not send:
            # An edit in a private chat: the message is already there.
            return await callback(*args, **kwargs)
        if not group and isinstance(chat_id, int):
            media = data.get("media")
            count = len(media) if endpoint == "sendMediaGroup" and isinstance(media, list) else 1
            await self._private_chat(chat_id).acquire(min(count, PRIVATE_BURST))
        async with contextlib.AsyncExitStack() as stack:
            if group:
                await stack.enter_async_context(self._group(chat_id))
            if send and not _REPLYING.get():
                await stack.enter_async_context(self._overall)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                metrics.flood_wait("reply" if _REPLYING.get() else "other")
                if _REPLYING.get() and self._on_reply_flood and isinstance(chat_id, int):
                    self._on_reply_flood(chat_id, _seconds(exc.retry_after) + REPLY_HEAD_START)
                raise
