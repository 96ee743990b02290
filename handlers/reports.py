"""Leaders' reports in Telegram: /summary with drill-down, /overdue, /chart, /report and
the office's /bulletin."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import ALL_ROLES, LEADERS, OFFICE, AppContext, AppType, CommandSpec, Services
from bot.core.access import Actor, require_admin
from bot.core.errors import InvalidInput, NotFound
from bot.quiz.readiness import readiness_source
from bot.reports import bulletin as bulletin_service
from bot.reports import charts
from bot.reports.ledger import write_ledger
from bot.reports.summary import build_summary, rank_units, scope_for
from bot.reports.views import (
    REPORT,
    list_keyboard,
    list_text,
    parse_report,
    report_cb,
    summary_keyboard,
    summary_text,
    unit_header,
)
from db.models import Campaign
from db.repositories import campaigns as campaigns_repo
from db.repositories import reports as reports_repo
from handlers.common import actor_of, command_args, edit_or_reply, pressed, reply, t

LIST_LIMIT = 20
OVERDUE_LIMIT = 30


async def _campaign(session: AsyncSession) -> Campaign:
    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is None:
        raise InvalidInput("error.no_campaign")
    return campaign


async def _summary(update: Update, context: AppContext) -> None:
    actor = actor_of(context)
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        campaign = await _campaign(session)
        summary = await build_summary(
            session, campaign, scope_for(actor), now, zone,
            readiness=readiness_source(services.features),
        )
    texts, lang = services.texts, actor.language
    await edit_or_reply(
        update, summary_text(texts, lang, summary, now, zone),
        summary_keyboard(texts, lang, summary),
    )


async def summary_command(update: Update, context: AppContext) -> None:
    """/summary: countdown, completion, veto risks, units ranked, phases, quiz readiness
    (scoped by role)."""
    await _summary(update, context)


async def _unit_list(update: Update, context: AppContext, actor: Actor, unit_id: int) -> None:
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    scope = scope_for(actor)
    async with services.session() as session:
        campaign = await _campaign(session)
        units = await reports_repo.units(session=session)
        if unit_id not in units:
            raise NotFound("reports.not_found")
        lines, total = await reports_repo.task_lines(
            session=session, campaign_id=campaign.id, scope=scope, now=now, unit_id=unit_id,
            limit=LIST_LIMIT,
        )
        tallies = await reports_repo.tallies(
            session=session, campaign_id=campaign.id, scope=scope, now=now, by=("unit",)
        )
    standing = next((s for s in rank_units(tallies["unit"], units) if s.id == unit_id), None)
    texts, lang = services.texts, actor.language
    header = unit_header(texts, lang, units[unit_id].name, standing, total)
    await edit_or_reply(
        update, list_text(texts, lang, header, lines, total, now, zone),
        list_keyboard(texts, lang, lines),
    )


async def _indicator_list(
    update: Update, context: AppContext, actor: Actor, indicator_id: int
) -> None:
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        campaign = await _campaign(session)
        indicator = (await reports_repo.indicators(session=session)).get(indicator_id)
        if indicator is None:
            raise NotFound("reports.not_found")
        lines, total = await reports_repo.task_lines(
            session=session, campaign_id=campaign.id, scope=scope_for(actor), now=now,
            indicator_id=indicator_id, limit=LIST_LIMIT,
        )
    texts, lang = services.texts, actor.language
    key = "reports.indicator_header_veto" if indicator.veto else "reports.indicator_header"
    header = texts.get(lang, key, code=indicator.code, name=indicator.name, count=total)
    await edit_or_reply(
        update, list_text(texts, lang, header, lines, total, now, zone),
        list_keyboard(texts, lang, lines),
    )


async def _overdue(update: Update, context: AppContext, *, back: bool) -> None:
    actor = actor_of(context)
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        campaign = await _campaign(session)
        lines, total = await reports_repo.task_lines(
            session=session, campaign_id=campaign.id, scope=scope_for(actor), now=now,
            overdue_only=True, limit=OVERDUE_LIMIT,
        )
    texts, lang = services.texts, actor.language
    header = texts.get(lang, "reports.overdue_header", count=total)
    await edit_or_reply(
        update, list_text(texts, lang, header, lines, total, now, zone),
        list_keyboard(texts, lang, lines, back=back),
    )


async def overdue_command(update: Update, context: AppContext) -> None:
    """/overdue: late tasks with owner, unit and days late, the longest overdue first."""
    await _overdue(update, context, back=False)


async def chart_command(update: Update, context: AppContext) -> None:
    """/chart [completion|burndown]: the charts as photos (both by default)."""
    actor = actor_of(context)
    services = context.services
    args = [a.lower() for a in command_args(context)]
    wanted = {"completion", "burndown"}
    if args:
        aliases = {"completion": "completion", "完成率": "completion", "burndown": "burndown",
                   "燃尽": "burndown", "燃尽图": "burndown"}
        if args[0] not in aliases:
            raise InvalidInput("reports.chart_usage")
        wanted = {aliases[args[0]]}
    now, zone = services.clock.now(), services.config.zone
    scope = scope_for(actor)
    async with services.session() as session:
        campaign = await _campaign(session)
        by_unit = (await reports_repo.tallies(
            session=session, campaign_id=campaign.id, scope=scope, now=now, by=("unit",)
        ))["unit"]
        ranked = rank_units(by_unit, await reports_repo.units(session=session))
        changes = await reports_repo.open_count_changes(
            session=session, campaign_id=campaign.id, scope=scope, zone=zone, now=now
        )
    font = charts.find_cjk_font(services.config.reports.cjk_font)
    style = charts.ChartStyle.choose(font, actor.language)
    texts = services.texts
    today = now.astimezone(zone).date()
    message = update.effective_message
    if message is None:
        return
    if "completion" in wanted:
        figure = charts.completion_figure(ranked, texts, style, total_units=len(ranked))
        png = await asyncio.to_thread(charts.render_png, figure)
        await message.reply_photo(
            InputFile(png, filename="completion.png"),
            caption=texts.get(actor.language, "reports.chart_completion_caption"),
            parse_mode="HTML", do_quote=False,
        )
    if "burndown" in wanted:
        series = charts.burndown_series(changes, today)
        plan = charts.plan_line(series, campaign.inspection_date)
        figure = charts.burndown_figure(series, plan, texts, style,
                                        inspection=campaign.inspection_date)
        png = await asyncio.to_thread(charts.render_png, figure)
        await message.reply_photo(
            InputFile(png, filename="burndown.png"),
            caption=texts.get(actor.language, "reports.chart_burndown_caption"),
            parse_mode="HTML", do_quote=False,
        )


async def report_command(update: Update, context: AppContext) -> None:
    """/report: the rectification ledger (整改台账) as an XLSX document, scoped by role."""
    actor = actor_of(context)
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    texts, lang = services.texts, actor.language
    await reply(update, t(context, "reports.report_building"))
    stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M%S")
    path = services.config.storage.data_dir / "reports" / f"ledger-{actor.person_id}-{stamp}.xlsx"
    try:
        async with services.session() as session:
            campaign = await _campaign(session)
            stats = await write_ledger(
                session, campaign=campaign, scope=scope_for(actor), now=now, zone=zone,
                texts=texts, lang=lang, path=path,
            )
        message = update.effective_message
        if message is not None:
            name = f"{texts.plain(lang, 'reports.report_file')}-{stamp[:8]}.xlsx"
            with path.open("rb") as handle:
                await message.reply_document(
                    InputFile(handle, filename=name),
                    caption=texts.get(lang, "reports.report_caption", rows=stats.rows,
                                      overdue=stats.overdue),
                    parse_mode="HTML", do_quote=False,
                )
    finally:
        # The ledger names people and their tasks: it is not kept on the server.
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def bulletin_command(update: Update, context: AppContext) -> None:
    """/bulletin: preview the bulletin; /bulletin send: post it to the leaders' chat."""
    actor = actor_of(context)
    require_admin(actor)
    args = command_args(context)
    if args and args[0].lower() not in ("send", "发送"):
        raise InvalidInput("reports.usage_bulletin")
    if args:
        await _send_bulletin(update, context)
        return
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        campaign = await _campaign(session)
        since = await bulletin_service.period_start(session, campaign.id, now)
        bulletin = await bulletin_service.build_bulletin(
            session, campaign, now, zone, since,
            readiness=readiness_source(services.features),
        )
    texts, lang = services.texts, services.config.reports.bulletin_language
    preview = bulletin_service.render_bulletin(texts, lang, bulletin, zone)
    await reply(update, t(context, "reports.bulletin_preview_header"))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(
        texts.plain(actor.language, "reports.button_bulletin_send"),
        callback_data=report_cb("bsend", campaign.id),
    )]])
    await reply(update, preview, keyboard)


