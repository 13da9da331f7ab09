"""Urgent alerts: a crisis text reaches a person, escalating until someone takes it.

Through the real signed webhook, the real twilio client against the local fake,
a real SMTP server on loopback, real Redis and RQ, and a clock the test moves.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import func, select

from service import alerts, db
from service.accounts import set_phone
from service.discretion import discretion_problems
from service.metrics import exposition
from service.models import (
    ALERT_ACKNOWLEDGED,
    ALERT_EXHAUSTED,
    ALERT_OPEN,
    ALERT_RESOLVED,
    Alert,
    AlertNotification,
    AuditEvent,
    Flag,
    OnCallShift,
    Specialist,
)
from tests.conftest import PUBLIC_BASE_URL, enrol, make_specialist
from tests.signing import signed_post
from tests.smtp_server import body_of
from tests.test_conversation import text
from workers.alerts import escalate

PEER_PHONE = "+12125550134"
JORDAN_PHONE = "+12125550101"
CASEY_PHONE = "+12125550102"
AVERY_PHONE = "+12125550103"
STRANGER = "+12125550177"
WAIT = 600


@dataclass
class Staff:
    jordan: int  # Sam's specialist
    casey: int  # on call now
    avery: int  # the admin


@pytest.fixture
def settings(settings, smtp):
    """The shared settings, with email going to the loopback SMTP server."""
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)


def give_phone(runtime, specialist_id: int, phone: str) -> None:
    with db.transaction(runtime.session_factory) as session:
        set_phone(session, session.get(Specialist, specialist_id), phone)


@pytest.fixture
def staff(runtime, clock, specialist, outsider) -> Staff:
    """Jordan (Sam's specialist), Casey on call all day, Avery the admin; all with phones."""
    avery = make_specialist(runtime, "avery@example.org", "Avery Admin", role="admin")
    for person, phone in (
        (specialist, JORDAN_PHONE),
        (outsider, CASEY_PHONE),
        (avery, AVERY_PHONE),
    ):
        give_phone(runtime, person, phone)
    with db.transaction(runtime.session_factory) as session:
        session.add(
            OnCallShift(
                specialist_id=outsider,
                starts_at=clock.current - timedelta(hours=1),
                ends_at=clock.current + timedelta(days=2),
            )
        )
    return Staff(specialist, outsider, avery)


@pytest.fixture
def sam(runtime, staff) -> int:
    return enrol(runtime, staff.jordan)


def drain(runtime) -> None:
    """Run every job on the alerts queue, in this process, with a real RQ worker."""
    SimpleWorker([runtime.alert_queue], connection=runtime.redis).work(
        burst=True, with_scheduler=False
    )


def tick(runtime) -> int:
    """The planner's escalation pass, then the worker."""
    created = escalate(runtime)
    drain(runtime)
    return created


def the_alert(runtime) -> Alert:
    with runtime.session_factory() as session:
        return session.scalars(select(Alert).order_by(Alert.id)).all()[-1]


def texts_to(fake_twilio, phone: str) -> list[str]:
    return [message.body for message in fake_twilio.sent_to(phone)]


def wait_and_tick(runtime, clock, seconds: float = WAIT + 1) -> None:
    clock.advance(seconds=seconds)
    tick(runtime)


# --- the first step --------------------------------------------------------------------


def test_a_crisis_text_texts_and_emails_the_specialist_at_once(
    client, twilio_runtime, fake_twilio, smtp, sam
):
    reply = text(client, "I want to die")
    drain(twilio_runtime)
    code = the_alert(twilio_runtime).ack_code
    (sms,) = texts_to(fake_twilio, JORDAN_PHONE)
    assert "urgent" in sms and "Sam" in sms and f"reply ACK {code}" in sms
    assert f"{PUBLIC_BASE_URL}/peers/{sam}" in sms
    (mail,) = smtp.to("jordan@example.org")
    assert "Urgent" in mail["Subject"] and f"/peers/{sam}" in body_of(mail)
    assert "/alerts/ack/" in body_of(mail)
    assert "has been told" in reply
    assert texts_to(fake_twilio, CASEY_PHONE) == [] and texts_to(fake_twilio, AVERY_PHONE) == []


def test_staff_texts_and_emails_never_carry_the_peers_words_or_number(
    client, twilio_runtime, fake_twilio, smtp, sam, clock
):
    text(client, "I want to kill myself tonight, I have the pills from rehab")
    drain(twilio_runtime)
    wait_and_tick(twilio_runtime, clock)
    wait_and_tick(twilio_runtime, clock)
    staff_texts = [m.body for m in fake_twilio.messages if m.to != PEER_PHONE]
    bodies = staff_texts + [body_of(m) for m in smtp.messages]
    assert len(bodies) == 6  # three people, text and email each
    for body in bodies:
        for words in ("kill", "pills", "rehab", "tonight", "5550134", "212-555", "555-0134"):
            assert words not in body.lower()
        assert discretion_problems(body) == []


def test_the_alert_is_recorded_with_every_attempt(client, twilio_runtime, smtp, sam):
    text(client, "I want to die")
    drain(twilio_runtime)
    with twilio_runtime.session_factory() as session:
        alert = session.scalar(select(Alert))
        flag = session.get(Flag, alert.flag_id)
        rows = session.scalars(select(AlertNotification).order_by(AlertNotification.id)).all()
        assert (alert.status, alert.peer_id, flag.kind, flag.urgent) == (
            ALERT_OPEN,
            sam,
            "crisis",
            True,
        )
        assert [(r.round, r.step, r.channel, r.address, r.status) for r in rows] == [
            (1, 1, "sms", JORDAN_PHONE, "sent"),
            (1, 1, "email", "jordan@example.org", "sent"),
        ]
        assert all(r.provider_id and r.sent_at for r in rows)


# --- escalation ------------------------------------------------------------------------


def test_with_no_ack_the_on_call_and_then_the_admins_are_alerted_after_the_waits(
    client, twilio_runtime, fake_twilio, smtp, sam, clock
):
    text(client, "I want to die")
    drain(twilio_runtime)
    wait_and_tick(twilio_runtime, clock, WAIT - 1)
    assert texts_to(fake_twilio, CASEY_PHONE) == []
    wait_and_tick(twilio_runtime, clock, 2)
    assert len(texts_to(fake_twilio, CASEY_PHONE)) == 1
    assert len(smtp.to("casey@example.org")) == 1
    assert texts_to(fake_twilio, AVERY_PHONE) == []
    wait_and_tick(twilio_runtime, clock)
    assert len(texts_to(fake_twilio, AVERY_PHONE)) == 1
    assert len(texts_to(fake_twilio, JORDAN_PHONE)) == 1


def test_the_chain_repeats_the_configured_times_and_then_stops_exhausted(
    client, twilio_runtime, fake_twilio, smtp, sam, clock
):
    text(client, "I want to die")
    drain(twilio_runtime)
    for _ in range(3 * 3 + 3):
        wait_and_tick(twilio_runtime, clock)
    for phone in (JORDAN_PHONE, CASEY_PHONE, AVERY_PHONE):
        assert len(texts_to(fake_twilio, phone)) == 3
    assert the_alert(twilio_runtime).status == ALERT_EXHAUSTED
    with twilio_runtime.session_factory() as session:
        flag = session.scalar(select(Flag))
        assert flag.resolved_at is None  # still on the caseload


def test_a_step_with_nobody_on_call_is_skipped_at_once_and_recorded(
    client, twilio_runtime, fake_twilio, smtp, sam, clock
):
    with db.transaction(twilio_runtime.session_factory) as session:
        for shift in session.scalars(select(OnCallShift)):
            session.delete(shift)
    text(client, "I want to die")
    drain(twilio_runtime)
    wait_and_tick(twilio_runtime, clock)
    assert len(texts_to(fake_twilio, AVERY_PHONE)) == 1  # straight to the admins
    with twilio_runtime.session_factory() as session:
        skipped = session.scalars(
            select(AlertNotification).where(AlertNotification.status == "skipped")
        ).all()
        assert [(s.round, s.step, s.detail) for s in skipped] == [
            (1, 2, "nobody to reach (on call)")
        ]


def test_a_specialist_without_a_phone_is_still_emailed(
    client, twilio_runtime, fake_twilio, smtp, sam, staff
):
    give_phone(twilio_runtime, staff.jordan, "")
    text(client, "I want to die")
    drain(twilio_runtime)
    assert [m.to for m in fake_twilio.messages] == [PEER_PHONE]  # only the crisis answer
    assert len(smtp.to("jordan@example.org")) == 1


# --- acknowledging by text -------------------------------------------------------------


def test_ack_from_the_specialists_phone_stops_the_chain(
    client, twilio_runtime, fake_twilio, smtp, sam, clock, staff
):
    text(client, "I want to die")
    drain(twilio_runtime)
    acked_at = clock.advance(seconds=90)
    reply = text(client, "ACK", from_=JORDAN_PHONE)
    assert "is yours" in reply and "Sam" in reply
    for _ in range(5):
        wait_and_tick(twilio_runtime, clock)
    assert texts_to(fake_twilio, CASEY_PHONE) == [] and texts_to(fake_twilio, AVERY_PHONE) == []
    alert = the_alert(twilio_runtime)
    assert (alert.status, alert.acknowledged_by, alert.acknowledged_via, alert.acknowledged_at) == (
        ALERT_ACKNOWLEDGED,
        staff.jordan,
        "sms",
        acked_at,
    )
    with twilio_runtime.session_factory() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "alert_acknowledged"))
        assert (event.peer_id, event.detail["by"], event.detail["via"]) == (
            sam,
            "Jordan Rivera",
            "sms",
        )
        assert event.created_at == acked_at


