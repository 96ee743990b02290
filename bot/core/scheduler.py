"""APScheduler drives timing only; what must happen is always derived from the database.

Jobs live in memory and are rebuilt at start-up with deterministic ids by each feature's
startup hook, so a restart neither loses nor duplicates them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

log = logging.getLogger(__name__)


class Scheduler:
    """A thin owner of one AsyncIOScheduler, started and stopped with the application."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._scheduler = AsyncIOScheduler(
            timezone=zone,
            # A job that fires late (event loop busy, laptop asleep) still runs once;
            # the jobs themselves read the database, so running late is always safe.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        if not self._scheduler.running:
            self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def put(
        self,
        job_id: str,
        func: Callable[..., Awaitable[Any]],
        trigger: BaseTrigger,
        **kwargs: Any,
    ) -> None:
        """Add or replace the job with this id (ids are deterministic per purpose)."""
        self._scheduler.add_job(
            func, trigger=trigger, id=job_id, replace_existing=True, kwargs=kwargs
        )

    def remove(self, job_id: str) -> None:
        if self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def next_run(self, job_id: str) -> Any:
        job = self._scheduler.get_job(job_id)
        return None if job is None else job.next_run_time
