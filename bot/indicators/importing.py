"""Importing the county's data workbook: preview with row errors, confirm once, write all.

The same flow as the breakdown table (`bot.tables.pending`), kept apart because the file,
its checks and what it writes are different: a workbook with any row error is previewed
with its errors and nothing else; a clean one waits on disk and as an `IndicatorImport`
row until the office confirms, and confirming claims the row first so a second press
cannot write twice. Confirming reads the file again and writes only if it is still clean.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path, PurePath

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import metrics
from bot.core.access import Actor, require_admin
from bot.core.errors import InvalidInput, NotFound, PermissionDenied
from bot.core.kept import KeptUploads
from bot.indicators.data import (
    FigureEdit,
    SchoolInfo,
    Standards,
    save_figures,
    school_infos,
    settings_for,
    stored,
)
from bot.indicators.names import STUDENTS, fold
from bot.indicators.records import Resource
from bot.indicators.scoring import ScoringSheet
from bot.indicators.standards import StandardSet
from bot.indicators.workbook.book import Book, BookError, SchoolLine
from bot.indicators.workbook.reading import read_book
from bot.indicators.workbook.validation import check_line
from bot.texts import Texts
from db.models import FigurePart, IndicatorImport, SchoolLevel
from db.repositories import indicators as repo

MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ImportPreview:
    file_name: str
    year: int
    standard: str
    school_rows: int
    schools: int
    changed: int
    unchanged: int
    blank: int  # figures the standard needs that the workbook leaves empty
    new_levels: tuple[str, ...]  # schools whose level the workbook sets for the first time
    survey: int
    budgets: int
    disabled: int
    marks: int
    errors: tuple[BookError, ...]
    other_standard: str | None = None  # the workbook was made for another set

    @property
    def writes(self) -> bool:
        return not self.errors and bool(self.changed or self.new_levels or self.survey
                                        or self.budgets or self.disabled or self.marks)


@dataclass
class ImportPlan:
    standard: StandardSet
    book: Book
    edits: list[FigureEdit] = field(default_factory=list)
    levels: dict[int, SchoolLevel] = field(default_factory=dict)
    errors: list[BookError] = field(default_factory=list)
    schools: set[int] = field(default_factory=set)
    blank: int = 0
    sheets: dict[str, ScoringSheet] = field(default_factory=dict)


def file_kind(file_name: str) -> str:
    if PurePath(file_name).suffix.lower() not in (".xlsx", ".xlsm"):
        raise InvalidInput("indicators.import.not_xlsx", name=file_name)
    return "xlsx"


def _needed(standard: StandardSet) -> set[str]:
    return {i.resource.id for i in standard.indicators}


# Words only a nine-year school's rows use (a single-level school writes 小学 or 初中).
NINE_YEAR_WORDS = frozenset(fold(w) for w in ("小学部", "初中部", "全校", "全校共用", "whole",
                                              "whole school"))


def _resolve_levels(lines: Sequence[SchoolLine], known: Mapping[str, SchoolInfo]
                    ) -> dict[int, SchoolLevel]:
    """The level of every school the workbook names: registered, or read from its rows."""
    parts: dict[int, set[FigurePart]] = defaultdict(set)
    nine_words: set[int] = set()
    for line in lines:
        school = known.get(fold(line.school))
        if school is not None and line.part is not None:
            parts[school.unit_id].add(line.part)
            if fold(line.part_text) in NINE_YEAR_WORDS:
                nine_words.add(school.unit_id)
    levels: dict[int, SchoolLevel] = {}
    for school in known.values():
        if school.level is not None:
            levels[school.unit_id] = school.level
        elif school.unit_id in parts:
            found = parts[school.unit_id]
            if (school.unit_id in nine_words or FigurePart.WHOLE in found
                    or found == {FigurePart.PRIMARY, FigurePart.JUNIOR}):
                levels[school.unit_id] = SchoolLevel.NINE_YEAR
            elif found == {FigurePart.PRIMARY}:
                levels[school.unit_id] = SchoolLevel.PRIMARY
            else:
                levels[school.unit_id] = SchoolLevel.JUNIOR
    return levels


def _part_of(line: SchoolLine, school: SchoolInfo, level: SchoolLevel | None,
             errors: list[BookError], sheet: str) -> FigurePart | None:
    def error(message_id: str, **params: object) -> None:
        errors.append(BookError(sheet, line.row, "B", message_id, dict(params)))

    if level is None:
        error("indicators.import.err_no_level", school=school.name)
        return None
    if level is SchoolLevel.NINE_YEAR:
        if line.part is None:
            error("indicators.import.err_nine_year_part", school=school.name)
        return line.part
    own = FigurePart(level.value)
    if line.part is None or line.part is own:
        return own
    error("indicators.import.err_level_mismatch", school=school.name, given=line.part_text,
          level=("小学" if level is SchoolLevel.PRIMARY else "初中"))
    return None


def plan_book(book: Book, standard: StandardSet, schools: Sequence[SchoolInfo],
              resources: Mapping[str, Resource], sheets: Mapping[str, ScoringSheet]) -> ImportPlan:
    """Every row checked against the registered schools; the edits a clean book makes."""
    plan = ImportPlan(standard, book, errors=list(book.errors), sheets=dict(sheets))
    known = {fold(s.name): s for s in schools}
    sheet = book.school_sheet
    levels = _resolve_levels(book.schools, known)
    seen: dict[tuple[int, FigurePart], int] = {}
    needed = _needed(standard)
    for line in book.schools:
        school = known.get(fold(line.school))
        if school is None:
            plan.errors.append(BookError(sheet, line.row, "A", "indicators.import.err_unknown_school",
                                         {"school": line.school}))
            continue
        level = levels.get(school.unit_id)
        part = _part_of(line, school, level, plan.errors, sheet)
        if part is None:
            continue
        if (school.unit_id, part) in seen:
            plan.errors.append(BookError(sheet, line.row, "A", "indicators.import.err_duplicate",
                                         {"school": school.name, "row": seen[(school.unit_id, part)]}))
            continue
        seen[(school.unit_id, part)] = line.row
        nine = level is SchoolLevel.NINE_YEAR
        plan.errors.extend(check_line(line, resources, sheet, nine_year=nine))
        plan.schools.add(school.unit_id)
        if level is not None and school.level is None:
            plan.levels[school.unit_id] = level
        for resource_id, amount in line.amounts.items():
            plan.edits.append(FigureEdit(school.unit_id, part, resource_id, amount))
        for resource_id in needed | {STUDENTS}:
            resource = resources.get(resource_id)
            if resource is None or resource_id in line.amounts:
                continue
            shared = resource.shared and resource_id != STUDENTS
            if not nine or (part is FigurePart.WHOLE) == shared:
                plan.blank += 1
    for unit_id, level in levels.items():
        if level is not SchoolLevel.NINE_YEAR or unit_id not in plan.schools:
            continue
        present = {part for (uid, part) in seen if uid == unit_id}
        if not {FigurePart.PRIMARY, FigurePart.JUNIOR} <= present:
            first = min(row for (uid, _), row in seen.items() if uid == unit_id)
            name = next(s.name for s in schools if s.unit_id == unit_id)
            plan.errors.append(BookError(sheet, first, "B", "indicators.import.err_both_parts",
                                         {"school": name}))
    satisfaction = standard.satisfaction
    for survey in book.survey:
        if satisfaction is not None and satisfaction.groups and survey.group not in satisfaction.groups:
            plan.errors.append(BookError(book.survey_sheet, survey.row, "A",
                                         "indicators.import.err_group_not_in_set",
                                         {"group": survey.group}))
    plan.errors.sort(key=lambda e: (e.sheet != sheet, e.sheet, e.row))
    return plan


async def _changed(session: AsyncSession, year: int, edits: Sequence[FigureEdit]) -> int:
    rows = await repo.figure_rows(session=session, year=year,
                                  unit_ids=sorted({e.unit_id for e in edits}))
    changed = 0
    for edit in edits:
        row = rows.get((edit.unit_id, edit.part, edit.resource))
        if row is None or stored(row.amount) != stored(edit.amount):
            changed += 1
    return changed


async def plan_file(session: AsyncSession, standards: Standards, texts: Texts, campaign_id: int,
                    data: bytes) -> ImportPlan:
    """Read a workbook and check it against the campaign's set and the registered schools."""
    standard = standards.of(await settings_for(session, campaign_id))
    resources = standards.resources(standard)
    sheets = {}
    for assessment in standard.assessments:
        sheet = standards.library.sheet(standard, assessment.id)
        if sheet is not None:
            sheets[sheet.id] = sheet
    book = await asyncio.to_thread(read_book, texts, data, resources, list(sheets.values()))
    return plan_book(book, standard, await school_infos(session), resources, sheets)


