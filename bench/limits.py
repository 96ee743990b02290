"""A rate limiter that sends at once, for benchmarks that measure the bot's own work.

Telegram's pace (30 messages a second, about one a second in a private chat) would make
the bot wait rather than work; `bot.delivery.pacing` is measured on its own
(`bench.updates pacing`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter


class SendAtOnce(BaseRateLimiter[None]):
    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
        kwargs: dict[str, Any], endpoint: str, data: dict[str, Any], rate_limit_args: None,
    ) -> Any:
        return await callback(*args, **kwargs)
