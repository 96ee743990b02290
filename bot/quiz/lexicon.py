"""The domain words the drill scorer needs: synonyms, contrasting subjects, fixed phrases.

The shipped list (`synonyms.yaml` beside the bank) is merged with the office's own file,
named by `[quiz] synonyms_file`; the office can add words, not take the shipped ones away.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.quiz.numbers import numerals_to_digits

SHIPPED = Path(__file__).resolve().parent / "synonyms.yaml"
_NOT_WORD = re.compile(r"[^\w.%≤≥<>]+")


class LexiconError(ValueError):
    """The synonyms file cannot be used; the message names the file and the entry."""


def clean(term: str) -> str:
    """A term as the scorer compares it: half-width, lower case, digits, no punctuation."""
    text = numerals_to_digits(unicodedata.normalize("NFKC", term).lower())
    return _NOT_WORD.sub("", text).replace("_", "")


@dataclass(frozen=True)
class SynonymGroup:
    """Words meaning the same; the first is the one the others are rewritten to."""

    words: tuple[str, ...]
    questions: frozenset[str] = frozenset()  # empty: every question

    @property
    def canonical(self) -> str:
        return self.words[0]


@dataclass(frozen=True)
class Lexicon:
    groups: tuple[SynonymGroup, ...] = ()
    contrasts: tuple[tuple[str, ...], ...] = ()
    fixed: tuple[str, ...] = ()
    _contrast_of: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        index = {term: i for i, group in enumerate(self.contrasts) for term in group}
        object.__setattr__(self, "_contrast_of", index)

    def canonical(self, text: str, question: str = "") -> str:
        """Every synonym in the (cleaned) text rewritten to its group's first word."""
        return _replacer(self, question)(text)

    def contrast_group(self, term: str) -> int | None:
        return self._contrast_of.get(term)

    @property
    def contrast_terms(self) -> tuple[str, ...]:
        return tuple(self._contrast_of)

    def merged(self, other: Lexicon) -> Lexicon:
        return Lexicon(self.groups + other.groups, self.contrasts + other.contrasts,
                       self.fixed + other.fixed)


@lru_cache(maxsize=256)
def _replacer(lexicon: Lexicon, question: str) -> Callable[[str], str]:
    target: dict[str, str] = {}
    for group in lexicon.groups:
        if group.questions and question not in group.questions:
            continue
        for word in group.words:
            target.setdefault(word, group.canonical)
    if not target:
        return lambda text: text
    # Longest first, so 弄虚作假 is one match and not 弄虚 + 作假.
    pattern = re.compile("|".join(re.escape(w) for w in sorted(target, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: target[m.group(0)], text)


def _words(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(w, str | int) for w in raw):
        raise LexiconError(f"{where}: expected a list of at least two words")
    words = tuple(dict.fromkeys(clean(str(w)) for w in raw))
    if "" in words:
        raise LexiconError(f"{where}: an empty word")
    return words


def parse_lexicon(content: str, source: str) -> Lexicon:
    """A lexicon from YAML (`synonyms`, `contrasts`, `fixed`); raises LexiconError."""
    try:
        data = yaml.safe_load(content) or {}
    except yaml.YAMLError as exc:
        raise LexiconError(f"{source}: not valid YAML ({str(exc)[:200]})") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{source}: expected a mapping with synonyms, contrasts, fixed")
    unknown = set(data) - {"version", "synonyms", "contrasts", "fixed"}
    if unknown:
        raise LexiconError(f"{source}: unknown section(s) {', '.join(sorted(map(str, unknown)))}")
    groups: list[SynonymGroup] = []
    for n, raw in enumerate(data.get("synonyms") or [], start=1):
        where = f"{source}: synonyms[{n}]"
        if isinstance(raw, dict):
            questions = raw.get("questions") or []
            if not isinstance(questions, list):
                raise LexiconError(f"{where}: questions must be a list of question ids")
            groups.append(SynonymGroup(_words(raw.get("words"), where),
                                       frozenset(str(q) for q in questions)))
        else:
            groups.append(SynonymGroup(_words(raw, where)))
    contrasts = tuple(_words(raw, f"{source}: contrasts[{n}]")
                      for n, raw in enumerate(data.get("contrasts") or [], start=1))
    fixed = tuple(clean(str(w)) for w in data.get("fixed") or [] if clean(str(w)))
    _check_conflicts(groups, source)
    return Lexicon(tuple(groups), contrasts, fixed)


def _check_conflicts(groups: Iterable[SynonymGroup], source: str) -> None:
    """A word rewritten to two different words would make scoring depend on file order."""
    seen: dict[tuple[str, str], str] = {}
    for group in groups:
        scopes = sorted(group.questions) or [""]
        for word in group.words:
            for scope in scopes:
                other = seen.setdefault((word, scope), group.canonical)
                if other != group.canonical:
                    raise LexiconError(
                        f"{source}: {word} is in two groups ({other}, {group.canonical})")


def read_lexicon(path: Path) -> Lexicon:
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LexiconError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_lexicon(content, str(path))


@lru_cache(maxsize=1)
def shipped() -> Lexicon:
    return read_lexicon(SHIPPED)


def load_lexicon(extra: str | Path | None = None) -> Lexicon:
    """The shipped lexicon, extended by the office's file when one is configured."""
    if not extra:
        return shipped()
    combined = shipped().merged(read_lexicon(Path(extra)))
    _check_conflicts(combined.groups, str(extra))
    return combined
