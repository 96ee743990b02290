"""How the indicator data reads in a chat (HTML) or a terminal (plain), and its buttons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import callbacks
from bot.core.keyboard import MAX_BUTTONS, Button, Keyboard
from bot.core.paging import Page, page_buttons, page_footer
from bot.indicators.certification import CheckKind
from bot.indicators.certify import CertificationView, CheckView
from bot.indicators.formatting import check_numbers, fixed, num, percent
from bot.indicators.importing import ImportPreview, ImportResult
from bot.indicators.names import resource_label, resource_name
from bot.indicators.planner import Outcome, TargetKind
from bot.indicators.planning import PlannedTask, PlanView, TasksPreview, WhatIfView
from bot.indicators.records import Level, Resource
from bot.indicators.schools import PARTS, Corrected, Field, SchoolView, amount_needed
from bot.indicators.standards import SetKind
from bot.indicators.status import State
from bot.indicators.workbook import BookError, part_label
from bot.texts import Markup, Texts
from db.models import FigurePart, SchoolLevel

MAX_LINES = 12
MAX_ERRORS = 20
STATE_MARK = {State.MET: "✅", State.NOT_MET: "❌", State.UNKNOWN: "❔"}


def ind_cb(action: str, *args: int) -> str:
    return callbacks.build(callbacks.INDICATORS, action, *args)


def _phrase(texts: Texts, lang: str, html: bool, key: str, **params: Any) -> str:
    """One catalog text, escaped for a chat or plain for a terminal."""
    return texts.get(lang, key, **params) if html else texts.plain(lang, key, **params)


# Certification -----------------------------------------------------------------------------
def check_line(texts: Texts, lang: str, item: CheckView, *, html: bool = True) -> str:
    check = item.check
    mark = STATE_MARK[check.state]
    value, limit, margin = check_numbers(check, item.places)
    if check.kind is CheckKind.COEFFICIENT:
        key = ("indicators.certify.coefficient_met" if check.state is State.MET
               else "indicators.certify.coefficient_not_met" if check.state is State.NOT_MET
               else "indicators.certify.coefficient_unknown")
        return _phrase(texts, lang, html, key, mark=mark, name=check.name, value=value, limit=limit,
                    margin=margin)
    if check.kind is CheckKind.SCHOOL_RULE:
        return _phrase(texts, lang, html, "indicators.certify.school_rule", mark=mark,
                    name=check.name, count=num(check.value, 0))
    if check.kind is CheckKind.VETO and check.value is None:
        key = ("indicators.certify.veto_clear" if check.state is State.MET
               else "indicators.certify.veto_found" if check.state is State.NOT_MET
               else "indicators.certify.veto_unknown")
        return _phrase(texts, lang, html, key, mark=mark, name=check.name)
    if check.key == "veto:three_growths":
        return _phrase(texts, lang, html, "indicators.certify.growths", mark=mark, name=check.name,
                    failed=num(check.value, 0), limit=num(check.threshold, 0))
    if check.key == "veto:core_standards":
        return _phrase(texts, lang, html, "indicators.certify.core", mark=mark, name=check.name,
                    value=num(check.value, 0), limit=num(check.threshold, 0))
    if check.value is None:
        return _phrase(texts, lang, html, "indicators.certify.no_value", mark=mark, name=check.name,
                    limit=limit)
    if check.kind is CheckKind.VETO:
        key = ("indicators.certify.veto_value_met" if check.state is State.MET
               else "indicators.certify.veto_value_not_met")
        return _phrase(texts, lang, html, key, mark=mark, name=check.name, value=value,
                       limit=limit)
    key = ("indicators.certify.at_least_met" if check.state is State.MET
           else "indicators.certify.at_least_not_met")
    return _phrase(texts, lang, html, key, mark=mark, name=check.name, value=value, limit=limit,
                margin=margin)


def _detail_lines(texts: Texts, lang: str, item: CheckView, html: bool) -> list[str]:
    lines = []
    if item.drivers and item.check.state is not State.MET:
        names = "、".join(texts.plain(lang, "indicators.certify.driver", school=d.name,
                                     share=percent(d.share),
                                     side=_side(texts, lang, d.above_mean))
                         for d in item.drivers)
        lines.append(_phrase(texts, lang, html, "indicators.certify.drivers", schools=names))
    for school in item.failing[:5]:
        short = "、".join(f"{c.indicator.name} {percent(c.shortfall_share, 1)}"
                         for c in school.unmet)
        lines.append(_phrase(texts, lang, html, "indicators.certify.failing_school",
                          school=school.record.name, short=short or "—"))
    if item.tasks is not None and item.check.state is not State.MET:
        tasks = item.tasks
        key = ("indicators.certify.tasks_none" if not tasks.total
               else "indicators.certify.tasks_overdue" if tasks.overdue
               else "indicators.certify.tasks")
        lines.append(_phrase(texts, lang, html, key, code=tasks.code, done=tasks.done,
                          total=tasks.total, overdue=tasks.overdue))
    elif item.check.state is State.UNKNOWN and item.check.kind is CheckKind.VETO:
        lines.append(_phrase(texts, lang, html, "indicators.certify.no_link"))
    return lines


def _side(texts: Texts, lang: str, above: bool) -> str:
    return texts.plain(lang, "indicators.certify.above" if above else "indicators.certify.below")


def value_text(value: Fraction | None) -> str:
    """An indicator's value: two decimals, three for the small per-student teacher counts."""
    if value is not None and abs(value) < 1:
        return num(value, 3)
    return num(value)


