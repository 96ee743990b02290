"""What one sweep batch reads once: the unit tree, campaigns with their reminder policy
and time zone, and the leaders reminders escalate to."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, RemindersConfig
from bot.reminders.policy import Policy, Recipient
from db.models import Campaign, Person, Task, Unit
from db.repositories import reminders as repo

log = logging.getLogger(__name__)


def policy_for(config: RemindersConfig, overrides: str | None) -> Policy:
    """The configured policy with a campaign's overrides; an invalid override is ignored."""
    try:
        return Policy.from_json(config, overrides)
    except ValueError:
        log.warning("ignoring an invalid campaign reminder policy: %s", overrides)
        return Policy.from_config(config)


def zone_of(campaign: Campaign | None, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(campaign.timezone) if campaign else default
    except (ValueError, KeyError):
        return default


class Lookup:
    """Units, campaigns (with policy and zone) and people, each read once per batch, or
    once per sweep (`ensure`)."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.units: dict[int, tuple[int | None, int | None]] = {}
        # The units themselves (with their names), read by `ensure` only.
        self.unit_rows: dict[int, Unit] = {}
        self.campaigns: dict[int, tuple[Campaign, Policy, ZoneInfo]] = {}
        self.people: dict[int, Person] = {}
        self._units_read = False
        self._people_read: set[int] = set()
        self._recipients: dict[tuple[int, int], Recipient | None] = {}

    async def ensure(self, session: AsyncSession, tasks: Sequence[Task]) -> None:
        """What these tasks need that this lookup has not read yet: a sweep reads the unit
        tree and each campaign once, and each leader once, however many batches it takes."""
        if not self._units_read:
            self.unit_rows = await repo.units(session=session)
            self.units = {u.id: (u.parent_id, u.leader_id) for u in self.unit_rows.values()}
            self._units_read = True
        campaigns = {t.campaign_id for t in tasks} - set(self.campaigns)
        if campaigns:
            await self.load_campaigns(session, campaigns)
        people = {self.leader_of(t.unit_id, t.owner_id) for t in tasks}
        people |= {t.owner_id for t in tasks}
        wanted = {i for i in people if i is not None} - self._people_read
        if wanted:
            self.people.update(await repo.persons_for(session=session, ids=wanted))
            self._people_read |= wanted

    def recipient(self, person_id: int | None, campaign_id: int,
                  make: Callable[[Person | None, Policy], Recipient | None]) -> Recipient | None:
        """`make(person, policy)` for a person read here, once per campaign."""
        if person_id is None:
            return None
        key = (person_id, campaign_id)
        if key not in self._recipients:
            self._recipients[key] = make(self.people.get(person_id),
                                         self.campaigns[campaign_id][1])
        return self._recipients[key]

    async def load(self, session: AsyncSession, tasks: Sequence[Task]) -> None:
        self.units = await repo.unit_tree(session=session)
        ids = {t.campaign_id for t in tasks}
        await self.load_campaigns(session, ids)
        leaders = {self.leader_of(t.unit_id, t.owner_id) for t in tasks} - {None}
        self.people = await repo.persons_for(session=session, ids=[i for i in leaders if i])

    async def load_campaigns(self, session: AsyncSession, ids: set[int]) -> None:
        campaigns = await repo.campaigns_for(session=session, ids=ids)
        overrides = await repo.policy_overrides(session=session, ids=ids)
        for cid, campaign in campaigns.items():
            self.campaigns[cid] = (campaign, policy_for(self.config.reminders, overrides.get(cid)),
                                   zone_of(campaign, self.config.zone))

    def leader_of(self, unit_id: int, owner_id: int | None) -> int | None:
        """The nearest unit up the tree with a leader other than the owner."""
        seen: set[int] = set()
        current: int | None = unit_id
        while current is not None and current not in seen:
            seen.add(current)
            parent, leader = self.units.get(current, (None, None))
            if leader is not None and leader != owner_id:
                return leader
            current = parent
        return None
