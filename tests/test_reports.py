"""The program report, figure by figure, against rows whose answer is worked out here.

Every expected number is counted by hand from the rows the test writes (never read
back from service/reports.py). Most peers live in Chicago (UTC-5 in summer), so
an event at 04:30 UTC on 1 July is 23:30 on 30 June for them and counts in June.
Runs on SQLite and PostgreSQL (PEERNUDGE_TEST_DATABASE).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from service import db, discharge, reports
from service.models import (
    Alert,
    AuditEvent,
    CheckIn,
    ConsentEvent,
    Flag,
    Goal,
    InboundMessage,
    Mood,
    OutboundMessage,
    Peer,
    Schedule,
)
from tests.conftest import make_specialist, sign_in
from tests.test_api import create_token
from tests.test_dashboard import token

JUNE = reports.ReportRange(date(2026, 6, 1), date(2026, 6, 30))
CHICAGO, NEW_YORK = "America/Chicago", "America/New_York"
phones = (f"+1312555{n:04d}" for n in itertools.count(100))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def add_peer(
    session,
    specialist: int,
    created: datetime,
    zone: str = CHICAGO,
    goals: int = 1,
    name: str = "Sam",
) -> Peer:
    peer = Peer(
        specialist_id=specialist,
        phone=next(phones),
        display_name=name,
        timezone=zone,
        consent="opted_in",
        created_at=created,
    )
    session.add(peer)
    for position in range(1, goals + 1):
        session.add(Goal(peer=peer, text=f"goal {position}", position=position, created_at=created))
    session.flush()
    return peer


def texted(session, peer: Peer, due: datetime, status: str = "delivered", **extra) -> None:
    """A text to the peer, due (and, once sent, sent) at ``due``."""
    sent = due if status in ("sent", "delivered", "failed", "undelivered") else None
    values = {"kind": "checkin", "goal_id": peer.goals[0].id} | extra
    session.add(
        OutboundMessage(
            peer_id=peer.id,
            to_phone=peer.phone,
            due_at=due,
            sent_at=sent,
            status=status,
            created_at=due,
            **values,
        )
    )


def answered(session, goal: Goal, day: date, at: datetime, result: str = "done") -> None:
    session.add(
        CheckIn(goal_id=goal.id, peer_id=goal.peer_id, local_date=day, result=result, created_at=at)
    )


def consent(session, peer: Peer, kind: str, source: str, at: datetime) -> None:
    session.add(
        ConsentEvent(phone=peer.phone, peer_id=peer.id, kind=kind, source=source, created_at=at)
    )


def report_of(
    runtime, report_range=JUNE, specialist=None, now=None, today=None, settings=None
) -> dict:
    now = now or utc(2026, 7, 5, 12)
    with runtime.session_factory() as session:
        report = reports.Report.build(
            session,
            settings or runtime.settings,
            report_range,
            specialist,
            now,
            today or now.date(),
        )
        return reports.summary(report)


# --- people ----------------------------------------------------------------------------


def test_peers_are_counted_once_on_their_own_local_days(runtime, specialist, outsider):
    with db.transaction(runtime.session_factory) as s:
        ana = add_peer(s, specialist, utc(2026, 5, 10, 15))  # before June, still enrolled
        ben = add_peer(s, specialist, utc(2026, 6, 10, 15))  # new in June
        cal = add_peer(s, specialist, utc(2026, 3, 1, 15), NEW_YORK)  # away, back twice in June
        dee = add_peer(s, specialist, utc(2026, 1, 5, 15))  # discharged in May, never back
        add_peer(s, outsider, utc(2026, 6, 2, 15))  # Eve: Casey's, new in June
        add_peer(s, specialist, utc(2026, 7, 1, 3, 30))  # Gus: 30 June 22:30 in Chicago: new
        hal = add_peer(s, specialist, utc(2026, 6, 1, 3))  # Hal: 31 May 22:00 there: not new
        add_peer(s, specialist, utc(2026, 7, 2, 15))  # after June
        discharge.discharge(s, cal, "moved", specialist, utc(2026, 4, 1, 15))
        discharge.re_enrol(s, cal, specialist, utc(2026, 6, 5, 15))
        discharge.discharge(s, cal, "chose_to_stop", specialist, utc(2026, 6, 20, 15))
        discharge.re_enrol(s, cal, specialist, utc(2026, 6, 25, 15))
        discharge.discharge(s, dee, "completed", specialist, utc(2026, 5, 1, 15))
        consent(s, ana, "opt_out", "sms", utc(2026, 6, 12, 15))
        consent(s, ana, "opt_in", "sms", utc(2026, 6, 13, 15))
        consent(s, ana, "opt_out", "sms", utc(2026, 6, 14, 15))  # Ana twice: one peer
        consent(s, ben, "opt_out", "provider", utc(2026, 6, 30, 4))  # 29 June 23:00
        consent(s, hal, "opt_out", "sms", utc(2026, 7, 1, 4, 30))  # 30 June 23:30 there
        consent(s, dee, "opt_out", "specialist", utc(2026, 7, 1, 6))  # 1 July 01:00: July

    people = report_of(runtime)["people"]
    # Served: Ana, Ben, Cal, Eve, Gus, Hal (Dee was away all June; one peer after June).
    assert people["served"] == 6
    assert people["new_enrolments"] == 3  # Ben, Eve, Gus
    assert people["re_enrolled"] == 1  # Cal, twice: one peer
    assert people["discharged"] == 1  # Cal on 20 June (Dee's was in May)
    assert people["discharged_by_reason"] == {"chose_to_stop": 1}
    assert people["opted_out"] == 3  # Ana, Ben, Hal
    assert people["opted_out_by_route"] == {"keyword": 2, "provider": 1, "specialist": 0}

    jordans = report_of(runtime, specialist=specialist)["people"]
    assert (jordans["served"], jordans["new_enrolments"]) == (5, 2)  # not Eve


def test_a_range_with_no_data_gives_zeros_and_no_shares(runtime, specialist):
    with db.transaction(runtime.session_factory) as s:
        add_peer(s, specialist, utc(2026, 6, 10, 15))
    empty = reports.ReportRange(date(2025, 1, 1), date(2025, 1, 31))
    figures = report_of(runtime, empty)
    assert figures["people"]["served"] == 0
    assert figures["engagement"]["check_ins"] == {
        "sent": 0,
        "answered": 0,
        "share": None,
        "median_minutes_to_answer": None,
    }
    assert figures["goals"]["done_per_scheduled_day"] is None
    assert figures["goals"]["habit_strength"][0] == {"band": "0-19%", "goals": 0}
    assert figures["mood"]["average"] is None and figures["mood"]["weekly"] == []
    assert figures["safety"]["resolve_urgent"] == {
        "count": 0,
        "median_minutes": None,
        "p90_minutes": None,
    }
    assert figures["delivery"]["sent"] == 0
    assert all(r["cohort"] == 0 and r["share"] is None for r in figures["engagement"]["retention"])


# --- engagement ------------------------------------------------------------------------


def test_check_ins_answered_and_the_median_time_to_answer(runtime, specialist):
    with db.transaction(runtime.session_factory) as s:
        ana = add_peer(s, specialist, utc(2026, 5, 1, 15))
        goal = ana.goals[0]
        texted(s, ana, utc(2026, 6, 2, 14))
        answered(s, goal, date(2026, 6, 2), utc(2026, 6, 2, 14, 30))  # 30 min
        texted(s, ana, utc(2026, 6, 3, 14))
        answered(s, goal, date(2026, 6, 3), utc(2026, 6, 3, 16), "not_yet")  # 120 min
        texted(s, ana, utc(2026, 6, 4, 14))  # never answered
        texted(s, ana, utc(2026, 6, 5, 14))
        answered(s, goal, date(2026, 6, 6), utc(2026, 6, 6, 13))  # next morning: 1380 min
        texted(s, ana, utc(2026, 6, 6, 14))  # its day's answer came before it: unanswered
        texted(s, ana, utc(2026, 6, 7, 14), status="failed", error_code="30003")  # not sent
        texted(s, ana, utc(2026, 7, 1, 4, 30))  # 30 June 23:30 in Chicago: June
        answered(s, goal, date(2026, 6, 30), utc(2026, 7, 1, 5, 5))  # 35 min
        texted(s, ana, utc(2026, 6, 1, 4, 30))  # 31 May 23:30 there: May
        answered(s, goal, date(2026, 5, 31), utc(2026, 6, 1, 4, 40))

    checkins = report_of(runtime)["engagement"]["check_ins"]
    assert (checkins["sent"], checkins["answered"]) == (6, 4)
    assert checkins["share"] == round(4 / 6, 4)
    assert checkins["median_minutes_to_answer"] == 35  # of 30, 35, 120, 1380


def test_peers_who_answered_in_every_full_week(runtime, specialist):
    two_weeks = reports.ReportRange(date(2026, 6, 1), date(2026, 6, 15))  # 2 full weeks + 1 day
    with db.transaction(runtime.session_factory) as s:
        ana = add_peer(s, specialist, utc(2026, 5, 1, 15))
        ben = add_peer(s, specialist, utc(2026, 5, 1, 15))
        cal = add_peer(s, specialist, utc(2026, 6, 5, 15))  # joined during: not counted
        dee = add_peer(s, specialist, utc(2026, 5, 1, 15))  # discharged during: not counted
        for day in (2, 9):
            answered(s, ana.goals[0], date(2026, 6, day), utc(2026, 6, day, 15), "rest")
        for day in (2, 3, 15):  # the 15th is the partial third week: not required, no help
            answered(s, ben.goals[0], date(2026, 6, day), utc(2026, 6, day, 15))
        for day in (6, 9):
            answered(s, cal.goals[0], date(2026, 6, day), utc(2026, 6, day, 15))
        answered(s, dee.goals[0], date(2026, 6, 2), utc(2026, 6, 2, 15))
        discharge.discharge(s, dee, "lost_contact", specialist, utc(2026, 6, 12, 15))

    weekly = report_of(runtime, two_weeks)["engagement"]["weekly"]
    assert weekly == {"weeks": 2, "eligible": 2, "answered_every_week": 1, "share": 0.5}
    started = reports.ReportRange(date(2026, 7, 1), date(2026, 7, 31))
    future = report_of(runtime, started, today=date(2026, 7, 5))["engagement"]["weekly"]
    assert (future["weeks"], future["answered_every_week"]) == (0, None)


def test_retention_at_30_90_and_180_days(runtime, specialist):
    with db.transaction(runtime.session_factory) as s:

        def peer(created: datetime) -> Peer:
            added = add_peer(s, specialist, created)
            consent(s, added, "opt_in", "enrolment", created)
            return added

        kept = peer(utc(2026, 5, 10, 15))  # day 30: 9 June
        answered(s, kept.goals[0], date(2026, 6, 5), utc(2026, 6, 5, 15))
        left = peer(utc(2026, 5, 12, 15))  # opted out before its day 30 (11 June)
        answered(s, left.goals[0], date(2026, 6, 5), utc(2026, 6, 5, 15))
        consent(s, left, "opt_out", "sms", utc(2026, 6, 6, 15))
        quiet = peer(utc(2026, 5, 15, 15))  # last answer 20 May: not in the 14 days before
        answered(s, quiet.goals[0], date(2026, 5, 20), utc(2026, 5, 20, 15))
        away = peer(utc(2026, 5, 20, 15))  # discharged before its day 30 (19 June)
        answered(s, away.goals[0], date(2026, 6, 8), utc(2026, 6, 8, 15))
        discharge.discharge(s, away, "moved", specialist, utc(2026, 6, 10, 15))
        ninety = peer(utc(2026, 3, 5, 15))  # day 90: 3 June
        answered(s, ninety.goals[0], date(2026, 5, 30), utc(2026, 5, 30, 15))
        half_year = peer(utc(2025, 12, 10, 15))  # day 180: 8 June
        answered(s, half_year.goals[0], date(2026, 6, 1), utc(2026, 6, 1, 15))
        peer(utc(2026, 6, 25, 15))  # day 30 is in July: in no June cohort

    retention = report_of(runtime)["engagement"]["retention"]
    assert retention == [
        {"days": 30, "cohort": 4, "retained": 1, "share": 0.25},
        {"days": 90, "cohort": 1, "retained": 1, "share": 1.0},
        {"days": 180, "cohort": 1, "retained": 1, "share": 1.0},
    ]


# --- goals -----------------------------------------------------------------------------


def test_done_days_per_scheduled_day_by_goal_number(runtime, specialist):
    week = reports.ReportRange(date(2026, 6, 1), date(2026, 6, 7))
    with db.transaction(runtime.session_factory) as s:
        ana = add_peer(s, specialist, utc(2026, 5, 1, 15), goals=3)
        first, second, third = ana.goals
        third.position = 4  # goals removed before it: still "third and later"
        for day in (1, 2, 3):
            texted(s, ana, utc(2026, 6, day, 14), goal_id=first.id)
        texted(s, ana, utc(2026, 6, 3, 23), goal_id=first.id)  # a second text on the 3rd
        for day in (1, 2):
            texted(s, ana, utc(2026, 6, day, 14), goal_id=second.id)
        answered(s, first, date(2026, 6, 1), utc(2026, 6, 1, 15))
        answered(s, first, date(2026, 6, 2), utc(2026, 6, 2, 15), "not_yet")
        answered(s, first, date(2026, 6, 3), utc(2026, 6, 3, 15))
        answered(s, second, date(2026, 6, 2), utc(2026, 6, 2, 15))
        answered(s, third, date(2026, 6, 5), utc(2026, 6, 5, 15))  # done with no text
        for day, at in ((1, utc(2026, 6, 1, 15)), (2, utc(2026, 6, 2, 15)), (9, utc(2026, 6, 9))):
            texted(s, ana, at, kind="reply", goal_id=None, template=f"en/milestone/{day}")
        texted(s, ana, utc(2026, 6, 3, 15), kind="reply", goal_id=None, template="en/done/1")

    goals = report_of(runtime, week, today=date(2026, 6, 7))["goals"]
    assert goals["by_goal"] == [
        {"goal": 1, "scheduled_days": 3, "done_days": 2, "done_per_scheduled_day": 0.6667},
        {"goal": 2, "scheduled_days": 2, "done_days": 1, "done_per_scheduled_day": 0.5},
        {"goal": 3, "scheduled_days": 0, "done_days": 1, "done_per_scheduled_day": None},
    ]
    assert (goals["scheduled_days"], goals["done_days"], goals["done_per_scheduled_day"]) == (
        5,
        4,
        0.8,
    )
    assert (goals["milestones"], goals["peers_with_milestone"]) == (2, 1)  # the 9th is later


def test_habit_strength_bands(runtime, specialist):
    day = date(2026, 6, 30)
    with db.transaction(runtime.session_factory) as s:
        steady = add_peer(s, specialist, utc(2026, 1, 1, 15))  # done the last 60 days
        for age in range(60):
            done = day - timedelta(days=age)
            answered(s, steady.goals[0], done, utc(done.year, done.month, done.day, 15))
        newer = add_peer(s, specialist, utc(2026, 6, 1, 15))  # done the last 14 days
        for age in range(14):
            answered(s, newer.goals[0], day - timedelta(days=age), utc(2026, 6, 30 - age, 15))
        add_peer(s, specialist, utc(2026, 6, 1, 15))  # nothing done
        gone = add_peer(s, specialist, utc(2026, 1, 1, 15))  # discharged: not counted
        discharge.discharge(s, gone, "completed", specialist, utc(2026, 6, 10, 15))
        removed = add_peer(s, specialist, utc(2026, 1, 1, 15))
        removed.goals[0].active = False  # off the plan: not counted
        add_peer(s, specialist, utc(2026, 7, 3, 15))  # enrolled after the day: not counted

    other = make_specialist(runtime, "lee@example.org", "Lee Other")
    with db.transaction(runtime.session_factory) as s:
        elsewhere = add_peer(s, other, utc(2026, 1, 1, 15))  # another caseload, done 60 days
        for age in range(60):
            done = day - timedelta(days=age)
            answered(s, elsewhere.goals[0], done, utc(done.year, done.month, done.day, 15))

    # 1 - 0.95^60 = 0.954; 1 - 0.95^14 = 0.512; 0.
    expected = [
        {"band": "0-19%", "goals": 1},
        {"band": "20-39%", "goals": 0},
        {"band": "40-59%", "goals": 1},
        {"band": "60-79%", "goals": 0},
        {"band": "80-100%", "goals": 1},
    ]
    caseload = report_of(runtime, specialist=specialist, today=date(2026, 7, 5))
    assert caseload["goals"]["habit_strength"] == expected
    program = report_of(runtime, today=date(2026, 7, 5))["goals"]["habit_strength"]
    assert program == [*expected[:4], {"band": "80-100%", "goals": 2}]  # and the other one


# --- mood ------------------------------------------------------------------------------


def test_mood_distribution_and_weekly_trend(runtime, specialist):
    with db.transaction(runtime.session_factory) as s:
        ana = add_peer(s, specialist, utc(2026, 5, 1, 15))
        ben = add_peer(s, specialist, utc(2026, 5, 1, 15))
        for peer, day, score in (
            (ana, 1, 1),
            (ben, 2, 3),
            (ana, 8, 5),
            (ben, 9, 5),
            (ana, 30, 4),
            (ben, 3, 0),
        ):
            s.add(Mood(peer_id=peer.id, local_date=date(2026, 6, day), score=score))
        s.add(Mood(peer_id=ana.id, local_date=date(2026, 7, 1), score=2))  # July

    mood = report_of(runtime)["mood"]
    assert [d["replies"] for d in mood["distribution"]] == [1, 0, 1, 1, 2]
    assert (mood["replies"], mood["average"]) == (5, 3.6)
    assert mood["weekly"] == [
        {"week_start": "2026-06-01", "replies": 2, "average": 2.0},
        {"week_start": "2026-06-08", "replies": 2, "average": 5.0},
        {"week_start": "2026-06-29", "replies": 1, "average": 4.0},
    ]


# --- safety ----------------------------------------------------------------------------


def flag(
    s,
    peer: Peer,
    kind: str,
    at: datetime,
    resolved_after: int | None = None,
    by: int | None = None,
    urgent: bool = False,
    due_hours: int | None = None,
) -> Flag:
    resolved = at + timedelta(minutes=resolved_after) if resolved_after is not None else None
    due = at + timedelta(hours=due_hours) if due_hours else None
    row = Flag(
        peer_id=peer.id,
        kind=kind,
        urgent=urgent,
        created_at=at,
        resolved_at=resolved,
        resolved_by=by,
        due_at=due,
    )
    s.add(row)
    s.flush()
    return row


def alert(s, row: Flag, acked_after: int | None = None, exhausted: bool = False) -> None:
    acked = row.created_at + timedelta(minutes=acked_after) if acked_after is not None else None
    opened = Alert(
        flag_id=row.id,
        peer_id=row.peer_id,
        ack_code="1234",
        opened_at=row.created_at,
        acknowledged_at=acked,
        status="acknowledged" if acked else "exhausted",
    )
    s.add(opened)
    s.flush()
    if exhausted:
        s.add(
            AuditEvent(
                actor="system",
                peer_id=row.peer_id,
                action="alert_exhausted",
                detail={"alert": opened.id},
                created_at=row.created_at + timedelta(hours=1),
            )
        )


def test_flags_response_times_exhausted_alerts_and_follow_ups(runtime, specialist):
    with db.transaction(runtime.session_factory) as s:
        ana = add_peer(s, specialist, utc(2026, 5, 1, 15))
        alert(s, flag(s, ana, "crisis", utc(2026, 6, 2, 10), 120, specialist, True), acked_after=5)
        alert(
            s,
            flag(s, ana, "possible_crisis", utc(2026, 6, 3, 10), 30, specialist, True),
            acked_after=20,
            exhausted=True,
        )  # taken after the chain ran out
        alert(s, flag(s, ana, "crisis", utc(2026, 6, 4, 10), urgent=True), exhausted=True)
        flag(s, ana, "silence", utc(2026, 6, 5, 10), 60, specialist)
        flag(s, ana, "silence", utc(2026, 6, 6, 10), 10)  # resolved by the peer's reply
        flag(s, ana, "low_mood", utc(2026, 6, 7, 10), 180, specialist)
        flag(s, ana, "crisis", utc(2026, 5, 31, 10), 5, specialist, True)  # May
        flag(s, ana, "follow_up", utc(2026, 6, 2, 12), 1440, specialist, due_hours=48)  # in time
        flag(s, ana, "follow_up", utc(2026, 6, 3, 10, 30), 4320, specialist, due_hours=48)  # late
        flag(s, ana, "follow_up", utc(2026, 6, 4, 10), due_hours=48)  # missed, still open
        flag(s, ana, "follow_up", utc(2026, 6, 30, 12), due_hours=48)  # not due yet

    safety = report_of(runtime, now=utc(2026, 7, 1, 12))["safety"]
    assert safety["flags_by_kind"] == [
        {"kind": "crisis", "flags": 2, "urgent": 2},
        {"kind": "follow_up", "flags": 4, "urgent": 0},
        {"kind": "low_mood", "flags": 1, "urgent": 0},
        {"kind": "possible_crisis", "flags": 1, "urgent": 1},
        {"kind": "silence", "flags": 2, "urgent": 0},
    ]
    assert safety["acknowledge_urgent"] == {"count": 2, "median_minutes": 5, "p90_minutes": 20}
    assert safety["resolve_urgent"] == {"count": 2, "median_minutes": 30, "p90_minutes": 120}
    # 60, 180, 1440, 4320: the median is the 2nd, the 90th percentile the 4th.
    assert safety["resolve_other"] == {"count": 4, "median_minutes": 180, "p90_minutes": 4320}
    assert safety["alerts"] == {"opened": 3, "exhausted": 2}
    assert safety["crisis_follow_ups"] == {"due": 3, "within_48_hours": 1, "share": 0.3333}


# --- delivery --------------------------------------------------------------------------


def test_delivery_outcomes_failures_by_class_and_skips_by_reason(runtime, specialist):
    with db.transaction(runtime.session_factory) as s:
        ana = add_peer(s, specialist, utc(2026, 5, 1, 15))
        at = utc(2026, 6, 10, 15)
        for status, extra in [
            ("delivered", {}),
            ("delivered", {"kind": "encouragement"}),
            ("sent", {}),
            ("failed", {"error_code": "21610"}),
            ("undelivered", {"error_code": "30003"}),
            ("failed", {"error_code": "unconfirmed"}),
            ("failed", {"error_code": "30007"}),
            ("failed", {"error_code": "20003"}),
            ("skipped", {"skip_reason": "quiet_hours"}),
            ("skipped", {"skip_reason": "quiet_hours"}),
            ("skipped", {"skip_reason": "daily_cap"}),
            ("cancelled", {"skip_reason": "paused"}),
            ("skipped", {"skip_reason": "discharged"}),
            ("planned", {}),
            ("sent", {"kind": "reply", "goal_id": None}),  # an answer in the reply: not counted
        ]:
            texted(s, ana, at, status, **extra)
        texted(s, ana, utc(2026, 6, 1, 4))  # 31 May 23:00 in Chicago: May
        texted(s, ana, utc(2026, 7, 1, 4, 30), kind="direct", goal_id=None)  # 30 June 23:30

    delivery = report_of(runtime)["delivery"]
    assert (delivery["sent"], delivery["delivered"], delivery["failed"]) == (4, 3, 5)
    assert delivery["waiting"] == 1
    assert delivery["failed_by_class"] == {
        "unsubscribed": 1,
        "unreachable": 1,
        "filtered": 1,
        "unconfirmed": 1,
        "other": 1,
    }
    assert delivery["not_sent_by_reason"] == {
        "daily_cap": 1,
        "discharged": 1,
        "paused": 1,
        "quiet_hours": 2,
    }


# --- follow-up due ---------------------------------------------------------------------


def test_follow_up_due_and_who_was_reached_in_the_window(runtime, specialist):
    with db.transaction(runtime.session_factory) as s:

        def peer(created: datetime, name: str, last_text: datetime | None = None) -> Peer:
            added = add_peer(s, specialist, created, name=name)
            if last_text is not None:
                s.add(
                    InboundMessage(
                        provider_id=f"SM{added.id:032d}",
                        peer_id=added.id,
                        from_phone=added.phone,
                        body="hi",
                        received_at=last_text,
                    )
                )
            return added

        peer(utc(2026, 1, 2, 15), "Ana", utc(2026, 6, 10, 15))  # review 1 July; texted: reached
        peer(
            utc(2026, 1, 20, 15), "Ben", utc(2026, 5, 1, 15)
        )  # review 19 July; window from 19 June
        peer(utc(2026, 2, 1, 15), "Cal", utc(2026, 7, 1, 15, 30))  # review 31 July; window opened
        # at 15:00 today, and Cal texted at 15:30
        peer(utc(2026, 2, 2, 15), "Dee")  # review 1 August: not yet
        peer(utc(2026, 1, 1, 15), "Eve")  # review 30 June: past
        gone = peer(utc(2026, 1, 10, 15), "Fay")  # discharged: not due
        discharge.discharge(s, gone, "completed", specialist, utc(2026, 5, 1, 15))
        peer(utc(2026, 2, 2, 3, 30), "Gus")  # 1 February 21:30 in Chicago: review 31 July

    follow = report_of(runtime, now=utc(2026, 7, 1, 16))["follow_up_due"]
    assert (follow["due"], follow["reached"], follow["share"]) == (4, 2, 0.5)
    assert [(p["name"], p["review_date"], p["reached"]) for p in follow["peers"]] == [
        ("Ana", "2026-07-01", True),
        ("Ben", "2026-07-19", False),
        ("Cal", "2026-07-31", True),
        ("Gus", "2026-07-31", False),
    ]
    shorter = runtime.settings.with_overrides(follow_up_days=150, follow_up_window_days=10)
    # Review 150 days on, in the next 10 days: enrolled 1 to 11 February (Cal, Dee, Gus).
    again = report_of(runtime, now=utc(2026, 7, 1, 16), settings=shorter)["follow_up_due"]
    assert (again["due"], again["review_after_days"], again["window_days"]) == (3, 150, 10)


# --- sharing outside the program -------------------------------------------------------


def test_small_counts_and_what_is_worked_out_from_them_are_hidden_for_sharing(runtime, specialist):
    with db.transaction(runtime.session_factory) as s:
        for _ in range(6):
            ana = add_peer(s, specialist, utc(2026, 5, 1, 15))
        for day in (1, 2):
            texted(s, ana, utc(2026, 6, day, 14))
        answered(s, ana.goals[0], date(2026, 6, 1), utc(2026, 6, 1, 14, 30))
        add_peer(s, specialist, utc(2026, 1, 2, 15))  # due for follow-up on 1 July

    figures = report_of(runtime, now=utc(2026, 7, 1, 12))
    shared = reports.hide_small_counts(figures, 5)
    assert figures["people"]["served"] == 7 and shared["people"]["served"] == 7
    assert shared["people"]["new_enrolments"] == 0  # zero is not a small count
    assert shared["engagement"]["check_ins"] == {
        "sent": None,
        "answered": None,
        "share": None,
        "median_minutes_to_answer": None,
    }
    assert figures["follow_up_due"]["peers"] and shared["follow_up_due"]["peers"] == []
    assert shared["follow_up_due"]["due"] is None and shared["small_counts_hidden"]
    assert shared["range"] == figures["range"]  # days are not counts


# --- discharge -------------------------------------------------------------------------


def test_discharge_stops_automated_texts_and_re_enrolment_restarts_them(runtime, peer, clock):
    with db.transaction(runtime.session_factory) as s:
        sam = s.get(Peer, peer)
        texted(s, sam, clock() + timedelta(hours=1), "planned")
        texted(s, sam, clock() + timedelta(hours=1), "planned", kind="direct", goal_id=None)
        discharge.discharge(s, sam, "completed", None, clock())
        with pytest.raises(discharge.DischargeError):
            discharge.discharge(s, sam, "completed", None, clock())
    with runtime.session_factory() as s:
        rows = s.execute(
            select(OutboundMessage.kind, OutboundMessage.status, OutboundMessage.skip_reason)
        ).all()
        assert ("checkin", "cancelled", "discharged") in rows
        assert ("direct", "planned", None) in rows  # a specialist may still text them
        assert s.scalars(select(Schedule.next_due_at)).all() == [None]
        assert s.get(Peer, peer).status(clock()) == "discharged"
    clock.advance(days=3)
    with db.transaction(runtime.session_factory) as s:
        discharge.re_enrol(s, s.get(Peer, peer), None, clock())
    with runtime.session_factory() as s:
        sam = s.get(Peer, peer)
        assert (sam.discharged_at, sam.discharge_reason) == (None, None)
        assert s.scalar(select(Schedule.next_due_at)) > clock()
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["discharged", "re-enrolled"]


def test_the_peer_page_discharges_and_re_enrols(client, runtime, peer):
    sign_in(client)
    csrf = token(client, f"/peers/{peer}")
    response = client.post(f"/peers/{peer}/discharge", data={"csrf_token": csrf, "reason": "moved"})
    assert response.status_code == 303
    assert "Re-enrol" in client.get(f"/peers/{peer}").get_data(as_text=True)
    refused = client.post(f"/peers/{peer}/discharge", data={"csrf_token": csrf, "reason": "x"})
    assert refused.status_code == 303  # already discharged: said on the page, nothing changed
    client.post(f"/peers/{peer}/re-enrol", data={"csrf_token": csrf})
    with runtime.session_factory() as s:
        assert s.get(Peer, peer).discharged_at is None


# --- the page and the API --------------------------------------------------------------


@pytest.fixture
def admin(runtime) -> int:
    return make_specialist(runtime, "ada@example.org", "Ada Admin", role="admin")


def test_the_program_page_shows_figures_charts_and_no_peer_words(client, runtime, admin, peer):
    with db.transaction(runtime.session_factory) as s:
        sam = s.get(Peer, peer)
        s.add(
            InboundMessage(
                provider_id="SM" + "1" * 32,
                peer_id=peer,
                from_phone=sam.phone,
                body="my private words",
                received_at=utc(2026, 6, 10, 15),
            )
        )
        s.add(Mood(peer_id=peer, local_date=date(2026, 6, 10), score=4))
    sign_in(client, "ada@example.org")
    page = client.get("/program?range=custom&from=2026-06-01&to=2026-06-30")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "take a 20 minute walk" not in html and "my private words" not in html
    assert html.count("<svg") == 4 and 'id="def-served"' in html
    assert "Mood replies by score: 1 0, 2 0, 3 0, 4 1, 5 0." in html  # the text summary
    assert "By specialist" in html  # an admin's view of the whole program
    csv = client.get("/program/people.csv?range=custom&from=2026-06-01&to=2026-06-30")
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[:2] == ["Figure,Peers", "Peers served,1"]
    shared = client.get("/program/people.csv?from=2026-06-01&to=2026-06-30&outside=1")
    assert shared.get_data(as_text=True).splitlines()[1] == "Peers served,"


def test_a_specialist_sees_only_their_own_caseload(client, runtime, specialist, outsider):
    with db.transaction(runtime.session_factory) as s:
        add_peer(s, specialist, utc(2026, 6, 2, 15))
        add_peer(s, outsider, utc(2026, 6, 2, 15))
    sign_in(client)
    query = f"?from=2026-06-01&to=2026-06-30&specialist={outsider}"
    rows = client.get("/program/people.csv" + query).get_data(as_text=True).splitlines()
    assert rows[1] == "Peers served,1"
    assert "By specialist" not in client.get("/program" + query).get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-06-30&to=2026-06-01",
        "from=2026-6-1&to=2026-06-30",
        "from=2026-02-30&to=2026-03-01",
        "from=2025-01-01&to=2026-06-30",
        "from=1900-01-01&to=1900-01-31",
        "range=yesterday",
        "range=custom",
        "specialist=ten",
    ],
)
def test_a_bad_range_is_a_clear_400(client, runtime, admin, query):
    sign_in(client, "ada@example.org")
    page = client.get(f"/program?{query}")
    assert page.status_code == 400 and "Not shown:" in page.get_data(as_text=True)
    assert client.get(f"/program/people.csv?{query}").status_code == 400


def test_the_api_gives_the_same_figures_and_refuses_bad_ranges(client, runtime, specialist):
    with db.transaction(runtime.session_factory) as s:
        add_peer(s, specialist, utc(2026, 6, 2, 15))
    sign_in(client)
    bearer = {"Authorization": f"Bearer {create_token(client)}"}
    answer = client.get("/api/v1/reports/summary?from=2026-06-01&to=2026-06-30", headers=bearer)
    assert answer.status_code == 200
    assert answer.json["people"]["served"] == 1 and answer.json["range"]["days"] == 30
    shared = client.get(
        "/api/v1/reports/summary?from=2026-06-01&to=2026-06-30&outside=true", headers=bearer
    )
    assert shared.json["people"]["served"] is None
    for query in (
        "from=2026-06-01",
        "from=2026-07-01&to=2026-06-01",
        "from=x&to=y",
        "from=2024-01-01&to=2026-01-01",
    ):
        refused = client.get(f"/api/v1/reports/summary?{query}", headers=bearer)
        assert refused.status_code == 400 and refused.json["error"]["code"] == "bad_parameter"


def test_the_readme_defines_every_figure_and_setting():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for label, definition in reports.DEFINITIONS.values():
        assert f"**{label}**" in readme and definition in readme, label
    for setting in ("FOLLOW_UP_DAYS", "FOLLOW_UP_WINDOW_DAYS", "SMALL_COUNT_THRESHOLD"):
        assert f"`{setting}`" in readme


def test_a_malformed_report_setting_stops_start_up_naming_it(tmp_path):
    from service.settings import SettingsError, load_settings

    for name, value in (
        ("FOLLOW_UP_DAYS", "0"),
        ("FOLLOW_UP_WINDOW_DAYS", "a month"),
        ("SMALL_COUNT_THRESHOLD", "-1"),
    ):
        with pytest.raises(SettingsError, match=name):
            load_settings({"INSTANCE_DIR": str(tmp_path), name: value})
    defaults = load_settings({"INSTANCE_DIR": str(tmp_path)})
    assert (defaults.follow_up_days, defaults.follow_up_window_days) == (180, 30)
    assert defaults.small_count_threshold == 5
