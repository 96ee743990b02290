"""/start with an invite code links an account; /help explains what the bot does."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import ALL_ROLES, AppContext, AppType, CommandSpec, Services
from bot.core import onboarding
from bot.core.access import actor_for
from bot.delivery.menus import publish_menu_for
from handlers.common import command_args, incoming, language_of, reply


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
    actor = context.actor
    await publish_menu_for(context.bot, services, inc.user.id, actor.role, actor.language)
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
    lines = [context.services.texts.get(lang, "help.header")]
    role = actor.role if actor else None
    for spec in context.services.commands:
        if role in spec.roles:
            lines.append(f"/{spec.name} — {context.services.texts.get(lang, spec.text_id)}")
    await reply(update, "\n".join(lines))


def register(app: AppType, services: Services) -> None:
    services.add_commands(
        CommandSpec("start", "cmd.start", ALL_ROLES),
        CommandSpec("help", "cmd.help", ALL_ROLES),
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
