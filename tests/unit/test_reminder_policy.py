"""The reminder rules on an injected clock: time zones, DST, quiet hours, changes, snoozes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import RemindersConfig
from bot.core.clock import FrozenClock
from bot.reminders.policy import (
    Offset,
    Policy,
    QuietHours,
    Recipient,
    TaskFacts,
    clock_changes,
    countdown,
    daily,
    derive,
    due_now,
    first_look,
    lead,
    next_time,
    parse_clock,
    parse_window,
    plan_task,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
POLICY = Policy.from_config(RemindersConfig())
OWNER = Recipient(chat_id=501, person_id=1)
LEADER = Recipient(chat_id=502, person_id=2)
GROUP = Recipient(chat_id=-100)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0,
          minute: int = 0) -> datetime:
    """A wall-clock time in `zone`."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def facts(due: datetime | None, zone: ZoneInfo = SHANGHAI, **kw: object) -> TaskFacts:
    return TaskFacts(task_id=7, due_at=due, is_open=bool(kw.pop("is_open", True)), zone=zone,
                     owner=OWNER, escalate_to=(LEADER, GROUP), **kw)  # type: ignore[arg-type]


def kinds_at(plan: list[Any], zone: ZoneInfo) -> list[tuple[str, str]]:
    return [(p.kind, p.at.astimezone(zone).strftime("%m-%d %H:%M")) for p in plan]


def test_default_offsets_in_shanghai_without_dst() -> None:
    due = local(SHANGHAI, 2026, 12, 1, 17, 30)
    clock = FrozenClock(local(SHANGHAI, 2026, 11, 22, 9, 0))
    plan = plan_task(facts(due), POLICY, clock.now())
    assert kinds_at(plan, SHANGHAI)[:4] == [
        ("before:3d", "11-28 17:30"), ("before:1d", "11-30 17:30"),
        ("before:2h", "12-01 15:30"), ("due", "12-01 17:30"),
    ]
    assert all(p.at.tzinfo is not None for p in plan)
    assert next_time(plan, clock.now()) == local(SHANGHAI, 2026, 11, 28, 17, 30)


def test_days_before_keep_the_wall_clock_across_the_spring_dst_change() -> None:
    # Berlin moves clocks forward on 2026-03-29: three days before Monday 09:00 is still
    # Friday 09:00 local, which is 71 hours earlier, not 72.
    due = local(BERLIN, 2026, 3, 30, 9, 0)
    plan = plan_task(facts(due, BERLIN), POLICY, local(BERLIN, 2026, 3, 20, 9, 0))
    three = next(p for p in plan if p.kind == "before:3d")
    assert three.at.astimezone(BERLIN).strftime("%m-%d %H:%M") == "03-27 09:00"
    assert due - three.at == timedelta(hours=71)
    two_hours = next(p for p in plan if p.kind == "before:2h")
    assert due - two_hours.nominal == timedelta(hours=2)  # 07:00, sent at 07:30 (quiet hours)
    assert two_hours.at.astimezone(BERLIN).strftime("%H:%M") == "07:30"


def test_quiet_hours_end_at_local_time_on_the_autumn_dst_night() -> None:
    # New York falls back on 2026-11-01 at 02:00; a 01:30 (EDT) reminder waits until 07:30 EST.
    quiet = QuietHours(time(22, 0), time(7, 30))
    at = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    deferred = quiet.defer(at, NEW_YORK)
    assert deferred.astimezone(NEW_YORK).strftime("%m-%d %H:%M %Z") == "11-01 07:30 EST"
    assert deferred - at == timedelta(hours=7)


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        ((2026, 11, 22, 23, 0), "11-23 07:30"),  # before midnight: next morning
        ((2026, 11, 23, 6, 0), "11-23 07:30"),   # after midnight: same morning
        ((2026, 11, 23, 7, 30), "11-23 07:30"),  # the window's end is outside it
        ((2026, 11, 23, 21, 59), "11-23 21:59"),
    ],
)
def test_quiet_hours_defer_to_the_end_of_the_window(
    local_time: tuple[int, ...], expected: str
) -> None:
    at = local(SHANGHAI, *local_time)
    deferred = QuietHours(time(22, 0), time(7, 30)).defer(at, SHANGHAI)
    assert deferred.astimezone(SHANGHAI).strftime("%m-%d %H:%M") == expected


