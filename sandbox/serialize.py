"""Bot API objects as python-telegram-bot 22.8 (Bot API 10.0) expects them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import (
    CallbackQueryRecord,
    ChatRecord,
    MessageRecord,
    PollRecord,
    SimUserRecord,
    StoredFile,
)

if TYPE_CHECKING:
    from .state import SandboxState

JSON = dict[str, Any]


def _compact(data: JSON) -> JSON:
    return {key: value for key, value in data.items() if value is not None}


def user_json(user: SimUserRecord) -> JSON:
    return _compact(
        {
            "id": user.id,
            "is_bot": False,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "username": user.username,
            "language_code": user.language_code,
        }
    )


def bot_json(st: SandboxState, *, full: bool = False) -> JSON:
    data: JSON = {
        "id": st.config.bot_id,
        "is_bot": True,
        "first_name": st.config.bot_first_name,
        "username": st.config.bot_username,
    }
    if full:
        data.update(
            can_join_groups=True,
            can_read_all_group_messages=not st.config.group_privacy,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
            has_topics_enabled=False,
        )
    return data


def chat_json(st: SandboxState, chat: ChatRecord) -> JSON:
    if chat.type == "private" and chat.user_id is not None:
        user = st.users[chat.user_id]
        return _compact(
            {
                "id": chat.id,
                "type": "private",
                "first_name": user.first_name,
                "last_name": user.last_name,
                "username": user.username,
            }
        )
    return {"id": chat.id, "type": chat.type, "title": chat.title}


def chat_full_json(st: SandboxState, chat: ChatRecord) -> JSON:
    return {
        **chat_json(st, chat),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def chat_instance(st: SandboxState, chat_id: int) -> str:
    # Telegram's value is opaque but stable per chat and bot
    return str((chat_id * 0x9E3779B1 + st.config.bot_id) % (2**62))


def photo_size_json(size: StoredFile) -> JSON:
    return {
        "file_id": size.file_id,
        "file_unique_id": size.file_unique_id,
        "width": size.width,
        "height": size.height,
        "file_size": size.size,
    }


def document_json(doc: StoredFile) -> JSON:
    return _compact(
        {
            "file_id": doc.file_id,
            "file_unique_id": doc.file_unique_id,
            "file_name": doc.file_name,
            "mime_type": doc.mime_type,
            "file_size": doc.size,
        }
    )


def file_json(stored: StoredFile) -> JSON:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


def poll_json(poll: PollRecord) -> JSON:
    data: JSON = {
        "id": poll.id,
        "question": poll.question,
        "options": [
            {
                "text": option.text,
                "voter_count": len(option.voters),
                "persistent_id": option.persistent_id,
            }
            for option in poll.options
        ],
        "total_voter_count": poll.total_voter_count,
        "is_closed": poll.is_closed,
        "is_anonymous": poll.is_anonymous,
        "type": poll.type,
        "allows_multiple_answers": poll.allows_multiple_answers,
        "allows_revoting": poll.allows_revoting,
        "members_only": False,
    }
    if poll.type == "quiz":
        # the bot sent the quiz, so Telegram reveals the correct answers to it
        data["correct_option_ids"] = list(poll.correct_option_ids)
    if poll.explanation:
        data["explanation"] = poll.explanation
        data["explanation_entities"] = poll.explanation_entities
    if poll.open_period:
        data["open_period"] = poll.open_period
    if poll.close_date:
        data["close_date"] = poll.close_date
    return data


def message_json(st: SandboxState, msg: MessageRecord, *, nested: bool = False) -> JSON:
    chat = st.chats[msg.chat_id]
    sender = (
        bot_json(st) if msg.sender_id == st.config.bot_id else user_json(st.users[msg.sender_id])
    )
    data: JSON = {
        "message_id": msg.message_id,
        "from": sender,
        "date": msg.date,
        "chat": chat_json(st, chat),
    }
    if msg.edit_date is not None:
        data["edit_date"] = msg.edit_date
    if msg.text is not None:
        data["text"] = msg.text
        if msg.entities:
            data["entities"] = msg.entities
    if msg.caption is not None:
        data["caption"] = msg.caption
        if msg.caption_entities:
            data["caption_entities"] = msg.caption_entities
    if msg.photo:
        data["photo"] = [photo_size_json(size) for size in msg.photo]
    if msg.document is not None:
        data["document"] = document_json(msg.document)
    if msg.poll_id is not None:
        data["poll"] = poll_json(st.polls[msg.poll_id])
    if msg.media_group_id is not None:
        data["media_group_id"] = msg.media_group_id
    if msg.inline_keyboard:
        data["reply_markup"] = {"inline_keyboard": msg.inline_keyboard}
    if msg.service:
        data.update(msg.service)
    if msg.reply_to is not None and not nested:
        replied = chat.messages.get(msg.reply_to)
        # Telegram omits reply_to_message once the original is deleted
        if replied is not None and not replied.deleted:
            data["reply_to_message"] = message_json(st, replied, nested=True)
    return data


def callback_query_json(st: SandboxState, query: CallbackQueryRecord) -> JSON:
    chat = st.chats[query.chat_id]
    data: JSON = {
        "id": query.id,
        "from": user_json(st.users[query.user_id]),
        "chat_instance": chat_instance(st, chat.id),
        "message": message_json(st, chat.messages[query.message_id]),
    }
    if query.data is not None:
        data["data"] = query.data
    return data


def member_json(st: SandboxState, status: str) -> JSON:
    data: JSON = {"status": status, "user": bot_json(st)}
    if status == "kicked":
        data["until_date"] = 0
    return data


def my_chat_member_json(
    st: SandboxState, chat: ChatRecord, actor: SimUserRecord, old: str, new: str, date: int
) -> JSON:
    return {
        "chat": chat_json(st, chat),
        "from": user_json(actor),
        "date": date,
        "old_chat_member": member_json(st, old),
        "new_chat_member": member_json(st, new),
    }
