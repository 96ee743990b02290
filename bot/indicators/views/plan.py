"""/plan: the ranked improvements per level and their effect, and the tasks a plan becomes
(their titles and descriptions, the preview, the confirmation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bot.core.keyboard import Button, Keyboard
from bot.indicators.formatting import fixed, num
from bot.indicators.names import resource_name
from bot.indicators.planner import Outcome, TargetKind
from bot.indicators.planning import PlannedTask, PlanView, TasksPreview
from bot.indicators.standards import SetKind
from bot.indicators.views.common import ind_cb, phrase, value_text
from bot.texts import Texts


def _target(texts: Texts, lang: str, target: TargetKind) -> str:
    key = ("indicators.target.minimum" if target is TargetKind.MINIMUM
           else "indicators.target.floor" if target is TargetKind.FLOOR
           else "indicators.target.county_value")
    return texts.plain(lang, key)


def plan_text(texts: Texts, lang: str, view: PlanView, *, html: bool = True) -> str:
    plan = view.plan
    standard = plan.standard
    lines = [phrase(texts, lang, html, "indicators.plan.title", year=view.county.year,
                  standard=standard.title)]
    for level_plan in plan.levels:
        level = level_plan.level.zh if lang != "en" else level_plan.level.value
        if level_plan.outcome is Outcome.ALREADY_MET:
            lines.append(phrase(texts, lang, html, "indicators.plan.level_met", level=level))
            continue
        if level_plan.outcome is Outcome.INCOMPLETE_DATA:
            lines.append(phrase(texts, lang, html, "indicators.plan.level_incomplete", level=level))
            continue
        if level_plan.outcome is Outcome.UNREACHABLE:
            lines.append(phrase(texts, lang, html, "indicators.plan.level_unreachable", level=level))
            continue
        proven = ("indicators.plan.proven" if level_plan.count_proven
                  else "indicators.plan.not_proven")
        lines.append(phrase(texts, lang, html, "indicators.plan.level_header", level=level,
                          count=level_plan.count, proof=texts.plain(lang, proven)))
        for rank, item in enumerate(level_plan.improvements, start=1):
            lines.append(phrase(
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
        lines.append(phrase(texts, lang, html, "indicators.plan.effect", name=name,
                          before=fixed(delta.before, shown), after=fixed(delta.after, shown),
                          limit=num(standard.threshold(delta.level))))
    if not plan.improvements and plan.reachable:
        lines.append(phrase(texts, lang, html, "indicators.plan.nothing"))
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
