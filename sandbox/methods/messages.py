"""sendMessage and the methods that change or answer what is already in a chat."""

from __future__ import annotations

from typing import Any

from ..errors import (
    MESSAGE_CANT_BE_EDITED,
    MESSAGE_TO_DELETE_NOT_FOUND,
    MESSAGE_TO_EDIT_NOT_FOUND,
    NO_TEXT_TO_EDIT,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    bad_request,
)
from ..models import MessageRecord
from ..params import Params
from ..serialize import message_json
from ..state import SandboxState, now
from .common import (
    Handler,
    caption,
    markup,
    message_text,
    reply_target,
    take_quota,
    target_chat,
)

JSON = dict[str, Any]
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


async def send_message(st: SandboxState, p: Params) -> JSON:
    chat = target_chat(st, p)
    text, entities = message_text(p)
    reply_to = reply_target(st, chat, p)
    keyboard = markup(p)
    take_quota(st, chat)
    msg = st.add_message(
        chat,
        st.config.bot_id,
        text=text,
        entities=entities,
        reply_to=reply_to,
        inline_keyboard=keyboard.inline_keyboard,
        reply_keyboard=keyboard.reply_keyboard,
    )
    return message_json(st, msg)


def _bot_message_to_edit(st: SandboxState, p: Params) -> MessageRecord:
    if p.has("inline_message_id"):
        # inline mode is not simulated, so no inline message id can be valid
        raise bad_request("MESSAGE_ID_INVALID")
    chat = st.chat_for_bot(p.chat_id())
    msg = st.find_message(chat.id, p.req_integer("message_id"))
    if msg is None:
        raise bad_request(MESSAGE_TO_EDIT_NOT_FOUND)
    if msg.sender_id != st.config.bot_id:
        raise bad_request(MESSAGE_CANT_BE_EDITED)
    return msg


def _apply_edit(st: SandboxState, msg: MessageRecord, changes: dict[str, Any]) -> JSON:
    if all(getattr(msg, key) == value for key, value in changes.items()):
        raise bad_request(NOT_MODIFIED)
    for key, value in changes.items():
        setattr(msg, key, value)
    msg.edit_date = now()
    msg.edits += 1
    st.publish_message("message_edited", msg)
    return message_json(st, msg)


async def edit_message_text(st: SandboxState, p: Params) -> JSON:
    msg = _bot_message_to_edit(st, p)
    if msg.text is None:
        raise bad_request(NO_TEXT_TO_EDIT)
    text, entities = message_text(p)
    # leaving reply_markup out removes the inline keyboard, as on Telegram
    keyboard = markup(p).inline_keyboard
    return _apply_edit(st, msg, {"text": text, "entities": entities, "inline_keyboard": keyboard})


async def edit_message_caption(st: SandboxState, p: Params) -> JSON:
    msg = _bot_message_to_edit(st, p)
    if msg.text is not None or msg.poll_id is not None:
        raise bad_request("there is no caption in the message to edit")
    text, entities = caption(p)
    keyboard = markup(p).inline_keyboard
    return _apply_edit(
        st,
        msg,
        {"caption": text, "caption_entities": entities, "inline_keyboard": keyboard},
    )


async def edit_message_reply_markup(st: SandboxState, p: Params) -> JSON:
    msg = _bot_message_to_edit(st, p)
    return _apply_edit(st, msg, {"inline_keyboard": markup(p).inline_keyboard})


async def delete_message(st: SandboxState, p: Params) -> bool:
    chat = st.chat_for_bot(p.chat_id())
    msg = st.find_message(chat.id, p.req_integer("message_id"))
    if msg is None:
        raise bad_request(MESSAGE_TO_DELETE_NOT_FOUND)
    if chat.type != "private" and msg.sender_id != st.config.bot_id:
        # deleting other people's messages in a group needs admin rights the bot lacks
        raise bad_request("message can't be deleted")
    msg.deleted = True
    st.events.publish("message_deleted", {"chat_id": chat.id, "message_id": msg.message_id})
    return True


async def answer_callback_query(st: SandboxState, p: Params) -> bool:
    query = st.callbacks.get(p.req_text("callback_query_id"))
    if query is None or query.answered:
        raise bad_request(QUERY_TOO_OLD)
    text = p.text("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.answer = {
        "text": text,
        "show_alert": p.flag("show_alert"),
        "url": p.text("url"),
        "cache_time": p.integer("cache_time") or 0,
    }
    st.events.publish(
        "callback_answer",
        {
            "query_id": query.id,
            "user_id": query.user_id,
            "chat_id": query.chat_id,
            "message_id": query.message_id,
            **query.answer,
        },
    )
    return True


async def send_chat_action(st: SandboxState, p: Params) -> bool:
    chat = target_chat(st, p)
    action = p.req_text("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    st.events.publish("chat_action", {"chat_id": chat.id, "action": action})
    return True


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
