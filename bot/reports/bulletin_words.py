"""The bulletin in words: the chat text (HTML, split within Telegram's limits) and the
sections the printable DOCX (`bot.reports.bulletin_docx`) lays out, from one `Bulletin`."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.textfit import clip, plain_text, split_html
from bot.reports.bulletin import (
    CHAT_TITLE,
    NAMED_LIMIT,
    RANK_ALL_UP_TO,
    RANK_EACH_END,
    UPCOMING_DAYS,
    Bulletin,
    Named,
    Ranked,
)
from bot.texts import Texts
from db.repositories.reports import TaskLine

log = logging.getLogger(__name__)
_LEADING_SYMBOLS = re.compile("^[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]+\\s*")


@dataclass(frozen=True)
class RankTable:
    group: str  # heading of the peer group
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Section:
    heading: str
    lines: list[str]
    # The ranking: in chat its lines; in the DOCX the tables, then `notes`.
    tables: list[RankTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Wording:
    """The bulletin in words: title lines, sections, and the ranking as tables."""

    title: str
    issue: str
    masthead: str
    sections: list[Section]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def word_bulletin(texts: Texts, lang: str, b: Bulletin, zone: ZoneInfo, issuer: str,
                  *, html: bool, chat: bool) -> Wording:
    """The bulletin's sentences. `html` escapes parameters (chat); `chat` shortens the long
    lists (the DOCX lists everything)."""

    def say(key: str, **params: object) -> str:
        text = texts.get(lang, key, **params)
        # For print: no tags, no entities, no emoji in front of a line.
        return text if html else _LEADING_SYMBOLS.sub("", plain_text(text))

    def rendered(text: str) -> str:
        return text if html else _LEADING_SYMBOLS.sub("", plain_text(text))

    local = b.until.astimezone(zone)
    when = say("reports.bulletin_date", year=local.year, month=local.month, day=local.day)
    sections: list[Section] = []
    if b.status is not None:
        sections.append(Section(rendered(b.status.heading),
                                [rendered(x) for x in b.status.lines]))

    overall = [say("reports.bulletin_overall", date=when, active=b.overall.active,
                   done=b.overall.done, percent=_percent(b.overall.completion), due=b.due,
                   on_time=b.on_time, rate=_percent(b.on_time_rate),
                   overdue=b.overall.overdue)]
    if b.days_to_inspection is not None and b.days_to_inspection >= 0:
        overall.append(say("reports.bulletin_countdown", days=b.days_to_inspection))
    if b.current_phase:
        overall.append(say("reports.bulletin_phase", phase=b.current_phase))
    if b.readiness is not None:
        r = b.readiness
        line = say("reports.bulletin_readiness", percent=round(100 * r.share), ready=r.ready,
                   people=r.people)
        if r.lowest:
            units = texts.plain(lang, "reports.bulletin_readiness_sep").join(
                f"{u.name} {round(100 * u.share_ready)}%" for u in r.lowest)
            line += say("reports.bulletin_readiness_lowest", units=units)
        overall.append(line)
    sections.append(Section(say("reports.bulletin_h_overall"), overall))

    vetoes: list[str] = []
    for v in b.vetoes:
        vetoes.append(say("reports.bulletin_veto_line", code=v.code, name=v.name,
                          overdue=v.counts.overdue, blocked=v.counts.blocked))
    title = CHAT_TITLE if chat else None
    for task in b.veto_tasks:
        vetoes.append(_task_line(say, task, b.until, zone, title))
    if b.veto_total > len(b.veto_tasks):
        vetoes.append(say("reports.more", count=b.veto_total - len(b.veto_tasks)))
    if not vetoes:
        vetoes.append(say("reports.bulletin_veto_none"))
    sections.append(Section(say("reports.bulletin_h_veto"), vetoes))

    ranking: list[str] = [say("reports.bulletin_rank_rule")]
    tables: list[RankTable] = []
    header = [texts.plain(lang, f"reports.bulletin_col.{c}")
              for c in ("rank", "unit", "due", "on_time", "rate", "overdue", "completion")]
    for group, ranked in b.groups.items():
        name = say(f"reports.bulletin_group.{group}")
        ranking.append(say("reports.bulletin_group_line", group=name, count=len(ranked)))
        shown: list[Ranked | None] = list(ranked)
        if chat and len(ranked) > RANK_ALL_UP_TO:
            shown = [*ranked[:RANK_EACH_END], None, *ranked[-RANK_EACH_END:]]
        for item in shown:
            if item is None:
                ranking.append(say("reports.bulletin_gap",
                                   count=len(ranked) - 2 * RANK_EACH_END))
                continue
            t = item.tally
            ranking.append(say("reports.bulletin_rank_line", rank=item.rank, name=t.name,
                               rate=_percent(item.rate), on_time=t.on_time, due=t.due,
                               overdue=t.overdue))
        tables.append(RankTable(texts.plain(lang, f"reports.bulletin_group.{group}"), header, [
            [str(i.rank), i.tally.name, str(i.tally.due), str(i.tally.on_time),
             _percent(i.rate), str(i.tally.overdue),
             _percent(i.tally.done / i.tally.active if i.tally.active else None)]
            for i in ranked
        ]))
    notes = [ranking[0]]
    if not b.groups:
        notes.append(say("reports.bulletin_rank_none"))
    if b.not_due:
        notes.append(say("reports.bulletin_not_due", count=b.not_due))
    ranking += notes[1:]
    sections.append(Section(say("reports.bulletin_h_ranking"), ranking, tables, notes))

    def named(items: list[Named]) -> list[str]:
        limit = NAMED_LIMIT if chat else len(items)
        lines = [
            say("reports.bulletin_named_line", unit=n.unit, why=texts.plain(
                lang, "reports.bulletin_reason_sep").join(
                    texts.plain(lang, r.text_id, **r.params) for r in n.reasons))
            for n in items[:limit]
        ]
        if len(items) > limit:
            lines.append(say("reports.bulletin_named_more", count=len(items) - limit))
        return lines

    sections.append(Section(say("reports.bulletin_h_praise"),
                            named(b.praised) or [say("reports.bulletin_praise_none")]))
    sections.append(Section(say("reports.bulletin_h_criticism"),
                            named(b.criticised) or [say("reports.bulletin_criticism_none")]))

    late = [_task_line(say, task, b.until, zone, title) for task in b.late]
    if b.late_total > len(b.late):
        late.append(say("reports.more", count=b.late_total - len(b.late)))
    sections.append(Section(say("reports.bulletin_h_late", count=b.late_total),
                            late or [say("reports.bulletin_late_none")]))

    steps: list[str] = []
    if b.vetoes:
        steps.append(say("reports.bulletin_step_veto", count=b.veto_total,
                         codes="、".join(v.code for v in b.vetoes)))
    if b.overall.overdue:
        steps.append(say("reports.bulletin_step_late", count=b.overall.overdue,
                         units=b.late_units))
    if b.criticised:
        steps.append(say("reports.bulletin_step_criticised"))
    if b.upcoming:
        steps.append(say("reports.bulletin_step_upcoming", count=b.upcoming,
                         days=UPCOMING_DAYS))
    if b.current_phase and b.current_phase_ends:
        steps.append(say("reports.bulletin_step_phase_ends", phase=b.current_phase,
                         date=b.current_phase_ends.isoformat()))
    if b.next_phase is not None:
        steps.append(say("reports.bulletin_step_next_phase", phase=b.next_phase.name,
                         date=b.next_phase.starts_on.isoformat()))
    if b.readiness is not None and b.readiness.share < b.readiness.threshold:
        steps.append(say("reports.bulletin_step_readiness",
                         percent=round(100 * b.readiness.share)))
    if not steps:
        steps.append(say("reports.bulletin_step_keep"))
    sections.append(Section(say("reports.bulletin_h_steps"),
                            [f"{n}. {s}" for n, s in enumerate(steps, start=1)]))
    return Wording(
        title=say("reports.bulletin_title", campaign=b.campaign_name),
        issue=say("reports.bulletin_issue", issue=b.issue),
        masthead=say("reports.bulletin_masthead", issuer=issuer, date=when),
        sections=sections,
    )


def _task_line(say: Callable[..., str], task: TaskLine, until: datetime, zone: ZoneInfo,
               title: int | None) -> str:
    shown = task.title if title is None else clip(task.title, title)
    if task.due_at is None or task.due_at >= until:
        # A veto item listed for being blocked, not late.
        return say("reports.bulletin_blocked_line", id=task.id, title=shown,
                   unit=task.unit_name, owner=task.owner_name or "—")
    days = max(0, (until.astimezone(zone).date() - task.due_at.astimezone(zone).date()).days)
    return say("reports.bulletin_late_line", id=task.id, title=shown,
               unit=task.unit_name, owner=task.owner_name or "—", days=days)


def issuer_of(texts: Texts, lang: str, configured: str) -> str:
    return configured or texts.plain(lang, "reports.bulletin_default_issuer")


def render_bulletin(texts: Texts, lang: str, bulletin: Bulletin, zone: ZoneInfo,
                    issuer: str = "") -> str:
    """The bulletin as chat HTML; the outgoing layer (or `chat_parts`) splits it to fit."""
    w = word_bulletin(texts, lang, bulletin, zone, issuer_of(texts, lang, issuer), html=True,
                      chat=True)
    lines = [w.title, w.issue, w.masthead]
    sections = w.sections
    if bulletin.overall.total == 0:
        # No tasks yet: the certification status (if any) is still worth reading.
        sections = sections[:1] if bulletin.status is not None else []
    for section in sections:
        # A heading rendered elsewhere (the certification verdict) may carry its own tags.
        heading = section.heading if "<" in section.heading else f"<b>{section.heading}</b>"
        lines += ["", heading, *section.lines]
    if bulletin.overall.total == 0:
        lines += ["", texts.get(lang, "reports.empty")]
    return "\n".join(lines)


def chat_parts(text: str) -> list[str]:
    """The bulletin in messages Telegram accepts, split at line breaks."""
    return split_html(text)