@metrics.timed_import("indicators", "preview")
async def preview(session: AsyncSession, standards: Standards, texts: Texts, campaign_id: int,
                  data: bytes, file_name: str) -> tuple[ImportPreview, ImportPlan]:
    file_kind(file_name)
    plan = await plan_file(session, standards, texts, campaign_id, data)
    book = plan.book
    changed = 0 if plan.errors else await _changed(session, book.year, plan.edits)
    names = {s.unit_id: s.name for s in await school_infos(session, plan.levels)}
    other = book.standard_id if book.standard_id and book.standard_id != plan.standard.id else None
    return ImportPreview(
        file_name=file_name, year=book.year, standard=plan.standard.title,
        school_rows=len(book.schools), schools=len(plan.schools), changed=changed,
        unchanged=len(plan.edits) - changed if not plan.errors else 0, blank=plan.blank,
        new_levels=tuple(sorted(names[u] for u in plan.levels)),
        survey=len(book.survey), budgets=len(book.budgets), disabled=len(book.disabled),
        marks=sum(len(lines) for lines in book.marks.values()),
        errors=tuple(plan.errors), other_standard=other,
    ), plan


@dataclass(frozen=True)
class ImportResult:
    year: int
    changed: int
    schools: int
    survey: int
    budgets: int
    disabled: int
    marks: int


