"""Leaders' reports in Telegram: /summary with drill-down, /overdue, /chart, /report and
the office's /bulletin."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.core import callbacks
from bot.core.access import Actor, require_admin
from bot.core.errors import InvalidInput
from bot.core.keyboard import Button, Keyboard
from bot.core.roster import indicator_label
from bot.reports import bulletin_words
from bot.reports import service as reports
from bot.reports.feature import BULLETIN_WORDS, CHART_WORDS
from bot.reports.ledger import write_ledger
from bot.reports.summary import scope_for
from bot.reports.views import (
    LIST_PAGE,
    list_keyboard,
    list_text,
    report_cb,
    summary_keyboard,
    summary_text,
    unit_header,
)
from handlers import outgoing
from handlers.common import actor_of, command_args, incoming, pressed, t
from handlers.context import AppContext, AppType
from handlers.outgoing import edit_or_reply, reply


async def _summary(update: Update, context: AppContext) -> None:
    actor = actor_of(context)
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        summary = await reports.summary(session, actor, now, zone, services.reports.readiness,
                                        services.reports.certification)
    texts, lang = services.texts, actor.language
    await edit_or_reply(
        update, summary_text(texts, lang, summary, now, zone),
        summary_keyboard(texts, lang, summary),
    )


async def summary_command(update: Update, context: AppContext) -> None:
    """/summary: countdown, completion, veto risks, units ranked, phases, quiz readiness
    (scoped by role)."""
    await _summary(update, context)


async def _unit_list(
    update: Update, context: AppContext, actor: Actor, unit_id: int, offset: int = 0
) -> None:
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        found = await reports.unit_list(session, actor, unit_id, now, offset=offset,
                                        size=LIST_PAGE)
    texts, lang = services.texts, actor.language
    header = unit_header(texts, lang, found.name, found.standing, found.total)
    await edit_or_reply(
        update, list_text(texts, lang, header, found.lines, found.page, now, zone),
        list_keyboard(texts, lang, found.lines, found.page,
                      lambda at: callbacks.page("unit", unit_id, at)),
    )


async def _indicator_list(
    update: Update, context: AppContext, actor: Actor, indicator_id: int, offset: int = 0
) -> None:
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        found = await reports.indicator_list(session, actor, indicator_id, now, offset=offset,
                                             size=LIST_PAGE)
    texts, lang = services.texts, actor.language
    indicator = found.indicator
    key = "reports.indicator_header_veto" if indicator.veto else "reports.indicator_header"
    header = texts.get(lang, key, indicator=indicator_label(indicator.code, indicator.name),
                       count=found.total)
    await edit_or_reply(
        update, list_text(texts, lang, header, found.lines, found.page, now, zone),
        list_keyboard(texts, lang, found.lines, found.page,
                      lambda at: callbacks.page("ind", indicator_id, at)),
    )


async def _overdue(update: Update, context: AppContext, *, back: bool, offset: int = 0) -> None:
    actor = actor_of(context)
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        found = await reports.overdue_list(session, actor, now, offset=offset, size=LIST_PAGE)
    texts, lang = services.texts, actor.language
    header = texts.get(lang, "reports.overdue_header", count=found.total)
    await edit_or_reply(
        update, list_text(texts, lang, header, found.lines, found.page, now, zone),
        list_keyboard(texts, lang, found.lines, found.page,
                      lambda at: callbacks.page("ovd", at), back=back),
    )


async def _veto(update: Update, context: AppContext, offset: int) -> None:
    actor = actor_of(context)
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        found = await reports.veto_list(session, actor, now, offset=offset, size=LIST_PAGE)
    texts, lang = services.texts, actor.language
    header = texts.get(lang, "reports.veto_header", count=found.total)
    await edit_or_reply(
        update, list_text(texts, lang, header, found.lines, found.page, now, zone),
        list_keyboard(texts, lang, found.lines, found.page, lambda at: callbacks.page("veto", at)),
    )


async def overdue_command(update: Update, context: AppContext) -> None:
    """/overdue: late tasks with owner, unit and days late, the longest overdue first."""
    await _overdue(update, context, back=False)


async def chart_command(update: Update, context: AppContext) -> None:
    """/chart [completion|progress] (完成率|进度对比): the charts as photos (both by
    default)."""
    actor = actor_of(context)
    services = context.services
    args = command_args(context)
    wanted = {"completion", "progress"}
    if args:
        chosen = CHART_WORDS.canonical(args[0])
        if chosen is None:
            raise InvalidInput("reports.chart_usage")
        wanted = {chosen}
    now, zone = services.clock.now(), services.config.zone
    async with services.session() as session:
        data = await reports.chart_data(session, actor, now, zone)
    ranked = data.ranked
    # Here, not at the top: matplotlib costs ~0.3 s at start-up for a command few use.
    from bot.reports import charts

    font = charts.find_cjk_font(services.config.reports.cjk_font)
    style = charts.ChartStyle.choose(font, actor.language)
    texts = services.texts
    today = now.astimezone(zone).date()
    chat_id = incoming(update).chat_id
    if "completion" in wanted:
        figure = charts.completion_figure(ranked, texts, style, total_units=len(ranked))
        png = await asyncio.to_thread(charts.render_png, figure)
        await outgoing.send_file(
            context.bot, chat_id, "photo", InputFile(png, filename="completion.png"),
            texts.get(actor.language, "reports.chart_completion_caption"),
        )
    if "progress" in wanted:
        series = charts.burndown_series(data.changes, today)
        plan = charts.plan_line(series, data.inspection)
        figure = charts.burndown_figure(series, plan, texts, style, inspection=data.inspection)
        png = await asyncio.to_thread(charts.render_png, figure)
        await outgoing.send_file(
            context.bot, chat_id, "photo", InputFile(png, filename="progress.png"),
            texts.get(actor.language, "reports.chart_progress_caption"),
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
            campaign = await reports.active_campaign(session)
            stats = await write_ledger(
                session, campaign=campaign, scope=scope_for(actor), now=now, zone=zone,
                texts=texts, lang=lang, path=path,
            )
        name = f"{texts.plain(lang, 'reports.report_file')}-{stamp[:8]}.xlsx"
        data = await asyncio.to_thread(path.read_bytes)
        await outgoing.send_file(
            context.bot, incoming(update).chat_id, "document", InputFile(data, filename=name),
            texts.get(lang, "reports.report_caption", rows=stats.rows, overdue=stats.overdue),
        )
    finally:
        # The ledger names people and their tasks: it is not kept on the server.
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def bulletin_command(update: Update, context: AppContext) -> None:
    """/bulletin: preview the bulletin; /bulletin send: post it to the leaders' chat."""
    actor = actor_of(context)
    require_admin(actor)
    args = command_args(context)
    if args and BULLETIN_WORDS.canonical(args[0]) != "send":
        raise InvalidInput("reports.usage_bulletin")
    if args:
        await _send_bulletin(update, context)
        return
    services = context.services
    now, zone = services.clock.now(), services.config.zone
    texts, lang = services.texts, services.config.reports.bulletin_language
    feature = services.reports
    async with services.session() as session:
        campaign, bulletin = await reports.bulletin_preview(
            session, now, zone, feature.readiness, rules=feature.bulletin_rules,
            status=feature.bulletin_status, language=lang,
        )
    issuer = services.config.reports.bulletin_issuer
    preview = bulletin_words.render_bulletin(texts, lang, bulletin, zone, issuer)
    # Here, not at the top: python-docx and lxml are for the office's weekly preview only.
    from bot.reports import bulletin_docx

    document = await asyncio.to_thread(
        bulletin_docx.docx_bytes, texts, lang, bulletin, zone,
        bulletin_words.issuer_of(texts, lang, issuer),
    )
    await reply(update, t(context, "reports.bulletin_preview_header"))
    keyboard = Keyboard.of([[Button(texts.plain(actor.language, "reports.button_bulletin_send"),
                                    report_cb("bsend", campaign.id))]])
    # The printable version first, so the send button stays under the last message.
    await outgoing.send_file(
        context.bot, incoming(update).chat_id, "document", document,
        texts.get(lang, "reports.bulletin_docx_caption", issue=bulletin.issue),
        filename=bulletin_docx.docx_name(texts, lang, bulletin, zone),
    )
    await reply(update, preview, keyboard)


