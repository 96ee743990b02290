"""The demo's cast: which people on the sample roster the simulated users play."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Person, Role
from db.repositories import campaigns as campaigns_repo
from db.repositories import people as people_repo

FIRST_DEMO_USER_ID = 1001
LEADERS_GROUP_ID = -1001000000001


@dataclass(frozen=True)
class DemoRole:
    person_id: int
    name: str
    role: Role
    telegram_id: int
    label: str


_LABELS = {
    Role.ADMIN: "迎检办",
    Role.LEADER: "领导",
    Role.RESPONSIBLE: "责任人",
    Role.STAFF: "工作人员",
}


async def cast_demo(session: AsyncSession) -> list[DemoRole]:
    """Link one admin, one leader, two busy owners and one staff member to demo users."""
    chosen: list[Person] = []
    for role in (Role.ADMIN, Role.LEADER):
        person = await people_repo.first_with_role(session=session, role=role)
        if person is not None:
            chosen.append(person)
    # The busiest owners make the liveliest chats to try.
    chosen.extend(await people_repo.busiest_owners(session=session, role=Role.RESPONSIBLE, limit=2))
    staff = await people_repo.first_with_role(session=session, role=Role.STAFF)
    if staff is not None:
        chosen.append(staff)
    cast = []
    for offset, person in enumerate(chosen):
        telegram_id = FIRST_DEMO_USER_ID + offset
        holder = await people_repo.person_by_telegram_id(session=session, telegram_id=telegram_id)
        if holder is not None and holder.id != person.id:
            holder.telegram_id = None
            await session.flush()
        person.telegram_id = telegram_id
        cast.append(DemoRole(person.id, person.name, person.role, telegram_id, _LABELS[person.role]))
    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is not None:
        campaign.leaders_chat_id = LEADERS_GROUP_ID
    await session.flush()
    return cast
