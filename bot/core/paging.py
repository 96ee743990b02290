"""Long lists as pages: which items a page shows and the buttons that move between pages.

A page is named by its offset alone, carried in the button (`page:<list>[:<subject>]:<offset>`),
and the list is read again from the database when the button is pressed. Nothing is kept
between the two, so a page button works after a restart, and a list that changed since
shows what is there now (an offset past the end shows the last page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.keyboard import Button
from bot.texts import Texts


@dataclass(frozen=True)
class Page:
    """Items [offset, offset + size) of `total`."""

    offset: int
    size: int
    total: int

    @classmethod
    def at(cls, offset: int, size: int, total: int) -> Page:
        """The page at `offset`, moved back onto the list when the list has shrunk."""
        if size < 1:
            raise ValueError("a page holds at least one item")
        offset = max(0, offset)
        if total and offset >= total:
            offset = (total - 1) // size * size
        elif not total:
            offset = 0
        return cls(offset, size, total)

    @property
    def end(self) -> int:
        """One past the last item shown."""
        return min(self.offset + self.size, self.total)

    @property
    def count(self) -> int:
        return self.end - self.offset

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.end < self.total

    @property
    def previous_offset(self) -> int:
        return max(0, self.offset - self.size)

    @property
    def next_offset(self) -> int:
        return self.end

    @property
    def paged(self) -> bool:
        """More than one page: say where we are and offer the way on."""
        return self.has_previous or self.has_next


def page_footer(texts: Texts, lang: str, page: Page) -> str | None:
    """"Items 11–20 of 45", or None when everything fits one page."""
    if not page.paged:
        return None
    return texts.get(lang, "page.range", first=page.offset + 1, last=page.end, total=page.total)


def page_buttons(
    texts: Texts, lang: str, page: Page, data: Callable[[int], str]
) -> list[Button]:
    """The row that moves between pages; `data(offset)` is a page's callback data."""
    row: list[Button] = []
    if page.has_previous:
        row.append(Button(texts.plain(lang, "page.previous"), data(page.previous_offset)))
    if page.has_next:
        row.append(Button(texts.plain(lang, "page.next", count=page.total - page.end),
                          data(page.next_offset)))
    return row