def test_a_person_with_own_quiet_hours_and_one_without_any() -> None:
    due = local(SHANGHAI, 2026, 12, 1, 8, 0)  # "2 hours before" falls at 06:00
    late_riser = Recipient(501, 1, QuietHours(time(23, 0), time(9, 0)))
    no_quiet = Recipient(501, 1, QuietHours(time(0, 0), time(0, 0)))
    now = local(SHANGHAI, 2026, 11, 22, 9, 0)
    own = plan_task(TaskFacts(7, due, True, SHANGHAI, owner=late_riser), POLICY, now)
    none = plan_task(TaskFacts(7, due, True, SHANGHAI, owner=no_quiet), POLICY, now)
    assert dict(kinds_at(own, SHANGHAI))["before:2h"] == "12-01 09:00"
    assert dict(kinds_at(none, SHANGHAI))["before:2h"] == "12-01 06:00"
    # The identity does not move with the deferral: changing quiet hours sends no duplicate.
    assert {p.key for p in own} == {p.key for p in none}


def test_moving_the_deadline_changes_every_key_and_time() -> None:
    now = local(SHANGHAI, 2026, 11, 22, 9, 0)
    before = plan_task(facts(local(SHANGHAI, 2026, 12, 1, 17, 30)), POLICY, now)
    after = plan_task(facts(local(SHANGHAI, 2026, 12, 5, 17, 30)), POLICY, now)
    assert not {p.key for p in before} & {p.key for p in after}
    assert next_time(after, now) == local(SHANGHAI, 2026, 12, 2, 17, 30)


def test_a_finished_task_has_no_reminders() -> None:
    now = local(SHANGHAI, 2026, 11, 30, 17, 29)
    assert plan_task(facts(local(SHANGHAI, 2026, 12, 1, 17, 30), is_open=False), POLICY, now) == []
    assert plan_task(facts(None), POLICY, now) == []


def test_only_the_latest_missed_reminder_is_sent_and_marked_late() -> None:
    due = local(SHANGHAI, 2026, 12, 1, 17, 30)
    f = facts(due, created_at=local(SHANGHAI, 2026, 11, 1, 9, 0))
    # Down from before the 3-day reminder until after the 1-day one.
    now = local(SHANGHAI, 2026, 11, 30, 20, 0)
    sent = due_now(plan_task(f, POLICY, now), POLICY, now, f.created_at)
    assert [(p.kind, p.late) for p in sent] == [("before:1d", True)]
    # On time: not late.
    on_time = local(SHANGHAI, 2026, 11, 30, 17, 31)
    sent = due_now(plan_task(f, POLICY, on_time), POLICY, on_time, f.created_at)
    assert [(p.kind, p.late) for p in sent] == [("before:1d", False)]


def test_overdue_daily_then_escalation_to_the_leader_and_the_group() -> None:
    due = local(SHANGHAI, 2026, 12, 1, 17, 30)
    now = local(SHANGHAI, 2026, 12, 4, 9, 0)  # three days overdue at 09:00
    plan = plan_task(facts(due), POLICY, now)
    sent = due_now(plan, POLICY, now)
    assert sorted((p.kind, p.recipient.tag) for p in sent) == [
        ("escalate", "c-100"), ("escalate", "p2"), ("overdue:3", "p1"),
    ]
    assert all(p.days_overdue == 3 for p in sent)
    assert next_time(plan, now) == local(SHANGHAI, 2026, 12, 5, 9, 0)


def test_snooze_holds_reminders_until_its_time() -> None:
    due = local(SHANGHAI, 2026, 12, 1, 17, 30)
    set_at = local(SHANGHAI, 2026, 12, 1, 15, 31)
    until = set_at + timedelta(hours=2, minutes=30)
    plan = plan_task(facts(due, snoozed=(set_at, until)), POLICY, set_at)
    assert "due" not in [p.kind for p in plan]  # 17:30 falls inside the snooze
    assert due_now(plan, POLICY, until - timedelta(minutes=1))[0].kind == "before:2h"
    assert [p.kind for p in due_now(plan, POLICY, until)] == ["snooze"]


def test_campaign_policy_overrides_are_checked() -> None:
    policy = Policy.from_config(RemindersConfig(), {"offsets": ["5d"], "escalate_after_days": 0})
    plan = plan_task(facts(local(SHANGHAI, 2026, 12, 10, 17, 30)), policy,
                     local(SHANGHAI, 2026, 11, 22, 9, 0))
    assert [p.kind for p in plan] == ["before:5d", "due"]
    with pytest.raises(ValueError, match="unknown"):
        Policy.from_config(RemindersConfig(), {"bogus": 1})


