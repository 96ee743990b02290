"""/ask: Chinese-aware search over questions, explanations and indicator descriptions.

Texts are segmented with jieba (search mode, so 义务教育 also yields 教育) and ranked with
BM25; a query word with no exact match borrows the closest indexed word (rapidfuzz), and
a document containing the whole query as a phrase gets a bonus.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy.ext.asyncio import AsyncSession

from bot.quiz.drill import cut, normalise
from db.models import QuestionKind
from db.repositories import people as people_repo
from db.repositories import quiz as quiz_repo

K1, B = 1.5, 0.75
PHRASE_BONUS = 3.0
FUZZY_CUTOFF = 75
FUZZY_WEIGHT = 0.5


@dataclass(frozen=True)
class Doc:
    """A searchable piece of knowledge: `kind` is "question" or "indicator"."""

    kind: str
    ref: str
    title: str
    answer: str
    text: str
    note: str = ""
    veto: bool = False


@dataclass(frozen=True)
class Hit:
    doc: Doc
    score: float


def _terms(text: str) -> list[str]:
    return cut(normalise(text), for_search=True)


class KnowledgeIndex:
    """BM25 over a small corpus held in memory (the bank is a few hundred documents)."""

    def __init__(self, docs: Sequence[Doc]) -> None:
        self.docs = list(docs)
        self._plain = [normalise(d.text) for d in self.docs]
        self._tf = [Counter(_terms(d.text)) for d in self.docs]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = (sum(self._len) / len(self._len)) if self._len else 0.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(self.docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._vocabulary = list(self._idf)

    def _expand(self, query: str) -> list[tuple[str, float]]:
        """Query words with a weight: exact words 1, the nearest indexed word otherwise."""
        expanded = []
        for term in dict.fromkeys(_terms(query)):
            if term in self._idf:
                expanded.append((term, 1.0))
            elif len(term) >= 2 and self._vocabulary:
                match = process.extractOne(term, self._vocabulary, scorer=fuzz.ratio,
                                           score_cutoff=FUZZY_CUTOFF)
                if match is not None:
                    expanded.append((match[0], FUZZY_WEIGHT))
        return expanded

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        terms = self._expand(query)
        phrase = normalise(query)
        hits = []
        for i, doc in enumerate(self.docs):
            score = 0.0
            for term, weight in terms:
                tf = self._tf[i].get(term, 0)
                if tf:
                    norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self._len[i] / (self._avg or 1)))
                    score += weight * self._idf[term] * norm
            if len(phrase) >= 2 and phrase in self._plain[i]:
                score += PHRASE_BONUS
            if score > 0:
                hits.append(Hit(doc, score))
        hits.sort(key=lambda h: (-h.score, h.doc.kind != "indicator", h.doc.ref))
        return hits[:limit]


def _answer_of(kind: QuestionKind, options: Sequence[str], correct: Sequence[int],
               model_answer: str) -> str:
    if kind is QuestionKind.OPEN:
        return model_answer
    return "；".join(options[i] for i in correct if 0 <= i < len(options))


async def build_index(session: AsyncSession) -> KnowledgeIndex:
    docs = [
        Doc("indicator", i.code, i.name, i.description, f"{i.name} {i.description}",
            veto=i.veto)
        for i in await people_repo.all_indicators(session=session)
    ]
    for q in await quiz_repo.all_questions(session=session):
        answer = _answer_of(q.kind, q.options, q.correct, q.model_answer)
        text = " ".join([q.text, answer, q.explanation, " ".join(q.key_points)])
        docs.append(Doc("question", q.key, q.text, answer, text, note=q.explanation))
    return KnowledgeIndex(docs)


async def ask(session: AsyncSession, query: str, limit: int = 5) -> list[Hit]:
    """Best matches first; an empty list when nothing relevant is known."""
    return (await build_index(session)).search(query, limit)
