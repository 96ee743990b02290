"""Scoring a spoken-style answer by the key points it covers (pure functions).

An inspector listens for substance, not wording, so a key point counts as covered when
the answer contains it, or contains most of its words (segmented with jieba, each word
matched exactly or fuzzily with rapidfuzz). Words weigh by length times their rarity
(jieba's IDF table), so 自查材料 decides "自查材料通过国家审查" rather than 通过 or 国家.
Numbers are compared after writing Chinese numerals as digits, so "百分之八十五" covers "85%".
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jieba
import jieba.analyse
from rapidfuzz import fuzz

# A key point is covered when this share of its word weight is found. Measured on the
# starter bank: its model answers (written as paraphrases) cover 94 % of their own key
# points, while the other questions' model answers cover 2 % of them.
COVERED_SHARE = 0.6
# Words of three or more characters match fuzzily at this similarity (0–100), e.g.
# 弄虚作假/弄虚造假; shorter words must match exactly (教育部 is not 教育).
WORD_SIMILARITY = 66
FUZZY_MIN_LENGTH = 3
COMPOUND_MIN_LENGTH = 4

STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 对 把 被 为 以 由 于 将 从 向 等 并 且 也 都 就 要 有 这 那 其 之 "
    "而 着 个 上 中 下 里 我们 你们 他们 进行 一些 各 各项 方面".split()
)
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_NUMERAL_RUN = re.compile(r"[零〇一二三四五六七八九十百]+(?:点[零〇一二三四五六七八九]+)?")
_PERCENT = re.compile(r"百分之([零〇一二三四五六七八九十百点]+|\d+(?:\.\d+)?)")
_KEEP = re.compile(r"[\w.%]+")
_jieba_lock = threading.Lock()


@dataclass(frozen=True)
class DrillScore:
    covered: tuple[str, ...]
    missed: tuple[str, ...]

    @property
    def score(self) -> float:
        total = len(self.covered) + len(self.missed)
        return len(self.covered) / total if total else 0.0

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def _integer(run: str) -> int:
    if "十" not in run and "百" not in run:
        return int("".join(str(_DIGITS[c]) for c in run))
    total = current = 0
    for char in run:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _DIGITS[char]
    return total + current


def _numeral(run: str) -> str:
    whole, _, fraction = run.partition("点")
    value = str(_integer(whole)) if whole else "0"
    if fraction:
        value += "." + "".join(str(_DIGITS[c]) for c in fraction)
    return value


def _numerals_to_digits(text: str) -> str:
    def percent(match: re.Match[str]) -> str:
        number = match.group(1)
        return (number if number[0].isdigit() else _numeral(number)) + "%"

    def convert(match: re.Match[str]) -> str:
        run = match.group(0)
        # A lone 一 is nearly always a word (一把手, 统一), not the number one.
        return run if run == "一" else _numeral(run)

    # Percentages first: the 百 of 百分之 is not a hundred.
    return _NUMERAL_RUN.sub(convert, _PERCENT.sub(percent, text))


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, digits for numerals, punctuation removed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _numerals_to_digits(text)
    return "".join(_KEEP.findall(text)).replace("_", "")


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


def _word_found(word: str, answer: str, answer_words: Sequence[str]) -> bool:
    if word in answer:
        return True
    if len(word) < FUZZY_MIN_LENGTH:
        return False
    return any(
        fuzz.ratio(word, candidate) >= WORD_SIMILARITY
        for candidate in answer_words
        if len(candidate) >= FUZZY_MIN_LENGTH and abs(len(candidate) - len(word)) <= 1
    )


def _found_share(word: str, answer: str, answer_words: Sequence[str]) -> float:
    """1 when the word is found; for a compound (通过审查), the share of its parts found.

    Three-character words are not split: 教育部 without 部 is no longer the ministry.
    """
    if _word_found(word, answer, answer_words):
        return 1.0
    if len(word) < COMPOUND_MIN_LENGTH:
        return 0.0
    parts = [p for p in _parts(word) if p != word and len(p) >= 2]
    if not parts:
        return 0.0
    total = sum(weight(p) for p in parts)
    return sum(weight(p) for p in parts if _word_found(p, answer, answer_words)) / total


@lru_cache(maxsize=4096)
def _parts(word: str) -> tuple[str, ...]:
    return tuple(cut(word, for_search=True))


def point_coverage(point: str, answer: str) -> float:
    """How much of one key point (0–1) the normalised answer contains."""
    target = normalise(point)
    if not target or not answer:
        return 0.0
    if target in answer:
        return 1.0
    point_words = words(target)
    if not point_words:
        return 0.0
    answer_words = words(answer)
    total = sum(weight(w) for w in point_words)
    found = sum(weight(w) * _found_share(w, answer, answer_words) for w in point_words)
    return found / total


def score_answer(answer: str, key_points: Sequence[str]) -> DrillScore:
    """Which key points the answer covers; an empty or unrelated answer covers none."""
    text = normalise(answer)
    covered: list[str] = []
    missed: list[str] = []
    for point in key_points:
        (covered if point_coverage(point, text) >= COVERED_SHARE else missed).append(point)
    return DrillScore(tuple(covered), tuple(missed))
