"""The indicator-data feature as the application sees it."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.core.feature import LEADERS, OFFICE, CommandSpec
from bot.core.runtime import Core
from bot.indicators.certify import CertificationSource, active_campaign_id
from bot.indicators.data import Standards
from bot.indicators.importing import ImportResult
from bot.indicators.questions import refresh_questions
from bot.indicators.sample import SAMPLE, load_workbook_file
from db.models import Role

log = logging.getLogger(__name__)

# Principals are unit leaders of any role but staff; the service checks who leads a school.
PRINCIPALS = frozenset({Role.ADMIN, Role.LEADER, Role.RESPONSIBLE})


class IndicatorsFeature:
    """School figures, the certification picture, what-if, the plan, the data workbook."""

    commands = (
        CommandSpec("certify", "indicators.cmd.certify", LEADERS),
        CommandSpec("school", "indicators.cmd.school", PRINCIPALS),
        CommandSpec("whatif", "indicators.cmd.whatif", LEADERS),
        CommandSpec("plan", "indicators.cmd.plan", LEADERS),
        CommandSpec("indicators", "indicators.cmd.indicators", OFFICE),
    )

    def __init__(self, core: Core, standards: Standards | None = None) -> None:
        self.core = core
        # The built-in sets and sheets are read once, when the services are built.
        self.standards = standards or Standards()
        self.certification = CertificationSource(self.standards)

    async def after_import(self) -> None:
        """Rewrite the quiz questions drawn from the county's figures. Its own unit of work:
        the import has committed, and a failure here must not undo it."""
        try:
            async with self.core.session() as session:
                await refresh_questions(session, self.standards,
                                        await active_campaign_id(session))
        except Exception:
            log.exception("the questions from the county's figures could not be refreshed")

    async def load_sample(self, path: Path = SAMPLE) -> ImportResult:
        """The sample county's data, for the demo: run after the sample campaign's setup."""
        async with self.core.session() as session:
            result = await load_workbook_file(
                session, self.standards, self.core.texts,
                campaign_id=await active_campaign_id(session), now=self.core.clock.now(),
                path=path)
        await self.after_import()
        return result

    async def start(self) -> None:
        """Everything lives in the database; nothing to resume."""

    async def stop(self) -> None:
        """Nothing held in memory but the loaded standard sets."""
