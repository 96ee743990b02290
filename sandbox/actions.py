"""What simulated people do: each action becomes a message and, when the bot may see it, an update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import polls, serialize
from .errors import ActionError
from .models import CallbackQueryRecord, ChatRecord, MessageRecord, SimUserRecord
from .state import SandboxState, now
from .textfmt import detect_entities

JSON = dict[str, Any]


@dataclass(frozen=True)
class Attachment:
    kind: str  # "photo" or "document"
    data: bytes
    file_name: str = "file"
    mime_type: str | None = None


def _chat_of(st: SandboxState, user: SimUserRecord, chat_id: int | None) -> ChatRecord:
    chat = st.chats.get(user.id if chat_id is None else chat_id)
    if chat is None:
        raise ActionError(f"no chat {chat_id}")
    if chat.type == "private":
        if chat.id != user.id:
            raise ActionError("a person can only write in their own chat with the bot")
        if user.blocked:
            raise ActionError("the user has blocked the bot; unblock it first")
    elif user.id not in chat.members:
        raise ActionError(f"user {user.id} is not a member of chat {chat.id}")
    return chat


def _bot_sees(st: SandboxState, chat: ChatRecord, msg: MessageRecord) -> bool:
    """Telegram's privacy mode: in groups a bot only sees what is meant for it."""
    if chat.type == "private" or not st.config.group_privacy:
        return chat.type == "private" or chat.bot_status in {"member", "administrator"}
    if chat.bot_status not in {"member", "administrator"}:
        return False
    text = msg.content_text
    entities = msg.entities or msg.caption_entities
    username = st.config.bot_username.lower()
    for entity in entities:
        piece = text.encode("utf-16-le")[
            entity["offset"] * 2 : (entity["offset"] + entity["length"]) * 2
        ]
        word = piece.decode("utf-16-le").lower()
        if entity["type"] == "bot_command" and ("@" not in word or word.endswith("@" + username)):
            return True
        if entity["type"] == "mention" and word == "@" + username:
            return True
    if msg.reply_to is not None:
        replied = chat.messages.get(msg.reply_to)
        return replied is not None and replied.sender_id == st.config.bot_id
    return False


def _post(st: SandboxState, user: SimUserRecord, chat: ChatRecord, **fields: Any) -> MessageRecord:
    reply_to = fields.get("reply_to")
    if reply_to is not None and st.find_message(chat.id, reply_to) is None:
        raise ActionError(f"message {reply_to} is not in chat {chat.id}")
    if chat.type == "private":
        user.started = True
    msg = st.add_message(chat, user.id, **fields)
    if _bot_sees(st, chat, msg):
        st.updates.push("message", serialize.message_json(st, msg))
    return msg


def send_text(
    st: SandboxState,
    user_id: int,
    text: str,
    *,
    chat_id: int | None = None,
    reply_to: int | None = None,
) -> MessageRecord:
    user = st.user(user_id)
    if not text.strip():
        raise ActionError("an empty message cannot be sent")
    chat = _chat_of(st, user, chat_id)
    return _post(st, user, chat, text=text, entities=detect_entities(text), reply_to=reply_to)


def edit_text(
    st: SandboxState, user_id: int, chat_id: int, message_id: int, text: str
) -> MessageRecord:
    user = st.user(user_id)
    chat = _chat_of(st, user, chat_id)
    msg = st.find_message(chat.id, message_id)
    if msg is None or msg.sender_id != user.id or msg.text is None:
        raise ActionError("only your own text messages can be edited")
    msg.text, msg.entities = text, detect_entities(text)
    msg.edit_date, msg.edits = now(), msg.edits + 1
    st.publish_message("message_edited", msg)
    if _bot_sees(st, chat, msg):
        st.updates.push("edited_message", serialize.message_json(st, msg))
    return msg


def _media_fields(st: SandboxState, item: Attachment) -> dict[str, Any]:
    if item.kind == "photo":
        return {"photo": st.media.store_photo(item.data)}
    if item.kind == "document":
        return {
            "document": st.media.store_document(
                item.data, file_name=item.file_name, mime_type=item.mime_type
            )
        }
    raise ActionError(f"unknown attachment kind {item.kind!r}")


def send_media(
    st: SandboxState,
    user_id: int,
    items: list[Attachment],
    *,
    caption: str | None = None,
    chat_id: int | None = None,
    reply_to: int | None = None,
) -> list[MessageRecord]:
    """One attachment is a plain message; several form an album sharing a media_group_id."""
    user = st.user(user_id)
    chat = _chat_of(st, user, chat_id)
    if not 1 <= len(items) <= 10:
        raise ActionError("an album holds 1 to 10 items")
    prepared = [_media_fields(st, item) for item in items]
    group_id = str(14_000_000_000_000_000 + st.next_serial()) if len(items) > 1 else None
    sent = []
    for index, fields in enumerate(prepared):
        # Telegram apps put an album's caption on its first item
        text = caption if index == 0 else None
        sent.append(
            _post(
                st,
                user,
                chat,
                **fields,
                caption=text,
                caption_entities=detect_entities(text) if text else [],
                reply_to=reply_to,
                media_group_id=group_id,
            )
        )
    return sent


def press_button(
    st: SandboxState,
    user_id: int,
    chat_id: int,
    message_id: int,
    *,
    text: str | None = None,
    callback_data: str | None = None,
) -> CallbackQueryRecord:
    user = st.user(user_id)
    chat = _chat_of(st, user, chat_id)
    msg = st.find_message(chat.id, message_id)
    if msg is None or not msg.inline_keyboard:
        raise ActionError(f"message {message_id} has no inline keyboard")
    buttons = [button for row in msg.inline_keyboard for button in row]
    matches = [
        b
        for b in buttons
        if (text is None or b.get("text") == text)
        and (callback_data is None or b.get("callback_data") == callback_data)
    ]
    if not matches:
        labels = ", ".join(repr(b.get("text")) for b in buttons)
        raise ActionError(f"no such button; the keyboard has {labels}")
    button = matches[0]
    if "callback_data" not in button:
        raise ActionError(f"button {button.get('text')!r} does not send a callback query")
    query = CallbackQueryRecord(
        id=str(4_200_000_000_000_000 + st.next_serial()),
        user_id=user.id,
        chat_id=chat.id,
        message_id=msg.message_id,
        data=button["callback_data"],
    )
    st.callbacks[query.id] = query
    st.updates.push("callback_query", serialize.callback_query_json(st, query))
    st.events.publish(
        "callback_query",
        {
            "query_id": query.id,
            "user_id": user.id,
            "chat_id": chat.id,
            "message_id": msg.message_id,
            "data": query.data,
        },
    )
    return query


def answer_poll(
    st: SandboxState, user_id: int, chat_id: int, message_id: int, option_ids: list[int]
) -> None:
    user = st.user(user_id)
    chat = _chat_of(st, user, chat_id)
    msg = st.find_message(chat.id, message_id)
    if msg is None or msg.poll_id is None:
        raise ActionError(f"message {message_id} is not a poll")
    polls.vote(st, st.polls[msg.poll_id], user, option_ids)


def set_blocked(st: SandboxState, user_id: int, blocked: bool) -> None:
    user = st.user(user_id)
    if user.blocked == blocked:
        return
    user.blocked = blocked
    old, new = ("member", "kicked") if blocked else ("kicked", "member")
    chat = st.chats[user.id]
    st.updates.push(
        "my_chat_member", serialize.my_chat_member_json(st, chat, user, old, new, now())
    )
    st.events.publish("user_changed", {"user": st.user_view(user)})
