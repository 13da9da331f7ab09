"""Progress without punishment: streaks, totals, weekly counts, habit strength."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from service.milestones import (
    habit_strength_series,
    milestone_for_checkin,
    scheduled_weekdays,
    streak,
    week_counts,
    week_summary,
)
from service.models import CheckIn, Goal

TODAY = date(2026, 6, 15)


def record(runtime, peer_id: int, results: dict[int, str]) -> Goal:
    """Check-ins for days ago -> result; returns the goal."""
    with runtime.session_factory() as session, session.begin():
        goal = session.query(Goal).filter_by(peer_id=peer_id).one()
        for days_ago, result in results.items():
            session.add(CheckIn(goal_id=goal.id, peer_id=peer_id, result=result,
                                local_date=TODAY - timedelta(days=days_ago)))  # fmt: skip
        list(goal.schedules)  # loaded for callers after the session closes
        return goal


def test_a_streak_counts_done_days_and_steps_over_rest_days(runtime, peer):
    goal = record(
        runtime, peer, {0: "done", 1: "rest", 2: "done", 3: "done", 4: "not_yet", 5: "done"}
    )
    with runtime.session_factory() as session:
        assert streak(session, goal.id, TODAY) == 3


def test_day_three_of_a_streak_is_a_milestone_and_day_four_is_not(runtime, peer):
    goal = record(runtime, peer, {0: "done", 1: "done", 2: "done"})
    with runtime.session_factory() as session:
        assert milestone_for_checkin(session, goal, TODAY) == (
            "milestone",
            {"days": 3, "month_total": None},
        )
        assert milestone_for_checkin(session, goal, TODAY + timedelta(days=1)) is None


def test_the_tenth_done_day_of_the_month_is_celebrated_even_without_a_streak(runtime, peer):
    done = {0, 2, 4, 6, 8, 10, 11, 12, 13, 14}  # ten days of June, the last one today
    goal = record(runtime, peer, {n: "done" if n in done else "not_yet" for n in range(15)})
    with runtime.session_factory() as session:
        assert milestone_for_checkin(session, goal, TODAY) == (
            "milestone",
            {"days": None, "month_total": 10},
        )


def test_the_weekly_summary_counts_the_last_seven_days(runtime, peer):
    goal = record(runtime, peer, {0: "done", 2: "done", 3: "rest", 5: "done", 8: "done"})
    with runtime.session_factory() as session:
        goal = session.get(Goal, goal.id)
        goal.created_at = goal.created_at - timedelta(days=30)
        assert week_summary(session, goal, TODAY) == {"done_days": 3, "total_days": 7}
        counts = week_counts(session, goal, 2, TODAY)
    # Monday 8 June's week had the 10th and 13th; this week (from Monday 15 June) has today.
    assert counts == [(date(2026, 6, 8), 2), (date(2026, 6, 15), 1)]


def test_habit_strength_barely_moves_after_one_miss_in_a_long_run(runtime, peer):
    goal = record(runtime, peer, {n: "done" for n in range(1, 60)} | {0: "not_yet"})
    with runtime.session_factory() as session:
        goal = session.get(Goal, goal.id)
        goal.created_at = goal.created_at - timedelta(days=400)
        series = habit_strength_series(session, goal, 61, TODAY)
    assert series[-2] > 0.9
    assert series[-2] - series[-1] < 0.06  # one miss costs a little
    assert all(b >= a for a, b in itertools.pairwise(series[:-1]))  # rising while done


def weekdays_only(runtime, peer_id: int) -> None:
    from sqlalchemy import update

    from service.models import Schedule

    with runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(days="weekdays"))


def test_a_weekdays_goal_keeps_its_streak_over_the_weekend(runtime, peer):
    # TODAY is Monday 15 June; 13-14 June are the weekend, with no check-in asked.
    weekdays_only(runtime, peer)
    goal = record(runtime, peer, {0: "done", 3: "done", 4: "done"})
    with runtime.session_factory() as session:
        goal = session.get(Goal, goal.id)
        assert streak(session, goal.id, TODAY, scheduled_weekdays(goal)) == 3
        assert milestone_for_checkin(session, goal, TODAY) == (
            "milestone",
            {"days": 3, "month_total": None},
        )
        assert streak(session, goal.id, TODAY) == 1  # counted on calendar days it would break


def test_the_weekly_summary_of_a_weekdays_goal_is_out_of_five(runtime, peer):
    weekdays_only(runtime, peer)
    goal = record(runtime, peer, {0: "done", 3: "done"})
    with runtime.session_factory() as session:
        goal = session.get(Goal, goal.id)
        goal.created_at = goal.created_at - timedelta(days=30)
        assert week_summary(session, goal, TODAY) == {"done_days": 2, "total_days": 5}
