"""The readiness snapshot behind /summary: served while fresh, recomputed once it ages."""

from __future__ import annotations

from datetime import timedelta

from bot.quiz.readiness import ReadinessCache
from bot.services import Services
from db.models import Role
from tests.utils import factories as f


async def test_snapshot_is_reused_until_it_ages(services: Services) -> None:
    now = services.clock.now()
    cache = ReadinessCache(zone=services.config.zone, threshold=0.8,
                           max_age=timedelta(minutes=10))
    async with services.session() as s:
        school = await f.unit(s, "城关小学")
        await f.person(s, "校长", unit=school, role=Role.STAFF, telegram_id=321)
        first = await cache.rows(s, now)
        assert await cache.rows(s, now + timedelta(minutes=9)) is first
        await f.person(s, "教导主任", unit=school, role=Role.STAFF, telegram_id=322)
        later = await cache.rows(s, now + timedelta(minutes=11))
    assert later is not first
    people = {r.name: r.people for r in later}
    assert people.get("城关小学") == 2


def test_the_summary_and_the_quiz_share_one_snapshot(services: Services) -> None:
    assert services.reports.readiness is services.quiz.readiness
