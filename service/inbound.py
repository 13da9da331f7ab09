"""Inbound texts, received: store each once under its MessageSid, then hand it on.

This is all the webhook (and the simulator's phones) do with a text: one INSERT,
skipped by the unique MessageSid when the provider retries, committed before
the answer, then a job on the ``inbound`` queue naming the sender. The stored
row is the truth: a worker (``workers/inbound.py``) handles a sender's texts in
the order they arrived, and the planner's reconciler hands on any text whose
job was lost (Redis down, flushed, a worker killed). So a reply wave after a
check-in costs the web process a write each, whatever the conversation does.
A text that may be a crisis (the crisis patterns alone, before any other
reading) gets its job at the front of the queue, ahead of a wave of DONEs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from service.db import insert_skipping_duplicates
from service.models import InboundMessage, Peer
from service.phones import last_four
from service.queueing import enqueue_texts_from
from service.runtime import Runtime
from service.understanding import may_be_crisis

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 20_000
# An unhandled text this old has probably lost its job; handing it on again is harmless.
STALE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class IncomingSms:
    """One inbound text as the webhook or a simulated phone received it. Its body is
    stored without NUL (PostgreSQL text cannot hold one; :func:`store` removes it),
    the webhook strips NUL from the other fields, the dashboard's forms refuse it."""

    provider_id: str
    from_phone: str
    to_phone: str | None
    body: str
    num_media: int = 0
    media: tuple[dict[str, str], ...] = ()
    opt_out_type: str | None = None


def accept_sms(runtime: Runtime, sms: IncomingSms) -> bool:
    """Store a text and hand it to a worker; False when this MessageSid is stored already."""
    stored = store(runtime, sms)
    if stored is None:
        return False
    enqueue_texts_from(runtime, [sms.from_phone], first=may_be_crisis(sms.body))
    log.info("inbound sms %s from %s stored", stored, last_four(sms.from_phone))
    return True


def store(runtime: Runtime, sms: IncomingSms) -> int | None:
    """INSERT the text, committed; its id, or None when the MessageSid was seen before."""
    row = {
        "provider_id": sms.provider_id,
        # Known at once, so the thread shows the text before a worker has handled it.
        "peer_id": select(Peer.id).where(Peer.phone == sms.from_phone).scalar_subquery(),
        "from_phone": sms.from_phone,
        "to_phone": sms.to_phone,
        "body": sms.body.replace("\x00", "")[:MAX_BODY_CHARS],
        "num_media": sms.num_media,
        "media": list(sms.media) or None,
        "opt_out_type": sms.opt_out_type,
        "received_at": runtime.now(),
    }
    with runtime.engine.begin() as connection:
        inserted = insert_skipping_duplicates(
            connection, InboundMessage.__table__, [row], ["provider_id"]
        )
    return inserted[0] if inserted else None


def senders_waiting(
    runtime: Runtime, now: datetime, stale_after: timedelta = STALE_AFTER
) -> list[str]:
    """Senders with a text stored more than ``stale_after`` ago and still not handled."""
    with runtime.session_factory() as session:
        return list(
            session.scalars(
                select(InboundMessage.from_phone)
                .where(
                    InboundMessage.handled_at.is_(None),
                    InboundMessage.received_at <= now - stale_after,
                )
                .distinct()
                .limit(1000)
            )
        )


def requeue_waiting(runtime: Runtime, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """The reconciler's part for inbound texts: hand on those whose job was lost."""
    phones = senders_waiting(runtime, now, stale_after)
    return enqueue_texts_from(runtime, phones) if phones else 0
