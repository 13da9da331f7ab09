"""The reconciler: make the queue agree with the database.

Redis holds only work in flight. A planned row that should have been sent by
now and has no job (Redis was restarted or flushed) is queued again. A row
stuck in ``sending`` after a crash is settled by asking the provider, never by
sending it blindly again: if the provider has it, it was sent; if the provider
has never heard of it, nothing reached the peer and it may be planned again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from service.flags import open_flag
from service.gateways import GatewayError
from service.inbound import requeue_waiting
from service.models import FAILED, PLANNED, SENDING, SENT, SKIPPED, OutboundMessage
from service.queueing import enqueue_sends, in_flight, send_job_id
from service.runtime import Runtime

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
# A planned row this late with no job of its own is treated as lost from the queue.
STALE_AFTER = timedelta(minutes=5)


def reconcile(runtime: Runtime, now: datetime | None = None) -> int:
    """One pass; return how many rows it re-queued or resolved."""
    now = now or runtime.now()
    # Stuck rows first: one planned again is then queued in this same pass.
    settled = resolve_stuck(runtime, now)
    return settled + requeue_planned(runtime, now) + requeue_waiting(runtime, now)


def requeue_planned(runtime: Runtime, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Queue planned rows that are due (or overdue by ``stale_after``) and not in flight."""
    if runtime.queue is None:
        return 0
    with runtime.session_factory() as session:
        rows = session.execute(
            select(OutboundMessage.id, OutboundMessage.due_at)
            .where(OutboundMessage.status == PLANNED, OutboundMessage.due_at <= now - stale_after)
            .order_by(OutboundMessage.due_at)
            .limit(BATCH_SIZE)
        ).all()
    missing = [
        (row.id, row.due_at)
        for row in rows
        if not in_flight(runtime, send_job_id(row.id, row.due_at))
    ]
    return enqueue_sends(runtime, [(row_id, now) for row_id, _ in missing]) and len(missing)


def resolve_stuck(runtime: Runtime, now: datetime) -> int:
    """Settle rows left in ``sending`` past the timeout, from what the provider knows."""
    cutoff = now - timedelta(seconds=runtime.settings.sending_timeout_seconds)
    with runtime.session_factory() as session:
        stuck = session.scalars(
            select(OutboundMessage.id)
            .where(OutboundMessage.status == SENDING, OutboundMessage.claimed_at < cutoff)
            .limit(BATCH_SIZE)
        ).all()
    settled, replanned = 0, []
    for message_id in stuck:
        try:
            outcome = settle(runtime, message_id, now)
        except GatewayError as error:
            log.warning("could not ask the provider about message %s: %s", message_id, error)
            continue
        settled += outcome is not None
        if outcome == PLANNED:
            replanned.append((message_id, now))
    # A fresh job each: the old one died with its worker but may still be marked
    # started in Redis, and requeue_planned would take it for one in flight.
    enqueue_sends(runtime, replanned)
    return settled


def settle(runtime: Runtime, message_id: int, now: datetime) -> str | None:
    """Sent if the provider has it; otherwise planned again only when that is provably safe.
    Return the row's new status (None: nothing to settle).

    A row never handed to the provider (no ``handed_at``) is safe: nothing left.

    The simulator knows for certain what it delivered. Twilio's message list
    can lag behind what it accepted, so "not found there" is no proof the peer
    did not get it: such a row is marked failed ``unconfirmed`` and flagged for
    the specialist, because a nudge must reach a peer at most once.
    """
    with runtime.session_factory() as session, session.begin():
        message = session.get(OutboundMessage, message_id)
        if message is None or message.status != SENDING:
            return None
        gateway = runtime.gateway
        if message.handed_at is None:
            known = None  # claimed, but the worker died before it called the provider
        elif message.provider_id:
            known = gateway.lookup(message.provider_id)
        else:
            known = gateway.find_sent(message.to_phone, message.body or "", message.claimed_at)
        if known is not None:
            message.status, message.provider_id = SENT, known.provider_id
            message.sent_at = message.sent_at or message.claimed_at
            log.info("message %s was sent before a crash; recorded", message_id)
        elif message.handed_at is not None and not gateway.confirms_absence:
            message.status, message.error_code = FAILED, "unconfirmed"
            message.error_message = "a sender crashed mid-send and the provider has no record yet"
            if message.peer_id is not None:
                open_flag(
                    session,
                    message.peer_id,
                    "delivery_failure",
                    "a text may not have been delivered (sender crashed)",
                    now,
                )
            log.warning("message %s unconfirmed after a crash; not re-sent", message_id)
        elif message.due_at >= now - timedelta(minutes=runtime.settings.missed_grace_minutes):
            message.status = PLANNED
            log.info("message %s never reached the provider; planned again", message_id)
        else:
            message.status, message.skip_reason = SKIPPED, "missed_window"
        message.updated_at = now
        return message.status
