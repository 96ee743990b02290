"""Which questions an indicator asks: its own, or the bank's questions on its topic.

The bank files its questions under its own topics (JC, PJ, JH …); a campaign defines its
indicators in its own words and codes (C1 小学综合差异系数不高于0.65). An indicator with
questions of its own asks those. One without (a campaign's indicator) asks the questions
whose text covers its name or description: most of the weight of the words of one of
their phrases (小学, 综合差异系数) occurs in the question, its right answer, explanation or
key points. So `/quiz C1` asks about the coefficients, `/quiz E` about 普及程度, and a
question no campaign indicator mentions is still asked by a plain `/quiz`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from bot.quiz.drill import STOPWORDS, cut, weight
from bot.quiz.lexicon import Lexicon, clean, shipped
from db.models import Indicator, Question, QuestionKind
from db.repositories import people as people_repo
from db.repositories import quiz as quiz_repo

# A question is on an indicator's topic when it holds this share of the word weight of one
# of the indicator's phrases …
MATCH_SHARE = 0.5
# … and comes close to the best match of that indicator, so that a question sharing only
# 学校 with 薄弱学校改造 is left out when others share all of it.
RELATIVE_SHARE = 0.75
_PHRASES = re.compile(r"[，,、；;。：:（）()]+")
# Bounds and negations carry no topic (不高于0.65, 无重大安全事故).
_NOT_TOPICAL = frozenset("不 无 未 没有 以上 以下 高于 低于 不高于 不低于 达到 超过 不超过 即".split())


@dataclass(frozen=True)
class Scope:
    """What a session may ask: by indicator (as filed), by question, or everything."""

    indicator_ids: tuple[int, ...] | None = None
    question_ids: tuple[int, ...] | None = None

    @property
    def everything(self) -> bool:
        return self.indicator_ids is None and self.question_ids is None


def _terms(phrase: str, lexicon: Lexicon) -> tuple[str, ...]:
    words = cut(lexicon.canonical(clean(phrase)))
    return tuple(dict.fromkeys(
        w for w in words
        if len(w) > 1 and w not in STOPWORDS and w not in _NOT_TOPICAL
        and not re.fullmatch(r"[\d.%]+", w)
    ))


def _phrases(indicator: tuple[str, str], lexicon: Lexicon) -> list[tuple[str, ...]]:
    """The whole name, and each phrase of the name or description with two words or more.

    A lone word such as 准确 (of 档案资料真实、准确、完整) is no topic of its own.
    """
    name, description = indicator
    whole = _terms(name, lexicon)
    parts = [_terms(p, lexicon) for p in _PHRASES.split(f"{name}，{description}")]
    return [p for p in dict.fromkeys([whole, *parts]) if p and (len(p) >= 2 or p == whole)]


def _share(terms: Sequence[str], text: str) -> float:
    total = sum(weight(t) for t in terms)
    return sum(weight(t) for t in terms if t in text) / total if total else 0.0


def question_text(question: Question) -> str:
    """Everything a question teaches: the question, the right answer, why, the key points."""
    if question.kind is QuestionKind.OPEN:
        answer = question.model_answer
    else:
        answer = "；".join(question.options[i] for i in question.correct
                          if 0 <= i < len(question.options))
    return " ".join([question.text, answer, question.explanation, *question.key_points])


@lru_cache(maxsize=128)
def _on_topic(indicators: tuple[tuple[str, str], ...], corpus: tuple[tuple[int, str], ...],
              lexicon: Lexicon) -> frozenset[int]:
    texts = [(qid, lexicon.canonical(clean(text))) for qid, text in corpus]
    found: set[int] = set()
    for indicator in indicators:
        phrases = _phrases(indicator, lexicon)
        scores = {qid: max((_share(p, text) for p in phrases), default=0.0)
                  for qid, text in texts}
        best = max(scores.values(), default=0.0)
        cutoff = max(MATCH_SHARE, RELATIVE_SHARE * best)
        found.update(qid for qid, score in scores.items() if score >= cutoff and score > 0)
    return frozenset(found)


def on_topic(indicators: Iterable[Indicator], questions: Iterable[Question],
             lexicon: Lexicon | None = None) -> frozenset[int]:
    """Ids of the questions on the topic of any of the indicators."""
    return _on_topic(
        tuple((i.name, i.description or "") for i in indicators),
        tuple((q.id, question_text(q)) for q in questions),
        lexicon or shipped(),
    )


async def resolve(session: AsyncSession, indicator_ids: Collection[int] | None) -> Scope:
    """The questions a session scoped to these indicators (one and those below it) asks."""
    if indicator_ids is None:
        return Scope()
    counts = await quiz_repo.question_counts_by_indicator(session=session)
    unfiled = [i for i in indicator_ids if not counts.get(i)]
    if not unfiled:
        return Scope(indicator_ids=tuple(indicator_ids))
    wanted = set(unfiled)
    indicators = [i for i in await people_repo.all_indicators(session=session) if i.id in wanted]
    questions = await quiz_repo.all_questions(session=session)
    filed = {q.id for q in questions if q.indicator_id in set(indicator_ids)}
    return Scope(question_ids=tuple(sorted(filed | on_topic(indicators, questions))))
