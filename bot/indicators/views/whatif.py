"""/whatif: the changes asked for, every coefficient that moves before → after, the ones
that do not, and the schools whose standing against the minimums changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.indicators.formatting import fixed, num
from bot.indicators.planning import WhatIfView
from bot.indicators.standards import SetKind
from bot.indicators.views.common import STATE_MARK, phrase
from bot.texts import Texts


def _requested_line(texts: Texts, lang: str, item: Any, html: bool) -> str:
    sign = "+" if item.amount > 0 else "−"
    name = item.resource.name if item.indicator is None else item.indicator
    part = f"（{item.level.zh}）" if item.level is not None else ""
    return phrase(texts, lang, html, "indicators.whatif.change", school=item.school + part,
                name=name, amount=f"{sign}{num(abs(item.amount))}",
                unit=item.resource.unit if item.indicator is None else "")


def whatif_text(texts: Texts, lang: str, view: WhatIfView, *, html: bool = True) -> str:
    standard = view.county.standard
    lines = [phrase(texts, lang, html, "indicators.whatif.title", year=view.county.year)]
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
            lines.append(phrase(texts, lang, html, "indicators.whatif.line",
                                mark=STATE_MARK[state] if state is not None else "·", name=name,
                                before=fixed(delta.before, shown), after=fixed(delta.after, shown),
                                limit=num(standard.threshold(delta.level))))
        else:
            lines.append(phrase(texts, lang, html, "indicators.whatif.line_part", name=name,
                                before=fixed(delta.before, shown),
                                after=fixed(delta.after, shown)))
    if unchanged:
        lines.append(phrase(texts, lang, html, "indicators.whatif.unchanged",
                            names="、".join(unchanged)))
    for school_id, level, before, after in view.result.schools_changed:
        school = view.county.school(int(school_id))
        lines.append(phrase(texts, lang, html, "indicators.whatif.school_changed",
                          school=school.name if school else school_id, level=level.zh,
                          before=STATE_MARK[before], after=STATE_MARK[after]))
    return "\n".join(lines)
