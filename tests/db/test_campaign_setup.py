"""The campaign setup file: validation with clear errors, and idempotent application."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services import Services
from bot.tables.setup import SetupError, apply_setup, load_setup, parse_setup
from db.models import Campaign, Indicator, Person, Phase, Role, Unit, UnitKind
from tests.utils import factories as f

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "campaign.toml"

SMALL = """
[campaign]
name = "测试县迎检"
inspection_date = 2026-12-28

[[phases]]
name = "整改落实"
starts_on = 2026-11-01
ends_on = 2026-12-05

[[units]]
name = "测试县人民政府"
kind = "county"
leader = "赵一"

[[units]]
name = "县教育局"
parent = "测试县人民政府"
leader = "钱二"

[[units]]
name = "城关小学"
parent = "县教育局"

[[people]]
name = "赵一"
unit = "测试县人民政府"
role = "leader"

[[people]]
name = "钱二"
unit = "县教育局"
role = "admin"

[[indicators]]
code = "E"
name = "普及程度"

[[indicators]]
code = "E2"
name = "残疾儿童少年入学"
parent = "E"
veto = true
"""


async def _apply(services: Services, text: str) -> None:
    spec = parse_setup(text, "setup.toml")
    async with services.session() as s:
        await apply_setup(s, spec, "setup.toml")


async def _count(services: Services, model: type) -> int:
    async with services.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_setup_creates_the_tree_roster_and_catalogue(services: Services) -> None:
    await _apply(services, SMALL)
    async with services.session() as s:
        units = {u.name: u for u in (await s.execute(select(Unit))).scalars()}
        people = {p.name: p for p in (await s.execute(select(Person))).scalars()}
        e2 = (await s.execute(select(Indicator).where(Indicator.code == "E2"))).scalar_one()
        e = (await s.execute(select(Indicator).where(Indicator.code == "E"))).scalar_one()
        campaign = (await s.execute(select(Campaign))).scalar_one()
        phase = (await s.execute(select(Phase))).scalar_one()
    assert units["城关小学"].parent_id == units["县教育局"].id
    assert units["城关小学"].kind is UnitKind.SCHOOL  # guessed from the name
    assert units["测试县人民政府"].leader_id == people["赵一"].id
    assert people["钱二"].role is Role.ADMIN and people["钱二"].unit_id == units["县教育局"].id
    assert e2.veto and e2.parent_id == e.id
    assert campaign.is_active and str(campaign.inspection_date) == "2026-12-28"
    assert (phase.name, phase.position, str(phase.ends_on)) == ("整改落实", 1, "2026-12-05")


async def test_running_setup_again_updates_and_never_duplicates(services: Services) -> None:
    await _apply(services, SMALL)
    await _apply(services, SMALL)
    changed = SMALL.replace('role = "admin"', 'role = "responsible"').replace(
        "inspection_date = 2026-12-28", "inspection_date = 2027-01-11")
    await _apply(services, changed)
    assert [await _count(services, m) for m in (Campaign, Phase, Unit, Person, Indicator)] == [
        1, 1, 3, 2, 2]
    async with services.session() as s:
        qian = (await s.execute(select(Person).where(Person.name == "钱二"))).scalar_one()
        campaign = (await s.execute(select(Campaign))).scalar_one()
    assert qian.role is Role.RESPONSIBLE
    assert str(campaign.inspection_date) == "2027-01-11"


async def test_a_new_campaign_becomes_the_only_active_one(services: Services) -> None:
    async with services.session() as s:
        await f.campaign(s, name="旧的迎检工作")
    await _apply(services, SMALL)
    async with services.session() as s:
        active = (await s.execute(select(Campaign.name).where(Campaign.is_active))).all()
    assert active == [("测试县迎检",)]


async def test_references_to_the_database_are_checked(services: Services) -> None:
    spec = parse_setup(SMALL + '\n[[people]]\nname = "孙三"\nunit = "不存在的局"\n', "s.toml")
    with pytest.raises(SetupError) as caught:
        async with services.session() as s:
            await apply_setup(s, spec, "s.toml")
    assert caught.value.message_id == "tables.setup.unknown_unit"
    assert caught.value.params["unit"] == "不存在的局"
    assert await _count(services, Unit) == 0  # the failed setup wrote nothing


async def test_the_example_file_loads(services: Services) -> None:
    spec = load_setup(EXAMPLE)
    assert spec.campaign.inspection_date is not None
    assert any(i.veto for i in spec.indicators)
    assert {p.role for p in spec.people} == set(Role)
    async with services.session() as s:
        result = await apply_setup(s, spec, str(EXAMPLE))
    assert result.new_units == len(spec.units) and result.new_people == len(spec.people)


@pytest.mark.parametrize(
    ("text", "message_id", "detail"),
    [
        ("[campaign\nname='x'", "tables.setup.not_toml", None),
        ("[[phases]]\nname = '整改'", "tables.setup.invalid", "campaign"),
        (SMALL.replace('role = "leader"', 'role = "boss"'), "tables.setup.invalid",
         "people[1].role"),
        (SMALL + '\n[[units]]\nname = "县教育局"\n', "tables.setup.duplicate_unit", None),
        (SMALL.replace('parent = "测试县人民政府"', 'parent = "城关小学"'),
         "tables.setup.unit_cycle", None),
        (SMALL.replace("ends_on = 2026-12-05", "ends_on = 2026-10-05"),
         "tables.setup.phase_dates", None),
        (SMALL + "\ncolour = 'red'\n", "tables.setup.invalid", "indicators[2].colour"),
    ],
)
def test_file_mistakes_are_named(text: str, message_id: str, detail: str | None) -> None:
    with pytest.raises(SetupError) as caught:
        parse_setup(text, "setup.toml")
    assert caught.value.message_id == message_id
    assert caught.value.params["file"] == "setup.toml"
    if detail is not None:
        assert caught.value.params["where"] == detail


async def test_unknown_leader_is_refused(services: Services) -> None:
    spec = parse_setup(SMALL.replace('leader = "钱二"', 'leader = "周八"'), "s.toml")
    with pytest.raises(SetupError) as caught:
        async with services.session() as s:
            await apply_setup(s, spec, "s.toml")
    assert caught.value.message_id == "tables.setup.unknown_leader"
