"""Group chats see nothing private: only a few harmless commands work there.

Anyone in a group reads the answer, so `/tasks`, `/summary`, `/report` or `/invite`
answered there would hand the ledger (or a redeemable invite) to everyone present.
Every command is private-only unless listed in `GROUP_COMMANDS`, so a new command is
private by default; its user gets a short pointer to the private chat. Buttons pressed in
a group are refused the same way, and other group messages (chatter, replies to a
bulletin) are left alone. The leaders' group still receives its bulletins and
escalations: those come from the outbox, not from an answer.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, TypeHandler

from bot.core import metrics
from handlers import outgoing
from handlers.common import language_of
from handlers.context import AppContext, AppType
from handlers.groups import Group

# Commands that reveal nothing about the campaign's people, tasks or files.
GROUP_COMMANDS = frozenset({"help", "ask"})


def registered_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> frozenset[str]:
    """Every command some handler of the application answers."""
    return frozenset(
        command
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    )


def _command(update: Update, bot_username: str) -> str | None:
    """The command a group message addresses to this bot, if any."""
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    head = message.text.split(maxsplit=1)[0][1:]
    name, _, addressee = head.partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None  # another bot's command
    return name.lower()


async def private_only(update: Update, context: AppContext) -> None:
    """In a group: let the harmless commands through, point everything else elsewhere."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    texts, lang = context.services.texts, language_of(context, update.effective_user)
    query = update.callback_query
    if query is not None:
        await outgoing.answer(query, texts.plain(lang, "gate.private_only_short"), alert=True)
        metrics.mark_update("refused")
        raise ApplicationHandlerStop
    username = context.bot.username
    command = _command(update, username)
    if command in GROUP_COMMANDS:
        return
    if command is not None and command in registered_commands(context.application):
        await outgoing.reply(
            update,
            texts.get(lang, "gate.private_only", command=command, link=f"https://t.me/{username}"),
            quote=True,
        )
        metrics.mark_update("refused")
    raise ApplicationHandlerStop


def register(app: AppType) -> None:
    app.add_handler(TypeHandler(Update, private_only), group=Group.CHATS)
