"""/quiz: native Telegram quiz polls, one after another, with skip and stop buttons.

Polls are non-anonymous so that answers arrive as `poll_answer` updates, which carry no
chat: the poll's row in the database says whose it is and where the next one goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Poll, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    PollAnswerHandler,
)

from bot.context import ALL_ROLES, AppContext, AppType, CommandSpec, Services
from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.quiz import bank as quiz_bank
from bot.quiz import reminders as quiz_reminders
from bot.quiz import session as quiz
from bot.quiz.session import PollPlan, QuizRuntime
from bot.texts import Texts
from db.models import Indicator, QuizSession
from db.repositories import people as people_repo
from db.repositories import quiz as quiz_repo
from handlers.common import actor_of, command_args, incoming, pressed, reply, t

QUIZ = "quiz"
QUIZ_ACTIONS = ("skip", "stop")


@dataclass(frozen=True)
class QuizCallback:
    action: str
    session_id: int
    question_id: int | None = None


def quiz_cb(action: str, session_id: int, question_id: int | None = None) -> str:
    parts = [QUIZ, action, str(session_id)]
    if question_id is not None:
        parts.append(str(question_id))
    return ":".join(parts)


def parse_quiz(data: str) -> QuizCallback | None:
    """`quiz:skip:7:42` → QuizCallback('skip', 7, 42); anything malformed → None."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != QUIZ or parts[1] not in QUIZ_ACTIONS:
        return None
    if not all(p.isdigit() for p in parts[2:]):
        return None
    return QuizCallback(parts[1], int(parts[2]), int(parts[3]) if len(parts) == 4 else None)


def runtime(services: Services) -> QuizRuntime:
    found = services.features["quiz"]
    assert isinstance(found, QuizRuntime)
    return found


def poll_keyboard(texts: Texts, lang: str, plan: PollPlan) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.plain(lang, "quiz.button_skip"),
                             callback_data=quiz_cb("skip", plan.session_id, plan.question_id)),
        InlineKeyboardButton(texts.plain(lang, "quiz.button_stop"),
                             callback_data=quiz_cb("stop", plan.session_id)),
    ]])


async def send_plan(
    bot: Bot, services: Services, *, plan: PollPlan, chat_id: int, person_id: int, lang: str
) -> None:
    """Send one quiz poll and remember it; the caller holds the person's lock."""
    message = await bot.send_poll(
        chat_id,
        plan.question,
        list(plan.options),
        is_anonymous=False,
        type=Poll.QUIZ,
        allows_multiple_answers=plan.multiple,
        # PTB types the ids as Literal[0..11]; ours are validated against the option count.
        correct_option_ids=list(plan.correct_ids),  # type: ignore[arg-type]
        explanation=plan.explanation or None,
        reply_markup=poll_keyboard(services.texts, lang, plan),
    )
    if message.poll is None:
        return
    async with services.session() as session:
        await quiz.poll_sent(session, plan, poll_id=message.poll.id, person_id=person_id,
                             chat_id=chat_id, message_id=message.message_id,
                             now=services.clock.now())


async def _next_or_finish(
    bot: Bot, services: Services, quiz_session: QuizSession, *, lang: str
) -> None:
    """Send the session's next poll, or its summary when there is none."""
    now = services.clock.now()
    async with services.session() as session:
        fresh = await quiz_repo.get_session(session=session, session_id=quiz_session.id)
        if fresh is None or fresh.ended_at is not None:
            return
        plan = await quiz.next_poll(session, fresh, now=now, rng=runtime(services).rng)
        if plan is None:
            await quiz.finish(session, fresh, now=now)
        summary = (fresh.correct, fresh.asked - (1 if plan else 0))
    if plan is not None:
        await send_plan(bot, services, plan=plan, chat_id=fresh.chat_id,
                        person_id=fresh.person_id, lang=lang)
        return
    await bot.send_message(
        fresh.chat_id,
        services.texts.get(lang, "quiz.finished", correct=summary[0], asked=summary[1]),
        parse_mode="HTML",
    )


def _scope_name(indicators: list[Indicator], scope: list[int] | None) -> str:
    if not scope:
        return ""
    return next((i.name for i in indicators if i.id == scope[0]), "")