def test_daily_digest_today_and_next_time() -> None:
    quiet = POLICY.quiet
    now = local(SHANGHAI, 2026, 11, 22, 8, 5)
    due, upcoming = daily("digest:1", time(8, 0), quiet, SHANGHAI, now, POLICY)
    assert [o.key for o in due] == ["digest:1:2026-11-22"] and not due[0].late
    assert upcoming == local(SHANGHAI, 2026, 11, 23, 8, 0)
    # Restarted at noon: still sent today (late); the next evening it is not.
    due, _ = daily("digest:1", time(8, 0), quiet, SHANGHAI, now + timedelta(hours=4), POLICY)
    assert due[0].late
    due, _ = daily("digest:1", time(8, 0), quiet, SHANGHAI, now + timedelta(hours=13), POLICY)
    assert due == []


def test_countdown_milestones_and_phase_days() -> None:
    inspection = date(2026, 12, 20)
    phases = [(3, "整改", date(2026, 11, 20), date(2026, 12, 6))]
    now = local(SHANGHAI, 2026, 12, 6, 9, 1)
    due, upcoming = countdown(inspection, phases, POLICY, SHANGHAI, now, "cd:1")
    assert [(o.key, o.days) for o in due] == [("cd:1:14d", 14), ("cd:1:phase3:end", 0)]
    assert upcoming == local(SHANGHAI, 2026, 12, 13, 9, 0)


def test_offset_parsing_and_clock_input() -> None:
    assert Offset("30m").before(local(SHANGHAI, 2026, 1, 1, 9, 0), SHANGHAI) == local(
        SHANGHAI, 2026, 1, 1, 8, 30)
    assert parse_clock("7:30") == time(7, 30) and parse_clock("0730") == time(7, 30)
    assert parse_window("22:00-07:30") == (time(22, 0), time(7, 30))
    assert parse_window("23：00至6：30") == (time(23, 0), time(6, 30))
    for bad in ("25:00", "abc", "7"):
        with pytest.raises(ValueError):
            parse_clock(bad)


ZONES = st.sampled_from([SHANGHAI, BERLIN, NEW_YORK, ZoneInfo("Australia/Lord_Howe")])
CLOCK = st.builds(time, st.integers(0, 23), st.sampled_from([0, 1, 29, 30, 59]))
QUIET = st.one_of(st.none(), st.builds(QuietHours, CLOCK, CLOCK))


@st.composite
def _cases(draw: st.DrawFn) -> tuple[TaskFacts, Policy, datetime]:
    zone = draw(ZONES)
    overrides = {
        "offsets": draw(st.lists(st.sampled_from(["3d", "1d", "2h", "30m", "7d"]), max_size=3,
                                 unique=True)),
        "on_deadline": draw(st.booleans()),
        "overdue_time": draw(CLOCK).isoformat(),
        "escalate_after_days": draw(st.integers(0, 6)),
        "quiet_start": draw(CLOCK).isoformat(),
        "quiet_end": draw(CLOCK).isoformat(),
    }
    policy = Policy.from_config(RemindersConfig(), overrides)
    due = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
        minutes=draw(st.integers(0, 365 * 24 * 60)))
    now = due + timedelta(minutes=draw(st.integers(-20 * 24 * 60, 60 * 24 * 60)))
    owner = draw(st.one_of(st.none(), st.builds(Recipient, st.just(501), st.just(1), QUIET)))
    escalate = tuple(draw(st.lists(st.sampled_from([
        Recipient(502, 2), Recipient(502, 2, QuietHours(time(23, 0), time(9, 0))), GROUP,
    ]), max_size=2, unique_by=lambda r: r.tag)))
    created = draw(st.one_of(st.none(), st.just(due - timedelta(days=30)),
                             st.just(now - timedelta(minutes=draw(st.integers(0, 3000))))))
    snoozed = None
    if draw(st.booleans()) and draw(st.booleans()):
        snoozed = (now - timedelta(hours=1), now + timedelta(hours=draw(st.integers(-2, 20))))
    facts = TaskFacts(task_id=7, due_at=due, is_open=True, zone=zone, created_at=created,
                      owner=owner, escalate_to=escalate, snoozed=snoozed)
    return facts, policy, now


