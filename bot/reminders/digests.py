"""Digests and the countdown: what the people's and the campaigns' cursors queue when
their time comes — each person's daily list of their tasks, the leaders' daily overview,
and the notices counting down to the inspection and to each phase's end."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.reminders.lookup import Lookup
from bot.reminders.policy import Policy, countdown, daily
from bot.reminders.views import countdown_notice, digest, leaders_digest
from db.models import Campaign, ReminderCursor
from db.repositories import reminders as repo


class Digests:
    """Queues the digests and countdown notices that person and campaign cursors are due for."""

    def __init__(self, core: Core, outbox: Outbox) -> None:
        self.core = core
        self.outbox = outbox
        self.config = core.config.reminders

    async def for_people(
        self, session: AsyncSession, cursors: Sequence[ReminderCursor], now: datetime
    ) -> int:
        """Each person's digest of their open tasks; returns how many were queued."""
        if not cursors:
            return 0
        look = Lookup(self.core.config)
        active = await self._default_campaign(session, look)
        policy = active[1] if active else Policy.from_config(self.config)
        zone = active[2] if active else self.core.config.zone
        people = await repo.persons_for(session=session, ids=[c.subject_id for c in cursors])
        queued = 0
        for cursor in cursors:
            person = people.get(cursor.subject_id)
            if person is None or not person.telegram_id or not person.is_active:
                await repo.delete_cursor(session=session, cursor=cursor)
                continue
            quiet = policy.quiet_for(person.quiet_start, person.quiet_end)
            due, upcoming = daily(f"digest:{person.id}", person.digest_time or policy.digest_time,
                                  quiet, zone, now, policy)
            if not person.unreachable_since:
                for occasion in due:
                    tasks = await repo.open_dated_tasks_of(
                        session=session, owner_id=person.id, until=now + timedelta(days=7))
                    text = digest(self.core.texts, person.language, person.name, tasks,
                                  now, zone)
                    if text is not None:
                        queued += int(await self.outbox.enqueue(
                            session, key=occasion.key, chat_id=person.telegram_id, text=text,
                            kind="digest", person_id=person.id))
            cursor.next_at = upcoming
            cursor.derived_at = now
        return queued

    async def for_campaigns(
        self, session: AsyncSession, cursors: Sequence[ReminderCursor], now: datetime
    ) -> int:
        """Each campaign's leaders' digest and countdown; returns how many were queued."""
        if not cursors:
            return 0
        look = Lookup(self.core.config)
        await look.load_campaigns(session, {c.subject_id for c in cursors})
        queued = 0
        for cursor in cursors:
            entry = look.campaigns.get(cursor.subject_id)
            if entry is None or not entry[0].is_active:
                await repo.delete_cursor(session=session, cursor=cursor)
                continue
            campaign, policy, zone = entry
            due, next_digest = daily(f"leaders:{campaign.id}", policy.leaders_digest_time,
                                     policy.quiet, zone, now, policy)
            for occasion in due:
                queued += await self._leaders_digest(session, campaign, occasion.key, now, zone)
            phases = [(p.id, p.name, p.starts_on, p.ends_on) for p in campaign.phases]
            notices, next_notice = countdown(campaign.inspection_date, phases, policy, zone, now,
                                             f"countdown:{campaign.id}")
            for occasion in notices:
                queued += await self._countdown(session, campaign, occasion, zone)
            cursor.next_at = min(t for t in (next_digest, next_notice) if t is not None)
            cursor.derived_at = now
        return queued

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
    ) -> int:
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
        queued = 0
        for chat_id, person_id, lang in targets:
            text = leaders_digest(self.core.texts, lang, day=day.isoformat(), open_=total,
                                  overdue=overdue, week=week, units=units, days_left=days_left)
            tag = f"p{person_id}" if person_id else f"c{chat_id}"
            queued += int(await self.outbox.enqueue(
                session, key=f"{key}:{tag}", chat_id=chat_id, text=text, kind="leaders_digest",
                person_id=person_id))
        return queued

    async def _countdown(
        self, session: AsyncSession, campaign: Campaign, occasion: Any, zone: ZoneInfo
    ) -> int:
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
        queued = 0
        for chat_id, person_id, lang in targets:
            text = countdown_notice(self.core.texts, lang, campaign=campaign.name,
                                    event=event, days=occasion.days, day=day, phase=phase,
                                    late_at=late_at)
            tag = f"p{person_id}" if person_id else f"c{chat_id}"
            queued += int(await self.outbox.enqueue(
                session, key=f"{occasion.key}:{tag}", chat_id=chat_id, text=text,
                kind="countdown", person_id=person_id))
        return queued
