"""The demo caseload: seeded for the simulator only, never for a real gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from peernudge.cli import prepare_dev
from service import db
from service.demo import demo_peers, seed_demo
from service.models import OutboundMessage, Peer, Specialist
from workers.sender import send_message


def counts(runtime) -> tuple[int, int]:
    with runtime.session_factory() as session:
        return (
            session.scalar(select(func.count(Specialist.id))),
            session.scalar(select(func.count(Peer.id))),
        )


def test_the_simulator_gets_the_demo_caseload_and_its_login(settings, runtime):
    banner = "\n".join(prepare_dev(settings))
    password = (settings.instance_dir / "demo-password").read_text().strip()
    assert f"Demo login:     demo@peernudge.example / {password}" in banner
    assert counts(runtime) == (1, 3)


@pytest.fixture
def twilio_settings(settings, fake_twilio):
    return settings.with_overrides(
        sms_gateway="twilio",
        twilio_account_sid="AC" + "1" * 32,
        twilio_from_number="+15005550006",
        twilio_api_base_url=fake_twilio.url,
    )


def test_with_twilio_an_empty_database_gets_no_demo_admin(twilio_settings, runtime):
    banner = "\n".join(prepare_dev(twilio_settings))
    assert "Demo login" not in banner and "simulator" not in banner.split("gateway")[1]
    assert counts(runtime) == (0, 0)
    assert not (twilio_settings.instance_dir / "demo-password").exists()


def test_switching_to_twilio_stops_printing_an_old_demo_password(settings, twilio_settings):
    prepare_dev(settings)
    assert (settings.instance_dir / "demo-password").exists()
    assert not any("Demo login" in line for line in prepare_dev(twilio_settings))


def seed_at(runtime, clock, now: datetime) -> list[Peer]:
    clock.set(now)
    with db.transaction(runtime.session_factory) as session:
        assert seed_demo(session, runtime.settings, now)
    with runtime.session_factory() as session:
        return session.scalars(select(Peer).order_by(Peer.id)).all()


def welcomes_sent(runtime) -> list[str]:
    with runtime.session_factory() as session:
        ids = session.scalars(
            select(OutboundMessage.id).where(OutboundMessage.kind == "welcome")
        ).all()
    return [send_message(runtime, welcome) for welcome in ids]


def test_a_demo_started_at_night_in_america_still_welcomes_everyone_at_once(runtime, clock):
    # 03:00 in New York, midnight in Los Angeles: nobody's own hours are open.
    peers = seed_at(runtime, clock, datetime(2026, 6, 15, 7, 0, tzinfo=UTC))
    for peer in peers:
        local = clock.current.astimezone(ZoneInfo(peer.timezone))
        assert 8 <= local.hour < 19, f"{peer.display_name} is at {local:%H:%M} in {peer.timezone}"
    assert welcomes_sent(runtime) == ["sent", "sent", "sent"]


def test_a_demo_started_in_the_american_day_keeps_its_peers_at_home(runtime, clock):
    peers = seed_at(runtime, clock, datetime(2026, 6, 15, 17, 0, tzinfo=UTC))  # 10:00 in LA
    assert [p.timezone for p in peers] == [
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
    ]
    assert welcomes_sent(runtime) == ["sent", "sent", "sent"]


def test_at_every_hour_of_the_day_the_demo_peers_are_in_their_hours(settings):
    for month, hour in ((m, h) for m in (1, 7) for h in range(24)):  # winter and summer time
        now = datetime(2026, month, 15, hour, 30, tzinfo=UTC)
        for enrolment in demo_peers(settings, now):
            local = now.astimezone(ZoneInfo(enrolment.timezone))
            assert 8 <= local.hour < 19, f"{enrolment.name} at {local:%H:%M} ({now:%b %H:%M})"
