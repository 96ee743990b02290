"""How quizzes, drills, searches and standings read in a chat, and the poll's buttons."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core import callbacks
from bot.core.keyboard import Button, Keyboard
from bot.core.paging import Page, page_buttons, page_footer
from bot.core.roster import indicator_label
from bot.quiz.drill import DrillScore
from bot.quiz.readiness import PersonReadiness, PersonStats, UnitReadiness
from bot.quiz.search import Hit
from bot.quiz.session import PollPlan
from bot.texts import Texts
from db.models import Question

RANK_UNITS = 15
RANK_PEOPLE = 20
BAR_CELLS = 5


def bar(share: float) -> str:
    filled = round(max(0.0, min(1.0, share)) * BAR_CELLS)
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def percent(share: float) -> int:
    return round(share * 100)


def ask_text(
    texts: Texts, lang: str, query: str, hits: Sequence[Hit], page: Page | None = None
) -> tuple[str, Keyboard | None]:
    """A page of /ask results, best first, and the buttons to the other pages."""
    if not hits:
        return texts.get(lang, "quiz.ask.none", query=query), None
    page = page or Page.at(0, len(hits), len(hits))
    lines = [texts.get(lang, "quiz.ask.header", query=query)]
    for hit in hits:
        doc = hit.doc
        if doc.kind == "indicator":
            veto = texts.plain(lang, "quiz.ask.veto") if doc.veto else ""
            label = indicator_label(doc.ref, doc.title)
            if doc.answer.strip():
                lines.append(texts.get(lang, "quiz.ask.indicator", indicator=label, veto=veto,
                                       description=doc.answer))
            else:
                lines.append(texts.get(lang, "quiz.ask.indicator_bare", indicator=label,
                                       veto=veto))
            continue
        lines.append(texts.get(lang, "quiz.ask.question", title=doc.title, answer=doc.answer))
        if doc.note and doc.note != doc.answer:
            lines.append(texts.get(lang, "quiz.ask.explanation", text=doc.note))
    footer = page_footer(texts, lang, page)
    if footer:
        lines.append(footer)
    keyboard = Keyboard.of([page_buttons(texts, lang, page,
                                         lambda at: callbacks.page("ask", at))])
    return "\n".join(lines), keyboard or None


def stats_text(texts: Texts, lang: str, name: str, stats: PersonStats) -> str:
    if stats.answers == 0:
        return texts.get(lang, "quiz.stats.none")
    lines = [
        texts.get(lang, "quiz.stats.header", name=name),
        texts.get(lang, "quiz.stats.overall", percent=percent(stats.overall),
                  answers=stats.answers, correct=stats.correct),
        texts.get(lang, "quiz.stats.due", count=stats.due),
    ]
    for row in sorted(stats.indicators, key=lambda r: r.code):
        lines.append(texts.get(lang, "quiz.stats.line", bar=bar(row.mastery),
                               indicator=indicator_label(row.code, row.name),
                               percent=percent(row.mastery)))
    weakest = [indicator_label(r.code, r.name) for r in stats.weakest() if r.mastery < 1]
    if weakest:
        lines.append(texts.get(lang, "quiz.stats.weakest", names="、".join(weakest)))
    return "\n".join(lines)


def rank_text(
    texts: Texts,
    lang: str,
    *,
    weekly: bool,
    threshold: float,
    units: Sequence[UnitReadiness],
    people: Sequence[PersonReadiness],
    unit_names: dict[int, str],
    units_page: Page | None,
    people_page: Page | None,
) -> tuple[str, Keyboard | None]:
    """/rank: a page of units and a page of people (or either alone, when paging through
    it), each ranked; `units` and `people` are the whole rankings."""
    if not people:
        return texts.get(lang, "quiz.rank.none"), None
    no_unit = texts.plain(lang, "quiz.rank.no_unit")
    scope = "week" if weekly else "all"
    lines = [
        texts.get(lang, "quiz.rank.header_week") if weekly
        else texts.get(lang, "quiz.rank.header_all", threshold=percent(threshold)),
    ]
    rows: list[list[Button]] = []
    if units_page is not None:
        lines.append(texts.get(lang, "quiz.rank.units"))
        for place in range(units_page.offset, units_page.end):
            unit = units[place]
            name = unit.name or no_unit
            if weekly:
                lines.append(texts.get(lang, "quiz.rank.unit_week", place=place + 1, name=name,
                                       points=f"{unit.week_points:.1f}", people=unit.people))
            else:
                lines.append(texts.get(lang, "quiz.rank.unit_all", place=place + 1, name=name,
                                       ready=unit.ready, people=unit.people,
                                       share=percent(unit.share_ready),
                                       mastery=percent(unit.mastery)))
        rows.append(_section_buttons(texts, lang, units_page, people_page is not None,
                                     "quiz.rank.more_units",
                                     lambda at: callbacks.page("rku", scope, at)))
    if people_page is not None:
        lines.append(texts.get(lang, "quiz.rank.people"))
        for place in range(people_page.offset, people_page.end):
            row = people[place]
            unit_name = unit_names.get(row.unit_id, no_unit) if row.unit_id else no_unit
            if weekly:
                lines.append(texts.get(lang, "quiz.rank.person_week", place=place + 1,
                                       name=row.name, unit=unit_name,
                                       points=f"{row.week_points:.1f}",
                                       correct=row.week_correct, answers=row.week_answers))
            else:
                lines.append(texts.get(lang, "quiz.rank.person_all", place=place + 1,
                                       name=row.name, unit=unit_name,
                                       mastery=percent(row.mastery)))
        rows.append(_section_buttons(texts, lang, people_page, units_page is not None,
                                     "quiz.rank.more_people",
                                     lambda at: callbacks.page("rkp", scope, at)))
    keyboard = Keyboard.of(rows)
    return "\n".join(lines), keyboard or None


def _section_buttons(
    texts: Texts, lang: str, page: Page, both: bool, more: str, data: Callable[[int], str]
) -> list[Button]:
    """With both rankings shown, a named "more" button each; paging through one, the
    usual page buttons and the range in its label."""
    if both:
        if not page.has_next:
            return []
        return [Button(texts.plain(lang, more, count=page.total - page.end),
                       data(page.next_offset))]
    return page_buttons(texts, lang, page, data)


def drill_result_text(texts: Texts, lang: str, question: Question, result: DrillScore) -> str:
    separator = "、" if lang == "zh" else "; "
    # "至少四项" questions: four of the points are the full answer.
    lines = [texts.get(lang, "quiz.drill.result", percent=result.percent,
                       covered=min(len(result.covered), result.required), total=result.required)]
    if result.covered:
        lines.append(texts.get(lang, "quiz.drill.covered", points=separator.join(result.covered)))
    if result.wrong:
        lines.append(texts.get(lang, "quiz.drill.wrong", points=separator.join(result.wrong)))
    if result.missed:
        lines.append(texts.get(lang, "quiz.drill.missed", points=separator.join(result.missed)))
    lines.append(texts.get(lang, "quiz.drill.model", answer=question.model_answer))
    return "\n".join(lines)


def poll_keyboard(texts: Texts, lang: str, plan: PollPlan) -> Keyboard:
    return Keyboard.of([[
        Button(texts.plain(lang, "quiz.button_skip"),
               callbacks.build(callbacks.QUIZ, "skip", plan.session_id, plan.question_id)),
        Button(texts.plain(lang, "quiz.button_stop"),
               callbacks.build(callbacks.QUIZ, "stop", plan.session_id)),
    ]])
