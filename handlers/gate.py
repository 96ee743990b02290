"""The gate: every update from an unknown Telegram account stops here, politely."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.core import metrics
from bot.core.access import actor_by_telegram_id
from handlers import outgoing
from handlers.common import language_of
from handlers.context import AppContext, AppType
from handlers.groups import Group


def _is_start_with_code(update: Update) -> bool:
    message = update.message
    if message is None or message.text is None:
        return False
    parts = message.text.split(maxsplit=1)
    return len(parts) == 2 and parts[0].split("@")[0] == "/start"


async def gate(update: Update, context: AppContext) -> None:
    """Find the linked person; anyone else may only redeem an invite."""
    user = update.effective_user
    if user is None:
        raise ApplicationHandlerStop
    services = context.services
    # On the update's own session, left open: the handler's unit of work goes on with
    # the same connection instead of taking another from the pool.
    async with services.reading() as session:
        context.actor = await actor_by_telegram_id(session=session, telegram_id=user.id)
    if context.actor is not None:
        services.flood.mark_linked(user.id)
        return
    services.flood.mark_stranger(user.id)
    if _is_start_with_code(update):
        return
    # Raising (not returning) is what keeps later handler groups from running.
    lang = language_of(context, user)
    if update.callback_query is not None:
        # Always answered: it only ends the button's spinner, and costs no chat message.
        await outgoing.answer(
            update.callback_query, services.texts.plain(lang, "gate.unknown_user_short"),
            alert=True,
        )
    elif (update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
          # Once per period: a stranger's flood is not answered message by message.
          and services.flood.may_answer_stranger(user.id)):
        await outgoing.reply(update, services.texts.get(lang, "gate.unknown_user"))
    metrics.mark_update("refused")
    raise ApplicationHandlerStop


def register(app: AppType) -> None:
    app.add_handler(TypeHandler(Update, gate), group=Group.GATE)