async def _send_bulletin(update: Update, context: AppContext) -> None:
    require_admin(actor_of(context))
    outcome = await context.services.reports.post_bulletin(manual=True)
    if outcome.status == "no_campaign":
        raise InvalidInput("error.no_campaign")
    if outcome.status == "no_chat":
        raise InvalidInput("reports.bulletin_no_chat")
    text = t(context, "reports.bulletin_queued")
    if update.callback_query is not None:
        await outgoing.answer(update.callback_query)
        await outgoing.edit_markup(update.callback_query.message, None)
    await reply(update, text)


async def on_report_button(update: Update, context: AppContext) -> None:
    """Drill-down buttons: rep:sum / rep:unit:<id> / rep:ind:<id> / rep:ovd / rep:bsend."""
    button = await pressed(update, callbacks.REPORT)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    if parsed.action == "bsend":
        await _send_bulletin(update, context)
        return
    await outgoing.answer(query)
    if parsed.action == "sum":
        await _summary(update, context)
    elif parsed.action == "unit":
        await _unit_list(update, context, actor, parsed.id)
    elif parsed.action == "ind":
        await _indicator_list(update, context, actor, parsed.id)
    elif parsed.action == "ovd":
        await _overdue(update, context, back=True)


async def on_page(update: Update, context: AppContext) -> None:
    """page:ovd / page:veto / page:unit:<id> / page:ind:<id>, at an offset."""
    button = await pressed(update, callbacks.PAGE)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    await outgoing.answer(query)
    if parsed.action == "ovd":
        await _overdue(update, context, back=True, offset=parsed.number(0))
    elif parsed.action == "veto":
        await _veto(update, context, parsed.number(0))
    elif parsed.action == "unit":
        await _unit_list(update, context, actor, parsed.id, parsed.number(1))
    elif parsed.action == "ind":
        await _indicator_list(update, context, actor, parsed.id, parsed.number(1))


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("summary", summary_command))
    app.add_handler(CommandHandler("overdue", overdue_command))
    app.add_handler(CommandHandler("chart", chart_command))
    app.add_handler(CommandHandler("report", report_command))
    app.add_handler(CommandHandler("bulletin", bulletin_command))
    app.add_handler(
        CallbackQueryHandler(on_report_button, pattern=callbacks.pattern(callbacks.REPORT))
    )
    app.add_handler(CallbackQueryHandler(
        on_page, pattern=callbacks.pattern(callbacks.PAGE, "ovd", "veto", "unit", "ind")))
