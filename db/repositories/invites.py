"""Single-use invite codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Invite


async def invite_by_code(*, session: AsyncSession, code: str) -> Invite | None:
    stmt = select(Invite).where(Invite.code == code).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_invite(*, session: AsyncSession, invite: Invite) -> Invite:
    session.add(invite)
    await session.flush()
    return invite


async def claim_invite(*, session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Mark the invite used if it still may be used; True for the one caller that did.

    One conditional UPDATE: of two accounts redeeming the same code at once, the database
    lets exactly one change the row (PostgreSQL re-checks the condition after the other's
    commit; SQLite runs the two writes one after the other), and the other finds nothing
    left to change.
    """
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1