def certify_text(texts: Texts, lang: str, view: CertificationView, *, html: bool = True) -> str:
    year = view.year if view.year is not None else "—"
    lines = [_phrase(texts, lang, html, "indicators.certify.title", standard=view.standard.title,
                  year=year)]
    state_key = ("indicators.certify.state_met" if view.state is State.MET
                 else "indicators.certify.state_not_met" if view.state is State.NOT_MET
                 else "indicators.certify.state_unknown")
    ordered = view.ordered()
    blocking = [c for c in ordered if c.check.state is State.NOT_MET]
    unknown = [c for c in ordered if c.check.state is State.UNKNOWN]
    met = [c for c in ordered if c.check.state is State.MET]
    lines.append(_phrase(texts, lang, html, state_key, blocking=len(blocking), unknown=len(unknown)))
    if view.year is None:
        lines.append(_phrase(texts, lang, html, "indicators.no_data"))
    for header, group in (("indicators.certify.blocking_header", blocking),
                          ("indicators.certify.unknown_header", unknown),
                          ("indicators.certify.met_header", met)):
        if not group:
            continue
        lines += ["", _phrase(texts, lang, html, header, count=len(group))]
        for item in group:
            lines.append(check_line(texts, lang, item, html=html))
            if group is not met:
                lines.extend("　　" + line for line in _detail_lines(texts, lang, item, html))
    if view.gaps:
        names = "、".join(sorted({g.name for g in view.gaps}))
        lines += ["", _phrase(texts, lang, html, "indicators.certify.gaps", schools=names)]
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


# A school ----------------------------------------------------------------------------------
def _part_name(texts: Texts, lang: str, part: FigurePart, nine: bool) -> str:
    return part_label(part, nine, lang)