def test_ack_from_a_number_that_is_not_staff_does_nothing(
    client, twilio_runtime, fake_twilio, smtp, sam, clock
):
    text(client, "I want to die")
    drain(twilio_runtime)
    code = the_alert(twilio_runtime).ack_code
    assert text(client, f"ACK {code}", from_=STRANGER) == ""
    assert text(client, "ACK", from_=PEER_PHONE) != ""  # the peer's own ACK is just a message
    assert the_alert(twilio_runtime).status == ALERT_OPEN
    wait_and_tick(twilio_runtime, clock)
    assert len(texts_to(fake_twilio, CASEY_PHONE)) == 1


def test_a_staff_number_is_never_treated_as_a_peer(client, twilio_runtime, smtp, sam):
    reply = text(client, "I want to die", from_=JORDAN_PHONE)
    assert "staff line" in reply
    with twilio_runtime.session_factory() as session:
        assert session.scalar(select(func.count(Alert.id))) == 0
        assert session.scalar(select(func.count(Flag.id))) == 0
    assert text(client, "hello?", from_=JORDAN_PHONE) == ""  # explained at most hourly


def test_a_switched_off_specialist_cannot_take_an_alert_by_text(
    client, twilio_runtime, smtp, sam, staff
):
    text(client, "I want to die")
    with db.transaction(twilio_runtime.session_factory) as session:
        session.get(Specialist, staff.avery).is_active = False
    assert text(client, "ACK", from_=AVERY_PHONE) == ""
    assert the_alert(twilio_runtime).status == ALERT_OPEN


