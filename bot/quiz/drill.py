"""Scoring a spoken-style answer by the key points it states (pure functions).

An inspector listens for substance, not wording, but also for what is said wrong. A key
point is covered when most of its words occur in one sentence of the answer (after
synonyms are rewritten to one form), with its numbers and its "not" intact; it is *wrong*
when the answer says it and gets it wrong: another value or the opposite bound (满意度58%,
0.65以上), the value on the other subject (小学0.55、初中0.65), the demand negated or waved
away (不需要全部达标, 标准可以降格), the halves of a principle swapped (重在结果，兼顾过程), or
the steps of a procedure in reverse. A wrong point costs what a right one earns.

Words weigh by length times their rarity (jieba's IDF table), so 自查材料 decides
"自查材料通过国家审查" rather than 通过 or 国家.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import jieba
import jieba.analyse

from bot.quiz.lexicon import Lexicon, shipped
from bot.quiz.numbers import Quantity, comparable, numerals_to_digits, quantities, same_amount
from bot.quiz.numbers import same_bound as _same_bound

# A key point is covered when this share of its word weight is found in one sentence.
COVERED_SHARE = 0.6
# Below this share an answer is not talking about the point, so it cannot contradict it.
CONFLICT_SHARE = 0.45
# Words of four or more characters count the share of their parts found (通过审查).
COMPOUND_MIN_LENGTH = 4
# An answer whose words are this much the question's own words is the question repeated.
ECHO_SHARE = 0.8
# "重在" and its object are this close in a clause (characters between them).
PAIR_GAP = 6
# A drill counts as passed when its score reaches this (FSRS rates it Good or Easy).
PASS_SCORE = 0.75

STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 对 把 被 为 以 由 于 将 从 向 等 并 且 也 都 就 要 有 这 那 其 之 "
    "而 着 个 上 中 下 里 我们 你们 他们 进行 一些 各 各项 方面 会".split()
)
CLAUSE, SENTENCE, ITEM = "|", "‖", "/"
_MARKS = CLAUSE + SENTENCE + ITEM
_STRENGTH = ITEM + CLAUSE + SENTENCE
_BLANK = "·"
_DROP = re.compile(r"[“”‘’\"'《》「」『』【】\[\]()（）]")
_CLAUSE_PUNCT = re.compile(r"[，,：:]")
_SENTENCE_PUNCT = re.compile(r"[。；;！!？?\n…]|\.(?!\d)|(?<!\d)\.")
_ITEM_PUNCT = re.compile(r"[、/\s·]+")
_KEEP = re.compile(r"[^\w.%≤≥<>~\-—－" + re.escape(_MARKS) + "]")
_REPEATED_MARKS = re.compile(f"[{re.escape(_MARKS)}]{{2,}}")
# "Whether" is not "not": 看有没有挪用 asks about 挪用.
_INTERROGATIVES = re.compile(r"有没有|有无|是否|是不是|能否|能不能|会不会")

_NEGATION_CHARS = "不没未无非勿莫"
# Words that contain a negation character but do not negate.
_NOT_NEGATIONS = (
    "不断", "不仅", "不但", "不少", "不同", "不管", "不论", "无论", "不久", "不过", "不停",
    "不定期", "不然", "不光", "不错", "不足", "非常", "非法", "非重点", "未来", "毫无疑问",
)
# Negations that reach over the rest of their clause: 严禁弄虚作假、随意更改、虚报瞒报.
_PROHIBITIONS = (
    "严禁", "禁止", "杜绝", "不得", "不准", "不许", "不能", "不要", "不可", "绝不", "决不",
    "反对", "防止", "避免", "拒绝", "不搞", "不允许", "不应", "不该", "切忌", "严防",
    "不需要", "无需", "无须", "不必", "不用",
)
# A negated achievement describes a failure (未完成, 不达标) rather than forbidding something.
_ACHIEVEMENTS = ("达标", "完成", "达到", "到位", "实现")
# Said against a point that forbids something, these wave the rule away.
_PERMISSIVE = re.compile(
    r"(?<![不没])(可以|可(?![靠能行见是])|允许|适当|无妨|也行|无所谓|问题不大)"
    r"|没关系|不要紧|(还|仍|仍然|依然)(存在|有)"
)
# A short clause that only denies doing "it": 安全演练影响上课，我们基本不搞.
_DENIAL = re.compile(
    r"(我们|学校|乡镇|单位|也|还|都|基本|根本|从来|一直|暂时|目前)*"
    r"(不|没|没有|未)(搞|做|弄|用|管|建立|开展|落实|执行|组织|实行)(过|了)?"
)
_CO_ACTORS = ("会同", "协同", "配合", "联合", "协助")
_ORDERED = re.compile(r"程序|顺序|步骤|先后")
_REQUIRED = re.compile(r"至少(\d+)[项个条种点]")
_LISTED = re.compile(r"(?:说出|列举|举出|写出|答出)(\d+)[项个条种点]")
_jieba_lock = threading.Lock()


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


# Text ------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """Full-width to half-width, lower case, digits for numerals, punctuation removed."""
    text = numerals_to_digits(unicodedata.normalize("NFKC", text).lower())
    return "".join(re.findall(r"[\w.%]+", text)).replace("_", "")


def cut(text: str, *, for_search: bool = False) -> list[str]:
    """Content words of already-normalised text (search mode also yields the sub-words)."""
    with _jieba_lock:  # jieba initialises its dictionary lazily and not thread-safely
        tokens = jieba.lcut_for_search(text) if for_search else jieba.lcut(text)
    return [t for t in tokens if t.strip() and t not in STOPWORDS]


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    return tuple(cut(text))


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    with _jieba_lock:
        table = jieba.analyse.default_tfidf
        return table.idf_freq, table.median_idf


def weight(word: str) -> float:
    idf, median = _idf()
    return len(word) * idf.get(word, median)


@lru_cache(maxsize=4096)
def _parts(word: str) -> tuple[str, ...]:
    return tuple(p for p in cut(word, for_search=True) if p != word and len(p) >= 2)


@dataclass(frozen=True)
class _Prepared:
    """Text with clause (|), sentence (‖) and list-item (/) marks, and what it says."""

    text: str
    masked: str  # same length; numbers, fixed phrases and non-negations blanked
    quantities: tuple[Quantity, ...]
    permissive: tuple[tuple[int, int], ...]


def _marked(raw: str, lexicon: Lexicon, question: str) -> str:
    text = numerals_to_digits(unicodedata.normalize("NFKC", raw).lower())
    text = _INTERROGATIVES.sub("", _DROP.sub("", text))
    text = _SENTENCE_PUNCT.sub(SENTENCE, _CLAUSE_PUNCT.sub(CLAUSE, text))
    text = _ITEM_PUNCT.sub(ITEM, text)
    text = _KEEP.sub("", text).replace("_", "")
    text = lexicon.canonical(text, question)
    text = _REPEATED_MARKS.sub(lambda m: max(m.group(0), key=_STRENGTH.index), text)
    return text.strip(_MARKS)


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] not in _MARKS:
            chars[i] = _BLANK


def _occurrences(text: str, word: str) -> Iterable[int]:
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


@lru_cache(maxsize=2048)
def _prepare(raw: str, lexicon: Lexicon, question: str) -> _Prepared:
    text = _marked(raw, lexicon, question)
    found = tuple(quantities(text))
    masked = list(text)
    for q in found:
        _blank(masked, q.start, q.end)
    permissive = []
    for match in _PERMISSIVE.finditer(text):
        permissive.append(match.span())
        _blank(masked, *match.span())
    for term in (*_NOT_NEGATIONS, *lexicon.fixed, *lexicon.contrast_terms):
        if any(c in term for c in _NEGATION_CHARS):
            for at in _occurrences(text, term):
                _blank(masked, at, at + len(term))
    return _Prepared(text, "".join(masked), found, tuple(permissive))


def _compact(text: str) -> str:
    return "".join(c for c in text if c not in _MARKS)


# Key points ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Point:
    text: str
    prepared: _Prepared
    words: tuple[str, ...]
    negative: bool
    forbids: bool  # negative and not a described failure (未完成): it must be said as a "not"
    subject: str | None
    pairs: tuple[tuple[str, str], ...]  # (head, tail) of each clause, for swapped halves


@lru_cache(maxsize=64)
def _terms(lexicon: Lexicon) -> tuple[str, ...]:
    """Words jieba must not split (人社局 is not 人 + 社局), longest first."""
    terms = {g.canonical for g in lexicon.groups} | set(lexicon.contrast_terms) | set(lexicon.fixed)
    return tuple(sorted((t for t in terms if len(t) >= 2), key=len, reverse=True))


def _tokens(text: str, lexicon: Lexicon) -> list[str]:
    with _jieba_lock:
        pieces = [(w, s, e) for w, s, e in jieba.tokenize(text)]
    taken = [False] * len(text)
    spans = []
    for term in _terms(lexicon):
        for at in _occurrences(text, term):
            if not any(taken[at:at + len(term)]):
                taken[at:at + len(term)] = [True] * len(term)
                spans.append((at, at + len(term)))
    result: list[tuple[int, str]] = [(s, text[s:e]) for s, e in spans]
    for word, start, end in pieces:
        if not any(taken[start:end]):
            result.append((start, word))
    return [w for _, w in sorted(result)]


def _content_words(text: str, lexicon: Lexicon) -> list[str]:
    result = []
    for token in _tokens(text, lexicon):
        if token in _PROHIBITIONS or all(c in _NEGATION_CHARS for c in token):
            continue
        if (token[0] in _NEGATION_CHARS and len(token) > 1 and token not in _NOT_NEGATIONS
                and token not in lexicon.fixed):
            token = token[1:]  # 不看 → 看: the negation is judged separately
        if (token.strip() and token not in STOPWORDS
                and not any(c in _MARKS + _BLANK for c in token)):
            result.append(token)
    return list(dict.fromkeys(result))


def _negations(masked: str, start: int, end: int) -> list[int]:
    """Where a "not" stands in masked[start:end]: 不/没/未/无…, or 严禁/杜绝/反对…."""
    found = {i for i in range(start, end) if masked[i] in _NEGATION_CHARS}
    for word in _PROHIBITIONS:
        found.update(start + i for i in _occurrences(masked[start:end], word))
    return sorted(found)


def _forbids(prepared: _Prepared) -> bool:
    masked = prepared.masked
    for i in _negations(masked, 0, len(masked)):
        rest = masked[i + 1:]
        if not any(rest.startswith(a) or rest[1:].startswith(a) for a in _ACHIEVEMENTS):
            return True
    return False


@lru_cache(maxsize=2048)
def _point(text: str, lexicon: Lexicon, question: str) -> _Point:
    prepared = _prepare(text, lexicon, question)
    plain = list(prepared.text)
    for q in prepared.quantities:
        for i in range(q.start, q.end):
            plain[i] = CLAUSE
    content = _content_words("".join(plain), lexicon)
    negative = bool(_negations(prepared.masked, 0, len(prepared.masked)))
    subject = next((t for t in sorted(lexicon.contrast_terms, key=prepared.text.find)
                    if t in prepared.text), None)
    pairs = []
    clauses = re.split(f"[{re.escape(CLAUSE + SENTENCE)}]", "".join(plain))
    if len(clauses) == 2:
        for clause in clauses:
            cw = _content_words(clause, lexicon)
            if len(cw) >= 2:
                pairs.append((cw[0], cw[-1]))
    return _Point(text, prepared, tuple(content), negative,
                  negative and _forbids(prepared), subject,
                  tuple(pairs) if len(pairs) == 2 else ())


# Matching one key point ------------------------------------------------------------------
COVERED, MISSED, WRONG = "covered", "missed", "wrong"


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int


def _sentences(text: str) -> list[_Sentence]:
    result, start = [], 0
    for i, char in enumerate(text + SENTENCE):
        if char == SENTENCE:
            if i > start:
                result.append(_Sentence(start, i))
            start = i + 1
    return result


def _clause_bounds(text: str, at: int, marks: str = CLAUSE + SENTENCE) -> tuple[int, int]:
    start = max(text.rfind(m, 0, at) for m in marks) + 1
    ends = [e for e in (text.find(m, at) for m in marks) if e >= 0]
    return start, min(ends) if ends else len(text)


def _found_share(word: str, window: str) -> float:
    if word in window:
        return 1.0
    if len(word) < COMPOUND_MIN_LENGTH:
        return 0.0
    parts = _parts(word)
    if not parts:
        return 0.0
    total = sum(weight(p) for p in parts)
    return sum(weight(p) for p in parts if p in window) / total


def _share(point: _Point, window: str) -> float:
    if not point.words:
        return 1.0
    if _compact(point.prepared.text) and _compact(point.prepared.text) in _compact(window):
        return 1.0
    total = sum(weight(w) for w in point.words)
    return sum(weight(w) * _found_share(w, window) for w in point.words) / total


@dataclass(frozen=True)
class _Said:
    """Where a point is said: start:end round the anchor, its heaviest word that is not
    the point's subject (小学, 人社局), and the words (or parts of words) found."""

    start: int
    end: int
    anchor: int
    words: tuple[str, ...]