def school_text(texts: Texts, lang: str, view: SchoolView, zone: ZoneInfo, *,
                html: bool = True) -> str:
    school = view.school
    nine = school.level is SchoolLevel.NINE_YEAR
    level_key = ("indicators.level.unknown" if school.level is None
                 else "indicators.level.nine_year" if school.level is SchoolLevel.NINE_YEAR
                 else "indicators.level.primary" if school.level is SchoolLevel.PRIMARY
                 else "indicators.level.junior")
    level = texts.plain(lang, level_key)
    lines = [_phrase(texts, lang, html, "indicators.school.title", school=school.name, level=level,
                  year=view.year if view.year is not None else "—",
                  township=school.township or "—")]
    if not view.figures and not view.parts:
        lines.append(_phrase(texts, lang, html, "indicators.school.no_figures"))
    if view.figures:
        lines += ["", _phrase(texts, lang, html, "indicators.school.figures_header")]
        current: FigurePart | None = None
        for line in view.figures:
            if nine and line.part is not current:
                current = line.part
                lines.append(_phrase(texts, lang, html, "indicators.school.part_header",
                                  part=_part_name(texts, lang, line.part, True)))
            lines.append(_phrase(texts, lang, html, "indicators.school.figure",
                              name=resource_name(line.resource, lang),
                              value=num(line.amount), unit=line.resource.unit))
    for part in view.parts:
        lines += ["", _phrase(texts, lang, html, "indicators.school.indicators_header",
                           level=part.level.zh if lang != "en" else part.level.value,
                           students=part.students)]
        if part.composite_share is not None and part.composite_rank is not None:
            lines.append(_phrase(texts, lang, html, "indicators.school.composite_share",
                              level=part.level.zh if lang != "en" else part.level.value,
                              share=percent(part.composite_share), rank=part.composite_rank,
                              count=part.composite_count))
        for item in part.indicators:
            text = _phrase(texts, lang, html, "indicators.school.indicator",
                        name=item.indicator.name, value=value_text(item.value),
                        unit=item.indicator.unit, county=value_text(item.county_value),
                        share=percent(item.share))
            check = item.minimum
            if check is not None and check.met is True:
                text += _phrase(texts, lang, html, "indicators.school.minimum_met",
                             minimum=num(check.minimum))
            elif check is not None and check.met is False:
                resource = check.indicator.resource
                text += _phrase(texts, lang, html, "indicators.school.minimum_missed",
                             minimum=num(check.minimum), short=num(check.shortfall),
                             percent=percent(check.shortfall_share, 1),
                             need=num(amount_needed(check), 0), unit=resource.unit,
                             resource=resource_name(resource, lang))
            lines.append(text)
    if view.history:
        lines += ["", _phrase(texts, lang, html, "indicators.school.history_header")]
        for change in view.history:
            changed = view.resources.get(change.resource)
            name = resource_name(changed, lang) if changed else change.resource
            lines.append(_phrase(texts, lang, html, "indicators.school.history_line",
                              when=change.at.astimezone(zone).strftime("%m-%d %H:%M"),
                              who=change.who or "—",
                              name=name, old=num(change.old), new=num(change.new),
                              source=_source(texts, lang, change.source)))
    if view.editable:
        lines += ["", _phrase(texts, lang, html, "indicators.school.edit_hint")]
    return "\n".join(lines)


def _source(texts: Texts, lang: str, source: str) -> str:
    key = ("indicators.source.import" if source == "import"
           else "indicators.source.chat" if source == "chat"
           else "indicators.source.sample" if source == "sample"
           else "indicators.source.cli")
    return texts.plain(lang, key)


def school_keyboard(texts: Texts, lang: str, view: SchoolView) -> Keyboard | None:
    if not view.editable or not view.school.levels:
        return None
    return Keyboard.of([[Button(texts.plain(lang, "indicators.button.edit"),
                                ind_cb("edit", view.school.unit_id))]])


SCHOOL_PAGE = 10


def schools_page(texts: Texts, lang: str, schools: Sequence[Any], offset: int
                 ) -> tuple[str, Keyboard]:
    """A page of the schools one may open, two buttons a row, and the way on."""
    page = Page.at(offset, SCHOOL_PAGE, len(schools))
    shown = schools[page.offset:page.end]
    buttons = [Button(s.name[:30], ind_cb("school", s.unit_id)) for s in shown]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append(page_buttons(texts, lang, page, lambda at: callbacks.page("sch", at)))
    text = texts.get(lang, "indicators.school.choose")
    footer = page_footer(texts, lang, page)
    return (f"{text}\n{footer}" if footer else text), Keyboard.of(rows)


def fields_keyboard(texts: Texts, lang: str, unit_id: int, nine: bool, fields: Sequence[Field],
                    order: Sequence[str]) -> Keyboard:
    buttons = []
    for field in fields:
        label = resource_name(field.resource, lang)
        if nine:
            label = f"{_part_name(texts, lang, field.part, True)}·{label}"
        buttons.append(Button(label[:30], ind_cb("field", unit_id, PARTS.index(field.part),
                                                 order.index(field.resource.id))))
    return Keyboard.of(buttons[i:i + 2] for i in range(0, min(len(buttons), MAX_BUTTONS), 2))


