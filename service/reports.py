"""Program outcomes: the figures a program manager and a funder ask for, in SQL aggregates.

One function per section (people, engagement, goals, mood, safety, delivery,
follow-up due), each a handful of aggregate queries whose cost follows the rows
in the range, never a loop in Python over every row. A day is the peer's own
local day: a check-in at 23:30 in Chicago counts on that Chicago day
(:mod:`service.report_sql`). The definitions shown on the page, in the API and
in the README are :data:`DEFINITIONS`.

Medians and 90th percentiles are whole minutes: PostgreSQL computes them with
``percentile_disc``; SQLite, which has no percentile function, counts the rows
per minute in SQL and the percentile is read off those counts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.delivery import UNREACHABLE_CODES, UNSUBSCRIBED_CODE
from service.milestones import HABIT_ALPHA
from service.models import (
    DELIVERED,
    FAILED,
    SENT,
    UNDELIVERED,
    Alert,
    AuditEvent,
    CheckIn,
    ConsentEvent,
    Discharge,
    Flag,
    Goal,
    HabitStrength,
    InboundMessage,
    Mood,
    OutboundMessage,
    Peer,
    ReportTally,
    Specialist,
)
from service.report_sql import Dialect, from_histogram, utc_ceiling, utc_floor
from service.settings import Settings

MAX_RANGE_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
ANSWER_WITHIN = 1  # day: an answer more than a day after the check-in text is not its answer
RETENTION_DAYS = (30, 90, 180)
ACTIVE_WITHIN_DAYS = 14
HABIT_DAYS = 180  # older days weigh under 0.01% in habit strength
HABIT_BANDS = ((0.0, "0-19%"), (0.2, "20-39%"), (0.4, "40-59%"), (0.6, "60-79%"), (0.8, "80-100%"))
OPT_OUT_ROUTES = {"sms": "keyword", "provider": "provider", "specialist": "specialist"}
ERROR_CLASSES = {
    "unsubscribed": "the number opted out at the carrier (21610)",
    "unreachable": "the number cannot get texts (invalid, landline, unknown, blocked)",
    "filtered": "filtered by the carrier (30007)",
    "unconfirmed": "unconfirmed after a crash (never re-sent)",
    "other": "any other provider error",
}
FOLLOW_UP_LIST_LIMIT = 200
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PRESETS = ("this_month", "last_month", "last_90_days")


class RangeError(ValueError):
    """A report range that cannot be used; the message says why."""


@dataclass(frozen=True)
class ReportRange:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def parse_day(name: str, raw: str | None) -> date:
    if raw is None or not ISO_DATE.fullmatch(raw):
        raise RangeError(f"{name} must be a date like 2026-06-01")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise RangeError(f"{name} is not a real date: {raw}") from None
    if not EARLIEST <= day <= LATEST:
        raise RangeError(f"{name} must be between {EARLIEST} and {LATEST}")
    return day


def parse_range(raw_from: str | None, raw_to: str | None) -> ReportRange:
    """A custom range from two ISO dates, both days included; RangeError if unusable."""
    first, last = parse_day("from", raw_from), parse_day("to", raw_to)
    if first > last:
        raise RangeError("from must be on or before to")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise RangeError(f"a range can be at most {MAX_RANGE_DAYS} days")
    return ReportRange(first, last)


def preset_range(name: str, today: date) -> ReportRange:
    """This month (to today), last month, or the last 90 days (today included)."""
    if name == "this_month":
        return ReportRange(today.replace(day=1), today)
    if name == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return ReportRange(last.replace(day=1), last)
    if name == "last_90_days":
        return ReportRange(today - timedelta(days=89), today)
    raise RangeError(f"range must be one of {', '.join(PRESETS)} or custom")


@dataclass(frozen=True)
class Report:
    """One report's inputs: the range, whose peers (None: the whole program), and now."""

    session: Session
    settings: Settings
    range: ReportRange
    specialist_id: int | None
    now: datetime
    today: date
    sql: Dialect

    @classmethod
    def build(
        cls,
        session: Session,
        settings: Settings,
        report_range: ReportRange,
        specialist_id: int | None,
        now: datetime,
        today: date,
    ) -> Report:
        sql = Dialect.for_session(session, report_range.first, report_range.last)
        return cls(session, settings, report_range, specialist_id, now, today, sql)

    def for_range(self, report_range: ReportRange) -> Report:
        """The same report over another range (the days not rolled up yet)."""
        return Report.build(self.session, self.settings, report_range, self.specialist_id,
                            self.now, self.today)  # fmt: skip

    def scope(self) -> list[ColumnElement[bool]]:
        if self.specialist_id is None:
            return []
        return [Peer.specialist_id == self.specialist_id]

    def in_range(self, moment: Any) -> ColumnElement[bool]:
        """The timestamp falls on a day of the range, in its peer's zone (Peer joined).

        Only rows within a day of either end need their local day worked out: anything
        between is in the range wherever the peer lives (this keeps SQLite's per-zone
        offset off most rows)."""
        first, last = self.range.first, self.range.last
        day = self.sql.local_date(moment)
        surely_in = and_(
            moment >= utc_ceiling(first - timedelta(days=1)),
            moment < utc_floor(last + timedelta(days=1)),
        )
        return and_(
            moment >= utc_floor(first),
            moment < utc_ceiling(last),
            or_(surely_in, and_(day >= first, day <= last)),
        )

    def count(self, query: Any) -> int:
        return self.session.scalar(query) or 0


def share(part: int | None, whole: int | None) -> float | None:
    return None if not whole or part is None else round(part / whole, 4)


# --- people --------------------------------------------------------------------------


def away_for_whole_range(report: Report) -> ColumnElement[bool]:
    """A discharge spell covers every day of the range (the peer was not served in it)."""
    sql, first, last = report.sql, report.range.first, report.range.last
    return exists().where(
        Discharge.peer_id == Peer.id,
        sql.local_date(Discharge.discharged_at) < first,
        or_(Discharge.re_enrolled_at.is_(None), sql.local_date(Discharge.re_enrolled_at) > last),
    )


