"""Finding or creating the units, people and indicators a task refers to."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from db.models import Indicator, Person, Role, Unit, UnitKind
from db.repositories import people as people_repo

_KIND_HINTS = (
    ("学校", UnitKind.SCHOOL), ("小学", UnitKind.SCHOOL), ("中学", UnitKind.SCHOOL),
    ("学区", UnitKind.SCHOOL), ("幼儿园", UnitKind.SCHOOL),
    ("乡", UnitKind.TOWNSHIP), ("镇", UnitKind.TOWNSHIP), ("街道", UnitKind.TOWNSHIP),
    ("局", UnitKind.DEPARTMENT), ("办", UnitKind.DEPARTMENT), ("委", UnitKind.DEPARTMENT),
    ("县", UnitKind.COUNTY), ("区", UnitKind.COUNTY),
)


def nearest_name(name: str, names: Iterable[str]) -> str | None:
    """The known name a typo most likely meant (县教肓局 → 县教育局), or None.

    Within a third of the name's length in edits (at least one), so two characters of a
    four-character unit name never count as "the same"."""
    found = process.extractOne(name, list(names), scorer=Levenshtein.distance,
                               score_cutoff=max(1, len(name) // 3))
    return None if found is None else str(found[0])


def guess_unit_kind(name: str) -> UnitKind:
    """A reasonable first guess from the name; the office can correct it later."""
    for hint, kind in _KIND_HINTS:
        if hint in name:
            return kind
    return UnitKind.OTHER


async def unit_named(
    session: AsyncSession, name: str, *, create: bool, parent: Unit | None = None
) -> Unit:
    unit = await people_repo.unit_by_name(session=session, name=name)
    if unit is not None:
        return unit
    if not create:
        raise InvalidInput("error.unit_not_found", name=name)
    return await people_repo.add_unit(
        session=session,
        unit=Unit(name=name, kind=guess_unit_kind(name), parent_id=parent.id if parent else None),
    )


async def person_named(
    session: AsyncSession, name: str, unit: Unit, *, create: bool, language: str = "zh"
) -> Person:
    """The person of that name in that unit, else the only person of that name anywhere."""
    found = list(await people_repo.persons_named(session=session, name=name))
    in_unit = [p for p in found if p.unit_id == unit.id]
    if in_unit:
        return in_unit[0]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise InvalidInput(
            "error.person_ambiguous", query=name, ids=", ".join(f"#{p.id}" for p in found)
        )
    if not create:
        raise InvalidInput("error.person_not_found", query=name)
    return await people_repo.add_person(
        session=session,
        person=Person(name=name, unit_id=unit.id, role=Role.RESPONSIBLE, language=language),
    )


async def indicator_coded(
    session: AsyncSession, code: str, *, name: str = "", veto: bool = False, create: bool
) -> Indicator:
    indicator = await people_repo.indicator_by_code(session=session, code=code)
    if indicator is not None:
        return indicator
    if not create:
        raise InvalidInput("error.indicator_not_found", code=code)
    return await people_repo.add_indicator(
        session=session, indicator=Indicator(code=code, name=name or code, veto=veto)
    )