async def quiz_command(update: Update, context: AppContext) -> None:
    """/quiz [indicator]: a session of quiz polls, due questions first."""
    inc = incoming(update)
    actor = actor_of(context)
    if inc.message is None or inc.message.chat.type != ChatType.PRIVATE:
        raise InvalidInput("quiz.private_only")
    services = context.services
    rt = runtime(services)
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
            name = _scope_name(list(await people_repo.all_indicators(session=session)),
                               quiz_session.scope)
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
    rt = runtime(services)
    async with rt.lock_for(answer.user.id):
        async with services.session() as session:
            outcome = await quiz.answer_poll(
                session, rt.srs, poll_id=answer.poll_id, telegram_id=answer.user.id,
                option_ids=tuple(answer.option_ids), now=services.clock.now(),
            )
        if outcome is None or outcome.quiz_session is None:
            return
        await _next_or_finish(context.bot, services, outcome.quiz_session, lang=actor.language)


async def on_quiz_button(update: Update, context: AppContext) -> None:
    """Skip and stop buttons under a poll: quiz:<action>:<session>[:<question>]."""
    button = await pressed(update, parse_quiz)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    rt = runtime(services)
    lang = actor.language
    now = services.clock.now()
    async with rt.lock_for(query.from_user.id):
        async with services.session() as session:
            if parsed.action == "skip" and parsed.question_id is not None:
                quiz_session = await quiz.skip(
                    session, rt.srs, person_id=actor.person_id, session_id=parsed.session_id,
                    question_id=parsed.question_id, now=now,
                )
            else:
                quiz_session = await quiz.stop(
                    session, person_id=actor.person_id, session_id=parsed.session_id, now=now
                )
        if quiz_session is None:
            await query.answer(services.texts.plain(lang, "quiz.stale"), show_alert=True)
            return
        if parsed.action == "skip":
            await query.answer(services.texts.plain(lang, "quiz.skipped"))
            await _next_or_finish(context.bot, services, quiz_session, lang=lang)
            return
        await query.answer()
        answered = quiz_session.asked - (1 if quiz_session.current_question_id else 0)
        await reply(update, services.texts.get(lang, "quiz.stopped", correct=quiz_session.correct,
                                               asked=answered))


async def reviewtime_command(update: Update, context: AppContext) -> None:
    """/reviewtime [HH:MM|off]: when the daily review reminder comes."""
    actor = actor_of(context)
    services = context.services
    args = command_args(context)
    async with services.session() as session:
        pref = await quiz_repo.ensure_preference(session=session, person_id=actor.person_id)
        if not args:
            if not pref.reminders_on:
                await reply(update, t(context, "quiz.reviewtime.current_off"))
                return
            current = pref.review_time or services.config.quiz.review_time
            await reply(update, t(context, "quiz.reviewtime.current",
                                  time=current.strftime("%H:%M")))
            return
        if args[0].lower() in ("off", "关闭", "关"):
            pref.reminders_on = False
            await reply(update, t(context, "quiz.reviewtime.off"))
            return
        at = quiz_reminders.parse_time(args[0])
        if at is None:
            raise InvalidInput("quiz.reviewtime.bad_time")
        pref.review_time = at
        pref.reminders_on = True
    await reply(update, t(context, "quiz.reviewtime.set", time=at.strftime("%H:%M")))


def register(app: AppType, services: Services) -> None:
    services.features["quiz"] = QuizRuntime()
    services.add_commands(
        CommandSpec("quiz", "quiz.cmd.quiz", ALL_ROLES),
        CommandSpec("reviewtime", "quiz.cmd.reviewtime", ALL_ROLES),
    )
    app.add_handler(CommandHandler("quiz", quiz_command))
    app.add_handler(CommandHandler("reviewtime", reviewtime_command))
    app.add_handler(CallbackQueryHandler(on_quiz_button, pattern=callbacks.pattern(QUIZ)))
    app.add_handler(PollAnswerHandler(on_poll_answer))
    services.startup_hooks.append(_on_startup)


async def _on_startup(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    if services.config.quiz.load_starter_bank:
        async with services.session() as session:
            await quiz_bank.load_starter_if_empty(session)
    quiz_reminders.schedule(services)
