"""STOP race: peers text STOP while their nudges are queued and being sent.

Real workers handle the STOP texts the webhook stored. Zero nudges may reach
the provider after a peer's STOP confirmation (the acknowledgement, sent once
nothing else is in flight to that peer), and each peer gets exactly one.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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


def confirmations(fake) -> dict:
    """Per phone, the opt-out confirmation the provider received (the first if several)."""
    found: dict = {}
    for message in list(fake.messages):
        if "START" in message.body:
            found.setdefault(message.to, message)
    return found


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
    statuses: list[int] = []

    def stop(i: int) -> None:
        phone = f"+1212555{i:04d}"
        response = signed_post(
            client, "/sms/inbound", inbound_form("STOP", sid=f"SM{i:032d}", from_=phone)
        )
        statuses.append(response.status_code)

    try:
        # Let sending begin, so the STOPs land while nudges are in flight.
        assert wait_for(lambda: len(fake_twilio.messages) >= count // 5, 60)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(stop, range(count)))
        # The workers handle the STOPs; each confirmation is the peer's acknowledgement.
        assert wait_for(lambda: len(confirmations(fake_twilio)) == count, 120)
        finish(engine_runtime, worker_settings, fake_twilio, workers)
    finally:
        for worker in workers:
            kill_hard(worker)
    assert statuses == [200] * count
    acknowledged = confirmations(fake_twilio)
    late = [
        m for m in fake_twilio.messages
        if m.created > acknowledged[m.to].created and m is not acknowledged[m.to]
    ]  # fmt: skip
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
    assert all("START" in message.body for message in acknowledged.values())
