"""Which reminder policy each campaign's cursors were derived with, and looking at them
all again when it changes (`db.models.ReminderPolicySeen`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ReminderCursor, ReminderPolicySeen, Task
from db.repositories import insert_for
from db.repositories.reminders import CAMPAIGN, PERSON, TASK


async def seen(*, session: AsyncSession) -> dict[int, str]:
    """Campaign → the fingerprint of the policy its cursors were last derived with."""
    rows = await session.execute(
        select(ReminderPolicySeen.campaign_id, ReminderPolicySeen.fingerprint))
    return {campaign_id: fingerprint for campaign_id, fingerprint in rows.all()}


async def policy_changed(
    *, session: AsyncSession, campaign_id: int, fingerprint: str, now: datetime
) -> int:
    """The campaign's policy is now `fingerprint`: its tasks' cursors, its own and every
    person's digest cursor are due now (what they wait for may have moved), and the new
    fingerprint is kept, in the caller's transaction. Returns the cursors touched."""
    touched = await session.execute(
        update(ReminderCursor)
        .where(or_(
            (ReminderCursor.subject == TASK)
            & ReminderCursor.subject_id.in_(select(Task.id).where(Task.campaign_id == campaign_id)),
            (ReminderCursor.subject == CAMPAIGN) & (ReminderCursor.subject_id == campaign_id),
            ReminderCursor.subject == PERSON,
        ))
        .values(next_at=now)
        .execution_options(synchronize_session=False)
    )
    stmt = insert_for(session)(ReminderPolicySeen).values(
        campaign_id=campaign_id, fingerprint=fingerprint, seen_at=now)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[ReminderPolicySeen.campaign_id],
        set_={"fingerprint": stmt.excluded.fingerprint, "seen_at": stmt.excluded.seen_at},
    ))
    return int(getattr(touched, "rowcount", 0) or 0)
