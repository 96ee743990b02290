"""A key point as the drill scorer reads it, and where in an answer it is said."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.quiz.lexicon import Lexicon
from bot.quiz.wording import (
    CLAUSE,
    ITEM,
    SENTENCE,
    Prepared,
    compact,
    content_words,
    forbids,
    negations,
    occurrences,
    prepare,
    weight,
    word_parts,
)

# A key point is covered when this share of its word weight is found in one sentence.
COVERED_SHARE = 0.6
# Below this share an answer is not talking about the point, so it cannot contradict it.
CONFLICT_SHARE = 0.45
# Words of four or more characters count the share of their parts found (通过审查).
COMPOUND_MIN_LENGTH = 4
# "重在" and its object are this close in a clause (characters between them).
PAIR_GAP = 6
# Key points ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    text: str
    prepared: Prepared
    words: tuple[str, ...]
    negative: bool
    forbids: bool  # negative and not a described failure (未完成): it must be said as a "not"
    subject: str | None
    pairs: tuple[tuple[str, str], ...]  # (head, tail) of each clause, for swapped halves


@lru_cache(maxsize=2048)
def key_point(text: str, lexicon: Lexicon, question: str) -> Point:
    prepared = prepare(text, lexicon, question)
    plain = list(prepared.text)
    for q in prepared.quantities:
        for i in range(q.start, q.end):
            plain[i] = CLAUSE
    content = content_words("".join(plain), lexicon)
    negative = bool(negations(prepared.masked, 0, len(prepared.masked)))
    subject = next((t for t in sorted(lexicon.contrast_terms, key=prepared.text.find)
                    if t in prepared.text), None)
    pairs = []
    clauses = re.split(f"[{re.escape(CLAUSE + SENTENCE)}]", "".join(plain))
    if len(clauses) == 2:
        for clause in clauses:
            cw = content_words(clause, lexicon)
            if len(cw) >= 2:
                pairs.append((cw[0], cw[-1]))
    return Point(text, prepared, tuple(content), negative,
                  negative and forbids(prepared), subject,
                  tuple(pairs) if len(pairs) == 2 else ())


# Matching one key point ------------------------------------------------------------------
COVERED, MISSED, WRONG = "covered", "missed", "wrong"


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


def sentences_of(text: str) -> list[Sentence]:
    result, start = [], 0
    for i, char in enumerate(text + SENTENCE):
        if char == SENTENCE:
            if i > start:
                result.append(Sentence(start, i))
            start = i + 1
    return result


def clause_bounds(text: str, at: int, marks: str = CLAUSE + SENTENCE) -> tuple[int, int]:
    start = max(text.rfind(m, 0, at) for m in marks) + 1
    ends = [e for e in (text.find(m, at) for m in marks) if e >= 0]
    return start, min(ends) if ends else len(text)


def _found_share(word: str, window: str) -> float:
    if word in window:
        return 1.0
    if len(word) < COMPOUND_MIN_LENGTH:
        return 0.0
    parts = word_parts(word)
    if not parts:
        return 0.0
    total = sum(weight(p) for p in parts)
    return sum(weight(p) for p in parts if p in window) / total


def share_in(point: Point, window: str) -> float:
    if not point.words:
        return 1.0
    if compact(point.prepared.text) and compact(point.prepared.text) in compact(window):
        return 1.0
    total = sum(weight(w) for w in point.words)
    return sum(weight(w) * _found_share(w, window) for w in point.words) / total


@dataclass(frozen=True)
class Said:
    """Where a point is said: start:end round the anchor, its heaviest word that is not
    the point's subject (小学, 人社局), and the words (or parts of words) found."""

    start: int
    end: int
    anchor: int
    words: tuple[str, ...]


def said_in(point: Point, text: str, sentence: Sentence) -> Said | None:
    """The clause holding most of the point's words, and round it."""
    window = text[sentence.start:sentence.end]
    present = []
    for word in point.words:
        if word in window:
            present.append(word)
        elif len(word) >= COMPOUND_MIN_LENGTH:
            present.extend(p for p in word_parts(word) if p in window)
    if not present:
        return None
    units = []  # clauses, and list items within them
    start = sentence.start
    for i in range(sentence.start, sentence.end + 1):
        if i == sentence.end or text[i] in (CLAUSE, ITEM):
            units.append((start, i))
            start = i + 1
    subject = point.subject or ""
    ranked = sorted(present, key=lambda w: (len(w) > 1, weight(w)), reverse=True)
    ranked = [w for w in ranked if w not in subject and subject not in w] or ranked
    best = max(units, key=lambda c: sum(weight(w) for w in ranked if w in text[c[0]:c[1]]))
    anchor_word = next((w for w in ranked if w in text[best[0]:best[1]]), ranked[0])
    first = text.find(anchor_word, best[0])
    anchor = first if 0 <= first < best[1] else sentence.start + window.find(anchor_word)
    lo, hi = anchor, anchor + len(anchor_word)
    clause_start, clause_end = clause_bounds(text, anchor)
    for word in present:
        spots = [sentence.start + at for at in occurrences(window, word)]
        # A word of the anchor's own clause before the same word elsewhere.
        spot = min(spots, key=lambda s: (not clause_start <= s < clause_end, abs(s - anchor)))
        lo, hi = min(lo, spot), max(hi, spot + len(word))
    return Said(lo, hi, anchor, tuple(present))
