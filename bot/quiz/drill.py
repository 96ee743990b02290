"""Scoring a spoken-style answer by the key points it states (pure functions).

An inspector listens for substance, not wording, but also for what is said wrong. A key
point is covered when most of its words occur in one sentence of the answer (after
synonyms are rewritten to one form), with its numbers and its "not" intact; it is *wrong*
when the answer says it and gets it wrong: another value or the opposite bound (满意度58%,
0.65以上), the value on the other subject (小学0.55、初中0.65), the demand negated or waved
away (不需要全部达标, 标准可以降格), the halves of a principle swapped (重在结果，兼顾过程), or
the steps of a procedure in reverse. A wrong point costs what a right one earns.

How the text is read is in `bot.quiz.wording`, what a key point is and where it is said in
`bot.quiz.points`; this module judges each point and scores the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.quiz.lexicon import Lexicon, shipped
from bot.quiz.numbers import Quantity, comparable, quantities, same_amount
from bot.quiz.numbers import same_bound as _same_bound
from bot.quiz.points import (
    CONFLICT_SHARE,
    COVERED,
    COVERED_SHARE,
    MISSED,
    PAIR_GAP,
    WRONG,
    Point,
    Said,
    Sentence,
    clause_bounds,
    key_point,
    said_in,
    sentences_of,
    share_in,
)
from bot.quiz.wording import (
    ACHIEVEMENTS,
    CLAUSE,
    ITEM,
    PROHIBITIONS,
    SENTENCE,
    STOPWORDS,
    Prepared,
    compact,
    content_words,
    cut,
    negations,
    normalise,
    occurrences,
    prepare,
    weight,
    words,
)

__all__ = ["PASS_SCORE", "STOPWORDS", "DrillScore", "cut", "normalise", "required_points",
           "score_answer", "weight", "words"]

# An answer whose words are this much the question's own words is the question repeated.
ECHO_SHARE = 0.8
# A drill counts as passed when its score reaches this (FSRS rates it Good or Easy).
PASS_SCORE = 0.75
# A short clause that only denies doing "it": 安全演练影响上课，我们基本不搞.
_DENIAL = re.compile(
    r"(我们|学校|乡镇|单位|也|还|都|基本|根本|从来|一直|暂时|目前)*"
    r"(不|没|没有|未)(搞|做|弄|用|管|建立|开展|落实|执行|组织|实行)(过|了)?"
)
_CO_ACTORS = ("会同", "协同", "配合", "联合", "协助")
_ORDERED = re.compile(r"程序|顺序|步骤|先后")
_REQUIRED = re.compile(r"至少(\d+)[项个条种点]")
_LISTED = re.compile(r"(?:说出|列举|举出|写出|答出)(\d+)[项个条种点]")


@dataclass(frozen=True)
class DrillScore:
    """Key points covered, missed and said wrong; `needed` is how many the question asks."""

    covered: tuple[str, ...]
    missed: tuple[str, ...]
    wrong: tuple[str, ...] = ()
    needed: int = 0

    @property
    def required(self) -> int:
        return self.needed or len(self.covered) + len(self.missed) + len(self.wrong)

    @property
    def score(self) -> float:
        if not self.required:
            return 0.0
        return max(0.0, min(1.0, (len(self.covered) - len(self.wrong)) / self.required))

    @property
    def percent(self) -> int:
        return round(self.score * 100)

    @property
    def passed(self) -> bool:
        return self.score >= PASS_SCORE


def _negated(answer: Prepared, said: Said) -> bool:
    """Is the point said with a "not" (or said, then denied: 安全演练，我们没搞)?

    A "not" inside the stretch counts when it stands right before one of the point's words
    (没有及时更新), not when it belongs to a word of its own (调整了不合理的学校布局).
    """
    masked, text, start, end = answer.masked, answer.text, said.start, said.end
    for i in negations(masked, start, end):
        if any(text.startswith(w, j) for j in range(i + 1, i + 4) for w in said.words):
            return True
    clause_start, _ = clause_bounds(text, start)
    if any(p in masked[clause_start:start] for p in PROHIBITIONS):
        return True
    item_start = max(text.rfind(ITEM, 0, start) + 1, clause_start)
    if negations(masked, max(item_start, start - 2), start):
        return True
    _, clause_end = clause_bounds(text, max(start, end - 1))
    item_end = text.find(ITEM, end, clause_end)
    after_end = min(end + 4, item_end if item_end >= 0 else clause_end, clause_end)
    # After the point, a "not" denies it only when it takes up the point's own verb
    # (远程教育设备基本不用); 入学率不达标 says something else about 入学率.
    own = set("".join(said.words)) - set("".join(STOPWORDS))
    for i in negations(masked, end, after_end):
        if own & set(text[i + 1:i + 3]):
            return True
    if clause_end < len(text) and text[clause_end] == CLAUSE:
        _, next_end = clause_bounds(text, clause_end + 1)
        return bool(_DENIAL.fullmatch(text[clause_end + 1:next_end]))
    return False


def _waved_away(answer: Prepared, start: int, end: int) -> bool:
    clause_start, clause_end = clause_bounds(answer.text, start)
    return any(clause_start <= s < clause_end and s < end + 6 for s, _ in answer.permissive)


def _achieved(point: Point, answer: Prepared, start: int, end: int) -> bool:
    """未完成薄弱学校改造 against 完成了薄弱学校改造: the failure said as a success."""
    key = point.prepared.masked
    failed = [a for a in ACHIEVEMENTS
              if any(key.startswith(a, i + 1) or key.startswith(a, i + 2)
                     for i in negations(key, 0, len(key)))]
    return any(a in answer.text[start - 2:end + 2] for a in failed)


def _bound_subject(text: str, at: int, group: int, lexicon: Lexicon) -> str | None:
    """The nearest subject of the group: before `at` in its clause, after it, or earlier."""
    members = [t for t in lexicon.contrast_terms if lexicon.contrast_group(t) == group]
    clause_start, clause_end = clause_bounds(text, at)
    sentence_start, _ = clause_bounds(text, at, SENTENCE)

    def last_before(start: int, end: int) -> str | None:
        best: tuple[int, str] | None = None
        for term in members:
            for spot in occurrences(text[start:end], term):
                spot += start
                # 人社局会同编办和教育局招聘教师: those 会同'd are helpers, not the subject.
                own_clause = clause_bounds(text, spot)[0]
                if any(c in text[own_clause:spot] for c in _CO_ACTORS):
                    continue
                if best is None or spot > best[0]:
                    best = (spot, term)
        return best[1] if best else None

    before = last_before(clause_start, at)
    if before is not None:
        return before
    following = [(p, t) for p, t in ((text.find(t, at, clause_end), t) for t in members)
                 if p >= 0]
    if following:
        return min(following)[1]
    return last_before(sentence_start, clause_start)


def _respectively(text: str, quantity: Quantity, group: int, lexicon: Lexicon) -> str | None:
    """小学和初中分别为0.65和0.55: the n-th value belongs to the n-th subject."""
    clause_start, clause_end = clause_bounds(text, quantity.start)
    clause = text[clause_start:clause_end]
    pivot = clause.find("分别")
    if pivot < 0 or quantity.start - clause_start < pivot:
        return None
    members = [t for t in lexicon.contrast_terms if lexicon.contrast_group(t) == group]
    subjects = sorted((clause.find(t), t) for t in members if 0 <= clause.find(t) < pivot)
    values = [q for q in quantities(clause) if q.start > pivot]
    index = next((i for i, q in enumerate(values)
                  if q.start + clause_start == quantity.start), None)
    if index is None or len(subjects) != len(values):
        return None
    return subjects[index][1]


def _subject_of(answer: Prepared, at: int, point: Point, lexicon: Lexicon,
                quantity: Quantity | None = None) -> str | None:
    if point.subject is None:
        return None
    group = lexicon.contrast_group(point.subject)
    if group is None:
        return None
    if quantity is not None:
        paired = _respectively(answer.text, quantity, group, lexicon)
        if paired is not None:
            return paired
    return _bound_subject(answer.text, at, group, lexicon)


def _quantities_status(point: Point, answer: Prepared, sentence: Sentence,
                       span: tuple[int, ...] | None, lexicon: Lexicon) -> str:
    """COVERED when the values agree, WRONG when the answer gives this point another value."""
    keys = point.prepared.quantities
    if not keys:
        return COVERED
    said = [q for q in answer.quantities if sentence.start <= q.start < sentence.end]
    clauses = set()
    if span is not None:
        clauses = {clause_bounds(answer.text, span[0]), clause_bounds(answer.text, span[1] - 1)}
    matched = 0
    for key in keys:
        good = False
        for q in said:
            subject = _subject_of(answer, q.start, point, lexicon, q)
            if subject is not None and subject != point.subject:
                continue
            if same_amount(key, q) and _same_bound(key, q):
                good = True
                break
        if good:
            matched += 1
            continue
        for q in said:
            if not comparable(key, q) or any(same_amount(k, q) and _same_bound(k, q)
                                             for k in keys):
                continue
            subject = _subject_of(answer, q.start, point, lexicon, q)
            in_clause = clause_bounds(answer.text, q.start) in clauses
            if (point.subject is not None and subject == point.subject) or (
                    point.subject is None and in_clause):
                return WRONG
    return COVERED if matched else MISSED


def _wrong_subject(point: Point, answer: Prepared, anchor: int, lexicon: Lexicon) -> bool:
    if point.subject is None or point.prepared.quantities:
        return False
    subject = _subject_of(answer, anchor, point, lexicon)
    return subject is not None and subject != point.subject


def _bound(text: str, head: str, tail: str, heads: Sequence[str]) -> bool:
    for at in occurrences(text, head):
        after = at + len(head)
        stretch = text[after:after + PAIR_GAP + len(tail)]
        spot = stretch.find(tail)
        if spot < 0:
            continue
        between = stretch[:spot]
        if not any(m in between for m in CLAUSE + SENTENCE) and not any(
                h in between for h in heads if h != head):
            return True
    return False


def _swapped(point: Point, window: str) -> bool:
    """重在结果，兼顾过程 against 重在过程，兼顾结果: each head bound to the other's tail."""
    if not point.pairs:
        return False
    (h1, t1), (h2, t2) = point.pairs
    heads = (h1, h2)
    return (_bound(window, h1, t2, heads) and not _bound(window, h1, t1, heads)) or (
        _bound(window, h2, t1, heads) and not _bound(window, h2, t2, heads))


