"""/certify: the verdict, then what blocks certification, what is open and what is met, each
threshold with its value, limit and margin, and the details that explain it."""

from __future__ import annotations

from bot.core.keyboard import Button, Keyboard
from bot.indicators.certification import CheckKind
from bot.indicators.certify import CertificationView, CheckView
from bot.indicators.formatting import check_numbers, num, percent
from bot.indicators.status import State
from bot.indicators.views.common import STATE_MARK, ind_cb, phrase
from bot.texts import Texts


def check_line(texts: Texts, lang: str, item: CheckView, *, html: bool = True) -> str:
    check = item.check
    mark = STATE_MARK[check.state]
    value, limit, margin = check_numbers(check, item.places)
    if check.kind is CheckKind.COEFFICIENT:
        key = ("indicators.certify.coefficient_met" if check.state is State.MET
               else "indicators.certify.coefficient_not_met" if check.state is State.NOT_MET
               else "indicators.certify.coefficient_unknown")
        return phrase(texts, lang, html, key, mark=mark, name=check.name, value=value, limit=limit,
                    margin=margin)
    if check.kind is CheckKind.SCHOOL_RULE:
        return phrase(texts, lang, html, "indicators.certify.school_rule", mark=mark,
                    name=check.name, count=num(check.value, 0))
    if check.kind is CheckKind.VETO and check.value is None:
        key = ("indicators.certify.veto_clear" if check.state is State.MET
               else "indicators.certify.veto_found" if check.state is State.NOT_MET
               else "indicators.certify.veto_unknown")
        return phrase(texts, lang, html, key, mark=mark, name=check.name)
    if check.key == "veto:three_growths":
        return phrase(texts, lang, html, "indicators.certify.growths", mark=mark, name=check.name,
                    failed=num(check.value, 0), limit=num(check.threshold, 0))
    if check.key == "veto:core_standards":
        return phrase(texts, lang, html, "indicators.certify.core", mark=mark, name=check.name,
                    value=num(check.value, 0), limit=num(check.threshold, 0))
    if check.value is None:
        return phrase(texts, lang, html, "indicators.certify.no_value", mark=mark, name=check.name,
                    limit=limit)
    if check.kind is CheckKind.VETO:
        key = ("indicators.certify.veto_value_met" if check.state is State.MET
               else "indicators.certify.veto_value_not_met")
        return phrase(texts, lang, html, key, mark=mark, name=check.name, value=value,
                      limit=limit)
    key = ("indicators.certify.at_least_met" if check.state is State.MET
           else "indicators.certify.at_least_not_met")
    return phrase(texts, lang, html, key, mark=mark, name=check.name, value=value, limit=limit,
                margin=margin)


def _detail_lines(texts: Texts, lang: str, item: CheckView, html: bool) -> list[str]:
    lines = []
    if item.drivers and item.check.state is not State.MET:
        names = "、".join(texts.plain(lang, "indicators.certify.driver", school=d.name,
                                     share=percent(d.share),
                                     side=_side(texts, lang, d.above_mean))
                         for d in item.drivers)
        lines.append(phrase(texts, lang, html, "indicators.certify.drivers", schools=names))
    for school in item.failing[:5]:
        short = "、".join(f"{c.indicator.name} {percent(c.shortfall_share, 1)}"
                         for c in school.unmet)
        lines.append(phrase(texts, lang, html, "indicators.certify.failing_school",
                          school=school.record.name, short=short or "—"))
    if item.tasks is not None and item.check.state is not State.MET:
        tasks = item.tasks
        key = ("indicators.certify.tasks_none" if not tasks.total
               else "indicators.certify.tasks_overdue" if tasks.overdue
               else "indicators.certify.tasks")
        lines.append(phrase(texts, lang, html, key, code=tasks.code, done=tasks.done,
                          total=tasks.total, overdue=tasks.overdue))
    elif item.check.state is State.UNKNOWN and item.check.kind is CheckKind.VETO:
        lines.append(phrase(texts, lang, html, "indicators.certify.no_link"))
    return lines


def _side(texts: Texts, lang: str, above: bool) -> str:
    return texts.plain(lang, "indicators.certify.above" if above else "indicators.certify.below")


def certify_text(texts: Texts, lang: str, view: CertificationView, *, html: bool = True) -> str:
    year = view.year if view.year is not None else "—"
    lines = [phrase(texts, lang, html, "indicators.certify.title", standard=view.standard.title,
                  year=year)]
    state_key = ("indicators.certify.state_met" if view.state is State.MET
                 else "indicators.certify.state_not_met" if view.state is State.NOT_MET
                 else "indicators.certify.state_unknown")
    ordered = view.ordered()
    blocking = [c for c in ordered if c.check.state is State.NOT_MET]
    unknown = [c for c in ordered if c.check.state is State.UNKNOWN]
    met = [c for c in ordered if c.check.state is State.MET]
    lines.append(phrase(texts, lang, html, state_key, blocking=len(blocking), unknown=len(unknown)))
    if view.year is None:
        lines.append(phrase(texts, lang, html, "indicators.no_data"))
    for header, group in (("indicators.certify.blocking_header", blocking),
                          ("indicators.certify.unknown_header", unknown),
                          ("indicators.certify.met_header", met)):
        if not group:
            continue
        lines += ["", phrase(texts, lang, html, header, count=len(group))]
        for item in group:
            lines.append(check_line(texts, lang, item, html=html))
            if group is not met:
                lines.extend("　　" + line for line in _detail_lines(texts, lang, item, html))
    if view.gaps:
        names = "、".join(sorted({g.name for g in view.gaps}))
        lines += ["", phrase(texts, lang, html, "indicators.certify.gaps", schools=names)]
    return "\n".join(lines)


def certify_keyboard(texts: Texts, lang: str, view: CertificationView) -> Keyboard | None:
    if view.status is None or view.year is None:
        return None
    row = [Button(texts.plain(lang, "indicators.button.chart"), ind_cb("chart", 0))]
    if any(c.check.state is State.NOT_MET and c.check.kind in (CheckKind.COEFFICIENT,
                                                               CheckKind.SCHOOL_RULE)
           for c in view.checks):
        row.append(Button(texts.plain(lang, "indicators.button.plan"), ind_cb("plan", 0)))
    return Keyboard.of([row])
