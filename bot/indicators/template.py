"""The office's data workbook for one school year, pre-filled with what is recorded."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.access import Actor, require_admin
from bot.indicators.data import Standards, figures_of, school_infos, settings_for
from bot.texts import Texts
from db.models import UnitKind
from db.repositories import campaigns as campaigns_repo
from db.repositories import indicators as repo
from db.repositories import people as people_repo

# A school year starts in September: in spring the current one began the year before.
SCHOOL_YEAR_STARTS = 9


def current_school_year(now: datetime, zone: ZoneInfo) -> int:
    local = now.astimezone(zone)
    return local.year if local.month >= SCHOOL_YEAR_STARTS else local.year - 1


async def county_name(session: AsyncSession, fallback: str) -> str:
    units = await people_repo.all_units(session=session)
    return next((u.name for u in units if u.kind is UnitKind.COUNTY and u.parent_id is None),
                fallback)


async def county_book(session: AsyncSession, standards: Standards, texts: Texts, lang: str, *,
                      campaign_id: int, now: datetime, zone: ZoneInfo, year: int | None = None
                      ) -> tuple[bytes, int]:
    """The workbook for `year` (default: the latest with figures, else the current one)."""
    standard = standards.of(await settings_for(session, campaign_id))
    if year is None:
        years = await repo.figure_years(session=session)
        year = years[-1] if years else current_school_year(now, zone)
    campaign = await campaigns_repo.get_campaign(session=session, campaign_id=campaign_id)
    schools = await school_infos(session)
    figures = figures_of(await repo.figures(session=session, year=year))
    survey = {r.group_id: (r.respondents, r.satisfied)
              for r in await repo.survey_of(session=session, year=year)}
    budgets = {b.year: {"appropriation": b.appropriation, "recurrent_revenue": b.recurrent_revenue,
                        "per_student_expense": b.per_student_expense,
                        "per_student_public_funds": b.per_student_public_funds}
               for b in await repo.budgets(session=session)}
    disabled_row = await repo.disabled_of(session=session, year=year)
    sheets = []
    marks = {}
    for assessment in standard.assessments:
        sheet = standards.library.sheet(standard, assessment.id)
        if sheet is None:
            continue
        sheets.append(sheet)
        marks[sheet.id] = {m.item_id: (dict(m.deductions), m.note)
                           for m in await repo.marks_of(session=session, campaign_id=campaign_id,
                                                        sheet_id=sheet.id)}
    # Here, not at the top: openpyxl (and numpy under it) costs ~0.3 s at start-up.
    from bot.indicators.workbook.writing import BookSpec, write_book

    spec = BookSpec(
        county=await county_name(session, campaign.name if campaign else ""), year=year,
        standard=standard, resources=standards.resources(standard), schools=schools,
        figures=figures, survey=survey, budgets=budgets,
        disabled=(disabled_row.population, disabled_row.enrolled) if disabled_row else None,
        sheets=sheets, marks=marks)
    data = await asyncio.to_thread(write_book, texts, lang, spec)
    return data, year


async def template_for(session: AsyncSession, standards: Standards, texts: Texts, actor: Actor,
                       *, campaign_id: int, now: datetime, zone: ZoneInfo,
                       year: int | None = None) -> tuple[bytes, int]:
    """The office's template in chat: admins only (it holds every school's figures)."""
    require_admin(actor)
    return await county_book(session, standards, texts, actor.language, campaign_id=campaign_id,
                             now=now, zone=zone, year=year)
