"""Progress without punishment: streaks, totals, weekly counts and habit strength.

A rest day counts neither way; a missed day is never announced. Habit
strength is an exponentially weighted average of done days (the Loop Habit
Tracker idea), so one miss after a long run barely moves it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import CheckIn, Goal
from service.recurrence import parse_days

STREAK_MILESTONES = (3, 7, 14, 30, 60, 90, 180, 365)
# Weight of each new day; 0.05 makes a habit half-formed after about two weeks of days.
HABIT_ALPHA = 0.05


def results_by_day(session: Session, goal_id: int, first: date, last: date) -> dict[date, str]:
    rows = session.execute(
        select(CheckIn.local_date, CheckIn.result).where(
            CheckIn.goal_id == goal_id, CheckIn.local_date >= first, CheckIn.local_date <= last
        )
    )
    return {day: result for day, result in rows}


def scheduled_weekdays(goal: Goal) -> frozenset[int]:
    """Weekdays (0 = Monday) the goal's check-ins are on; every day when it has none."""
    days: set[int] = set()
    for schedule in goal.schedules:
        if schedule.kind == "checkin":
            days |= parse_days(schedule.days)[1]
    return frozenset(days) or frozenset(range(7))


def streak(
    session: Session, goal_id: int, today: date, weekdays: frozenset[int] = frozenset(range(7))
) -> int:
    """Done days in a row up to today. Rest days and days without a check-in (the
    weekend of a weekdays goal) are skipped over, not counted and not breaking it."""
    return streak_in(results_by_day(session, goal_id, today - STREAK_REACH, today), today, weekdays)


STREAK_REACH = timedelta(days=400)


def streak_in(results: dict[date, str], today: date, weekdays: frozenset[int]) -> int:
    """:func:`streak` over results already read (reaching back ``STREAK_REACH``)."""
    count, day = 0, today
    for _ in range(401):
        result = results.get(day)
        if result == "done":
            count += 1
        elif result != "rest" and (result is not None or day.weekday() in weekdays):
            return count
        day -= timedelta(days=1)
    return count


MONTH_TOTALS = (10, 20)


def milestone_for_checkin(session: Session, goal: Goal, today: date) -> tuple[str, dict] | None:
    """A celebration when today's DONE completes a streak or a monthly total, else None."""
    results = results_by_day(session, goal.id, today - STREAK_REACH, today)  # one read for both
    days = streak_in(results, today, scheduled_weekdays(goal))
    if days in STREAK_MILESTONES:
        return "milestone", {"days": days, "month_total": None}
    first = today.replace(day=1)
    month_total = sum(1 for day, result in results.items() if day >= first and result == "done")
    if month_total in MONTH_TOTALS:
        return "milestone", {"days": None, "month_total": month_total}
    return None


def week_summary(session: Session, goal: Goal, today: date) -> dict[str, int]:
    """Done days in the seven days ending today (fewer if the goal is younger), out of the
    days that had a check-in."""
    first = max(today - timedelta(days=6), goal.created_at.date() if goal.created_at else today)
    weekdays = scheduled_weekdays(goal)
    span = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    done = done_days(session, goal.id, first, today)
    return {
        "done_days": done,
        "total_days": max(done, sum(1 for day in span if day.weekday() in weekdays)),
    }


def week_counts(session: Session, goal: Goal, weeks: int, today: date) -> list[tuple[date, int]]:
    """(week start, done days) for the last ``weeks`` weeks, oldest first, for charts."""
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    return [
        (start, done_days(session, goal.id, start, start + timedelta(days=6))) for start in starts
    ]


def done_days(session: Session, goal_id: int, first: date, last: date) -> int:
    return sum(1 for r in results_by_day(session, goal_id, first, last).values() if r == "done")


def habit_strength_series(session: Session, goal: Goal, days: int, today: date) -> list[float]:
    """Habit strength (0-1) for each of the last ``days`` days, oldest first."""
    first = today - timedelta(days=days - 1)
    start = goal.created_at.date() if goal.created_at else first
    results = results_by_day(session, goal.id, min(start, first), today)
    weekdays = scheduled_weekdays(goal)
    strength, series, day = 0.0, [], min(start, first)
    while day <= today:
        result = results.get(day)
        unscheduled = result is None and day.weekday() not in weekdays
        if result != "rest" and not unscheduled:  # rest and days off leave it where it was
            strength = (1 - HABIT_ALPHA) * strength + HABIT_ALPHA * (result == "done")
        if day >= first:
            series.append(round(strength, 4))
        day += timedelta(days=1)
    return series
