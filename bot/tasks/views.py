"""How tasks read in a chat: cards, lists and their buttons (text from the catalogs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import callbacks
from bot.core.deadlines import urgency
from bot.core.keyboard import Button, Keyboard
from bot.core.paging import Page, page_buttons, page_footer
from bot.core.roster import indicator_label
from bot.core.textfit import LIST_TITLE, clip, task_button
from bot.texts import Markup, Texts
from db.models import Task, TaskStatus

PROGRESS_STEPS = (25, 50, 75, 100)
TASKS_PAGE = 10


def status_label(texts: Texts, lang: str, status: TaskStatus) -> str:
    return texts.plain(lang, f"status.{status.value}")


def due_label(texts: Texts, lang: str, task: Task, now: datetime, zone: ZoneInfo) -> str:
    u = urgency(task.due_at, now, zone)
    if u is None or task.due_at is None:
        return texts.get(lang, "task.no_deadline")
    when = task.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if not task.status.is_open:
        return texts.get(lang, "task.due_plain", when=when)
    if u.overdue:
        return texts.get(lang, "task.due_overdue", when=when, days=u.days)
    if u.days == 0:
        return texts.get(lang, "task.due_today", when=when)
    return texts.get(lang, "task.due_left", when=when, days=u.days)


def task_card(texts: Texts, lang: str, task: Task, now: datetime, zone: ZoneInfo) -> str:
    indicator = ""
    if task.indicator is not None:
        key = "task.indicator_veto" if task.indicator.veto else "task.indicator"
        indicator = texts.get(lang, key, indicator=indicator_label(task.indicator.code,
                                                                   task.indicator.name))
    lines = [
        texts.get(lang, "task.card_title", id=task.id, title=task.title),
        texts.get(lang, "task.unit", unit=task.unit.name if task.unit else "—"),
        texts.get(lang, "task.owner", owner=task.owner.name if task.owner else "—"),
    ]
    sep = texts.plain(lang, "task.list_sep")
    if task.partners:
        lines.insert(2, texts.get(lang, "task.partners", units=sep.join(task.partner_names)))
    if task.leader is not None:
        lines.append(texts.get(lang, "task.leader", leader=task.leader.name))
    if indicator:
        lines.append(indicator)
    if task.phase is not None:
        lines.append(texts.get(lang, "task.phase", phase=task.phase.name))
    lines.append(Markup(due_label(texts, lang, task, now, zone)))
    lines.append(
        texts.get(
            lang,
            "task.status_line",
            status=status_label(texts, lang, task.status),
            progress=task.progress,
        )
    )
    if task.evidence_items:
        lines.append(texts.get(lang, "task.evidence_items", items=sep.join(task.evidence_items),
                               count=max(task.evidence_required, len(task.evidence_items))))
    elif task.evidence_required:
        lines.append(texts.get(lang, "task.evidence_required", count=task.evidence_required))
    if task.description:
        lines.append(texts.get(lang, "task.description", text=task.description))
    return "\n".join(lines)


def task_keyboard(texts: Texts, lang: str, task: Task, *, can_act: bool = True
                  ) -> Keyboard | None:
    """The card's buttons: its owner's (and the office's) actions, or, for someone who only
    oversees the task, a way to its evidence and nothing that changes it."""
    if not can_act:
        rows = [[Button(texts.plain(lang, "button.evidence"), callbacks.evidence("view", task.id))]]
        if task.status.is_open:
            rows.append([Button(texts.plain(lang, "button.nudge"),
                                callbacks.build(callbacks.REMINDER, "nudge", task.id))])
        return Keyboard.of(rows)
    if not task.status.is_open:
        return None

    def button(action: str, value: int | None = None, label: str | None = None) -> Button:
        return Button(label or texts.plain(lang, f"button.{action}"), callbacks.task(action, task.id, value)
        )

    first = [button("prog"), button("done")]
    if task.status in (TaskStatus.TODO, TaskStatus.BLOCKED):
        first.insert(0, button("start"))
    upload = Button(texts.plain(lang, "evidence.button.upload"), callbacks.evidence("up", task.id)
    )
    return Keyboard.of([first, [button("note"), button("block")], [upload]])


def progress_keyboard(texts: Texts, lang: str, task_id: int) -> Keyboard:
    return Keyboard.of(
        [
            [
                Button(f"{p}%", callbacks.task("setp", task_id, p))
                for p in PROGRESS_STEPS
            ],
            [Button(texts.plain(lang, "button.back"), callbacks.task("back", task_id))],
        ]
    )


def task_list(
    texts: Texts, lang: str, tasks: Sequence[Task], page: Page, now: datetime, zone: ZoneInfo
) -> tuple[str, Keyboard | None]:
    """A page of my open tasks: one line and one button each, and the way to the others."""
    if not page.total:
        return texts.get(lang, "tasks.none"), None
    lines = [texts.get(lang, "tasks.header", count=page.total)]
    for task in tasks:
        u = urgency(task.due_at, now, zone)
        if u is None:
            mark = texts.get(lang, "tasks.mark_none")
        elif u.overdue:
            mark = texts.get(lang, "tasks.mark_overdue", days=u.days)
        else:
            mark = texts.get(lang, "tasks.mark_left", days=u.days)
        lines.append(
            texts.get(
                lang,
                "tasks.line",
                id=task.id,
                title=clip(task.title, LIST_TITLE),
                mark=Markup(mark),
                status=status_label(texts, lang, task.status),
                progress=task.progress,
            )
        )
    footer = page_footer(texts, lang, page)
    if footer:
        lines.append(footer)
    rows = [[task_button(t.id, t.title)] for t in tasks]
    rows.append(page_buttons(texts, lang, page, lambda offset: callbacks.page("tasks", offset)))
    return "\n".join(lines), Keyboard.of(rows)


ASSIGNED_SHOWN = 10


def assignment_notice(
    texts: Texts, lang: str, tasks: Sequence[Task], now: datetime, zone: ZoneInfo, *,
    moved: bool,
) -> tuple[str, Keyboard | None]:
    """What a new owner is told: one task as its card with its buttons, several as a list
    (by deadline) with a button to open each of the first ones."""
    if len(tasks) == 1:
        task = tasks[0]
        head = texts.get(lang, "assign.moved" if moved else "assign.new")
        return head + "\n\n" + task_card(texts, lang, task, now, zone), task_keyboard(
            texts, lang, task)
    lines = [texts.get(lang, "assign.many", count=len(tasks))]
    shown = tasks[:ASSIGNED_SHOWN]
    for task in shown:
        title = clip(task.title, LIST_TITLE)
        if task.due_at is None:
            lines.append(texts.get(lang, "assign.line_undated", id=task.id, title=title))
        else:
            lines.append(texts.get(lang, "assign.line", id=task.id, title=title,
                                   due=task.due_at.astimezone(zone).strftime("%Y-%m-%d")))
    if len(tasks) > len(shown):
        lines.append(texts.get(lang, "assign.more", count=len(tasks) - len(shown)))
    lines.append(texts.get(lang, "assign.footer"))
    rows = [[task_button(t.id, t.title)] for t in shown]
    return "\n".join(lines), Keyboard.of(rows)
