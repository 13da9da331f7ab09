"""The demo caseload: seeded for the simulator only, never for a real gateway."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from peernudge.cli import prepare_dev
from service.models import Peer, Specialist


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
