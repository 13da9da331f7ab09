"""The reconciler: Redis lost, or a worker killed mid-send, and still every nudge once."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from sqlalchemy import select, update

from service.models import (
    FAILED,
    PLANNED,
    SENDING,
    SENT,
    SKIPPED,
    Flag,
    OutboundMessage,
    Peer,
    Schedule,
)
from tests.conftest import enrol
from workers.planner import plan_due
from workers.reconciler import reconcile
from workers.sender import claim, mark_handed, send_message

PHONE = "+12125550134"


@pytest.fixture
def sam(twilio_runtime, specialist, clock):
    clock.set(clock.current.replace(hour=16, minute=0))  # noon in New York
    return enrol(twilio_runtime, specialist)


def checkins_sent(fake) -> list:
    """Check-ins the fake Twilio received (the welcome is the one with the rates notice)."""
    return [m for m in fake.sent_to(PHONE) if "rates may apply" not in m.body]


def rows(runtime, kind: str = "checkin") -> list[OutboundMessage]:
    with runtime.session_factory() as session:
        return session.scalars(select(OutboundMessage).where(OutboundMessage.kind == kind)).all()


def drain(runtime) -> None:
    """Run every queued job in this process, as a worker would."""
    SimpleWorker([runtime.queue], connection=runtime.redis).work(burst=True, with_scheduler=False)


def due_now(runtime, clock) -> None:
    with runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(next_due_at=clock.current))


def test_redis_flushed_with_nudges_queued_still_sends_each_once(
    twilio_runtime, fake_twilio, sam, clock
):
    due_now(twilio_runtime, clock)
    plan_due(twilio_runtime, clock.current)
    assert twilio_runtime.queue.count >= 1
    twilio_runtime.redis.flushall()  # the queue is gone; the rows are not
    clock.advance(minutes=6)
    assert reconcile(twilio_runtime) == 2  # the welcome and the check-in
    drain(twilio_runtime)
    reconcile(twilio_runtime)  # a second pass finds nothing to do
    drain(twilio_runtime)
    assert len(fake_twilio.sent_to(PHONE)) == 2
    assert len(checkins_sent(fake_twilio)) == 1
    assert all(m.status == SENT for m in rows(twilio_runtime))


def test_a_crash_after_twilio_accepted_records_it_and_never_resends(
    twilio_runtime, fake_twilio, sam, clock
):
    due_now(twilio_runtime, clock)
    plan_due(twilio_runtime, clock.current)
    (row,) = rows(twilio_runtime)
    # The worker was killed after Twilio accepted the message, before it stored the sid:
    assert send_message(twilio_runtime, row.id) == "sent"
    with twilio_runtime.session_factory() as session, session.begin():
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == row.id)
            .values(status=SENDING, provider_id=None, sent_at=None)
        )
    clock.advance(minutes=6)
    assert reconcile(twilio_runtime) >= 1
    (settled,) = rows(twilio_runtime)
    assert settled.status == SENT
    assert settled.provider_id == fake_twilio.sent_to(PHONE)[-1].sid
    drain(twilio_runtime)
    assert len(checkins_sent(fake_twilio)) == 1


def test_a_crash_twilio_has_no_record_of_is_flagged_not_resent(
    twilio_runtime, fake_twilio, sam, clock
):
    """Twilio's list can lag: "not found" is no proof, so at most once wins."""
    due_now(twilio_runtime, clock)
    plan_due(twilio_runtime, clock.current)
    (row,) = rows(twilio_runtime)
    assert claim(twilio_runtime, row.id, clock.current)
    assert mark_handed(twilio_runtime, row.id)  # then the worker died, mid-request
    clock.advance(minutes=6)
    reconcile(twilio_runtime)
    settled = rows(twilio_runtime)[0]
    assert (settled.status, settled.error_code) == (FAILED, "unconfirmed")
    assert send_message(twilio_runtime, row.id) == "not-planned"
    assert checkins_sent(fake_twilio) == []
    with twilio_runtime.session_factory() as session:
        assert [f.kind for f in session.scalars(select(Flag))] == ["delivery_failure"]


def test_a_row_claimed_but_never_handed_to_twilio_is_planned_again_and_sent_once(
    twilio_runtime, fake_twilio, sam, clock
):
    due_now(twilio_runtime, clock)
    plan_due(twilio_runtime, clock.current)
    (row,) = rows(twilio_runtime)
    assert claim(twilio_runtime, row.id, clock.current)  # the worker died before calling Twilio
    clock.advance(minutes=6)
    reconcile(twilio_runtime)
    assert rows(twilio_runtime)[0].status == PLANNED
    assert send_message(twilio_runtime, row.id) == "sent"
    assert len(checkins_sent(fake_twilio)) == 1


def test_stop_cancels_a_claimed_row_before_it_is_handed_over(twilio_runtime, sam, clock):
    from service.consent import record_opt_out

    due_now(twilio_runtime, clock)
    plan_due(twilio_runtime, clock.current)
    (row,) = rows(twilio_runtime)
    assert claim(twilio_runtime, row.id, clock.current)
    with twilio_runtime.session_factory() as session, session.begin():
        peer = session.get(Peer, sam)
        record_opt_out(session, peer.phone, peer, "sms", clock.current)
    assert not mark_handed(twilio_runtime, row.id)  # so the worker never calls the provider
    assert rows(twilio_runtime)[0].status == "cancelled"


@pytest.fixture
def simulated_sam(runtime, specialist, clock):
    clock.set(clock.current.replace(hour=16, minute=0))
    return enrol(runtime, specialist)


def test_with_the_simulator_a_crashed_send_is_planned_again_and_sent_once(
    runtime, simulated_sam, clock
):
    due_now(runtime, clock)
    plan_due(runtime, clock.current)
    (row,) = rows(runtime)
    assert claim(runtime, row.id, clock.current)  # the simulator never delivered it
    clock.advance(minutes=6)
    reconcile(runtime)
    assert rows(runtime)[0].status == PLANNED
    assert send_message(runtime, row.id) == "sent"


def test_a_crashed_send_found_too_late_is_recorded_as_missed(runtime, simulated_sam, clock):
    due_now(runtime, clock)
    plan_due(runtime, clock.current)
    (row,) = rows(runtime)
    claim(runtime, row.id, clock.current)
    clock.advance(hours=2)
    reconcile(runtime)
    settled = rows(runtime)[0]
    assert (settled.status, settled.skip_reason) == (SKIPPED, "missed_window")


def test_a_sending_row_younger_than_the_timeout_is_left_alone(
    twilio_runtime, fake_twilio, sam, clock
):
    due_now(twilio_runtime, clock)
    plan_due(twilio_runtime, clock.current)
    (row,) = rows(twilio_runtime)
    claim(twilio_runtime, row.id, clock.current)
    clock.advance(seconds=30)
    reconcile(twilio_runtime)
    assert rows(twilio_runtime)[0].status == SENDING


def test_planned_rows_with_a_live_job_are_not_queued_twice(twilio_runtime, fake_twilio, sam, clock):
    due_now(twilio_runtime, clock)
    plan_due(twilio_runtime, clock.current)
    clock.advance(minutes=6)
    reconcile(twilio_runtime)  # queues the welcome, which had no job
    jobs = twilio_runtime.queue.count
    reconcile(twilio_runtime)
    assert twilio_runtime.queue.count == jobs == 2
    drain(twilio_runtime)
    assert len(fake_twilio.messages) == 2