def prompt_text(texts: Texts, lang: str, school: str, part: FigurePart, nine: bool,
                resource: Resource, current: Fraction | None) -> str:
    name = resource_label(resource, lang)
    if nine:
        name = f"{_part_name(texts, lang, part, True)} {name}"
    return texts.get(lang, "indicators.school.prompt", school=school, name=name,
                     current=num(current))


def corrected_text(texts: Texts, lang: str, corrected: Sequence[Corrected], *,
                   html: bool = True) -> str:
    lines = []
    for item in corrected:
        lines.append(_phrase(texts, lang, html, "indicators.school.corrected", school=item.school,
                          name=resource_name(item.resource, lang), old=num(item.old),
                          new=num(item.new), unit=item.resource.unit))
        if item.indicator is not None and item.value_before != item.value_after:
            lines.append(_phrase(texts, lang, html, "indicators.school.corrected_value",
                              name=item.indicator.name, old=num(item.value_before),
                              new=num(item.value_after), unit=item.indicator.unit))
    if corrected and all(i.old == i.new for i in corrected):
        lines = [_phrase(texts, lang, html, "indicators.school.unchanged")]
    return "\n".join(lines)


# What-if and the plan --------------------------------------------------------------------
def _requested_line(texts: Texts, lang: str, item: Any, html: bool) -> str:
    sign = "+" if item.amount > 0 else "−"
    name = item.resource.name if item.indicator is None else item.indicator
    part = f"（{item.level.zh}）" if item.level is not None else ""
    return _phrase(texts, lang, html, "indicators.whatif.change", school=item.school + part,
                name=name, amount=f"{sign}{num(abs(item.amount))}",
                unit=item.resource.unit if item.indicator is None else "")


def whatif_text(texts: Texts, lang: str, view: WhatIfView, *, html: bool = True) -> str:
    standard = view.county.standard
    lines = [_phrase(texts, lang, html, "indicators.whatif.title", year=view.county.year)]
    lines += ["　" + _requested_line(texts, lang, item, html) for item in view.requested]
    lines.append("")
    places = standard.coefficient.display_decimals
    unchanged = []
    for delta in view.result.coefficients:
        name = (f"{delta.level.zh}综合差异系数" if delta.indicator is None
                else f"{delta.level.zh}{delta.indicator.name}差异系数")
        if delta.difference in (None, Decimal(0)):
            if delta.indicator is None:
                unchanged.append(name)
            continue
        state = delta.state_after
        # A basic set judges only the composite: its indicators have no limit of their own.
        judged = delta.indicator is None or standard.kind is not SetKind.BASIC
        shown = places + 2 if delta.indicator is None else places
        if judged:
            lines.append(_phrase(texts, lang, html, "indicators.whatif.line",
                                 mark=STATE_MARK[state] if state is not None else "·", name=name,
                                 before=fixed(delta.before, shown), after=fixed(delta.after, shown),
                                 limit=num(standard.threshold(delta.level))))
        else:
            lines.append(_phrase(texts, lang, html, "indicators.whatif.line_part", name=name,
                                 before=fixed(delta.before, shown),
                                 after=fixed(delta.after, shown)))
    if unchanged:
        lines.append(_phrase(texts, lang, html, "indicators.whatif.unchanged",
                             names="、".join(unchanged)))
    for school_id, level, before, after in view.result.schools_changed:
        school = view.county.school(int(school_id))
        lines.append(_phrase(texts, lang, html, "indicators.whatif.school_changed",
                          school=school.name if school else school_id, level=level.zh,
                          before=STATE_MARK[before], after=STATE_MARK[after]))
    return "\n".join(lines)


def _target(texts: Texts, lang: str, target: TargetKind) -> str:
    key = ("indicators.target.minimum" if target is TargetKind.MINIMUM
           else "indicators.target.floor" if target is TargetKind.FLOOR
           else "indicators.target.county_value")
    return texts.plain(lang, key)


