"""The demo's people: everyone on the sample roster has a simulated Telegram account.

On the first run each person is linked to a stable user id: the five people the demo
suggests playing first (the office, a leader, the two busiest owners, a staff member) get
1001–1005, everyone else the ids after. The links live in the demo's database, so every
later run re-creates the same users in the fresh sandbox and whatever the bot queued for
them still has a chat to go to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Person, Role
from db.repositories import campaigns as campaigns_repo
from db.repositories import demo as demo_repo
from db.repositories import people as people_repo

FIRST_DEMO_USER_ID = 1001
CAST_SIZE = 5
LEADERS_GROUP_ID = -1001000000001
LEADERS_GROUP_TITLE = "迎检工作领导小组"

_LABELS = {
    Role.ADMIN: "迎检办",
    Role.LEADER: "领导",
    Role.RESPONSIBLE: "责任人",
    Role.STAFF: "工作人员",
}


@dataclass(frozen=True)
class DemoRole:
    person_id: int
    name: str
    role: Role
    telegram_id: int
    label: str
    unit: str = ""
    language: str = "zh"

    @property
    def title(self) -> str:
        """How the web chat lists them: role and unit."""
        return f"{self.label} · {self.unit}" if self.unit else self.label

    @property
    def in_cast(self) -> bool:
        """One of the people the demo suggests playing first."""
        return self.telegram_id < FIRST_DEMO_USER_ID + CAST_SIZE


async def _cast(session: AsyncSession) -> list[Person]:
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
    return chosen


async def link_roster(session: AsyncSession) -> None:
    """First run: a stable demo user id for every active person, the cast first."""
    cast = await _cast(session)
    everyone = [p for p in await people_repo.all_persons(session=session) if p.is_active]
    ordered = cast + [p for p in everyone if p not in cast]
    taken = {p.telegram_id for p in everyone if p.telegram_id is not None}
    next_id = FIRST_DEMO_USER_ID
    for person in ordered:
        if person.telegram_id is not None:
            continue
        while next_id in taken:
            next_id += 1
        person.telegram_id = next_id
        taken.add(next_id)
    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is not None and campaign.leaders_chat_id is None:
        campaign.leaders_chat_id = LEADERS_GROUP_ID
    await session.flush()


async def demo_people(session: AsyncSession) -> list[DemoRole]:
    """Everyone linked, by user id: the cast first, as the web chat lists them."""
    return [
        DemoRole(p.id, p.name, p.role, p.telegram_id, _LABELS[p.role], unit, p.language)
        for p, unit in await demo_repo.linked_people(session=session)
        if p.telegram_id is not None
    ]


def leaders_group(people: Sequence[DemoRole]) -> list[int]:
    """The leading group's chat: the office and the leaders."""
    return [p.telegram_id for p in people if p.role in (Role.ADMIN, Role.LEADER)]