def _span(point: _Point, text: str, sentence: _Sentence) -> _Said | None:
    """The clause holding most of the point's words, and round it."""
    window = text[sentence.start:sentence.end]
    present = []
    for word in point.words:
        if word in window:
            present.append(word)
        elif len(word) >= COMPOUND_MIN_LENGTH:
            present.extend(p for p in _parts(word) if p in window)
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
    clause_start, clause_end = _clause_bounds(text, anchor)
    for word in present:
        spots = [sentence.start + at for at in _occurrences(window, word)]
        # A word of the anchor's own clause before the same word elsewhere.
        spot = min(spots, key=lambda s: (not clause_start <= s < clause_end, abs(s - anchor)))
        lo, hi = min(lo, spot), max(hi, spot + len(word))
    return _Said(lo, hi, anchor, tuple(present))


def _negated(answer: _Prepared, said: _Said) -> bool:
    """Is the point said with a "not" (or said, then denied: 安全演练，我们没搞)?

    A "not" inside the stretch counts when it stands right before one of the point's words
    (没有及时更新), not when it belongs to a word of its own (调整了不合理的学校布局).
    """
    masked, text, start, end = answer.masked, answer.text, said.start, said.end
    for i in _negations(masked, start, end):
        if any(text.startswith(w, j) for j in range(i + 1, i + 4) for w in said.words):
            return True
    clause_start, _ = _clause_bounds(text, start)
    if any(p in masked[clause_start:start] for p in _PROHIBITIONS):
        return True
    item_start = max(text.rfind(ITEM, 0, start) + 1, clause_start)
    if _negations(masked, max(item_start, start - 2), start):
        return True
    _, clause_end = _clause_bounds(text, max(start, end - 1))
    item_end = text.find(ITEM, end, clause_end)
    after_end = min(end + 4, item_end if item_end >= 0 else clause_end, clause_end)
    # After the point, a "not" denies it only when it takes up the point's own verb
    # (远程教育设备基本不用); 入学率不达标 says something else about 入学率.
    own = set("".join(said.words)) - set("".join(STOPWORDS))
    for i in _negations(masked, end, after_end):
        if own & set(text[i + 1:i + 3]):
            return True
    if clause_end < len(text) and text[clause_end] == CLAUSE:
        _, next_end = _clause_bounds(text, clause_end + 1)
        return bool(_DENIAL.fullmatch(text[clause_end + 1:next_end]))
    return False


