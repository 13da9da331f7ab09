"""Delivery status from the provider: forward only, never backwards.

Twilio's callbacks can arrive late, repeated or out of order; a message that
was delivered stays delivered whatever comes after.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import metrics
from service.consent import record_opt_out
from service.flags import open_flag
from service.models import (
    DELIVERED,
    FAILED,
    OPTED_OUT,
    PLANNED,
    SENDING,
    SENT,
    UNDELIVERED,
    AlertNotification,
    OutboundMessage,
    Peer,
)
from service.runtime import Runtime

log = logging.getLogger(__name__)

PROVIDER_STATUS = {
    "accepted": SENT,
    "scheduled": SENT,
    "queued": SENT,
    "sending": SENT,
    "sent": SENT,
    "delivered": DELIVERED,
    "read": DELIVERED,
    "undelivered": UNDELIVERED,
    "failed": FAILED,
}
RANK = {PLANNED: 0, SENDING: 1, SENT: 2, UNDELIVERED: 3, FAILED: 3, DELIVERED: 4}
UNSUBSCRIBED_CODE = "21610"
# The number cannot get texts (invalid, landline, unknown, blocked): the specialist should know.
UNREACHABLE_CODES = {"21211", "21614", "21612", "30003", "30004", "30005", "30006"}


def moves_forward(current: str, new: str) -> bool:
    """True when ``new`` is later in a message's life than ``current``."""
    if current not in RANK:  # skipped, cancelled: final, and never sent
        return False
    return RANK[new] > RANK[current]


def apply_status_callback(runtime: Runtime, provider_id: str, status: str, code: str | None):
    """Record a provider status for the message with this id; ignore unknown ids."""
    new = PROVIDER_STATUS.get(status)
    if new is None:
        return
    with runtime.session_factory() as session, session.begin():
        message = session.scalar(
            select(OutboundMessage)
            .where(OutboundMessage.provider_id == provider_id)
            .with_for_update()
        )
        if message is None:
            if not record_staff_delivery(session, provider_id, new, code):
                log.info("status callback for unknown message id")
            return
        if not moves_forward(message.status, new):
            return
        message.status = new
        if code:
            message.error_code = code[:20]
        if new in (UNDELIVERED, FAILED):
            apply_failure_side_effects(session, message, code, runtime.now())
    if new in (UNDELIVERED, FAILED):
        metrics.count(runtime.redis, "peernudge_delivery_failures", code=code or "none")


def record_staff_delivery(session: Session, provider_id: str, new: str, code: str | None) -> bool:
    """A status for a staff alert text: kept on its notification (forward only)."""
    notification = session.scalar(
        select(AlertNotification).where(AlertNotification.provider_id == provider_id)
    )
    if notification is None:
        return False
    if moves_forward(notification.status, new):
        notification.status = new
        notification.error_code = code[:20] if code else notification.error_code
    return True


def apply_failure_side_effects(
    session: Session, message: OutboundMessage, code: str | None, now: datetime
) -> None:
    """The same consequences whether a code arrives at send time or in a callback."""
    if message.peer_id is None or code is None:
        return
    peer = session.get(Peer, message.peer_id)
    if code == UNSUBSCRIBED_CODE and peer.consent != OPTED_OUT:
        record_opt_out(session, message.to_phone, peer, "provider", now, f"error {code}")
    elif code in UNREACHABLE_CODES:
        open_flag(session, peer.id, "delivery_failure", f"texts to this number fail ({code})", now)