def served_condition(report: Report) -> ColumnElement[bool]:
    """Enrolled on at least one day of the range."""
    enrolled_by_end = report.sql.local_date(Peer.created_at) <= report.range.last
    return and_(
        Peer.created_at < utc_ceiling(report.range.last),
        enrolled_by_end,
        ~away_for_whole_range(report),
    )


def people(report: Report) -> dict[str, Any]:
    served = report.count(
        select(func.count(Peer.id)).where(*report.scope(), served_condition(report))
    )
    new = report.count(
        select(func.count(Peer.id)).where(*report.scope(), report.in_range(Peer.created_at))
    )
    return {
        "served": served,
        "new_enrolments": new,
        "re_enrolled": spells(report, Discharge.re_enrolled_at),
        "discharged": spells(report, Discharge.discharged_at),
        "discharged_by_reason": discharges_by_reason(report),
        **opt_outs(report),
    }


def spells(report: Report, moment: Any) -> int:
    return report.count(
        select(func.count(distinct(Discharge.peer_id)))
        .join(Peer, Peer.id == Discharge.peer_id)
        .where(*report.scope(), report.in_range(moment))
    )


def discharges_by_reason(report: Report) -> dict[str, int]:
    rows = report.session.execute(
        select(Discharge.reason, func.count(distinct(Discharge.peer_id)))
        .join(Peer, Peer.id == Discharge.peer_id)
        .where(*report.scope(), report.in_range(Discharge.discharged_at))
        .group_by(Discharge.reason)
    )
    return dict(sorted(rows.all()))


def opt_outs(report: Report) -> dict[str, Any]:
    """Peers who opted out in the range, and by which route (the consent ledger's source)."""
    where = [
        *report.scope(),
        ConsentEvent.kind == "opt_out",
        report.in_range(ConsentEvent.created_at),
    ]
    peers = func.count(distinct(ConsentEvent.peer_id))
    joined = select(peers).join(Peer, Peer.id == ConsentEvent.peer_id).where(*where)
    by_route = dict.fromkeys(OPT_OUT_ROUTES.values(), 0)
    for count, source in report.session.execute(
        joined.add_columns(ConsentEvent.source).group_by(ConsentEvent.source)
    ).all():
        route = OPT_OUT_ROUTES.get(source, source)
        by_route[route] = by_route.get(route, 0) + count
    return {"opted_out": report.count(joined), "opted_out_by_route": by_route}


def enrolled_on(report: Report, day: date) -> ColumnElement[bool]:
    """The peer was enrolled on that local day (enrolled by then, not away that day)."""
    sql = report.sql
    away = exists().where(
        Discharge.peer_id == Peer.id,
        sql.local_date(Discharge.discharged_at) <= day,
        or_(Discharge.re_enrolled_at.is_(None), sql.local_date(Discharge.re_enrolled_at) > day),
    )
    return and_(sql.local_date(Peer.created_at) <= day, ~away)


# --- engagement ----------------------------------------------------------------------


def checkins_sent(report: Report) -> list[ColumnElement[bool]]:
    """Check-in texts the provider took (sent or delivered), due on a day of the range."""
    return [
        *report.scope(),
        OutboundMessage.kind == "checkin",
        OutboundMessage.goal_id.is_not(None),
        OutboundMessage.status.in_((SENT, DELIVERED)),
        OutboundMessage.sent_at.is_not(None),
        report.in_range(OutboundMessage.due_at),
    ]


def answer_minutes(report: Report, by_day: bool = False) -> Any:
    """Each check-in text sent in the range: its caseload and the whole minutes until its
    answer came (NULL: none), and with ``by_day`` its local day. The answer is the goal's
    check-in recorded after the text and within a day of it."""
    answer = (
        select(func.min(CheckIn.created_at))
        .where(
            CheckIn.goal_id == OutboundMessage.goal_id,
            CheckIn.created_at >= OutboundMessage.sent_at,
            CheckIn.created_at < report.sql.plus_days(OutboundMessage.sent_at, ANSWER_WITHIN),
        )
        .correlate(OutboundMessage)
        .scalar_subquery()
    )
    minutes = report.sql.minutes_between(answer, OutboundMessage.sent_at)
    day = [report.sql.local_date(OutboundMessage.due_at).label("day")] if by_day else []
    return (
        select(*day, Peer.specialist_id, minutes.label("minutes"))
        .join(Peer, Peer.id == OutboundMessage.peer_id)
        .where(*checkins_sent(report))
        .subquery()
    )


def answers_by_caseload(report: Report, by_day: bool = False) -> list[tuple]:
    """(caseload, minutes to answer or None, how many texts), with the local day first
    when ``by_day``: one query for the whole engagement section and the by-specialist
    table. At most 1,441 minute values per caseload (answers come within a day), so the
    median is read off this bounded set on both databases."""
    rows = answer_minutes(report, by_day)
    keys = [rows.c.day, rows.c.specialist_id, rows.c.minutes] if by_day else [
        rows.c.specialist_id, rows.c.minutes]  # fmt: skip
    query = select(*keys, func.count()).group_by(*keys)
    return [tuple(row) for row in report.session.execute(query)]


def engagement(
    report: Report,
    answers: list[tuple[int, int | None, int]],
    retained: list[tuple[int, int, int, int]],
) -> dict[str, Any]:
    histogram: dict[int, int] = {}
    for _, minutes, count in answers:
        if minutes is not None:
            histogram[minutes] = histogram.get(minutes, 0) + count
    sent, answered = sum(count for *_, count in answers), sum(histogram.values())
    median = from_histogram(list(histogram.items()), 0.5)
    return {
        "check_ins": {
            "sent": sent,
            "answered": answered,
            "share": share(answered, sent),
            "median_minutes_to_answer": median,
        },
        "weekly": weekly_answerers(report),
        "retention": [retention(days, retained) for days in RETENTION_DAYS],
    }


