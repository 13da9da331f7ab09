"""The program report's daily tallies: kept once a day is final, and the figures read
from them are the figures counted live from the rows, for any range, whole program or
one caseload, across the boundary between tallied and live days, on both databases.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from service import db, report_rollup, reports
from service.flags import refresh_flags
from service.models import HabitStrength, Mood, ReportTally
from tests.test_reports import (
    CHICAGO,
    NEW_YORK,
    add_peer,
    answered,
    consent,
    report_of,
    texted,
    utc,
)
from workers.planner import hourly, roll_up_reports

NOW = utc(2026, 7, 5, 12)  # so 2 July is the last final day
RANGES = [
    reports.ReportRange(date(2026, 6, 1), date(2026, 6, 30)),
    reports.ReportRange(date(2026, 6, 20), date(2026, 7, 5)),  # tallied, then live days
    reports.ReportRange(date(2026, 7, 1), date(2026, 7, 1)),
]


def a_month_of_history(runtime, specialist: int, outsider: int) -> dict[str, int]:
    """Two caseloads, two zones, two goals; answers after a few minutes, hours or never;
    failures and skips; texts and answers near midnight, local and UTC. Returns the
    peers' ids by name."""
    with db.transaction(runtime.session_factory) as s:
        sam = add_peer(s, specialist, utc(2026, 5, 20, 15), goals=2)
        kim = add_peer(s, outsider, utc(2026, 6, 3, 15), NEW_YORK)
        lee = add_peer(s, specialist, utc(2026, 6, 10, 15), CHICAGO)
        consent(s, sam, "opt_in", "enrolment", utc(2026, 5, 20, 15))  # Sam is retained at 30 days
        for n in range(34):
            due = utc(2026, 6, 1, 14) + timedelta(days=n)
            day = due.date()
            texted(s, sam, due)
            texted(s, sam, due + timedelta(hours=4), goal_id=sam.goals[1].id)
            if n % 3 == 0:
                answered(s, sam.goals[0], day, due + timedelta(minutes=7 + n))
            if n % 4 == 1:
                answered(s, sam.goals[1], day, due + timedelta(hours=5), result="not_yet")
            if n % 5 == 0 or (n % 5 == 1 and n >= 2):  # moods on tallied and live days
                s.add(Mood(peer_id=(sam, kim)[n % 5].id, local_date=day, score=1 + n % 5 + n % 3))
            if n % 7 == 3:  # celebrations for Sam on 4, 11, 18, 25 June and 2 July
                texted(s, sam, due + timedelta(minutes=8), kind="reply", goal_id=None,
                       template=f"en/milestone/{n}")  # fmt: skip
            if n in (12, 32):  # and for Lee on 13 June and 3 July (a live day)
                texted(s, lee, due + timedelta(hours=1), kind="reply", goal_id=None,
                       template="en/milestone/month")  # fmt: skip
            if n >= 2:
                status = ("delivered", "failed", "skipped")[n % 3]
                extra = {"error_code": "30006"} if status == "failed" else {}
                if status == "skipped":
                    extra = {"skip_reason": "quiet_hours"}
                texted(s, kim, due, status=status, **extra)
                if status == "delivered" and n % 2:
                    answered(s, kim.goals[0], day, due + timedelta(hours=3))
            if n >= 9:
                late = utc(2026, 6, 1, 4, 30) + timedelta(days=n)  # 23:30 the day before there
                texted(s, lee, late)
                answered(
                    s,
                    lee.goals[0],
                    (late - timedelta(hours=5)).date(),
                    late + timedelta(minutes=20),
                )
        return {"sam": sam.id, "kim": kim.id, "lee": lee.id}


def catch_up(runtime) -> int:
    """What ``peernudge rollup-reports`` does: roll up until no final day is left."""
    total = 0
    while days := roll_up_reports(runtime):
        total += days
    return total


def every_report(runtime, specialist: int) -> list[dict]:
    return [
        report_of(runtime, report_range, scope, now=NOW)
        for report_range in RANGES
        for scope in (None, specialist)
    ]


