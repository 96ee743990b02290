"""Interactive replies paced per private chat, so one busy chat never stalls the others.

PTB's `AIORateLimiter` keeps the overall and the group limits, but not Telegram's pace of
about one message a second in a private chat. A burst of replies into one chat (someone
tapping fast, or flooding) then meets a 429, and on any 429 PTB holds back every request
of the bot for its `retry_after`: everyone waits for one chat. Pacing each private chat
on our side means a busy chat waits for itself, and the 429 does not happen.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

# Telegram lets a private chat have a short burst before its one-a-second pace applies.
PRIVATE_BURST = 3
# Forget idle chats' limiters once this many are kept.
PRUNE_ABOVE = 512
_SENDS = ("send", "copy", "forward")


class PrivateChatPacing(AIORateLimiter):
    """`AIORateLimiter` plus a per-private-chat pace for everything that sends a message."""

    def __init__(self, *, private_per_second: float = 1.0, max_retries: int = 0) -> None:
        super().__init__(max_retries=max_retries)
        self._pace = private_per_second
        self._private: dict[int, AsyncLimiter] = {}

    def _limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._private) > PRUNE_ABOVE:
            for key, limiter in list(self._private.items()):
                if key != chat_id and limiter.has_capacity(PRIVATE_BURST):
                    del self._private[key]
        if chat_id not in self._private:
            self._private[chat_id] = AsyncLimiter(PRIVATE_BURST, PRIVATE_BURST / self._pace)
        return self._private[chat_id]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat_id = data.get("chat_id")
        if isinstance(chat_id, str) and chat_id.isascii() and chat_id.isdigit():
            chat_id = int(chat_id)
        if endpoint.startswith(_SENDS) and isinstance(chat_id, int) and chat_id > 0:
            media = data.get("media")
            count = len(media) if endpoint == "sendMediaGroup" and isinstance(media, list) else 1
            await self._limiter(chat_id).acquire(min(count, PRIVATE_BURST))
        return await super().process_request(callback, args, kwargs, endpoint, data,
                                              rate_limit_args)
