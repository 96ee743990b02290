"""Pure rules of the leaders' summary: counting, ranking, risks, phases, scope, bulletins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.access import Actor
from bot.core.textfit import MAX_TEXT, visible_length
from bot.reports import bulletin as bulletin_service
from bot.reports import bulletin_words
from bot.reports.charts import burndown_series, plan_line
from bot.reports.summary import (
    Aggregates,
    Counts,
    Standing,
    UnitRanking,
    assemble,
    at_risk_indicators,
    combine,
    counts_of,
    current_phase,
    days_until,
    phase_standings,
    rank_units,
    ranking_of,
    scope_for,
)
from bot.texts import Texts
from db.models import Campaign, Phase, Role, UnitKind
from db.repositories.reports import EVERYTHING, IndicatorRef, Tally, TaskScope, UnitRef
from db.repositories.reports.bulletin import DueTally

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


def test_a_summary_names_the_least_complete_units_and_bounds_the_rest() -> None:
    best_first = [Standing(i, f"单位{i}", Counts(total=10, done=10 - i)) for i in range(1, 14)]
    ranking = ranking_of(best_first, shown=10)
    assert [s.id for s in ranking.worst] == [13, 12, 11, 10, 9, 8, 7, 6, 5, 4]
    assert ranking.ranked == 13 and ranking.rest == (0.7, 0.9)  # units 3, 2, 1 not shown
    assert ranking_of(best_first[:4], shown=10) == UnitRanking(best_first[:4][::-1], 4, None)
    assert ranking_of([], shown=10) == UnitRanking([], 0, None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 2),
                          st.integers(0, 3), st.booleans()), max_size=40))
def test_units_rank_by_completion_then_overdue_then_name(rows: list[tuple[int, int, int, int, bool]]) -> None:
    """Ties everywhere (small numbers), names that sort apart from ids, units without a name."""
    tallies = [tally(i, total=done + rest + cancelled, done=done, cancelled=cancelled,
                     overdue=overdue)
               for i, (done, rest, cancelled, overdue, _) in enumerate(rows, start=1)]
    units = {i: UnitRef(i, f"单位{(i * 7919) % 97:02d}-{i}", None)
             for i, row in enumerate(rows, start=1) if row[4]}
    ranked = rank_units(tallies, units)

    def name(t: Tally) -> str:
        return units[t.key].name if t.key in units else f"#{t.key}"

    counted = [t for t in tallies if t.total - t.cancelled]
    expected = sorted(counted, key=lambda t: (-t.done / (t.total - t.cancelled), t.overdue,
                                              name(t)))
    assert [s.id for s in ranked] == [t.key for t in expected]
    assert [s.name for s in ranked] == [name(t) for t in expected]
    assert all(s.counts == counts_of(t) for s, t in zip(ranked, expected, strict=True))


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
    data = Aggregates(Counts(), UnitRanking([]), [], [], [], 0, {})
    summary = assemble(campaign, [], data, date(2026, 11, 22))
    assert summary.empty and summary.days_to_inspection == 28
    assert summary.units == UnitRanking([], 0, None)
    assert summary.risky_indicators == [] and summary.phases == []
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


def _tally(unit_id: int, name: str, kind: UnitKind, *, due: int, on_time: int,
           overdue: int = 0, veto: int = 0, late_days: int = 0, active: int = 10,
           done: int | None = None) -> DueTally:
    oldest = (datetime(2026, 11, 22, 1, tzinfo=UTC) - timedelta(days=late_days)
              if overdue else None)
    return DueTally(unit_id, name, kind, active, on_time if done is None else done, due,
                    on_time, overdue, veto, oldest)


def test_units_are_ranked_by_on_time_rate_among_their_peers() -> None:
    tallies = [
        _tally(1, "县教育局", UnitKind.DEPARTMENT, due=4, on_time=4),
        _tally(2, "县财政局", UnitKind.DEPARTMENT, due=2, on_time=1, overdue=1),
        _tally(3, "县人社局", UnitKind.DEPARTMENT, due=8, on_time=4, overdue=1),
        _tally(4, "城关镇", UnitKind.TOWNSHIP, due=3, on_time=1, overdue=2),
        _tally(5, "实验小学", UnitKind.SCHOOL, due=0, on_time=0),
        _tally(6, "县政府", UnitKind.COUNTY, due=1, on_time=1),
    ]
    groups, waiting = bulletin_service.rank_peers(tallies)
    assert list(groups) == ["department", "township", "other"]
    # 县人社局 and 县财政局 are both at 50 % with one overdue: they share second place,
    # the one with more tasks due listed first.
    assert [(r.rank, r.tally.name) for r in groups["department"]] == [
        (1, "县教育局"), (2, "县人社局"), (2, "县财政局")]
    assert [r.tally.name for r in groups["township"]] == ["城关镇"]
    assert waiting == 1  # the school has tasks, none due yet: not ranked, counted


def test_praise_and_criticism_follow_their_rules() -> None:
    rules = bulletin_service.BulletinRules(praise_min_due=3, criticise_after_days=7)
    now = datetime(2026, 11, 22, 1, tzinfo=UTC)
    tallies = [
        _tally(1, "县教育局", UnitKind.DEPARTMENT, due=4, on_time=4),
        _tally(2, "县财政局", UnitKind.DEPARTMENT, due=2, on_time=2),  # too few to praise
        _tally(3, "县残联", UnitKind.DEPARTMENT, due=5, on_time=2, overdue=3, late_days=12),
        _tally(4, "城关镇", UnitKind.TOWNSHIP, due=3, on_time=2, overdue=1, late_days=2),
        _tally(5, "石门镇", UnitKind.TOWNSHIP, due=3, on_time=2, overdue=1, veto=1,
               late_days=1),
    ]
    finished = [bulletin_service.FinishedPhase("城关镇", "自查自评")]
    praised, criticised = bulletin_service.praise_and_criticism(
        tallies, finished, now, SHANGHAI, rules)
    assert [(n.unit, [r.text_id for r in n.reasons]) for n in praised] == [
        ("县教育局", ["reports.bulletin_praise_on_time"]),
        ("城关镇", ["reports.bulletin_praise_phase"]),
    ]
    assert [(n.unit, n.reasons) for n in criticised] == [
        ("县残联", (bulletin_service.Reason("reports.bulletin_criticise_late",
                                            {"count": 3, "days": 12}),)),
        ("石门镇", (bulletin_service.Reason("reports.bulletin_criticise_veto", {"count": 1}),)),
    ]  # 城关镇 is two days late: not yet criticised


def test_a_long_bulletin_goes_out_in_parts_within_telegram_limits() -> None:
    texts = Texts.load()
    names = [f"很长名字的第{i}所学校" * 8 for i in range(60)]
    groups, _ = bulletin_service.rank_peers([
        _tally(i, name, UnitKind.SCHOOL, due=5, on_time=i % 6, overdue=5 - i % 6)
        for i, name in enumerate(names)])
    from db.models import TaskStatus
    from db.repositories.reports import TaskLine

    late = [TaskLine(i, "逾期任务" * 60, 1, "单位", "张三", datetime(2026, 11, 1, tzinfo=UTC),
                     TaskStatus.TODO, 0, None, False) for i in range(15)]
    bulletin = bulletin_service.Bulletin(
        campaign_id=1, campaign_name="迎检", issue=3, since=datetime(2026, 11, 15, tzinfo=UTC),
        until=datetime(2026, 11, 22, tzinfo=UTC), days_to_inspection=28,
        overall=Counts(300, 100, overdue=40), due=300, on_time=90, current_phase="整改",
        next_phase=None, current_phase_ends=None, vetoes=[], veto_tasks=[], veto_total=0,
        groups=groups, not_due=0, praised=[], criticised=[
            bulletin_service.Named(n, (bulletin_service.Reason(
                "reports.bulletin_criticise_late", {"count": 3, "days": 9}),)) for n in names],
        late=late, late_total=40, late_units=30, upcoming=0,
    )
    text = bulletin_words.render_bulletin(texts, "zh", bulletin, SHANGHAI, "青岚县迎检办")
    parts = bulletin_words.chat_parts(text)
    assert len(parts) > 1 and all(visible_length(p) <= MAX_TEXT for p in parts)
    assert "第 3 期" in parts[0] and "青岚县迎检办" in parts[0]
    # A large group shows its best and last five in chat; the DOCX lists all of them.
    assert "中间 50 个单位略" in text
    assert "另有 40 个单位，详见通报附件" in text


