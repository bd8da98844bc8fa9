"""Line plots as inline SVG: no plotting library, readable in any browser and diffable as text."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 900, 220
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 14, 28
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[float]
    step: bool = False  # draw as steps (interval values) rather than points joined


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def line_chart(title: str, unit: str, lines: Sequence[Line], x_labels: Sequence[str]) -> str:
    n = max((len(line.values) for line in lines), default=0)
    every = [v for line in lines for v in _finite(line.values)]
    if n < 2 or not every:
        return f"<p>{escape(title)}: no data</p>"
    lo, hi = min(every), max(every)
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: float) -> float:
        return LEFT + pw * i / (n - 1)

    def y(v: float) -> float:
        return TOP + ph * (1.0 - (v - lo) / (hi - lo))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.3g}</text>')
    if lo < 0 < hi:
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#999"/>')
    ticks = max(1, (n - 1) // 7)
    for i in range(0, n, ticks):
        label = x_labels[i] if i < len(x_labels) else ""
        parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text x="4" y="{TOP + 10}">{escape(unit)}</text>')
    for j, line in enumerate(lines):
        colour = COLOURS[j % len(COLOURS)]
        points: list[str] = []
        for i, v in enumerate(line.values):
            if not math.isfinite(v):
                continue
            if line.step and points:
                points.append(f"{x(i):.1f},{float(points[-1].split(',')[1]):.1f}")
            points.append(f"{x(i):.1f},{y(v):.1f}")
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.3" points="{" ".join(points)}"/>'
        )
        ly = TOP + 12 + 15 * j
        parts.append(f'<line x1="{WIDTH - RIGHT + 10}" x2="{WIDTH - RIGHT + 28}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="2"/>')  # fmt: skip
        parts.append(f'<text x="{WIDTH - RIGHT + 32}" y="{ly}">{escape(line.label)}</text>')
    parts.append("</svg>")
    return f"<h2>{escape(title)}</h2>\n" + "\n".join(parts)
