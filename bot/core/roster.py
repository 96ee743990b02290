"""Finding or creating the units, people and indicators a task refers to."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.texts import Label
from db.models import Indicator, Person, Role, Unit, UnitKind
from db.repositories import people as people_repo

_KIND_HINTS = (
    ("学校", UnitKind.SCHOOL), ("小学", UnitKind.SCHOOL), ("中学", UnitKind.SCHOOL),
    ("学区", UnitKind.SCHOOL), ("幼儿园", UnitKind.SCHOOL),
    ("乡", UnitKind.TOWNSHIP), ("镇", UnitKind.TOWNSHIP), ("街道", UnitKind.TOWNSHIP),
    ("局", UnitKind.DEPARTMENT), ("办", UnitKind.DEPARTMENT), ("委", UnitKind.DEPARTMENT),
    ("县", UnitKind.COUNTY), ("区", UnitKind.COUNTY),
)


def indicator_label(code: str, name: str) -> str:
    """"C3 图书配备", or just "C3" when the indicator has no name of its own (a table that
    names only the code stores the code as its name)."""
    name = name.strip()
    return code if not name or name == code else f"{code} {name}"


# How alike two names must be to be offered as "did you mean": 县教育局 for 县教肓局 (0.75),
# 王晓明 for 王小明 (0.67), but not 县财政局 for 县人社局 (0.5: only the 县…局 they share).
# A two-character name differs by one character at 0.5 (王方 for 王芳): one slip in a
# name that short is offered too.
NEAR = 0.6
SUGGESTED = 3


def nearest_names(name: str, candidates: Iterable[str], limit: int = SUGGESTED) -> list[str]:
    """The candidates most like `name`, best first: one containing the other (教育局 in
    县教育局) before mere likeness; none below `NEAR`."""
    wanted = "".join(name.split())
    scored: list[tuple[float, str]] = []
    for candidate in dict.fromkeys(candidates):
        plain = "".join(candidate.split())
        if not plain or candidate == name:
            continue
        likeness = SequenceMatcher(None, wanted, plain).ratio()
        if len(wanted) == len(plain) == 2 and wanted[0] == plain[0]:
            likeness = max(likeness, NEAR)
        if wanted and (wanted in plain or plain in wanted):
            likeness += 1.0
        if likeness >= NEAR:
            scored.append((likeness, candidate))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [candidate for _, candidate in scored[:limit]]


def _suggestion(names: list[str], otherwise: str) -> Label:
    if names:
        return Label("error.did_you_mean", names=" / ".join(names))
    return Label(otherwise)


def nearest_name(name: str, names: Iterable[str]) -> str | None:
    """The one known name a typo most likely meant (县教肓局 → 县教育局), or None."""
    found = nearest_names(name, names, limit=1)
    return found[0] if found else None


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
        known = [u.name for u in await people_repo.all_units(session=session)]
        raise InvalidInput("error.unit_unknown", name=name,
                           suggest=_suggestion(nearest_names(name, known), "error.add_unit_first"))
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
        everyone = await people_repo.all_persons(session=session)
        # Those of the unit first: the likeliest slip is a colleague's name mistyped.
        candidates = [p.name for p in everyone if p.is_active and p.unit_id == unit.id]
        candidates += [p.name for p in everyone if p.is_active and p.unit_id != unit.id]
        raise InvalidInput("error.person_unknown", name=name,
                           suggest=_suggestion(nearest_names(name, candidates),
                                               "error.add_person_first"))
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
