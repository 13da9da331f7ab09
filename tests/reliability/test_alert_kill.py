"""A staff alert mid-chain: the worker SIGKILLed while Twilio holds the text, Redis flushed.

A crisis text opens an alert; a real ``peernudge worker`` takes the step-1 job
from the alerts queue and calls the fake Twilio, which holds the request open.
At that moment the worker and its work horse are SIGKILLed and Redis is
flushed: the job, its status and the rate's keys are gone; the database keeps
the step-1 SMS ``sending`` (claimed by a dead worker) and the email ``pending``.

Recovery is what the code provides: the planner's escalation tick
(``workers.alerts.escalate``), run as if ``SENDING_TIMEOUT_SECONDS`` had passed,
puts the claimed row back and queues the alert again; a fresh worker sends it.
Then, after ``ALERT_ESCALATE_AFTER_SECONDS``, the tick fires step 2.

What the README promises, and what is asserted:

- the specialist is texted for step 1, never zero times. The README says a
  notification claimed by a worker that died "is sent again after
  ``SENDING_TIMEOUT_SECONDS``: staff may, rarely, get an alert twice, never
  none": so at most 2 requests for that text reach the fake (2 when Twilio
  accepted the held one, whose answer was lost), at least 1 is accepted, and
  the row records one of the accepted ones;
- each notification row exists once per (alert, round, step, recipient,
  channel), and every one ends ``sent``;
- the chain goes on to step 2 only after the configured wait, exactly once
  (one text to the on-call person, however many ticks run), and step 3 is not
  fired early.

The same holds with Redis kept (the dead job still ``started`` there): the tick
takes a delivery job started more than ``SENDING_TIMEOUT_SECONDS`` ago for
dead and queues the alert again, rather than wait for RQ's own clean-up.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service import db
from service.accounts import set_phone
from service.models import ALERT_OPEN, Alert, AlertNotification, AuditEvent, OnCallShift, Specialist
from tests.conftest import enrol
from tests.reliability.scale import report
from tests.reliability.test_crash_and_redis import twilio_settings
from tests.test_conversation import text
from tests.test_engine_worker import kill_hard, kill_while_held, start_worker
from tests.test_launcher import wait_for
from workers.alerts import escalate

JORDAN_PHONE = "+12125550101"  # Sam's specialist: step 1
CASEY_PHONE = "+12125550102"  # on call now: step 2
PEER_PHONE = "+12125550134"  # Sam, who gets the crisis answer
FINAL = ("sent", "failed", "cancelled", "skipped")


@pytest.fixture
def worker_settings(settings, fake_twilio):
    return twilio_settings(settings, fake_twilio, settings.redis_url)


@pytest.fixture
def sam(engine_runtime, clock, specialist, outsider) -> int:
    """Sam, Jordan's peer; Jordan and Casey (on call now) have phones. Real processes
    run here, so the web app's clock is the real one too."""
    clock.set(datetime.now(UTC))
    staff_phones(engine_runtime, {specialist: JORDAN_PHONE, outsider: CASEY_PHONE}, outsider, clock)
    return enrol(engine_runtime, specialist)


def staff_phones(runtime, phones: dict[int, str], on_call: int, clock) -> None:
    """Give staff their phones and put one of them on call from an hour ago, for two days."""
    with db.transaction(runtime.session_factory) as session:
        for person, phone in phones.items():
            set_phone(session, session.get(Specialist, person), phone)
        session.add(
            OnCallShift(
                specialist_id=on_call,
                starts_at=clock.current - timedelta(hours=1),
                ends_at=clock.current + timedelta(days=2),
            )
        )


def notifications(runtime) -> list[AlertNotification]:
    with runtime.session_factory() as session:
        return list(session.scalars(select(AlertNotification).order_by(AlertNotification.id)))


def by_key(runtime) -> dict[tuple[int, int, int, str], AlertNotification]:
    return {(n.round, n.step, n.recipient_id, n.channel): n for n in notifications(runtime)}


def settled(runtime, count: int) -> bool:
    rows = notifications(runtime)
    return len(rows) == count and all(row.status in FINAL for row in rows)


def the_alert(runtime) -> Alert:
    with runtime.session_factory() as session:
        return session.scalars(select(Alert)).one()


