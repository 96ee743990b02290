"""The command menu, per language and per scope: the office sees its own commands."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.context import Services
from db.models import Role
from db.repositories import people as people_repo

log = logging.getLogger(__name__)

# Everyone without a chat-specific menu sees the responsible person's commands.
_DEFAULT_ROLE = Role.RESPONSIBLE


def commands_for(services: Services, role: Role, language: str) -> list[BotCommand]:
    seen: set[str] = set()
    result = []
    for spec in services.commands:
        if role in spec.roles and spec.name not in seen:
            seen.add(spec.name)
            result.append(BotCommand(spec.name, services.texts.plain(language, spec.text_id)))
    return result


async def publish_menus(bot: Bot, services: Services) -> None:
    """Default menus for each language, then a chat menu for every linked office member."""
    try:
        for language in services.texts.languages():
            await bot.set_my_commands(
                commands_for(services, _DEFAULT_ROLE, language),
                scope=BotCommandScopeDefault(),
                language_code=None if language == services.texts.default else language,
            )
        async with services.session() as session:
            people = await people_repo.persons_with_role(
                session=session, roles=(Role.ADMIN, Role.LEADER)
            )
            targets = [(p.telegram_id, p.role, p.language) for p in people if p.telegram_id]
        for telegram_id, role, language in targets:
            await publish_menu_for(bot, services, telegram_id, role, language)
    except TelegramError as exc:
        # A menu is a convenience; the bot works without it.
        log.warning("could not publish command menus: %s", exc)


async def publish_menu_for(
    bot: Bot, services: Services, telegram_id: int, role: Role, language: str
) -> None:
    if role is _DEFAULT_ROLE:
        return
    await bot.set_my_commands(
        commands_for(services, role, language), scope=BotCommandScopeChat(telegram_id)
    )
