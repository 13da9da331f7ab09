"""A worker SIGKILLed while it holds a row, at the two moments that matter.

The random-kill test rarely lands while a worker holds a row. Here the kill is
placed: once after the claim but before the hand-off marker (``handed_at``) is
written, once while the fake Twilio holds the request open after it. Each case
must end as the README promises:

- before the hand-off: nothing left, so the row is planned again and sent once;
- after it, Twilio accepted the text (its answer was what got lost): recorded as
  sent, never sent again;
- after it, Twilio never took the text: ``failed`` / ``unconfirmed`` with a
  ``delivery_failure`` flag for the specialist, and never sent a second time.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq import Worker
from sqlalchemy import select

from service.models import FAILED, PLANNED, SENDING, SENT, Flag, OutboundMessage
from service.queueing import enqueue_sends
from tests.reliability.scale import report
from tests.reliability.test_crash_and_redis import plan_nudges, settle, twilio_settings
from tests.test_engine_worker import kill_hard, kill_while_held, start_worker
from tests.test_launcher import wait_for
from tests.twilio_fixtures import FROM_NUMBER
from workers.rate import RateLimiter

PHONE = "+12125550000"  # plan_nudges' first peer


@pytest.fixture
def planned(engine_runtime, specialist) -> list:
    """One check-in, due now, not queued yet."""
    return plan_nudges(engine_runtime, specialist, 1)


@pytest.fixture
def nudge(engine_runtime, planned) -> int:
    """The check-in, queued."""
    enqueue_sends(engine_runtime, planned)
    return planned[0][0]


def watch_closely(predicate, timeout: float) -> bool:
    """wait_for, polling every 10 ms: the claim-to-hand-off window is half a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def worker_ready(runtime) -> bool:
    return Worker.count(connection=runtime.redis) > 0


@pytest.fixture
def worker_settings(settings, fake_twilio):
    return twilio_settings(settings, fake_twilio, settings.redis_url)


def row(runtime, message_id: int) -> OutboundMessage:
    with runtime.session_factory() as session:
        return session.get(OutboundMessage, message_id)


def recover_and_run_again(runtime, worker_settings, fake, message_id: int) -> OutboundMessage:
    """The planner's reconciler, minutes later; then a fresh worker gets its chance."""
    settle(runtime, timedelta(minutes=6))
    worker = start_worker(worker_settings, fake)
    try:
        wait_for(lambda: row(runtime, message_id).status not in (PLANNED, SENDING), 30)
        time.sleep(1.5)  # anything more would be a second send
    finally:
        kill_hard(worker)
    return row(runtime, message_id)


def hold_the_hand_off(runtime, message_id: int):
    """Lock the row as a writer, so the worker's hand-off waits behind it (SQLite: the
    database's write lock; PostgreSQL: the row's)."""
    session = runtime.session_factory()
    session.begin()
    session.execute(
        select(OutboundMessage.id).where(OutboundMessage.id == message_id).with_for_update()
    )
    return session


def test_killed_after_the_claim_before_the_hand_off_it_is_planned_again_and_sent_once(
    engine_runtime, fake_twilio, worker_settings, planned
):
    nudge = planned[0][0]
    worker = start_worker(worker_settings, fake_twilio)
    try:
        assert wait_for(lambda: worker_ready(engine_runtime), 60)
        # Other sends hold the rate's next two seconds: this row is claimed half a second
        # before its slot and handed over only at it, so the kill lands in between.
        per_second = worker_settings.sms_max_per_second
        RateLimiter(engine_runtime.redis, FROM_NUMBER, per_second).reserve_many(int(2 * per_second))
        enqueue_sends(engine_runtime, planned)
        assert watch_closely(lambda: row(engine_runtime, nudge).status == SENDING, 60)
        lock = hold_the_hand_off(engine_runtime, nudge)
        kill_hard(worker)
        lock.rollback()
        lock.close()
    finally:
        kill_hard(worker)
    killed = row(engine_runtime, nudge)
    assert (killed.status, killed.handed_at, fake_twilio.sent_to(PHONE)) == (SENDING, None, [])
    settled = recover_and_run_again(engine_runtime, worker_settings, fake_twilio, nudge)
    (sent,) = fake_twilio.sent_to(PHONE)
    assert (settled.status, settled.provider_id, settled.attempts) == (SENT, sent.sid, 2)
    report("kill_before_hand_off", planned_again=1, sent_once=1)


@pytest.mark.parametrize("accepted", [True, False], ids=["twilio-accepted", "twilio-never-took-it"])
def test_killed_after_the_hand_off_it_is_never_sent_twice(
    engine_runtime, fake_twilio, worker_settings, nudge, accepted
):
    kill_while_held(worker_settings, fake_twilio, accepted)
    killed = row(engine_runtime, nudge)
    assert (killed.status, killed.provider_id) == (SENDING, None)
    assert killed.handed_at is not None
    settled = recover_and_run_again(engine_runtime, worker_settings, fake_twilio, nudge)
    at_twilio = fake_twilio.sent_to(PHONE)
    with engine_runtime.session_factory() as session:
        flags = [f.kind for f in session.scalars(select(Flag))]
    if accepted:
        assert (settled.status, settled.provider_id) == (SENT, at_twilio[0].sid)
        assert (len(at_twilio), flags) == (1, [])
    else:
        assert (settled.status, settled.error_code) == (FAILED, "unconfirmed")
        assert (at_twilio, flags) == ([], ["delivery_failure"])
    report("kill_after_hand_off", twilio_accepted=accepted, status=settled.status,
           at_provider=len(at_twilio), flags=len(flags))  # fmt: skip
