"""The reports feature as the application sees it."""

from __future__ import annotations

from bot.core.feature import ALL_ROLES, LEADERS, OFFICE, CommandSpec
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.indicators.certify import CertificationSource
from bot.quiz.readiness import ReadinessCache
from bot.reports import bulletin


class ReportsFeature:
    """Summaries, charts, the ledger and the weekly bulletin job."""

    commands = (
        CommandSpec("summary", "reports.cmd.summary", ALL_ROLES),
        CommandSpec("overdue", "reports.cmd.overdue", ALL_ROLES),
        CommandSpec("chart", "reports.cmd.chart", LEADERS),
        CommandSpec("report", "reports.cmd.report", LEADERS),
        CommandSpec("bulletin", "reports.cmd.bulletin", OFFICE),
    )

    def __init__(self, core: Core, outbox: Outbox, readiness: ReadinessCache,
                 certification: CertificationSource | None = None) -> None:
        self.core = core
        self.outbox = outbox
        self.readiness = readiness
        self.certification = certification

    async def post_bulletin(self, *, manual: bool) -> bulletin.Outcome:
        """Queue the active campaign's bulletin for the leaders' chat."""
        return await bulletin.post_for_active_campaign(
            self.core, self.outbox, self.readiness, manual=manual,
            certification=self.certification,
        )

    async def start(self) -> None:
        bulletin.schedule_bulletins(self.core, self.outbox, self.readiness, self.certification)

    async def stop(self) -> None:
        """The job stops with the scheduler; the bulletin log is in the database."""
