"""The indicator views that need no database: a long list of schools comes in pages."""

from __future__ import annotations

from bot.core import callbacks
from bot.indicators.data import SchoolInfo
from bot.indicators.views import schools_page
from bot.texts import Texts
from db.models import SchoolLevel


def test_the_schools_to_open_come_ten_to_a_page() -> None:
    texts = Texts.load()
    schools = [SchoolInfo(n, f"第{n}小学", SchoolLevel.PRIMARY) for n in range(1, 24)]
    text, keyboard = schools_page(texts, "zh", schools, 0)
    data = [b.data for b in keyboard.buttons()]
    assert data[:10] == [callbacks.build(callbacks.INDICATORS, "school", n) for n in range(1, 11)]
    assert data[10:] == [callbacks.page("sch", 10)] and "23" in text
    text, keyboard = schools_page(texts, "zh", schools, 20)
    data = [b.data for b in keyboard.buttons()]
    assert data == [*(callbacks.build(callbacks.INDICATORS, "school", n) for n in (21, 22, 23)),
                    callbacks.page("sch", 10)]
    # Fewer than a page: no way on, no footer.
    text, keyboard = schools_page(texts, "zh", schools[:4], 0)
    assert len(keyboard.buttons()) == 4 and "\n" not in text
