"""The fixed words a command takes (`/rank week`, `/settings quiet off`), in either language.

Each command that takes such words declares one small table: the word the code reads
(ASCII, also used in callback data) and the words people type for it, Chinese first. The
same table parses what was typed and is listed under the command in /help, so the help
never names a word the command does not take.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.core.parsing import fold


def _key(word: str) -> str:
    return fold(word.strip()).casefold()


@dataclass(frozen=True)
class Words:
    """One command's words: canonical word → the other words that mean it, Chinese first."""

    table: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for canonical, aliases in self.table.items():
            for word in (canonical, *aliases):
                key = _key(word)
                if seen.setdefault(key, canonical) != canonical:
                    raise ValueError(f"{word!r} would mean both {seen[key]!r} and {canonical!r}")

    def canonical(self, word: str) -> str | None:
        """The word the code reads for what was typed, or None when it is none of them."""
        key = _key(word)
        for canonical, aliases in self.table.items():
            if key == _key(canonical) or any(key == _key(a) for a in aliases):
                return canonical
        return None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """(canonical word, the Chinese word people are shown for it)."""
        for canonical, aliases in self.table.items():
            yield canonical, aliases[0] if aliases else canonical

    def listing(self, language: str, separator: str) -> str:
        """"本周（week）、总体（all）" for Chinese readers, "week (本周), all (总体)" for others."""
        if language == "zh":
            return separator.join(f"{zh}（{word}）" for word, zh in self)
        return separator.join(f"{word} ({zh})" for word, zh in self)
