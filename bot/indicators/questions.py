"""Quiz questions from the county's own figures: "我县小学综合差异系数是多少？",
"哪所学校生均图书册数未达标？", whether a coefficient meets its threshold, which school pulls
it up most. Staff must answer these from memory ("张口能答"), and they change with the data.

Generated after every confirmed import (and by `inspectbot indicators questions`) and
loaded through the bank's own import (`bot.quiz.bank.import_bank`), keyed so that the same
question is rewritten in place when the figures change — people's review history stays,
and a question never keeps an answer the data no longer gives. The `source` field marks
them as generated from the county's data of that school year.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from bot.indicators.balance import county_balance
from bot.indicators.certify import composite_drivers, link_for
from bot.indicators.data import County, Standards, load_county
from bot.indicators.numbers import round_half_up
from bot.indicators.records import Level
from bot.indicators.schools import minimum_checks
from bot.indicators.standards import SetKind
from bot.quiz.bank import Bank, ImportResult, IndicatorSpec, QuestionSpec, import_bank
from db.models import QuestionKind
from db.repositories import indicators as repo

FALLBACK_CODE = "JH"  # the starter bank's 均衡发展认定 topic
FALLBACK = IndicatorSpec(FALLBACK_CODE, "均衡发展认定")
PREFIX = "gen-ind"
MAX_SCHOOL_OPTIONS = 6


def _two(value: Decimal) -> Decimal:
    return round_half_up(Fraction(value), 2)


def _distractors(correct: Decimal, seed: str) -> list[Decimal]:
    """Three plausible wrong coefficients near the right one, all different at 2 places."""
    rng = random.Random(seed)
    steps = [Decimal("-0.12"), Decimal("-0.07"), Decimal("-0.04"), Decimal("0.04"),
             Decimal("0.07"), Decimal("0.12")]
    rng.shuffle(steps)
    found: list[Decimal] = []
    for step in steps:
        value = correct + step
        if value > 0 and value not in found and value != correct:
            found.append(value)
        if len(found) == 3:
            break
    return found


def _shuffled(options: list[str], correct: set[int], seed: str) -> tuple[list[str], list[int]]:
    order = list(range(len(options)))
    random.Random(seed).shuffle(order)
    return [options[i] for i in order], sorted(n for n, i in enumerate(order) if i in correct)


def build_questions(county: County, codes: dict[str, str]) -> list[QuestionSpec]:
    """The questions the county's figures give; `codes` maps a check key to the campaign
    indicator it is linked to (the question's topic), else the fallback topic."""
    if not county.records or county.year is None:
        return []
    standard = county.standard
    balance = county_balance(standard, list(county.records))
    year = county.year
    source = f"indicators:{year}"
    questions: list[QuestionSpec] = []

    def topic(key: str) -> str:
        return codes.get(key, FALLBACK_CODE)

    for level in balance.levels:
        lv = level.level
        if standard.kind is SetKind.BASIC:
            value = level.composite
            name = f"{lv.zh}综合差异系数"
            key = f"coefficient:{lv}:composite"
            ids = f"{lv}-composite"
        else:
            worst = max((d for d in level.dispersions if d.cv is not None),
                        key=lambda d: d.cv or Decimal(0), default=None)
            value = worst.cv if worst is not None else None
            name = f"{lv.zh}{worst.indicator.name}差异系数" if worst is not None else ""
            key = f"coefficient:{lv}:{worst.indicator.id}" if worst is not None else ""
            ids = f"{lv}-worst"
        if value is None or not level.complete:
            continue
        shown = _two(value)
        limit = standard.threshold(lv)
        limit_text = f"{Decimal(limit.numerator) / Decimal(limit.denominator):g}"
        wrong = _distractors(shown, f"{PREFIX}-{ids}-{shown}")
        options, correct = _shuffled([f"{shown:.2f}", *(f"{w:.2f}" for w in wrong)], {0},
                                     f"{PREFIX}-{ids}")
        met = value <= Decimal(limit.numerator) / Decimal(limit.denominator)
        verdict = "达到" if met else "未达到"
        questions.append(QuestionSpec(
            key=f"{PREFIX}-cv-{ids}", kind=QuestionKind.SINGLE, indicator=topic(key),
            difficulty=2, text=f"按{year}学年数据，我县{name}是多少？", options=tuple(options),
            correct=tuple(correct),
            explanation=f"{year}学年全县{name}为{shown:.2f}，标准是不高于{limit_text}，{verdict}要求。",
            source=source))
        questions.append(QuestionSpec(
            key=f"{PREFIX}-meets-{ids}", kind=QuestionKind.TRUEFALSE, indicator=topic(key),
            difficulty=1, text=f"按{year}学年数据，我县{name}已经达到不高于{limit_text}的标准。",
            options=("正确", "错误"), correct=(0 if met else 1,),
            explanation=f"{name}为{shown:.2f}，{verdict}不高于{limit_text}的要求。",
            source=source))
        drivers = composite_drivers(level)
        if len(drivers) >= 2:
            top = drivers[0]
            others = [d.name for d in drivers[1:4]]
            options, correct = _shuffled([top.name, *others], {0}, f"{PREFIX}-driver-{lv}")
            percent = round_half_up(top.share * 100, 0)
            questions.append(QuestionSpec(
                key=f"{PREFIX}-driver-{lv}", kind=QuestionKind.SINGLE,
                indicator=topic(f"coefficient:{lv}:composite"), difficulty=3,
                text=f"按{year}学年数据，哪所学校对我县{lv.zh}差异系数的拉动最大？",
                options=tuple(options), correct=tuple(correct),
                explanation=f"{top.name}占全县{lv.zh}差异的约{percent}%，是改善均衡状况的重点学校。",
                source=source))
        questions.extend(_minimum_questions(county, lv, topic, source))
    return questions


def _minimum_questions(county: County, level: Level, topic: Callable[[str], str], source: str
                       ) -> list[QuestionSpec]:
    standard = county.standard
    year = county.year
    records = [r for r in county.records if r.level is level]
    found = []
    for indicator in standard.indicators:
        if level not in indicator.minimum:
            continue
        below: list[str] = []
        above: list[str] = []
        for record in records:
            checks = [c for c in minimum_checks(standard, record) if c.indicator.id == indicator.id]
            if not checks or checks[0].met is None:
                continue
            (below if checks[0].met is False else above).append(record.name)
        if not below and not above:
            continue
        minimum = indicator.minimum[level]
        floor = f"{Decimal(minimum.numerator) / Decimal(minimum.denominator):g}"
        none_option = "各校均已达标"
        shown_below = sorted(below)[:MAX_SCHOOL_OPTIONS - 1]
        shown_above = sorted(above)[:max(0, MAX_SCHOOL_OPTIONS - 1 - len(shown_below))]
        options, right = _shuffled([*shown_below, *shown_above], set(range(len(shown_below))),
                                   f"{PREFIX}-min-{level}-{indicator.id}")
        options.append(none_option)
        if not below:
            right = [len(options) - 1]
        multiple = len(below) > 1
        text = (f"按{year}学年数据，我县哪些{level.zh}{indicator.name}未达到{floor}{indicator.unit}"
                f"的底线？（多选）" if multiple else
                f"按{year}学年数据，我县哪所{level.zh}{indicator.name}未达到{floor}{indicator.unit}"
                f"的底线？")
        names = "、".join(sorted(below)) if below else "没有学校"
        found.append(QuestionSpec(
            key=f"{PREFIX}-min-{level}-{indicator.id}",
            kind=QuestionKind.MULTIPLE if multiple else QuestionKind.SINGLE,
            indicator=topic(f"schools:{level}"), difficulty=2, text=text, options=tuple(options),
            correct=tuple(right),
            explanation=f"{names}低于{floor}{indicator.unit}的底线。"[:200], source=source))
    return found


async def refresh_questions(session: AsyncSession, standards: Standards, campaign_id: int
                            ) -> ImportResult | None:
    """Regenerate the county's questions from its latest figures (the caller commits)."""
    if await repo.settings_of(session=session, campaign_id=campaign_id) is None:
        return None
    county = await load_county(session, standards, campaign_id)
    links = await repo.links_of(session=session, campaign_id=campaign_id)
    keys = [f"coefficient:{lv}:{suffix}" for lv in Level
            for suffix in ("composite", *(i.id for i in county.standard.indicators))]
    keys += [f"schools:{lv}" for lv in Level]
    codes = {}
    for key in keys:
        linked = link_for(key, links)
        if linked is not None:
            codes[key] = linked.code
    questions = build_questions(county, codes)
    if not questions:
        return None
    return await import_bank(session, Bank(indicators=(FALLBACK,), questions=tuple(questions)))
