"""The real worker process against the fake Twilio: on time, once, and once after SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from service.models import SENDING, SENT, OutboundMessage, Schedule
from service.queueing import enqueue_planned_for_peer
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN, enrol
from tests.daytime import daytime_zone
from tests.test_launcher import wait_for
from tests.twilio_fixtures import FROM_NUMBER
from workers.planner import plan_due
from workers.reconciler import reconcile

PHONE = "+12125550134"


def twilio_env(settings, fake) -> dict[str, str]:
    """The environment of a real process of this installation, sending to the fake Twilio."""
    return {
        **os.environ,
        "INSTANCE_DIR": str(settings.instance_dir),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEY": settings.secret_key,
        "SMS_GATEWAY": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake.url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SMS_MAX_PER_SECOND": str(settings.sms_max_per_second),
    }


def start_worker(settings, fake) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "peernudge.cli", "worker"],
        env=twilio_env(settings, fake),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse: nothing gets to clean up."""
    for pid in [process.pid, *children(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def kill_while_held(worker_settings, fake_twilio, accepted: bool) -> None:
    """Start a worker, and SIGKILL it (and its work horse) while the fake Twilio holds
    its request open; ``accepted`` says whether Twilio took the text."""
    fake_twilio.hold_next(accept=accepted)
    worker = start_worker(worker_settings, fake_twilio)
    try:
        assert fake_twilio.held.wait(60), "the worker never called the fake Twilio"
        kill_hard(worker)  # the worker and its work horse, mid-request
    finally:
        fake_twilio.release()
        kill_hard(worker)


@pytest.fixture
def now_clock(clock):
    """This test runs real processes, so the clock is the real one (at a 'noon' peer)."""
    clock.set(datetime.now(UTC))
    return clock


@pytest.fixture
def sam(twilio_runtime, specialist, now_clock):
    return enrol(twilio_runtime, specialist, tz=daytime_zone(now_clock.current))


def test_a_due_nudge_reaches_twilio_exactly_once_with_a_status_callback(
    settings, twilio_runtime, fake_twilio, sam, now_clock
):
    with twilio_runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(next_due_at=now_clock.current))
    enqueue_planned_for_peer(twilio_runtime, sam)
    plan_due(twilio_runtime, now_clock.current)
    worker = start_worker(settings, fake_twilio)
    try:
        assert wait_for(lambda: len(fake_twilio.sent_to(PHONE)) == 2), fake_twilio.requests
        time.sleep(1.5)  # anything more would be a duplicate
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    sent = fake_twilio.sent_to(PHONE)
    assert len(sent) == 2
    assert {m.params["StatusCallback"] for m in sent} == {f"{PUBLIC_BASE_URL}/sms/status"}


def test_a_worker_killed_mid_send_does_not_send_twice(
    settings, twilio_runtime, fake_twilio, sam, now_clock
):
    fake_twilio.latency = 3.0  # Twilio accepts, then the answer is slow: the kill lands here
    with twilio_runtime.session_factory() as session, session.begin():
        session.execute(update(OutboundMessage).values(status="cancelled"))  # just the check-in
        session.execute(update(Schedule).values(next_due_at=now_clock.current))
    plan_due(twilio_runtime, now_clock.current)
    worker = start_worker(settings, fake_twilio)
    try:
        assert wait_for(lambda: len(fake_twilio.sent_to(PHONE)) == 1)
    finally:
        kill_hard(worker)
    with twilio_runtime.session_factory() as session:
        (row,) = session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "checkin")
        ).all()
    assert row.status == SENDING and row.provider_id is None  # the crash left it mid-send
    fake_twilio.latency = 0
    now_clock.advance(minutes=6)
    reconcile(twilio_runtime)
    with twilio_runtime.session_factory() as session:
        settled = session.get(OutboundMessage, row.id)
    assert (settled.status, settled.provider_id) == (SENT, fake_twilio.sent_to(PHONE)[0].sid)
    again = start_worker(settings, fake_twilio)
    try:
        time.sleep(2)
    finally:
        again.terminate()
        again.wait(timeout=30)
    assert len(fake_twilio.sent_to(PHONE)) == 1
    assert timedelta(0) <= now_clock.current - settled.claimed_at
