"""/start with an invite code links an account; /help explains what the bot does;
the office's /invite issues the code."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import CommandHandler

from bot.core import onboarding
from bot.core.access import actor_for, require_admin
from bot.core.errors import InvalidInput
from bot.delivery.menus import publish_menu_for
from bot.tasks import service as task_service
from handlers import outgoing
from handlers.common import actor_of, command_args, incoming, language_of, t
from handlers.context import AppContext, AppType
from handlers.outgoing import reply


async def start(update: Update, context: AppContext) -> None:
    """Redeem a deep-link invite, or greet a person who is already linked."""
    inc = incoming(update)
    services = context.services
    args = command_args(context)
    if context.actor is not None and not args:
        await reply(update, services.texts.get(context.actor.language, "start.welcome_back",
                                               name=context.actor.name))
        return
    async with services.session() as session:
        person = await onboarding.redeem(
            session, code=args[0] if args else "", telegram_id=inc.user.id, now=services.clock.now()
        )
        context.actor = await actor_for(session=session, person=person)
    services.flood.mark_linked(inc.user.id)
    actor = context.actor
    await outgoing.deliver(
        lambda: publish_menu_for(context.bot, services, services.commands, inc.user.id,
                                 actor.role, actor.language),
        what=f"setMyCommands for {inc.user.id}",
    )
    await reply(
        update,
        services.texts.get(
            actor.language, "start.linked", name=actor.name,
            role=services.texts.plain(actor.language, f"role.{actor.role.value}"),
        )
    )


async def help_command(update: Update, context: AppContext) -> None:
    """List what the person's role can do."""
    inc = incoming(update)
    lang = language_of(context, inc.user)
    actor = context.actor
    texts = context.services.texts
    lines = [texts.get(lang, "help.header")]
    role = actor.role if actor else None
    separator = texts.plain(lang, "help.separator")
    for spec in context.services.commands:
        if role in spec.roles:
            lines.append(f"/{spec.name} — {texts.get(lang, spec.text_id)}")
            if spec.words is not None:
                lines.append(texts.get(lang, "help.words",
                                       words=spec.words.listing(lang, separator)))
    await reply(update, "\n".join(lines))


async def invite(update: Update, context: AppContext) -> None:
    """/invite <person id or name>: a single-use deep link for that person."""
    actor = actor_of(context)
    require_admin(actor)
    query = " ".join(command_args(context))
    if not query:
        raise InvalidInput("usage.invite")
    services = context.services
    async with services.session() as session:
        person = await task_service.find_person(session, query)
        issued = await onboarding.issue_invite(
            session,
            person=person,
            created_by_id=actor.person_id,
            now=services.clock.now(),
            ttl=timedelta(hours=services.config.bot.invite_ttl_hours),
        )
    link = onboarding.deep_link(context.bot.username, issued.code)
    expires = issued.expires_at.astimezone(services.config.zone).strftime("%Y-%m-%d %H:%M")
    await reply(
        update,
        t(context, "invite.created", name=issued.person_name, code=issued.code,
          link=link, expires=expires),
    )


def register(app: AppType) -> None:
    app.add_handler(CommandHandler("invite", invite))
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
