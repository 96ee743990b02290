"""The county's indicator data in the database, read as the core's plain types and written
back with a history of every change.

Figures are stored per school, school year, part and resource. A single-level school's
part is its level; a nine-year school has a primary and a junior part (enrolment and
teachers) and a `whole` part for what both share, split by `split_nine_year` on reading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.indicators.certification import CertificationInputs
from bot.indicators.funding import BudgetYear, DisabledEnrolment
from bot.indicators.library import StandardLibrary, load_library
from bot.indicators.names import STUDENTS, resources_of
from bot.indicators.records import Level, Resource, SchoolRecord, split_nine_year
from bot.indicators.satisfaction import GroupResult
from bot.indicators.scoring import ItemMarks, SheetScore, score_sheet
from bot.indicators.standards import StandardSet, build_standard_set, parse_yaml
from db.models import FigurePart, IndicatorSettings, SchoolFigure, SchoolFigureChange, SchoolLevel
from db.repositories import indicators as repo

PLACES = Decimal("0.0001")  # what the database keeps (Numeric(20, 4))

PART_OF_LEVEL = {Level.PRIMARY: FigurePart.PRIMARY, Level.JUNIOR: FigurePart.JUNIOR}
LEVEL_OF_PART = {FigurePart.PRIMARY: Level.PRIMARY, FigurePart.JUNIOR: Level.JUNIOR}


class Standards:
    """The built-in sets and sheets, loaded once, and the set a campaign has chosen."""

    def __init__(self, library: StandardLibrary | None = None) -> None:
        self.library = library or load_library()
        self._own: dict[str, StandardSet] = {}  # a province's file text → its set

    def of(self, settings: IndicatorSettings) -> StandardSet:
        text = settings.standard_yaml
        if text:
            found = self._own.get(text)
            if found is None:
                found = build_standard_set(parse_yaml(text), f"{settings.standard_id}.yaml")
                self._own = {text: found}  # one campaign at a time: keep the latest only
            return found
        return self.library.standard(settings.standard_id)

    def all_with(self, chosen: StandardSet) -> list[StandardSet]:
        """The chosen set first, then every other built-in set."""
        return [chosen, *(s for s in self.library.sets.values() if s.id != chosen.id)]

    def resources(self, chosen: StandardSet | None = None) -> dict[str, Resource]:
        sets = list(self.library.sets.values())
        return resources_of([chosen, *sets] if chosen is not None else sets)


@dataclass(frozen=True)
class SchoolInfo:
    unit_id: int
    name: str
    level: SchoolLevel | None
    township: str = ""
    teaching_point: bool = False
    leader_id: int | None = None
    leader_name: str | None = None

    @property
    def levels(self) -> tuple[Level, ...]:
        if self.level is SchoolLevel.NINE_YEAR:
            return (Level.PRIMARY, Level.JUNIOR)
        if self.level is None:
            return ()
        return (Level(self.level.value),)

    @property
    def parts(self) -> tuple[FigurePart, ...]:
        if self.level is SchoolLevel.NINE_YEAR:
            return (FigurePart.PRIMARY, FigurePart.JUNIOR, FigurePart.WHOLE)
        return tuple(PART_OF_LEVEL[level] for level in self.levels)

    def part_for(self, resource: Resource, level: Level | None) -> FigurePart:
        """Where a figure is kept: a nine-year school's shared ones on its whole part."""
        if self.level is SchoolLevel.NINE_YEAR:
            if resource.shared and resource.id != STUDENTS:
                return FigurePart.WHOLE
            if level is None:
                raise InvalidInput("indicators.parse.level_needed", school=self.name,
                                   name=resource.name)
            return PART_OF_LEVEL[level]
        if not self.levels:
            raise InvalidInput("indicators.school.no_level", school=self.name)
        return PART_OF_LEVEL[self.levels[0]]


Figures = Mapping[tuple[int, FigurePart], Mapping[str, Fraction]]


@dataclass(frozen=True)
class DataGap:
    """A school left out of the records, and why (`no_figures`, `no_students`, `no_level`)."""

    unit_id: int
    name: str
    reason: str
    level: Level | None = None


