"""/drill: the bot asks as an inspector would; the next text message is the answer.

The question awaiting an answer is kept in the database (an open drill session), so an
answer written after a restart is still scored.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.core.errors import InvalidInput
from bot.quiz import session as quiz
from bot.quiz.views import drill_result_text
from handlers.common import actor_of, command_args, incoming
from handlers.context import AppContext, AppType
from handlers.groups import Group
from handlers.outgoing import reply


async def drill_command(update: Update, context: AppContext) -> None:
    """/drill [indicator]: one open question; the answer is the next text message."""
    inc = incoming(update)
    actor = actor_of(context)
    if inc.message is None or inc.message.chat.type != ChatType.PRIVATE:
        raise InvalidInput("quiz.private_only")
    services = context.services
    indicator = " ".join(command_args(context)) or None
    async with services.session() as session:
        asked = await quiz.start_drill(
            session, person_id=actor.person_id, chat_id=inc.chat_id, indicator=indicator,
            now=services.clock.now(),
        )
    sent = await reply(update, services.texts.get(
        actor.language, "quiz.drill.prompt", indicator=asked.indicator_name,
        question=asked.question.text,
        minutes=services.config.quiz.drill_timeout_minutes,
    ))
    if sent is not None:
        async with services.session() as session:
            await quiz.drill_prompt_sent(session, asked.drill_id, sent.message_id)


async def on_text(update: Update, context: AppContext) -> None:
    """A private text message: the answer to an open drill, if there is one."""
    message = update.effective_message
    if context.actor is None or message is None or not message.text:
        return
    actor = context.actor
    services = context.services
    rt = services.quiz.runtime
    timeout = services.config.quiz.drill_timeout_minutes
    async with services.session() as session:
        drill = await quiz.awaiting_drill(
            session, person_id=actor.person_id, now=services.clock.now(),
            patience=timedelta(minutes=timeout),
        )
        if drill is None:
            return
        quoted = message.reply_to_message
        if quoted is not None and quoted.message_id != drill.current_message_id:
            return  # a reply to some other message (a task card) is not the answer
        outcome = await quiz.answer_drill(session, rt.srs, drill, text=message.text,
                                          now=services.clock.now(), lexicon=rt.lexicon)
    await reply(update, drill_result_text(services.texts, actor.language, outcome.question,
                                    outcome.result))


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("drill", drill_command))
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text),
        group=Group.DRILL_ANSWERS,
    )
