"""Expectations about one chat, as an end-to-end test states them: wait for the bot's
next message, edit or deletion there, each matching message handed out once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .views import ChatMessage, SandboxTimeout, describe

if TYPE_CHECKING:
    from .client import SandboxClient

T = TypeVar("T")
DEFAULT_TIMEOUT = 5.0


class ChatView:
    """Expectations about one chat: each matching message is handed out once."""

    def __init__(self, client: SandboxClient, chat_id: int, label: str) -> None:
        self.client = client
        self.chat_id = chat_id
        self.label = label
        self._consumed: set[int] = set()

    async def messages(self, *, from_bot: bool | None = None) -> list[ChatMessage]:
        found = await self.client.messages(self.chat_id)
        return [m for m in found if from_bot is None or m.from_bot == from_bot]

    async def _until(
        self,
        check: Callable[[list[ChatMessage]], T | None],
        seconds: float,
        wanted: str,
        *,
        include_deleted: bool = False,
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            version, found = await self.client.snapshot(
                self.chat_id, include_deleted=include_deleted
            )
            result = check(found)
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise SandboxTimeout(
                    f"{self.label}: {wanted} within {seconds:g}s. The chat holds:\n{describe(found)}"
                )
            await self.client.wait_change(version, remaining)

    def _matches(
        self,
        message: ChatMessage,
        contains: str | None,
        where: Callable[[ChatMessage], bool] | None,
        from_bot: bool | None,
    ) -> bool:
        return (
            message.message_id not in self._consumed
            and (from_bot is None or message.from_bot == from_bot)
            and (contains is None or contains in message.text)
            and (where is None or where(message))
        )

    async def expect_messages(
        self,
        count: int,
        *,
        contains: str | None = None,
        where: Callable[[ChatMessage], bool] | None = None,
        from_bot: bool | None = True,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - tests read better with an explicit timeout
    ) -> list[ChatMessage]:
        """Wait for ``count`` new messages matching the filters, oldest first."""

        def check(found: list[ChatMessage]) -> list[ChatMessage] | None:
            fresh = [m for m in found if self._matches(m, contains, where, from_bot)]
            return fresh[:count] if len(fresh) >= count else None

        sender = "the bot" if from_bot else "anyone" if from_bot is None else "a person"
        wanted = f"expected {count} new message(s) from {sender}" + (
            f" containing {contains!r}" if contains else ""
        )
        taken = await self._until(check, timeout, wanted)
        self._consumed.update(m.message_id for m in taken)
        return taken

    async def expect_message(
        self,
        contains: str | None = None,
        *,
        where: Callable[[ChatMessage], bool] | None = None,
        from_bot: bool | None = True,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - tests read better with an explicit timeout
    ) -> ChatMessage:
        """The oldest message not handed out yet that matches; by default one the bot sent."""
        found = await self.expect_messages(
            1, contains=contains, where=where, from_bot=from_bot, timeout=timeout
        )
        return found[0]

    async def expect_poll(self, *, timeout: float = DEFAULT_TIMEOUT) -> ChatMessage:  # noqa: ASYNC109
        return await self.expect_message(where=lambda m: m.poll is not None, timeout=timeout)

    async def expect_photo(self, *, timeout: float = DEFAULT_TIMEOUT) -> ChatMessage:  # noqa: ASYNC109
        return await self.expect_message(where=lambda m: bool(m.photo), timeout=timeout)

    async def expect_document(self, *, timeout: float = DEFAULT_TIMEOUT) -> ChatMessage:  # noqa: ASYNC109
        return await self.expect_message(where=lambda m: m.document is not None, timeout=timeout)

    async def expect_edit(
        self,
        message: ChatMessage,
        *,
        contains: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - tests read better with an explicit timeout
    ) -> ChatMessage:
        """Wait until ``message`` is edited again (and then contains ``contains``)."""

        def check(found: list[ChatMessage]) -> ChatMessage | None:
            for current in found:
                if current.message_id == message.message_id and current.edits > message.edits:
                    if contains is None or contains in current.text:
                        return current
            return None

        wanted = f"expected message #{message.message_id} to be edited" + (
            f" to contain {contains!r}" if contains else ""
        )
        return await self._until(check, timeout, wanted)

    async def expect_deleted(
        self,
        message: ChatMessage,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        def check(found: list[ChatMessage]) -> bool | None:
            return any(m.message_id == message.message_id and m.deleted for m in found) or None

        await self._until(
            check,
            timeout,
            f"expected message #{message.message_id} to be deleted",
            include_deleted=True,
        )

    async def expect_no_message(self, *, within: float = 0.5) -> None:
        """Assert the bot sends nothing new here for ``within`` seconds."""
        try:
            extra = await self.expect_message(timeout=within)
        except SandboxTimeout:
            return
        raise AssertionError(f"{self.label}: expected silence but the bot sent {extra.summary()}")

    async def skip_existing(self) -> None:
        """Treat everything already in the chat as seen."""
        self._consumed.update(m.message_id for m in await self.messages())
