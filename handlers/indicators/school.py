"""/school at the Telegram edge: a school's figures, the schools one may open, and their
corrections — by command, or a field picked with a button and its value given in a reply
to the bot's prompt."""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core import callbacks
from bot.core.errors import InvalidInput
from bot.indicators import corrections, schools
from bot.indicators.names import fold
from bot.indicators.views.school import (
    corrected_text,
    fields_keyboard,
    prompt_text,
    school_keyboard,
    school_text,
    schools_page,
)
from db.models import SchoolLevel
from handlers import outgoing
from handlers.common import actor_of, command_args, incoming, pressed, t
from handlers.context import AppContext, AppType
from handlers.outgoing import edit_or_reply, reply

PROMPT_MARK = "✏️"


async def _show_school(update: Update, context: AppContext, *, name: str | None = None,
                       unit_id: int | None = None) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        view = await schools.view(session, services.indicators.standards, actor, name=name,
                                  unit_id=unit_id)
    texts = services.texts
    await edit_or_reply(update, school_text(texts, actor.language, view, services.config.zone),
                        school_keyboard(texts, actor.language, view))


async def school_command(update: Update, context: AppContext) -> None:
    """/school: your school's figures; /school <name>; /school 图书 12000 to correct."""
    actor = actor_of(context)
    services = context.services
    text = " ".join(command_args(context)).strip()
    standards = services.indicators.standards
    if not text:
        async with services.session() as session:
            found = await schools.choices(session, standards, actor)
            access = await schools.access_of(session, actor)
        if len(access.schools) == 1:
            await _show_school(update, context, unit_id=access.schools[0])
            return
        if not found:
            raise InvalidInput("indicators.no_schools")
        await reply(update, *schools_page(services.texts, actor.language, found, 0))
        return
    async with services.session() as session:
        names = {fold(s.name) for s in await schools.choices(session, standards, actor)}
    if fold(text) in names or not re.search(r"\d", text):
        await _show_school(update, context, name=text)
        return
    async with services.session() as session:
        corrected = await corrections.correct(session, standards, actor, text,
                                              now=services.clock.now())
    await reply(update, corrected_text(services.texts, actor.language, corrected))


async def _edit_fields(update: Update, context: AppContext, unit_id: int) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        school, found, order = await corrections.fields(
            session, services.indicators.standards, actor, unit_id)
    nine = school.level is SchoolLevel.NINE_YEAR
    await reply(update, t(context, "indicators.school.pick_field", school=school.name),
                fields_keyboard(services.texts, actor.language, unit_id, nine, found, order))


async def _ask_field(update: Update, context: AppContext, unit_id: int, part_index: int,
                     field_index: int) -> None:
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        school, field, year = await corrections.ask(
            session, services.indicators.standards, actor, unit_id, part_index, field_index)
    nine = school.level is SchoolLevel.NINE_YEAR
    sent = await reply(update, prompt_text(services.texts, actor.language, school.name,
                                           field.part, nine, field.resource, field.amount),
                       force_reply=True)
    if sent is None:
        return  # given up (network): no prompt to answer
    async with services.session() as session:
        await corrections.remember_prompt(session, actor, unit_id=unit_id, year=year,
                                          part=field.part, resource_id=field.resource.id,
                                          chat_id=sent.chat_id, message_id=sent.message_id,
                                          now=services.clock.now())


class _EditPrompt(filters.MessageFilter):
    """A text replying to the bot's request for one figure."""

    def filter(self, message: Message) -> bool:
        quoted = message.reply_to_message
        return (quoted is not None and quoted.from_user is not None and quoted.from_user.is_bot
                and (quoted.text or "").startswith(PROMPT_MARK))


async def on_prompt_reply(update: Update, context: AppContext) -> None:
    """The reply to a figure's prompt is its new value; the change goes into the history."""
    message = incoming(update).message
    if message is None or message.reply_to_message is None or not message.text:
        return
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        corrected = await corrections.answer_prompt(
            session, services.indicators.standards, actor, chat_id=message.chat_id,
            message_id=message.reply_to_message.message_id, text=message.text,
            now=services.clock.now())
    if corrected is None:
        await reply(update, t(context, "indicators.school.prompt_gone"))
    else:
        await reply(update, corrected_text(services.texts, actor.language, corrected))
    raise ApplicationHandlerStop


async def on_school_button(update: Update, context: AppContext) -> None:
    """ind:school, ind:edit, ind:field: open a school, list its fields, ask for one.

    The press is answered after the work, so a refusal can still answer it with an alert
    (the error handler does)."""
    button = await pressed(update, callbacks.INDICATORS)
    if button is None:
        return
    query, parsed = button
    action = parsed.action
    if action == "school":
        await _show_school(update, context, unit_id=parsed.id)
    elif action == "edit":
        await _edit_fields(update, context, parsed.id)
    elif action == "field":
        await _ask_field(update, context, parsed.id, parsed.number(1), parsed.number(2))
    await outgoing.answer(query)


async def on_page(update: Update, context: AppContext) -> None:
    """page:sch:<offset>: another page of the schools to open."""
    button = await pressed(update, callbacks.PAGE)
    if button is None:
        return
    query, parsed = button
    actor = actor_of(context)
    services = context.services
    async with services.session() as session:
        found = await schools.choices(session, services.indicators.standards, actor)
    await edit_or_reply(update, *schools_page(services.texts, actor.language, found,
                                              parsed.number(0)))
    await outgoing.answer(query)


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("school", school_command))
    app.add_handler(CallbackQueryHandler(
        on_school_button, pattern=callbacks.pattern(callbacks.INDICATORS, "school", "edit",
                                                    "field")))
    app.add_handler(CallbackQueryHandler(on_page,
                                         pattern=callbacks.pattern(callbacks.PAGE, "sch")))
    app.add_handler(MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND
                                   & _EditPrompt(), on_prompt_reply))
