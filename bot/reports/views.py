"""How summaries and report lists read in a chat, their buttons, and the `rep:` callbacks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import callbacks
from bot.core.deadlines import urgency
from bot.core.keyboard import Button, Keyboard
from bot.core.paging import Page, page_buttons, page_footer
from bot.core.roster import indicator_label
from bot.core.textfit import LIST_TITLE, clip, task_button
from bot.indicators.certify import BriefLine, CertificationBrief
from bot.indicators.status import State
from bot.reports.summary import UNIT_LINES, Counts, Readiness, Standing, Summary, UnitRanking
from bot.texts import Markup, Texts
from db.models import TaskStatus
from db.repositories.reports import TaskLine

UNIT_BUTTONS = UNIT_LINES  # every unit the summary names can be opened
INDICATOR_BUTTONS = 4
LIST_PAGE = 10
CERTIFICATION_LINES = 6


def report_cb(action: str, arg: int = 0) -> str:
    return callbacks.build(callbacks.REPORT, action, arg)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def _countdown(texts: Texts, lang: str, summary: Summary) -> str:
    days = summary.days_to_inspection
    if days is None or summary.inspection_date is None:
        return texts.get(lang, "reports.countdown_none")
    when = summary.inspection_date.isoformat()
    if days > 0:
        return texts.get(lang, "reports.countdown", days=days, date=when)
    if days == 0:
        return texts.get(lang, "reports.countdown_today", date=when)
    return texts.get(lang, "reports.countdown_past", days=-days, date=when)


def _counts_line(texts: Texts, lang: str, key: str, name: str, counts: Counts) -> str:
    text = texts.get(
        lang, key, name=name, percent=percent(counts.completion), done=counts.done,
        active=counts.active,
    )
    if counts.overdue:
        text += texts.get(lang, "reports.overdue_suffix", count=counts.overdue)
    return text


def late_mark(texts: Texts, lang: str, line: TaskLine, now: datetime, zone: ZoneInfo) -> str:
    u = urgency(line.due_at, now, zone)
    if line.status is TaskStatus.BLOCKED and (u is None or not u.overdue):
        return texts.get(lang, "reports.mark_blocked")
    if u is None:
        return texts.get(lang, "tasks.mark_none")
    if u.overdue and line.status.is_open:
        return texts.get(lang, "tasks.mark_overdue", days=u.days)
    if not line.status.is_open:
        return texts.get(lang, f"status.{line.status.value}")
    return texts.get(lang, "tasks.mark_left", days=u.days)


def task_line(texts: Texts, lang: str, line: TaskLine, now: datetime, zone: ZoneInfo) -> str:
    return texts.get(
        lang, "reports.task_line", id=line.id, title=clip(line.title, LIST_TITLE),
        unit=line.unit_name,
        owner=line.owner_name or "—", mark=Markup(late_mark(texts, lang, line, now, zone)),
        status=texts.plain(lang, f"status.{line.status.value}"), progress=line.progress,
    )


def readiness_lines(texts: Texts, lang: str, readiness: Readiness | None) -> list[str]:
    """The quiz readiness section: the overall share, then the weakest units."""
    if readiness is None:
        return []
    lines = [
        texts.get(lang, "reports.readiness_header"),
        texts.get(lang, "reports.readiness_overall", percent=percent(readiness.share),
                  ready=readiness.ready, people=readiness.people,
                  threshold=percent(readiness.threshold)),
    ]
    if readiness.lowest:
        lines.append(texts.get(lang, "reports.readiness_lowest", count=len(readiness.lowest),
                               units=readiness.units))
    lines.extend(
        texts.get(lang, "reports.readiness_unit_line", name=unit.name, ready=unit.ready,
                  people=unit.people, percent=percent(unit.share_ready))
        for unit in readiness.lowest
    )
    return lines


def _brief_line(texts: Texts, lang: str, line: BriefLine) -> list[str]:
    if line.veto:
        key = ("indicators.brief.veto_not_met" if line.state is State.NOT_MET
               else "indicators.brief.veto_unknown")
        found = [texts.get(lang, key, name=line.name)]
    elif line.state is State.MET:
        found = [texts.get(lang, "indicators.brief.met", name=line.name, value=line.value,
                           limit=line.limit)]
    elif line.state is State.NOT_MET:
        found = [texts.get(lang, "indicators.brief.not_met", name=line.name, value=line.value,
                           limit=line.limit, margin=line.margin)]
    else:
        key = ("indicators.brief.unknown" if line.key.startswith("coefficient:")
               else "indicators.brief.no_data")
        found = [texts.get(lang, key, name=line.name)]
    if line.driver and line.state is State.NOT_MET:
        key = "indicators.brief.driver_above" if line.driver_above else "indicators.brief.driver_below"
        found.append(texts.get(lang, key, school=line.driver, share=line.driver_share or ""))
    if line.tasks is not None and line.tasks.total and line.state is not State.MET:
        found.append(texts.get(lang, "indicators.brief.tasks", code=line.tasks.code,
                               done=line.tasks.done, total=line.tasks.total,
                               overdue=line.tasks.overdue))
    return found


def certification_lines(
    texts: Texts, lang: str, brief: CertificationBrief | None, *,
    limit: int = CERTIFICATION_LINES,
) -> list[str]:
    """Certification first: the verdict, vetoes not cleared, then thresholds, the failing
    ones with the school that pulls them up most."""
    if brief is None:
        return []
    key = ("indicators.brief.title_met" if brief.state is State.MET
           else "indicators.brief.title_not_met" if brief.state is State.NOT_MET
           else "indicators.brief.title_unknown")
    lines = [texts.get(lang, key, standard=brief.standard, year=brief.year or "—")]
    lines.append(texts.get(
        lang, "indicators.brief.vetoes", total=len(brief.vetoes),
        failed=brief.count(State.NOT_MET, veto=True),
        unknown=brief.count(State.UNKNOWN, veto=True)))
    shown = [line for line in brief.lines if not (line.veto and line.state is State.MET)
             and not (line.veto and line.state is State.UNKNOWN)]
    shown += [line for line in brief.vetoes if line.state is State.UNKNOWN]
    for line in shown[:limit]:
        lines.extend(_brief_line(texts, lang, line))
    if len(shown) > limit:
        lines.append(texts.get(lang, "indicators.brief.more", count=len(shown) - limit))
    return lines


def _more_units(texts: Texts, lang: str, ranking: UnitRanking) -> str:
    """The units left out below the lowest ones: further along, or tied with the last one
    shown (all at 0 % early in a campaign), said as it is."""
    last = ranking.worst[-1].counts.completion or 0.0
    low, high = ranking.rest or (last, last)
    count = ranking.ranked - len(ranking.worst)
    if low > last:
        return texts.get(lang, "reports.more_units", count=count)
    key = "reports.more_units_same" if high == last else "reports.more_units_at_least"
    return texts.get(lang, key, count=count, percent=percent(last))


def summary_text(
    texts: Texts, lang: str, summary: Summary, now: datetime, zone: ZoneInfo
) -> str:
    lines = [texts.get(lang, "reports.title", campaign=summary.campaign_name)]
    lines.append(_countdown(texts, lang, summary))
    if summary.current_phase:
        lines.append(texts.get(lang, "reports.current_phase", phase=summary.current_phase))
    certification = certification_lines(texts, lang, summary.certification)
    if certification:
        lines += ["", *certification, ""]
    readiness = readiness_lines(texts, lang, summary.readiness)
    if summary.empty:
        lines.append(texts.get(lang, "reports.empty"))
        if readiness:
            lines += ["", *readiness]
        return "\n".join(lines)
    overall = summary.overall
    lines.append(texts.get(
        lang, "reports.overall", percent=percent(overall.completion), done=overall.done,
        active=overall.active, progress=percent((overall.mean_progress or 0) / 100),
    ))
    flags = texts.get(lang, "reports.overall_flags", overdue=overall.overdue,
                      blocked=overall.blocked)
    if overall.undated:
        flags += texts.get(lang, "reports.overall_undated", count=overall.undated)
    lines.append(flags)
    lines.append("")
    if summary.risk_total:
        lines.append(texts.get(lang, "reports.risks_header", count=summary.risk_total))
        lines.extend(task_line(texts, lang, line, now, zone) for line in summary.risks)
        if summary.risk_total > len(summary.risks):
            lines.append(texts.get(
                lang, "reports.more", count=summary.risk_total - len(summary.risks)
            ))
    else:
        lines.append(texts.get(lang, "reports.risks_none"))
    lines.append("")
    ranking = summary.units
    if ranking.worst:
        lines.append(texts.get(lang, "reports.units_header", count=ranking.ranked))
        for offset, standing in enumerate(ranking.worst):
            lines.append(texts.get(lang, "reports.rank_prefix", rank=ranking.ranked - offset)
                         + _counts_line(texts, lang, "reports.unit_line", standing.name,
                                        standing.counts))
        if ranking.rest:
            lines.append(_more_units(texts, lang, ranking))
        lines.append("")
    phases = [p for p in summary.phases if p.counts.total]
    if phases:
        lines.append(texts.get(lang, "reports.phases_header"))
        for phase in phases:
            name = phase.name or texts.plain(lang, "reports.no_phase")
            lines.append(_counts_line(texts, lang, "reports.phase_line", name, phase.counts))
        lines.append("")
    lines += readiness
    return "\n".join(lines).rstrip()


def summary_keyboard(texts: Texts, lang: str, summary: Summary) -> Keyboard | None:
    if summary.empty:
        return None
    rows: list[list[Button]] = []
    if summary.risk_total:
        # The indicators below name a few; this list holds every task at risk.
        rows.append([Button(texts.plain(lang, "reports.button_veto", count=summary.risk_total),
                            callbacks.page("veto", 0))])
    for indicator in summary.risky_indicators[:INDICATOR_BUTTONS]:
        label = texts.plain(
            lang, "reports.button_indicator",
            indicator=indicator_label(indicator.code, indicator.name)[:20],
            count=indicator.counts.overdue + indicator.counts.blocked,
        )
        rows.append([Button(label, report_cb("ind", indicator.id or 0))])
    units = summary.units.worst[:UNIT_BUTTONS]
    buttons = [
        Button(texts.plain(lang, "reports.button_unit", name=u.name[:12],
                        percent=percent(u.counts.completion)),
            report_cb("unit", u.id or 0),
        )
        for u in units
    ]
    rows.extend(buttons[i:i + 2] for i in range(0, len(buttons), 2))
    if summary.overall.overdue:
        rows.append([Button(texts.plain(lang, "reports.button_overdue", count=summary.overall.overdue),
            report_cb("ovd"),
        )])
    return Keyboard.of(rows) if rows else None


def list_text(
    texts: Texts,
    lang: str,
    header: str,
    lines: Sequence[TaskLine],
    page: Page,
    now: datetime,
    zone: ZoneInfo,
) -> str:
    if not lines:
        return "\n".join([header, texts.get(lang, "reports.list_empty")])
    body = [header, *(task_line(texts, lang, line, now, zone) for line in lines)]
    footer = page_footer(texts, lang, page)
    if footer:
        body.append(footer)
    return "\n".join(body)


def list_keyboard(
    texts: Texts,
    lang: str,
    lines: Sequence[TaskLine],
    page: Page,
    data: Callable[[int], str],
    *,
    back: bool = True,
) -> Keyboard | None:
    """A button for each task on the page, the way to the other pages, back to the summary.

    `data(offset)` is the callback data of the page at `offset`."""
    rows = [[task_button(line.id, line.title)] for line in lines]
    rows.append(page_buttons(texts, lang, page, data))
    if back:
        rows.append([Button(texts.plain(lang, "reports.button_back"), report_cb("sum"))])
    keyboard = Keyboard.of(rows)
    return keyboard or None


def unit_header(texts: Texts, lang: str, name: str, standing: Standing | None, total: int) -> str:
    rate = percent(standing.counts.completion) if standing else "—"
    return texts.get(lang, "reports.unit_header", name=name, count=total, percent=rate)
