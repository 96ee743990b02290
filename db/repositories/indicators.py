"""Indicator data: settings and links, schools, figures and their history, the county's
other figures, pending imports, plans and edit prompts. Functions only flush."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    BudgetFigures,
    DisabledEnrolmentFigures,
    FigurePart,
    ImprovementPlan,
    Indicator,
    IndicatorImport,
    IndicatorLink,
    IndicatorSettings,
    Person,
    School,
    SchoolEditPrompt,
    SchoolFigure,
    SchoolFigureChange,
    SchoolLevel,
    SelfAssessmentMark,
    SurveyResult,
    Task,
    TaskStatus,
    Unit,
    UnitKind,
)
from db.models.core import OPEN_STATUSES


# Settings and links ----------------------------------------------------------------------
async def settings_of(*, session: AsyncSession, campaign_id: int) -> IndicatorSettings | None:
    return await session.get(IndicatorSettings, campaign_id)


async def put_settings(*, session: AsyncSession, campaign_id: int, standard_id: str,
                       standard_version: int, standard_yaml: str | None) -> IndicatorSettings:
    settings = await session.get(IndicatorSettings, campaign_id)
    if settings is None:
        settings = IndicatorSettings(campaign_id=campaign_id)
        session.add(settings)
    settings.standard_id = standard_id
    settings.standard_version = standard_version
    settings.standard_yaml = standard_yaml
    await session.flush()
    return settings


async def links_of(*, session: AsyncSession, campaign_id: int) -> dict[str, Indicator]:
    """Check key → the campaign indicator that answers it."""
    stmt = (select(IndicatorLink.check_key, Indicator)
            .join(Indicator, Indicator.id == IndicatorLink.indicator_id)
            .where(IndicatorLink.campaign_id == campaign_id))
    return {key: indicator for key, indicator in (await session.execute(stmt)).all()}


async def replace_links(*, session: AsyncSession, campaign_id: int,
                        links: Iterable[tuple[str, int]]) -> None:
    await session.execute(delete(IndicatorLink).where(IndicatorLink.campaign_id == campaign_id))
    session.add_all(IndicatorLink(campaign_id=campaign_id, check_key=key, indicator_id=indicator_id)
                    for key, indicator_id in links)
    await session.flush()


# Schools ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SchoolRow:
    unit_id: int
    name: str
    level: SchoolLevel | None  # None: a school unit whose level was never given
    teaching_point: bool
    township: str
    leader_id: int | None
    leader_name: str | None


async def schools(*, session: AsyncSession, unit_ids: Iterable[int] | None = None
                  ) -> list[SchoolRow]:
    """Every unit of kind school (or the given ones), with its level and its parent's name."""
    parent = aliased(Unit)
    leader = aliased(Person)
    stmt = (
        select(Unit.id, Unit.name, School.level, School.teaching_point, parent.name,
               Unit.leader_id, leader.name)
        .outerjoin(School, School.unit_id == Unit.id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .outerjoin(leader, leader.id == Unit.leader_id)
        .where(Unit.kind == UnitKind.SCHOOL)
        .order_by(Unit.name)
    )
    if unit_ids is not None:
        stmt = stmt.where(Unit.id.in_(list(unit_ids)))
    return [SchoolRow(uid, name, level, bool(tp), township or "", leader_id, leader_name)
            for uid, name, level, tp, township, leader_id, leader_name
            in (await session.execute(stmt)).all()]


async def put_school(*, session: AsyncSession, unit_id: int, level: SchoolLevel,
                     teaching_point: bool = False) -> School:
    school = await session.get(School, unit_id)
    if school is None:
        school = School(unit_id=unit_id, level=level, teaching_point=teaching_point)
        session.add(school)
    else:
        school.level = level
        school.teaching_point = teaching_point
    await session.flush()
    return school


async def schools_led_by(*, session: AsyncSession, person_id: int) -> list[int]:
    """The school units whose leader (principal) this person is."""
    stmt = (select(Unit.id).where(Unit.leader_id == person_id, Unit.kind == UnitKind.SCHOOL)
            .order_by(Unit.name))
    return list((await session.execute(stmt)).scalars())


# Figures ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FigureRow:
    unit_id: int
    part: FigurePart
    resource: str
    amount: Decimal


async def figure_years(*, session: AsyncSession) -> list[int]:
    stmt = select(SchoolFigure.year).distinct().order_by(SchoolFigure.year)
    return list((await session.execute(stmt)).scalars())


async def figures(*, session: AsyncSession, year: int, unit_ids: Iterable[int] | None = None
                  ) -> list[FigureRow]:
    """One school year's figures, of every school or of the given ones."""
    stmt = select(SchoolFigure.unit_id, SchoolFigure.part, SchoolFigure.resource,
                  SchoolFigure.amount).where(SchoolFigure.year == year)
    if unit_ids is not None:
        stmt = stmt.where(SchoolFigure.unit_id.in_(list(unit_ids)))
    return [FigureRow(*row) for row in (await session.execute(stmt)).all()]


async def figure_rows(*, session: AsyncSession, year: int, unit_ids: Sequence[int]
                      ) -> dict[tuple[int, FigurePart, str], SchoolFigure]:
    stmt = select(SchoolFigure).where(SchoolFigure.year == year,
                                      SchoolFigure.unit_id.in_(list(unit_ids)))
    return {(f.unit_id, f.part, f.resource): f for f in (await session.execute(stmt)).scalars()}


async def add_figure(*, session: AsyncSession, figure: SchoolFigure) -> None:
    session.add(figure)


async def delete_figure(*, session: AsyncSession, figure: SchoolFigure) -> None:
    await session.delete(figure)


async def add_changes(*, session: AsyncSession, changes: Iterable[SchoolFigureChange]) -> None:
    session.add_all(changes)
    await session.flush()


async def changes_of(*, session: AsyncSession, unit_id: int, limit: int = 20
                     ) -> list[tuple[SchoolFigureChange, str | None]]:
    """A school's latest figure changes with the name of who made each, newest first."""
    stmt = (select(SchoolFigureChange, Person.name)
            .outerjoin(Person, Person.id == SchoolFigureChange.actor_id)
            .where(SchoolFigureChange.unit_id == unit_id)
            .order_by(SchoolFigureChange.at.desc(), SchoolFigureChange.id.desc())
            .limit(limit))
    return list((await session.execute(stmt)).all())


# The county's other figures --------------------------------------------------------------
async def budgets(*, session: AsyncSession) -> list[BudgetFigures]:
    return list((await session.execute(select(BudgetFigures).order_by(BudgetFigures.year)))
                .scalars())


async def put_budget(*, session: AsyncSession, year: int, values: dict[str, Decimal | None],
                     by: int | None, at: datetime) -> None:
    row = await session.get(BudgetFigures, year)
    if row is None:
        row = BudgetFigures(year=year)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by = by
    row.updated_at = at
    await session.flush()


async def disabled_of(*, session: AsyncSession, year: int) -> DisabledEnrolmentFigures | None:
    return await session.get(DisabledEnrolmentFigures, year)


async def put_disabled(*, session: AsyncSession, year: int, enrolled: int, population: int,
                       by: int | None, at: datetime) -> None:
    row = await session.get(DisabledEnrolmentFigures, year)
    if row is None:
        row = DisabledEnrolmentFigures(year=year)
        session.add(row)
    row.enrolled, row.population, row.updated_by, row.updated_at = enrolled, population, by, at
    await session.flush()


async def survey_of(*, session: AsyncSession, year: int) -> list[SurveyResult]:
    stmt = select(SurveyResult).where(SurveyResult.year == year).order_by(SurveyResult.group_id)
    return list((await session.execute(stmt)).scalars())


async def put_survey(*, session: AsyncSession, year: int, group_id: str, respondents: int,
                     satisfied: int, by: int | None, at: datetime) -> None:
    stmt = select(SurveyResult).where(SurveyResult.year == year, SurveyResult.group_id == group_id)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        row = SurveyResult(year=year, group_id=group_id)
        session.add(row)
    row.respondents, row.satisfied, row.updated_by, row.updated_at = (respondents, satisfied, by,
                                                                      at)
    await session.flush()


async def marks_of(*, session: AsyncSession, campaign_id: int, sheet_id: str
                   ) -> list[SelfAssessmentMark]:
    stmt = select(SelfAssessmentMark).where(SelfAssessmentMark.campaign_id == campaign_id,
                                            SelfAssessmentMark.sheet_id == sheet_id)
    return list((await session.execute(stmt)).scalars())


async def put_mark(*, session: AsyncSession, campaign_id: int, sheet_id: str, item_id: str,
                   deductions: dict[str, int], note: str, by: int | None, at: datetime) -> None:
    stmt = select(SelfAssessmentMark).where(SelfAssessmentMark.campaign_id == campaign_id,
                                            SelfAssessmentMark.sheet_id == sheet_id,
                                            SelfAssessmentMark.item_id == item_id)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        row = SelfAssessmentMark(campaign_id=campaign_id, sheet_id=sheet_id, item_id=item_id)
        session.add(row)
    row.deductions, row.note, row.updated_by, row.updated_at = dict(deductions), note, by, at
    await session.flush()


# Tasks that answer a check -----------------------------------------------------------------
@dataclass(frozen=True)
class TaskProgress:
    indicator_id: int
    total: int
    done: int
    overdue: int


async def task_progress(*, session: AsyncSession, campaign_id: int, indicator_ids: Sequence[int],
                        now: datetime) -> dict[int, TaskProgress]:
    """Per indicator: its tasks in the campaign (cancelled ones left out), done, overdue."""
    if not indicator_ids:
        return {}
    open_values = [s.value for s in OPEN_STATUSES]
    stmt = (
        select(
            Task.indicator_id,
            func.count(),
            func.sum(case((Task.status == TaskStatus.DONE, 1), else_=0)),
            func.sum(case((and_(Task.status.in_(open_values), Task.due_at < now), 1), else_=0)),
        )
        .where(Task.campaign_id == campaign_id, Task.indicator_id.in_(list(indicator_ids)),
               Task.status != TaskStatus.CANCELLED)
        .group_by(Task.indicator_id)
    )
    return {iid: TaskProgress(iid, int(total), int(done or 0), int(overdue or 0))
            for iid, total, done, overdue in (await session.execute(stmt)).all()
            if iid is not None}


# Pending imports -------------------------------------------------------------------------
async def add_import(*, session: AsyncSession, pending: IndicatorImport) -> IndicatorImport:
    session.add(pending)
    await session.flush()
    return pending


async def get_import(*, session: AsyncSession, import_id: int) -> IndicatorImport | None:
    return await session.get(IndicatorImport, import_id)


async def claim_import(*, session: AsyncSession, import_id: int, now: datetime) -> bool:
    """Mark applied unless already applied: a conditional UPDATE, so one press wins."""
    stmt = (update(IndicatorImport)
            .where(IndicatorImport.id == import_id, IndicatorImport.applied_at.is_(None))
            .values(applied_at=now).execution_options(synchronize_session=False))
    return bool(getattr(await session.execute(stmt), "rowcount", 0))


async def delete_import(*, session: AsyncSession, import_id: int) -> None:
    await session.execute(delete(IndicatorImport).where(IndicatorImport.id == import_id))


# Plans -----------------------------------------------------------------------------------
async def add_plan(*, session: AsyncSession, plan: ImprovementPlan) -> ImprovementPlan:
    session.add(plan)
    await session.flush()
    return plan


async def get_plan(*, session: AsyncSession, plan_id: int) -> ImprovementPlan | None:
    return await session.get(ImprovementPlan, plan_id)


async def claim_plan(*, session: AsyncSession, plan_id: int, now: datetime) -> bool:
    stmt = (update(ImprovementPlan)
            .where(ImprovementPlan.id == plan_id, ImprovementPlan.applied_at.is_(None))
            .values(applied_at=now).execution_options(synchronize_session=False))
    return bool(getattr(await session.execute(stmt), "rowcount", 0))


# Edit prompts ----------------------------------------------------------------------------
async def add_prompt(*, session: AsyncSession, prompt: SchoolEditPrompt) -> None:
    # One open question per person: a newer prompt replaces the older ones.
    await session.execute(delete(SchoolEditPrompt)
                          .where(SchoolEditPrompt.person_id == prompt.person_id))
    session.add(prompt)
    await session.flush()


async def prompt_for(*, session: AsyncSession, person_id: int, chat_id: int, message_id: int
                     ) -> SchoolEditPrompt | None:
    stmt = select(SchoolEditPrompt).where(SchoolEditPrompt.person_id == person_id,
                                          SchoolEditPrompt.chat_id == chat_id,
                                          SchoolEditPrompt.message_id == message_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_prompt(*, session: AsyncSession, prompt_id: int) -> None:
    await session.execute(delete(SchoolEditPrompt).where(SchoolEditPrompt.id == prompt_id))
