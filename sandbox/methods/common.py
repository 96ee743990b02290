"""What every sending method shares: the target chat, replies, keyboards, flood control."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..errors import (
    BUTTON_DATA_INVALID,
    CAPTION_TOO_LONG,
    MESSAGE_TOO_LONG,
    REPLY_NOT_FOUND,
    ApiError,
    bad_request,
)
from ..models import ChatRecord
from ..params import Params
from ..state import SandboxState
from ..textfmt import format_text, utf16_len

JSON = dict[str, Any]
Handler = Callable[[SandboxState, Params], Awaitable[Any]]

MAX_TEXT = 4096
MAX_CAPTION = 1024
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


@dataclass
class Markup:
    inline_keyboard: list[list[JSON]] | None = None
    reply_keyboard: JSON | None = None


def target_chat(st: SandboxState, p: Params) -> ChatRecord:
    chat = st.chat_for_bot(p.chat_id())
    st.ensure_can_send(chat)
    return chat


def message_text(p: Params, field: str = "text") -> tuple[str, list[JSON]]:
    raw = p.text(field) or ""
    entities = p.parsed("entities", "message entities")
    text, entities = format_text(raw, p.text("parse_mode"), entities)
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request(MESSAGE_TOO_LONG)
    return text, entities


def caption(p: Params) -> tuple[str | None, list[JSON]]:
    raw = p.text("caption")
    if raw is None:
        return None, []
    text, entities = format_text(raw, p.text("parse_mode"), p.parsed("caption_entities"))
    return checked_caption(text), entities


def checked_caption(text: str) -> str:
    if utf16_len(text) > MAX_CAPTION:
        raise bad_request(CAPTION_TOO_LONG)
    return text


def reply_target(st: SandboxState, chat: ChatRecord, p: Params) -> int | None:
    params = p.parsed("reply_parameters", "reply parameters")
    if isinstance(params, dict):
        message_id = params.get("message_id")
        allow_missing = bool(params.get("allow_sending_without_reply"))
    else:
        message_id = p.integer("reply_to_message_id")
        allow_missing = p.flag("allow_sending_without_reply")
    if message_id is None:
        return None
    if st.find_message(chat.id, int(message_id)) is None:
        if allow_missing:
            return None
        raise bad_request(REPLY_NOT_FOUND)
    return int(message_id)


def markup(p: Params) -> Markup:
    raw = p.parsed("reply_markup", "reply keyboard markup")
    if raw is None:
        return Markup()
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        return Markup(inline_keyboard=inline_keyboard(raw["inline_keyboard"]))
    if "keyboard" in raw or raw.get("remove_keyboard") or raw.get("force_reply"):
        return Markup(reply_keyboard=raw)
    raise bad_request("can't parse reply keyboard markup JSON object")


def inline_keyboard(rows: Any) -> list[list[JSON]] | None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if not any(key in button for key in _INLINE_ACTIONS):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request(BUTTON_DATA_INVALID)
    cleaned = [row for row in rows if row]
    return cleaned or None


def take_quota(st: SandboxState, chat: ChatRecord, count: int = 1) -> None:
    try:
        st.limiter.acquire(chat.id, is_private=chat.type == "private", count=count)
    except ApiError:
        st.stats.rate_limited_per_chat[chat.id] += 1
        raise
