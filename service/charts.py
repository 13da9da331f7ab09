"""Progress charts as server-rendered SVG: readable without JavaScript.

Bars are done days per week (0-7); the line is habit strength (0-100%), from
``service.milestones``. Everything numeric is computed here; no peer text
goes into the SVG except the escaped goal in its title.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from service.milestones import habit_strength_series, week_counts
from service.models import Goal

WEEKS, WIDTH, HEIGHT, PAD = 8, 320, 120, 20


def progress_svg(session: Session, goal: Goal, today: date) -> Markup:
    weeks = week_counts(session, goal, WEEKS, today)
    strength = habit_strength_series(session, goal, WEEKS * 7, today)
    slot = (WIDTH - 2 * PAD) / WEEKS
    plot = HEIGHT - 2 * PAD
    bars = "".join(
        f'<rect x="{PAD + i * slot + 4:.1f}" y="{HEIGHT - PAD - plot * n / 7:.1f}" '
        f'width="{slot - 8:.1f}" height="{plot * n / 7:.1f}" class="bar"><title>week of '
        f"{start:%b %d}: {n} of 7 days</title></rect>"
        for i, (start, n) in enumerate(weeks)
    )
    step = (WIDTH - 2 * PAD) / max(1, len(strength) - 1)
    points = " ".join(
        f"{PAD + i * step:.1f},{HEIGHT - PAD - plot * value:.1f}"
        for i, value in enumerate(strength)
    )
    summary = (
        f"Done days per week for the last {WEEKS} weeks: "
        + ", ".join(str(n) for _, n in weeks)
        + f". Habit strength now {strength[-1]:.0%}."
    )
    return Markup(
        f'<svg role="img" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" '
        f'aria-labelledby="g{goal.id}t g{goal.id}d">'
        f'<title id="g{goal.id}t">Progress: {escape(goal.text)}</title>'
        f'<desc id="g{goal.id}d">{escape(summary)}</desc>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'class="axis"/>'
        f'{bars}<polyline points="{points}" class="strength"/></svg>'
        f'<p class="chart-caption">{escape(summary)}</p>'
    )
