"""What people call the figures: resource names with their units, aliases (Chinese first,
English second) for the parsers, and the survey groups and budget figures by name.

One vocabulary for the template's headers, `/whatif`, `/school` corrections and the views,
so a name the template prints is always a name the parsers read back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from bot.indicators.records import BUILTIN_RESOURCES, Level, Resource
from bot.indicators.standards import StandardSet

STUDENTS = "students"  # enrolment, a figure like the others in storage and what-if
STUDENTS_RESOURCE = Resource(STUDENTS, "在校生数", "人", shared=False)

# Resource id → (English name, further aliases). The Chinese name and unit are the core's.
_RESOURCE_WORDS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    STUDENTS: ("enrolment", ("在校生", "学生数", "学生", "students", "enrollment", "pupils")),
    "teaching_area": ("teaching and auxiliary floor area",
                      ("教学及辅助用房", "教学用房", "教学辅助用房", "教学用房面积", "teaching area",
                       "teaching space", "classroom space")),
    "sports_area": ("sports ground and hall area",
                    ("体育运动场馆", "运动场馆", "体育场馆", "运动场", "运动场地", "sports area",
                     "sports ground", "playground")),
    "equipment_value": ("teaching equipment value",
                        ("教学仪器设备", "仪器设备值", "仪器设备", "教学仪器", "设备值", "equipment",
                         "equipment value")),
    "books": ("books", ("图书册数", "藏书", "图书", "书", "library books")),
    "computers": ("computers", ("计算机台数", "计算机", "电脑", "computer", "pcs")),
    "multimedia_classrooms": ("networked multimedia classrooms",
                              ("网络多媒体教室", "多媒体教室", "multimedia classrooms", "multimedia")),
    "teachers": ("full-time teachers", ("专任教师数", "专任教师", "教师数", "教师", "teachers")),
    "qualified_teachers": ("teachers above the required qualification",
                           ("高于规定学历教师数", "高于规定学历教师", "高学历教师", "qualified teachers")),
    "senior_title_teachers": ("teachers with intermediate or senior titles",
                              ("中级及以上职称教师", "中级及以上专业技术职务教师", "中高级职称教师",
                               "中级职称教师", "senior title teachers", "senior teachers")),
    "backbone_teachers": ("county-level or higher key teachers",
                          ("县级及以上骨干教师", "骨干教师", "backbone teachers", "key teachers")),
    "pe_art_teachers": ("PE and art teachers",
                        ("体育、艺术(美术、音乐)专任教师", "体育艺术教师", "体艺教师", "音体美教师",
                         "pe and art teachers", "pe art teachers")),
}

# Units people write after a number, and what one of them is worth in the resource's unit.
UNIT_WORDS: Mapping[str, tuple[str, Decimal]] = {
    "m²": ("m²", Decimal(1)), "㎡": ("m²", Decimal(1)), "m2": ("m²", Decimal(1)),
    "平方米": ("m²", Decimal(1)), "平米": ("m²", Decimal(1)), "sqm": ("m²", Decimal(1)),
    "元": ("元", Decimal(1)), "万元": ("元", Decimal(10000)), "yuan": ("元", Decimal(1)),
    "册": ("册", Decimal(1)), "本": ("册", Decimal(1)),
    "台": ("台", Decimal(1)),
    "人": ("人", Decimal(1)), "名": ("人", Decimal(1)), "位": ("人", Decimal(1)),
    "间": ("间", Decimal(1)), "个": ("间", Decimal(1)),
}
# Resources counted in whole things (people, machines, volumes, rooms).
COUNT_UNITS = frozenset({"人", "台", "册", "间", "个", "所", "套", "名"})

LEVEL_WORDS: Mapping[str, Level] = {
    "小学部": Level.PRIMARY, "小学": Level.PRIMARY, "primary": Level.PRIMARY,
    "初中部": Level.JUNIOR, "初中": Level.JUNIOR, "junior": Level.JUNIOR,
}

SURVEY_GROUPS: Mapping[str, tuple[str, str]] = {
    "parents": ("家长", "parents"),
    "teachers": ("教师", "teachers"),
    "principals": ("校长", "principals"),
    "deputies": ("人大代表和政协委员", "deputies and CPPCC members"),
    "residents": ("社区居民", "residents"),
    "students": ("学生", "students"),
}

BUDGET_FIELDS: Mapping[str, tuple[str, str]] = {
    "appropriation": ("教育财政拨款", "education appropriation"),
    "recurrent_revenue": ("财政经常性收入", "recurrent fiscal revenue"),
    "per_student_expense": ("生均教育事业费", "per-student education expense"),
    "per_student_public_funds": ("生均公用经费", "per-student public funds"),
}


def fold(text: str) -> str:
    """Full-width forms to ASCII, lower case, no spaces: how names are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def resources_of(standards: Iterable[StandardSet]) -> dict[str, Resource]:
    """Enrolment, every built-in resource, and the ones the given sets declare, in order."""
    found: dict[str, Resource] = {STUDENTS: STUDENTS_RESOURCE, **BUILTIN_RESOURCES}
    for standard in standards:
        for indicator in standard.indicators:
            found.setdefault(indicator.resource.id, indicator.resource)
    return found


def is_count(resource: Resource) -> bool:
    return resource.unit in COUNT_UNITS


def resource_name(resource: Resource, lang: str) -> str:
    if lang == "en":
        words = _RESOURCE_WORDS.get(resource.id)
        return words[0] if words else resource.name
    return resource.name


def resource_label(resource: Resource, lang: str) -> str:
    """The name with its unit, as a header: 教学及辅助用房面积（m²）."""
    name = resource_name(resource, lang)
    return f"{name} ({resource.unit})" if lang == "en" else f"{name}（{resource.unit}）"


def group_name(group: str, lang: str) -> str:
    names = SURVEY_GROUPS.get(group)
    if names is None:
        return group
    return names[1] if lang == "en" else names[0]


@dataclass(frozen=True)
class Term:
    """A name found in text: a raw resource, or an indicator (then a value per student)."""

    resource: Resource
    indicator_id: str | None = None


class Vocabulary:
    """Every name of the resources and of one set's indicators, longest match first."""

    def __init__(self, standard: StandardSet | None, resources: Mapping[str, Resource]) -> None:
        self.resources = dict(resources)
        names: dict[str, Term] = {}
        if standard is not None:
            for indicator in standard.indicators:
                term = Term(indicator.resource, indicator.id)
                names.setdefault(fold(indicator.name), term)
                names.setdefault(fold(indicator.id), term)
        for resource in self.resources.values():
            term = Term(resource)
            # The raw figure's own names win over an indicator that shares the word.
            names[fold(resource.name)] = term
            names[fold(resource.id)] = term
            english, aliases = _RESOURCE_WORDS.get(resource.id, ("", ()))
            for alias in (english, *aliases):
                if alias:
                    names.setdefault(fold(alias), term)
        self._names = names
        self._longest = sorted(names, key=len, reverse=True)

    def match(self, text: str) -> tuple[Term, int] | None:
        """The longest name at the start of `text` (already folded), and its length."""
        for name in self._longest:
            if text.startswith(name):
                return self._names[name], len(name)
        return None

    def lookup(self, text: str) -> Term | None:
        return self._names.get(fold(text))