def plan_text(texts: Texts, lang: str, view: PlanView, *, html: bool = True) -> str:
    plan = view.plan
    standard = plan.standard
    lines = [_phrase(texts, lang, html, "indicators.plan.title", year=view.county.year,
                  standard=standard.title)]
    for level_plan in plan.levels:
        level = level_plan.level.zh if lang != "en" else level_plan.level.value
        if level_plan.outcome is Outcome.ALREADY_MET:
            lines.append(_phrase(texts, lang, html, "indicators.plan.level_met", level=level))
            continue
        if level_plan.outcome is Outcome.INCOMPLETE_DATA:
            lines.append(_phrase(texts, lang, html, "indicators.plan.level_incomplete", level=level))
            continue
        if level_plan.outcome is Outcome.UNREACHABLE:
            lines.append(_phrase(texts, lang, html, "indicators.plan.level_unreachable", level=level))
            continue
        proven = ("indicators.plan.proven" if level_plan.count_proven
                  else "indicators.plan.not_proven")
        lines.append(_phrase(texts, lang, html, "indicators.plan.level_header", level=level,
                          count=level_plan.count, proof=texts.plain(lang, proven)))
        for rank, item in enumerate(level_plan.improvements, start=1):
            lines.append(_phrase(
                texts, lang, html, "indicators.plan.item", rank=rank, school=item.name,
                indicator=item.indicator.name, resource=resource_name(item.resource, lang),
                amount=num(item.quantity), unit=item.resource.unit,
                before=value_text(item.value_before), after=value_text(item.value_after),
                target=_target(texts, lang, item.target)))
    lines.append("")
    places = standard.coefficient.display_decimals
    for delta in plan.effect.coefficients:
        if standard.kind is SetKind.BASIC and delta.indicator is not None:
            continue
        if delta.difference in (None, Decimal(0)):
            continue
        name = (f"{delta.level.zh}综合差异系数" if delta.indicator is None
                else f"{delta.level.zh}{delta.indicator.name}差异系数")
        shown = places + 2 if delta.indicator is None else places
        lines.append(_phrase(texts, lang, html, "indicators.plan.effect", name=name,
                          before=fixed(delta.before, shown), after=fixed(delta.after, shown),
                          limit=num(standard.threshold(delta.level))))
    if not plan.improvements and plan.reachable:
        lines.append(_phrase(texts, lang, html, "indicators.plan.nothing"))
    return "\n".join(lines).rstrip()


def plan_keyboard(texts: Texts, lang: str, view: PlanView, *, office: bool) -> Keyboard | None:
    if view.plan_id is None or not office:
        return None
    return Keyboard.of([[Button(texts.plain(lang, "indicators.button.tasks"),
                                ind_cb("tasks", view.plan_id))]])


def planned_item(texts: Texts, lang: str, item: Mapping[str, Any]) -> str:
    return texts.plain(lang, "indicators.task.item", indicator=item["indicator_name"],
                       resource=item["resource_name"], amount=num(Decimal(item["quantity"])),
                       unit=item["unit"], before=num(Decimal(item["before"])),
                       after=num(Decimal(item["after"])), indicator_unit=item["indicator_unit"])


def planned_title(texts: Texts, lang: str, task: PlannedTask) -> str:
    items = "、".join(texts.plain(lang, "indicators.task.short", resource=i["resource_name"],
                                 amount=num(Decimal(i["quantity"])), unit=i["unit"])
                     for i in task.items)
    return texts.plain(lang, "indicators.task.title", school=task.school, items=items)


def planned_description(texts: Texts, lang: str, task: PlannedTask, year: int) -> str:
    lines = [planned_item(texts, lang, item) for item in task.items]
    lines.append(texts.plain(lang, "indicators.task.footer", year=year))
    return "\n".join(lines)