def _students(value: Fraction | None) -> int | None:
    if value is None or value.denominator != 1 or value < 0:
        return None
    return int(value)


def build_records(standard: StandardSet, schools: Sequence[SchoolInfo], figures: Figures,
                  year: int, resources: Mapping[str, Resource]
                  ) -> tuple[list[SchoolRecord], list[DataGap]]:
    """The core's records for one year: one per school and level, nine-year schools split."""
    records: list[SchoolRecord] = []
    gaps: list[DataGap] = []
    for school in schools:
        sid = str(school.unit_id)
        if not school.levels:
            if any((school.unit_id, part) in figures for part in FigurePart):
                gaps.append(DataGap(school.unit_id, school.name, "no_level"))
            continue
        if not any((school.unit_id, part) in figures for part in school.parts):
            gaps.append(DataGap(school.unit_id, school.name, "no_figures"))
            continue
        counts: dict[Level, int] = {}
        for level in school.levels:
            students = _students(figures.get((school.unit_id, PART_OF_LEVEL[level]), {})
                                 .get(STUDENTS))
            if students is None:
                gaps.append(DataGap(school.unit_id, school.name, "no_students", level))
            else:
                counts[level] = students
        if len(counts) != len(school.levels):
            continue
        if school.level is SchoolLevel.NINE_YEAR:
            whole = figures.get((school.unit_id, FigurePart.WHOLE), {})
            shared = {r: a for r, a in whole.items()
                      if r in resources and resources[r].shared and r != STUDENTS}
            own = {level: {r: a for r, a in figures.get((school.unit_id, PART_OF_LEVEL[level]),
                                                         {}).items() if r != STUDENTS}
                   for level in school.levels}
            records.extend(split_nine_year(
                school_id=sid, name=school.name, year=year, students=counts, shared=shared,
                own=own, weights=standard.nine_year_split, resources=resources,
                township=school.township))
        else:
            level = school.levels[0]
            amounts = {r: a for r, a in figures[(school.unit_id, PART_OF_LEVEL[level])].items()
                       if r != STUDENTS}
            records.append(SchoolRecord(
                school_id=sid, name=school.name, level=level, year=year, students=counts[level],
                resources=amounts, teaching_point=school.teaching_point,
                township=school.township))
    return records, gaps


@dataclass(frozen=True)
class County:
    """Everything the views and rules need about one campaign's county for one year."""

    campaign_id: int
    standard: StandardSet
    year: int | None
    schools: tuple[SchoolInfo, ...]
    figures: Figures
    records: tuple[SchoolRecord, ...]
    gaps: tuple[DataGap, ...]
    resources: Mapping[str, Resource]

    def school(self, unit_id: int) -> SchoolInfo | None:
        return next((s for s in self.schools if s.unit_id == unit_id), None)

    def records_of(self, unit_id: int) -> list[SchoolRecord]:
        return [r for r in self.records if r.school_id == str(unit_id)]

    @property
    def has_data(self) -> bool:
        return bool(self.records)


async def settings_for(session: AsyncSession, campaign_id: int) -> IndicatorSettings:
    settings = await repo.settings_of(session=session, campaign_id=campaign_id)
    if settings is None:
        raise InvalidInput("indicators.no_standard")
    return settings


async def school_infos(session: AsyncSession, unit_ids: Iterable[int] | None = None
                       ) -> list[SchoolInfo]:
    return [SchoolInfo(r.unit_id, r.name, r.level, r.township, r.teaching_point, r.leader_id,
                       r.leader_name)
            for r in await repo.schools(session=session, unit_ids=unit_ids)]


def figures_of(rows: Iterable[repo.FigureRow]) -> dict[tuple[int, FigurePart], dict[str, Fraction]]:
    found: dict[tuple[int, FigurePart], dict[str, Fraction]] = defaultdict(dict)
    for row in rows:
        found[(row.unit_id, row.part)][row.resource] = Fraction(row.amount)
    return dict(found)


