"""/ask looks the knowledge up, /stats shows a person's mastery, /rank the readiness."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.core.errors import InvalidInput
from bot.quiz import readiness
from bot.quiz import search as knowledge_search
from bot.quiz.views import ask_text, rank_text, stats_text
from handlers.common import actor_of, command_args, reply
from handlers.context import AppContext, AppType

ASK_RESULTS = 5


async def ask_command(update: Update, context: AppContext) -> None:
    """/ask <words>: questions, answers and indicator descriptions, best match first."""
    actor = actor_of(context)
    query = " ".join(command_args(context)).strip()
    if not query:
        raise InvalidInput("quiz.ask.usage")
    async with context.services.session() as session:
        hits = await knowledge_search.ask(session, query, limit=ASK_RESULTS)
    await reply(update, ask_text(context.services.texts, actor.language, query, hits))


async def stats_command(update: Update, context: AppContext) -> None:
    """/stats: my mastery per indicator, weakest named."""
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        stats = await readiness.person_stats(session, services.quiz.runtime.srs,
                                             person_id=actor.person_id, now=services.clock.now())
    await reply(update, stats_text(services.texts, actor.language, actor.name, stats))


async def rank_command(update: Update, context: AppContext) -> None:
    """/rank [week|all]: units and people, by this week's answers or overall mastery."""
    actor = actor_of(context)
    args = command_args(context)
    choice = (args[0].lower() if args else "week")
    if choice not in ("week", "all", "本周", "总体"):
        raise InvalidInput("quiz.rank.usage")
    weekly = choice in ("week", "本周")
    services = context.services
    threshold = services.config.quiz.mastery_threshold
    async with services.session() as session:
        standings = await readiness.standings(
            session, services.quiz.runtime.srs, actor, now=services.clock.now(),
            zone=services.config.zone, threshold=threshold, weekly=weekly,
        )
    text = rank_text(
        services.texts, actor.language, weekly=weekly, threshold=threshold,
        units=standings.units, people=standings.people, unit_names=standings.unit_names,
    )
    await reply(update, text)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("ask", ask_command))
    app.add_handler(CommandHandler("stats", stats_command))
    app.add_handler(CommandHandler("rank", rank_command))
