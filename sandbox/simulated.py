"""The people and groups a test acts with: a simulated person sends, edits, sends media,
presses buttons, votes and blocks the bot; both share the chat expectations."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .expectations import DEFAULT_TIMEOUT, ChatView
from .views import CallbackAnswer, ChatMessage, SandboxTimeout

if TYPE_CHECKING:
    from .client import SandboxClient

JSON = dict[str, Any]


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
