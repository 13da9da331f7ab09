"""Fixtures that run the real twilio client against tests/fake_twilio.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.runtime import Runtime, build_runtime, set_runtime
from tests.fake_twilio import FakeTwilio

FROM_NUMBER = "+15005550006"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def twilio_runtime(app, settings, clock, fake_twilio) -> Iterator[Runtime]:
    """A runtime whose gateway is the official twilio client pointed at the fake.

    It is installed as the process runtime after the app's, so jobs use it.
    """
    runtime = build_runtime(
        settings.with_overrides(
            sms_gateway="twilio",
            twilio_account_sid="AC" + "1" * 32,
            twilio_from_number=FROM_NUMBER,
            twilio_api_base_url=fake_twilio.url,
        )
    )
    runtime.now = clock  # type: ignore[method-assign]
    set_runtime(runtime)
    yield runtime
    set_runtime(None)
    runtime.close()
