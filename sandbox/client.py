"""An async test client for the control API that lets an end-to-end test read like a story.

alice = await sandbox.add_user("张三", user_id=1001)
await alice.send("/start")
welcome = await alice.expect_message(contains="欢迎")
await alice.press(welcome, "开始")
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from .views import (
    CallbackAnswer,
    ChatMessage,
    SandboxRequestError,
    SandboxTimeout,
    describe,
)

if TYPE_CHECKING:
    from .app import SandboxServer

JSON = dict[str, Any]
T = TypeVar("T")
DEFAULT_TIMEOUT = 5.0


class SandboxClient:
    def __init__(
        self, url: str, *, token: str | None = None, server: SandboxServer | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.server = server
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def for_server(cls, server: SandboxServer) -> SandboxClient:
        return cls(server.url, token=server.token, server=server)

    @property
    def base_url(self) -> str:
        """What to pass to ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(method, f"{self.url}/sandbox{path}", **kwargs) as response:
            body = await response.json()
            if response.status >= 400:
                raise SandboxRequestError(f"{method} {path}: {body.get('error', body)}")
            return body

    # people and chats

    async def add_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        role: str | None = None,
        started: bool = False,
    ) -> SimUser:
        """A new person; ``started=False`` means the bot may not write first, as on Telegram."""
        info = await self.request(
            "POST",
            "/users",
            json={
                "first_name": first_name,
                "user_id": user_id,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
                "role": role,
                "started": started,
            },
        )
        return SimUser(self, info)

    async def add_group(
        self,
        title: str,
        members: Sequence[SimUser | int],
        *,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
    ) -> SimGroup:
        member_ids = [m.id if isinstance(m, SimUser) else int(m) for m in members]
        info = await self.request(
            "POST",
            "/groups",
            json={"title": title, "members": member_ids, "chat_id": chat_id, "type": chat_type},
        )
        return SimGroup(self, info)

    async def users(self) -> list[JSON]:
        return list(await self.request("GET", "/users"))

    async def chats(self) -> list[JSON]:
        return list(await self.request("GET", "/chats"))

    async def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[ChatMessage]:
        return (await self.snapshot(chat_id, include_deleted=include_deleted))[1]

    async def snapshot(
        self, chat_id: int, *, include_deleted: bool = False
    ) -> tuple[int, list[ChatMessage]]:
        query = {"include_deleted": "1"} if include_deleted else {}
        body = await self.request("GET", f"/chats/{chat_id}/messages", params=query)
        return int(body["version"]), [ChatMessage(view) for view in body["messages"]]

    async def wait_change(self, version: int, seconds: float) -> int:
        """Block until the sandbox changes after ``version`` (or ``seconds`` pass)."""
        body = await self.request(
            "GET", "/wait", params={"after": str(version), "timeout": f"{seconds:.3f}"}
        )
        return int(body["version"])

    # knobs and counters

    async def set_faults(self, **settings: Any) -> JSON:
        """E.g. ``set_faults(error_share=0.1, latency_ms=50, seed=7)``; unnamed keys keep their value."""
        return dict(await self.request("PUT", "/faults", json=settings))

    async def set_rate_limits(self, **settings: Any) -> JSON:
        return dict(await self.request("PUT", "/rate_limits", json=settings))

    async def stats(self) -> JSON:
        return dict(await self.request("GET", "/stats"))

    async def reset_stats(self) -> JSON:
        return dict(await self.request("POST", "/stats/reset"))


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


