"""Scale-out on one machine: 2 web processes, 3 workers and 2 planners, one PostgreSQL, one Redis.

Every process is a real one (gunicorn, ``peernudge worker``, ``peernudge planner``)
on the real clock; Twilio is the fake HTTP server. Every due check-in must reach
the provider exactly once, and every inbound text - posted to both web processes
at once, as a provider retry would - must be handled exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, insert, select
from twilio.request_validator import RequestValidator

from service import db
from service.models import CheckIn, Goal, InboundMessage, OutboundMessage, Peer, Schedule
from service.runtime import build_runtime
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN, make_specialist
from tests.daytime import daytime_zone
from tests.reliability.scale import report, scaled
from tests.test_engine_worker import twilio_env
from tests.test_launcher import wait_for
from tests.twilio_fixtures import FROM_NUMBER

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_env(settings, database_url: str, fake) -> dict[str, str]:
    return twilio_env(settings, fake) | {
        "DATABASE_URL": database_url,
        "SMS_MAX_PER_SECOND": "500",
        "PLANNER_INTERVAL_SECONDS": "1",
        "DB_POOL_SIZE": "3",
    }


class Fleet:
    """The processes of one installation, each in its own process group."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir, self.processes = env, log_dir, []
        self.web_ports: list[int] = []

    def start(self, name: str, command: list[str]) -> None:
        log = (self.log_dir / f"{name}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        self.processes.append(process)

    def web(self) -> None:
        port = free_port()
        self.web_ports.append(port)
        gunicorn = [sys.executable, "-m", "gunicorn", "peernudge.wsgi:app", "--no-control-socket"]
        self.start("web", [*gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1",
                           "--threads", "4"])  # fmt: skip

    def cli(self, name: str) -> None:
        self.start(name, [sys.executable, "-m", "peernudge.cli", name])

    def web_ready(self) -> bool:
        try:
            return all(
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
                for port in self.web_ports
            )
        except requests.RequestException:
            return False

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def seed_peers(runtime, specialist_id: int, count: int, now: datetime) -> list[str]:
    """Peers with one daily check-in each, all due now, in a zone where it is daytime."""
    zone = daytime_zone(now)
    phones = [f"+1212555{i:04d}" for i in range(count)]
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(Peer),
            [
                {"id": 1 + i, "specialist_id": specialist_id, "phone": phone,
                 "display_name": f"P{i}", "timezone": zone, "language": "en",
                 "consent": "opted_in", "encouragement": "off", "created_at": now}
                for i, phone in enumerate(phones)
            ],
        )  # fmt: skip
        conn.execute(
            insert(Goal),
            [
                {"id": 1 + i, "peer_id": 1 + i, "text": "take a walk", "position": 1,
                 "active": True, "created_at": now}
                for i in range(count)
            ],
        )  # fmt: skip
        conn.execute(
            insert(Schedule),
            [
                {"goal_id": 1 + i, "kind": "checkin", "days": "daily", "times": "09:00",
                 "active": True, "next_due_at": now + timedelta(seconds=2), "created_at": now}
                for i in range(count)
            ],
        )  # fmt: skip
    return phones


def post_inbound(port: int, phone: str, sid: str) -> requests.Response:
    form = {
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": phone,
        "To": FROM_NUMBER,
        "Body": "DONE",
        "NumMedia": "0",
    }
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
        f"{PUBLIC_BASE_URL}/sms/inbound", form
    )
    return requests.post(
        f"http://127.0.0.1:{port}/sms/inbound",
        data=form,
        headers={"X-Twilio-Signature": signature},
        timeout=30,
    )


def settled(runtime) -> bool:
    in_flight = OutboundMessage.status.in_(("planned", "sending"))
    return count_rows(runtime, OutboundMessage, in_flight) == 0 and runtime.queue.count == 0


def count_rows(runtime, model, *where) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_two_webs_three_workers_two_planners_send_and_receive_everything_once(
    settings, pg_url, fake_twilio, tmp_path
):
    peers = scaled(60, 1000)
    db.upgrade(pg_url)
    runtime = build_runtime(settings.with_overrides(database_url=pg_url))
    fleet = Fleet(process_env(settings, pg_url, fake_twilio), tmp_path)
    try:
        specialist_id = make_specialist(runtime, "jordan@example.org", "Jordan Rivera")
        phones = seed_peers(runtime, specialist_id, peers, datetime.now(UTC))
        for _ in range(2):
            fleet.web()
        for _ in range(3):
            fleet.cli("worker")  # alerts, inbound texts and nudges
        for _ in range(2):
            fleet.cli("planner")
        assert wait_for(fleet.web_ready, timeout=60), "web processes did not start"

        assert wait_for(lambda: len(fake_twilio.messages) >= peers, timeout=120), (
            f"only {len(fake_twilio.messages)} of {peers} check-ins reached the provider"
        )
        # Each text arrives at both web processes at once, as a provider retry would.
        jobs = [
            (port, phone, f"SM{i:032d}")
            for i, phone in enumerate(phones)
            for port in fleet.web_ports
        ]
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda job: post_inbound(*job), jobs))
        # Nothing may still be on its way before counting: every text handled, every reply sent.
        handled = InboundMessage.handled_at.is_not(None)
        assert wait_for(lambda: count_rows(runtime, InboundMessage, handled) == peers, 60)
        assert wait_for(lambda: settled(runtime), timeout=60)

        per_phone = Counter(message.to for message in fake_twilio.messages)
        report(
            "multiprocess",
            peers=peers,
            provider_messages=len(fake_twilio.messages),
            inbound_posts=len(jobs),
        )
        assert {answer.status_code for answer in answers} == {200}
        assert per_phone == Counter({phone: 2 for phone in phones})  # the check-in, the reply
        checkins = OutboundMessage.kind == "checkin"
        assert (
            count_rows(runtime, OutboundMessage, checkins, OutboundMessage.status == "sent")
            == peers
        )
        assert count_rows(runtime, OutboundMessage, checkins) == peers
        assert count_rows(runtime, OutboundMessage, ~checkins) == peers  # one reply per text
        assert count_rows(runtime, InboundMessage) == peers
        assert count_rows(runtime, CheckIn) == peers
        # Both copies of a duplicated text were answered once, by a worker.
        replies = OutboundMessage.kind == "reply"
        assert (
            count_rows(runtime, OutboundMessage, replies, OutboundMessage.status == "sent") == peers
        )
    finally:
        fleet.stop()
        runtime.close()
