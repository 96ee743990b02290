"""/quiz: native Telegram quiz polls, one after another, with skip and stop buttons.

Polls are non-anonymous so that answers arrive as `poll_answer` updates, which carry no
chat: the poll's row in the database says whose it is and where the next one goes.
"""

from __future__ import annotations

from telegram import Bot, Poll, Update
from telegram.constants import ChatType
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    PollAnswerHandler,
)

from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.quiz import reminders as quiz_reminders
from bot.quiz import session as quiz
from bot.quiz.feature import REVIEWTIME_WORDS
from bot.quiz.session import PollPlan
from bot.quiz.views import poll_keyboard
from bot.services import Services
from bot.texts import Label
from db.models import QuizSession
from handlers import outgoing
from handlers.common import actor_of, command_args, incoming, pressed, t
from handlers.context import AppContext, AppType
from handlers.outgoing import markup, reply


async def send_plan(
    bot: Bot, services: Services, *, plan: PollPlan, chat_id: int, person_id: int, lang: str
) -> None:
    """Send one quiz poll and remember it; the caller holds the person's lock."""
    message = await outgoing.deliver(
        lambda: bot.send_poll(
            chat_id,
            plan.question,
            list(plan.options),
            is_anonymous=False,
            type=Poll.QUIZ,
            allows_multiple_answers=plan.multiple,
            # PTB types the ids as Literal[0..11]; ours are validated against the option count.
            correct_option_ids=list(plan.correct_ids),  # type: ignore[arg-type]
            explanation=plan.explanation or None,
            reply_markup=markup(poll_keyboard(services.texts, lang, plan)),
        ),
        what=f"sendPoll to {chat_id}",
    )
    if message is None or message.poll is None:
        return
    async with services.session() as session:
        await quiz.poll_sent(session, plan, poll_id=message.poll.id, person_id=person_id,
                             chat_id=chat_id, message_id=message.message_id,
                             now=services.clock.now())


async def _send_next(
    bot: Bot, services: Services, quiz_session: QuizSession, plan: PollPlan | None, *, lang: str
) -> None:
    """Send the session's next poll, or its summary when the session has ended."""
    if plan is not None:
        await send_plan(bot, services, plan=plan, chat_id=quiz_session.chat_id,
                        person_id=quiz_session.person_id, lang=lang)
        return
    if quiz_session.ended_at is not None:
        await outgoing.send(bot, quiz_session.chat_id,
                            _tally(services, lang, "quiz.finished", quiz_session))


def _tally(services: Services, lang: str, text_id: str, quiz_session: QuizSession) -> str:
    """"答对 3/4 题，跳过 1 题": skipped questions are neither answered nor wrong."""
    skipped = quiz_session.skipped
    return services.texts.get(
        lang, text_id, correct=quiz_session.correct, answered=quiz.answered(quiz_session),
        skipped=Label("quiz.skipped_part", count=skipped) if skipped else "",
    )


async def quiz_command(update: Update, context: AppContext) -> None:
    """/quiz [indicator]: a session of quiz polls, due questions first."""
    inc = incoming(update)
    actor = actor_of(context)
    if inc.message is None or inc.message.chat.type != ChatType.PRIVATE:
        raise InvalidInput("quiz.private_only")
    services = context.services
    rt = services.quiz.runtime
    indicator = " ".join(command_args(context)) or None
    now = services.clock.now()
    async with rt.lock_for(inc.user.id):
        async with services.session() as session:
            quiz_session = await quiz.start_quiz(
                session, person_id=actor.person_id, chat_id=inc.chat_id, indicator=indicator,
                length=services.config.quiz.session_length, now=now,
            )
            plan = await quiz.next_poll(session, quiz_session, now=now, rng=rt.rng)
            if plan is None:
                await quiz.finish(session, quiz_session, now=now)
            name = await quiz.scope_name(session, quiz_session)
        if plan is None:
            await reply(update, t(context, "quiz.empty"))
            return
        scope = t(context, "quiz.scope", name=name) if name else ""
        await reply(update, t(context, "quiz.started", total=quiz_session.length, scope=scope))
        await send_plan(context.bot, services, plan=plan, chat_id=inc.chat_id,
                        person_id=actor.person_id, lang=actor.language)


async def on_poll_answer(update: Update, context: AppContext) -> None:
    """A quiz answer: review the card, then send the next question of the session."""
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return
    actor = actor_of(context)
    services = context.services
    rt = services.quiz.runtime
    async with rt.lock_for(answer.user.id):
        async with services.session() as session:
            outcome = await quiz.answer_poll(
                session, rt.srs, poll_id=answer.poll_id, telegram_id=answer.user.id,
                option_ids=tuple(answer.option_ids), now=services.clock.now(), rng=rt.rng,
            )
        if outcome is None or outcome.quiz_session is None:
            return
        await _send_next(context.bot, services, outcome.quiz_session, outcome.next_plan,
                         lang=actor.language)


async def on_quiz_button(update: Update, context: AppContext) -> None:
    """Skip and stop buttons under a poll: quiz:<action>:<session>[:<question>]."""
    button = await pressed(update, callbacks.QUIZ)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    rt = services.quiz.runtime
    lang = actor.language
    now = services.clock.now()
    async with rt.lock_for(query.from_user.id):
        async with services.session() as session:
            skipped = None
            if parsed.action == "skip":
                skipped = await quiz.skip(
                    session, rt.srs, person_id=actor.person_id, session_id=parsed.id,
                    question_id=parsed.number(1), now=now, rng=rt.rng,
                )
                quiz_session = skipped.quiz_session if skipped is not None else None
            else:
                quiz_session = await quiz.stop(
                    session, person_id=actor.person_id, session_id=parsed.id, now=now
                )
        if quiz_session is None:
            await outgoing.answer(query, services.texts.plain(lang, "quiz.stale"), alert=True)
            return
        if skipped is not None:
            await outgoing.answer(query, services.texts.plain(lang, "quiz.skipped"))
            await _send_next(context.bot, services, quiz_session, skipped.next_plan, lang=lang)
            return
        await outgoing.answer(query)
        await reply(update, _tally(services, lang, "quiz.stopped", quiz_session))


async def reviewtime_command(update: Update, context: AppContext) -> None:
    """/reviewtime [HH:MM|off]: when the daily review reminder comes."""
    actor = actor_of(context)
    services = context.services
    args = command_args(context)
    if not args:
        async with services.session() as session:
            current = await quiz_reminders.review_time(
                session, actor.person_id, default=services.config.quiz.review_time
            )
        if current is None:
            await reply(update, t(context, "quiz.reviewtime.current_off"))
        else:
            await reply(update, t(context, "quiz.reviewtime.current",
                                  time=current.strftime("%H:%M")))
        return
    off = REVIEWTIME_WORDS.canonical(args[0]) == "off"
    at = None if off else quiz_reminders.parse_time(args[0])
    if not off and at is None:
        raise InvalidInput("quiz.reviewtime.bad_time")
    async with services.session() as session:
        await quiz_reminders.set_review_time(session, actor.person_id, at)
    if at is None:
        await reply(update, t(context, "quiz.reviewtime.off"))
    else:
        await reply(update, t(context, "quiz.reviewtime.set", time=at.strftime("%H:%M")))


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("quiz", quiz_command))
    app.add_handler(CommandHandler("reviewtime", reviewtime_command))
    app.add_handler(PollAnswerHandler(on_poll_answer))
    app.add_handler(CallbackQueryHandler(on_quiz_button, pattern=callbacks.pattern(callbacks.QUIZ)))
