"""Replay: every inbound webhook delivered three times, shuffled with status callbacks.

Twilio retries; the effects of each message must happen exactly once.
"""

from __future__ import annotations

import random

from sqlalchemy import func, select

from service.models import (
    DELIVERED,
    CheckIn,
    ConsentEvent,
    InboundMessage,
    OutboundMessage,
)
from tests.conftest import enrol
from tests.inbound_worker import handle_stored
from tests.reliability.scale import report, scaled
from tests.signing import inbound_form, signed_post, status_form
from workers.sender import send_message


def count(runtime, query) -> int:
    with runtime.session_factory() as session:
        return session.scalar(query)


def test_tripled_webhooks_in_random_order_take_effect_once(client, runtime, specialist, clock):
    peers = scaled(30, 300)
    clock.set(clock.current.replace(hour=16))  # noon in New York: inside the window
    phones = [f"+1212555{i:04d}" for i in range(peers)]
    for phone in phones:
        enrol(runtime, specialist, phone=phone)
    with runtime.session_factory() as session:
        welcome_ids = session.scalars(select(OutboundMessage.id)).all()
    for message_id in welcome_ids:
        assert send_message(runtime, message_id) == "sent"
    with runtime.session_factory() as session:
        provider_ids = session.scalars(select(OutboundMessage.provider_id)).all()
    bodies = ["DONE", "3", "had a rough day but still went", "STOP"]
    requests = []
    for i, phone in enumerate(phones):
        form = inbound_form(bodies[i % len(bodies)], sid=f"SM{i:032d}", from_=phone)
        requests += [("/sms/inbound", form)] * 3
    for provider_id in provider_ids:
        for status in ("sent", "delivered"):
            requests += [("/sms/status", status_form(provider_id, status))] * 3
    random.Random(3).shuffle(requests)
    answers: dict[str, set[bytes]] = {}
    for path, form in requests:
        response = signed_post(client, path, form)
        assert response.status_code == 200
        if path == "/sms/inbound":
            answers.setdefault(form["MessageSid"], set()).add(response.get_data())
    handle_stored(runtime)  # the worker's part: each stored text handled once
    stops = sum(1 for i in range(peers) if bodies[i % len(bodies)] == "STOP")
    dones = sum(1 for i in range(peers) if bodies[i % len(bodies)] == "DONE")
    inbound = count(runtime, select(func.count(InboundMessage.id)))
    with_reply = count(
        runtime, select(func.count(InboundMessage.id)).where(InboundMessage.reply_body.is_not(None))
    )
    replies = count(
        runtime, select(func.count(OutboundMessage.id)).where(OutboundMessage.kind != "welcome")
    )
    opt_outs = count(
        runtime, select(func.count(ConsentEvent.id)).where(ConsentEvent.kind == "opt_out")
    )
    check_ins = count(runtime, select(func.count(CheckIn.id)))
    delivered = count(
        runtime, select(func.count(OutboundMessage.id)).where(OutboundMessage.status == DELIVERED)
    )
    report(
        "replay",
        requests=len(requests),
        inbound=inbound,
        replies=replies,
        opt_outs=opt_outs,
        check_ins=check_ins,
        delivered=delivered,
    )
    assert all(len(bodies_seen) == 1 for bodies_seen in answers.values())  # same answer each time
    assert inbound == peers
    assert replies == with_reply
    assert opt_outs == stops
    assert check_ins == dones
    assert delivered == len(provider_ids)
