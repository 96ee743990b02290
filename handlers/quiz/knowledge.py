"""/ask looks the knowledge up, /stats shows a person's mastery, /rank the readiness."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.core.paging import Page
from bot.quiz import readiness
from bot.quiz import search as knowledge_search
from bot.quiz.feature import RANK_WORDS
from bot.quiz.views import RANK_PEOPLE, RANK_UNITS, ask_text, rank_text, stats_text
from handlers import outgoing
from handlers.common import actor_of, command_args, pressed
from handlers.context import AppContext, AppType
from handlers.outgoing import edit_or_reply, reply

ASK_PAGE = 5
ASK_RESULTS = 30  # beyond this, matches are too weak to be worth a page


async def ask_command(update: Update, context: AppContext) -> None:
    """/ask <words>: questions, answers and indicator descriptions, best match first."""
    query = " ".join(command_args(context)).strip()
    if not query:
        raise InvalidInput("quiz.ask.usage")
    # The results quote the question: their page buttons read it from there again.
    await _ask_page(update, context, query, 0, quote=True)


async def _ask_page(
    update: Update, context: AppContext, query: str, offset: int, *, quote: bool = False
) -> None:
    actor = actor_of(context)
    async with context.services.session() as session:
        hits = await knowledge_search.ask(session, query, limit=ASK_RESULTS)
    page = Page.at(offset, ASK_PAGE, len(hits))
    text, keyboard = ask_text(context.services.texts, actor.language, query,
                              hits[page.offset:page.end], page)
    if quote:
        await reply(update, text, keyboard, quote=True)
    else:
        await edit_or_reply(update, text, keyboard)


def _asked(message: object) -> str | None:
    """The words of the /ask command a results message quotes."""
    if not isinstance(message, Message) or message.reply_to_message is None:
        return None
    parts = (message.reply_to_message.text or "").split(maxsplit=1)
    if len(parts) != 2 or parts[0].split("@")[0] != "/ask":
        return None
    return parts[1].strip() or None


async def stats_command(update: Update, context: AppContext) -> None:
    """/stats: my mastery per indicator, weakest named."""
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        stats = await readiness.person_stats(session, services.quiz.runtime.srs,
                                             person_id=actor.person_id, now=services.clock.now())
    await reply(update, stats_text(services.texts, actor.language, actor.name, stats))


async def rank_command(update: Update, context: AppContext) -> None:
    """/rank [week|all] (本周|总体): units and people, by this week's answers or overall
    mastery."""
    args = command_args(context)
    choice = RANK_WORDS.canonical(args[0]) if args else "week"
    if choice is None:
        raise InvalidInput("quiz.rank.usage")
    await _rank(update, context, weekly=choice == "week", units_at=0, people_at=0)


async def _rank(
    update: Update, context: AppContext, *, weekly: bool, units_at: int | None,
    people_at: int | None,
) -> None:
    """The standings: a page of units and a page of people, or a page of one of them."""
    actor = actor_of(context)
    services = context.services
    threshold = services.config.quiz.mastery_threshold
    async with services.session() as session:
        standings = await readiness.standings(
            session, services.quiz.runtime.srs, actor, now=services.clock.now(),
            zone=services.config.zone, threshold=threshold, weekly=weekly,
        )
    units, people = standings.units, standings.people
    text, keyboard = rank_text(
        services.texts, actor.language, weekly=weekly, threshold=threshold,
        units=units, people=people, unit_names=standings.unit_names,
        units_page=None if units_at is None else Page.at(units_at, RANK_UNITS, len(units)),
        people_page=None if people_at is None else Page.at(people_at, RANK_PEOPLE, len(people)),
    )
    await edit_or_reply(update, text, keyboard)


async def on_page(update: Update, context: AppContext) -> None:
    """page:ask:<offset>, page:rku / page:rkp:<week|all>:<offset>."""
    button = await pressed(update, callbacks.PAGE)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    if parsed.action == "ask":
        words = _asked(query.message)
        if words is None:
            await outgoing.answer(query, context.services.texts.plain(
                actor.language, "quiz.ask.expired"), alert=True)
            return
        await outgoing.answer(query)
        await _ask_page(update, context, words, parsed.number(0))
        return
    await outgoing.answer(query)
    weekly = parsed.word(0) == "week"
    offset = parsed.number(1)
    if parsed.action == "rku":
        await _rank(update, context, weekly=weekly, units_at=offset, people_at=None)
    else:
        await _rank(update, context, weekly=weekly, units_at=None, people_at=offset)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("ask", ask_command))
    app.add_handler(CommandHandler("stats", stats_command))
    app.add_handler(CommandHandler("rank", rank_command))
    app.add_handler(CallbackQueryHandler(
        on_page, pattern=callbacks.pattern(callbacks.PAGE, "ask", "rku", "rkp")))
