"""Pure rules: given a task (or a person, a campaign), the policy and now → what is due.

Everything here is a function of its arguments; no database, no clock. Every instant is
aware; local times are resolved in the campaign's zone, so "3 days before" keeps the
wall-clock time across a daylight-saving change and quiet hours end at the local end.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import RemindersConfig
from bot.core.parsing import ascii_int, fold

# A digest or countdown notice is worth sending this long after its time, not later.
SAME_DAY = timedelta(hours=12)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a local wall-clock time names (a time skipped by DST resolves forward)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Offset:
    """"3d" = same wall-clock time three local days earlier; "2h"/"30m" = absolute."""

    label: str

    def before(self, due: datetime, zone: ZoneInfo) -> datetime:
        if self.in_days:
            local = due.astimezone(zone)
            return local_instant(local.date() - self.nominal, local.time(), zone)
        return due - self.nominal

    @cached_property
    def in_days(self) -> bool:
        return self.label[-1] == "d"

    @cached_property
    def nominal(self) -> timedelta:
        """Its length as written ("3d": 72 hours; a change of clocks moves a day's)."""
        number, unit = int(self.label[:-1]), self.label[-1]
        return timedelta(**{{"d": "days", "h": "hours"}.get(unit, "minutes"): number})


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def defer(self, at: datetime, zone: ZoneInfo) -> datetime:
        """`at`, or the end of the quiet window it falls in."""
        if self.start == self.end:
            return at
        local = at.astimezone(zone)
        t = local.time().replace(tzinfo=None)
        if self.start < self.end:
            if not self.start <= t < self.end:
                return at
            end_day = local.date()
        else:  # the window wraps midnight (22:00–07:30)
            if self.end <= t < self.start:
                return at
            end_day = local.date() + timedelta(days=1) if t >= self.start else local.date()
        return max(at, local_instant(end_day, self.end, zone))


@dataclass(frozen=True)
class Policy:
    offsets: tuple[Offset, ...]
    on_deadline: bool
    overdue_time: time
    escalate_after_days: int
    quiet: QuietHours
    digest_time: time
    leaders_digest_time: time
    countdown_days: tuple[int, ...]
    countdown_time: time
    morning: time
    late_after: timedelta

    @classmethod
    def from_config(cls, config: RemindersConfig, overrides: Mapping[str, Any] | None = None) -> Policy:
        """The config's `[reminders]` policy, with a campaign's own keys laid over it."""
        if overrides:
            allowed = set(RemindersConfig.model_fields) - {"delivery", "enabled", "sweep_seconds"}
            unknown = set(overrides) - allowed
            if unknown:
                raise ValueError(f"unknown reminder policy keys: {', '.join(sorted(unknown))}")
            config = RemindersConfig.model_validate({**config.model_dump(), **overrides})
        return cls(
            offsets=tuple(Offset(label) for label in config.offsets),
            on_deadline=config.on_deadline,
            overdue_time=config.overdue_time,
            escalate_after_days=config.escalate_after_days,
            quiet=QuietHours(config.quiet_start, config.quiet_end),
            digest_time=config.digest_time,
            leaders_digest_time=config.leaders_digest_time,
            countdown_days=tuple(sorted(set(config.countdown_days), reverse=True)),
            countdown_time=config.countdown_time,
            morning=config.morning,
            late_after=timedelta(minutes=config.late_after_minutes),
        )

    @classmethod
    def from_json(cls, config: RemindersConfig, overrides: str | None) -> Policy:
        return cls.from_config(config, json.loads(overrides) if overrides else None)

    def __hash__(self) -> int:
        # A policy is part of the key of the times every task of a sweep shares: hash its
        # eleven fields once, not once a task.
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(tuple(getattr(self, f.name) for f in fields(self)))
            object.__setattr__(self, "_hash", cached)
        return cached

    def quiet_for(self, start: time | None, end: time | None) -> QuietHours:
        """A person's own quiet hours when they set both ends, else the global ones."""
        if start is None or end is None:
            return self.quiet
        return QuietHours(start, end)


@dataclass(frozen=True)
class Recipient:
    """A person (`person_id`) or a chat without one (the leading group's chat)."""

    chat_id: int
    person_id: int | None = None
    quiet: QuietHours | None = None

    @property
    def tag(self) -> str:
        return f"p{self.person_id}" if self.person_id is not None else f"c{self.chat_id}"


@dataclass(frozen=True)
class TaskFacts:
    task_id: int
    due_at: datetime | None
    is_open: bool
    zone: ZoneInfo
    created_at: datetime | None = None
    owner: Recipient | None = None
    # Escalation goes to these: the unit's leader and the leading group's chat.
    escalate_to: tuple[Recipient, ...] = ()
    snoozed: tuple[datetime, datetime] | None = None  # (set_at, until) by the owner


@dataclass(frozen=True)
class Planned:
    """One reminder: its identity (task, kind, nominal instant, recipient) and send time."""

    task_id: int
    kind: str  # before:3d | due | overdue:<n> | snooze | escalate
    nominal: datetime
    at: datetime
    recipient: Recipient
    days_overdue: int = 0
    late: bool = field(default=False, compare=False)

    @property
    def family(self) -> str:
        return "owner" if self.kind != "escalate" else f"escalate:{self.recipient.tag}"

    @property
    def key(self) -> str:
        # Asked for several times per reminder in a sweep; kept on first use (the fields are
        # frozen, so it cannot go stale).
        key: str | None = self.__dict__.get("_key")
        if key is None:
            key = f"rem:{self.task_id}:{self.kind}:{_stamp(self.nominal)}:{self.recipient.tag}"
            object.__setattr__(self, "_key", key)
        return key


@lru_cache(maxsize=8192)
def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def _deferred(at: datetime, recipient: Recipient, policy: Policy, zone: ZoneInfo) -> datetime:
    return (recipient.quiet or policy.quiet).defer(at, zone)


def plan_task(facts: TaskFacts, policy: Policy, now: datetime) -> list[Planned]:
    """Every reminder of the task up to a day past `now` (daily overdue ones are endless)."""
    if not facts.is_open or facts.due_at is None:
        return []
    due, zone = facts.due_at, facts.zone
    planned: list[Planned] = []
    owner = facts.owner
    if owner is not None:
        nominal: list[tuple[str, datetime, int]] = [
            (f"before:{o.label}", o.before(due, zone), 0) for o in policy.offsets
        ]
        if policy.on_deadline:
            nominal.append(("due", due, 0))
        due_day = due.astimezone(zone).date()
        horizon = now + timedelta(days=1)
        day = 1
        while (at := local_instant(due_day + timedelta(days=day), policy.overdue_time, zone)) <= horizon:
            nominal.append((f"overdue:{day}", at, day))
            day += 1
        for kind, at, days in nominal:
            planned.append(
                Planned(facts.task_id, kind, at, _deferred(at, owner, policy, zone), owner, days)
            )
        if facts.snoozed is not None:
            set_at, until = facts.snoozed
            planned = [p for p in planned if not set_at <= p.at < until]
            planned.append(
                Planned(facts.task_id, "snooze", until, _deferred(until, owner, policy, zone), owner,
                        max(0, (now.astimezone(zone).date() - due_day).days))
            )
    if policy.escalate_after_days > 0:
        days = policy.escalate_after_days
        at = local_instant(due.astimezone(zone).date() + timedelta(days=days),
                           policy.overdue_time, zone)
        for recipient in facts.escalate_to:
            planned.append(Planned(facts.task_id, "escalate", at,
                                   _deferred(at, recipient, policy, zone), recipient, days))
    planned.sort(key=lambda p: (p.at, p.nominal, p.kind))
    return planned


def due_now(planned: Iterable[Planned], policy: Policy, now: datetime,
            created_at: datetime | None = None) -> list[Planned]:
    """What to send now: per recipient family, the latest reminder whose time has come.

    An earlier one that was missed (the bot was down) is superseded by the later one;
    the one sent is marked late if its time is well past and the task already existed.
    """
    latest: dict[str, Planned] = {}
    for p in planned:
        if p.at <= now and (p.family not in latest or p.nominal >= latest[p.family].nominal):
            latest[p.family] = p
    result = []
    for p in latest.values():
        existed = created_at is None or created_at <= p.at
        late = existed and now - p.at > policy.late_after
        result.append(replace(p, late=late))
    return sorted(result, key=lambda p: p.key)


def next_time(planned: Iterable[Planned], now: datetime) -> datetime | None:
    future = [p.at for p in planned if p.at > now]
    return min(future) if future else None


@dataclass(frozen=True)
class Derived:
    """What a sweep needs of a task's plan: what to send now, and when to look again."""

    due: tuple[Planned, ...]
    next_at: datetime | None


# Daily overdue reminders this many days before today's cannot be due now or next: the
# later one supersedes them (it is due, its nominal time is later) whatever the quiet hours.
_SUPERSEDED_AFTER = 4

_Entry = tuple[datetime, datetime, str, int]  # (at, nominal, kind, days overdue)


@lru_cache(maxsize=8192)
def _owner_times(due: datetime, zone: ZoneInfo, policy: Policy, quiet: QuietHours,
                 now: datetime) -> tuple[_Entry | None, datetime | None]:
    """The owner's latest reminder due by `now` and the next one's time, as `plan_task`
    and `due_now` find them; shared by every task with this deadline and quiet hours."""
    nominal: list[tuple[str, datetime, int]] = [
        (f"before:{o.label}", o.before(due, zone), 0) for o in policy.offsets
    ]
    if policy.on_deadline:
        nominal.append(("due", due, 0))
    due_day = due.astimezone(zone).date()
    late_by = (now.astimezone(zone).date() - due_day).days
    day = max(1, late_by - _SUPERSEDED_AFTER)
    horizon = now + timedelta(days=1)
    while (at := local_instant(due_day + timedelta(days=day), policy.overdue_time, zone)) <= horizon:
        nominal.append((f"overdue:{day}", at, day))
        day += 1
    entries = sorted((quiet.defer(at, zone), at, kind, days) for kind, at, days in nominal)
    latest: _Entry | None = None
    upcoming: datetime | None = None
    for entry in entries:
        if entry[0] <= now:
            if latest is None or entry[1] >= latest[1]:
                latest = entry
        elif upcoming is None:
            upcoming = entry[0]
    return latest, upcoming


def derive(facts: TaskFacts, policy: Policy, now: datetime) -> Derived:
    """`due_now(plan_task(…))` and `next_time(plan_task(…))` without the whole plan.

    A task overdue for weeks plans a reminder for each of those days, and all but the last
    few are superseded, so only those are computed; the owner's times depend only on the
    deadline and the quiet hours, so tasks sharing them share the work. A snoozed task
    takes the whole plan (snoozes are few).
    """
    if not facts.is_open or facts.due_at is None:
        return Derived((), None)
    if facts.snoozed is not None:
        plan = plan_task(facts, policy, now)
        return Derived(tuple(due_now(plan, policy, now, facts.created_at)), next_time(plan, now))
    due, zone, created = facts.due_at, facts.zone, facts.created_at
    late_after = policy.late_after
    found: list[Planned] = []
    upcoming: list[datetime] = []
    owner = facts.owner
    if owner is not None:
        latest, following = _owner_times(due, zone, policy, owner.quiet or policy.quiet, now)
        if latest is not None:
            at, nominal, kind, days = latest
            late = (created is None or created <= at) and now - at > late_after
            found.append(Planned(facts.task_id, kind, nominal, at, owner, days, late))
        if following is not None:
            upcoming.append(following)
    if policy.escalate_after_days > 0 and facts.escalate_to:
        days = policy.escalate_after_days
        nominal = _escalation_nominal(due, zone, days, policy.overdue_time)
        for recipient in facts.escalate_to:
            at = _deferred_at(nominal, recipient.quiet or policy.quiet, zone)
            if at <= now:
                late = (created is None or created <= at) and now - at > late_after
                found.append(Planned(facts.task_id, "escalate", nominal, at, recipient, days,
                                     late))
            else:
                upcoming.append(at)
    if len(found) > 1:
        found.sort(key=lambda p: p.key)
    return Derived(tuple(found), min(upcoming, default=None))


def fingerprint(policy: Policy, zone: ZoneInfo) -> str:
    """What a campaign's cursors depend on besides its tasks and people: the effective
    policy and the zone. Kept per campaign (`db.repositories.reminder_policies`); when it
    differs, the cursors derived with the old one are looked at again."""
    return hashlib.sha256(f"{policy!r}|{zone.key}".encode()).hexdigest()


def first_look(due: datetime, zone: ZoneInfo, policy: Policy) -> datetime:
    """No reminder of an unsnoozed task with this deadline is due before this instant.

    The earliest is a "before" offset, or the deadline itself: the daily overdue ones and
    the escalation come after it, and quiet hours only ever defer. A cursor made here
    looks at the task no later than its first reminder, whatever the recipients.
    """
    return min([due, *(o.before(due, zone) for o in policy.offsets)])


@lru_cache(maxsize=256)
def clock_changes(zone: ZoneInfo, year: int) -> timedelta:
    """The most the zone's UTC offset differs between two instants from two years before
    `year` to three after (its daylight saving time; nothing for China). Sampled weekly:
    a change of clocks lasts months."""
    start = datetime(year - 2, 1, 1, tzinfo=UTC)
    offsets = {(start + timedelta(days=day)).astimezone(zone).utcoffset() or timedelta(0)
               for day in range(0, 6 * 366, 7)}
    return max(offsets) - min(offsets)


def lead(policy: Policy, zone: ZoneInfo, year: int) -> timedelta:
    """How long before its deadline a task's first reminder may come, at the most, for
    deadlines around `year`: the longest "before" offset, and for one in days as much as
    the zone's clocks change. A deadline less this is never after `first_look`, and in a
    zone whose clocks do not change it is `first_look` itself."""
    longest = max([timedelta(0), *(o.nominal for o in policy.offsets)])
    if any(o.in_days for o in policy.offsets):
        longest += clock_changes(zone, year)
    return longest


@lru_cache(maxsize=4096)
def _escalation_nominal(due: datetime, zone: ZoneInfo, days: int, at: time) -> datetime:
    return local_instant(due.astimezone(zone).date() + timedelta(days=days), at, zone)


@lru_cache(maxsize=4096)
def _deferred_at(at: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    return quiet.defer(at, zone)


# Digests and countdowns ---------------------------------------------------------------


@dataclass(frozen=True)
class Occasion:
    """A daily or dated notice: `key` names it, due `at`, worth sending until `until`."""

    key: str
    at: datetime
    until: datetime
    days: int = 0  # the countdown milestone, when it is one
    late: bool = False


def daily(key_prefix: str, at_time: time, quiet: QuietHours, zone: ZoneInfo, now: datetime,
          policy: Policy) -> tuple[list[Occasion], datetime]:
    """Yesterday's, today's and tomorrow's daily notice: those due now, and the next time."""
    today = now.astimezone(zone).date()
    due: list[Occasion] = []
    upcoming: list[datetime] = []
    for offset in (-1, 0, 1, 2):
        day = today + timedelta(days=offset)
        at = quiet.defer(local_instant(day, at_time, zone), zone)
        if at <= now < at + SAME_DAY:
            due.append(Occasion(f"{key_prefix}:{day.isoformat()}", at, at + SAME_DAY,
                                late=now - at > policy.late_after))
        elif at > now:
            upcoming.append(at)
    return due, min(upcoming)


def countdown(inspection: date | None, phases: Sequence[tuple[int, str, date | None, date | None]],
              policy: Policy, zone: ZoneInfo, now: datetime, prefix: str) -> tuple[list[Occasion], datetime | None]:
    """Milestones before the inspection and phase starts/ends: due now, and the next one.

    `phases` are (id, name, starts_on, ends_on); keys are `<prefix>:<event>`.
    """
    events: list[tuple[str, date, int]] = []
    if inspection is not None:
        events += [(f"{m}d", inspection - timedelta(days=m), m) for m in policy.countdown_days]
    for phase_id, _name, starts, ends in phases:
        if starts is not None:
            events.append((f"phase{phase_id}:start", starts, 0))
        if ends is not None:
            events.append((f"phase{phase_id}:end", ends, 0))
    due: list[Occasion] = []
    upcoming: list[datetime] = []
    for name, day, days in events:
        at = policy.quiet.defer(local_instant(day, policy.countdown_time, zone), zone)
        if at <= now < at + SAME_DAY:
            due.append(Occasion(f"{prefix}:{name}", at, at + SAME_DAY, days,
                                late=now - at > policy.late_after))
        elif at > now:
            upcoming.append(at)
    return due, (min(upcoming) if upcoming else None)


def parse_clock(text: str) -> time:
    """"7:30" / "07:30" / "0730" → time(7, 30); anything else raises ValueError."""
    text = fold(text.strip())
    if ":" in text:
        hours, _, minutes = text.partition(":")
    elif len(text) in (3, 4):
        hours, minutes = text[:-2], text[-2:]
    else:
        raise ValueError(text)
    hour, minute = ascii_int(hours, 0, 23), ascii_int(minutes, 0, 59)
    if hour is None or minute is None:
        raise ValueError(text)
    return time(hour, minute)


def parse_window(text: str) -> tuple[time, time]:
    """"22:00-07:30" (also with "–", "~" or "至") → (start, end)."""
    for sep in ("-", "–", "~", "至", "到"):
        if sep in text:
            start, _, end = text.partition(sep)
            return parse_clock(start), parse_clock(end)
    raise ValueError(text)