def _judge_in(point: Point, answer: Prepared, sentence: Sentence,
              lexicon: Lexicon) -> tuple[str, int]:
    window = answer.text[sentence.start:sentence.end]
    share = share_in(point, window)
    if share < CONFLICT_SHARE:
        return MISSED, -1
    located = said_in(point, answer.text, sentence)
    span = (located.start, located.end) if located else None
    values = _quantities_status(point, answer, sentence, span, lexicon)
    if values == WRONG or _swapped(point, window):
        return WRONG, span[0] if span else sentence.start
    if located is None:
        return (COVERED if share >= COVERED_SHARE and values == COVERED else MISSED), -1
    start, end, anchor = located.start, located.end, located.anchor
    negated = _negated(answer, located)
    if negated and not point.negative:
        return WRONG, start
    if point.negative and not negated and (
            _waved_away(answer, start, end) or _achieved(point, answer, start, end)):
        return WRONG, start
    if _wrong_subject(point, answer, anchor, lexicon):
        return WRONG, start
    if share < COVERED_SHARE or values != COVERED:
        return MISSED, -1
    if point.forbids and not negated:
        return MISSED, -1
    return COVERED, start


def _judge(point: Point, answer: Prepared, lexicon: Lexicon) -> tuple[str, int]:
    """COVERED anywhere wins; else WRONG anywhere; else MISSED (with where it was said)."""
    outcomes = [_judge_in(point, answer, s, lexicon) for s in sentences_of(answer.text)]
    for wanted in (COVERED, WRONG):
        for outcome, at in outcomes:
            if outcome == wanted:
                return outcome, at
    return MISSED, -1