def texts(fake, phone: str) -> list[str]:
    return [message.body for message in fake.sent_to(phone)]


@pytest.mark.parametrize(
    ("accepted", "flushed"),
    [(True, True), (False, True), (True, False)],
    ids=["twilio-accepted", "twilio-never-took-it", "twilio-accepted-redis-kept"],
)
def test_a_worker_killed_mid_alert_each_step_still_fires_once(
    client, engine_runtime, fake_twilio, worker_settings, sam, specialist, outsider, accepted,
    flushed,
):  # fmt: skip
    settings = engine_runtime.settings
    timeout = timedelta(seconds=settings.sending_timeout_seconds)
    wait = timedelta(seconds=settings.alert_escalate_after_seconds)
    assert timeout < wait  # the re-send is due before step 2 is

    assert "has been told" in text(client, "I want to die")  # step 1 is queued on commit
    opened_at = the_alert(engine_runtime).opened_at
    kill_while_held(worker_settings, fake_twilio, accepted)
    if flushed:
        engine_runtime.redis.flushall()  # the job, its status, the rate: all gone

    killed = by_key(engine_runtime)
    assert {key: row.status for key, row in killed.items()} == {
        (1, 1, specialist, "sms"): "sending",
        (1, 1, specialist, "email"): "pending",
    }
    assert len(fake_twilio.sent_to(JORDAN_PHONE)) == (1 if accepted else 0)

    # The planner's tick, once the claim is stale: the row is put back and queued again.
    assert escalate(engine_runtime, datetime.now(UTC) + timeout + timedelta(seconds=1)) == 0
    worker = start_worker(worker_settings, fake_twilio)
    try:
        assert wait_for(lambda: settled(engine_runtime, 2), 60), notifications(engine_runtime)
        assert escalate(engine_runtime, opened_at + wait - timedelta(seconds=1)) == 0
        assert texts(fake_twilio, CASEY_PHONE) == []
        assert escalate(engine_runtime, opened_at + wait + timedelta(seconds=1)) == 2
        assert wait_for(lambda: settled(engine_runtime, 4), 60), notifications(engine_runtime)
    finally:
        kill_hard(worker)
    # With no worker left, more ticks find nothing to fire and nothing to send.
    for later in (wait + timedelta(seconds=1), 2 * wait - timedelta(seconds=1)):
        assert escalate(engine_runtime, opened_at + later) == 0
    assert engine_runtime.alert_queue.count == 0

    rows = notifications(engine_runtime)
    keys = Counter((n.alert_id, n.round, n.step, n.recipient_id, n.channel) for n in rows)
    assert max(keys.values()) == 1
    final = by_key(engine_runtime)
    assert {key: row.status for key, row in final.items()} == {
        (1, 1, specialist, "sms"): "sent",
        (1, 1, specialist, "email"): "sent",
        (1, 2, outsider, "sms"): "sent",
        (1, 2, outsider, "email"): "sent",
    }
    to_jordan = fake_twilio.sent_to(JORDAN_PHONE)
    (to_casey,) = fake_twilio.sent_to(CASEY_PHONE)
    posts = sum(1 for method, _ in fake_twilio.requests if method == "POST")
    # every create but Casey's and the crisis answer to the peer was Jordan's step-1 text
    jordan_requests = posts - 2
    assert {m.to for m in fake_twilio.messages} == {JORDAN_PHONE, CASEY_PHONE, PEER_PHONE}
    assert len(fake_twilio.sent_to(PEER_PHONE)) == 1
    assert 1 <= len(to_jordan) <= jordan_requests <= 2  # never none; at most once more
    assert final[(1, 1, specialist, "sms")].provider_id in {m.sid for m in to_jordan}
    assert final[(1, 2, outsider, "sms")].provider_id == to_casey.sid
    with engine_runtime.session_factory() as session:
        sent_steps = [
            event.detail["step"]
            for event in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "alert_sent").order_by(AuditEvent.id)
            )
        ]
    assert sent_steps == ["specialist", "on call"]
    alert = the_alert(engine_runtime)
    assert (alert.status, alert.position) == (ALERT_OPEN, 2)
    report("alert_kill", twilio_accepted=accepted, redis_flushed=flushed,
           jordan_requests=jordan_requests, jordan_texts=len(to_jordan))  # fmt: skip
