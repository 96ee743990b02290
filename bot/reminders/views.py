"""How reminders, digests and countdowns read, their buttons, and the `rem:` callback grammar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import callbacks
from bot.core.keyboard import Button, Keyboard
from bot.core.textfit import LIST_TITLE, clip
from bot.reminders.policy import Planned, Policy
from bot.reminders.settings import settings_of
from bot.texts import Markup, Texts
from db.models import Person, Task
from db.repositories.reminders import DatedTask

SNOOZE_MINUTES = 60
DIGEST_LINES = 8


def rem_cb(action: str, task_id: int, minutes: int | None = None) -> str:
    if minutes is None:
        return callbacks.build(callbacks.REMINDER, action, task_id)
    return callbacks.build(callbacks.REMINDER, action, task_id, minutes)


def _when(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


# (text, its length, the next smaller unit): a unit is used once the time left rounds to
# at least one of it in the smaller unit's terms (23 h 40 min is a day, 59 min is not an
# hour).
_UNITS = (("days", 86400, 3600), ("hours", 3600, 60))


def time_left(texts: Texts, lang: str, due: datetime, now: datetime) -> str:
    """The time left as people say it: to the nearest day, hour or minute.

    A reminder goes out a few seconds after its time (the sweep's pace), so truncating
    would turn the "3 days before" reminder into "2 days" and the "2 minutes" one into
    "1 minute"; rounding to the nearest keeps the number the offset meant.
    """
    seconds = max(0.0, (due - now).total_seconds())
    for key, unit, smaller in _UNITS:
        if seconds >= unit - smaller / 2:
            return texts.plain(lang, f"reminders.left.{key}", n=int(seconds / unit + 0.5))
    return texts.plain(lang, "reminders.left.minutes", n=max(1, int(seconds / 60 + 0.5)))


def days_late(due: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Local calendar days from the deadline's day to today."""
    return max(0, (now.astimezone(zone).date() - due.astimezone(zone).date()).days)


def _owner_text(texts: Texts, lang: str, family: str, task: Task, now: datetime,
                zone: ZoneInfo, *, at_deadline: bool = False, title: str | None = None) -> str:
    """A task as its owner is told of it, by how its deadline stands now: still ahead, today
    (or the reminder at the deadline itself), or days behind."""
    assert task.due_at is not None
    params = {"id": task.id, "title": task.title if title is None else title,
              "when": _when(task.due_at, zone), "progress": task.progress}
    if task.due_at > now:
        return texts.get(lang, f"{family}.upcoming",
                         left=time_left(texts, lang, task.due_at, now), **params)
    if at_deadline or now.astimezone(zone).date() == task.due_at.astimezone(zone).date():
        return texts.get(lang, f"{family}.due", **params)
    return texts.get(lang, f"{family}.overdue", days=days_late(task.due_at, now, zone), **params)


def owner_reminder(
    texts: Texts, lang: str, task: Task, planned: Planned, now: datetime, zone: ZoneInfo
) -> tuple[str, Keyboard]:
    text = _owner_text(texts, lang, "reminders.owner", task, now, zone,
                       at_deadline=planned.kind == "due")
    if planned.late:
        text += "\n" + texts.get(lang, "reminders.late", at=_when(planned.at, zone))
    return text, owner_keyboard(texts, lang, task.id)


def owner_keyboard(texts: Texts, lang: str, task_id: int) -> Keyboard:
    def button(key: str, data: str) -> Button:
        return Button(texts.plain(lang, f"reminders.button.{key}"), data)

    return Keyboard.of([
        # Done and progress are the task card's own buttons: the tasks feature answers them.
        [button("done", callbacks.task("done", task_id)),
         button("progress", callbacks.task("prog", task_id))],
        [button("snooze_hour", rem_cb("snz", task_id, SNOOZE_MINUTES)),
         button("snooze_morning", rem_cb("morn", task_id))],
    ])


def nudge_notice(
    texts: Texts, lang: str, task: Task, leader: str, zone: ZoneInfo
) -> tuple[str, Keyboard]:
    """A leader's reminder to the owner, with the reminder's own buttons."""
    params = {"leader": leader, "id": task.id, "title": task.title, "progress": task.progress}
    if task.due_at is None:
        text = texts.get(lang, "reminders.nudge.notice_undated", **params)
    else:
        text = texts.get(lang, "reminders.nudge.notice", when=_when(task.due_at, zone), **params)
    return text, owner_keyboard(texts, lang, task.id)


def escalation(
    texts: Texts, lang: str, task: Task, planned: Planned, now: datetime, zone: ZoneInfo, *,
    with_button: bool,
) -> tuple[str, Keyboard | None]:
    """The follow-up to a leader: how late the task really is when it is queued (an
    escalation sent late, or about a task that was already weeks late when it was
    created, says so), and only a button to look at it: leaders do not act for owners."""
    assert task.due_at is not None
    text = texts.get(
        lang, "reminders.escalate", id=task.id, title=task.title,
        unit=task.unit.name if task.unit else "—", owner=task.owner.name if task.owner else "—",
        days=max(planned.days_overdue, days_late(task.due_at, now, zone)),
        when=_when(task.due_at, zone), progress=task.progress,
    )
    if planned.late:
        text += "\n" + texts.get(lang, "reminders.late", at=_when(planned.at, zone))
    if not with_button:
        return text, None
    button = Button(texts.plain(lang, "reminders.button.open"), callbacks.task("open", task.id))
    return text, Keyboard.of([[button]])


def escalation_header(texts: Texts, lang: str, count: int) -> str:
    """The head of a list of escalations (`bot.reminders.lists`)."""
    return texts.get(lang, "reminders.escalate_list", count=count)


def escalation_line(texts: Texts, lang: str, task: Task, now: datetime, zone: ZoneInfo) -> str:
    """One task of a list of escalations (`bot.reminders.lists`)."""
    assert task.due_at is not None
    return texts.get(
        lang, "reminders.escalate_line", id=task.id, title=clip(task.title, LIST_TITLE),
        unit=task.unit.name if task.unit else "—", owner=task.owner.name if task.owner else "—",
        days=days_late(task.due_at, now, zone), when=_when(task.due_at, zone),
        progress=task.progress,
    )


def owner_header(texts: Texts, lang: str, count: int) -> str:
    """The head of a list of an owner's reminders (`bot.reminders.lists`)."""
    return texts.get(lang, "reminders.owner_list", count=count)


def owner_line(texts: Texts, lang: str, task: Task, now: datetime, zone: ZoneInfo) -> str:
    """One task of a list of an owner's reminders (`bot.reminders.lists`)."""
    return _owner_text(texts, lang, "reminders.owner_line", task, now, zone,
                       title=clip(task.title, LIST_TITLE))


PARTS_OF_DAY = ("morning", "noon", "afternoon", "evening")


def part_of_day(now: datetime, zone: ZoneInfo) -> str:
    """Which greeting fits the local time a message is sent: a digest held back by quiet
    hours or an outage must not say good morning at noon."""
    hour = now.astimezone(zone).hour
    if 5 <= hour < 11:
        return "morning"
    if 11 <= hour < 13:
        return "noon"
    if 13 <= hour < 18:
        return "afternoon"
    return "evening"


def digest(
    texts: Texts, lang: str, name: str, tasks: Sequence[DatedTask], now: datetime,
    zone: ZoneInfo,
) -> str | None:
    """The morning digest: overdue, due today, due this week; None when there is nothing."""
    today = now.astimezone(zone).date()
    groups: dict[str, list[DatedTask]] = {"overdue": [], "today": [], "week": []}
    for task in tasks:
        if task.due_at < now:
            groups["overdue"].append(task)
        elif task.due_at.astimezone(zone).date() == today:
            groups["today"].append(task)
        else:
            groups["week"].append(task)
    if not any(groups.values()):
        return None
    lines = [texts.get(lang, f"reminders.digest.title_{part_of_day(now, zone)}", name=name)]
    for group, items in groups.items():
        if not items:
            continue
        lines.append("")
        lines.append(texts.get(lang, f"reminders.digest.{group}", count=len(items)))
        for task in items[:DIGEST_LINES]:
            lines.append(texts.get(lang, "reminders.digest.line", id=task.id, title=task.title,
                                   when=_when(task.due_at, zone)))
        if len(items) > DIGEST_LINES:
            lines.append(texts.get(lang, "reminders.digest.more", count=len(items) - DIGEST_LINES))
    lines.append("")
    lines.append(texts.get(lang, "reminders.digest.footer"))
    return "\n".join(lines)


def leaders_digest(
    texts: Texts, lang: str, *, day: str, open_: int, overdue: int, week: int,
    units: Sequence[tuple[str, int]], days_left: int | None,
) -> str:
    lines = [texts.get(lang, "reminders.leaders.title", date=day),
             texts.get(lang, "reminders.leaders.counts", open=open_, overdue=overdue, week=week)]
    if units:
        lines.append(texts.get(lang, "reminders.leaders.units"))
        lines += [texts.get(lang, "reminders.leaders.unit_line", unit=u, count=n) for u, n in units]
    if days_left is not None and days_left >= 0:
        lines.append(texts.get(lang, "reminders.leaders.countdown", days=days_left))
    return "\n".join(lines)


def countdown_notice(
    texts: Texts, lang: str, *, campaign: str, event: str, days: int, day: str,
    phase: str = "", late_at: str | None = None,
) -> str:
    if event == "start":
        text = texts.get(lang, "reminders.countdown.phase_start", phase=phase, campaign=campaign)
    elif event == "end":
        text = texts.get(lang, "reminders.countdown.phase_end", phase=phase, campaign=campaign)
    else:
        text = texts.get(lang, "reminders.countdown.days", campaign=campaign, days=days, date=day)
    if late_at:
        text += "\n" + texts.get(lang, "reminders.late", at=late_at)
    return Markup(text)


def settings_view(texts: Texts, person: Person, policy: Policy) -> tuple[str, Keyboard]:
    """The /settings card and its buttons."""
    lang = person.language
    s = settings_of(person, policy)
    clock = "%H:%M"
    if s.quiet_off:
        quiet = texts.plain(lang, "reminders.settings.quiet_off")
    else:
        key = "quiet_default" if s.quiet_is_default else "quiet_own"
        quiet = texts.plain(lang, f"reminders.settings.{key}", start=s.quiet_start.strftime(clock),
                            end=s.quiet_end.strftime(clock))
    digest_key = "digest_default" if s.digest_is_default else "digest_own"
    digest = texts.plain(lang, f"reminders.settings.{digest_key}",
                         time=s.digest_time.strftime(clock))
    text = texts.get(lang, "reminders.settings.show", quiet=quiet, digest=digest,
                     language=texts.plain(lang, "reminders.settings.language_name"))

    def button(key: str, data: str) -> Button:
        return Button(texts.plain(lang, f"reminders.settings.{key}"), data)

    keyboard = Keyboard.of([
        [button("button_zh", callbacks.build(callbacks.SETTINGS, "language", "zh")), button("button_en", callbacks.build(callbacks.SETTINGS, "language", "en"))],
        [button("button_quiet_default", callbacks.build(callbacks.SETTINGS, "quiet", "default")),
         button("button_quiet_off", callbacks.build(callbacks.SETTINGS, "quiet", "off"))],
    ])
    return text, keyboard
