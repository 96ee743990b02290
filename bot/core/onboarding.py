"""Invite codes that link a Telegram account to a person on the roster."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict, InvalidInput
from bot.core.feature import ALL_ROLES, OFFICE, CommandSpec
from db.models import Invite, Person
from db.repositories import invites as invites_repo
from db.repositories import people as people_repo

# Deep-link payloads allow A-Z, a-z, 0-9, _ and - up to 64 characters.
# (The log filter in bot.core.logs recognises codes by this alphabet and length.)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
CODE_LENGTH = 12


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    person_id: int
    person_name: str
    expires_at: datetime


async def issue_invite(
    session: AsyncSession,
    *,
    person: Person,
    created_by_id: int | None,
    now: datetime,
    ttl: timedelta,
) -> IssuedInvite:
    invite = await invites_repo.add_invite(
        session=session,
        invite=Invite(
            code=new_code(),
            person_id=person.id,
            created_by_id=created_by_id,
            created_at=now,
            expires_at=now + ttl,
        ),
    )
    return IssuedInvite(invite.code, person.id, person.name, invite.expires_at)


async def redeem(session: AsyncSession, *, code: str, telegram_id: int, now: datetime) -> Person:
    """Link `telegram_id` to the invite's person; the code then stops working.

    Two accounts redeeming one code at the same moment both pass the first checks; the
    claim (one conditional UPDATE) lets exactly one through, and the other is told the
    code is used. The link itself is conditional too, so two invites of one person cannot
    both link it.
    """
    invite = await invites_repo.invite_by_code(session=session, code=code.strip())
    if invite is None:
        raise InvalidInput("start.invalid_code")
    if invite.used_at is not None:
        raise InvalidInput("start.used_code")
    if invite.expires_at <= now:
        raise InvalidInput("start.expired_code")
    # Claimed before the person is read: whoever loses the claim is told the code is used,
    # and a refusal below rolls the claim back with everything else.
    if not await invites_repo.claim_invite(session=session, invite_id=invite.id, now=now):
        await session.refresh(invite)
        if invite.used_at is None:
            raise InvalidInput("start.expired_code")  # it ran out a moment ago
        raise InvalidInput("start.used_code")
    already = await people_repo.person_by_telegram_id(session=session, telegram_id=telegram_id)
    person = await people_repo.get_person(session=session, person_id=invite.person_id)
    if person is None or not person.is_active:
        raise InvalidInput("start.invalid_code")
    if already is not None and already.id != person.id:
        raise Conflict("start.already_linked_other", name=already.name)
    if person.telegram_id is not None and person.telegram_id != telegram_id:
        raise Conflict("start.person_taken", name=person.name)
    try:
        async with session.begin_nested():
            linked = await people_repo.link_telegram(
                session=session, person_id=person.id, telegram_id=telegram_id)
    except IntegrityError:
        # The same account took another person's invite at the same moment.
        other = await people_repo.person_by_telegram_id(session=session, telegram_id=telegram_id)
        raise Conflict("start.already_linked_other",
                       name=other.name if other is not None else "") from None
    await session.refresh(person)
    if not linked:
        raise Conflict("start.person_taken", name=person.name)
    return person


class OnboardingFeature:
    """Linking accounts to the roster: /start with an invite, /help, the office's /invite."""

    commands = (
        CommandSpec("start", "cmd.start", ALL_ROLES),
        CommandSpec("help", "cmd.help", ALL_ROLES),
        CommandSpec("invite", "cmd.invite", OFFICE),
    )

    async def start(self) -> None:
        """Invites live in the database; nothing to resume."""

    async def stop(self) -> None:
        """Nothing held in memory."""
