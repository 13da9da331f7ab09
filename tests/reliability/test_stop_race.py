"""STOP race: peers text STOP while their nudges are queued and being sent.

Zero nudges may reach the provider after the STOP was acknowledged, and each
peer gets exactly one confirmation.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from xml.etree import ElementTree

from sqlalchemy import func, select

from service.models import OutboundMessage
from service.queueing import enqueue_sends
from tests.reliability.scale import report, scaled
from tests.reliability.test_crash_and_redis import (
    finish,
    plan_nudges,
    twilio_settings,
)
from tests.signing import inbound_form, signed_post
from tests.test_engine_worker import kill_hard, start_worker
from tests.test_launcher import wait_for


def test_nothing_reaches_a_peer_after_stop_is_acknowledged(
    settings, engine_runtime, fake_twilio, specialist, client
):
    count = scaled(50, 500)
    fake_twilio.latency = 0.1
    enqueue_sends(engine_runtime, plan_nudges(engine_runtime, specialist, count))
    # A slow sender (20 texts a second) keeps nudges queued and in flight while STOPs arrive.
    worker_settings = twilio_settings(settings, fake_twilio, settings.redis_url).with_overrides(
        sms_max_per_second=20.0
    )
    workers = [start_worker(worker_settings, fake_twilio) for _ in range(2)]
    acknowledged: dict[str, datetime] = {}
    confirmations: dict[str, str] = {}

    def stop(i: int) -> None:
        phone = f"+1212555{i:04d}"
        response = signed_post(
            client, "/sms/inbound", inbound_form("STOP", sid=f"SM{i:032d}", from_=phone)
        )
        assert response.status_code == 200, response.get_data()
        message = ElementTree.fromstring(response.get_data()).find("Message")
        acknowledged[phone] = datetime.now(UTC)
        confirmations[phone] = message.text if message is not None else ""

    try:
        # Let sending begin, so the STOPs land while nudges are in flight.
        assert wait_for(lambda: len(fake_twilio.messages) >= count // 5, 60)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(stop, range(count)))
        finish(engine_runtime, worker_settings, fake_twilio, workers)
    finally:
        for worker in workers:
            kill_hard(worker)
    late = [m for m in fake_twilio.messages if m.created > acknowledged[m.to]]
    with engine_runtime.session_factory() as session:
        replies = session.scalar(
            select(func.count(OutboundMessage.id)).where(
                OutboundMessage.template.like("%/opt_out/%")
            )
        )
    sent_before = len(fake_twilio.messages)
    report(
        "stop_race",
        peers=count,
        nudges_sent_before_stop=sent_before,
        after_ack=len(late),
        confirmations=replies,
    )
    assert late == []
    assert replies == count
    assert all("START" in text for text in confirmations.values())
