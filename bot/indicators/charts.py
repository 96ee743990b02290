"""Charts of the indicator data, in the reports' style (`bot.reports.charts`):

* every coefficient of each level against its threshold (and the composite, basic sets);
* each school's value as a share of the minimum, per indicator with a minimum (or, for a
  set without minimums, of the county value), lowest first.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from bot.indicators.balance import CountyBalance, indicator_value
from bot.indicators.records import SchoolRecord
from bot.indicators.standards import IndicatorDef, SetKind, StandardSet
from bot.reports.charts import ChartStyle
from bot.texts import Texts

MAX_SCHOOLS = 15
PANELS = 4
OK_COLOR, BAD_COLOR, LINE_COLOR = "#2e86c1", "#c0392b", "#7f8c8d"
DPI = 110


def coefficient_figure(standard: StandardSet, balance: CountyBalance, texts: Texts,
                       style: ChartStyle) -> Figure:
    """Bars of each coefficient per level, the threshold as a line."""
    lang = style.language
    levels = balance.levels
    figure = Figure(figsize=(8, 3.2 * max(1, len(levels))), dpi=DPI, layout="constrained")
    for row, level in enumerate(levels, start=1):
        axes = figure.add_subplot(len(levels), 1, row)
        threshold = float(standard.threshold(level.level))
        labels = [style.label(d.indicator.name, n) for n, d in enumerate(level.dispersions, 1)]
        values = [float(d.cv) if d.cv is not None else 0.0 for d in level.dispersions]
        if standard.kind is SetKind.BASIC:
            labels.append(texts.plain(lang, "indicators.chart.composite"))
            values.append(float(level.composite) if level.composite is not None else 0.0)
            colors = [LINE_COLOR] * (len(values) - 1)
            colors.append(BAD_COLOR if values[-1] > threshold else OK_COLOR)
        else:
            colors = [BAD_COLOR if v > threshold else OK_COLOR for v in values]
        positions = list(range(len(values)))
        axes.bar(positions, values, color=colors)
        axes.axhline(threshold, color=BAD_COLOR, linestyle="--", linewidth=1)
        axes.annotate(texts.plain(lang, "indicators.chart.threshold", value=f"{threshold:g}"),
                      (len(values) - 0.5, threshold), xytext=(0, 3), textcoords="offset points",
                      ha="right", color=BAD_COLOR, fontproperties=style.props(8))
        for x, value in zip(positions, values, strict=True):
            axes.text(x, value, f"{value:.2f}", ha="center", va="bottom",
                      fontproperties=style.props(7))
        axes.set_xticks(positions, [label[:8] for label in labels], rotation=30, ha="right",
                        fontproperties=style.props(8))
        axes.set_ylim(0, max([*values, threshold]) * 1.25 or 1)
        axes.set_title(texts.plain(lang, "indicators.chart.coefficients_title",
                                   level=_level(level.level.value, lang)),
                       fontproperties=style.props(10))
    return figure


def _level(value: str, lang: str) -> str:
    if lang == "en":
        return value
    return "小学" if value == "primary" else "初中"


def _ratio(indicator: IndicatorDef, record: SchoolRecord, base: float) -> float | None:
    value = indicator_value(indicator, record)
    return None if value is None or base <= 0 else 100 * float(value) / base


def minimum_figure(standard: StandardSet, balance: CountyBalance, records: list[SchoolRecord],
                   texts: Texts, style: ChartStyle) -> Figure:
    """Per indicator (those with a minimum first): schools' values as % of the minimum."""
    lang = style.language
    chosen = [i for i in standard.indicators if i.minimum][:PANELS]
    against_minimum = bool(chosen)
    if not chosen:
        chosen = list(standard.indicators[:PANELS])
    figure = Figure(figsize=(9, 2.6 * len(chosen) + 0.6), dpi=DPI, layout="constrained")
    for row, indicator in enumerate(chosen, start=1):
        axes = figure.add_subplot(len(chosen), 1, row)
        points: list[tuple[str, float]] = []
        for level in balance.levels:
            mean = level.dispersion(indicator.id).mean
            for record in records:
                if record.level is not level.level:
                    continue
                base = (float(indicator.minimum[record.level]) if against_minimum
                        and record.level in indicator.minimum else
                        float(mean) if mean is not None else 0.0)
                ratio = _ratio(indicator, record, base)
                if ratio is not None:
                    points.append((style.label(record.name, int(record.school_id)), ratio))
        points.sort(key=lambda p: p[1])
        shown = points[:MAX_SCHOOLS]
        positions = list(range(len(shown)))[::-1]
        axes.barh(positions, [v for _, v in shown],
                  color=[BAD_COLOR if v < 100 else OK_COLOR for _, v in shown])
        axes.axvline(100, color=BAD_COLOR, linestyle="--", linewidth=1)
        if against_minimum and standard.minimums is not None:
            axes.axvline(100 * float(standard.minimums.floor), color=LINE_COLOR, linestyle=":",
                         linewidth=1)
        axes.set_yticks(positions, [name[:12] for name, _ in shown], fontproperties=style.props(8))
        key = "indicators.chart.minimum_title" if against_minimum else "indicators.chart.mean_title"
        axes.set_title(texts.plain(lang, key, indicator=indicator.name),
                       fontproperties=style.props(10))
        axes.set_xlabel(texts.plain(lang, "indicators.chart.percent_axis"),
                        fontproperties=style.props(8))
        if not shown:
            axes.text(0.5, 0.5, texts.plain(lang, "indicators.chart.empty"), ha="center",
                      transform=axes.transAxes, fontproperties=style.props(9))
    return figure
