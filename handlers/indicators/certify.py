"""/certify at the Telegram edge: every threshold and veto item, and the two charts."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.core import callbacks
from bot.indicators import certify
from bot.indicators.views.certify import certify_keyboard, certify_text
from handlers import outgoing
from handlers.common import actor_of, incoming, pressed
from handlers.context import AppContext, AppType
from handlers.outgoing import reply


async def certify_command(update: Update, context: AppContext) -> None:
    """/certify: every threshold and veto item, what blocks certification first."""
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        view = await certify.for_actor(session, services.indicators.standards, actor,
                                       services.clock.now())
    texts = services.texts
    await reply(update, certify_text(texts, actor.language, view),
                certify_keyboard(texts, actor.language, view))


async def _charts(update: Update, context: AppContext) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        view, records = await certify.chart_data(session, services.indicators.standards, actor,
                                                 services.clock.now())
    assert view.status is not None
    # Here, not at the top: matplotlib costs ~0.3 s at start-up for a chart few ask for.
    from bot.indicators.charts import coefficient_figure, minimum_figure
    from bot.reports.charts import ChartStyle, find_cjk_font, render_png

    style = ChartStyle.choose(find_cjk_font(services.config.reports.cjk_font), actor.language)
    texts = services.texts
    balance = view.status.balance
    chat_id = incoming(update).chat_id
    for figure, name, caption in (
        (coefficient_figure(view.standard, balance, texts, style), "coefficients.png",
         "indicators.chart.coefficients_caption"),
        (minimum_figure(view.standard, balance, records, texts, style), "schools.png",
         "indicators.chart.schools_caption"),
    ):
        png = await asyncio.to_thread(render_png, figure)
        await outgoing.send_file(context.bot, chat_id, "photo", png,
                                 texts.get(actor.language, caption), filename=name)


async def on_chart_button(update: Update, context: AppContext) -> None:
    """ind:chart: the coefficients against their limit, the schools against the minimum.

    The press is answered after the work, so a refusal can still answer it with an alert
    (the error handler does)."""
    button = await pressed(update, callbacks.INDICATORS)
    if button is None:
        return
    query, _ = button
    await _charts(update, context)
    await outgoing.answer(query)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("certify", certify_command))
    app.add_handler(CallbackQueryHandler(
        on_chart_button, pattern=callbacks.pattern(callbacks.INDICATORS, "chart")))
