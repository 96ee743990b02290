"""Quiz readiness in the leaders' summary: which units, in what order, for whom."""

from __future__ import annotations

from bot.quiz.readiness import UnitReadiness
from bot.reports.summary import Readiness, readiness_view
from bot.reports.views import readiness_lines
from bot.texts import Texts
from db.repositories.reports import EVERYTHING, TaskScope


def unit(unit_id: int | None, name: str, people: int, ready: int) -> UnitReadiness:
    return UnitReadiness(unit_id, name, people, ready, mastery=0.5, week_points=0.0)


ROWS = [
    unit(1, "教育局", 10, 9),
    unit(2, "城关镇", 4, 1),
    unit(3, "实验小学", 8, 2),
    unit(4, "二中", 3, 0),
    unit(5, "一中", 5, 0),
    unit(None, "", 2, 2),
]


def test_the_whole_campaign_counts_everyone_and_lists_the_weakest_units_first() -> None:
    view = readiness_view(ROWS, EVERYTHING, threshold=0.8, limit=4)
    assert view is not None
    # The two people without a unit count in the share but are no unit to list.
    assert (view.people, view.ready, view.units) == (32, 14, 5)
    assert round(view.share, 4) == round(14 / 32, 4)
    # 0 % twice: the unit with more people still to get there first; then 25 %, 25 %.
    assert [u.name for u in view.lowest] == ["一中", "二中", "实验小学", "城关镇"]


def test_a_unit_leader_sees_only_the_units_they_lead() -> None:
    view = readiness_view(ROWS, TaskScope(unit_ids=frozenset({2, 3}), owner_id=7), threshold=0.8)
    assert view is not None
    assert (view.people, view.ready, view.units) == (12, 3, 2)
    assert [u.unit_id for u in view.lowest] == [3, 2]


def test_nothing_to_show_for_a_responsible_person_or_without_quiz_data() -> None:
    assert readiness_view(ROWS, TaskScope(owner_id=7), threshold=0.8) is None
    assert readiness_view([], EVERYTHING, threshold=0.8) is None
    # A unit leader whose units have nobody linked yet.
    assert readiness_view(ROWS, TaskScope(unit_ids=frozenset({99})), threshold=0.8) is None


def test_the_section_reads_share_then_units() -> None:
    view = Readiness(people=32, ready=14, threshold=0.8, units=5,
                     lowest=(unit(5, "一中", 5, 0), unit(2, "城关镇", 4, 1)))
    lines = readiness_lines(Texts.load(), "zh", view)
    assert lines == [
        "<b>📚 应知应会掌握情况</b>",
        "达标 <b>44%</b>（14/32 人，掌握度 ≥ 80%）",
        "达标率由低到高（列出 2 个，共 5 个单位）：",
        "一中：0/5（0%）",
        "城关镇：1/4（25%）",
    ]
    assert readiness_lines(Texts.load(), "en", view)[0] == "<b>📚 Readiness</b>"
    assert readiness_lines(Texts.load(), "zh", None) == []