def test_ack_with_a_code_takes_that_alert_when_several_are_open(
    client, twilio_runtime, smtp, sam, staff
):
    enrol(twilio_runtime, staff.jordan, phone="+12125550188", name="Robin")
    text(client, "I want to die")
    text(client, "I want to die", from_="+12125550188")
    with twilio_runtime.session_factory() as session:
        sams, robins = session.scalars(select(Alert).order_by(Alert.id)).all()
    reply = text(client, "ack", from_=JORDAN_PHONE)
    assert f"ACK {sams.ack_code} for Sam" in reply and f"ACK {robins.ack_code} for Robin" in reply
    assert "is yours" in text(client, f"ACK {robins.ack_code}", from_=JORDAN_PHONE)
    with twilio_runtime.session_factory() as session:
        assert session.get(Alert, robins.id).status == ALERT_ACKNOWLEDGED
        assert session.get(Alert, sams.id).status == ALERT_OPEN


def test_a_second_acknowledgement_is_told_who_took_it(client, twilio_runtime, smtp, sam):
    text(client, "I want to die")
    code = the_alert(twilio_runtime).ack_code
    text(client, "ACK", from_=JORDAN_PHONE)
    reply = text(client, f"ACK {code}", from_=AVERY_PHONE)
    assert "already taken by Jordan Rivera" in reply
    assert the_alert(twilio_runtime).acknowledged_via == "sms"


