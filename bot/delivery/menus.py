"""The command menu, per language and per scope: the office sees its own commands."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.core.feature import CommandSpec
from bot.core.runtime import Core
from db.models import Role
from db.repositories import people as people_repo

log = logging.getLogger(__name__)

# Everyone without a chat-specific menu sees the responsible person's commands.
_DEFAULT_ROLE = Role.RESPONSIBLE


def commands_for(
    core: Core, commands: Sequence[CommandSpec], role: Role, language: str
) -> list[BotCommand]:
    seen: set[str] = set()
    result = []
    for spec in commands:
        if role in spec.roles and spec.name not in seen:
            seen.add(spec.name)
            result.append(BotCommand(spec.name, core.texts.plain(language, spec.text_id)))
    return result


async def publish_menus(bot: Bot, core: Core, commands: Sequence[CommandSpec]) -> None:
    """Default menus for each language, then a chat menu for every linked office member."""
    try:
        for language in core.texts.languages():
            await bot.set_my_commands(
                commands_for(core, commands, _DEFAULT_ROLE, language),
                scope=BotCommandScopeDefault(),
                language_code=None if language == core.texts.default else language,
            )
        async with core.session() as session:
            people = await people_repo.persons_with_role(
                session=session, roles=(Role.ADMIN, Role.LEADER)
            )
            targets = [(p.telegram_id, p.role, p.language) for p in people if p.telegram_id]
        for telegram_id, role, language in targets:
            await publish_menu_for(bot, core, commands, telegram_id, role, language)
    except TelegramError as exc:
        # A menu is a convenience; the bot works without it.
        log.warning("could not publish command menus: %s", exc)


async def publish_menu_for(
    bot: Bot, core: Core, commands: Sequence[CommandSpec], telegram_id: int, role: Role,
    language: str,
) -> None:
    if role is _DEFAULT_ROLE:
        return
    await bot.set_my_commands(
        commands_for(core, commands, role, language), scope=BotCommandScopeChat(telegram_id)
    )
