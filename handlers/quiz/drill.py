"""/drill: the bot asks as an inspector would; the next text message is the answer.

The question awaiting an answer is kept in the database (an open drill session), so an
answer written after a restart is still scored.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.context import ALL_ROLES, AppContext, AppType, CommandSpec, Services
from bot.core.errors import InvalidInput
from bot.quiz import session as quiz
from bot.quiz.drill import DrillScore
from bot.texts import Texts
from db.models import Question
from db.repositories import quiz as quiz_repo
from handlers.common import actor_of, command_args, incoming, reply
from handlers.quiz.polls import runtime

# Its own handler group: free text is also read by other features, and an open drill
# must not stop them from seeing it (nor they it).
DRILL_GROUP = 3


def result_text(texts: Texts, lang: str, question: Question, result: DrillScore) -> str:
    separator = "、" if lang == "zh" else "; "
    lines = [texts.get(lang, "quiz.drill.result", percent=result.percent,
                       covered=len(result.covered), total=len(question.key_points))]
    if result.covered:
        lines.append(texts.get(lang, "quiz.drill.covered", points=separator.join(result.covered)))
    if result.missed:
        lines.append(texts.get(lang, "quiz.drill.missed", points=separator.join(result.missed)))
    lines.append(texts.get(lang, "quiz.drill.model", answer=question.model_answer))
    return "\n".join(lines)


async def drill_command(update: Update, context: AppContext) -> None:
    """/drill [indicator]: one open question; the answer is the next text message."""
    inc = incoming(update)
    actor = actor_of(context)
    if inc.message is None or inc.message.chat.type != ChatType.PRIVATE:
        raise InvalidInput("quiz.private_only")
    services = context.services
    indicator = " ".join(command_args(context)) or None
    async with services.session() as session:
        drill, question = await quiz.start_drill(
            session, person_id=actor.person_id, chat_id=inc.chat_id, indicator=indicator,
            now=services.clock.now(),
        )
        await session.refresh(question, ["indicator"])
        indicator_name = question.indicator.name
    sent = await reply(update, services.texts.get(
        actor.language, "quiz.drill.prompt", indicator=indicator_name, question=question.text,
        minutes=services.config.quiz.drill_timeout_minutes,
    ))
    if sent is not None:
        async with services.session() as session:
            stored = await quiz_repo.get_session(session=session, session_id=drill.id)
            if stored is not None:
                stored.current_message_id = sent.message_id


async def on_text(update: Update, context: AppContext) -> None:
    """A private text message: the answer to an open drill, if there is one."""
    message = update.effective_message
    if context.actor is None or message is None or not message.text:
        return
    actor = context.actor
    services = context.services
    rt = runtime(services)
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
                                          now=services.clock.now())
    await reply(update, result_text(services.texts, actor.language, outcome.question,
                                    outcome.result))


def register(app: AppType, services: Services) -> None:
    services.add_commands(CommandSpec("drill", "quiz.cmd.drill", ALL_ROLES))
    app.add_handler(CommandHandler("drill", drill_command))
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text),
        group=DRILL_GROUP,
    )
