"""Charts drawn on the server as inline SVG: no JavaScript, nothing fetched, readable on a phone.

Two shapes cover the admin: a time line (a zone's temperatures, its limit drawn, excursions
shaded) and bars (sales per day, per product). Every chart scales to the width of the screen
(`viewBox`) and carries a `<title>` and text labels, so it also reads without colours. Only
presentation attributes are used: the Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from markupsafe import Markup

from appliance.core import haccp

# A phone draws this box about 320 px wide: the 13 px text stays readable there.
WIDTH, HEIGHT = 440, 200
LEFT, RIGHT, TOP, BOTTOM = 58, 8, 14, 26
#: Readings further apart than this are a gap in the record (a sensor down): the line breaks.
GAP_S = 15 * 60
WARM, LINE, GRID, INK = "#b3261e", "#2f5d3a", "#e2e0d8", "#1d2320"


@dataclass(frozen=True)
class Tick:
    at: datetime
    label: str


def temperature_chart(
    title: str,
    readings: Sequence[haccp.Reading],
    limit_mc: int,
    excursions: Sequence[haccp.Excursion],
    start: datetime,
    end: datetime,
    ticks: Sequence[Tick],
    degrees: Callable[[int], str],
    limit_label: str,
) -> Markup:
    """The zone's readings in [start, end): the warmest per pixel column (the food at risk),
    the limit as a dashed line, each excursion shaded from its start to its end."""
    shown = [r for r in readings if start <= r.ts < end]
    temps = [r.temp_mc for r in shown] + [limit_mc]
    low, high = min(temps) - 1000, max(temps) + 1000
    span_s = (end - start).total_seconds()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return LEFT + plot_w * (moment - start).total_seconds() / span_s

    def y(temp_mc: int) -> float:
        return TOP + plot_h * (high - temp_mc) / (high - low)

    parts = [_open(title)]
    for e in excursions:
        left, right = x(max(e.start, start)), x(min(e.end or e.last_seen, end))
        parts.append(
            f'<rect class="excursion" x="{left:.1f}" y="{TOP}" width="{max(right - left, 2):.1f}" '
            f'height="{plot_h}" fill="{WARM}" fill-opacity="0.15"/>'
        )
    for step in _steps(low, high):
        parts.append(_hline(y(step), GRID))
        parts.append(_text(LEFT - 4, y(step) + 4, degrees(step), anchor="end"))
    for tick in ticks:
        parts.append(
            f'<line x1="{x(tick.at):.1f}" y1="{TOP}" x2="{x(tick.at):.1f}" '
            f'y2="{TOP + plot_h}" stroke="{GRID}"/>'
        )
        parts.append(_text(x(tick.at), HEIGHT - 8, tick.label, anchor="middle"))
    parts.append(_hline(y(limit_mc), WARM, dashed=True, css="limit"))
    parts.append(_text(WIDTH - RIGHT, y(limit_mc) - 4, limit_label, anchor="end", fill=WARM))
    column_s = span_s / plot_w
    for run in _runs(_warmest_per_column(shown, x), max(GAP_S, 3 * column_s)):
        points = " ".join(f"{x(r.ts):.1f},{y(r.temp_mc):.1f}" for r in run)
        parts.append(
            f'<polyline class="reading" points="{points}" fill="none" stroke="{LINE}" '
            f'stroke-width="1.6"/>'
        )
    for e in excursions:
        if start <= e.last_seen < end or start <= e.start < end:
            parts.append(
                f'<circle class="peak" cx="{x(max(e.start, start)):.1f}" cy="{y(e.peak_mc):.1f}" '
                f'r="3.5" fill="{WARM}"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    title: str, bars: Sequence[tuple[str, int]], value_label: Callable[[int], str]
) -> Markup:
    """Horizontal bars, one a row with its label and value: long product names are cut to fit
    a phone (the tables below the charts give them whole)."""
    row_h, label_w = 26, 130
    height = TOP + row_h * max(len(bars), 1) + 4
    most = max((value for _, value in bars), default=0) or 1
    plot_w = WIDTH - label_w - 84
    parts = [_open(title, height)]
    for i, (label, value) in enumerate(bars):
        top = TOP + i * row_h
        width = max(plot_w * max(value, 0) / most, 1 if value else 0)
        short = label if len(label) <= 18 else label[:17].rstrip() + "…"
        parts.append(_text(label_w - 6, top + 16, short, anchor="end"))
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{top + 4}" width="{width:.1f}" '
            f'height="{row_h - 8}" fill="{LINE}"/>'
        )
        parts.append(_text(label_w + width + 6, top + 16, value_label(value)))
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(title: str, height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="13">'
        f"<title>{escape(title)}</title>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def _hline(y: float, colour: str, *, dashed: bool = False, css: str = "grid") -> str:
    dash = ' stroke-dasharray="6 4" stroke-width="1.5"' if dashed else ""
    return (
        f'<line class="{css}" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
        f'stroke="{colour}"{dash}/>'
    )


def _steps(low: int, high: int) -> list[int]:
    """Round degrees for the grid, about four of them."""
    span = high - low
    step = next(s for s in (1000, 2000, 5000, 10000, 20000) if span / s <= 5)
    first = -(-low // step) * step
    return list(range(first, high + 1, step))


def _warmest_per_column(
    readings: Sequence[haccp.Reading], x: Callable[[datetime], float]
) -> list[haccp.Reading]:
    """At most one reading per pixel column, the warmest: a week of minutes stays small and
    no peak is smoothed away."""
    columns: dict[int, haccp.Reading] = {}
    for reading in readings:
        column = int(x(reading.ts))
        kept = columns.get(column)
        if kept is None or reading.temp_mc > kept.temp_mc:
            columns[column] = reading
    return [columns[c] for c in sorted(columns)]


def _runs(readings: Sequence[haccp.Reading], gap_s: float) -> list[list[haccp.Reading]]:
    runs: list[list[haccp.Reading]] = []
    for reading in readings:
        if runs and (reading.ts - runs[-1][-1].ts).total_seconds() <= gap_s:
            runs[-1].append(reading)
        else:
            runs.append([reading])
    return runs
