"""Encouragement on the peer's own cadence, and the weekly summary."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from service.models import CheckIn, Goal, OutboundMessage, Peer, Schedule
from tests.conftest import enrol
from workers.planner import plan_due
from workers.sender import send_message

MONDAY_NOON_NY = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)


def schedules(runtime, peer_id: int) -> dict[str, tuple[str, str]]:
    with runtime.session_factory() as session:
        rows = session.scalars(select(Schedule).join(Goal).where(Goal.peer_id == peer_id)).all()
        return {s.kind: (s.days, s.times) for s in rows}


def send_due(runtime, clock, kind: str) -> str:
    plan_due(runtime, clock.current)
    with runtime.session_factory() as session:
        message_id = session.scalar(select(OutboundMessage.id).where(OutboundMessage.kind == kind))
    assert send_message(runtime, message_id) == "sent"
    with runtime.session_factory() as session:
        return session.get(OutboundMessage, message_id).body


def test_enrolment_adds_encouragement_twice_a_week_and_a_sunday_summary(runtime, specialist):
    peer_id = enrol(runtime, specialist, encouragement="2x-week", summary_day="sun")
    assert schedules(runtime, peer_id) == {
        "checkin": ("daily", "09:00"),
        "encouragement": ("2x-week", "12:30"),
        "summary": ("sun", "17:00"),
    }


def test_a_peer_can_choose_no_encouragement_and_no_summary(runtime, specialist):
    peer_id = enrol(runtime, specialist, encouragement="off", summary_day="off")
    assert set(schedules(runtime, peer_id)) == {"checkin"}


def test_encouragement_goes_out_on_its_day_in_one_segment(runtime, specialist, clock):
    clock.set(MONDAY_NOON_NY)
    peer_id = enrol(runtime, specialist, encouragement="2x-week")
    with runtime.session_factory() as session, session.begin():
        session.get(Peer, peer_id).strengths = "I finish what I start"
    clock.set(MONDAY_NOON_NY.replace(hour=16, minute=29))  # 12:29 in New York, Monday
    body = send_due(runtime, clock, "encouragement")
    assert body and len(body) <= 160


def test_the_weekly_summary_counts_the_week(runtime, specialist, clock):
    clock.set(datetime(2026, 6, 14, 12, 0, tzinfo=UTC))  # Sunday morning in New York
    peer_id = enrol(runtime, specialist, summary_day="sun")
    with runtime.session_factory() as session, session.begin():
        goal = session.scalar(select(Goal).where(Goal.peer_id == peer_id))
        goal.created_at = datetime(2026, 6, 1, tzinfo=UTC)
        for day in (8, 10, 13, 14):
            session.add(CheckIn(goal_id=goal.id, peer_id=peer_id, result="done",
                                local_date=datetime(2026, 6, day).date()))  # fmt: skip
    clock.set(datetime(2026, 6, 14, 20, 59, tzinfo=UTC))  # 16:59 in New York
    body = send_due(runtime, clock, "summary")
    assert "4 of 7 days" in body


def test_a_week_with_nothing_done_gets_no_summary_at_all(runtime, specialist, clock):
    clock.set(datetime(2026, 6, 14, 12, 0, tzinfo=UTC))  # Sunday morning in New York
    peer_id = enrol(runtime, specialist, summary_day="sun")
    with runtime.session_factory() as session, session.begin():
        goal = session.scalar(select(Goal).where(Goal.peer_id == peer_id))
        goal.created_at = datetime(2026, 6, 1, tzinfo=UTC)
        session.add(CheckIn(goal_id=goal.id, peer_id=peer_id, result="not_yet",
                            local_date=datetime(2026, 6, 12).date()))  # fmt: skip
    clock.set(datetime(2026, 6, 14, 20, 59, tzinfo=UTC))
    plan_due(runtime, clock.current)
    with runtime.session_factory() as session:
        message_id = session.scalar(
            select(OutboundMessage.id).where(OutboundMessage.kind == "summary")
        )
    assert send_message(runtime, message_id) == "skipped:nothing_done_this_week"
