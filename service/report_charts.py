"""The program page's charts as server-rendered SVG, each with its text summary.

Like the peer page's progress chart (:mod:`service.charts`): readable without
JavaScript, numbers only (no peer words), a ``<title>`` and ``<desc>`` for
screen readers and the same summary as a caption under the chart. A value that
is hidden for sharing (None) draws no bar and is named as hidden in the summary.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD, LABEL = 360, 150, 24, 16


def frame(chart_id: str, title: str, summary: str, body: str) -> Markup:
    return Markup(
        f'<svg role="img" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(summary)}</desc>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        f'class="axis"/>{body}</svg><p class="chart-caption">{escape(summary)}</p>'
    )


def shown(value: float | None) -> str:
    return "hidden" if value is None else f"{value:g}"


def bar_chart(
    chart_id: str, title: str, bars: Sequence[tuple[str, float | None]], unit: str
) -> Markup:
    """Labelled bars, tallest to scale; the summary lists every bar's value."""
    slot = (WIDTH - 2 * PAD) / max(1, len(bars))
    plot = HEIGHT - 2 * PAD - LABEL
    top = max([value for _, value in bars if value] or [1])
    parts = []
    for i, (label, value) in enumerate(bars):
        height = plot * (value or 0) / top
        x = PAD + i * slot
        parts.append(
            f'<rect x="{x + 4:.1f}" y="{HEIGHT - PAD - height:.1f}" width="{slot - 8:.1f}" '
            f'height="{height:.1f}" class="bar"><title>{escape(label)}: {shown(value)} '
            f"{escape(unit)}</title></rect>"
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 6}" class="label">{escape(label)}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - PAD - height - 4:.1f}" class="value">'
            f"{shown(value)}</text>"
        )
    summary = f"{title}: " + ", ".join(f"{label} {shown(value)}" for label, value in bars) + "."
    return frame(chart_id, title, summary, "".join(parts))


def line_chart(
    chart_id: str, title: str, points: Sequence[tuple[str, float | None]], low: float, high: float
) -> Markup:
    """A line over ``points`` (label, value) on a fixed scale from ``low`` to ``high``."""
    known = [(i, value) for i, (_, value) in enumerate(points) if value is not None]
    if not known:
        return frame(chart_id, title, f"{title}: no data in this range.", "")
    step = (WIDTH - 2 * PAD) / max(1, len(points) - 1)
    plot = HEIGHT - 2 * PAD - LABEL

    def y(value: float) -> float:
        return HEIGHT - PAD - LABEL - plot * (value - low) / (high - low) + LABEL

    line = " ".join(f"{PAD + i * step:.1f},{y(value):.1f}" for i, value in known)
    dots = "".join(
        f'<circle cx="{PAD + i * step:.1f}" cy="{y(value):.1f}" r="3" class="dot">'
        f"<title>{escape(points[i][0])}: {value:g}</title></circle>"
        for i, value in known
    )
    summary = f"{title}: " + ", ".join(f"{label} {shown(value)}" for label, value in points) + "."
    return frame(chart_id, title, summary, f'<polyline points="{line}" class="line"/>{dots}')