async def _send_bulletin(update: Update, context: AppContext) -> None:
    require_admin(actor_of(context))
    outcome = await bulletin_service.post_for_active_campaign(context.services, manual=True)
    if outcome.status == "no_campaign":
        raise InvalidInput("error.no_campaign")
    if outcome.status == "no_chat":
        raise InvalidInput("reports.bulletin_no_chat")
    text = t(context, "reports.bulletin_queued", chat=outcome.chat_id)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)
    await reply(update, text)


async def on_report_button(update: Update, context: AppContext) -> None:
    """Drill-down buttons: rep:sum / rep:unit:<id> / rep:ind:<id> / rep:ovd / rep:bsend."""
    button = await pressed(update, parse_report)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    if parsed.action == "bsend":
        await _send_bulletin(update, context)
        return
    await query.answer()
    if parsed.action == "sum":
        await _summary(update, context)
    elif parsed.action == "unit":
        await _unit_list(update, context, actor, parsed.arg)
    elif parsed.action == "ind":
        await _indicator_list(update, context, actor, parsed.arg)
    elif parsed.action == "ovd":
        await _overdue(update, context, back=True)


def register(app: AppType, services: Services) -> None:
    services.add_commands(
        CommandSpec("summary", "reports.cmd.summary", ALL_ROLES),
        CommandSpec("overdue", "reports.cmd.overdue", ALL_ROLES),
        CommandSpec("chart", "reports.cmd.chart", LEADERS),
        CommandSpec("report", "reports.cmd.report", LEADERS),
        CommandSpec("bulletin", "reports.cmd.bulletin", OFFICE),
    )
    app.add_handler(CommandHandler("summary", summary_command))
    app.add_handler(CommandHandler("overdue", overdue_command))
    app.add_handler(CommandHandler("chart", chart_command))
    app.add_handler(CommandHandler("report", report_command))
    app.add_handler(CommandHandler("bulletin", bulletin_command))
    app.add_handler(CallbackQueryHandler(on_report_button, pattern=rf"^{REPORT}:"))

    async def schedule(_app: object) -> None:
        bulletin_service.schedule_bulletins(services)

    services.startup_hooks.append(schedule)
