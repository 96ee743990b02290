"""How answers and key points are read: normalised text with clause, sentence and list
marks, content words and their weights, and where a "not" stands.

Words weigh by length times their rarity (jieba's IDF table), so 自查材料 decides
"自查材料通过国家审查" rather than 通过 or 国家.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.quiz.lexicon import Lexicon
from bot.quiz.numbers import Quantity, numerals_to_digits, quantities

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
PROHIBITIONS = (
    "严禁", "禁止", "杜绝", "不得", "不准", "不许", "不能", "不要", "不可", "绝不", "决不",
    "反对", "防止", "避免", "拒绝", "不搞", "不允许", "不应", "不该", "切忌", "严防",
    "不需要", "无需", "无须", "不必", "不用",
)
# A negated achievement describes a failure (未完成, 不达标) rather than forbidding something.
ACHIEVEMENTS = ("达标", "完成", "达到", "到位", "实现")
# Said against a point that forbids something, these wave the rule away.
_PERMISSIVE = re.compile(
    r"(?<![不没])(可以|可(?![靠能行见是])|允许|适当|无妨|也行|无所谓|问题不大)"
    r"|没关系|不要紧|(还|仍|仍然|依然)(存在|有)"
)
_jieba_lock = threading.Lock()
# Text ------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """Full-width to half-width, lower case, digits for numerals, punctuation removed."""
    text = numerals_to_digits(unicodedata.normalize("NFKC", text).lower())
    return "".join(re.findall(r"[\w.%]+", text)).replace("_", "")


def cut(text: str, *, for_search: bool = False) -> list[str]:
    """Content words of already-normalised text (search mode also yields the sub-words)."""
    # Imported at first use: jieba and its IDF table cost ~0.4 s and ~100 MB, which a bot
    # start should not pay before anyone answers a drill or asks a question.
    import jieba

    with _jieba_lock:  # jieba initialises its dictionary lazily and not thread-safely
        tokens = jieba.lcut_for_search(text) if for_search else jieba.lcut(text)
    return [t for t in tokens if t.strip() and t not in STOPWORDS]


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    return tuple(cut(text))


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    import jieba.analyse

    with _jieba_lock:
        table = jieba.analyse.default_tfidf
        return table.idf_freq, table.median_idf


def weight(word: str) -> float:
    idf, median = _idf()
    return len(word) * idf.get(word, median)


@lru_cache(maxsize=4096)
def word_parts(word: str) -> tuple[str, ...]:
    return tuple(p for p in cut(word, for_search=True) if p != word and len(p) >= 2)


@dataclass(frozen=True)
class Prepared:
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


def occurrences(text: str, word: str) -> Iterable[int]:
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


@lru_cache(maxsize=2048)
def prepare(raw: str, lexicon: Lexicon, question: str) -> Prepared:
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
            for at in occurrences(text, term):
                _blank(masked, at, at + len(term))
    return Prepared(text, "".join(masked), found, tuple(permissive))


def compact(text: str) -> str:
    return "".join(c for c in text if c not in _MARKS)


@lru_cache(maxsize=64)
def _terms(lexicon: Lexicon) -> tuple[str, ...]:
    """Words jieba must not split (人社局 is not 人 + 社局), longest first."""
    terms = {g.canonical for g in lexicon.groups} | set(lexicon.contrast_terms) | set(lexicon.fixed)
    return tuple(sorted((t for t in terms if len(t) >= 2), key=len, reverse=True))


def _tokens(text: str, lexicon: Lexicon) -> list[str]:
    import jieba

    with _jieba_lock:
        pieces = [(w, s, e) for w, s, e in jieba.tokenize(text)]
    taken = [False] * len(text)
    spans = []
    for term in _terms(lexicon):
        for at in occurrences(text, term):
            if not any(taken[at:at + len(term)]):
                taken[at:at + len(term)] = [True] * len(term)
                spans.append((at, at + len(term)))
    result: list[tuple[int, str]] = [(s, text[s:e]) for s, e in spans]
    for word, start, end in pieces:
        if not any(taken[start:end]):
            result.append((start, word))
    return [w for _, w in sorted(result)]


def content_words(text: str, lexicon: Lexicon) -> list[str]:
    result = []
    for token in _tokens(text, lexicon):
        if token in PROHIBITIONS or all(c in _NEGATION_CHARS for c in token):
            continue
        if (token[0] in _NEGATION_CHARS and len(token) > 1 and token not in _NOT_NEGATIONS
                and token not in lexicon.fixed):
            token = token[1:]  # 不看 → 看: the negation is judged separately
        if (token.strip() and token not in STOPWORDS
                and not any(c in _MARKS + _BLANK for c in token)):
            result.append(token)
    return list(dict.fromkeys(result))


def negations(masked: str, start: int, end: int) -> list[int]:
    """Where a "not" stands in masked[start:end]: 不/没/未/无…, or 严禁/杜绝/反对…."""
    found = {i for i in range(start, end) if masked[i] in _NEGATION_CHARS}
    for word in PROHIBITIONS:
        found.update(start + i for i in occurrences(masked[start:end], word))
    return sorted(found)


def forbids(prepared: Prepared) -> bool:
    masked = prepared.masked
    for i in negations(masked, 0, len(masked)):
        rest = masked[i + 1:]
        if not any(rest.startswith(a) or rest[1:].startswith(a) for a in ACHIEVEMENTS):
            return True
    return False
