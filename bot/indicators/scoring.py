"""Self-assessment (自评) scoring sheets as data: items with points and deductions, a total
against the pass score, and the items that lost points (each becomes a rectification row).

An item scores its points less the deductions marked against it, never below zero. A
deduction is worth its points once, or once per occurrence (`each`: "every percentage point
below"), or the whole item (`all`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from bot.core.errors import InvalidInput
from bot.indicators.standards import Source
from bot.indicators.standards.files import (
    FileModel,
    FileProblem,
    Ident,
    Positive,
    SourceModel,
    StandardFileError,
    Text,
    problems_of,
    read_yaml,
)
from bot.indicators.status import State

BUILTIN_SHEETS = Path(__file__).resolve().parent / "sheets"


class DeductionModel(FileModel):
    id: Ident
    text: Text
    points: Positive | None = None
    each: bool = False
    all: bool = False

    @model_validator(mode="after")
    def _points_or_all(self) -> DeductionModel:
        if self.all and (self.points is not None or self.each):
            raise ValueError("`all` takes the whole item: give neither points nor each")
        if not self.all and self.points is None:
            raise ValueError("give points, or all: true")
        return self


class ItemModel(FileModel):
    id: Ident
    text: Text
    points: Positive
    deductions: list[DeductionModel] = Field(default_factory=list)


class SectionModel(FileModel):
    id: Ident
    name: Text
    items: Annotated[list[ItemModel], Field(min_length=1)]


class SheetModel(FileModel):
    id: Ident
    version: Annotated[int, Field(gt=0)]
    title: Text
    total: Positive
    pass_score: Positive
    source: SourceModel
    sections: Annotated[list[SectionModel], Field(min_length=1)]


@dataclass(frozen=True)
class Deduction:
    id: str
    text: str
    points: Fraction | None  # None: the whole item
    each: bool = False


@dataclass(frozen=True)
class SheetItem:
    id: str
    section: str
    text: str
    points: Fraction
    deductions: tuple[Deduction, ...] = ()

    def deduction(self, deduction_id: str) -> Deduction:
        for d in self.deductions:
            if d.id == deduction_id:
                return d
        raise KeyError(deduction_id)


@dataclass(frozen=True)
class ScoringSheet:
    id: str
    version: int
    title: str
    total: Fraction
    pass_score: Fraction
    source: Source
    sections: tuple[tuple[str, str], ...]  # (id, name)
    items: tuple[SheetItem, ...]

    def item(self, item_id: str) -> SheetItem:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)


def build_sheet(data: Mapping[str, Any], path: Path | str = "(memory)") -> ScoringSheet:
    try:
        model = SheetModel.model_validate(data)
    except ValidationError as exc:
        raise StandardFileError(path, problems_of(exc)) from None
    problems: list[FileProblem] = []
    seen: set[str] = set()
    items: list[SheetItem] = []
    for s_index, section in enumerate(model.sections):
        for i_index, item in enumerate(section.items):
            key = f"sections.{s_index}.items.{i_index}"
            if item.id in seen:
                problems.append(FileProblem(f"{key}.id", "id used twice"))
            seen.add(item.id)
            d_ids: set[str] = set()
            for d_index, d in enumerate(item.deductions):
                if d.id in d_ids:
                    problems.append(FileProblem(f"{key}.deductions.{d_index}.id", "id used twice"))
                d_ids.add(d.id)
                if d.points is not None and d.points > item.points:
                    problems.append(FileProblem(f"{key}.deductions.{d_index}.points",
                                                "more than the item is worth"))
            items.append(SheetItem(
                id=item.id, section=section.id, text=item.text, points=Fraction(item.points),
                deductions=tuple(Deduction(d.id, d.text,
                                           None if d.all else Fraction(d.points or Decimal(0)),
                                           d.each)
                                 for d in item.deductions),
            ))
    total = sum((it.points for it in items), Fraction(0))
    if total != Fraction(model.total):
        problems.append(FileProblem("total", f"items add up to {float(total):g}, not {model.total}"))
    if model.pass_score > model.total:
        problems.append(FileProblem("pass_score", "higher than the total"))
    if problems:
        raise StandardFileError(path, problems)
    return ScoringSheet(
        id=model.id, version=model.version, title=model.title, total=Fraction(model.total),
        pass_score=Fraction(model.pass_score), source=Source(**model.source.model_dump()),
        sections=tuple((s.id, s.name) for s in model.sections), items=tuple(items),
    )


def load_sheet(path: Path | str) -> ScoringSheet:
    file = Path(path)
    return build_sheet(read_yaml(file), file)


# Scoring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemMarks:
    """What the assessor found for one item: deduction id → occurrences (1 unless `each`)."""

    deductions: Mapping[str, int]
    note: str = ""


@dataclass(frozen=True)
class ItemScore:
    item: SheetItem
    score: Fraction
    applied: tuple[tuple[Deduction, int], ...]
    note: str = ""

    @property
    def lost(self) -> Fraction:
        return self.item.points - self.score


@dataclass(frozen=True)
class SheetScore:
    sheet: ScoringSheet
    items: tuple[ItemScore, ...]  # the assessed items, in sheet order
    unassessed: tuple[SheetItem, ...]

    @property
    def total(self) -> Fraction:
        return sum((i.score for i in self.items), Fraction(0))

    @property
    def lost_items(self) -> tuple[ItemScore, ...]:
        """Items that lost points, most points lost first (ties in sheet order)."""
        order = {it.id: n for n, it in enumerate(self.sheet.items)}
        lost = [i for i in self.items if i.lost > 0]
        return tuple(sorted(lost, key=lambda i: (-i.lost, order[i.item.id])))

    @property
    def best_possible(self) -> Fraction:
        return self.total + sum((i.points for i in self.unassessed), Fraction(0))

    @property
    def state(self) -> State:
        """Met once the assessed items alone reach the pass score; not met once even full
        marks on the rest could not; otherwise unknown."""
        if self.total >= self.sheet.pass_score:
            return State.MET
        if self.best_possible < self.sheet.pass_score:
            return State.NOT_MET
        return State.UNKNOWN

    def section_totals(self) -> dict[str, tuple[Fraction, Fraction]]:
        """Section id → (score of its assessed items, points of all its items)."""
        result: dict[str, tuple[Fraction, Fraction]] = {}
        for section_id, _ in self.sheet.sections:
            result[section_id] = (Fraction(0), Fraction(0))
        for item in self.sheet.items:
            got, out_of = result[item.section]
            result[item.section] = (got, out_of + item.points)
        for scored in self.items:
            got, out_of = result[scored.item.section]
            result[scored.item.section] = (got + scored.score, out_of)
        return result


def score_sheet(sheet: ScoringSheet, marks: Mapping[str, ItemMarks]) -> SheetScore:
    """Score the items in `marks`; items not in it are unassessed (not full marks)."""
    unknown = [item_id for item_id in marks if item_id not in {i.id for i in sheet.items}]
    if unknown:
        raise InvalidInput("indicators.sheet.unknown_item", sheet=sheet.id, item=unknown[0])
    scored: list[ItemScore] = []
    unassessed: list[SheetItem] = []
    for item in sheet.items:
        mark = marks.get(item.id)
        if mark is None:
            unassessed.append(item)
            continue
        applied: list[tuple[Deduction, int]] = []
        deducted = Fraction(0)
        for deduction_id, times in mark.deductions.items():
            try:
                deduction = item.deduction(deduction_id)
            except KeyError:
                raise InvalidInput("indicators.sheet.unknown_deduction", sheet=sheet.id,
                                   item=item.id, deduction=deduction_id) from None
            if times < 0 or (times > 1 and not deduction.each):
                raise InvalidInput("indicators.sheet.bad_times", sheet=sheet.id, item=item.id,
                                   deduction=deduction_id, times=times)
            if times == 0:
                continue
            applied.append((deduction, times))
            deducted += item.points if deduction.points is None else deduction.points * times
        scored.append(ItemScore(item, max(Fraction(0), item.points - deducted), tuple(applied),
                                mark.note))
    return SheetScore(sheet, tuple(scored), tuple(unassessed))


def full_marks(sheet: ScoringSheet) -> dict[str, ItemMarks]:
    """Marks with nothing deducted, to start a self-assessment from."""
    return {item.id: ItemMarks({}) for item in sheet.items}

