"""/ask ranking over a small corpus, and the readiness rankings (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.quiz.readiness import PersonReadiness, by_unit, rank_people, week_start
from bot.quiz.search import Doc, KnowledgeIndex
from db.models import Unit

DOCS = [
    Doc("indicator", "JH", "均衡发展认定", "", "均衡发展认定 校际差异系数、满意度和认定程序"),
    Doc("question", "q131", "小学差异系数的评估标准是？", "小于或等于0.65",
        "小学差异系数的评估标准是？ 小于或等于0.65 校际均衡"),
    Doc("question", "q132", "初中差异系数的评估标准是？", "小于或等于0.55",
        "初中差异系数的评估标准是？ 小于或等于0.55"),
    Doc("question", "q134", "公众满意度的评估标准是？", "85%以上", "公众满意度的评估标准是？ 85%以上"),
    Doc("question", "q150", "档案建设要抓好哪两点？", "真实性和准确性", "档案建设 真实性 准确性 弄虚作假"),
]


def test_best_matches_first_and_nothing_for_unrelated_words() -> None:
    index = KnowledgeIndex(DOCS)
    hits = index.search("初中差异系数")
    assert hits[0].doc.ref == "q132"
    assert {h.doc.ref for h in hits[:3]} == {"q131", "q132", "JH"}
    assert index.search("满意度")[0].doc.ref in {"q134", "JH"}
    assert index.search("牛肉面") == []
    assert index.search("") == []


def test_segmentation_finds_words_inside_longer_text() -> None:
    # 档案 is indexed from 档案建设; 弄虚作假 only appears in the body.
    index = KnowledgeIndex(DOCS)
    assert index.search("档案")[0].doc.ref == "q150"
    assert index.search("会不会弄虚作假")[0].doc.ref == "q150"


def test_a_near_miss_word_still_finds_its_document() -> None:
    index = KnowledgeIndex(DOCS)
    # 差异係数 (a traditional character): no exact word, the closest indexed one is used.
    assert index.search("差异係数")[0].doc.ref in {"q131", "q132", "JH"}


def _person(pid: int, unit: int | None, mastery: float, points: float, correct: int = 0
            ) -> PersonReadiness:
    return PersonReadiness(pid, f"人{pid}", unit, mastery, points, correct, correct)


def test_people_rank_by_week_points_or_by_mastery() -> None:
    rows = [_person(1, 1, 0.9, 3), _person(2, 1, 0.2, 8), _person(3, 2, 0.5, 8, correct=9)]
    assert [r.person_id for r in rank_people(rows, weekly=True)] == [3, 2, 1]
    assert [r.person_id for r in rank_people(rows, weekly=False)] == [1, 3, 2]


def test_units_report_the_share_of_ready_people() -> None:
    units = [Unit(id=1, name="县教育局"), Unit(id=2, name="城关镇")]
    rows = [_person(1, 1, 0.9, 3), _person(2, 1, 0.2, 8), _person(3, 2, 0.85, 1),
            _person(4, 2, 0.81, 1)]
    overall = by_unit(rows, units, threshold=0.8, weekly=False)
    assert [(u.name, u.ready, u.people) for u in overall] == [("城关镇", 2, 2), ("县教育局", 1, 2)]
    assert overall[1].share_ready == 0.5
    weekly = by_unit(rows, units, threshold=0.8, weekly=True)
    assert weekly[0].name == "县教育局" and weekly[0].week_points == 5.5


def test_the_week_starts_on_monday_in_local_time() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    # Sunday 22 Nov 2026, 01:00 UTC = 09:00 in Beijing → the week began Monday 16 Nov.
    start = week_start(datetime(2026, 11, 22, 1, 0, tzinfo=UTC), zone)
    assert start == datetime(2026, 11, 16, 0, 0, tzinfo=zone)
