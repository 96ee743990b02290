"""Charts render as PNG photos of a sensible size, with Chinese drawn by a CJK font."""

from __future__ import annotations

import io
from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from PIL import Image

from bot.reports import charts
from bot.reports.summary import Counts, Standing
from bot.texts import Texts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts.load()


def _units(n: int) -> list[Standing]:
    return [Standing(i + 1, f"第{i + 1}中心学校", Counts(total=10, done=i % 11, overdue=i % 3))
            for i in range(n)]


def _series() -> list[tuple[date, int]]:
    start = date(2026, 10, 1)
    changes = {start: 40, start + timedelta(days=5): 25, start + timedelta(days=20): -30,
               start + timedelta(days=40): -12}
    return charts.burndown_series(changes, date(2026, 11, 22))


def _texts_of(figure: Figure) -> list[Text]:
    return [t for t in figure.findobj(Text) if t.get_text().strip()]


def _check_png(png: bytes, *, min_size: tuple[int, int]) -> None:
    assert png.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    width, height = image.size
    assert min_size[0] <= width <= 2000 and min_size[1] <= height <= 2500
    # Something was drawn: far more than a blank canvas's single colour.
    colors = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    assert len(colors) > 20


def _cjk_font_or_skip() -> charts.CjkFont:
    font = charts.find_cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    return font


def _assert_chinese_is_drawable(figure: Figure) -> int:
    """Every text artist with Chinese resolves to a font file that has those glyphs."""
    checked = 0
    for artist in _texts_of(figure):
        chinese = [ch for ch in artist.get_text() if "\u4e00" <= ch <= "\u9fff"]
        if not chinese:
            continue
        found = font_manager.fontManager.findfont(artist.get_fontproperties())
        face = FT2Font(str(found), face_index=getattr(found, "face_index", 0))
        missing = [ch for ch in chinese if face.get_char_index(ord(ch)) == 0]
        assert not missing, f"{artist.get_text()!r} drawn with {found} lacks {missing}"
        checked += 1
    return checked


def test_completion_chart_uses_a_cjk_font(texts: Texts) -> None:
    font = _cjk_font_or_skip()
    style = charts.ChartStyle.choose(font, "zh")
    figure = charts.completion_figure(_units(12), texts, style, total_units=12)
    # Title, axis label, 12 unit names and their notes all carry Chinese.
    assert _assert_chinese_is_drawable(figure) >= 14
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert "第1中心学校" in labels
    _check_png(charts.render_png(figure), min_size=(700, 400))


def test_completion_chart_shows_the_lowest_units_when_there_are_many(texts: Texts) -> None:
    style = charts.ChartStyle.choose(charts.find_cjk_font(), "zh")
    figure = charts.completion_figure(_units(200), texts, style, total_units=200)
    assert len(figure.axes[0].patches) == charts.MAX_BARS
    assert "200" in figure.axes[0].get_title()


def test_burndown_chart_uses_a_cjk_font_and_has_the_plan_line(texts: Texts) -> None:
    font = _cjk_font_or_skip()
    series = _series()
    plan = charts.plan_line(series, date(2026, 12, 20))
    style = charts.ChartStyle.choose(font, "zh")
    figure = charts.burndown_figure(series, plan, texts, style, inspection=date(2026, 12, 20))
    assert _assert_chinese_is_drawable(figure) >= 3
    lines = figure.axes[0].get_lines()
    plan_lines = [line for line in lines if line.get_linestyle() == "--"]
    assert len(plan_lines) == 1 and np.asarray(plan_lines[0].get_ydata()).tolist() == [65, 0]
    _check_png(charts.render_png(figure), min_size=(700, 350))


def test_without_a_cjk_font_labels_fall_back_to_english_and_ascii(texts: Texts) -> None:
    style = charts.ChartStyle.choose(None, "zh")
    assert style.language == "en"
    figure = charts.completion_figure(_units(3), texts, style, total_units=3)
    for artist in _texts_of(figure):
        assert artist.get_text().isascii(), artist.get_text()
    assert "Unit 1" in [t.get_text() for t in figure.axes[0].get_yticklabels()]
    _check_png(charts.render_png(figure), min_size=(700, 250))


def test_empty_charts_still_render(texts: Texts) -> None:
    style = charts.ChartStyle.choose(charts.find_cjk_font(), "zh")
    _check_png(charts.render_png(charts.completion_figure([], texts, style, total_units=0)),
               min_size=(700, 250))
    _check_png(charts.render_png(charts.burndown_figure([], [], texts, style, inspection=None)),
               min_size=(700, 350))


def test_a_font_without_chinese_is_not_taken_for_a_cjk_font() -> None:
    dejavu = font_manager.findfont("DejaVu Sans")
    assert not charts.covers(str(dejavu), "县")
    assert charts.covers(str(dejavu), "abc")
