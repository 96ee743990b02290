"""The server's memory: everyone and everything a Bot API call can touch."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from . import serialize
from .config import SandboxConfig
from .errors import BLOCKED, CANT_INITIATE, CHAT_NOT_FOUND, bad_request, forbidden
from .events import EventHub, Stats
from .faults import FaultInjector
from .limits import RateLimiter
from .media import MediaStore
from .models import (
    CallbackQueryRecord,
    ChatRecord,
    ChatType,
    MessageRecord,
    PollRecord,
    SimUserRecord,
)
from .updates import UpdateQueue

JSON = dict[str, Any]


def now() -> int:
    """Telegram dates are whole seconds since the epoch."""
    return int(time.time())


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.stats = Stats()
        self.events = EventHub()
        self.updates = UpdateQueue(self.stats, config.webhook_retry_delays)
        self.limiter = RateLimiter(config.rate_limits)
        self.faults = FaultInjector(config.faults)
        self.media = MediaStore()
        self.users: dict[int, SimUserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.polls: dict[str, PollRecord] = {}
        self.callbacks: dict[str, CallbackQueryRecord] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.texts: dict[tuple[str, str], str] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.timers: list[asyncio.TimerHandle] = []
        self._serial = itertools.count(1)
        self._group_ids = itertools.count(1)

    def next_serial(self) -> int:
        return next(self._serial)

    # people and chats

    def add_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        role: str | None = None,
        started: bool = False,
    ) -> SimUserRecord:
        if user_id is None:
            user_id = 1000 + len(self.users) + 1
            while user_id in self.users:
                user_id += 1
        if user_id in self.users or user_id in self.chats:
            raise ValueError(f"user {user_id} already exists")
        if user_id <= 0 or user_id == self.config.bot_id:
            raise ValueError("user ids are positive and differ from the bot's id")
        user = SimUserRecord(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            role=role,
            started=started,
        )
        self.users[user_id] = user
        self.chats[user_id] = ChatRecord(id=user_id, type="private", user_id=user_id)
        self.events.publish("user_added", {"user": self.user_view(user)})
        return user

    def add_group(
        self,
        title: str,
        member_ids: list[int],
        *,
        chat_id: int | None = None,
        chat_type: ChatType = "supergroup",
    ) -> ChatRecord:
        missing = [uid for uid in member_ids if uid not in self.users]
        if missing:
            raise ValueError(f"unknown users: {missing}")
        if chat_type == "private":
            raise ValueError("a group is a 'group' or a 'supergroup'")
        if chat_id is None:
            serial = next(self._group_ids)
            chat_id = -1001000000000 - serial if chat_type == "supergroup" else -4000 - serial
        if chat_id >= 0 or chat_id in self.chats:
            raise ValueError(f"chat {chat_id} is taken or not a group id")
        chat = ChatRecord(id=chat_id, type=chat_type, title=title, members=list(member_ids))
        self.chats[chat_id] = chat
        if member_ids:
            # the bot learns it was added to the group, as with Telegram's my_chat_member
            self.updates.push(
                "my_chat_member",
                serialize.my_chat_member_json(
                    self, chat, self.users[member_ids[0]], "left", "member", now()
                ),
            )
        self.events.publish("chat_added", {"chat": self.chat_view(chat)})
        return chat

    def user(self, user_id: int) -> SimUserRecord:
        user = self.users.get(user_id)
        if user is None:
            raise KeyError(f"no simulated user {user_id}")
        return user

    def chat_for_bot(self, chat_id: int | str) -> ChatRecord:
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def ensure_can_send(self, chat: ChatRecord) -> None:
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise forbidden(BLOCKED)
            if not user.started:
                raise forbidden(CANT_INITIATE)
            return
        kind = "supergroup" if chat.type == "supergroup" else "group"
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {kind} chat")

    # messages

    def add_message(self, chat: ChatRecord, sender_id: int, **fields: Any) -> MessageRecord:
        msg = MessageRecord(
            chat_id=chat.id,
            message_id=chat.new_message_id(),
            sender_id=sender_id,
            date=now(),
            **fields,
        )
        chat.messages[msg.message_id] = msg
        if sender_id == self.config.bot_id:
            self.stats.delivered_per_chat[chat.id] += 1
        self.publish_message("message", msg)
        return msg

    def publish_message(self, kind: str, msg: MessageRecord) -> None:
        self.events.publish(kind, {"chat_id": msg.chat_id, "message": self.message_view(msg)})

    def find_message(self, chat_id: int, message_id: int) -> MessageRecord | None:
        chat = self.chats.get(chat_id)
        msg = chat.messages.get(message_id) if chat else None
        return msg if msg is not None and not msg.deleted else None

    # views for the control API: the Bot API object plus what a person would see

    def message_view(self, msg: MessageRecord) -> JSON:
        view: JSON = {
            "chat_id": msg.chat_id,
            "message_id": msg.message_id,
            "from_bot": msg.sender_id == self.config.bot_id,
            "sender_id": msg.sender_id,
            "deleted": msg.deleted,
            "edits": msg.edits,
            "message": serialize.message_json(self, msg),
        }
        if msg.reply_keyboard is not None:
            view["reply_keyboard"] = msg.reply_keyboard
        if msg.poll_id is not None:
            poll = self.polls[msg.poll_id]
            view["poll_votes"] = {str(uid): chosen for uid, chosen in poll.votes.items()}
        return view

    def user_view(self, user: SimUserRecord) -> JSON:
        return {
            "id": user.id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "username": user.username,
            "language_code": user.language_code,
            "display_name": user.display_name,
            "role": user.role,
            "started": user.started,
            "blocked": user.blocked,
            "chat_id": user.id,
        }

    def chat_view(self, chat: ChatRecord) -> JSON:
        return {
            "id": chat.id,
            "type": chat.type,
            "title": chat.title,
            "user_id": chat.user_id,
            "members": list(chat.members),
            "bot_status": chat.bot_status,
            "message_count": sum(1 for m in chat.messages.values() if not m.deleted),
        }
