"""Handling stored texts: the ``inbound`` queue's job, one sender at a time, in order.

``handle_texts_from(phone)`` handles every unhandled text from that number,
oldest first, each in its own transaction (``service.conversation.handle_next``),
and sends each reply as soon as its transaction commits, before the next text:
so a peer's answers arrive in the order of their texts. Replies are not paced
by the nudges' rate (a TwiML answer never was) and never wait behind nudges:
workers take this queue before the nudges.

A second job for the same sender finds nothing left and returns; a job lost
with Redis is replaced by the reconciler (``service.inbound.requeue_waiting``).
"""

from __future__ import annotations

import logging

from service import metrics
from service.conversation import Handled, handle_next, wait_for_in_flight
from service.gateways import GatewayError
from service.inbound import hand_on
from service.phones import last_four
from service.queueing import enqueue_sends
from service.runtime import Runtime, current_runtime
from workers.sender import send_reply

log = logging.getLogger(__name__)

# Enough for any person; a sender with more unhandled texts gets a fresh job for the rest.
MAX_PER_JOB = 200


def handle_texts_from(phone: str) -> int:
    """RQ job: handle the sender's waiting texts; return how many."""
    return handle_waiting(current_runtime(), phone)


def handle_waiting(runtime: Runtime, phone: str) -> int:
    handled = 0
    while handled < MAX_PER_JOB:
        result = handle_next(runtime, phone)
        if result is None:
            return handled
        handled += 1
        after_commit(runtime, result)
        log.info("inbound sms %s from %s handled", result.inbound_id, last_four(phone))
    hand_on(runtime, [phone])
    return handled


def after_commit(runtime: Runtime, result: Handled) -> None:
    """Queue what the text planned, then send its reply (after STOP: once nothing is
    in flight to the peer, so the confirmation is the last text they get)."""
    enqueue_sends(runtime, result.sends)
    metrics.count(runtime.redis, "peernudge_inbound_messages")
    if result.opted_out and result.peer_id is not None:
        wait_for_in_flight(runtime, result.peer_id)
    if result.reply_id is None:
        return
    try:
        send_reply(runtime, result.reply_id)
    except GatewayError:
        # Planned again by the sender; the nudges queue retries it with backoff.
        enqueue_sends(runtime, [(result.reply_id, runtime.now())])