def _in_order(positions: Sequence[tuple[int, int]]) -> set[int]:
    """Indices (into the key points) of the longest run said in the bank's order."""
    best: list[list[int]] = []
    for i, (_, at) in enumerate(positions):
        run = max((r for r in best if positions[r[-1]][1] < at), key=len, default=[])
        best.append([*run, i])
    longest = max(best, key=len, default=[])
    return {positions[i][0] for i in longest}


# The question ----------------------------------------------------------------------------
def required_points(question: str) -> int | None:
    """N of "请说出至少四项" / "列举三项": that many key points earn full marks."""
    text = normalise(question)
    match = _REQUIRED.search(text) or _LISTED.search(text)
    return int(match.group(1)) if match else None


def _echoes(answer: Prepared, question: str, lexicon: Lexicon) -> bool:
    said = content_words(compact(answer.text), lexicon)
    if not said:
        return False
    asked = compact(prepare(question, lexicon, "").text)
    total = sum(weight(w) for w in said)
    return sum(weight(w) for w in said if w in asked) / total >= ECHO_SHARE


def score_answer(
    answer: str,
    key_points: Sequence[str],
    *,
    question: str = "",
    question_key: str = "",
    lexicon: Lexicon | None = None,
) -> DrillScore:
    """Which key points the answer covers, misses and gets wrong.

    `question` (its text) sets how many points are needed ("至少四项"), whether order
    matters ("程序") and lets a repeated question score nothing; `question_key` selects
    synonyms that hold for that question only.
    """
    lexicon = lexicon or shipped()
    needed = required_points(question) if question else None
    needed = min(needed, len(key_points)) if needed else 0
    prepared = prepare(answer, lexicon, question_key)
    if not compact(prepared.text) or (question and _echoes(prepared, question, lexicon)):
        return DrillScore((), tuple(key_points), (), needed)
    judged = [_judge(key_point(p, lexicon, question_key), prepared, lexicon) for p in key_points]
    outcome = [o for o, _ in judged]
    if question and _ORDERED.search(question):
        # A procedure said mostly backwards is wrong; one step out of place is forgiven.
        said = [(i, at) for i, (o, at) in enumerate(judged) if o == COVERED]
        keep = _in_order(said)
        if 2 * len(keep) < len(said):
            outcome = [WRONG if o == COVERED and i not in keep else o
                       for i, o in enumerate(outcome)]
    return DrillScore(
        covered=tuple(p for p, o in zip(key_points, outcome, strict=True) if o == COVERED),
        missed=tuple(p for p, o in zip(key_points, outcome, strict=True) if o == MISSED),
        wrong=tuple(p for p, o in zip(key_points, outcome, strict=True) if o == WRONG),
        needed=needed,
    )
