"""A reply wave: thousands of distinct signed texts in seconds, nothing lost, each answered once.

Real processes on this pass's database (SQLite or PostgreSQL): two gunicorn web
processes, two ``peernudge worker --replies`` handling the stored texts, the
official twilio client sending the answers to the fake Twilio. Each peer sends
its texts one after another, as a phone does ("3", then "DONE", then "PAUSE");
peers send at the same time as each other. Asserted:

- every POST answered 200 (never a 5xx, never a timeout);
- every text stored once and handled once; none left unhandled;
- each peer gets exactly one answer per text, in the order of its texts
  (mood, then done, then pause), and the effects are those of that order:
  the mood recorded, the check-in done, the peer paused.

CI size: 300 texts from 100 peers; ``PEERNUDGE_RELIABILITY_SCALE=10``: 3,000
texts from 1,000 peers, posted within 30 seconds.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from service.models import CheckIn, InboundMessage, Mood, OutboundMessage, Peer
from service.runtime import build_runtime
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN, make_specialist
from tests.reliability.scale import report, scaled
from tests.reliability.test_multiprocess import Fleet, process_env, seed_peers
from tests.test_launcher import wait_for
from tests.twilio_fixtures import FROM_NUMBER

TEXTS = ("3", "DONE", "PAUSE")  # each peer's texts, in the order it sends them
ANSWERS = ("mood", "done", "pause")  # the reply template each must get, in that order


def post(port: int, phone: str, sid: str, body: str) -> int:
    form = {
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": phone,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
        f"{PUBLIC_BASE_URL}/sms/inbound", form
    )
    try:
        return requests.post(
            f"http://127.0.0.1:{port}/sms/inbound",
            data=form,
            headers={"X-Twilio-Signature": signature},
            timeout=15,  # Twilio's own timeout
        ).status_code
    except requests.RequestException:
        return 0


def count(runtime, model, *where) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_burst_of_replies_is_stored_answered_once_and_in_order_per_peer(
    settings, fake_twilio, tmp_path
):
    peers = scaled(100, 1000)
    runtime = build_runtime(settings)
    fleet = Fleet(process_env(settings, settings.database_url, fake_twilio), tmp_path)
    try:
        specialist_id = make_specialist(runtime, "jordan@example.org", "Jordan Rivera")
        phones = seed_peers(runtime, specialist_id, peers, datetime.now(UTC))
        for _ in range(2):
            fleet.web()
        for _ in range(2):
            fleet.start("replies", [sys.executable, "-m", "peernudge.cli", "worker", "--replies"])
        assert wait_for(fleet.web_ready, timeout=60), "web processes did not start"
        sent_before = {phone: len(fake_twilio.sent_to(phone)) for phone in phones}

        def one_peer(index: int) -> list[int]:
            port = fleet.web_ports[index % len(fleet.web_ports)]
            phone = phones[index]
            return [
                post(port, phone, f"SM{index:016d}{turn:016d}", body)
                for turn, body in enumerate(TEXTS)
            ]

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = [status for peer in pool.map(one_peer, range(peers)) for status in peer]
        posted_in = time.monotonic() - started
        total = peers * len(TEXTS)
        handled = InboundMessage.handled_at.is_not(None)
        assert wait_for(lambda: count(runtime, InboundMessage, handled) == total, 120)
        assert wait_for(
            lambda: count(runtime, OutboundMessage, OutboundMessage.kind == "reply",
                          OutboundMessage.status == "sent") == total, 60,
        )  # fmt: skip
        answered_in = time.monotonic() - started

        report("inbound burst", texts=total, peers=peers, posted_seconds=f"{posted_in:.1f}",
               all_answered_seconds=f"{answered_in:.1f}")  # fmt: skip
        assert statuses == [200] * total
        assert count(runtime, InboundMessage) == total
        with runtime.session_factory() as session:
            replies = session.execute(
                select(OutboundMessage.to_phone, OutboundMessage.template, OutboundMessage.body)
                .where(OutboundMessage.kind == "reply")
                .order_by(OutboundMessage.id)
            ).all()
            answers, bodies = defaultdict(list), defaultdict(list)
            for reply in replies:
                answers[reply.to_phone].append(reply.template.split("/")[1])
                bodies[reply.to_phone].append(reply.body)
            assert answers == {phone: list(ANSWERS) for phone in phones}
            paused = session.scalar(
                select(func.count(Peer.id)).where(Peer.paused_until > datetime.now(UTC))
            )
            assert paused == peers
        assert count(runtime, Mood, Mood.score == 3) == peers
        assert count(runtime, CheckIn, CheckIn.result == "done") == peers
        # At the provider: one answer per text, in the order the texts were sent.
        for phone in phones:
            received = [m.body for m in fake_twilio.sent_to(phone)][sent_before[phone] :]
            assert received == bodies[phone], phone
    finally:
        fleet.stop()
        runtime.close()
