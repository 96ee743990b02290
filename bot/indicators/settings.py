"""Which standard set a campaign is judged by, and which campaign indicators answer which
checks: from the campaign file's `[indicator_data]` section, the CLI or the office's chat.

    [indicator_data]
    standard = "basic-balance-2012"          # a built-in set, or
    standard_file = "standard.yaml"          # a province's own set, next to the campaign file
    [indicator_data.links]
    "coefficient:primary:composite" = "C1"   # check key (or a prefix of it) = indicator code
    "veto:three_growths" = "B1"
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.indicators.data import Standards
from bot.indicators.standards import StandardSet, build_standard_set, parse_yaml
from db.repositories import indicators as repo
from db.repositories import people as people_repo


class IndicatorDataSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    standard: str = Field(default="", max_length=64)
    standard_file: str = ""
    links: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_standard(self) -> IndicatorDataSpec:
        if bool(self.standard) == bool(self.standard_file):
            raise ValueError("give either standard (a built-in set) or standard_file")
        return self


def read_standard_file(path: Path) -> tuple[StandardSet, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise InvalidInput("indicators.settings.no_file", file=str(path)) from None
    return build_standard_set(parse_yaml(text, path), path), text


async def choose_standard(session: AsyncSession, standards: Standards, campaign_id: int, *,
                          standard_id: str | None = None, file: Path | None = None
                          ) -> StandardSet:
    """Record the campaign's set: a built-in one by id, or a province's file (kept whole,
    so the bot and the command line judge by the same text wherever they run)."""
    if file is not None:
        standard, text = await asyncio.to_thread(read_standard_file, file)
        for assessment in standard.assessments:
            if assessment.sheet and assessment.sheet not in standards.library.sheets:
                raise InvalidInput("indicators.settings.no_sheet", sheet=assessment.sheet)
        await repo.put_settings(session=session, campaign_id=campaign_id,
                                standard_id=standard.id, standard_version=standard.version,
                                standard_yaml=text)
        return standard
    assert standard_id is not None
    standard = standards.library.standard(standard_id)
    await repo.put_settings(session=session, campaign_id=campaign_id, standard_id=standard.id,
                            standard_version=standard.version, standard_yaml=None)
    return standard


async def set_links(session: AsyncSession, campaign_id: int, links: Mapping[str, str]) -> int:
    indicators = {i.code: i for i in await people_repo.all_indicators(session=session)}
    pairs = []
    for key, code in links.items():
        indicator = indicators.get(code)
        if indicator is None:
            raise InvalidInput("indicators.settings.unknown_indicator", code=code, check=key)
        pairs.append((key, indicator.id))
    await repo.replace_links(session=session, campaign_id=campaign_id, links=pairs)
    return len(pairs)


async def apply_spec(session: AsyncSession, campaign_id: int, spec: IndicatorDataSpec
                     ) -> StandardSet:
    """The setup file's section (`bot.tables.setup` resolves `standard_file` against the
    campaign file's directory when it reads the file)."""
    standards = Standards()
    if spec.standard_file:
        standard = await choose_standard(session, standards, campaign_id,
                                         file=Path(spec.standard_file))
    else:
        standard = await choose_standard(session, standards, campaign_id,
                                         standard_id=spec.standard)
    await set_links(session, campaign_id, spec.links)
    return standard
