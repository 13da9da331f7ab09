"""The reconciler: make the queue agree with the database.

Redis holds only work in flight. A planned row whose job is gone (Redis was
restarted or flushed) is queued again; a row stuck in ``sending`` after a
crash is resolved by asking the provider, never by sending it blindly again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from rq.job import Job
from sqlalchemy import select

from service.models import FAILED, PLANNED, SENDING, SENT, OutboundMessage
from service.runtime import Runtime
from workers.enqueue import enqueue_sends, send_job_id

log = logging.getLogger(__name__)

BATCH_SIZE = 1000


def reconcile(runtime: Runtime, now: datetime | None = None) -> int:
    """One pass; return how many rows it re-queued or resolved."""
    now = now or runtime.now()
    return requeue_planned(runtime, now) + resolve_stuck(runtime, now)


def requeue_planned(runtime: Runtime, now: datetime) -> int:
    """Queue planned rows that are due soon and have no job in Redis."""
    if runtime.queue is None:
        return 0
    horizon = now + timedelta(seconds=runtime.settings.planner_lookahead_seconds)
    with runtime.session_factory() as session:
        rows = session.execute(
            select(OutboundMessage.id, OutboundMessage.due_at)
            .where(OutboundMessage.status == PLANNED, OutboundMessage.due_at <= horizon)
            .order_by(OutboundMessage.due_at)
            .limit(BATCH_SIZE)
        ).all()
    try:
        missing = [
            (row.id, row.due_at)
            for row in rows
            if not Job.exists(send_job_id(row.id), connection=runtime.queue.connection)
        ]
    except RedisError:
        return 0
    return enqueue_sends(runtime, missing)


def resolve_stuck(runtime: Runtime, now: datetime) -> int:
    """Settle rows left in ``sending`` past the timeout, from what the provider knows."""
    cutoff = now - timedelta(seconds=runtime.settings.sending_timeout_seconds)
    with runtime.session_factory() as session, session.begin():
        stuck = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.status == SENDING, OutboundMessage.claimed_at < cutoff)
            .limit(BATCH_SIZE)
        ).all()
        for message in stuck:
            settle(runtime, message)
    return len(stuck)


def settle(runtime: Runtime, message: OutboundMessage) -> None:
    """Sent if the provider has it; otherwise failed with a code a specialist can see."""
    known = runtime.gateway.lookup(message.provider_id) if message.provider_id else None
    if known is not None:
        message.status = SENT
        return
    message.status = FAILED
    message.error_code = "unconfirmed"
    message.error_message = "the sender stopped before the provider confirmed this message"
    log.warning("message %s was left unconfirmed by a crashed sender", message.id)
