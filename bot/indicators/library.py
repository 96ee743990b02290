"""The standard sets and scoring sheets a campaign can choose from, by id.

Built-in files ship with the code; a province's own files live in a directory of the
same layout (`standards/*.yaml`, `sheets/*.yaml`) and are loaded the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import NotFound
from bot.indicators.scoring import BUILTIN_SHEETS, ScoringSheet, load_sheet
from bot.indicators.standards import (
    BUILTIN_STANDARDS,
    FileProblem,
    StandardFileError,
    StandardSet,
    load_standard_set,
)


@dataclass(frozen=True)
class StandardLibrary:
    sets: Mapping[str, StandardSet]
    sheets: Mapping[str, ScoringSheet]

    def standard(self, standard_id: str) -> StandardSet:
        try:
            return self.sets[standard_id]
        except KeyError:
            raise NotFound("indicators.standard.unknown", standard=standard_id) from None

    def sheet(self, standard: StandardSet, assessment_id: str) -> ScoringSheet | None:
        """The self-assessment sheet of one of the set's assessments, if it has one."""
        for assessment in standard.assessments:
            if assessment.id == assessment_id and assessment.sheet:
                return self.sheets[assessment.sheet]
        return None


def load_library(standards_dir: Path = BUILTIN_STANDARDS,
                 sheets_dir: Path = BUILTIN_SHEETS) -> StandardLibrary:
    """Every *.yaml in the two directories; ids must be unique and references resolve."""
    sheets: dict[str, ScoringSheet] = {}
    for path in sorted(sheets_dir.glob("*.yaml")):
        sheet = load_sheet(path)
        if sheet.id in sheets:
            raise StandardFileError(path, [FileProblem("id", f"{sheet.id!r} is used by another sheet")])
        sheets[sheet.id] = sheet
    sets: dict[str, StandardSet] = {}
    for path in sorted(standards_dir.glob("*.yaml")):
        standard = load_standard_set(path)
        if standard.id in sets:
            raise StandardFileError(path, [FileProblem("id", f"{standard.id!r} is used by another set")])
        missing = [FileProblem(f"assessments.{n}.sheet", f"no sheet with id {a.sheet!r}")
                   for n, a in enumerate(standard.assessments)
                   if a.sheet is not None and a.sheet not in sheets]
        if missing:
            raise StandardFileError(path, missing)
        for n, a in enumerate(standard.assessments):
            sheet_ = sheets.get(a.sheet) if a.sheet else None
            if sheet_ is not None and sheet_.pass_score != a.pass_score:
                raise StandardFileError(path, [FileProblem(
                    f"assessments.{n}.pass_score", f"differs from sheet {sheet_.id!r}")])
        sets[standard.id] = standard
    return StandardLibrary(sets, sheets)