class SimUser(ChatView):
    """A simulated person; expectations look at their private chat with the bot."""

    def __init__(self, client: SandboxClient, info: JSON) -> None:
        super().__init__(client, int(info["id"]), f"{info['display_name']}'s chat with the bot")
        self.info = info
        self.id = int(info["id"])
        self.name = str(info["display_name"])

    def __repr__(self) -> str:
        return f"SimUser({self.id}, {self.name!r})"

    def _chat(self, chat: SimGroup | int | None) -> int:
        if chat is None:
            return self.id
        return chat.chat_id if isinstance(chat, SimGroup) else int(chat)

    async def _act(self, action: str, **payload: Any) -> Any:
        return await self.client.request("POST", f"/users/{self.id}/{action}", json=payload)

    async def send(
        self, text: str, *, chat: SimGroup | int | None = None, reply_to: ChatMessage | None = None
    ) -> ChatMessage:
        body = await self._act(
            "send",
            text=text,
            chat_id=self._chat(chat),
            reply_to=reply_to.message_id if reply_to else None,
        )
        return ChatMessage(body["message"])

    async def reply(self, to: ChatMessage, text: str) -> ChatMessage:
        return await self.send(text, chat=to.chat_id, reply_to=to)

    async def edit(self, message: ChatMessage, text: str) -> ChatMessage:
        body = await self._act(
            "edit", chat_id=message.chat_id, message_id=message.message_id, text=text
        )
        return ChatMessage(body["message"])

    async def _media(
        self,
        items: list[JSON],
        caption: str | None,
        chat: SimGroup | int | None,
        reply_to: ChatMessage | None,
    ) -> list[ChatMessage]:
        body = await self._act(
            "media",
            items=items,
            caption=caption,
            chat_id=self._chat(chat),
            reply_to=reply_to.message_id if reply_to else None,
        )
        return [ChatMessage(view) for view in body["messages"]]

    async def send_photo(
        self,
        data: bytes,
        *,
        caption: str | None = None,
        chat: SimGroup | int | None = None,
        reply_to: ChatMessage | None = None,
    ) -> ChatMessage:
        sent = await self._media([_item("photo", data)], caption, chat, reply_to)
        return sent[0]

    async def send_document(
        self,
        data: bytes,
        *,
        filename: str,
        caption: str | None = None,
        mime_type: str | None = None,
        chat: SimGroup | int | None = None,
        reply_to: ChatMessage | None = None,
    ) -> ChatMessage:
        item = _item("document", data, filename, mime_type)
        return (await self._media([item], caption, chat, reply_to))[0]

    async def send_album(
        self,
        items: Sequence[bytes | tuple[str, bytes]],
        *,
        caption: str | None = None,
        chat: SimGroup | int | None = None,
    ) -> list[ChatMessage]:
        """Photos given as bytes, documents as ``(filename, bytes)``; one media_group_id."""
        payload = [
            _item("photo", entry)
            if isinstance(entry, bytes)
            else _item("document", entry[1], entry[0])
            for entry in items
        ]
        return await self._media(payload, caption, chat, None)

    async def press(
        self, message: ChatMessage, text: str | None = None, *, callback_data: str | None = None
    ) -> str:
        """Press an inline button by its label or callback data; returns the callback query id."""
        body = await self._act(
            "press",
            chat_id=message.chat_id,
            message_id=message.message_id,
            text=text,
            callback_data=callback_data,
        )
        return str(body["query_id"])

    async def expect_callback_answer(
        self,
        query_id: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Wait for the bot's answerCallbackQuery, the end of the button's spinner."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            version = (await self.client.request("GET", "/info"))["version"]
            body = await self.client.request("GET", f"/callbacks/{query_id}")
            if body["answered"]:
                answer = body["answer"]
                return CallbackAnswer(query_id, answer["text"], answer["show_alert"], answer["url"])
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise SandboxTimeout(
                    f"{self.label}: the bot did not answer callback query {query_id} within {timeout:g}s"
                )
            await self.client.wait_change(version, remaining)

    async def answer_poll(self, message: ChatMessage, option_ids: Sequence[int]) -> ChatMessage:
        """Vote; an empty list retracts the vote where the poll allows it."""
        body = await self._act(
            "poll_answer",
            chat_id=message.chat_id,
            message_id=message.message_id,
            option_ids=list(option_ids),
        )
        return ChatMessage(body["message"])

    async def block_bot(self) -> None:
        await self.client.request("POST", f"/users/{self.id}/block")

    async def unblock_bot(self) -> None:
        await self.client.request("POST", f"/users/{self.id}/unblock")


class SimGroup(ChatView):
    def __init__(self, client: SandboxClient, info: JSON) -> None:
        super().__init__(client, int(info["id"]), f"group {info['title']!r}")
        self.info = info
        self.id = int(info["id"])
        self.title = str(info["title"])

    def __repr__(self) -> str:
        return f"SimGroup({self.id}, {self.title!r})"


def _item(
    kind: str, data: bytes, file_name: str = "photo.jpg", mime_type: str | None = None
) -> JSON:
    return {
        "kind": kind,
        "data": base64.b64encode(data).decode(),
        "file_name": file_name,
        "mime_type": mime_type,
    }
