"""What the template and its reader agree on: the sheets and their titles, where the rows
begin, the words for a school's parts, and the cells a nine-year school leaves empty.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.indicators.names import STUDENTS
from bot.indicators.records import Resource
from db.models import FigurePart

MARKER = "inspectbot.county-data"
FORMAT = 1
META = "_meta"
LISTS = "_lists"
MAX_ROWS = 5000
SPARE_ROWS = 30  # empty, validated rows under the listed schools for ones added later
HEADER_ROW = 3
FIRST_ROW = HEADER_ROW + 1

# Sheet keys and their titles, Chinese and English: the titles are how a workbook without
# its `_meta` sheet is still recognised.
SHEETS: Mapping[str, tuple[str, str]] = {
    "schools": ("学校数据", "School data"),
    "survey": ("满意度调查", "Survey"),
    "budget": ("教育经费", "Budget"),
    "disabled": ("残疾儿童入学", "Disabled enrolment"),
    "sheet": ("自评", "Self-assessment"),
}
PART_WORDS: Mapping[str, FigurePart] = {
    "小学": FigurePart.PRIMARY, "小学部": FigurePart.PRIMARY, "primary": FigurePart.PRIMARY,
    "初中": FigurePart.JUNIOR, "初中部": FigurePart.JUNIOR, "junior": FigurePart.JUNIOR,
    "全校": FigurePart.WHOLE, "全校共用": FigurePart.WHOLE, "whole": FigurePart.WHOLE,
    "whole school": FigurePart.WHOLE,
}
_PART_LABELS = {
    "zh": {FigurePart.PRIMARY: ("小学", "小学部"), FigurePart.JUNIOR: ("初中", "初中部"),
           FigurePart.WHOLE: ("全校", "全校")},
    "en": {FigurePart.PRIMARY: ("primary", "primary"), FigurePart.JUNIOR: ("junior", "junior"),
           FigurePart.WHOLE: ("whole", "whole")},
}
TEACHER_RESOURCES = ("teachers", "qualified_teachers", "senior_title_teachers",
                     "backbone_teachers", "pe_art_teachers")
SUB_TEACHERS = ("qualified_teachers", "senior_title_teachers", "backbone_teachers",
                "pe_art_teachers")


def part_label(part: FigurePart, nine_year: bool, lang: str) -> str:
    labels = _PART_LABELS.get(lang, _PART_LABELS["zh"])[part]
    return labels[1] if nine_year else labels[0]


def blocked(part: FigurePart, resource: Resource) -> bool:
    """Cells a nine-year school leaves empty: shared figures on a part's row, enrolment and
    teachers on the whole-school row."""
    shared = resource.shared and resource.id != STUDENTS
    return shared if part is not FigurePart.WHOLE else not shared
