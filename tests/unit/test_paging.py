"""Pages of a long list: which items a page shows and the buttons between pages."""

from __future__ import annotations

import pytest

from bot.core import callbacks
from bot.core.paging import Page, page_buttons, page_footer
from bot.texts import Texts


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts.load()


def test_pages_walk_the_whole_list() -> None:
    seen: list[int] = []
    page = Page.at(0, 10, 22)
    while True:
        seen.extend(range(page.offset, page.end))
        if not page.has_next:
            break
        page = Page.at(page.next_offset, 10, 22)
    assert seen == list(range(22))
    assert (page.offset, page.count, page.has_previous) == (20, 2, True)


def test_an_offset_past_a_shrunken_list_shows_its_last_page() -> None:
    assert Page.at(40, 10, 22).offset == 20
    assert Page.at(20, 10, 20).offset == 10
    assert Page.at(5, 10, 0) == Page(0, 10, 0)
    assert Page.at(-3, 10, 5).offset == 0
    with pytest.raises(ValueError):
        Page.at(0, 0, 5)


def test_one_page_needs_no_footer_and_no_buttons(texts: Texts) -> None:
    page = Page.at(0, 10, 7)
    assert not page.paged
    assert page_footer(texts, "zh", page) is None
    assert page_buttons(texts, "zh", page, lambda o: callbacks.page("ovd", o)) == []


def test_buttons_carry_the_offsets(texts: Texts) -> None:
    page = Page.at(10, 10, 45)
    buttons = page_buttons(texts, "zh", page, lambda o: callbacks.page("unit", 7, o))
    assert [b.data for b in buttons] == ["page:unit:7:0", "page:unit:7:20"]
    assert "25" in buttons[1].text  # how many are still to come
    assert page_footer(texts, "en", page) == "— items 11–20 of 45 —"
