"""Pure rules of the leaders' summary: counting, ranking, risks, phases, scope, bulletins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.access import Actor
from bot.reports import bulletin as bulletin_service
from bot.reports.charts import burndown_series, plan_line
from bot.reports.summary import (
    Aggregates,
    Counts,
    assemble,
    at_risk_indicators,
    combine,
    current_phase,
    days_until,
    phase_standings,
    rank_units,
    scope_for,
)
from bot.texts import Texts
from db.models import Campaign, Phase, Role
from db.repositories.reports import EVERYTHING, IndicatorRef, Tally, TaskScope, UnitRef

SHANGHAI = ZoneInfo("Asia/Shanghai")


def tally(key: int | None, total: int = 0, done: int = 0, cancelled: int = 0, blocked: int = 0,
          overdue: int = 0, undated: int = 0, progress: int = 0) -> Tally:
    return Tally(key, total, done, cancelled, blocked, overdue, undated, progress)


def actor(role: Role, led: frozenset[int] = frozenset()) -> Actor:
    return Actor(person_id=5, name="王五", role=role, language="zh", unit_id=1, telegram_id=9,
                 led_unit_ids=led)


def test_counts_ignore_cancelled_tasks_and_have_no_rate_without_work() -> None:
    c = Counts(total=10, done=3, cancelled=4, progress_sum=450)
    assert c.active == 6 and c.open == 3
    assert c.completion == pytest.approx(0.5)
    assert c.mean_progress == pytest.approx(75)
    assert Counts(total=2, cancelled=2).completion is None
    assert Counts().completion is None and Counts().mean_progress is None


def test_combine_adds_every_field() -> None:
    total = combine([tally(1, 4, 2, 1, 1, 1, 0, 250), tally(2, 3, 1, 0, 0, 2, 1, 130)])
    assert total == Counts(7, 3, 1, 1, 3, 1, 380)


def test_ranking_best_first_ties_by_overdue_then_name_and_skips_units_without_work() -> None:
    units = {i: UnitRef(i, name, None) for i, name in
             [(1, "甲镇"), (2, "乙镇"), (3, "丙镇"), (4, "丁镇"), (5, "戊镇")]}
    ranked = rank_units(
        [
            tally(1, total=4, done=2, overdue=1),
            tally(2, total=4, done=2, overdue=0),
            tally(3, total=2, done=2),
            tally(4, total=2, cancelled=2),  # nothing left to do: no rate, not ranked
            tally(None, total=3),  # no unit (cannot happen in the schema): ignored
        ],
        units,
    )
    assert [s.name for s in ranked] == ["丙镇", "乙镇", "甲镇"]
    # Unit 5 has no tasks at all and therefore no row: it is simply absent.
    assert all(s.id != 5 for s in ranked)


def test_risky_indicators_are_veto_ones_with_late_or_blocked_tasks() -> None:
    refs = {
        1: IndicatorRef(1, "FJ-1", "控辍保学", True),
        2: IndicatorRef(2, "FJ-2", "残疾儿童入学", True),
        3: IndicatorRef(3, "B-1", "图书", False),
    }
    risky = at_risk_indicators(
        [tally(1, 5, overdue=1), tally(2, 5, blocked=1, overdue=2), tally(3, 5, overdue=4),
         tally(None, 2, overdue=2)],
        refs,
    )
    assert [(s.code, s.counts.overdue + s.counts.blocked) for s in risky] == [("FJ-2", 3),
                                                                             ("FJ-1", 1)]
    assert at_risk_indicators([tally(1, 5, done=5)], refs) == []


def _phase(pid: int, name: str, position: int, start: date | None, end: date | None) -> Phase:
    return Phase(id=pid, campaign_id=1, name=name, position=position, starts_on=start,
                 ends_on=end)


def test_current_phase_is_the_one_containing_today_else_the_latest_begun() -> None:
    phases = [
        _phase(1, "自查", 1, date(2026, 9, 1), date(2026, 9, 30)),
        _phase(2, "整改", 2, date(2026, 10, 1), date(2026, 11, 15)),
        _phase(3, "迎检", 3, date(2026, 12, 15), date(2026, 12, 20)),
    ]
    assert current_phase(phases, date(2026, 10, 2)).name == "整改"  # type: ignore[union-attr]
    # Between phases: the latest that has begun.
    assert current_phase(phases, date(2026, 11, 30)).name == "整改"  # type: ignore[union-attr]
    assert current_phase(phases, date(2026, 8, 1)) is None
    assert current_phase([_phase(1, "无日期", 1, None, None)], date(2026, 8, 1)) is None


def test_phase_standings_keep_campaign_order_and_add_unphased_tasks_last() -> None:
    phases = [_phase(1, "自查", 1, None, None), _phase(2, "整改", 2, None, None)]
    standings = phase_standings([tally(2, 3, 1), tally(None, 2)], phases)
    assert [(s.id, s.counts.total) for s in standings] == [(1, 0), (2, 3), (None, 2)]
    assert [s.id for s in phase_standings([tally(1, 1)], phases)] == [1, 2]


def test_days_until() -> None:
    assert days_until(date(2026, 12, 20), date(2026, 11, 22)) == 28
    assert days_until(date(2026, 11, 20), date(2026, 11, 22)) == -2
    assert days_until(None, date(2026, 11, 22)) is None


@pytest.mark.parametrize(
    ("role", "led", "expected"),
    [
        (Role.ADMIN, frozenset(), EVERYTHING),
        (Role.LEADER, frozenset({3}), EVERYTHING),
        (Role.RESPONSIBLE, frozenset({3, 4}), TaskScope(unit_ids=frozenset({3, 4}), owner_id=5)),
        (Role.RESPONSIBLE, frozenset(), TaskScope(owner_id=5)),
        (Role.STAFF, frozenset(), TaskScope(owner_id=5)),
    ],
)
def test_scope_per_role(role: Role, led: frozenset[int], expected: TaskScope) -> None:
    assert scope_for(actor(role, led)) == expected


def test_assemble_an_empty_campaign() -> None:
    campaign = Campaign(id=1, name="迎检", inspection_date=date(2026, 12, 20))
    data = Aggregates([], [], [], [], 0, {}, {})
    summary = assemble(campaign, [], data, date(2026, 11, 22))
    assert summary.empty and summary.days_to_inspection == 28
    assert summary.units == [] and summary.risky_indicators == [] and summary.phases == []
    assert summary.overall.completion is None


def test_burndown_series_accumulates_changes_day_by_day() -> None:
    d = date(2026, 11, 1)
    series = burndown_series({d: 5, d + timedelta(days=2): -2, d + timedelta(days=3): 1},
                             d + timedelta(days=4))
    assert series == [(d, 5), (d + timedelta(days=1), 5), (d + timedelta(days=2), 3),
                      (d + timedelta(days=3), 4), (d + timedelta(days=4), 4)]
    assert burndown_series({}, d) == []


def test_plan_line_runs_from_the_peak_to_zero_on_the_inspection_day() -> None:
    d = date(2026, 11, 1)
    series = [(d, 3), (d + timedelta(days=1), 8), (d + timedelta(days=2), 6)]
    assert plan_line(series, date(2026, 12, 20)) == [(d + timedelta(days=1), 8),
                                                      (date(2026, 12, 20), 0)]
    assert plan_line(series, None) == []
    assert plan_line(series, d) == []  # inspection before the peak: no plan to draw


def test_scheduled_key_names_the_local_iso_week() -> None:
    # Sunday 23:30 UTC is already Monday in Beijing: the new week's key.
    at = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert bulletin_service.scheduled_key(3, at, SHANGHAI) == "bulletin:3:2026-W48"
    assert bulletin_service.scheduled_key(3, at - timedelta(hours=8), SHANGHAI) == (
        "bulletin:3:2026-W47"
    )


def test_a_long_bulletin_is_cut_at_a_line_within_telegram_limits() -> None:
    texts = Texts.load()
    ranked = []
    from bot.reports.summary import Standing

    for i in range(20):
        ranked.append(Standing(i, f"很长名字的单位{i}" * 6, Counts(10, 5)))
    late = []
    from db.models import TaskStatus
    from db.repositories.reports import TaskLine

    for i in range(15):
        late.append(TaskLine(i, "逾期任务" * 40, 1, "单位", "张三", datetime(2026, 11, 1, tzinfo=UTC),
                             TaskStatus.TODO, 0, None, False))
    bulletin = bulletin_service.Bulletin(
        1, "迎检", datetime(2026, 11, 15, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC), 28,
        Counts(200, 100), ranked, late, 40, [],
    )
    text = bulletin_service.render_bulletin(texts, "zh", bulletin, SHANGHAI)
    assert len(text) <= bulletin_service.MESSAGE_LIMIT
    assert text.endswith(texts.get("zh", "reports.bulletin_cut"))
    assert "1. 很长名字的单位0" in text
