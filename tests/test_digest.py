"""The daily digest: once a day at the specialist's chosen time, non-urgent flags only."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from service import db
from service.models import Flag, Specialist, StaffDigest
from tests.smtp_server import body_of
from tests.test_alerts import JORDAN_PHONE, give_phone
from workers.digest import send_digests


@pytest.fixture
def settings(settings, smtp):
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)


def choose_digest(runtime, specialist: int, at: time, channel: str = "email") -> None:
    with db.transaction(runtime.session_factory) as session:
        person = session.get(Specialist, specialist)
        person.digest_time, person.digest_channel = at, channel  # Jordan is in New York


@pytest.fixture
def flagged(runtime, peer, clock) -> int:
    """Sam has a new message, a silence and a crisis (the crisis is an alert, not digest)."""
    with db.transaction(runtime.session_factory) as session:
        for kind, urgent in (("reply", False), ("silence", False), ("crisis", True)):
            session.add(Flag(peer_id=peer, kind=kind, urgent=urgent, created_at=clock.current))
    return peer


def test_the_digest_arrives_once_a_day_at_the_chosen_time(
    runtime, specialist, flagged, clock, smtp
):
    choose_digest(runtime, specialist, time(9, 0))
    clock.set(clock.current.replace(hour=12, minute=59))  # 08:59 in New York
    assert send_digests(runtime) == 0
    clock.advance(minutes=2)
    assert send_digests(runtime) == 1
    assert send_digests(runtime) == 0  # a second planner, or the next minute
    (mail,) = smtp.to("jordan@example.org")
    text = body_of(mail)
    assert "1 new message" in text and "1 silence" in text and "crisis" not in text.lower()
    clock.advance(days=1)
    assert send_digests(runtime) == 1


def test_the_text_digest_has_counts_only(twilio_runtime, fake_twilio, specialist, flagged, clock):
    give_phone(twilio_runtime, specialist, JORDAN_PHONE)
    choose_digest(twilio_runtime, specialist, time(9, 0), channel="sms")
    assert send_digests(twilio_runtime) == 1
    (sms,) = fake_twilio.sent_to(JORDAN_PHONE)
    assert "today: 1 silence, 1 new message. Open" in sms.body
    assert "Sam" not in sms.body and "0134" not in sms.body


def test_with_nothing_open_no_digest_is_sent_and_the_day_is_marked(
    runtime, specialist, peer, clock, smtp
):
    choose_digest(runtime, specialist, time(9, 0))
    assert send_digests(runtime) == 0
    with db.transaction(runtime.session_factory) as session:
        session.add(Flag(peer_id=peer, kind="reply", created_at=clock.current))
    clock.advance(hours=1)
    assert send_digests(runtime) == 0  # today's was due (empty) already
    with runtime.session_factory() as session:
        assert session.scalars(select(StaffDigest.status)).all() == ["empty"]
    assert smtp.messages == []
    clock.advance(days=1)
    assert send_digests(runtime) == 1
