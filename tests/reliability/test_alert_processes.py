"""The escalation chain with nothing simulated but Twilio: real processes, the real clock.

A ``peernudge planner`` and a ``peernudge worker`` run as processes of this
installation (the planner ticks every second, a step waits 10 seconds, the chain
runs once); the webhook is the app under test, signed like Twilio; staff texts go
through the official twilio client to the fake Twilio, emails to a real SMTP
server on loopback. Two peers text crisis words at the same moment:

- nobody answers Sam's alert: Jordan (Sam's specialist) is texted within
  seconds, Casey (on call) only after the wait, Avery (the admin) only after the
  next one, then the chain is exhausted and nobody is texted again;
- Jordan answers Robin's alert with ``ACK <code>`` from the phone: Robin's chain
  stops there, and Casey and Avery never hear about Robin.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.models import ALERT_ACKNOWLEDGED, ALERT_EXHAUSTED, Alert
from tests.conftest import enrol, make_specialist
from tests.inbound_worker import handle_stored, reply_to
from tests.reliability.test_alert_kill import staff_phones
from tests.reliability.test_multiprocess import Fleet, process_env
from tests.signing import inbound_form, signed_post
from tests.test_conversation import PHONE as SAM_PHONE
from tests.test_conversation import sids
from tests.test_launcher import wait_for

JORDAN_PHONE = "+12125550101"  # both peers' specialist: step 1
CASEY_PHONE = "+12125550102"  # on call now: step 2
AVERY_PHONE = "+12125550103"  # the admin: step 3
ROBIN_PHONE = "+12125550188"
WAIT = 10  # ALERT_ESCALATE_AFTER_SECONDS, the smallest allowed


def text(client, body: str, from_: str = SAM_PHONE) -> str:
    """A signed inbound text, and the reply to it. The real worker running beside this
    test may take the text first (it then holds the sender), so this waits for the reply
    from whichever handled it."""
    sid = f"SM{next(sids):032d}"
    response = signed_post(client, "/sms/inbound", inbound_form(body, sid=sid, from_=from_))
    assert response.status_code == 200
    runtime = client.application.extensions["peernudge"]
    handle_stored(runtime)
    assert wait_for(lambda: reply_to(runtime, sid) is not None, 15), "nobody answered the text"
    return reply_to(runtime, sid)


@pytest.fixture
def settings(settings, smtp):
    """The app under test and the processes share these alert settings."""
    return settings.with_overrides(
        alert_escalate_after_seconds=WAIT,
        alert_repeats=1,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
    )


@pytest.fixture
def fleet(settings, engine_runtime, fake_twilio, tmp_path):
    env = process_env(settings, settings.database_url, fake_twilio) | {
        "ALERT_ESCALATE_AFTER_SECONDS": str(WAIT),
        "ALERT_REPEATS": "1",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_STARTTLS": "false",
    }
    processes = Fleet(env, tmp_path)
    processes.cli("worker")
    processes.cli("planner")
    yield processes
    processes.stop()


@pytest.fixture
def peers(engine_runtime, clock, specialist, outsider) -> tuple[int, int]:
    """Sam and Robin, Jordan's peers; Casey on call; Avery the admin. The web app runs
    on the real clock, as the processes do."""
    clock.set(datetime.now(UTC))
    avery = make_specialist(engine_runtime, "avery@example.org", "Avery Admin", role="admin")
    phones = {specialist: JORDAN_PHONE, outsider: CASEY_PHONE, avery: AVERY_PHONE}
    staff_phones(engine_runtime, phones, outsider, clock)
    sam = enrol(engine_runtime, specialist)
    robin = enrol(engine_runtime, specialist, phone=ROBIN_PHONE, name="Robin")
    return sam, robin


def alert_of(runtime, peer_id: int) -> Alert:
    with runtime.session_factory() as session:
        return session.scalars(select(Alert).where(Alert.peer_id == peer_id)).one()


def about(fake, phone: str, name: str) -> list[datetime]:
    """When each staff text about ``name`` reached the fake Twilio."""
    return [m.created for m in fake.sent_to(phone) if name in m.body]


def test_real_planner_and_worker_escalate_until_someone_acks(
    client, engine_runtime, fake_twilio, smtp, fleet, peers, clock
):
    sam, robin = peers
    clock.set(datetime.now(UTC))
    assert "has been told" in text(client, "I want to die")
    assert "has been told" in text(client, "I want to die", from_=ROBIN_PHONE)
    opened = alert_of(engine_runtime, sam).opened_at

    assert wait_for(lambda: len(about(fake_twilio, JORDAN_PHONE, "Robin")) == 1, 15)
    assert wait_for(lambda: len(about(fake_twilio, JORDAN_PHONE, "Sam")) == 1, 15)
    assert wait_for(lambda: len(smtp.to("jordan@example.org")) == 2, 15)
    code = alert_of(engine_runtime, robin).ack_code
    clock.set(datetime.now(UTC))
    assert "is yours" in text(client, f"ACK {code}", from_=JORDAN_PHONE)

    # Sam's chain: the on-call person after one wait, the admin after the next.
    assert wait_for(lambda: len(about(fake_twilio, CASEY_PHONE, "Sam")) == 1, WAIT + 15)
    assert wait_for(lambda: len(about(fake_twilio, AVERY_PHONE, "Sam")) == 1, WAIT + 15)
    (to_casey,) = about(fake_twilio, CASEY_PHONE, "Sam")
    (to_avery,) = about(fake_twilio, AVERY_PHONE, "Sam")
    assert to_casey >= opened + timedelta(seconds=WAIT)
    assert to_avery >= opened + timedelta(seconds=2 * WAIT)
    assert wait_for(lambda: alert_of(engine_runtime, sam).status == ALERT_EXHAUSTED, WAIT + 15)

    # Robin's chain stopped at the ACK; once exhausted, nobody is texted again.
    assert alert_of(engine_runtime, robin).status == ALERT_ACKNOWLEDGED
    assert about(fake_twilio, CASEY_PHONE, "Robin") == []
    assert about(fake_twilio, AVERY_PHONE, "Robin") == []
    staff = (JORDAN_PHONE, CASEY_PHONE, AVERY_PHONE)
    sent = sum(len(fake_twilio.sent_to(phone)) for phone in staff)
    assert not wait_for(lambda: sum(len(fake_twilio.sent_to(p)) for p in staff) > sent, 3)
