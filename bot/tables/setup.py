"""Setting up a campaign from a TOML file: phases, the unit tree, the roster, indicators.

Re-running the same file updates what it names and never duplicates: a campaign is found
by its name, a phase by name within the campaign, a unit by name, a person by name within
their unit, an indicator by code. Nothing the file does not mention is deleted.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import TimeZoneName
from bot.core.errors import InvalidInput
from bot.core.roster import guess_unit_kind
from bot.indicators.settings import IndicatorDataSpec, apply_spec
from db.models import Campaign, Indicator, Person, Phase, Role, Unit, UnitKind
from db.repositories import people as people_repo
from db.repositories import tables as imports_repo


class SetupError(InvalidInput):
    """The setup file is wrong; the message names the file, the place and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CampaignSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    inspection_date: date | None = None
    timezone: TimeZoneName = "Asia/Shanghai"
    leaders_chat_id: int | None = None


class PhaseSpec(_Strict):
    name: str = Field(min_length=1, max_length=100)
    starts_on: date | None = None
    ends_on: date | None = None


class UnitSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind | None = None
    parent: str = ""
    leader: str = ""


class PersonSpec(_Strict):
    name: str = Field(min_length=1, max_length=100)
    unit: str = ""
    role: Role = Role.RESPONSIBLE
    language: Literal["zh", "en"] = "zh"
    telegram_id: int | None = None


