"""Small line charts drawn on the server as SVG: no JavaScript, no build chain to maintain, and
they print. One line per series, the days along the x axis, a legend below. Every text is
escaped and every value is drawn as a float: the days and names come from summary files."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
WIDTH, HEIGHT, PAD = 560, 180, 36


def line_chart(
    series: Mapping[str, Sequence[tuple[str, float]]],
    title: str,
    percent: bool = False,
) -> str:
    """An SVG of the series (name -> [(day, value)], days as ISO dates), or "" without data."""
    points = {
        str(name): [(str(day), float(value)) for day, value in values if _finite(value)]
        for name, values in series.items()
    }
    points = {name: values for name, values in points.items() if values}
    if not points:
        return ""
    days = sorted({day for values in points.values() for day, _ in values})
    top = 1.0 if percent else max(max(v for _, v in values) for values in points.values()) or 1
    x_of = {day: PAD + i * (WIDTH - 2 * PAD) / max(1, len(days) - 1) for i, day in enumerate(days)}

    def y(value: float) -> float:
        return HEIGHT - PAD - value / top * (HEIGHT - 2 * PAD)

    label = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:,.0f}".replace(",", "."))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 20 * len(points)}"'
        f' width="{WIDTH}" role="img" aria-label="{html.escape(title)}">',
        f"<title>{html.escape(title)}</title>",
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#999"/>',
        f'<text x="4" y="{PAD}" font-size="10">{label(top)}</text>',
        f'<text x="4" y="{HEIGHT - PAD}" font-size="10">{label(0)}</text>',
        f'<text x="{PAD}" y="{HEIGHT - PAD + 14}" font-size="10">{html.escape(days[0])}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 14}" font-size="10" '
        f'text-anchor="end">{html.escape(days[-1])}</text>',
    ]
    for i, (name, values) in enumerate(sorted(points.items())):
        colour = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{x_of[day]:.1f},{y(value):.1f}" for day, value in sorted(values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}">'
            f"<title>{html.escape(name)}</title></polyline>"
        )
        if len(values) <= 40:  # a dot per day, so that a first day (one point) shows too
            parts += [
                f'<circle cx="{x_of[day]:.1f}" cy="{y(value):.1f}" r="2.5" fill="{colour}"/>'
                for day, value in values
            ]
        legend_y = HEIGHT + 14 * (i + 1) - 4
        parts.append(
            f'<rect x="{PAD}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{PAD + 16}" y="{legend_y}" font-size="11" class="series">'
            f"{html.escape(name)}: {label(sorted(values)[-1][1])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _finite(value: object) -> bool:
    """A value that can be drawn: a real number (not a bool, a string, NaN or infinity)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
