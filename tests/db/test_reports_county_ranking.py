"""The whole county's units ranked by the database (`county_tallies`) exactly as
`rank_units` ranks them in Python, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.reports.summary import (
    UNIT_LINES,
    build_summary,
    combine,
    counts_of,
    rank_units,
    ranking_from,
    ranking_of,
)
from bot.services import Services
from db.models import Campaign, TaskStatus
from db.repositories import reports as reports_repo
from db.repositories.reports import EVERYTHING, Tally, TaskScope
from tests.conftest import DEFAULT_NOW, PG_URL, SHANGHAI
from tests.utils import factories as f

NOW = DEFAULT_NOW
DAY = timedelta(days=1)
# Names whose order differs between code points and a language's collation ("B" < "a" <
# "b" by code point, "a" < "B" < "b" in most locales), and Chinese names sharing a prefix.
NAMES = ["a", "B", "b", "Z", "aB", "Ab", "中学", "中心小学", "第二中学", "第十中学", "实验小学",
         "实验中学", "Ω学校", "城关镇", "城关镇中心校", "一小", "二小", "三小", "十小", "乙镇",
         "甲镇", "丙镇", "丁镇", "戊镇", "己镇", "庚镇"]


def _by_key(tallies: list[Tally]) -> list[Tally]:
    return sorted(tallies, key=lambda t: -1 if t.key is None else t.key)


async def _county(services: Services, seed: int) -> int:
    """Units with 0–4 tasks each: small numbers, so completion and overdue tie often and
    the names decide; some units only have cancelled tasks and are not ranked."""
    rng = random.Random(seed)
    async with services.session() as s:
        c = await f.campaign(s)
        phase = await f.phase(s, c)
        indicators = [None, await f.indicator(s, veto=True), await f.indicator(s)]
        owner = await f.person(s)
        for name in rng.sample(NAMES, len(NAMES)):
            unit = await f.unit(s, name)
            for _ in range(rng.randint(0, 4)):
                await f.task(s, c, unit=unit, owner=owner, status=rng.choice(list(TaskStatus)),
                             due_at=rng.choice([None, NOW - 3 * DAY, NOW + DAY]),
                             indicator=rng.choice(indicators), phase=rng.choice([None, phase]))
        await s.commit()
        return c.id


@pytest.mark.parametrize(("seed", "shown"), [(1, UNIT_LINES), (2, 3), (3, UNIT_LINES), (4, 40)])
async def test_the_database_ranks_the_county_as_python_does(
    services: Services, seed: int, shown: int
) -> None:
    campaign_id = await _county(services, seed)
    async with services.session() as s:
        county = await reports_repo.county_tallies(session=s, campaign_id=campaign_id, now=NOW,
                                                   shown=shown)
        counted = await reports_repo.summary_tallies(session=s, campaign_id=campaign_id,
                                                     scope=EVERYTHING, now=NOW)
        names = await reports_repo.units(session=s)
    best_first = rank_units(counted.by_unit, names)
    assert len(best_first) > 10  # enough units for the rest to matter
    assert ranking_from(county.units, county.ranked, shown) == ranking_of(best_first, shown)
    assert counts_of(county.overall) == combine(counted.by_unit)
    assert _by_key(county.by_indicator) == _by_key(counted.by_indicator)
    assert _by_key(county.by_phase) == _by_key(counted.by_phase)
    # Only what a summary names comes back: the shown, the next one and the last.
    assert len(county.units) <= shown + 2


@pytest.mark.skipif(not PG_URL, reason="a collation other than code point order: PostgreSQL")
async def test_names_compare_by_code_point_whatever_the_columns_collation(
    services: Services,
) -> None:
    """A PostgreSQL database created with a language's locale sorts "a" before "B"; Python,
    and so the ranking, does not. The name is compared as "C" whatever the column's
    collation (here a language-neutral ICU one, changed inside the transaction only)."""
    campaign_id = await _county(services, 6)
    async with services.session() as s:
        await s.execute(text(
            'ALTER TABLE units ALTER COLUMN name TYPE varchar(200) COLLATE "und-x-icu"'))
        assert (await s.execute(text("SELECT 'B' < 'a' COLLATE \"und-x-icu\""))).scalar() is False
        county = await reports_repo.county_tallies(session=s, campaign_id=campaign_id, now=NOW,
                                                   shown=len(NAMES))
        counted = await reports_repo.summary_tallies(session=s, campaign_id=campaign_id,
                                                     scope=EVERYTHING, now=NOW)
        names = await reports_repo.units(session=s)
        await s.rollback()
    best_first = rank_units(counted.by_unit, names)
    assert ranking_from(county.units, county.ranked, len(NAMES)) == ranking_of(best_first,
                                                                               len(NAMES))


async def test_a_leaders_summary_names_what_a_township_leader_ranks_the_same_way(
    services: Services,
) -> None:
    """The county's summary (ranked by the database) and the same units ranked in Python
    (a reader who leads them all) agree."""
    campaign_id = await _county(services, 5)
    async with services.session() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None
        names = await reports_repo.units(session=s)
        leader = await build_summary(s, campaign, EVERYTHING, NOW, SHANGHAI)
        scoped = await build_summary(
            s, campaign, TaskScope(unit_ids=frozenset(names)), NOW, SHANGHAI
        )
    assert leader.units == scoped.units and leader.units.rest is not None
    assert leader.overall == scoped.overall


async def test_an_empty_county_has_nothing_to_rank(services: Services) -> None:
    async with services.session() as s:
        c = await f.campaign(s)
        await f.unit(s, "教育局")
        await s.commit()
        county = await reports_repo.county_tallies(session=s, campaign_id=c.id, now=NOW,
                                                   shown=UNIT_LINES)
    assert (county.units, county.ranked, county.by_indicator, county.by_phase) == ([], 0, [], [])
    assert county.overall == Tally(None, 0, 0, 0, 0, 0, 0, 0)
