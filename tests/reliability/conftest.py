"""Fixtures shared by the reliability tests."""

import pytest

from service.runtime import build_runtime, set_runtime
from tests.reliability.test_crash_and_redis import twilio_settings


@pytest.fixture
def engine_runtime(settings, fake_twilio, app):
    runtime = build_runtime(twilio_settings(settings, fake_twilio, settings.redis_url))
    set_runtime(runtime)
    yield runtime
    runtime.close()
