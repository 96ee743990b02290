"""Creating a single task by hand (the office's /newtask and the CLI)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import roster
from bot.core.access import Actor, require_admin
from bot.core.errors import InvalidInput
from bot.tasks.service import load_task, record_event
from db.models import Task
from db.repositories import campaigns as campaigns_repo
from db.repositories import tasks as tasks_repo

TITLE_MAX = 500


def task_key(unit: str, title: str) -> str:
    """The stable identity of a row without an explicit number: unit + title, normalised."""
    normal = f"{' '.join(unit.split())}|{' '.join(title.split())}"
    return "k:" + hashlib.sha1(normal.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class NewTask:
    unit: str
    title: str
    owner: str
    due_at: datetime | None
    indicator: str | None = None
    description: str = ""
    evidence_required: int = 0


async def create_task(session: AsyncSession, actor: Actor, spec: NewTask, *, now: datetime) -> Task:
    """A task on the roster as it is: a unit or person it does not know is refused with the
    nearest names, never created (a slip such as 教育局 for 县教育局 would otherwise
    become a second unit that nobody leads)."""
    require_admin(actor)
    if len(spec.title) > TITLE_MAX:
        raise InvalidInput("error.title_too_long", limit=TITLE_MAX)
    campaign = await campaigns_repo.active_campaign(session=session)
    if campaign is None:
        raise InvalidInput("error.no_campaign")
    unit = await roster.unit_named(session, spec.unit, create=False)
    owner = await roster.person_named(session, spec.owner, unit, create=False)
    indicator = (
        await roster.indicator_coded(session, spec.indicator, create=False)
        if spec.indicator
        else None
    )
    key = task_key(spec.unit, spec.title)
    if await tasks_repo.task_by_key(session=session, campaign_id=campaign.id, key=key):
        raise InvalidInput("error.task_exists", title=spec.title, unit=spec.unit)
    task = await tasks_repo.add_task(
        session=session,
        task=Task(
            campaign_id=campaign.id,
            key=key,
            title=spec.title,
            description=spec.description,
            unit_id=unit.id,
            owner_id=owner.id,
            indicator_id=indicator.id if indicator else None,
            due_at=spec.due_at,
            evidence_required=spec.evidence_required,
            created_at=now,
            updated_at=now,
        ),
    )
    await record_event(session, task, actor_id=actor.person_id, at=now, kind="created",
                       new=spec.title)
    return await load_task(session, task.id)