def full_weeks(report: Report) -> int:
    """Whole 7-day blocks from the range's first day that have ended (by today)."""
    end = min(report.range.last, report.today)
    return max(0, ((end - report.range.first).days + 1) // 7)


def weekly_answerers(report: Report) -> dict[str, Any]:
    """Of the peers enrolled for the whole range, those who answered in every full week."""
    weeks, first, sql = full_weeks(report), report.range.first, report.sql
    spell_overlaps = exists().where(
        Discharge.peer_id == Peer.id,
        sql.local_date(Discharge.discharged_at) <= report.range.last,
        or_(Discharge.re_enrolled_at.is_(None), sql.local_date(Discharge.re_enrolled_at) >= first),
    )
    whole_range = [*report.scope(), sql.local_date(Peer.created_at) < first, ~spell_overlaps]
    eligible = report.count(select(func.count(Peer.id)).where(*whole_range))
    if weeks == 0:
        return {"weeks": 0, "eligible": eligible, "answered_every_week": None, "share": None}
    week = sql.day_number(CheckIn.local_date, first) // 7
    every_week = (
        select(Peer.id)
        .join(CheckIn, CheckIn.peer_id == Peer.id)
        .where(
            *whole_range,
            CheckIn.local_date >= first,
            CheckIn.local_date < first + timedelta(days=7 * weeks),
        )
        .group_by(Peer.id)
        .having(func.count(distinct(week)) == weeks)
        .subquery()
    )
    answered = report.count(select(func.count()).select_from(every_week))
    return {
        "weeks": weeks,
        "eligible": eligible,
        "answered_every_week": answered,
        "share": share(answered, eligible),
    }


def retention(days: int, rows: list[tuple[int, int, int, int]]) -> dict[str, Any]:
    """Peers whose day ``days`` since enrolment fell in the range (and has passed): how many
    were then still enrolled, opted in, and had answered in the 14 days before, from the
    (days, caseload, cohort, retained) rows of :func:`retention_rows` and the tallies."""
    cohort = sum(count for mark, _, count, _ in rows if mark == days)
    kept = sum(count for mark, _, _, count in rows if mark == days)
    return {"days": days, "cohort": cohort, "retained": kept, "share": share(kept, cohort)}


def retention_rows(report: Report, days: int, by_day: bool = False) -> list[tuple]:
    """(caseload, cohort, retained) for the peers whose day ``days`` since enrolment falls
    in the range and has passed, with the local day of that mark first when ``by_day``."""
    sql, first, last = report.sql, report.range.first, report.range.last
    enrol_day = sql.local_date(Peer.created_at)
    cohort = [
        *report.scope(),
        Peer.created_at >= utc_floor(first - timedelta(days=days)),
        enrol_day >= first - timedelta(days=days),
        enrol_day <= min(last, report.today) - timedelta(days=days),
    ]
    mark = sql.plus_days(Peer.created_at, days)
    keys = [enrol_day, Peer.specialist_id] if by_day else [Peer.specialist_id]
    query = (
        select(
            *keys, func.count(Peer.id), func.count(Peer.id).filter(retained_at(report, mark, days))
        )
        .where(*cohort)
        .group_by(*keys)
    )
    rows = [tuple(row) for row in report.session.execute(query)]
    if by_day:
        return [(day + timedelta(days=days), *rest) for day, *rest in rows]
    return rows


def retained_at(report: Report, mark: Any, days: int) -> ColumnElement[bool]:
    latest_consent = (
        select(ConsentEvent.kind)
        .where(ConsentEvent.peer_id == Peer.id, ConsentEvent.created_at <= mark)
        .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    away = exists().where(
        Discharge.peer_id == Peer.id,
        Discharge.discharged_at <= mark,
        or_(Discharge.re_enrolled_at.is_(None), Discharge.re_enrolled_at > mark),
    )
    since = report.sql.plus_days(Peer.created_at, days - ACTIVE_WITHIN_DAYS)
    answered = exists().where(
        CheckIn.peer_id == Peer.id, CheckIn.created_at > since, CheckIn.created_at <= mark
    )
    return and_(latest_consent == "opt_in", ~away, answered)


# --- goals ---------------------------------------------------------------------------


def goal_number() -> ColumnElement[int]:
    """The goal's number for the peer (1, 2, then 3 for the third and later)."""
    return case((Goal.position >= 3, literal_column("3")), else_=Goal.position)


def goal_days(report: Report, by_day: bool = False) -> tuple[list[tuple], list[tuple]]:
    """Days a goal's check-in text was sent, and days it was done: rows of (caseload, goal
    number, days), with the local day first when ``by_day``."""
    # A goal asked about on a day is counted once however many texts asked: for each day,
    # the distinct goals. Counted in one GROUP BY (never as a DISTINCT subquery grouped
    # again: on PostgreSQL at 100,000 peers that plan, a hash aggregate over a parallel
    # one, ran for minutes where this one takes seconds; bench/reports.py).
    day = report.sql.local_date(OutboundMessage.due_at).label("day")
    asked = (
        select(
            day,
            Peer.specialist_id,
            goal_number().label("goal"),
            func.count(distinct(OutboundMessage.goal_id)).label("days"),
        )
        .join(Peer, Peer.id == OutboundMessage.peer_id)
        .join(Goal, Goal.id == OutboundMessage.goal_id)
        .where(*checkins_sent(report))
        .group_by(day, Peer.specialist_id, "goal")
    )
    if by_day:
        scheduled = report.session.execute(asked).all()
    else:
        per_day = asked.subquery()
        scheduled = report.session.execute(
            select(
                per_day.c.specialist_id, per_day.c.goal, cast(func.sum(per_day.c.days), Integer)
            ).group_by(per_day.c.specialist_id, per_day.c.goal)
        ).all()
    keys = [CheckIn.local_date] if by_day else []
    done = report.session.execute(
        select(*keys, Peer.specialist_id, goal_number().label("goal"), func.count(CheckIn.id))
        .join(Goal, Goal.id == CheckIn.goal_id)
        .join(Peer, Peer.id == CheckIn.peer_id)
        .where(
            *report.scope(),
            CheckIn.result == "done",
            CheckIn.local_date >= report.range.first,
            CheckIn.local_date <= report.range.last,
        )
        .group_by(*keys, Peer.specialist_id, "goal")
    ).all()
    return [tuple(row) for row in scheduled], [tuple(row) for row in done]


def by_goal_number(rows: list[tuple]) -> dict[int, int]:
    """(caseload, goal number, days) rows summed by goal number."""
    totals: dict[int, int] = {}
    for _, number, count in rows:
        totals[number] = totals.get(number, 0) + count
    return totals


def goals(report: Report, counted: Counted) -> dict[str, Any]:
    scheduled, done = by_goal_number(counted.scheduled), by_goal_number(counted.done)
    by_goal = [
        {
            "goal": number,
            "scheduled_days": scheduled.get(number, 0),
            "done_days": done.get(number, 0),
            "done_per_scheduled_day": share(done.get(number, 0), scheduled.get(number, 0)),
        }
        for number in sorted(set(scheduled) | set(done))
    ]
    total_scheduled, total_done = sum(scheduled.values()), sum(done.values())
    return {
        "scheduled_days": total_scheduled,
        "done_days": total_done,
        "done_per_scheduled_day": share(total_done, total_scheduled),
        "by_goal": by_goal,
        "habit_strength": habit_strength(report),
        **milestones(report, counted.rolled),
    }


@cache
def habit_weights() -> Any:
    """(age in days, weight): the weight of a done day ``age`` days ago in habit strength."""
    rows = [
        select(
            literal(age).label("age"),
            literal(HABIT_ALPHA * (1 - HABIT_ALPHA) ** age).label("weight"),
        )
        for age in range(HABIT_DAYS)
    ]
    return union_all(*rows).cte("habit_weights")


def habit_strength(report: Report) -> list[dict[str, Any]]:
    """Goals on the plan on the range's last day (or today), by habit strength then."""
    day = min(report.range.last, report.today)
    on_plan = [
        *report.scope(),
        Goal.active,
        report.sql.local_date(Goal.created_at) <= day,
        enrolled_on(report, day),
    ]
    strength = select(Goal.id).join(Peer, Peer.id == Goal.peer_id).where(*on_plan)
    if report.specialist_id is None:
        # The whole program's goals: from the strengths the roll-up kept at a day shortly
        # before, plus the days since; without one, summed from one scan of the days in
        # question (stored together; looked up goal by goal, 100,000 peers' took twice as
        # long, bench/reports.py).
        done = strengths_on(report, day).subquery()
        strength = strength.add_columns(func.coalesce(done.c.strength, 0.0).label("strength"))
        per_goal = strength.outerjoin(done, done.c.goal_id == Goal.id).subquery()
    else:  # a caseload's few goals, looked up one by one
        weights = habit_weights()
        age = -report.sql.day_number(CheckIn.local_date, day)
        strength = strength.add_columns(
            func.coalesce(func.sum(weights.c.weight), 0.0).label("strength")
        )
        recent = and_(CheckIn.goal_id == Goal.id, *done_between(day - HABIT_DAYS_AGO, day))
        per_goal = (
            strength.outerjoin(CheckIn, recent)
            .outerjoin(weights, weights.c.age == age)
            .group_by(Goal.id)
            .subquery()
        )
    band = case(
        *[(per_goal.c.strength >= low, label) for low, label in reversed(HABIT_BANDS[1:])],
        else_=HABIT_BANDS[0][1],
    )
    counts = dict(
        report.session.execute(select(band.label("band"), func.count()).group_by("band")).all()
    )
    return [{"band": label, "goals": counts.get(label, 0)} for _, label in HABIT_BANDS]


HABIT_DAYS_AGO = timedelta(days=HABIT_DAYS)
KEPT_STRENGTH_WITHIN = 31  # days: from a kept day further back, the whole scan is cheaper


def done_between(after: date, through: date) -> list[ColumnElement[bool]]:
    return [CheckIn.result == "done", CheckIn.local_date > after, CheckIn.local_date <= through]


def done_weights(report: Report, day: date, after: date, through: date, scale: float = 1.0) -> Any:
    """(goal, strength) summed over the done days in (``after``, ``through``], each
    weighed by its age at ``day`` (and by ``scale``)."""
    weights = habit_weights()
    age = -report.sql.day_number(CheckIn.local_date, day)
    return (
        select(CheckIn.goal_id, (func.sum(weights.c.weight) * scale).label("strength"))
        .join(weights, weights.c.age == age)
        .where(*done_between(after, through))
        .group_by(CheckIn.goal_id)
    )


def kept_strength_day(session: Session, day: date) -> date | None:
    """The latest day at or before ``day`` (and not long before) whose strengths are kept."""
    earliest = day - timedelta(days=KEPT_STRENGTH_WITHIN)
    return session.scalar(
        select(func.max(HabitStrength.local_date)).where(
            HabitStrength.goal_id == 0,
            HabitStrength.local_date <= day,
            HabitStrength.local_date >= earliest,
        )
    )


def strengths_on(report: Report, day: date) -> Any:
    """Every goal's habit strength at the end of ``day``: (goal, strength) rows.

    With strengths kept at an earlier day K, the days in (day-180, K] are K's strengths
    aged by (1-a)^(day-K), less those that fell out of the 180 days, and the days after K
    are added: S(day) = (1-a)^(day-K) * (S(K) - done in (K-180, day-180], weighed at K)
    + done in (K, day], weighed at day."""
    kept = kept_strength_day(report.session, day)
    if kept is None:
        return done_weights(report, day, day - HABIT_DAYS_AGO, day)
    if kept == day:
        return select(HabitStrength.goal_id, HabitStrength.strength).where(
            HabitStrength.local_date == day, HabitStrength.goal_id != 0
        )
    aged = (1 - HABIT_ALPHA) ** (day - kept).days
    parts = union_all(
        select(HabitStrength.goal_id, (HabitStrength.strength * aged).label("strength")).where(
            HabitStrength.local_date == kept, HabitStrength.goal_id != 0
        ),
        done_weights(report, kept, kept - HABIT_DAYS_AGO, day - HABIT_DAYS_AGO, -aged),
        done_weights(report, day, kept, day),
    ).subquery()
    return select(parts.c.goal_id, func.sum(parts.c.strength).label("strength")).group_by(
        parts.c.goal_id
    )


def milestone_rows(report: Report) -> list[tuple]:
    """(local day, caseload, peer, celebrations) for the streak and monthly-total
    celebrations sent in answer to a DONE in the range, for the roll-up."""
    keys = [report.sql.local_date(OutboundMessage.due_at), Peer.specialist_id,
            OutboundMessage.peer_id]  # fmt: skip
    query = (
        select(*keys, func.count())
        .join(Peer, Peer.id == OutboundMessage.peer_id)
        .where(*milestones_sent(report))
        .group_by(*keys)
    )
    return [tuple(row) for row in report.session.execute(query)]


def milestones_sent(report: Report) -> list[ColumnElement[bool]]:
    return [
        *report.scope(),
        OutboundMessage.kind == "reply",
        OutboundMessage.template.like("%/milestone/%"),
        report.in_range(OutboundMessage.due_at),
    ]


def milestones(report: Report, rolled: date | None) -> dict[str, int]:
    """Celebrations sent in the range, and the peers who had one (each counted once across
    the tallied and the live days, in one query)."""
    first, last = report.range.first, report.range.last
    parts = []
    if rolled is not None and rolled >= first:
        parts.append(
            select(
                cast(ReportTally.key, Integer).label("peer"), ReportTally.count.label("n")
            ).where(
                ReportTally.figure == MILESTONE,
                ReportTally.local_date >= first,
                ReportTally.local_date <= min(rolled, last),
                *tally_scope(report),
            )
        )
        first = rolled + timedelta(days=1)
    if first <= last:
        live = report.for_range(ReportRange(first, last))
        parts.append(
            select(OutboundMessage.peer_id.label("peer"), literal(1).label("n"))
            .join(Peer, Peer.id == OutboundMessage.peer_id)
            .where(*milestones_sent(live))
        )
    sent = union_all(*parts).subquery()
    row = report.session.execute(
        select(func.coalesce(func.sum(sent.c.n), 0), func.count(distinct(sent.c.peer)))
    ).one()
    return {"milestones": int(row[0]), "peers_with_milestone": int(row[1])}


# --- mood ----------------------------------------------------------------------------


def mood_rows(report: Report) -> list[tuple]:
    """(local day, caseload, score, replies) for the 1-5 replies of the range: by day, for
    the weekly trend and for the roll-up."""
    keys = [Mood.local_date, Peer.specialist_id, Mood.score]
    query = (
        select(*keys, func.count())
        .join(Peer, Peer.id == Mood.peer_id)
        .where(
            *report.scope(),
            Mood.local_date >= report.range.first,
            Mood.local_date <= report.range.last,
            Mood.score >= 1,
            Mood.score <= 5,
        )
        .group_by(*keys)
    )
    return [tuple(row) for row in report.session.execute(query)]


def mood(report: Report, rows: list[tuple]) -> dict[str, Any]:
    """The distribution of 1-5 replies and their weekly trend, from (day, caseload, score,
    replies) rows: at most one per day, caseload and score."""
    scores: Counter[int] = Counter()
    weeks: dict[int, list[int]] = {}
    for day, _, score, count in rows:
        scores[score] += count
        week = weeks.setdefault((day - report.range.first).days // 7, [0, 0])
        week[0] += count
        week[1] += score * count
    replies = sum(scores.values())
    total = sum(score * n for score, n in scores.items())
    return {
        "replies": replies,
        "average": round(total / replies, 2) if replies else None,
        "distribution": [{"score": s, "replies": scores[s]} for s in range(1, 6)],
        "weekly": [
            {
                "week_start": (report.range.first + timedelta(days=7 * n)).isoformat(),
                "replies": count,
                "average": round(total / count, 2),
            }
            for n, (count, total) in sorted(weeks.items())
        ],
    }


# --- safety and attention --------------------------------------------------------------


def timing(report: Report, later: Any, earlier: Any, where: list[Any]) -> dict[str, Any]:
    """How many, median and 90th percentile minutes from ``earlier`` to ``later``, over the
    flags (and their alerts) that ``where`` picks."""
    minutes = (
        select(report.sql.minutes_between(later, earlier).label("minutes"))
        .select_from(Flag)
        .join(Peer, Peer.id == Flag.peer_id)
        .outerjoin(Alert, Alert.flag_id == Flag.id)
        .where(*report.scope(), *where, later.is_not(None))
        .subquery()
    )
    count, (median, p90) = report.sql.percentiles(report.session, minutes.c.minutes, [0.5, 0.9])
    return {"count": count, "median_minutes": median, "p90_minutes": p90}


def safety(report: Report) -> dict[str, Any]:
    flags_in_range = [report.in_range(Flag.created_at)]
    kinds = report.session.execute(
        select(Flag.kind, func.count(Flag.id), func.count(Flag.id).filter(Flag.urgent))
        .join(Peer, Peer.id == Flag.peer_id)
        .where(*report.scope(), *flags_in_range)
        .group_by(Flag.kind)
        .order_by(Flag.kind)
    ).all()
    staff_resolved = [*flags_in_range, Flag.resolved_by.is_not(None)]
    return {
        "flags_by_kind": [{"kind": k, "flags": n, "urgent": u} for k, n, u in kinds],
        "acknowledge_urgent": timing(
            report, Alert.acknowledged_at, Alert.opened_at, [report.in_range(Alert.opened_at)]
        ),
        "resolve_urgent": timing(
            report, Flag.resolved_at, Flag.created_at, [*staff_resolved, Flag.urgent]
        ),
        "resolve_other": timing(
            report, Flag.resolved_at, Flag.created_at, [*staff_resolved, ~Flag.urgent]
        ),
        "alerts": alert_counts(report),
        "crisis_follow_ups": follow_ups(report),
    }


def alert_counts(report: Report) -> dict[str, int]:
    """Alerts opened in the range, and those whose whole chain ran without an answer."""
    exhausted = exists().where(
        AuditEvent.peer_id == Alert.peer_id,
        AuditEvent.action == "alert_exhausted",
        AuditEvent.created_at >= Alert.opened_at,
        AuditEvent.detail["alert"].as_integer() == Alert.id,
    )
    row = report.session.execute(
        select(func.count(Alert.id), func.count(Alert.id).filter(exhausted))
        .join(Peer, Peer.id == Alert.peer_id)
        .where(*report.scope(), report.in_range(Alert.opened_at))
    ).one()
    return {"opened": row[0], "exhausted": row[1]}


def follow_ups(report: Report) -> dict[str, Any]:
    """Follow-up contacts after a crisis planned in the range: due by now, done within 48 h."""
    due = or_(Flag.due_at <= report.now, Flag.resolved_at.is_not(None))
    in_time = and_(Flag.resolved_at.is_not(None), Flag.resolved_at <= Flag.due_at)
    row = report.session.execute(
        select(func.count(Flag.id).filter(due), func.count(Flag.id).filter(in_time))
        .join(Peer, Peer.id == Flag.peer_id)
        .where(*report.scope(), Flag.kind == "follow_up", report.in_range(Flag.created_at))
    ).one()
    return {"due": row[0], "within_48_hours": row[1], "share": share(row[1], row[0])}


# --- delivery ------------------------------------------------------------------------


def error_class() -> ColumnElement[str]:
    code = OutboundMessage.error_code
    return case(
        (code == UNSUBSCRIBED_CODE, "unsubscribed"),
        (code.in_(sorted(UNREACHABLE_CODES)), "unreachable"),
        (code == "30007", "filtered"),
        (code == "unconfirmed", "unconfirmed"),
        else_="other",
    )


def delivery_rows(report: Report, by_day: bool = False) -> list[tuple]:
    """Texts the service sent on its own or for a specialist (not answers in a reply):
    rows of (caseload, status, skip reason, error class, texts), the local day first
    when ``by_day``."""
    day = [report.sql.local_date(OutboundMessage.due_at).label("day")] if by_day else []
    keys = [*day, Peer.specialist_id, OutboundMessage.status, OutboundMessage.skip_reason]
    rows = report.session.execute(
        select(*keys, error_class().label("failure"), func.count())
        .join(Peer, Peer.id == OutboundMessage.peer_id)
        .where(
            *report.scope(),
            OutboundMessage.kind != "reply",
            report.in_range(OutboundMessage.due_at),
        )
        .group_by(*keys, "failure")
    ).all()
    return [tuple(row) for row in rows]


def delivery(counted: Counted) -> dict[str, Any]:
    """Texts the service sent on its own or for a specialist (not answers in a reply)."""
    figures: dict[str, Any] = {
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "waiting": 0,
        "failed_by_class": dict.fromkeys(ERROR_CLASSES, 0),
        "not_sent_by_reason": {},
    }
    for _, status, reason, failure, count in counted.delivery:
        tally(figures, status, reason or "unknown", failure, count)
    figures["not_sent_by_reason"] = dict(sorted(figures["not_sent_by_reason"].items()))
    return figures


def tally(figures: dict[str, Any], status: str, reason: str, failure: str, count: int) -> None:
    if status in (SENT, DELIVERED):
        figures["sent"] += count
        figures["delivered"] += count if status == DELIVERED else 0
    elif status in (FAILED, UNDELIVERED):
        figures["failed"] += count
        figures["failed_by_class"][failure] += count
    elif status in ("skipped", "cancelled"):
        reasons = figures["not_sent_by_reason"]
        reasons[reason] = reasons.get(reason, 0) + count
    else:  # planned or being sent now
        figures["waiting"] += count


# --- follow-up due -------------------------------------------------------------------


def follow_up_due(report: Report, listed: int = FOLLOW_UP_LIST_LIMIT) -> dict[str, Any]:
    """Peers whose review (FOLLOW_UP_DAYS after enrolment) falls in the next
    FOLLOW_UP_WINDOW_DAYS, and whether they were reached (texted us) since its window
    opened (FOLLOW_UP_WINDOW_DAYS before the review day)."""
    days, window = report.settings.follow_up_days, report.settings.follow_up_window_days
    enrol_day = report.sql.local_date(Peer.created_at)
    first = report.today - timedelta(days=days)
    where = [
        *report.scope(),
        Peer.discharged_at.is_(None),
        Peer.created_at >= utc_floor(first),
        enrol_day >= first,
        enrol_day <= first + timedelta(days=window),
    ]
    reached = exists().where(
        InboundMessage.peer_id == Peer.id,
        InboundMessage.received_at >= report.sql.plus_days(Peer.created_at, days - window),
    )
    due, reached_count = report.session.execute(
        select(func.count(Peer.id), func.count(Peer.id).filter(reached)).where(*where)
    ).one()
    rows = report.session.execute(
        select(Peer.id, Peer.display_name, enrol_day, reached, Specialist.name)
        .join(Specialist, Specialist.id == Peer.specialist_id)
        .where(*where)
        .order_by(Peer.created_at, Peer.id)
        .limit(listed)
    ).all()
    return {
        "review_after_days": days,
        "window_days": window,
        "due": due,
        "reached": reached_count,
        "share": share(reached_count, due),
        "peers": [
            {
                "peer_id": peer_id,
                "name": name,
                "specialist": specialist,
                "review_date": (enrolled + timedelta(days=days)).isoformat(),
                "reached": bool(was_reached),
            }
            for peer_id, name, enrolled, was_reached, specialist in rows
        ],
    }


# --- by specialist -------------------------------------------------------------------


def by_specialist(
    report: Report, answers: list[tuple[int, int | None, int]]
) -> list[dict[str, Any]]:
    """For an admin's whole-program view: the headline figures of each caseload."""
    served = grouped(
        report, select(Peer.specialist_id, func.count(Peer.id)).where(served_condition(report))
    )
    new = grouped(
        report,
        select(Peer.specialist_id, func.count(Peer.id)).where(report.in_range(Peer.created_at)),
    )
    asked: dict[int, tuple[int, int]] = {}
    for who, minutes, count in answers:
        sent, answered = asked.get(who, (0, 0))
        asked[who] = (sent + count, answered + (count if minutes is not None else 0))
    people = report.session.execute(
        select(Specialist.id, Specialist.name).order_by(Specialist.name)
    )
    return [
        {
            "specialist_id": who,
            "name": name,
            "served": served.get(who, 0),
            "new_enrolments": new.get(who, 0),
            "check_ins_sent": asked.get(who, (0, 0))[0],
            "answered_share": share(asked.get(who, (0, 0))[1], asked.get(who, (0, 0))[0]),
        }
        for who, name in people
        if served.get(who) or new.get(who) or who in asked
    ]


def grouped(report: Report, query: Any) -> dict[int, int]:
    return dict(report.session.execute(query.group_by(Peer.specialist_id)).all())


# --- the whole report --------------------------------------------------------------------


@dataclass
class Counted:
    """The heaviest figures, as rows by caseload: (caseload, minutes or None, texts) for
    check-ins answered, (caseload, goal number, days) for scheduled and done days,
    (caseload, status, reason, error class, texts) for delivery, (days, caseload, peers
    due, retained) for retention at 30, 90 and 180 days, (day, caseload, score, replies)
    for mood. Days already rolled up
    (:mod:`service.report_rollup`) are read from their tallies; the rest is counted live."""

    answers: list[tuple] = field(default_factory=list)
    scheduled: list[tuple] = field(default_factory=list)
    done: list[tuple] = field(default_factory=list)
    delivery: list[tuple] = field(default_factory=list)
    retained: list[tuple] = field(default_factory=list)  # (days, caseload, cohort, retained)
    moods: list[tuple] = field(default_factory=list)  # (day, caseload, score, replies)
    rolled: date | None = None  # the last day read from tallies

    def add_live(self, report: Report) -> None:
        self.answers += answers_by_caseload(report)
        for days in RETENTION_DAYS:
            self.retained += [(days, *row) for row in retention_rows(report, days)]
        scheduled, done = goal_days(report)
        self.scheduled += scheduled
        self.done += done
        self.delivery += delivery_rows(report)
        self.moods += mood_rows(report)

    def add_tallies(self, report: Report, first: date, last: date) -> None:
        scope = tally_scope(report)
        rows = report.session.execute(
            select(ReportTally.figure, ReportTally.specialist_id, ReportTally.key,
                   func.sum(ReportTally.count))
            .where(ReportTally.local_date >= first, ReportTally.local_date <= last,
                   ReportTally.figure.in_(TALLIED), *scope)
            .group_by(ReportTally.figure, ReportTally.specialist_id, ReportTally.key)
        ).all()  # fmt: skip
        cohorts: dict[tuple[int, int], list[int]] = {}
        for figure, who, key, count in rows:
            if figure in ("cohort", "retained"):
                cohorts.setdefault((int(key), who), [0, 0])[figure == "retained"] += count
            elif figure == "answers":
                self.answers.append((who, None if key == NO_ANSWER else int(key), count))
            elif figure in ("scheduled", "done"):
                getattr(self, figure).append((who, int(key), count))
            else:
                status, reason, failure = key.split(KEY_SEPARATOR)
                self.delivery.append((who, status, reason or None, failure, count))
        self.retained += [(days, who, *counts) for (days, who), counts in cohorts.items()]
        moods = report.session.execute(
            select(ReportTally.local_date, ReportTally.specialist_id, ReportTally.key,
                   ReportTally.count)
            .where(ReportTally.local_date >= first, ReportTally.local_date <= last,
                   ReportTally.figure == MOOD, *scope)
        ).all()  # fmt: skip
        self.moods += [(day, who, int(score), count) for day, who, score, count in moods]


def tally_scope(report: Report) -> list[ColumnElement[bool]]:
    if report.specialist_id is None:
        return []
    return [ReportTally.specialist_id == report.specialist_id]


TALLIED = ("answers", "scheduled", "done", "delivery", "cohort", "retained")  # summed over days
MOOD = "mood"  # kept by day and score, read by day for the weekly trend
MILESTONE = "milestone"  # kept by day, caseload and peer (the key): each peer counted once
ROLLED = "rolled"  # the figure marking a day as rolled up (specialist 0)
NO_ANSWER = "-"
KEY_SEPARATOR = "|"


def rolled_through(session: Session) -> date | None:
    """The last day whose figures are kept as tallies (every earlier one is too)."""
    return session.scalar(select(func.max(ReportTally.local_date)).where(
        ReportTally.figure == ROLLED))  # fmt: skip


def counted(report: Report) -> Counted:
    """The heaviest figures for the report's range: tallies for the days rolled up, live
    counts for the days after them."""
    parts = Counted()
    first, last, rolled = report.range.first, report.range.last, rolled_through(report.session)
    if rolled is None or rolled < first:
        parts.add_live(report)
        return parts
    parts.add_tallies(report, first, min(rolled, last))
    parts.rolled = rolled
    if rolled < last:
        parts.add_live(report.for_range(ReportRange(rolled + timedelta(days=1), last)))
    return parts


def summary(report: Report) -> dict[str, Any]:
    """Every figure of the program report, as plain JSON-ready values."""
    parts = counted(report)
    answers = parts.answers
    return {
        "range": {
            "from": report.range.first.isoformat(),
            "to": report.range.last.isoformat(),
            "days": report.range.days,
        },
        "specialist_id": report.specialist_id,
        "people": people(report),
        "engagement": engagement(report, answers, parts.retained),
        "goals": goals(report, parts),
        "mood": mood(report, parts.moods),
        "safety": safety(report),
        "delivery": delivery(parts),
        "follow_up_due": follow_up_due(report),
        "by_specialist": by_specialist(report, answers) if report.specialist_id is None else [],
        "small_counts_hidden": False,
    }


# --- sharing outside the program -------------------------------------------------------

# Whole numbers in the report that are not counts of people or events.
NOT_COUNTS = frozenset(
    {
        "days",
        "weeks",
        "review_after_days",
        "window_days",
        "goal",
        "score",
        "specialist_id",
        "peer_id",
    }
)
# Values worked out from the counts beside them: hidden when one of those is.
DERIVED = frozenset(
    {
        "share",
        "average",
        "median_minutes",
        "p90_minutes",
        "median_minutes_to_answer",
        "done_per_scheduled_day",
        "answered_share",
    }
)


def hide_small_counts(figures: dict[str, Any], threshold: int) -> dict[str, Any]:
    """The report for sharing outside the program: counts from 1 to ``threshold`` - 1 are
    None, and so is every share, average or time worked out next to a hidden count. The
    follow-up list (names) is left out."""
    shared = hide_in(figures, threshold)
    shared["follow_up_due"]["peers"] = []
    shared["small_counts_hidden"] = True
    return shared


def hide_in(value: Any, threshold: int) -> Any:
    if isinstance(value, list):
        return [hide_in(item, threshold) for item in value]
    if not isinstance(value, dict):
        return value
    hidden, result = False, {}
    for key, item in value.items():
        small = isinstance(item, int) and not isinstance(item, bool) and 0 < item < threshold
        if small and key not in NOT_COUNTS and key not in DERIVED:
            result[key], hidden = None, True
        else:
            result[key] = hide_in(item, threshold)
    if hidden:
        result.update({key: None for key in result if key in DERIVED})
    return result


# --- what each figure means (the page, the API document and the README say the same) ------

DEFINITIONS: dict[str, tuple[str, str]] = {
    "served": (
        "Peers served",
        "Unduplicated: every peer enrolled on at least one day of the "
        "range, counted once however often they were discharged and enrolled again.",
    ),
    "new_enrolments": ("New enrolments", "Peers first enrolled on a day of the range."),
    "re_enrolled": ("Re-enrolled", "Discharged peers enrolled again on a day of the range."),
    "discharged": ("Discharged", "Peers discharged on a day of the range, by the reason given."),
    "opted_out": (
        "Opted out",
        "Peers whose opt-out is in the consent ledger on a day of the "
        "range, by route: keyword (a text such as STOP), provider (the carrier "
        "reported the number unsubscribed, error 21610) or specialist (the peer told a "
        "person, recorded on the peer page).",
    ),
    "answered": (
        "Check-ins answered",
        "Of the check-in texts the provider took (sent or "
        "delivered) that were due on a day of the range, those followed within a day "
        "by the peer's answer for that goal (done, not yet or rest).",
    ),
    "time_to_answer": (
        "Median time to answer",
        "The median, in whole minutes, from a "
        "check-in text being sent to the answer that followed it.",
    ),
    "weekly": (
        "Answered every week",
        "Of the peers enrolled before the range began and "
        "never discharged during it, those with at least one check-in answer in each "
        "full week of the range (7-day blocks from its first day that have ended).",
    ),
    "retention": (
        "Retention at 30, 90 and 180 days",
        "Peers whose 30th (90th, 180th) day "
        "since enrolment fell in the range and has passed; retained when, on that "
        "day, they were still enrolled and opted in and had answered a check-in in "
        "the 14 days before.",
    ),
    "done_rate": (
        "Done days per scheduled day",
        "Days the peer answered done for a goal, "
        "over days on which that goal's check-in text was sent, by each peer's "
        "first, second and later goals and overall (goals are the peers' own words, "
        "so they are numbered, not named). A done day without a text counts too, so "
        "it can pass 100%.",
    ),
    "habit_strength": (
        "Habit strength",
        "For each goal on the plan on the range's last day "
        "(or today, if earlier), of a peer enrolled then: each done day of the "
        "180 days before weighs 0.05 x 0.95^(days ago); the bands count goals. "
        "Unlike the peer page, rest days and days without a check-in count as "
        "not done here.",
    ),
    "milestones": (
        "Milestones reached",
        "Celebrations sent in answer to a DONE that completed "
        "a streak (3, 7, 14, 30, 60, 90, 180 or 365 days) or a monthly total (10 or "
        "20 done days), and how many peers had one.",
    ),
    "mood": (
        "Mood",
        "Mood replies (1 to 5, one per peer per day) on days of the range: how "
        "many of each score, the average, and the average by week of the range.",
    ),
    "flags": (
        "Flags by kind",
        "Flags raised on a day of the range, by kind, and how many of them are urgent.",
    ),
    "acknowledge": (
        "Time to acknowledge",
        "For alerts (urgent flags) opened in the range and "
        "acknowledged: median and 90th percentile minutes from the alert opening "
        "to the first acknowledgement.",
    ),
    "resolve": (
        "Time to resolve",
        "For flags raised in the range that a specialist resolved: "
        "median and 90th percentile minutes from the flag to its resolution, urgent "
        "flags and the others apart (flags the peer's own reply resolved are left "
        "out).",
    ),
    "exhausted": (
        "Alerts that exhausted their chain",
        "Alerts opened in the range whose whole "
        "chain (specialist, on call, admins, every repeat) ran without an "
        "acknowledgement, even if someone took them later.",
    ),
    "follow_ups": (
        "Crisis follow-ups within 48 hours",
        "Follow-up contacts planned in the "
        "range after an urgent flag was resolved, that are due by now or done: how "
        "many were done within their 48 hours.",
    ),
    "delivery": (
        "Delivery",
        "Texts due on a day of the range (check-ins, encouragement, "
        "summaries, welcome and direct texts; not answers sent in reply): sent (taken "
        "by the provider), of them delivered, failed by error class, still waiting.",
    ),
    "not_sent": (
        "Not sent, by reason",
        "Texts skipped or cancelled, by the reason recorded "
        "(quiet hours, daily cap, paused, opted out, discharged, missed window...).",
    ),
    "follow_up_due": (
        "Follow-up due",
        "Peers enrolled now whose review day (FOLLOW_UP_DAYS "
        "after enrolment) falls in the next FOLLOW_UP_WINDOW_DAYS days; reached "
        "when they have texted since the follow-up window opened "
        "(FOLLOW_UP_WINDOW_DAYS before the review day).",
    ),
    "small_counts": (
        "Small counts",
        "For sharing outside the program, counts from 1 to "
        "SMALL_COUNT_THRESHOLD - 1 are hidden, and so is every share, average or "
        "time worked out from them; the follow-up list with names is left out.",
    ),
}
