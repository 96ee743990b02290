"""The reports feature as the application sees it."""

from __future__ import annotations

from bot.core.arguments import Words
from bot.core.feature import ALL_ROLES, LEADERS, OFFICE, CommandSpec
from bot.core.runtime import Core
from bot.delivery.outbox import Outbox
from bot.indicators.certify import CertificationSource
from bot.quiz.readiness import ReadinessCache
from bot.reports import bulletin, bulletin_post
from bot.reports.tallies import TallyKeeper

# "Burn-down" is a project manager's word; the office says 进度对比. Both still work.
CHART_WORDS = Words({"completion": ("完成率",),
                     "progress": ("进度对比", "进度对比图", "进度", "burndown", "燃尽", "燃尽图")})
BULLETIN_WORDS = Words({"send": ("发送",)})


class ReportsFeature:
    """Summaries, charts, the ledger, the weekly bulletin job and the tallies' job."""

    commands = (
        CommandSpec("summary", "reports.cmd.summary", ALL_ROLES),
        CommandSpec("overdue", "reports.cmd.overdue", ALL_ROLES),
        CommandSpec("chart", "reports.cmd.chart", LEADERS, CHART_WORDS),
        CommandSpec("report", "reports.cmd.report", LEADERS),
        CommandSpec("bulletin", "reports.cmd.bulletin", OFFICE, BULLETIN_WORDS),
    )

    def __init__(self, core: Core, outbox: Outbox, readiness: ReadinessCache,
                 certification: CertificationSource | None = None) -> None:
        self.core = core
        self.outbox = outbox
        self.readiness = readiness
        self.certification = certification
        self.tallies = TallyKeeper(core)

    @property
    def bulletin_rules(self) -> bulletin.BulletinRules:
        return bulletin_post.rules_of(self.core)

    @property
    def bulletin_status(self) -> bulletin.StatusHook | None:
        """The section at the top of every bulletin: the certification status, when the
        indicators feature provides it."""
        if self.certification is None:
            return None
        return bulletin.certification_status(self.certification, self.core.texts)

    async def post_bulletin(self, *, manual: bool) -> bulletin_post.Outcome:
        """Queue the active campaign's bulletin (text and DOCX) for the leaders' chat."""
        return await bulletin_post.post_for_active_campaign(
            self.core, self.outbox, self.readiness, manual=manual, status=self.bulletin_status
        )

    async def start(self) -> None:
        self.tallies.schedule()
        bulletin_post.schedule_bulletins(self.core, self.outbox, self.readiness,
                                         self.bulletin_status)

    async def stop(self) -> None:
        """The job stops with the scheduler; the bulletin log is in the database."""
