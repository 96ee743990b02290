"""What a county reports per school and year: enrolment and raw resources, one record per
school and level.

A nine-year school (九年一贯制) is two records with the same `school_id`, one per level;
`split_nine_year` divides the resources the two parts share the way provincial
measurement notes do (a junior student weighs 1.1 primary students) while teachers, who
are reported per level, stay with their part.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from bot.core.errors import InvalidInput
from bot.indicators.numbers import Number, exact


class Level(enum.StrEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"

    @property
    def zh(self) -> str:
        return "小学" if self is Level.PRIMARY else "初中"


@dataclass(frozen=True)
class Resource:
    """A raw figure a school reports; `step` is the smallest amount a plan adds."""

    id: str
    name: str
    unit: str
    step: Fraction = Fraction(1)
    # Shared by both parts of a nine-year school and split by enrolment; teachers are
    # reported per level and are not.
    shared: bool = True


BUILTIN_RESOURCES: Mapping[str, Resource] = {
    r.id: r
    for r in (
        Resource("teaching_area", "教学及辅助用房面积", "m²"),
        Resource("sports_area", "体育运动场馆面积", "m²"),
        Resource("equipment_value", "教学仪器设备值", "元"),
        Resource("books", "图书", "册"),
        Resource("computers", "计算机", "台"),
        Resource("multimedia_classrooms", "网络多媒体教室", "间"),
        Resource("teachers", "专任教师", "人", shared=False),
        Resource("qualified_teachers", "高于规定学历教师", "人", shared=False),
        Resource("senior_title_teachers", "中级及以上专业技术职务教师", "人", shared=False),
        Resource("backbone_teachers", "县级及以上骨干教师", "人", shared=False),
        Resource("pe_art_teachers", "体育、艺术(美术、音乐)专任教师", "人", shared=False),
    )
}


@dataclass(frozen=True)
class SchoolRecord:
    """One school's figures for one level and school year.

    `resources` maps a resource id to its amount; a resource that is absent is a gap in
    the data (not zero), which makes every figure that needs it unknown.
    """

    school_id: str
    name: str
    level: Level
    year: int
    students: int
    resources: Mapping[str, Fraction] = field(default_factory=dict)
    nine_year: bool = False
    teaching_point: bool = False
    township: str = ""

    def __post_init__(self) -> None:
        if not self.school_id:
            raise InvalidInput("indicators.record.no_id", name=self.name)
        if not isinstance(self.level, Level):
            raise InvalidInput("indicators.record.bad_level", school=self.name, level=str(self.level))
        if isinstance(self.students, bool) or not isinstance(self.students, int) or self.students < 0:
            raise InvalidInput("indicators.record.bad_students", school=self.name,
                               value=str(self.students))
        for resource, amount in self.resources.items():
            if not isinstance(amount, Fraction) or amount < 0:
                raise InvalidInput("indicators.record.bad_amount", school=self.name,
                                   resource=resource, value=str(amount))

    @property
    def key(self) -> tuple[str, Level]:
        return (self.school_id, self.level)

    def amount(self, resource: str) -> Fraction | None:
        return self.resources.get(resource)


def make_record(
    *,
    school_id: str,
    name: str,
    level: Level | str,
    year: int,
    students: int,
    resources: Mapping[str, Number],
    nine_year: bool = False,
    teaching_point: bool = False,
    township: str = "",
) -> SchoolRecord:
    """A record from plain values (Decimal, int or decimal strings), checked."""
    try:
        lvl = Level(level)
    except ValueError:
        raise InvalidInput("indicators.record.bad_level", school=name, level=str(level)) from None
    amounts: dict[str, Fraction] = {}
    for resource, value in resources.items():
        try:
            amounts[resource] = exact(value)
        except (ArithmeticError, ValueError, TypeError):
            raise InvalidInput("indicators.record.bad_amount", school=name, resource=resource,
                               value=str(value)) from None
    return SchoolRecord(school_id=school_id, name=name, level=lvl, year=year, students=students,
                        resources=amounts, nine_year=nine_year, teaching_point=teaching_point,
                        township=township)


def split_nine_year(
    *,
    school_id: str,
    name: str,
    year: int,
    students: Mapping[Level, int],
    shared: Mapping[str, Number],
    own: Mapping[Level, Mapping[str, Number]],
    weights: Mapping[Level, Fraction],
    resources: Mapping[str, Resource] = BUILTIN_RESOURCES,
    township: str = "",
) -> tuple[SchoolRecord, SchoolRecord]:
    """The primary and junior records of a nine-year school.

    Each shared resource is divided in proportion to weight × students of each part;
    `own` holds the figures reported per level (teachers). A part without students gets
    none of the shared resources.
    """
    for resource in shared:
        known = resources.get(resource)
        if known is not None and not known.shared:
            raise InvalidInput("indicators.record.not_shared", school=name, resource=resource)
    mass = {lvl: weights[lvl] * students.get(lvl, 0) for lvl in Level}
    total = sum(mass.values(), Fraction(0))
    parts: list[SchoolRecord] = []
    for lvl in Level:
        amounts: dict[str, Fraction] = {}
        for resource, value in shared.items():
            whole = exact(value)
            amounts[resource] = whole * mass[lvl] / total if total else Fraction(0)
        for resource, value in own.get(lvl, {}).items():
            amounts[resource] = exact(value)
        parts.append(SchoolRecord(school_id=school_id, name=name, level=lvl, year=year,
                                  students=students.get(lvl, 0), resources=amounts,
                                  nine_year=True, township=township))
    return parts[0], parts[1]


def by_level(records: Iterable[SchoolRecord], level: Level) -> list[SchoolRecord]:
    return [r for r in records if r.level is level]

