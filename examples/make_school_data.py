"""Build the sample county's data workbook (`school-data.xlsx`) from the figures below.

    .venv/bin/python examples/make_school_data.py

The figures are invented for 青岚县 (campaign.toml) and chosen to give a realistic picture
for the demo: the primary 综合差异系数 a little above 0.65 (crowded town schools, a weak
石门镇中心小学, well-equipped rural schools), so /plan has work to do; two schools below a
minimum of the sample standard (standard-qinglan.yaml); one year of the last three missing
the 三个增长; satisfaction and disabled enrolment within the standard; a self-assessment
that passes with points lost on five items. The workbook is what `/indicators template`
writes, filled in; the output is committed, so the demo does not need this script.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from bot.indicators.data import SchoolInfo
from bot.indicators.library import load_library
from bot.indicators.names import resources_of
from bot.indicators.standards import load_standard_set
from bot.indicators.workbook import BookSpec, write_book
from bot.texts import Texts
from db.models import FigurePart, SchoolLevel

HERE = Path(__file__).resolve().parent
YEAR = 2026

P, J, W = FigurePart.PRIMARY, FigurePart.JUNIOR, FigurePart.WHOLE
COLUMNS = ("students", "teaching_area", "sports_area", "equipment_value", "books", "computers",
           "multimedia_classrooms", "teachers", "qualified_teachers", "senior_title_teachers",
           "backbone_teachers", "pe_art_teachers")

# school: level, township, {part: figures in COLUMNS order (None: not on that row)}
SCHOOLS: dict[str, tuple[SchoolLevel, str, dict[FigurePart, tuple[int | None, ...]]]] = {
    "青岚县实验小学": (SchoolLevel.PRIMARY, "城关镇", {
        P: (1850, 8510, 4255, 1110000, 28675, 104, 38, 81, 80, 31, 19, 15)}),
    "石门镇中心小学": (SchoolLevel.PRIMARY, "石门镇", {
        P: (640, 1984, 2688, 230400, 5888, 10, 9, 26, 20, 5, 4, 4)}),
    "柳溪乡中心学校": (SchoolLevel.PRIMARY, "柳溪乡", {
        P: (360, 3168, 6840, 1188000, 11160, 47, 10, 30, 29, 19, 5, 4)}),
    "石门镇马坪小学": (SchoolLevel.PRIMARY, "石门镇", {
        P: (86, 989, 2322, 24100, 1342, 1, 1, 8, 4, 1, 0, 1)}),
    "柳溪乡青石小学": (SchoolLevel.PRIMARY, "柳溪乡", {
        P: (58, 725, 1798, 255200, 2088, 13, 2, 7, 7, 5, 1, 1)}),
    "白云乡岭上小学": (SchoolLevel.PRIMARY, "白云乡", {
        P: (42, 403, 1176, 31900, 680, 1, 1, 6, 3, 1, 0, 0)}),
    "白云乡九年一贯制学校": (SchoolLevel.NINE_YEAR, "白云乡", {
        P: (260, None, None, None, None, None, None, 24, 23, 14, 3, 3),
        J: (180, None, None, None, None, None, None, 19, 18, 11, 2, 2),
        W: (None, 3650, 7300, 1520000, 12100, 64, 11, None, None, None, None, None)}),
    "青岚县第一中学": (SchoolLevel.JUNIOR, "城关镇", {
        J: (1500, 9300, 16500, 3300000, 42000, 150, 37, 118, 112, 70, 18, 14)}),
    "石门镇初级中学": (SchoolLevel.JUNIOR, "石门镇", {
        J: (540, 2808, 5022, 1053000, 14310, 45, 12, 44, 40, 22, 5, 5)}),
}

# Group: (asked, satisfied) — 88 % overall, residents the lowest at 83 %.
SURVEY = {"parents": (600, 531), "teachers": (200, 186), "principals": (12, 12),
          "deputies": (40, 35), "residents": (300, 249), "students": (400, 356)}

# Fiscal year: appropriation, recurrent revenue, per-student expense, per-student public
# funds (元). In 2025 the appropriation grew 5.6 % against revenue's 7.4 %: one year of
# three missed, which the veto allows.
BUDGETS = {
    2023: (412_000_000, 1_180_000_000, 10_850, 820),
    2024: (446_000_000, 1_262_000_000, 11_420, 850),
    2025: (471_000_000, 1_355_000_000, 11_960, 880),
    2026: (512_000_000, 1_430_000_000, 12_610, 915),
}
DISABLED = (96, 90)  # of school age, enrolled

# The government-effort self-assessment: item → deductions (times). Every other item is
# assessed with nothing deducted: 89 of 100.
MARKS = {
    "three_growths": ({"growth_missed": 1}, "2025年教育拨款增幅低于财政经常性收入增幅"),
    "weak_schools": ({"behind": 1}, "石门镇初级中学教学楼扩建滞后"),
    "land_revenue": ({"short": 1}, ""),
    "rotation": ({"below_ratio": 1}, ""),
    "curriculum": ({"pe_hour": 1}, ""),
}


def build(target: Path) -> None:
    library = load_library()
    standard = load_standard_set(HERE / "standard-qinglan.yaml")
    resources = resources_of([standard, *library.sets.values()])
    schools = []
    figures: dict[tuple[int, FigurePart], dict[str, Fraction]] = {}
    for unit_id, (name, (level, township, parts)) in enumerate(SCHOOLS.items(), start=1):
        schools.append(SchoolInfo(unit_id, name, level, township))
        for part, values in parts.items():
            figures[(unit_id, part)] = {column: Fraction(value)
                                        for column, value in zip(COLUMNS, values, strict=True)
                                        if value is not None}
    sheet = library.sheets["government-effort-basic-2012"]
    marks = {item.id: MARKS.get(item.id, ({}, "")) for item in sheet.items}
    spec = BookSpec(
        county="青岚县", year=YEAR, standard=standard, resources=resources, schools=schools,
        figures=figures, survey=SURVEY,
        budgets={year: {"appropriation": Decimal(a), "recurrent_revenue": Decimal(r),
                        "per_student_expense": Decimal(e), "per_student_public_funds": Decimal(f)}
                 for year, (a, r, e, f) in BUDGETS.items()},
        disabled=DISABLED, sheets=[sheet], marks={sheet.id: marks})
    target.write_bytes(write_book(Texts.load(), "zh", spec))


if __name__ == "__main__":
    build(HERE / "school-data.xlsx")
    print("school-data.xlsx: 9 schools, survey, budgets 2023–2026, disabled enrolment, "
          "self-assessment")
