"""The minute job behind the kept tallies (`db.models.tallies`): each campaign's mark
moves to the present, and the tally rows are folded once enough have piled up.

A summary is exact whenever this job last ran; when it runs often, the summary reads a
minute's deadlines from the tasks and everything else from a few thousand tally rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.core.runtime import Core
from db.repositories import reports as reports_repo
from db.repositories.reports import kept as repo
from db.session import Database

log = logging.getLogger(__name__)

JOB = "reports:tallies"
EVERY = timedelta(minutes=1)
FIRST_AFTER = timedelta(seconds=1)  # the scheduler's own (real) time
# Fold a campaign's rows once this many more have been written since the last fold:
# a summary then reads at most a few thousand rows more than the groups there are.
FOLD_AFTER = 5000


class TallyKeeper:
    def __init__(self, core: Core) -> None:
        self.core = core
        # Rows per campaign after its last fold in this process (none yet: fold at once).
        self._folded: dict[int, int] = {}

    async def keep(self) -> None:
        """Move every campaign's mark to now; fold the rows of those that need it."""
        now = self.core.clock.now()
        async with self.core.session() as session:
            campaigns = await repo.campaigns_with_marks(session=session)
        for campaign_id in campaigns:
            async with self.core.session() as session:
                await repo.move_mark(session=session, campaign_id=campaign_id, to=now)
                rows = await repo.tally_rows(session=session, campaign_id=campaign_id)
            if rows >= self._folded.get(campaign_id, -FOLD_AFTER) + FOLD_AFTER:
                async with self.core.session() as session:
                    self._folded[campaign_id] = await repo.compact(
                        session=session, campaign_id=campaign_id)

    async def _timed(self) -> None:
        try:
            await self.keep()
        except Exception:
            log.exception("keeping the task tallies failed")

    def schedule(self) -> None:
        first = datetime.now(UTC) + FIRST_AFTER
        self.core.scheduler.put(JOB, self._timed,
                                IntervalTrigger(seconds=EVERY.total_seconds(), start_date=first))


@dataclass(frozen=True)
class TallyCheck:
    """One campaign's kept tallies against counting its tasks: how many groups differ,
    and whether they were counted again."""

    campaign_id: int
    groups: int
    differing: int
    rebuilt: bool


def _normal(rows: list[Any]) -> set[tuple[int | None, ...]]:
    return {tuple(None if v is None else int(v) for v in row) for row in rows}


async def check_tallies(db: Database, now: datetime, *, repair: bool) -> list[TallyCheck]:
    """Compare every campaign's kept counts with its tasks, as of `now`; with `repair`,
    count a campaign whose tallies differ again from scratch (`kept.rebuild`).

    The triggers keep them equal; they can only part if the triggers were dropped (a
    migration that rebuilt `tasks` without `install_triggers`) or disabled by hand.
    """
    found: list[TallyCheck] = []
    async with db.session() as session:
        campaigns = await repo.campaigns_with_marks(session=session)
        campaigns += await repo.campaigns_without_marks(session=session)
    for campaign_id in sorted(campaigns):
        async with db.session() as session:
            kept_rows = _normal(await repo.summary_rows(session=session, campaign_id=campaign_id,
                                                        now=now))
            counted = _normal(await reports_repo.counted_summary_rows(
                session=session, campaign_id=campaign_id, now=now))
        differing = len(kept_rows ^ counted)
        rebuilt = False
        if differing and repair:
            async with db.session() as session:
                await repo.rebuild(session=session, campaign_id=campaign_id)
            rebuilt = True
        found.append(TallyCheck(campaign_id, len(counted), differing, rebuilt))
    return found
