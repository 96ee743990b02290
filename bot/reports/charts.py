"""Charts as PNG photos: completion by unit, and the burn-down of open tasks.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global backend
switch). Chinese labels need a CJK font; without one every label falls back to English
and ASCII (unit numbers instead of names) rather than rendering empty boxes.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font

from bot.reports.summary import Standing
from bot.texts import Texts

log = logging.getLogger(__name__)

# Simplified-Chinese faces first: a TTC such as Debian's NotoSansCJK holds JP/KR/SC/TC
# faces of the same design, and the SC one draws 县/乡/镇 the way readers expect.
PREFERRED_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK TC", "Noto Sans CJK JP",
    "Source Han Sans", "Noto Sans CJK",
)
_FILE_HINTS = ("notosanscjk", "notosanssc", "sourcehansans", "wqy")
PROBE = "县乡镇学校完成率"
MAX_BARS = 30
DPI = 110

# matplotlib.dates is untyped; these give its three calls used here their real signatures.
_day_number: Callable[[date], float] = mdates.date2num
_date_locator: Callable[[], Any] = mdates.AutoDateLocator
_date_formatter: Callable[[str], Any] = mdates.DateFormatter

_lock = threading.Lock()
_resolved: dict[str, CjkFont | None] = {}


@dataclass(frozen=True)
class CjkFont:
    family: str
    path: str
    face_index: int

    def properties(self, size: float | None = None) -> FontProperties:
        return FontProperties(family=self.family, size=size)


def covers(path: str, text: str, face_index: int = 0) -> bool:
    """Whether the font face has a glyph for every non-ASCII character of `text`."""
    try:
        face = FT2Font(path, face_index=face_index)
    except (OSError, RuntimeError):
        return False
    return all(face.get_char_index(ord(ch)) != 0 for ch in text if not ch.isascii())


def _registered() -> dict[str, tuple[str, int]]:
    """Family name → (file, face) of the installed fonts, the regular weight preferred."""
    found: dict[str, tuple[str, int]] = {}
    for entry in font_manager.fontManager.ttflist:
        regular = entry.weight in (400, "normal", "regular") and entry.style == "normal"
        if regular or entry.name not in found:
            found[entry.name] = (str(entry.fname), int(entry.index))
    return found


def _pick(families: Mapping[str, tuple[str, int]]) -> CjkFont | None:
    ordered = [f for f in PREFERRED_FAMILIES if f in families]
    ordered += sorted(f for f in families if "CJK" in f or "Hei" in f or "Han Sans" in f)
    for family in ordered:
        path, index = families[family]
        if covers(path, PROBE, index):
            return CjkFont(family, path, index)
    return None


def _register(path: str) -> dict[str, tuple[str, int]]:
    """Add a font file (every face of a TTC) and return the families it brought."""
    font_manager.fontManager.addfont(path)
    return {name: entry for name, entry in _registered().items() if entry[0] == path}


def find_cjk_font(override: str = "") -> CjkFont | None:
    """The CJK font charts use: the configured file, else the best installed one.

    matplotlib's font cache may predate the font's installation, so when the cache knows
    none, the system font directories are searched by file name once.
    """
    with _lock:
        if override in _resolved:
            return _resolved[override]
        found: CjkFont | None = None
        if override:
            if Path(override).is_file():
                found = _pick(_register(str(Path(override).resolve())))
            if found is None:
                log.warning("reports.cjk_font %s has no Chinese glyphs or cannot be read", override)
        if found is None:
            found = _pick(_registered())
        if found is None:
            for path in font_manager.findSystemFonts():
                if any(hint in Path(path).name.lower() for hint in _FILE_HINTS):
                    found = _pick(_register(path)) or found
                    if found is not None:
                        break
        if found is None:
            log.warning(
                "no CJK font found: charts use English labels and unit numbers "
                "(install the Debian package fonts-noto-cjk, or set [reports] cjk_font)"
            )
        _resolved[override] = found
        return found


@dataclass(frozen=True)
class ChartStyle:
    """The font and language a chart is drawn with (English when there is no CJK font)."""

    font: CjkFont | None
    language: str

    @classmethod
    def choose(cls, font: CjkFont | None, language: str) -> ChartStyle:
        return cls(font, language if font is not None else "en")

    def props(self, size: float) -> FontProperties:
        if self.font is None:
            return FontProperties(size=size)
        return self.font.properties(size)

    def label(self, name: str, unit_id: int | None) -> str:
        if self.font is not None or name.isascii():
            return name
        return f"Unit {unit_id}" if unit_id is not None else "—"


def completion_figure(
    units: Sequence[Standing], texts: Texts, style: ChartStyle, *, total_units: int
) -> Figure:
    """Horizontal bars of completion per unit, least complete at the top."""
    lang = style.language
    shown = sorted(units, key=lambda s: (s.counts.completion or 0.0, -s.counts.overdue))[:MAX_BARS]
    height = max(2.6, 0.9 + 0.32 * len(shown))
    figure = Figure(figsize=(8, height), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    labels = [style.label(s.name, s.id) for s in shown]
    values = [100 * (s.counts.completion or 0.0) for s in shown]
    colors = ["#c0392b" if s.counts.overdue else "#2e86c1" for s in shown]
    positions = list(range(len(shown)))[::-1]
    axes.barh(positions, values, color=colors)
    # Passed to set_yticks, the font sticks to ticks the axis creates later (on draw).
    axes.set_yticks(positions, labels, fontproperties=style.props(9))
    for y, value, standing in zip(positions, values, shown, strict=True):
        note = texts.plain(
            lang, "reports.chart_bar_note", percent=round(value), overdue=standing.counts.overdue
        )
        axes.text(min(value, 100) + 1, y, note, va="center", fontproperties=style.props(8))
    axes.set_xlim(0, 118)
    axes.set_xlabel(texts.plain(lang, "reports.chart_completion_axis"), fontproperties=style.props(9))
    key = "reports.chart_completion_title_some" if total_units > len(shown) else (
        "reports.chart_completion_title"
    )
    axes.set_title(
        texts.plain(lang, key, shown=len(shown), total=total_units), fontproperties=style.props(11)
    )
    if not shown:
        axes.text(50, 0, texts.plain(lang, "reports.chart_empty"), ha="center",
                  fontproperties=style.props(10))
    return figure


def burndown_series(changes: Mapping[date, int], end: date) -> list[tuple[date, int]]:
    """Open tasks at the end of each day, from the first recorded change to `end`."""
    if not changes:
        return []
    day = min(changes)
    series, open_now = [], 0
    while day <= end:
        open_now += changes.get(day, 0)
        series.append((day, open_now))
        day += timedelta(days=1)
    return series


def plan_line(series: Sequence[tuple[date, int]], target: date | None) -> list[tuple[date, int]]:
    """A steady pace from the peak of open tasks down to none on the inspection date."""
    if not series or target is None:
        return []
    peak_day, peak = max(series, key=lambda point: point[1])  # the first day at the peak
    if target <= peak_day:
        return []
    return [(peak_day, peak), (target, 0)]


def burndown_figure(
    series: Sequence[tuple[date, int]],
    plan: Sequence[tuple[date, int]],
    texts: Texts,
    style: ChartStyle,
    *,
    inspection: date | None,
) -> Figure:
    lang = style.language
    figure = Figure(figsize=(8, 4.2), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    if series:
        days = [_day_number(d) for d, _ in series]
        axes.step(days, [n for _, n in series], where="post", color="#2e86c1", linewidth=2,
                  label=texts.plain(lang, "reports.chart_actual"))
    if plan:
        axes.plot([_day_number(d) for d, _ in plan], [n for _, n in plan], linestyle="--",
                  color="#7f8c8d",
                  label=texts.plain(lang, "reports.chart_plan"))
    if inspection is not None:
        x = _day_number(inspection)
        axes.axvline(x, color="#c0392b", linewidth=1)
        axes.annotate(texts.plain(lang, "reports.chart_inspection"), (x, 0),
                      xytext=(-4, 4), textcoords="offset points", ha="right", color="#c0392b",
                      fontproperties=style.props(8))
    if not series:
        axes.text(0.5, 0.5, texts.plain(lang, "reports.chart_empty"), ha="center",
                  transform=axes.transAxes, fontproperties=style.props(10))
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_locator(_date_locator())
    axes.xaxis.set_major_formatter(_date_formatter("%m-%d"))
    axes.set_ylabel(texts.plain(lang, "reports.chart_open_axis"), fontproperties=style.props(9))
    axes.set_title(texts.plain(lang, "reports.chart_progress_title"),
                   fontproperties=style.props(11))
    figure.autofmt_xdate()
    if series or plan:
        axes.legend(prop=style.props(9))
    return figure


def render_png(figure: Figure) -> bytes:
    """Agg rendering is CPU-bound and matplotlib's font cache is shared: one at a time."""
    buffer = io.BytesIO()
    with _lock:
        FigureCanvasAgg(figure)
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
