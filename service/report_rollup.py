"""Keeping the program report's heaviest figures per day, once a day can no longer change.

Check-ins answered (with the minutes each answer took), the days a goal was asked
about and done, delivery outcomes, 1-5 mood replies by score, milestones by peer, and
retention (on the day of each peer's 30-, 90- and 180-day mark: the peers due and
those retained) are counted per peer's local day and caseload and stored as
:class:`~service.models.ReportTally` rows. The report then sums those few rows for the
days rolled up and counts only the days after them live
(:func:`service.reports.counted`), so a page over a year costs about what a page over
the last few days does.

A day is final :data:`FINAL_AFTER_DAYS` after it ended in UTC: every zone's day has
ended, an answer counts within a day of its text, and providers report delivery
within hours. Anything recorded later than that (a status callback a week late) is
not in the tallies, and a peer moved to another caseload keeps their rolled-up days
in the caseload they were on. The planner's hourly pass keeps one more final day (a
second or two at 100,000 peers, so urgent alerts and nudges are not held up);
``peernudge rollup-reports`` keeps every final day not kept yet, for a backlog (a year
at 100,000 peers on PostgreSQL: under five minutes, bench/reports.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from service import reports
from service.models import HabitStrength, Peer, ReportTally
from service.reports import KEY_SEPARATOR, NO_ANSWER, ROLLED, Report, ReportRange
from service.settings import Settings

FINAL_AFTER_DAYS = 3
CHUNK_DAYS = 31  # days counted in one set of queries


def final_day(now: datetime) -> date:
    """The last day that can no longer change."""
    return now.astimezone(UTC).date() - timedelta(days=FINAL_AFTER_DAYS)


def first_day(session: Session) -> date | None:
    """The first day that may hold anything: the day before the first enrolment (UTC)."""
    first = session.scalar(select(func.min(Peer.created_at)))
    return None if first is None else first.astimezone(UTC).date() - timedelta(days=1)


def roll_up(session: Session, settings: Settings, now: datetime, max_days: int = CHUNK_DAYS) -> int:
    """Count and keep the next days not rolled up yet, up to ``max_days`` of them and the
    last final day; return how many days were rolled up. Two planners racing for the same
    day collide on the tallies' key: the loser's transaction fails and writes nothing."""
    rolled = reports.rolled_through(session)
    start = rolled + timedelta(days=1) if rolled is not None else first_day(session)
    if start is None:
        return 0
    end = min(final_day(now), start + timedelta(days=min(max_days, CHUNK_DAYS) - 1))
    if end < start:
        return 0
    report = Report.build(session, settings, ReportRange(start, end), None, now, now.date())
    rows = [*tallies(report), *markers(start, end)]
    session.execute(insert(ReportTally), rows)
    for day in strength_days(start, end):
        keep_strengths(report, day)
    if rolled is not None and not is_month_end(rolled):  # only the latest day is kept besides
        session.execute(delete(HabitStrength).where(HabitStrength.local_date == rolled))
    return (end - start).days + 1


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def strength_days(start: date, end: date) -> list[date]:
    """The days whose habit strengths are kept: each month's last day, and the last day."""
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    return [day for day in days if is_month_end(day)] + [end]


def keep_strengths(report: Report, day: date) -> None:
    """Keep every goal's habit strength at the end of ``day`` (from the day kept before
    it, when there is one: :func:`service.reports.strengths_on`), with goal 0 marking the
    day as kept."""
    found = reports.strengths_on(report, day).subquery()
    positive = select(literal(day, Date), found.c.goal_id, found.c.strength).where(
        found.c.strength > 0
    )
    columns = ["local_date", "goal_id", "strength"]
    report.session.execute(delete(HabitStrength).where(HabitStrength.local_date == day))
    report.session.execute(insert(HabitStrength).from_select(columns, positive))
    report.session.execute(insert(HabitStrength).values(local_date=day, goal_id=0, strength=0.0))


def tallies(report: Report) -> list[dict]:
    """The range's figures by local day and caseload, as tally rows."""
    rows = [
        tally(day, who, "answers", NO_ANSWER if minutes is None else str(minutes), count)
        for day, who, minutes, count in reports.answers_by_caseload(report, by_day=True)
    ]
    scheduled, done = reports.goal_days(report, by_day=True)
    rows += [tally(day, who, "scheduled", str(goal), count) for day, who, goal, count in scheduled]
    rows += [tally(day, who, "done", str(goal), count) for day, who, goal, count in done]
    rows += [
        tally(day, who, "delivery", KEY_SEPARATOR.join((status, reason or "", failure)), count)
        for day, who, status, reason, failure, count in reports.delivery_rows(report, by_day=True)
    ]
    rows += [tally(day, who, reports.MOOD, str(score), count)
             for day, who, score, count in reports.mood_rows(report)]  # fmt: skip
    rows += [tally(day, who, reports.MILESTONE, str(peer), count)
             for day, who, peer, count in reports.milestone_rows(report)]  # fmt: skip
    for days in reports.RETENTION_DAYS:  # on the day of each peer's 30/90/180-day mark
        for day, who, cohort, kept in reports.retention_rows(report, days, by_day=True):
            rows += [tally(day, who, "cohort", str(days), cohort),
                     tally(day, who, "retained", str(days), kept)]  # fmt: skip
    return rows


def markers(start: date, end: date) -> list[dict]:
    days = (end - start).days + 1
    return [tally(start + timedelta(days=n), 0, ROLLED, "", 0) for n in range(days)]


def tally(day: date, who: int, figure: str, key: str, count: int) -> dict:
    return {"local_date": day, "specialist_id": who, "figure": figure, "key": key,
            "count": count}  # fmt: skip
