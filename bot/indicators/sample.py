"""The sample county's school data (examples/school-data.xlsx), for the demo and the tests.

The demo's seeding calls `IndicatorsFeature.load_sample()` after `inspectbot setup
examples/campaign.toml`: the campaign file names the sample standard set, the workbook
fills in the six schools' figures, the survey, the budgets and the self-assessment.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.indicators.data import Standards
from bot.indicators.importing import ImportResult, plan_file, write_plan
from bot.texts import Texts

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
SAMPLE = EXAMPLES_DIR / "school-data.xlsx"


async def load_workbook_file(session: AsyncSession, standards: Standards, texts: Texts, *,
                             campaign_id: int, now: datetime, path: Path = SAMPLE,
                             source: str = "sample") -> ImportResult:
    """Import a data workbook without a preview; one with row errors is refused whole."""
    data = await asyncio.to_thread(path.read_bytes)
    plan = await plan_file(session, standards, texts, campaign_id, data)
    return await write_plan(session, plan, campaign_id, actor_id=None, now=now, source=source)