def test_tallied_days_give_the_figures_counted_live(runtime, specialist, outsider, clock):
    clock.set(NOW)
    peers = a_month_of_history(runtime, specialist, outsider)
    live = every_report(runtime, specialist)
    assert live[0]["engagement"]["check_ins"]["answered"] > 0  # the fixture has something
    # Sam's 30-day mark (19 June, opted in, answered every third day) is in a tallied day;
    # Kim's (3 July, no opt-in recorded) in a live one.
    thirty = [report["engagement"]["retention"][0] for report in live]  # the 30-day figure
    counts = [(figure["cohort"], figure["retained"]) for figure in thirty]
    # June: program, Sam's caseload; 20 June - 5 July: program (Kim), Sam's caseload.
    assert counts[:4] == [(1, 1), (1, 1), (1, 0), (0, 0)]
    # June's moods: n = 0, 5, ..., 25 for Sam (1 + n % 3: 1, 3, 2, 1, 3, 2), and n = 6, 11,
    # ..., 26 for Kim (2 + n % 3: 2, 4, 3, 2, 4); the whole program, then Sam's caseload.
    june = [live[0]["mood"], live[1]["mood"]]
    assert [[d["replies"] for d in m["distribution"]] for m in june] == [
        [2, 4, 3, 2, 0],
        [2, 2, 2, 0, 0],
    ]
    sams_weeks = [(week["week_start"], week["replies"]) for week in june[1]["weekly"]]
    assert sams_weeks == [("2026-06-01", 2), ("2026-06-08", 1), ("2026-06-15", 2),
                          ("2026-06-22", 1)]  # fmt: skip

    # June: Sam 4 and Lee 1 (both in Sam's caseload); 20 June - 5 July: Sam on 25 June
    # and 2 July, Lee on 3 July; 1 July: none.
    celebrations = [(r["goals"]["milestones"], r["goals"]["peers_with_milestone"]) for r in live]
    assert celebrations == [(5, 2), (5, 2), (3, 2), (3, 2), (0, 0), (0, 0)]

    days = catch_up(runtime)
    with runtime.session_factory() as session:
        assert reports.rolled_through(session) == date(2026, 7, 2)
        kept = session.scalar(select(func.count()).select_from(ReportTally))
        cohorts = select(func.sum(ReportTally.count)).where(ReportTally.figure == "cohort")
        assert session.scalar(cohorts) == 1  # Sam's 30-day mark; Kim's is not final yet
        moods = select(func.sum(ReportTally.count)).where(ReportTally.figure == reports.MOOD)
        assert session.scalar(moods) == 13  # every mood to 2 July: June's 11, then n = 30, 31
        kept_milestones = select(ReportTally.key, func.sum(ReportTally.count)).where(
            ReportTally.figure == reports.MILESTONE).group_by(ReportTally.key)  # fmt: skip
        assert dict(session.execute(kept_milestones).all()) == {
            str(peers["sam"]): 5, str(peers["lee"]): 1}  # fmt: skip
    assert days == (date(2026, 7, 2) - date(2026, 5, 19)).days + 1  # from the day before enrolment
    assert every_report(runtime, specialist) == live

    assert roll_up_reports(runtime) == 0  # nothing is counted twice
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ReportTally)) == kept
    assert every_report(runtime, specialist) == live


def test_days_are_rolled_up_a_few_at_a_time_and_never_before_they_are_final(
    runtime, specialist, outsider, clock
):
    clock.set(NOW)
    a_month_of_history(runtime, specialist, outsider)
    live = every_report(runtime, specialist)
    assert roll_up_reports(runtime, max_days=10) == 10
    with runtime.session_factory() as session:
        assert reports.rolled_through(session) == date(2026, 5, 28)
    assert every_report(runtime, specialist) == live  # part tallied, the rest live

    with runtime.session_factory() as session, session.begin():
        early = utc(2026, 6, 3, 12)  # 3 June: only 31 May is final
        session.execute(ReportTally.__table__.delete())
        assert report_rollup.roll_up(session, runtime.settings, early) == 13
        assert reports.rolled_through(session) == date(2026, 5, 31)


def test_with_no_peers_there_is_nothing_to_roll_up(runtime):
    assert roll_up_reports(runtime) == 0
    with runtime.session_factory() as session:
        assert reports.rolled_through(session) is None


def test_the_planners_hourly_pass_keeps_one_more_final_day(runtime, specialist, outsider, clock):
    clock.set(NOW)
    a_month_of_history(runtime, specialist, outsider)
    refresh_flags(runtime)  # the hourly pass raises these too; raised once, they stay
    live = every_report(runtime, specialist)
    assert hourly(runtime) == 1
    assert hourly(runtime) == 1
    with runtime.session_factory() as session:
        # the day before enrolment, then one more
        assert reports.rolled_through(session) == date(2026, 5, 20)
    assert every_report(runtime, specialist) == live


def test_kept_habit_strengths_give_the_strength_summed_from_the_answers(runtime, specialist, clock):
    """Done two days in three since January: on 5 July the strength counts the days in
    the 180 before, each weighed 0.05 * 0.95^age, whether a page starts from a kept day
    (2 July, the last final one; 30 June, a month's end) or sums every answer."""
    clock.set(NOW)
    first = date(2026, 1, 2)
    with db.transaction(runtime.session_factory) as s:
        sam = add_peer(s, specialist, utc(2026, 1, 1, 15))
        done_days = [first + timedelta(days=n) for n in range(185) if n % 3]
        for day in done_days:
            answered(s, sam.goals[0], day, utc(day.year, day.month, day.day, 15))
        goal_id = sam.goals[0].id

    def by_hand(on: date) -> float:
        ages = [(on - day).days for day in done_days if 0 <= (on - day).days < 180]
        return sum(0.05 * 0.95**age for age in ages)

    def strengths(on: date) -> dict[int, float]:
        with runtime.session_factory() as session:
            report = reports.Report.build(
                session, runtime.settings, reports.ReportRange(on, on), None, NOW, NOW.date()
            )
            return dict(session.execute(reports.strengths_on(report, on)).all())

    days = [date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 2), date(2026, 7, 5)]
    summed = {day: strengths(day) for day in days}  # nothing kept yet: every answer summed
    catch_up(runtime)
    with runtime.session_factory() as session:
        kept = select(HabitStrength.local_date).where(HabitStrength.goal_id == 0)
        kept_days = set(session.scalars(kept))
    assert date(2026, 6, 30) in kept_days and date(2026, 7, 2) in kept_days
    assert date(2026, 7, 1) not in kept_days  # a day that is neither a month's end nor the last
    for day in days:
        assert summed[day][goal_id] == pytest.approx(by_hand(day), rel=1e-9)
        assert strengths(day)[goal_id] == pytest.approx(by_hand(day), rel=1e-9)