def tasks_preview_text(texts: Texts, lang: str, preview: TasksPreview, due: str) -> str:
    lines = [texts.get(lang, "indicators.tasks.title", count=len(preview.tasks), due=due)]
    for task in preview.tasks:
        key = "indicators.tasks.line_update" if task.exists else "indicators.tasks.line"
        lines.append(texts.get(lang, key, title=planned_title(texts, lang, task),
                               owner=task.owner or "—", code=task.indicator_code or "—"))
    if preview.without_owner:
        lines.append(texts.get(lang, "indicators.tasks.no_owner",
                               schools="、".join(preview.without_owner)))
    if any(t.indicator_id is None for t in preview.tasks):
        lines.append(texts.get(lang, "indicators.tasks.no_link"))
    return "\n".join(lines)


def tasks_keyboard(texts: Texts, lang: str, plan_id: int) -> Keyboard:
    return Keyboard.of([[Button(texts.plain(lang, "indicators.button.confirm_tasks"),
                                ind_cb("tok", plan_id)),
                         Button(texts.plain(lang, "indicators.button.cancel"),
                                ind_cb("tno", plan_id))]])


def tasks_done_text(texts: Texts, lang: str, created: Sequence[Any], updated: Sequence[Any]
                    ) -> str:
    lines = [texts.get(lang, "indicators.tasks.done", created=len(created), updated=len(updated))]
    lines += [texts.get(lang, "indicators.tasks.done_line", id=t.id, title=t.title)
              for t in [*created, *updated]]
    return "\n".join(lines)


# The workbook import -----------------------------------------------------------------------
def book_error(texts: Texts, lang: str, error: BookError, *, html: bool) -> str:
    message = _phrase(texts, lang, html, error.message_id, **error.params)
    return _phrase(texts, lang, html, "indicators.import.row_error", sheet=error.sheet,
                row=error.row, column=error.column or "—",
                message=Markup(message) if html else message)


def import_preview_text(texts: Texts, lang: str, preview: ImportPreview, *, html: bool,
                        max_errors: int | None = MAX_ERRORS) -> str:
    def say(key: str, **params: Any) -> str:
        return _phrase(texts, lang, html, key, **params)

    lines = [say("indicators.import.title", file=preview.file_name, year=preview.year,
                 standard=preview.standard)]
    if preview.other_standard:
        lines.append(say("indicators.import.other_standard", other=preview.other_standard))
    lines.append(say("indicators.import.counts", rows=preview.school_rows,
                     schools=preview.schools, changed=preview.changed,
                     unchanged=preview.unchanged))
    if preview.new_levels:
        lines.append(say("indicators.import.new_levels", schools="、".join(preview.new_levels)))
    others = [(preview.survey, "indicators.import.survey"),
              (preview.budgets, "indicators.import.budgets"),
              (preview.disabled, "indicators.import.disabled"),
              (preview.marks, "indicators.import.marks")]
    lines.extend(say(key, count=count) for count, key in others if count)
    if preview.blank and not preview.errors:
        lines.append(say("indicators.import.blank", count=preview.blank))
    if preview.errors:
        lines += ["", say("indicators.import.errors", count=len(preview.errors))]
        shown = preview.errors if max_errors is None else preview.errors[:max_errors]
        lines.extend("• " + book_error(texts, lang, e, html=html) for e in shown)
        if len(shown) < len(preview.errors):
            lines.append(say("indicators.import.more_errors",
                             count=len(preview.errors) - len(shown)))
    elif preview.writes:
        lines.append(say("indicators.import.ok"))
    else:
        lines.append(say("indicators.import.nothing"))
    return "\n".join(lines)


def import_keyboard(texts: Texts, lang: str, import_id: int) -> Keyboard:
    return Keyboard.of([[Button(texts.plain(lang, "indicators.button.confirm_import"),
                                ind_cb("iok", import_id)),
                         Button(texts.plain(lang, "indicators.button.cancel"),
                                ind_cb("ino", import_id))]])


def import_result_text(texts: Texts, lang: str, result: ImportResult, *, html: bool = True
                       ) -> str:
    return _phrase(texts, lang, html, "indicators.import.done", year=result.year,
                changed=result.changed, schools=result.schools, survey=result.survey,
                budgets=result.budgets, disabled=result.disabled, marks=result.marks)


def level_name(level: Level, lang: str) -> str:
    return level.zh if lang != "en" else level.value