@settings(max_examples=400, deadline=None)
@given(_cases())
def test_derive_is_the_whole_plan_without_its_superseded_days(
    case: tuple[TaskFacts, Policy, datetime],
) -> None:
    facts, policy, now = case
    plan = plan_task(facts, policy, now)
    derived = derive(facts, policy, now)
    expected = due_now(plan, policy, now, facts.created_at)
    assert [(p.key, p.at, p.late, p.days_overdue) for p in derived.due] == [
        (p.key, p.at, p.late, p.days_overdue) for p in expected]
    assert derived.next_at == next_time(plan, now)


@settings(max_examples=400, deadline=None)
@given(_cases())
def test_no_reminder_of_an_unsnoozed_task_comes_before_its_first_look(
    case: tuple[TaskFacts, Policy, datetime],
) -> None:
    facts, policy, now = case
    facts = replace(facts, snoozed=None)
    assert facts.due_at is not None
    start = first_look(facts.due_at, facts.zone, policy)
    # From any instant, whoever the recipients and their quiet hours: nothing planned is
    # sent before it, so a cursor made there misses nothing.
    assert all(p.at >= start for p in plan_task(facts, policy, now))
    # And it is not needlessly early: the earliest "before" offset, else the deadline.
    earliest = min([facts.due_at, *(o.before(facts.due_at, facts.zone) for o in policy.offsets)])
    assert start == earliest


def test_first_look_is_the_earliest_offset_or_the_deadline() -> None:
    due = local(SHANGHAI, 2026, 12, 1, 17, 30)
    assert first_look(due, SHANGHAI, POLICY) == local(SHANGHAI, 2026, 11, 28, 17, 30)
    bare = Policy.from_config(RemindersConfig(), {"offsets": []})
    assert first_look(due, SHANGHAI, bare) == due
    # "3d" keeps the wall-clock time across the spring DST change: 23 hours fewer.
    ny_due = local(NEW_YORK, 2026, 3, 10, 9, 0)
    assert first_look(ny_due, NEW_YORK, POLICY) == local(NEW_YORK, 2026, 3, 7, 9, 0)


@settings(max_examples=400, deadline=None)
@given(_cases())
def test_a_deadline_less_the_lead_is_never_after_the_first_look(
    case: tuple[TaskFacts, Policy, datetime],
) -> None:
    """The database places a new cursor at the deadline less `lead`: never after the
    first reminder, and at it where the clocks do not change."""
    facts, policy, now = case
    assert facts.due_at is not None
    start = facts.due_at - lead(policy, facts.zone, now.year)
    exact = first_look(facts.due_at, facts.zone, policy)
    assert start <= exact
    assert exact - start <= 2 * clock_changes(facts.zone, now.year)
    if clock_changes(facts.zone, now.year) == timedelta(0):
        assert start == exact


def test_lead_is_the_longest_offset_and_a_change_of_clocks() -> None:
    assert lead(POLICY, SHANGHAI, 2026) == timedelta(days=3)
    assert lead(POLICY, NEW_YORK, 2026) == timedelta(days=3, hours=1)
    hours = Policy.from_config(RemindersConfig(), {"offsets": ["2h", "30m"]})
    assert lead(hours, NEW_YORK, 2026) == timedelta(hours=2)  # absolute: no change counts
    assert lead(Policy.from_config(RemindersConfig(), {"offsets": []}), BERLIN, 2026) == \
        timedelta(0)
    assert clock_changes(ZoneInfo("Australia/Lord_Howe"), 2026) == timedelta(minutes=30)


def test_derive_a_month_overdue_sends_only_today_and_knows_tomorrow() -> None:
    due = local(SHANGHAI, 2026, 10, 23, 17, 30)
    now = local(SHANGHAI, 2026, 11, 23, 9, 0)
    derived = derive(facts(due, created_at=local(SHANGHAI, 2026, 10, 1)), POLICY, now)
    assert [(p.kind, p.recipient.tag, p.late) for p in derived.due] == [
        ("escalate", "c-100", True), ("escalate", "p2", True), ("overdue:31", "p1", False)]
    assert derived.next_at == local(SHANGHAI, 2026, 11, 24, 9, 0)
    assert derive(facts(due, is_open=False), POLICY, now) == derive(facts(None), POLICY, now)
