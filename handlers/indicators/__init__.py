"""Indicator data at the Telegram edge: /certify (`certify`), /school and its corrections
(`school`), /whatif and /plan (`planning`), and the office's /indicators and data workbook
(`office`). Each module claims its own `ind:` buttons.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.core import callbacks
from handlers import outgoing
from handlers.common import pressed
from handlers.context import AppContext, AppType
from handlers.indicators import certify, office, planning, school


async def on_unclaimed_button(update: Update, context: AppContext) -> None:
    """An `ind:` press none of the modules claims (malformed, or an action this version no
    longer has) is answered without effect, so the button stops spinning."""
    button = await pressed(update, callbacks.INDICATORS)
    if button is not None:
        await outgoing.answer(button[0])


def register(app: AppType) -> None:
    certify.register(app)
    school.register(app)
    planning.register(app)
    office.register(app)
    # After the modules' own patterns: only what none of them claimed reaches this one.
    app.add_handler(CallbackQueryHandler(on_unclaimed_button,
                                         pattern=callbacks.pattern(callbacks.INDICATORS)))