def test_two_acknowledgements_at_once_one_wins(client, runtime, smtp, sam, staff):
    text(client, "I want to die")
    alert_id = the_alert(runtime).id
    start, results = threading.Barrier(2), {}

    def take(person: int) -> None:
        start.wait()
        with db.transaction(runtime.session_factory) as session:
            alert = session.get(Alert, alert_id)
            taker = session.get(Specialist, person)
            results[person] = alerts.acknowledge(
                session, runtime, alert, taker, "dashboard", runtime.now()
            )

    threads = [threading.Thread(target=take, args=(p,)) for p in (staff.jordan, staff.avery)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [person for person, result in results.items() if result.won]
    assert len(winners) == 1
    loser = results[({staff.jordan, staff.avery} - set(winners)).pop()]
    assert loser.taker_name == results[winners[0]].taker_name
    assert the_alert(runtime).acknowledged_by == winners[0]


# --- exactly once ----------------------------------------------------------------------


def test_the_tick_run_twice_fires_each_step_once(
    client, twilio_runtime, fake_twilio, smtp, sam, clock
):
    text(client, "I want to die")
    escalate(twilio_runtime)
    escalate(twilio_runtime)
    drain(twilio_runtime)
    for _ in range(3):
        clock.advance(seconds=WAIT + 1)
        escalate(twilio_runtime)
        escalate(twilio_runtime)
        drain(twilio_runtime)
        tick(twilio_runtime)
    assert [len(texts_to(fake_twilio, p)) for p in (JORDAN_PHONE, CASEY_PHONE, AVERY_PHONE)] == [
        2,  # round 1 and round 2
        1,
        1,
    ]
    assert len(smtp.messages) == 4


def test_redis_flushed_mid_chain_each_step_still_fires_exactly_once(
    client, twilio_runtime, fake_twilio, smtp, sam, clock, redis_url
):
    text(client, "I want to die")
    Redis.from_url(redis_url).flushall()  # the first step's job is lost
    tick(twilio_runtime)
    assert len(texts_to(fake_twilio, JORDAN_PHONE)) == 1
    clock.advance(seconds=WAIT + 1)
    escalate(twilio_runtime)
    Redis.from_url(redis_url).flushall()  # and the second's
    tick(twilio_runtime)
    tick(twilio_runtime)
    assert len(texts_to(fake_twilio, CASEY_PHONE)) == 1
    assert len(texts_to(fake_twilio, JORDAN_PHONE)) == 1
    assert len(smtp.messages) == 2


def test_two_workers_sending_the_same_alert_send_each_notification_once(
    client, twilio_runtime, fake_twilio, smtp, sam
):
    from workers.alerts import deliver

    text(client, "I want to die")
    alert_id = the_alert(twilio_runtime).id
    threads = [threading.Thread(target=deliver, args=(twilio_runtime, alert_id)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain(twilio_runtime)
    assert len(texts_to(fake_twilio, JORDAN_PHONE)) == 1 and len(smtp.messages) == 1


# --- after acknowledging ---------------------------------------------------------------


def test_acknowledged_but_unresolved_reminds_the_one_who_took_it_once(
    client, twilio_runtime, fake_twilio, smtp, sam, clock
):
    text(client, "I want to die")
    drain(twilio_runtime)
    text(client, "ACK", from_=AVERY_PHONE)  # an admin may take any alert
    (confirmation,) = texts_to(fake_twilio, AVERY_PHONE)
    assert "is yours" in confirmation
    wait_and_tick(twilio_runtime, clock, 3599)
    assert texts_to(fake_twilio, AVERY_PHONE) == [confirmation]
    wait_and_tick(twilio_runtime, clock, 2)
    wait_and_tick(twilio_runtime, clock, 3601)
    (reminder,) = texts_to(fake_twilio, AVERY_PHONE)[1:]
    assert "still open" in reminder and "Sam" in reminder
    assert len(smtp.to("avery@example.org")) == 1


def test_resolving_the_flag_stops_the_chain(client, twilio_runtime, fake_twilio, smtp, sam, clock):
    text(client, "I want to die")
    drain(twilio_runtime)
    with db.transaction(twilio_runtime.session_factory) as session:
        session.scalar(select(Flag)).resolved_at = clock.current
    wait_and_tick(twilio_runtime, clock)
    assert the_alert(twilio_runtime).status == ALERT_RESOLVED
    assert texts_to(fake_twilio, CASEY_PHONE) == []


def test_an_urgent_flag_raised_elsewhere_gets_its_alert_from_the_tick(
    twilio_runtime, fake_twilio, smtp, sam, clock
):
    with db.transaction(twilio_runtime.session_factory) as session:
        session.add(
            Flag(peer_id=sam, kind="possible_crisis", urgent=True, created_at=clock.current)
        )
    tick(twilio_runtime)
    assert len(texts_to(fake_twilio, JORDAN_PHONE)) == 1


def test_a_kind_the_program_marks_urgent_gets_the_crisis_chain(
    client, twilio_runtime, fake_twilio, smtp, sam, clock, monkeypatch
):
    settings = twilio_runtime.settings.with_overrides(urgent_flag_kinds=("low_mood",))
    monkeypatch.setattr(twilio_runtime, "settings", settings)
    text(client, "1")  # a mood of 1 out of 5
    tick(twilio_runtime)
    with twilio_runtime.session_factory() as session:
        flag = session.scalars(select(Flag).where(Flag.kind == "low_mood")).one()
        assert flag.urgent
        marked = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "flag_marked_urgent")
        ).all()
        assert [event.detail["flag"] for event in marked] == [flag.id]
    assert the_alert(twilio_runtime).flag_id == flag.id
    assert len(texts_to(fake_twilio, JORDAN_PHONE)) == 1
    wait_and_tick(twilio_runtime, clock)
    assert len(texts_to(fake_twilio, CASEY_PHONE)) == 1  # it escalates like a crisis


def test_kinds_the_program_does_not_mark_stay_for_the_digest(
    client, twilio_runtime, fake_twilio, smtp, sam
):
    text(client, "1")
    tick(twilio_runtime)
    with twilio_runtime.session_factory() as session:
        assert session.scalars(select(Flag).where(Flag.kind == "low_mood")).one().urgent is False
        assert session.scalar(select(func.count(Alert.id))) == 0
    assert texts_to(fake_twilio, JORDAN_PHONE) == []


# --- what the peer is told -------------------------------------------------------------


def test_the_crisis_reply_says_a_person_was_told_only_when_one_was(
    client, runtime, sam, staff, clock
):
    with db.transaction(runtime.session_factory) as session:
        for person in session.scalars(select(Specialist)):
            person.is_active = person.id == staff.jordan
            person.role = "specialist"
        for shift in session.scalars(select(OnCallShift)):
            session.delete(shift)
        session.get(Specialist, staff.jordan).is_active = False
    clock.set(clock.current.replace(hour=3))  # 23:00 in New York: Jordan's quiet hours
    reply = text(client, "I want to die")
    assert "told" not in reply
    assert "988" in reply and "Jordan will see your message by 8:00 AM" in reply


def test_the_crisis_reply_in_spanish_is_honest_too(client, runtime, staff):
    enrol(runtime, staff.jordan, phone="+12125550166", name="Marisol", language="es")
    assert "Ya avisamos al equipo de Jordan" in text(client, "quiero morir", from_="+12125550166")


# --- metrics ---------------------------------------------------------------------------


def test_metrics_count_alerts_raised_time_to_acknowledge_and_exhausted(
    client, twilio_runtime, smtp, sam, clock, staff
):
    text(client, "I want to die")
    clock.advance(seconds=200)
    text(client, "ACK", from_=JORDAN_PHONE)
    enrol(twilio_runtime, staff.jordan, phone="+12125550188", name="Robin")
    text(client, "I want to die", from_="+12125550188")
    for _ in range(10):
        wait_and_tick(twilio_runtime, clock)
    page = exposition(twilio_runtime).decode()
    assert 'peernudge_alerts_raised_total{kind="crisis"} 2.0' in page
    assert "peernudge_alerts_exhausted_total 1.0" in page
    assert 'peernudge_alert_time_to_acknowledge_seconds_bucket{le="300.0"} 1.0' in page
    assert 'peernudge_alert_time_to_acknowledge_seconds_bucket{le="120.0"} 0.0' in page


def test_delivery_status_of_a_staff_text_is_kept_on_its_notification(
    client, twilio_runtime, smtp, sam
):
    text(client, "I want to die")
    drain(twilio_runtime)
    with twilio_runtime.session_factory() as session:
        sms = session.scalar(select(AlertNotification).where(AlertNotification.channel == "sms"))
    form = {
        "MessageSid": sms.provider_id,
        "MessageStatus": "delivered",
        "AccountSid": "AC" + "0" * 32,
    }
    assert signed_post(client, "/sms/status", form).status_code == 200
    signed_post(client, "/sms/status", {**form, "MessageStatus": "sent"})  # never backwards
    with twilio_runtime.session_factory() as session:
        assert session.get(AlertNotification, sms.id).status == "delivered"


# --- a real worker process -------------------------------------------------------------


def test_a_real_worker_texts_the_specialist_before_the_nudges_already_queued(
    client, settings, twilio_runtime, fake_twilio, smtp, staff, clock
):
    from datetime import UTC, datetime

    from service.models import PLANNED, OutboundMessage
    from service.queueing import enqueue_sends
    from tests.test_engine_worker import twilio_env
    from tests.test_launcher import wait_for

    clock.set(datetime.now(UTC))  # real processes: the real clock
    sam = enrol(twilio_runtime, staff.jordan)
    with db.transaction(twilio_runtime.session_factory) as session:
        direct = [
            OutboundMessage(peer_id=sam, to_phone=PEER_PHONE, kind="direct", body=f"hello {n}",
                            status=PLANNED, due_at=clock.current - timedelta(seconds=n))
            for n in range(1, 6)
        ]  # fmt: skip
        session.add_all(direct)
        session.flush()
        due = [(message.id, message.due_at) for message in direct]
    enqueue_sends(twilio_runtime, due)  # five nudge jobs wait in the queue...
    text(client, "I want to die")  # ...then the alert's job arrives on its own queue
    answered = len(fake_twilio.messages)  # the crisis answer to the peer, sent at once
    env = twilio_env(settings, fake_twilio) | {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "peernudge.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: len(fake_twilio.messages) == answered + 6), fake_twilio.requests
        assert wait_for(lambda: len(smtp.to("jordan@example.org")) == 1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert fake_twilio.messages[answered].to == JORDAN_PHONE
    assert [m.to for m in fake_twilio.messages[answered + 1 :]] == [PEER_PHONE] * 5
