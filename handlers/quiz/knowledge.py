"""/ask looks the knowledge up, /stats shows a person's mastery, /rank the readiness."""

from __future__ import annotations

from collections.abc import Sequence

from apscheduler.triggers.interval import IntervalTrigger
from telegram import Update
from telegram.ext import CommandHandler

from bot.context import ALL_ROLES, LEADERS, AppContext, AppType, CommandSpec, Services
from bot.core.access import Actor
from bot.core.errors import InvalidInput, PermissionDenied
from bot.quiz import readiness
from bot.quiz import search as knowledge_search
from bot.quiz.readiness import PersonReadiness, PersonStats, UnitReadiness
from bot.quiz.search import Hit
from bot.texts import Texts
from db.repositories import people as people_repo
from handlers.common import actor_of, command_args, reply
from handlers.quiz.polls import runtime

ASK_RESULTS = 5
RANK_UNITS = 15
RANK_PEOPLE = 20
BAR_CELLS = 5


def bar(share: float) -> str:
    filled = round(max(0.0, min(1.0, share)) * BAR_CELLS)
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def percent(share: float) -> int:
    return round(share * 100)


def ask_text(texts: Texts, lang: str, query: str, hits: Sequence[Hit]) -> str:
    if not hits:
        return texts.get(lang, "quiz.ask.none", query=query)
    lines = [texts.get(lang, "quiz.ask.header", query=query)]
    for hit in hits:
        doc = hit.doc
        if doc.kind == "indicator":
            veto = texts.plain(lang, "quiz.ask.veto") if doc.veto else ""
            lines.append(texts.get(lang, "quiz.ask.indicator", code=doc.ref, name=doc.title,
                                   veto=veto, description=doc.answer))
            continue
        lines.append(texts.get(lang, "quiz.ask.question", title=doc.title, answer=doc.answer))
        if doc.note and doc.note != doc.answer:
            lines.append(texts.get(lang, "quiz.ask.explanation", text=doc.note))
    return "\n".join(lines)


def stats_text(texts: Texts, lang: str, name: str, stats: PersonStats) -> str:
    if stats.answers == 0:
        return texts.get(lang, "quiz.stats.none")
    lines = [
        texts.get(lang, "quiz.stats.header", name=name),
        texts.get(lang, "quiz.stats.overall", percent=percent(stats.overall),
                  answers=stats.answers, correct=stats.correct),
        texts.get(lang, "quiz.stats.due", count=stats.due),
    ]
    for row in sorted(stats.indicators, key=lambda r: r.code):
        lines.append(texts.get(lang, "quiz.stats.line", bar=bar(row.mastery), code=row.code,
                               name=row.name, percent=percent(row.mastery)))
    weakest = [f"{r.code} {r.name}" for r in stats.weakest() if r.mastery < 1]
    if weakest:
        lines.append(texts.get(lang, "quiz.stats.weakest", names="、".join(weakest)))
    return "\n".join(lines)


def rank_text(
    texts: Texts,
    lang: str,
    *,
    weekly: bool,
    threshold: float,
    units: Sequence[UnitReadiness],
    people: Sequence[PersonReadiness],
    unit_names: dict[int, str],
) -> str:
    if not people:
        return texts.get(lang, "quiz.rank.none")
    no_unit = texts.plain(lang, "quiz.rank.no_unit")
    lines = [
        texts.get(lang, "quiz.rank.header_week") if weekly
        else texts.get(lang, "quiz.rank.header_all", threshold=percent(threshold)),
        texts.get(lang, "quiz.rank.units"),
    ]
    for place, unit in enumerate(units[:RANK_UNITS], start=1):
        name = unit.name or no_unit
        if weekly:
            lines.append(texts.get(lang, "quiz.rank.unit_week", place=place, name=name,
                                   points=f"{unit.week_points:.1f}", people=unit.people))
        else:
            lines.append(texts.get(lang, "quiz.rank.unit_all", place=place, name=name,
                                   ready=unit.ready, people=unit.people,
                                   share=percent(unit.share_ready),
                                   mastery=percent(unit.mastery)))
    lines.append(texts.get(lang, "quiz.rank.people"))
    for place, row in enumerate(people[:RANK_PEOPLE], start=1):
        unit_name = unit_names.get(row.unit_id, no_unit) if row.unit_id else no_unit
        if weekly:
            lines.append(texts.get(lang, "quiz.rank.person_week", place=place, name=row.name,
                                   unit=unit_name, points=f"{row.week_points:.1f}",
                                   correct=row.week_correct, answers=row.week_answers))
        else:
            lines.append(texts.get(lang, "quiz.rank.person_all", place=place, name=row.name,
                                   unit=unit_name, mastery=percent(row.mastery)))
    return "\n".join(lines)


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
        stats = await readiness.person_stats(session, runtime(services).srs,
                                             person_id=actor.person_id, now=services.clock.now())
    await reply(update, stats_text(services.texts, actor.language, actor.name, stats))


def _visible(actor: Actor, rows: list[PersonReadiness]) -> list[PersonReadiness]:
    """Leaders and the office see everyone; a unit's leader sees the units they lead."""
    if actor.sees_everything:
        return rows
    if actor.is_unit_leader:
        return [r for r in rows if r.unit_id in actor.led_unit_ids]
    raise PermissionDenied("error.forbidden")


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
        rows = await readiness.people_readiness(session, runtime(services).srs,
                                                now=services.clock.now(),
                                                zone=services.config.zone)
        units = await people_repo.all_units(session=session)
    rows = _visible(actor, rows)
    text = rank_text(
        services.texts, actor.language, weekly=weekly, threshold=threshold,
        units=readiness.by_unit(rows, units, threshold=threshold, weekly=weekly),
        people=readiness.rank_people(rows, weekly=weekly),
        unit_names={u.id: u.name for u in units},
    )
    await reply(update, text)


def register(app: AppType, services: Services) -> None:
    services.add_commands(
        CommandSpec("ask", "quiz.cmd.ask", ALL_ROLES),
        CommandSpec("stats", "quiz.cmd.stats", ALL_ROLES),
        CommandSpec("rank", "quiz.cmd.rank", LEADERS),
    )
    app.add_handler(CommandHandler("ask", ask_command))
    app.add_handler(CommandHandler("stats", stats_command))
    app.add_handler(CommandHandler("rank", rank_command))

    cache = readiness.ReadinessCache(
        zone=services.config.zone,
        threshold=services.config.quiz.mastery_threshold,
        srs=runtime(services).srs,
    )
    services.features[readiness.READINESS_FEATURE] = cache

    async def refresh() -> None:
        async with services.session() as session:
            await cache.refresh(session, services.clock.now())

    async def schedule_refresh(app: object) -> None:
        # Every few minutes in the background, so a leader's /summary reads a snapshot.
        services.scheduler.put("quiz:readiness", refresh, IntervalTrigger(minutes=5))

    services.startup_hooks.append(schedule_refresh)
