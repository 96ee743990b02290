"""Helpers every handler uses: narrowing an update, the acting person, a pressed button.

Replies go through `handlers.outgoing`, which keeps them within Telegram's limits."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, Message, Update, User

from bot.core import callbacks
from bot.core.access import Actor
from bot.core.errors import PermissionDenied
from db.models import Role
from handlers import outgoing
from handlers.context import AppContext


@dataclass(frozen=True)
class Incoming:
    """What a handler needs from an update, with Telegram's Optionals already narrowed."""

    user: User
    chat_id: int
    message: Message | None
    query: CallbackQuery | None

    @property
    def text(self) -> str:
        if self.message is None:
            return ""
        return self.message.text or self.message.caption or ""


class NotForUs(Exception):
    """The update lacks what this handler needs (no user, no chat): ignore it."""


def incoming(update: Update) -> Incoming:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        raise NotForUs
    return Incoming(user, chat.id, update.effective_message, update.callback_query)


def actor_of(context: AppContext) -> Actor:
    """The linked person the gate found; the gate has stopped unknown users already."""
    if context.actor is None:
        raise PermissionDenied("error.not_linked")
    return context.actor


def require(context: AppContext, *roles: Role) -> Actor:
    actor = actor_of(context)
    if actor.role not in roles:
        raise PermissionDenied("error.forbidden")
    return actor


def language_of(context: AppContext, user: User | None) -> str:
    if context.actor is not None:
        return context.actor.language
    code = (user.language_code or "") if user else ""
    if code.startswith("en"):
        return "en"
    return context.services.config.bot.default_language


def t(context: AppContext, key: str, /, **params: object) -> str:
    """A catalog text in the acting person's language."""
    return context.services.texts.get(language_of(context, None), key, **params)


def command_args(context: AppContext) -> list[str]:
    return list(context.args or [])


async def pressed(
    update: Update, prefix: str
) -> tuple[CallbackQuery, callbacks.Callback] | None:
    """The pressed button's query and its parsed data; malformed data is answered and dropped."""
    query = update.callback_query
    if query is None or query.data is None:
        return None
    parsed = callbacks.parse(query.data, prefix)
    if parsed is None:
        await outgoing.answer(query)
        return None
    return query, parsed
