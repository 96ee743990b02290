"""Read-only views of chat messages as the test client hands them to tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


class SandboxTimeout(AssertionError):
    """An expectation was not met in time; the message lists what did arrive."""


class SandboxRequestError(AssertionError):
    """The control API refused an action, e.g. pressing a button that is not there."""


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True)
class ChatMessage:
    """One message in a chat, whoever sent it, with Bot API fields at hand."""

    view: JSON

    @property
    def message(self) -> JSON:
        """The Bot API Message object exactly as the bot would receive it."""
        return dict(self.view["message"])

    @property
    def chat_id(self) -> int:
        return int(self.view["chat_id"])

    @property
    def message_id(self) -> int:
        return int(self.view["message_id"])

    @property
    def from_bot(self) -> bool:
        return bool(self.view["from_bot"])

    @property
    def sender_id(self) -> int:
        return int(self.view["sender_id"])

    @property
    def text(self) -> str:
        """The text, or the caption of a media message, without formatting."""
        message = self.view["message"]
        return str(message.get("text", message.get("caption", "")))

    @property
    def entities(self) -> list[JSON]:
        message = self.view["message"]
        return list(message.get("entities", message.get("caption_entities", [])))

    @property
    def edits(self) -> int:
        return int(self.view["edits"])

    @property
    def deleted(self) -> bool:
        return bool(self.view["deleted"])

    @property
    def buttons(self) -> list[list[Button]]:
        markup = self.view["message"].get("reply_markup") or {}
        return [
            [Button(b["text"], b.get("callback_data"), b.get("url")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    @property
    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    @property
    def reply_keyboard(self) -> JSON | None:
        return self.view.get("reply_keyboard")

    @property
    def photo(self) -> list[JSON]:
        return list(self.view["message"].get("photo", []))

    @property
    def document(self) -> JSON | None:
        found: JSON | None = self.view["message"].get("document")
        return found

    @property
    def poll(self) -> JSON | None:
        found: JSON | None = self.view["message"].get("poll")
        return found

    @property
    def media_group_id(self) -> str | None:
        found: str | None = self.view["message"].get("media_group_id")
        return found

    @property
    def reply_to_message_id(self) -> int | None:
        replied = self.view["message"].get("reply_to_message")
        return int(replied["message_id"]) if replied else None

    def summary(self) -> str:
        who = "bot" if self.from_bot else str(self.view["message"]["from"]["first_name"])
        kind = ""
        if self.photo:
            kind = "[photo] "
        elif self.document:
            kind = f"[document {self.document.get('file_name')}] "
        elif self.poll:
            kind = f"[poll {self.poll['question']!r} {[o['text'] for o in self.poll['options']]}] "
        text = self.text if len(self.text) <= 80 else self.text[:77] + "..."
        buttons = f" buttons={self.button_texts}" if self.buttons else ""
        edits = f" (edited {self.edits}x)" if self.edits else ""
        return f"#{self.message_id} {who}: {kind}{text!r}{buttons}{edits}"

    def __repr__(self) -> str:
        return f"ChatMessage({self.summary()})"


def describe(messages: list[ChatMessage]) -> str:
    if not messages:
        return "  (the chat is empty)"
    return "\n".join(f"  {message.summary()}" for message in messages)
