"""The demo's cast: which people on the sample roster the simulated users play."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Campaign, Person, Role, Task
from db.models.core import OPEN_STATUSES

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


async def _first(session: AsyncSession, role: Role) -> Person | None:
    stmt = select(Person).where(Person.role == role, Person.is_active.is_(True)).order_by(Person.id)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def _busiest_owners(session: AsyncSession, count: int) -> list[Person]:
    """The responsible people with the most open tasks: the liveliest chats to try."""
    open_count = func.count(Task.id)
    stmt = (
        select(Person)
        .join(Task, Task.owner_id == Person.id)
        .where(Person.role == Role.RESPONSIBLE, Task.status.in_(OPEN_STATUSES))
        .group_by(Person.id)
        .order_by(open_count.desc(), Person.id)
        .limit(count)
    )
    return list((await session.execute(stmt)).scalars().all())


async def cast_demo(session: AsyncSession) -> list[DemoRole]:
    """Link one admin, one leader, two busy owners and one staff member to demo users."""
    chosen: list[Person] = []
    for role in (Role.ADMIN, Role.LEADER):
        person = await _first(session, role)
        if person is not None:
            chosen.append(person)
    chosen.extend(await _busiest_owners(session, 2))
    staff = await _first(session, Role.STAFF)
    if staff is not None:
        chosen.append(staff)
    cast = []
    for offset, person in enumerate(chosen):
        telegram_id = FIRST_DEMO_USER_ID + offset
        holder = (
            await session.execute(select(Person).where(Person.telegram_id == telegram_id))
        ).scalar_one_or_none()
        if holder is not None and holder.id != person.id:
            holder.telegram_id = None
            await session.flush()
        person.telegram_id = telegram_id
        cast.append(DemoRole(person.id, person.name, person.role, telegram_id, _LABELS[person.role]))
    campaign = (
        await session.execute(select(Campaign).where(Campaign.is_active.is_(True)).limit(1))
    ).scalar_one_or_none()
    if campaign is not None:
        campaign.leaders_chat_id = LEADERS_GROUP_ID
    await session.flush()
    return cast
