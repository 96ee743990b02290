"""The sandbox's world: people, chats, messages, files, polls and callback queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
ChatType = Literal["private", "group", "supergroup"]
FileKind = Literal["photo", "document"]


@dataclass
class SimUserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    role: str | None = None
    started: bool = False
    blocked: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: FileKind
    data: bytes
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class MessageRecord:
    chat_id: int
    message_id: int
    sender_id: int
    date: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    photo: list[StoredFile] | None = None
    document: StoredFile | None = None
    poll_id: str | None = None
    reply_to: int | None = None
    inline_keyboard: list[list[JSON]] | None = None
    reply_keyboard: JSON | None = None
    media_group_id: str | None = None
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False
    service: JSON | None = None

    @property
    def content_text(self) -> str:
        return self.text if self.text is not None else self.caption or ""


@dataclass
class ChatRecord:
    id: int
    type: ChatType
    title: str | None = None
    user_id: int | None = None
    members: list[int] = field(default_factory=list)
    bot_status: Literal["member", "administrator", "left", "kicked"] = "member"
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    next_message_id: int = 1

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class PollOptionRecord:
    text: str
    persistent_id: str
    voters: set[int] = field(default_factory=set)


@dataclass
class PollRecord:
    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[PollOptionRecord]
    type: Literal["regular", "quiz"]
    is_anonymous: bool
    allows_multiple_answers: bool
    allows_revoting: bool
    correct_option_ids: list[int]
    explanation: str | None = None
    explanation_entities: list[JSON] = field(default_factory=list)
    open_period: int | None = None
    close_date: int | None = None
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)

    @property
    def total_voter_count(self) -> int:
        return sum(1 for chosen in self.votes.values() if chosen)


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    answered: bool = False
    answer: JSON | None = None