def _waved_away(answer: _Prepared, start: int, end: int) -> bool:
    clause_start, clause_end = _clause_bounds(answer.text, start)
    return any(clause_start <= s < clause_end and s < end + 6 for s, _ in answer.permissive)


def _achieved(point: _Point, answer: _Prepared, start: int, end: int) -> bool:
    """未完成薄弱学校改造 against 完成了薄弱学校改造: the failure said as a success."""
    key = point.prepared.masked
    failed = [a for a in _ACHIEVEMENTS
              if any(key.startswith(a, i + 1) or key.startswith(a, i + 2)
                     for i in _negations(key, 0, len(key)))]
    return any(a in answer.text[start - 2:end + 2] for a in failed)


def _bound_subject(text: str, at: int, group: int, lexicon: Lexicon) -> str | None:
    """The nearest subject of the group: before `at` in its clause, after it, or earlier."""
    members = [t for t in lexicon.contrast_terms if lexicon.contrast_group(t) == group]
    clause_start, clause_end = _clause_bounds(text, at)
    sentence_start, _ = _clause_bounds(text, at, SENTENCE)

    def last_before(start: int, end: int) -> str | None:
        best: tuple[int, str] | None = None
        for term in members:
            for spot in _occurrences(text[start:end], term):
                spot += start
                # 人社局会同编办和教育局招聘教师: those 会同'd are helpers, not the subject.
                own_clause = _clause_bounds(text, spot)[0]
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
    clause_start, clause_end = _clause_bounds(text, quantity.start)
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


