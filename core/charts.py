"""Charts drawn on the server as SVG geometry: no JavaScript, no CDN, nothing to load."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 720
HEIGHT = 260
LEFT = 70
BOTTOM = 30
TOP = 16


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str


@dataclass(frozen=True)
class GridLine:
    y: float
    text: str


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    grid: list[GridLine]
    baseline: float


def bar_chart(
    *, title: str, points: list[tuple[str, int]], value_text: list[str], grid_text: list[str]
) -> BarChart:
    """Bars for `points` (label, value), scaled to the largest value; `value_text` is each
    bar's value as people read it and `grid_text` the four grid lines' labels (0, ¼, ½,
    ¾ and all of the top value, formatted by the caller), so money stays formatted by
    its one formatter. The template draws it (core/_bar_chart.svg.html)."""
    top = max((value for _, value in points), default=0) or 1
    plot_height = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT) / max(len(points), 1)
    bars = [
        Bar(
            x=LEFT + index * step + step * 0.15,
            y=TOP + plot_height * (1 - value / top),
            width=step * 0.7,
            height=plot_height * value / top,
            label=label,
            value_text=text,
        )
        for index, ((label, value), text) in enumerate(zip(points, value_text, strict=True))
    ]
    grid = [
        GridLine(y=TOP + plot_height * (1 - fraction), text=text)
        for fraction, text in zip((0, 0.25, 0.5, 0.75, 1), grid_text, strict=True)
    ]
    return BarChart(
        title=title, width=WIDTH, height=HEIGHT, bars=bars, grid=grid, baseline=HEIGHT - BOTTOM
    )
