"""Campaigns and their phases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Campaign, Phase


async def active_campaign(*, session: AsyncSession) -> Campaign | None:
    """The most recently created active campaign, with its phases loaded."""
    stmt = (
        select(Campaign)
        .where(Campaign.is_active.is_(True))
        .options(selectinload(Campaign.phases))
        .order_by(Campaign.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_campaign(*, session: AsyncSession, campaign_id: int) -> Campaign | None:
    stmt = select(Campaign).where(Campaign.id == campaign_id).options(selectinload(Campaign.phases))
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_campaign(*, session: AsyncSession, campaign: Campaign) -> Campaign:
    session.add(campaign)
    await session.flush()
    return campaign


async def phase_by_name(*, session: AsyncSession, campaign_id: int, name: str) -> Phase | None:
    stmt = select(Phase).where(Phase.campaign_id == campaign_id, Phase.name == name)
    return (await session.execute(stmt)).scalar_one_or_none()
