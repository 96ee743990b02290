"""Real telegram objects for handler tests, and a request that records instead of sending.

Modelled on python-telegram-bot's own test helpers: updates are genuine `telegram.Update`
objects, the real `Application` processes them, and nothing reaches the network.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    Document,
    Message,
    MessageEntity,
    PhotoSize,
    Update,
    User,
)
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from sandbox.errors import ApiError
from sandbox.textfmt import format_text, utf16_len

BOT_ID = 7000000001
BOT_USERNAME = "yingjian_test_bot"

# Telegram's limits, as it enforces them (the sandbox's methods model the same).
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTONS = 100
BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Refusal:
    """An answer other than success: a status, Telegram's description, a flood wait."""

    status: int  # 0: no answer at all (the request timed out)
    description: str = ""
    retry_after: int | None = None

    def payload(self) -> bytes:
        if self.status == 502:
            return BAD_GATEWAY_PAGE  # nginx answers, not the Bot API
        body: dict[str, Any] = {"ok": False, "error_code": self.status,
                                "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return json.dumps(body).encode()


def bad_gateway() -> Refusal:
    return Refusal(502)


def timed_out() -> Refusal:
    return Refusal(0)


def flood(retry_after: int) -> Refusal:
    return Refusal(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    return markup if isinstance(markup, dict) else None


def _check_text(params: dict[str, Any], key: str, limit: int, too_long: str) -> None:
    if key not in params:
        return
    raw = str(params[key])
    entities = params.get("entities" if key == "text" else "caption_entities")
    if isinstance(entities, str):
        entities = json.loads(entities)
    plain, _ = format_text(raw, params.get("parse_mode"), entities)
    if key == "text" and not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > limit:
        raise ApiError(400, f"Bad Request: {too_long}")


def refuse_like_telegram(method: str, params: dict[str, Any]) -> None:
    """Raise the ApiError Telegram answers for a message over one of its limits."""
    if method in ("sendMessage", "editMessageText"):
        _check_text(params, "text", MAX_TEXT, "message is too long")
    _check_text(params, "caption", MAX_CAPTION, "message caption is too long")
    if method == "sendMediaGroup":
        media = params["media"]
        items = json.loads(media) if isinstance(media, str) else media
        if not 2 <= len(items) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the media group")
        for item in items:
            _check_text(dict(item), "caption", MAX_CAPTION, "message caption is too long")
    markup = _markup(params)
    rows = markup.get("inline_keyboard", []) if markup else []
    buttons = [b for row in rows for b in row]
    if len(buttons) > MAX_BUTTONS:
        raise ApiError(400, "Bad Request: reply markup is too long")
    if any(not 1 <= len(str(b.get("callback_data", "x")).encode()) <= 64 for b in buttons):
        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


@dataclass
class SentCall:
    method: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.params.get("text", self.params.get("caption", "")))

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not isinstance(markup, dict):
            return []
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class RecordingRequest(BaseRequest):
    """Answers the Bot API like Telegram would for the calls a handler makes; no network."""

    calls: list[SentCall] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    # Calls Telegram refused (over a limit, or an answer scripted with `refuse`).
    refused: list[SentCall] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _scripted: dict[str, deque[Refusal]] = field(default_factory=dict)

    def fail_next(self, method: str, *answers: Refusal) -> None:
        """Answer the next calls of `method` with these refusals, one each, in order."""
        self._scripted.setdefault(method, deque()).extend(answers)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:
            path = url.split("/file/bot", 1)[1].split("/", 1)[1]
            return 200, self.files[path]
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            for name, value in request_data.multipart_data.items():
                params.setdefault(name, value)
        scripted = self._scripted.get(api_method)
        if scripted:
            refusal = scripted.popleft()
            self.refused.append(SentCall(api_method, params))
            if refusal.status == 0:
                raise TimedOut
            return refusal.status, refusal.payload()
        try:
            refuse_like_telegram(api_method, params)
        except ApiError as error:
            self.refused.append(SentCall(api_method, params))
            return error.code, json.dumps(error.payload()).encode()
        self.calls.append(SentCall(api_method, params))
        result = self._answer(api_method, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID, "is_bot": True, "first_name": "迎检助手", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "sendMediaGroup":
            media = json.loads(params["media"]) if isinstance(params["media"], str) else params["media"]
            return [self._answer("sendMessage", {"chat_id": params.get("chat_id")}) for _ in media]
        if method.startswith(("send", "edit", "copy", "forward")):
            chat_id = int(params.get("chat_id", 0) or 0)
            message: dict[str, Any] = {
                "message_id": int(params.get("message_id", 0) or 0) or next(self._ids),
                "date": int(datetime.now(UTC).timestamp()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group",
                         "title": None if chat_id > 0 else "group"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "迎检助手"},
            }
            if "text" in params:
                message["text"] = params["text"]
            if "caption" in params:
                message["caption"] = params["caption"]
            if method == "sendDocument":
                message["document"] = {"file_id": "doc-" + str(message["message_id"]),
                                       "file_unique_id": "u" + str(message["message_id"])}
            return message
        if method == "getFile":
            file_id = str(params["file_id"])
            return {"file_id": file_id, "file_unique_id": "u" + file_id,
                    "file_size": len(self.files.get(file_id, b"")), "file_path": file_id}
        return True

    # Queries used by assertions -------------------------------------------------------
    def sent(self, method: str | None = None) -> list[SentCall]:
        return [c for c in self.calls if method is None or c.method == method]

    def texts(self) -> list[str]:
        return [c.text for c in self.calls if c.method in ("sendMessage", "editMessageText",
                                                           "sendDocument", "sendPhoto")]

    def last_text(self) -> str:
        texts = self.texts()
        assert texts, f"nothing was sent; calls were {[c.method for c in self.calls]}"
        return texts[-1]

    def clear(self) -> None:
        self.calls.clear()
        self.refused.clear()


class UpdateFactory:
    """Builds real updates as Telegram would deliver them to the bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)

    def user(self, user_id: int, name: str = "测试", language: str = "zh-hans") -> User:
        return User(user_id, name, is_bot=False, language_code=language)

    def _message(
        self, user: User, text: str | None, chat: Chat | None = None, **kwargs: Any
    ) -> Message:
        chat = chat or Chat(user.id, Chat.PRIVATE, first_name=user.first_name)
        entities = kwargs.pop("entities", None)
        if text and text.startswith("/") and entities is None:
            command = text.split()[0]
            entities = [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command))]
        message = Message(
            next(self._message_ids), datetime.now(UTC), chat, from_user=user, text=text,
            entities=entities, **kwargs,
        )
        message.set_bot(self.bot)
        return message

    def text(self, user: User, text: str, **kwargs: Any) -> Update:
        return Update(next(self._update_ids), message=self._message(user, text, **kwargs))

    def reply(self, user: User, text: str, to_text: str) -> Update:
        bot_user = User(BOT_ID, "迎检助手", is_bot=True, username=BOT_USERNAME)
        original = Message(
            next(self._message_ids), datetime.now(UTC),
            Chat(user.id, Chat.PRIVATE), from_user=bot_user, text=to_text,
        )
        return self.text(user, text, reply_to_message=original)

    def document(
        self, user: User, file_id: str, file_name: str, mime_type: str, caption: str | None = None,
        *, file_size: int | None = None, media_group_id: str | None = None,
        reply_to_text: str | None = None,
    ) -> Update:
        document = Document(file_id, "u" + file_id, file_name=file_name, mime_type=mime_type,
                            file_size=file_size)
        message = self._message(user, None, document=document, caption=caption,
                                media_group_id=media_group_id,
                                reply_to_message=self._from_bot(user, reply_to_text))
        return Update(next(self._update_ids), message=message)

    def photo(
        self, user: User, file_id: str, caption: str | None = None, *,
        file_size: int | None = None, media_group_id: str | None = None,
        reply_to_text: str | None = None,
    ) -> Update:
        """A compressed photo: Telegram sends a ladder of sizes, the largest last."""
        sizes = [PhotoSize(file_id + "-s", "us" + file_id, 90, 68),
                 PhotoSize(file_id, "u" + file_id, 1280, 960, file_size=file_size)]
        message = self._message(user, None, photo=sizes, caption=caption,
                                media_group_id=media_group_id,
                                reply_to_message=self._from_bot(user, reply_to_text))
        return Update(next(self._update_ids), message=message)

    def _from_bot(self, user: User, text: str | None) -> Message | None:
        if text is None:
            return None
        bot_user = User(BOT_ID, "迎检助手", is_bot=True, username=BOT_USERNAME)
        return Message(next(self._message_ids), datetime.now(UTC), Chat(user.id, Chat.PRIVATE),
                       from_user=bot_user, text=text)

    def callback(
        self, user: User, data: str, message_text: str = "card", *,
        reply_to_text: str | None = None, chat: Chat | None = None,
    ) -> Update:
        """A press on a button under a bot's message (which may quote the person's own)."""
        bot_user = User(BOT_ID, "迎检助手", is_bot=True, username=BOT_USERNAME)
        quoted = None
        if reply_to_text is not None:
            quoted = Message(next(self._message_ids), datetime.now(UTC),
                             Chat(user.id, Chat.PRIVATE), from_user=user, text=reply_to_text)
        message = Message(
            next(self._message_ids), datetime.now(UTC),
            chat or Chat(user.id, Chat.PRIVATE), from_user=bot_user, text=message_text,
            reply_to_message=quoted,
        )
        message.set_bot(self.bot)
        query = CallbackQuery(
            str(next(self._update_ids)), user, chat_instance="ci", data=data, message=message
        )
        query.set_bot(self.bot)
        return Update(next(self._update_ids), callback_query=query)
