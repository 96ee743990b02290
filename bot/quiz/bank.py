"""The question bank in the database: import a whole file or nothing, load the starter
bank, and find questions that teach the same thing twice.

The file formats (YAML, CSV) and their validation are in `bot.quiz.bankfile`; its names are
re-exported here, so the bank has one public face.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from rapidfuzz import fuzz
from sqlalchemy.ext.asyncio import AsyncSession

from bot.quiz.bankfile import (
    CSV_COLUMNS,
    MAX_EXPLANATION,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    STARTER_BANK,
    Bank,
    BankInvalid,
    ImportResult,
    IndicatorSpec,
    QuestionSpec,
    RowError,
    parse_csv,
    parse_file,
    parse_yaml,
    to_csv,
    to_yaml,
)
from bot.quiz.drill import normalise, weight, words
from db.models import Indicator, Question, QuestionKind
from db.repositories import people as people_repo
from db.repositories import quiz as quiz_repo

__all__ = [
    "CSV_COLUMNS", "MAX_EXPLANATION", "MAX_OPTION", "MAX_OPTIONS", "MAX_QUESTION",
    "NEAR_DUPLICATE", "STARTER_BANK", "Bank", "BankInvalid", "ImportResult", "IndicatorSpec",
    "QuestionSpec", "RowError", "current_bank", "import_bank", "import_file",
    "known_indicator_codes", "load_starter_if_empty", "near_duplicates", "parse_csv",
    "parse_file", "parse_yaml", "similarity", "to_csv", "to_yaml",
]

# Near duplicates -------------------------------------------------------------------------
# Two questions teach the same thing when this share of what they say (question, right
# answer, explanation; words weighted by rarity) is shared. Measured on the bank as first
# shipped: its known twins (q131/q132 0.90, q129/q130 0.62, q087/q093 0.44, q122/q123 0.41)
# score above it, distinct questions on one topic (q058/q059) below.
NEAR_DUPLICATE = 0.4
# Or the questions are worded alike (rapidfuzz ratio) and share something: one template
# filled twice, as q096/q099 ("督查阶段"/"宣传动员阶段" with the same options).
SAME_WORDING, SAME_WORDING_SHARE = 85, 0.15


def _taught(question: QuestionSpec) -> frozenset[str]:
    if question.kind is QuestionKind.OPEN:
        answer = question.model_answer
    else:
        answer = "；".join(question.options[i] for i in question.correct)
    return frozenset(words(normalise(f"{question.text} {answer} {question.explanation}")))


def similarity(a: QuestionSpec, b: QuestionSpec) -> float:
    """Weighted share of the words two questions teach (0–1)."""
    wa, wb = _taught(a), _taught(b)
    union = sum(weight(w) for w in wa | wb)
    return sum(weight(w) for w in wa & wb) / union if union else 0.0


def near_duplicates(questions: Sequence[QuestionSpec]) -> list[tuple[str, str, float]]:
    """Pairs of polls (or of open questions) that ask the same thing: merge or differentiate.

    A poll and an open question on one fact are not duplicates: one is memorised, the
    other said aloud.
    """
    found = []
    for i, a in enumerate(questions):
        for b in questions[i + 1:]:
            if a.kind.is_poll != b.kind.is_poll:
                continue
            share = similarity(a, b)
            wording = fuzz.ratio(normalise(a.text), normalise(b.text))
            if share >= NEAR_DUPLICATE or (wording >= SAME_WORDING and share >= SAME_WORDING_SHARE):
                found.append((a.key, b.key, round(share, 2)))
    return found


# Database --------------------------------------------------------------------------------
async def known_indicator_codes(session: AsyncSession) -> set[str]:
    return {i.code for i in await people_repo.all_indicators(session=session)}


async def import_bank(session: AsyncSession, bank: Bank) -> ImportResult:
    """Create missing indicators and upsert questions by id (the caller commits).

    Existing indicators are left as the office configured them; questions are matched by
    their `id` so people's cards survive a corrected re-import.
    """
    by_code = {i.code: i for i in await people_repo.all_indicators(session=session)}
    created_indicators = 0
    pending_parents: list[tuple[Indicator, str]] = []
    for spec in bank.indicators:
        if spec.code in by_code:
            continue
        indicator = Indicator(code=spec.code, name=spec.name, veto=spec.veto,
                              description=spec.description)
        await people_repo.add_indicator(session=session, indicator=indicator)
        by_code[spec.code] = indicator
        created_indicators += 1
        if spec.parent:
            pending_parents.append((indicator, spec.parent))
    for indicator, parent in pending_parents:
        indicator.parent_id = by_code[parent].id
    existing = {q.key: q for q in await quiz_repo.all_questions(session=session)}
    created = updated = 0
    for item in bank.questions:
        question = existing.get(item.key)
        if question is None:
            question = Question(key=item.key)
            created += 1
        else:
            updated += 1
        question.kind = item.kind
        question.indicator_id = by_code[item.indicator].id
        question.difficulty = item.difficulty
        question.text = item.text
        question.options = list(item.options)
        question.correct = list(item.correct)
        question.explanation = item.explanation
        question.key_points = list(item.key_points)
        question.model_answer = item.model_answer
        question.source = item.source
        session.add(question)
    await session.flush()
    return ImportResult(created_indicators, created, updated)


async def import_file(session: AsyncSession, name: str, content: str) -> ImportResult:
    known = await known_indicator_codes(session)
    return await import_bank(session, parse_file(name, content, known_indicators=known))


async def load_starter_if_empty(session: AsyncSession, path: Path = STARTER_BANK) -> ImportResult | None:
    """The shipped bank, the first time the product starts with an empty bank."""
    if await quiz_repo.count_questions(session=session) > 0:
        return None
    content = await asyncio.to_thread(path.read_text, encoding="utf-8")
    return await import_file(session, path.name, content)


async def current_bank(session: AsyncSession) -> Bank:
    indicators = await people_repo.all_indicators(session=session)
    code_of = {i.id: i.code for i in indicators}
    used = set()
    questions = []
    for q in await quiz_repo.all_questions(session=session):
        used.add(q.indicator_id)
        questions.append(QuestionSpec(
            key=q.key, kind=q.kind, indicator=code_of[q.indicator_id], difficulty=q.difficulty,
            text=q.text, options=tuple(q.options), correct=tuple(q.correct),
            explanation=q.explanation, key_points=tuple(q.key_points),
            model_answer=q.model_answer, source=q.source,
        ))
    # Parents of the indicators that questions use, so the file imports on its own.
    needed = set(used)
    by_id = {i.id: i for i in indicators}
    for indicator_id in list(needed):
        parent = by_id[indicator_id].parent_id
        while parent is not None and parent not in needed:
            needed.add(parent)
            parent = by_id[parent].parent_id
    specs = tuple(
        IndicatorSpec(i.code, i.name, code_of.get(i.parent_id) if i.parent_id else None,
                      i.veto, i.description)
        for i in indicators if i.id in needed
    )
    return Bank(specs, tuple(questions))
