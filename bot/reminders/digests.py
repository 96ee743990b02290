"""Digests and the countdown: what the people's and the campaigns' cursors queue when
their time comes — each person's daily list of their tasks, the leaders' daily overview,
and the notices counting down to the inspection and to each phase's end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.pace import Pace
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox, Queued
from bot.reminders.batch import Writes
from bot.reminders.lookup import Lookup
from bot.reminders.policy import Policy, countdown, daily
from bot.reminders.views import countdown_notice, digest, leaders_digest
from db.models import Campaign, OutboxState, Person
from db.repositories import delivery as outbox_repo
from db.repositories import reminders as repo
from db.repositories.reminders import DueCursor

_T = TypeVar("_T")


class Digests:
    """Queues the digests and countdown notices that person and campaign cursors are due for."""

    def __init__(self, core: Core, outbox: Outbox) -> None:
        self.core = core
        self.outbox = outbox
        self.config = core.config.reminders

    async def for_people(
        self, session: AsyncSession, cursors: Sequence[DueCursor], now: datetime, pace: Pace,
        writes: Writes,
    ) -> None:
        """Each person's digest of their open tasks, for one batch of person cursors."""
        if not cursors:
            return
        look = Lookup(self.core.config)
        active = await self._default_campaign(session, look)
        policy = active[1] if active else Policy.from_config(self.config)
        zone = active[2] if active else self.core.config.zone
        people = await repo.persons_for(session=session, ids=[c.subject_id for c in cursors])
        due: list[tuple[Person, str]] = []
        for cursor in cursors:
            await pace.step()
            person = people.get(cursor.subject_id)
            if person is None or not person.telegram_id or not person.is_active:
                writes.drops.append(cursor)
                continue
            quiet = policy.quiet_for(person.quiet_start, person.quiet_end)
            occasions, upcoming = daily(f"digest:{person.id}",
                                        person.digest_time or policy.digest_time, quiet, zone,
                                        now, policy)
            if not person.unreachable_since:
                due += [(person, occasion.key) for occasion in occasions]
            writes.moves.append((cursor, upcoming))
        due = await _not_queued(session, due, key=lambda item: item[1])
        if not due:
            return
        tasks = await repo.open_dated_tasks_of_owners(
            session=session, owner_ids={person.id for person, _ in due},
            until=now + timedelta(days=7))
        for person, key in due:
            await pace.step()
            text = digest(self.core.texts, person.language, person.name,
                          tasks.get(person.id, []), now, zone)
            if text is not None and person.telegram_id:
                writes.messages.append(Queued(key=key, chat_id=person.telegram_id, text=text,
                                              kind="digest", person_id=person.id))

    async def for_campaigns(
        self, session: AsyncSession, cursors: Sequence[DueCursor], now: datetime,
        writes: Writes,
    ) -> None:
        """Each campaign's leaders' digest and countdown, for a batch of campaign cursors."""
        if not cursors:
            return
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {c.subject_id for c in cursors})
        messages: list[Queued] = []
        for cursor in cursors:
            entry = look.campaigns.get(cursor.subject_id)
            if entry is None or not entry[0].is_active:
                writes.drops.append(cursor)
                continue
            campaign, policy, zone = entry
            due, next_digest = daily(f"leaders:{campaign.id}", policy.leaders_digest_time,
                                     policy.quiet, zone, now, policy)
            for occasion in due:
                messages += await self._leaders_digest(session, campaign, occasion.key, now,
                                                       zone)
            phases = [(p.id, p.name, p.starts_on, p.ends_on) for p in campaign.phases]
            notices, next_notice = countdown(campaign.inspection_date, phases, policy, zone, now,
                                             f"countdown:{campaign.id}")
            for occasion in notices:
                messages += await self._countdown(session, campaign, occasion, zone)
            writes.moves.append(
                (cursor, min(t for t in (next_digest, next_notice) if t is not None)))
        writes.messages += await _not_queued(session, messages, key=lambda m: m.key)

    async def _default_campaign(
        self, session: AsyncSession, look: Lookup
    ) -> tuple[Campaign, Policy, ZoneInfo] | None:
        ids = await repo.active_campaign_ids(session=session)
        if not ids:
            return None
        await look.load_campaigns(session, {ids[0]})
        return look.campaigns.get(ids[0])

    async def _leaders_digest(
        self, session: AsyncSession, campaign: Campaign, key: str, now: datetime, zone: ZoneInfo
    ) -> list[Queued]:
        total, overdue, week, units = await repo.campaign_overview(
            session=session, campaign_id=campaign.id, now=now, week_end=repo.week_after(now))
        day = now.astimezone(zone).date()
        days_left = (campaign.inspection_date - day).days if campaign.inspection_date else None
        targets: list[tuple[int, int | None, str]] = []
        if campaign.leaders_chat_id:
            targets.append((campaign.leaders_chat_id, None, self.core.texts.default))
        else:
            targets += [(p.telegram_id or 0, p.id, p.language)
                        for p in await repo.leaders(session=session)]
        messages = []
        for chat_id, person_id, lang in targets:
            text = leaders_digest(self.core.texts, lang, day=day.isoformat(), open_=total,
                                  overdue=overdue, week=week, units=units, days_left=days_left)
            tag = f"p{person_id}" if person_id else f"c{chat_id}"
            messages.append(Queued(key=f"{key}:{tag}", chat_id=chat_id, text=text,
                                   kind="leaders_digest", person_id=person_id))
        return messages

    async def _countdown(
        self, session: AsyncSession, campaign: Campaign, occasion: Any, zone: ZoneInfo
    ) -> list[Queued]:
        event = occasion.key.rsplit(":", 1)[-1]
        phase = ""
        if occasion.key.split(":")[-2].startswith("phase"):
            phase_id = int(occasion.key.split(":")[-2].removeprefix("phase"))
            phase = next((p.name for p in campaign.phases if p.id == phase_id), "")
        day = campaign.inspection_date.isoformat() if campaign.inspection_date else ""
        late_at = occasion.at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if occasion.late else None
        targets: list[tuple[int, int | None, str]] = []
        if campaign.leaders_chat_id:
            targets.append((campaign.leaders_chat_id, None, self.core.texts.default))
        targets += [(p.telegram_id or 0, p.id, p.language)
                    for p in await repo.reachable_people(session=session)]
        messages = []
        for chat_id, person_id, lang in targets:
            text = countdown_notice(self.core.texts, lang, campaign=campaign.name,
                                    event=event, days=occasion.days, day=day, phase=phase,
                                    late_at=late_at)
            tag = f"p{person_id}" if person_id else f"c{chat_id}"
            messages.append(Queued(key=f"{occasion.key}:{tag}", chat_id=chat_id, text=text,
                                   kind="countdown", person_id=person_id))
        return messages


async def _not_queued(session: AsyncSession, items: list[_T], key: Callable[[_T], str]) -> list[_T]:
    """The items whose key is not queued yet, or was cancelled (queueing revives it)."""
    if not items:
        return items
    states = await outbox_repo.states_of(session=session, keys=[key(i) for i in items])
    return [i for i in items if states.get(key(i)) in (None, OutboxState.CANCELLED)]
