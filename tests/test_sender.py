"""Sending one planned message: checked again at send time, classified on failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.gateways import GatewayError
from service.models import (
    FAILED,
    OPTED_OUT,
    PLANNED,
    SENT,
    ConsentEvent,
    Flag,
    OutboundMessage,
    Peer,
)
from tests.conftest import enrol
from tests.twilio_fixtures import FROM_NUMBER
from workers.sender import send_message

PHONE = "+12125550134"


def plan(runtime, peer_id: int, kind: str = "checkin", due=None, **extra) -> int:
    with runtime.session_factory() as session, session.begin():
        goal_id = session.get(Peer, peer_id).goals[0].id
        message = OutboundMessage(
            peer_id=peer_id,
            to_phone=PHONE,
            kind=kind,
            goal_id=goal_id,
            due_at=due or runtime.now(),
            status=PLANNED,
            **extra,
        )
        session.add(message)
        session.flush()
        return message.id


def row(runtime, message_id: int) -> OutboundMessage:
    with runtime.session_factory() as session:
        return session.get(OutboundMessage, message_id)


@pytest.fixture
def sam(twilio_runtime, specialist, clock):
    """Sam, enrolled, at noon New York time (inside the allowed hours)."""
    clock.set(clock.current.replace(hour=16, minute=0))
    return enrol(twilio_runtime, specialist)


def test_a_check_in_goes_out_once_through_twilio_with_callback_and_validity(
    twilio_runtime, fake_twilio, sam
):
    message_id = plan(twilio_runtime, sam)
    assert send_message(twilio_runtime, message_id) == "sent"
    assert send_message(twilio_runtime, message_id) == "not-planned"
    (sent,) = fake_twilio.sent_to(PHONE)
    assert sent.params["From"] == FROM_NUMBER
    assert sent.params["StatusCallback"] == "https://peernudge.example.org/sms/status"
    assert sent.params["ValidityPeriod"] == "3600"
    assert "take a 20 minute walk" in sent.body
    stored = row(twilio_runtime, message_id)
    assert (stored.status, stored.provider_id, stored.segments) == (SENT, sent.sid, 1)


def test_outside_the_allowed_hours_a_check_in_is_skipped(twilio_runtime, fake_twilio, sam, clock):
    clock.set(clock.current.replace(hour=3))  # 23:00 in New York
    message_id = plan(twilio_runtime, sam)
    assert send_message(twilio_runtime, message_id) == "skipped:quiet_hours"
    assert fake_twilio.messages == []


def test_the_peers_own_window_narrows_the_program_window(twilio_runtime, fake_twilio, sam, clock):
    from datetime import time

    with twilio_runtime.session_factory() as session, session.begin():
        session.get(Peer, sam).window_start = time(13, 0)
    message_id = plan(twilio_runtime, sam)  # 12:00 local
    assert send_message(twilio_runtime, message_id) == "skipped:quiet_hours"


def test_a_welcome_outside_the_window_waits_for_the_morning(
    twilio_runtime, fake_twilio, specialist, clock
):
    clock.set(clock.current.replace(hour=3))  # 23:00 in New York
    enrol(twilio_runtime, specialist)
    with twilio_runtime.session_factory() as session:
        welcome_id = session.scalar(
            select(OutboundMessage.id).where(OutboundMessage.kind == "welcome")
        )
    assert send_message(twilio_runtime, welcome_id) == "deferred"
    deferred = row(twilio_runtime, welcome_id)
    assert deferred.status == PLANNED
    assert deferred.due_at == clock.current.replace(hour=12)  # 08:00 EDT the same local day
    clock.set(deferred.due_at)
    assert send_message(twilio_runtime, welcome_id) == "sent"
    assert len(fake_twilio.messages) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"paused_until": "+3d"}, "paused"),
        ({"hold_until": "+1d"}, "crisis_hold"),
        ({"consent": OPTED_OUT}, "not_opted_in"),
    ],
)
def test_pause_hold_and_opt_out_are_checked_at_send_time(
    twilio_runtime, fake_twilio, sam, clock, change, reason
):
    message_id = plan(twilio_runtime, sam)
    with twilio_runtime.session_factory() as session, session.begin():
        peer = session.get(Peer, sam)
        for field, value in change.items():
            setattr(
                peer,
                field,
                clock.current + timedelta(days=int(value[1])) if value.startswith("+") else value,
            )
    assert send_message(twilio_runtime, message_id) == f"skipped:{reason}"
    assert (row(twilio_runtime, message_id).skip_reason, fake_twilio.messages) == (reason, [])


def test_the_daily_cap_counts_automated_messages_only(twilio_runtime, fake_twilio, sam):
    for _ in range(3):
        assert send_message(twilio_runtime, plan(twilio_runtime, sam)) == "sent"
    direct = plan(twilio_runtime, sam, kind="direct", body="Call me when you can - Jordan")
    assert send_message(twilio_runtime, direct) == "sent"
    assert send_message(twilio_runtime, plan(twilio_runtime, sam)) == "skipped:daily_cap"
    assert len(fake_twilio.messages) == 4


def test_a_nudge_far_past_its_time_is_not_sent_late(twilio_runtime, fake_twilio, sam, clock):
    message_id = plan(twilio_runtime, sam, due=clock.current - timedelta(minutes=45))
    assert send_message(twilio_runtime, message_id) == "skipped:missed_window"


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_transient_errors_put_the_row_back_and_raise_for_a_retry(
    twilio_runtime, fake_twilio, sam, status, code
):
    message_id = plan(twilio_runtime, sam)
    fake_twilio.fail_next(status, code)
    with pytest.raises(GatewayError) as error:
        send_message(twilio_runtime, message_id)
    assert error.value.permanent is False
    assert row(twilio_runtime, message_id).status == PLANNED
    assert send_message(twilio_runtime, message_id) == "sent"  # the retry


def test_a_connection_error_is_transient(twilio_runtime, fake_twilio, sam):
    message_id = plan(twilio_runtime, sam)
    fake_twilio.stop()
    with pytest.raises(GatewayError) as error:
        send_message(twilio_runtime, message_id)
    assert error.value.permanent is False
    assert row(twilio_runtime, message_id).status == PLANNED


def test_retries_are_bounded(twilio_runtime, fake_twilio, sam):
    message_id = plan(twilio_runtime, sam)
    fake_twilio.fail_next(503, 20503, times=10)
    outcomes = []
    for _ in range(10):
        try:
            outcomes.append(send_message(twilio_runtime, message_id))
        except GatewayError:
            outcomes.append("retry")
    assert outcomes[:6] == ["retry"] * 5 + ["failed:20503"]
    assert row(twilio_runtime, message_id).status == FAILED


def test_it_handles_21610_by_opting_the_peer_out(twilio_runtime, fake_twilio, sam):
    message_id = plan(twilio_runtime, sam)
    later = plan(twilio_runtime, sam, due=twilio_runtime.now() + timedelta(hours=2))
    fake_twilio.fail_next(400, 21610)
    assert send_message(twilio_runtime, message_id) == "failed:21610"
    assert send_message(twilio_runtime, message_id) == "not-planned"  # never retried
    with twilio_runtime.session_factory() as session:
        assert session.get(Peer, sam).consent == OPTED_OUT
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.kind == "opt_out"))
    assert event.source == "provider"
    assert row(twilio_runtime, later).status == "cancelled"


@pytest.mark.parametrize("code", [21211, 21614, 30006])
def test_invalid_numbers_fail_permanently_with_the_code(twilio_runtime, fake_twilio, sam, code):
    message_id = plan(twilio_runtime, sam)
    fake_twilio.fail_next(400, code)
    assert send_message(twilio_runtime, message_id) == f"failed:{code}"
    stored = row(twilio_runtime, message_id)
    assert (stored.status, stored.error_code) == (FAILED, str(code))
    with twilio_runtime.session_factory() as session:
        assert [f.kind for f in session.scalars(select(Flag))] == ["delivery_failure"]


def test_another_4xx_is_permanent(twilio_runtime, fake_twilio, sam):
    message_id = plan(twilio_runtime, sam)
    fake_twilio.fail_next(400, 21606)
    assert send_message(twilio_runtime, message_id) == "failed:21606"
    assert len(fake_twilio.requests) == 1


def test_a_messaging_service_is_used_when_configured(settings, clock, fake_twilio, specialist):
    from service.runtime import build_runtime

    runtime = build_runtime(
        settings.with_overrides(
            sms_gateway="twilio",
            twilio_account_sid="AC" + "2" * 32,
            twilio_messaging_service_sid="MG" + "3" * 32,
            twilio_api_base_url=fake_twilio.url,
        )
    )
    clock.set(clock.current.replace(hour=16))
    runtime.now = clock  # type: ignore[method-assign]
    peer_id = enrol(runtime, specialist)
    assert send_message(runtime, plan(runtime, peer_id)) == "sent"
    assert fake_twilio.messages[0].params["MessagingServiceSid"] == "MG" + "3" * 32
    assert "From" not in fake_twilio.messages[0].params
    runtime.close()