class IndicatorSpec(_Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    veto: bool = False
    parent: str = ""
    description: str = ""


class SetupFile(_Strict):
    campaign: CampaignSpec
    phases: list[PhaseSpec] = []
    units: list[UnitSpec] = []
    people: list[PersonSpec] = []
    indicators: list[IndicatorSpec] = []
    # The standard set and check links of the indicator data (bot/indicators/settings.py).
    indicator_data: IndicatorDataSpec | None = None


@dataclass(frozen=True)
class SetupResult:
    name: str
    phases: int
    units: int
    new_units: int
    people: int
    new_people: int
    indicators: int
    new_indicators: int


def _where(loc: Sequence[int | str]) -> str:
    """`('units', 2, 'kind')` → `units[3].kind` (counting entries from one, like a reader)."""
    text = ""
    for part in loc:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def parse_setup(text: str, file: str) -> SetupFile:
    """The file's content, checked on its own (references to the database come later)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SetupError("tables.setup.not_toml", file=file, detail=str(exc)) from None
    try:
        spec = SetupFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SetupError(
            "tables.setup.invalid", file=file, where=_where(first["loc"]), detail=first["msg"]
        ) from None
    _check_unique(file, "phase", [p.name for p in spec.phases])
    _check_unique(file, "unit", [u.name for u in spec.units])
    _check_unique(file, "person", [f"{p.unit}/{p.name}" for p in spec.people])
    _check_unique(file, "indicator", [i.code for i in spec.indicators])
    for phase in spec.phases:
        if phase.starts_on and phase.ends_on and phase.ends_on < phase.starts_on:
            raise SetupError("tables.setup.phase_dates", file=file, phase=phase.name)
    _check_no_cycle(file, {u.name: u.parent for u in spec.units})
    data = spec.indicator_data
    if data is not None and data.standard_file and not Path(data.standard_file).is_absolute():
        # Relative to the campaign file, whichever directory the command runs in.
        resolved = str(Path(file).resolve().parent / data.standard_file)
        spec = spec.model_copy(update={"indicator_data": data.model_copy(
            update={"standard_file": resolved})})
    return spec


def load_setup(path: Path) -> SetupFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SetupError("tables.setup.not_found", file=str(path)) from None
    return parse_setup(text, str(path))


def _check_unique(file: str, what: str, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SetupError(f"tables.setup.duplicate_{what}", file=file, name=name)
        seen.add(name)


def _check_no_cycle(file: str, parents: Mapping[str, str]) -> None:
    for start in parents:
        path, current = [start], parents.get(start, "")
        while current:
            if current in path:
                loop = [*path[path.index(current):], current]
                raise SetupError("tables.setup.unit_cycle", file=file, units=" → ".join(loop))
            path.append(current)
            current = parents.get(current, "")


def _parents_first(units: Sequence[UnitSpec]) -> list[UnitSpec]:
    in_file = {u.name for u in units}
    placed: set[str] = set()
    ordered: list[UnitSpec] = []
    remaining = list(units)
    while remaining:
        ready = [u for u in remaining
                 if not u.parent or u.parent not in in_file or u.parent in placed]
        ordered.extend(ready)
        placed.update(u.name for u in ready)
        remaining = [u for u in remaining if u.name not in placed]
    return ordered


async def apply_setup(session: AsyncSession, spec: SetupFile, file: str) -> SetupResult:
    """Create or update everything the file names; only flushes (the caller commits)."""
    campaign = await _campaign(session, spec.campaign)
    await _phases(session, campaign, spec.phases)
    units = {u.name: u for u in await people_repo.all_units(session=session)}
    new_units = await _units(session, spec.units, units, file)
    people = list(await people_repo.all_persons(session=session))
    new_people, by_unit_name = await _people(session, spec.people, units, people, file)
    _leaders(spec.units, units, by_unit_name, people, file)
    indicators = {i.code: i for i in await people_repo.all_indicators(session=session)}
    new_indicators = await _indicators(session, spec.indicators, indicators, file)
    await session.flush()
    if spec.indicator_data is not None:
        await apply_spec(session, campaign.id, spec.indicator_data)
    return SetupResult(
        name=campaign.name,
        phases=len(spec.phases),
        units=len(spec.units),
        new_units=new_units,
        people=len(spec.people),
        new_people=new_people,
        indicators=len(spec.indicators),
        new_indicators=new_indicators,
    )


async def _campaign(session: AsyncSession, spec: CampaignSpec) -> Campaign:
    """The named campaign becomes the one active campaign: a county runs one at a time."""
    campaign = await imports_repo.campaign_named(session=session, name=spec.name)
    if campaign is None:
        campaign = Campaign(name=spec.name)
        session.add(campaign)
    campaign.inspection_date = spec.inspection_date
    campaign.timezone = spec.timezone
    campaign.leaders_chat_id = spec.leaders_chat_id
    campaign.is_active = True
    await session.flush()
    await session.execute(
        update(Campaign).where(Campaign.id != campaign.id).values(is_active=False)
    )
    return campaign


async def _phases(session: AsyncSession, campaign: Campaign, specs: Sequence[PhaseSpec]) -> None:
    existing = {p.name: p for p in await imports_repo.phases_of(session=session,
                                                                campaign_id=campaign.id)}
    for position, spec in enumerate(specs, start=1):
        phase = existing.get(spec.name)
        if phase is None:
            phase = Phase(campaign_id=campaign.id, name=spec.name)
            session.add(phase)
        phase.position = position
        phase.starts_on = spec.starts_on
        phase.ends_on = spec.ends_on
    await session.flush()


async def _units(
    session: AsyncSession, specs: Sequence[UnitSpec], units: dict[str, Unit], file: str
) -> int:
    created = 0
    for spec in _parents_first(specs):
        parent = units.get(spec.parent) if spec.parent else None
        if spec.parent and parent is None:
            raise SetupError("tables.setup.unknown_parent", file=file, unit=spec.name,
                             parent=spec.parent)
        unit = units.get(spec.name)
        if unit is None:
            unit = Unit(name=spec.name, kind=spec.kind or guess_unit_kind(spec.name))
            session.add(unit)
            units[spec.name] = unit
            created += 1
        elif spec.kind is not None:
            unit.kind = spec.kind
        unit.parent_id = parent.id if parent else None
        await session.flush()
    return created


async def _people(
    session: AsyncSession,
    specs: Sequence[PersonSpec],
    units: Mapping[str, Unit],
    people: list[Person],
    file: str,
) -> tuple[int, dict[tuple[str, str], Person]]:
    by_key: dict[tuple[int | None, str], Person] = {(p.unit_id, p.name): p for p in people}
    by_telegram = {p.telegram_id: p for p in people if p.telegram_id is not None}
    chosen: dict[tuple[str, str], Person] = {}
    created = 0
    for spec in specs:
        unit = units.get(spec.unit) if spec.unit else None
        if spec.unit and unit is None:
            raise SetupError("tables.setup.unknown_unit", file=file, person=spec.name,
                             unit=spec.unit)
        unit_id = unit.id if unit else None
        person = by_key.get((unit_id, spec.name))
        if person is None:
            person = Person(name=spec.name, unit_id=unit_id)
            session.add(person)
            people.append(person)
            by_key[(unit_id, spec.name)] = person
            created += 1
        person.role = spec.role
        person.language = spec.language
        person.is_active = True
        if spec.telegram_id is not None:
            holder = by_telegram.get(spec.telegram_id)
            if holder is not None and holder is not person:
                raise SetupError("tables.setup.telegram_taken", file=file, person=spec.name,
                                 holder=holder.name)
            person.telegram_id = spec.telegram_id
            by_telegram[spec.telegram_id] = person
        chosen[(spec.unit, spec.name)] = person
    await session.flush()
    return created, chosen


def _leaders(
    specs: Sequence[UnitSpec],
    units: Mapping[str, Unit],
    chosen: Mapping[tuple[str, str], Person],
    people: Sequence[Person],
    file: str,
) -> None:
    """A leader is a person of that name in the unit, else the only person of that name."""
    for spec in specs:
        if not spec.leader:
            continue
        unit = units[spec.name]
        leader = chosen.get((spec.name, spec.leader))
        if leader is None:
            named = [p for p in people if p.name == spec.leader and p.is_active]
            in_unit = [p for p in named if p.unit_id == unit.id]
            candidates = in_unit or named
            if len(candidates) != 1:
                raise SetupError("tables.setup.unknown_leader", file=file, unit=spec.name,
                                 leader=spec.leader)
            leader = candidates[0]
        unit.leader_id = leader.id


async def _indicators(
    session: AsyncSession,
    specs: Sequence[IndicatorSpec],
    indicators: dict[str, Indicator],
    file: str,
) -> int:
    created = 0
    for spec in specs:
        indicator = indicators.get(spec.code)
        if indicator is None:
            indicator = Indicator(code=spec.code)
            session.add(indicator)
            indicators[spec.code] = indicator
            created += 1
        indicator.name = spec.name
        indicator.veto = spec.veto
        indicator.description = spec.description
    await session.flush()
    for spec in specs:
        if not spec.parent:
            indicators[spec.code].parent_id = None
            continue
        parent = indicators.get(spec.parent)
        if parent is None:
            raise SetupError("tables.setup.unknown_indicator_parent", file=file, code=spec.code,
                             parent=spec.parent)
        indicators[spec.code].parent_id = parent.id
    return created


def describe(result: SetupResult) -> dict[str, Any]:
    """The result as parameters of the `tables.setup.done` text."""
    return {
        "name": result.name, "phases": result.phases, "units": result.units,
        "new_units": result.new_units, "people": result.people,
        "new_people": result.new_people, "indicators": result.indicators,
        "new_indicators": result.new_indicators,
    }