async def load_county(session: AsyncSession, standards: Standards, campaign_id: int,
                      year: int | None = None) -> County:
    """The campaign's standard set and the county's figures for `year` (default: latest)."""
    standard = standards.of(await settings_for(session, campaign_id))
    resources = standards.resources(standard)
    schools = await school_infos(session)
    if year is None:
        years = await repo.figure_years(session=session)
        year = years[-1] if years else None
    if year is None:
        return County(campaign_id, standard, None, tuple(schools), {}, (), (), resources)
    figures = figures_of(await repo.figures(session=session, year=year))
    records, gaps = build_records(standard, schools, figures, year, resources)
    return County(campaign_id, standard, year, tuple(schools), figures, tuple(records),
                  tuple(gaps), resources)


def _fraction(value: Decimal | None) -> Fraction | None:
    return None if value is None else Fraction(value)


async def certification_inputs(session: AsyncSession, standards: Standards, county: County
                               ) -> CertificationInputs:
    """What the office has recorded besides school figures; anything absent stays unknown."""
    year = county.year
    survey = None
    disabled = None
    if year is not None:
        rows = await repo.survey_of(session=session, year=year)
        survey = [GroupResult(r.group_id, r.respondents, r.satisfied) for r in rows] or None
        found = await repo.disabled_of(session=session, year=year)
        if found is not None:
            disabled = DisabledEnrolment(found.enrolled, found.population)
    budget_rows = await repo.budgets(session=session)
    budgets = [BudgetYear(b.year, _fraction(b.appropriation), _fraction(b.recurrent_revenue),
                          _fraction(b.per_student_expense),
                          _fraction(b.per_student_public_funds)) for b in budget_rows] or None
    sheets: dict[str, SheetScore] = {}
    for assessment in county.standard.assessments:
        scored = await sheet_score(session, standards, county.campaign_id, county.standard,
                                   assessment.id)
        if scored is not None:
            sheets[assessment.id] = scored
    return CertificationInputs(survey=survey, disabled=disabled, budgets=budgets, sheets=sheets)


async def sheet_score(session: AsyncSession, standards: Standards, campaign_id: int,
                      standard: StandardSet, assessment_id: str) -> SheetScore | None:
    sheet = standards.library.sheet(standard, assessment_id)
    if sheet is None:
        return None
    marks = await repo.marks_of(session=session, campaign_id=campaign_id, sheet_id=sheet.id)
    if not marks:
        return None
    known = {item.id for item in sheet.items}
    return score_sheet(sheet, {m.item_id: ItemMarks(dict(m.deductions), m.note)
                               for m in marks if m.item_id in known})


# Writing ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FigureEdit:
    """Set one figure (None removes it)."""

    unit_id: int
    part: FigurePart
    resource: str
    amount: Decimal | None


def stored(value: Decimal | Fraction | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(PLACES)


async def save_figures(session: AsyncSession, year: int, edits: Sequence[FigureEdit], *,
                       actor_id: int | None, now: datetime, source: str
                       ) -> list[SchoolFigureChange]:
    """Write the edits that change something; each change goes into the history."""
    rows = await repo.figure_rows(session=session, year=year,
                                  unit_ids=sorted({e.unit_id for e in edits}))
    changes: list[SchoolFigureChange] = []
    for edit in edits:
        new = stored(edit.amount)
        row = rows.get((edit.unit_id, edit.part, edit.resource))
        old = None if row is None else stored(row.amount)
        if old == new:
            continue
        if row is None:
            assert new is not None
            row = SchoolFigure(unit_id=edit.unit_id, year=year, part=edit.part,
                               resource=edit.resource, amount=new)
            await repo.add_figure(session=session, figure=row)
            rows[(edit.unit_id, edit.part, edit.resource)] = row
        elif new is None:
            await repo.delete_figure(session=session, figure=row)
            del rows[(edit.unit_id, edit.part, edit.resource)]
        else:
            row.amount = new
        changes.append(SchoolFigureChange(
            unit_id=edit.unit_id, year=year, part=edit.part, resource=edit.resource,
            old_amount=old, new_amount=new, actor_id=actor_id, at=now, source=source))
    await repo.add_changes(session=session, changes=changes)
    return changes