def _subject_of(answer: _Prepared, at: int, point: _Point, lexicon: Lexicon,
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


def _quantities_status(point: _Point, answer: _Prepared, sentence: _Sentence,
                       span: tuple[int, ...] | None, lexicon: Lexicon) -> str:
    """COVERED when the values agree, WRONG when the answer gives this point another value."""
    keys = point.prepared.quantities
    if not keys:
        return COVERED
    said = [q for q in answer.quantities if sentence.start <= q.start < sentence.end]
    clauses = set()
    if span is not None:
        clauses = {_clause_bounds(answer.text, span[0]), _clause_bounds(answer.text, span[1] - 1)}
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
            in_clause = _clause_bounds(answer.text, q.start) in clauses
            if (point.subject is not None and subject == point.subject) or (
                    point.subject is None and in_clause):
                return WRONG
    return COVERED if matched else MISSED


def _wrong_subject(point: _Point, answer: _Prepared, anchor: int, lexicon: Lexicon) -> bool:
    if point.subject is None or point.prepared.quantities:
        return False
    subject = _subject_of(answer, anchor, point, lexicon)
    return subject is not None and subject != point.subject


def _bound(text: str, head: str, tail: str, heads: Sequence[str]) -> bool:
    for at in _occurrences(text, head):
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


def _swapped(point: _Point, window: str) -> bool:
    """重在结果，兼顾过程 against 重在过程，兼顾结果: each head bound to the other's tail."""
    if not point.pairs:
        return False
    (h1, t1), (h2, t2) = point.pairs
    heads = (h1, h2)
    return (_bound(window, h1, t2, heads) and not _bound(window, h1, t1, heads)) or (
        _bound(window, h2, t1, heads) and not _bound(window, h2, t2, heads))


def _judge_in(point: _Point, answer: _Prepared, sentence: _Sentence,
              lexicon: Lexicon) -> tuple[str, int]:
    window = answer.text[sentence.start:sentence.end]
    share = _share(point, window)
    if share < CONFLICT_SHARE:
        return MISSED, -1
    located = _span(point, answer.text, sentence)
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


def _judge(point: _Point, answer: _Prepared, lexicon: Lexicon) -> tuple[str, int]:
    """COVERED anywhere wins; else WRONG anywhere; else MISSED (with where it was said)."""
    outcomes = [_judge_in(point, answer, s, lexicon) for s in _sentences(answer.text)]
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


def _echoes(answer: _Prepared, question: str, lexicon: Lexicon) -> bool:
    said = _content_words(_compact(answer.text), lexicon)
    if not said:
        return False
    asked = _compact(_prepare(question, lexicon, "").text)
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
    prepared = _prepare(answer, lexicon, question_key)
    if not _compact(prepared.text) or (question and _echoes(prepared, question, lexicon)):
        return DrillScore((), tuple(key_points), (), needed)
    judged = [_judge(_point(p, lexicon, question_key), prepared, lexicon) for p in key_points]
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
