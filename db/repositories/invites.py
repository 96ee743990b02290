"""Single-use invite codes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Invite


async def invite_by_code(*, session: AsyncSession, code: str) -> Invite | None:
    stmt = select(Invite).where(Invite.code == code).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_invite(*, session: AsyncSession, invite: Invite) -> Invite:
    session.add(invite)
    await session.flush()
    return invite