@metrics.timed_import("indicators", "apply")
async def write_plan(session: AsyncSession, plan: ImportPlan, campaign_id: int, *,
                     actor_id: int | None, now: datetime, source: str) -> ImportResult:
    """Write a clean plan in the caller's transaction."""
    if plan.errors:
        raise InvalidInput("indicators.import.has_errors", count=len(plan.errors))
    book = plan.book
    for unit_id, level in plan.levels.items():
        await repo.put_school(session=session, unit_id=unit_id, level=level)
    changes = await save_figures(session, book.year, plan.edits, actor_id=actor_id, now=now,
                                 source=source)
    for survey in book.survey:
        await repo.put_survey(session=session, year=book.year, group_id=survey.group,
                              respondents=survey.respondents, satisfied=survey.satisfied,
                              by=actor_id, at=now)
    for budget in book.budgets:
        values: dict[str, Decimal | None] = {k: stored(v) for k, v in budget.values.items()}
        await repo.put_budget(session=session, year=budget.year, values=values, by=actor_id,
                              at=now)
    for disabled in book.disabled:
        await repo.put_disabled(session=session, year=disabled.year, enrolled=disabled.enrolled,
                                population=disabled.population, by=actor_id, at=now)
    marks = 0
    for sheet_id, lines in book.marks.items():
        for line in lines:
            await repo.put_mark(session=session, campaign_id=campaign_id, sheet_id=sheet_id,
                                item_id=line.item, deductions=dict(line.deductions),
                                note=line.note, by=actor_id, at=now)
            marks += 1
    return ImportResult(book.year, len(changes), len(plan.schools), len(book.survey),
                        len(book.budgets), len(book.disabled), marks)


# The pending import in chat ----------------------------------------------------------------
@dataclass(frozen=True)
class Received:
    preview: ImportPreview
    pending_id: int | None


KEPT = KeptUploads[IndicatorImport](
    get=repo.get_import, claim=repo.claim_import, delete=repo.delete_import,
    gone=lambda: NotFound("indicators.import.gone"),
    already=lambda: InvalidInput("indicators.import.already"),
    not_yours=lambda: PermissionDenied("indicators.import.not_yours"),
    prefix="indicators-",
)


async def receive(session: AsyncSession, standards: Standards, texts: Texts, actor: Actor, *,
                  campaign_id: int, data: bytes, file_name: str, data_dir: Path, now: datetime
                  ) -> Received:
    require_admin(actor)
    result, _ = await preview(session, standards, texts, campaign_id, data, file_name)
    if not result.writes:
        return Received(result, None)
    token, path = await KEPT.store(data, data_dir, "xlsx")
    pending = await repo.add_import(session=session, pending=IndicatorImport(
        token=token, person_id=actor.person_id, campaign_id=campaign_id,
        file_name=file_name[:300], stored_path=str(path), created_at=now))
    return Received(result, pending.id)


async def confirm(session: AsyncSession, standards: Standards, texts: Texts, actor: Actor,
                  import_id: int, now: datetime) -> ImportResult:
    require_admin(actor)
    pending, data = await KEPT.take(session, import_id, actor.person_id, now)
    plan = await plan_file(session, standards, texts, pending.campaign_id, data)
    if plan.errors:
        raise InvalidInput("indicators.import.changed", count=len(plan.errors))
    return await write_plan(session, plan, pending.campaign_id, actor_id=actor.person_id,
                            now=now, source="import")


async def cancel(session: AsyncSession, actor: Actor, import_id: int) -> None:
    require_admin(actor)
    await KEPT.cancel(session, import_id, actor.person_id)
