"""/school: a school's figures and indicators, the schools one may open in pages, the
fields to correct and the prompt for one, and what a correction changed."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import callbacks
from bot.core.keyboard import MAX_BUTTONS, Button, Keyboard
from bot.core.paging import Page, page_buttons, page_footer
from bot.indicators.corrections import PARTS, Corrected, Field
from bot.indicators.formatting import num, percent
from bot.indicators.names import resource_label, resource_name
from bot.indicators.records import Resource
from bot.indicators.schools import SchoolView, amount_needed
from bot.indicators.views.common import ind_cb, phrase, value_text
from bot.indicators.workbook.layout import part_label
from bot.texts import Texts
from db.models import FigurePart, SchoolLevel


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
    lines = [phrase(texts, lang, html, "indicators.school.title", school=school.name, level=level,
                  year=view.year if view.year is not None else "—",
                  township=school.township or "—")]
    if not view.figures and not view.parts:
        lines.append(phrase(texts, lang, html, "indicators.school.no_figures"))
    if view.figures:
        lines += ["", phrase(texts, lang, html, "indicators.school.figures_header")]
        current: FigurePart | None = None
        for line in view.figures:
            if nine and line.part is not current:
                current = line.part
                lines.append(phrase(texts, lang, html, "indicators.school.part_header",
                                  part=_part_name(texts, lang, line.part, True)))
            lines.append(phrase(texts, lang, html, "indicators.school.figure",
                              name=resource_name(line.resource, lang),
                              value=num(line.amount), unit=line.resource.unit))
    for part in view.parts:
        lines += ["", phrase(texts, lang, html, "indicators.school.indicators_header",
                           level=part.level.zh if lang != "en" else part.level.value,
                           students=part.students)]
        if part.composite_share is not None and part.composite_rank is not None:
            lines.append(phrase(texts, lang, html, "indicators.school.composite_share",
                              level=part.level.zh if lang != "en" else part.level.value,
                              share=percent(part.composite_share), rank=part.composite_rank,
                              count=part.composite_count))
        for item in part.indicators:
            text = phrase(texts, lang, html, "indicators.school.indicator",
                        name=item.indicator.name, value=value_text(item.value),
                        unit=item.indicator.unit, county=value_text(item.county_value),
                        share=percent(item.share))
            check = item.minimum
            if check is not None and check.met is True:
                text += phrase(texts, lang, html, "indicators.school.minimum_met",
                             minimum=num(check.minimum))
            elif check is not None and check.met is False:
                resource = check.indicator.resource
                text += phrase(texts, lang, html, "indicators.school.minimum_missed",
                             minimum=num(check.minimum), short=num(check.shortfall),
                             percent=percent(check.shortfall_share, 1),
                             need=num(amount_needed(check), 0), unit=resource.unit,
                             resource=resource_name(resource, lang))
            lines.append(text)
    if view.history:
        lines += ["", phrase(texts, lang, html, "indicators.school.history_header")]
        for change in view.history:
            changed = view.resources.get(change.resource)
            name = resource_name(changed, lang) if changed else change.resource
            lines.append(phrase(texts, lang, html, "indicators.school.history_line",
                              when=change.at.astimezone(zone).strftime("%m-%d %H:%M"),
                              who=change.who or "—",
                              name=name, old=num(change.old), new=num(change.new),
                              source=_source(texts, lang, change.source)))
    if view.editable:
        lines += ["", phrase(texts, lang, html, "indicators.school.edit_hint")]
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
        lines.append(phrase(texts, lang, html, "indicators.school.corrected", school=item.school,
                          name=resource_name(item.resource, lang), old=num(item.old),
                          new=num(item.new), unit=item.resource.unit))
        if item.indicator is not None and item.value_before != item.value_after:
            lines.append(phrase(texts, lang, html, "indicators.school.corrected_value",
                              name=item.indicator.name, old=num(item.value_before),
                              new=num(item.value_after), unit=item.indicator.unit))
    if corrected and all(i.old == i.new for i in corrected):
        lines = [phrase(texts, lang, html, "indicators.school.unchanged")]
    return "\n".join(lines)
