"""``send_nudge``: send one planned message, at most once.

The row is claimed atomically (``planned -> sending``), so two jobs for the
same row cannot both send. Everything that could have changed since the row
was planned is checked again at send time: consent, pause, crisis hold, the
allowed window, the daily cap. A skipped message records why.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.consent import record_opt_out
from service.gateways import GatewayError
from service.messages import render_message
from service.models import (
    FAILED,
    OPTED_IN,
    PLANNED,
    SENDING,
    SENT,
    SKIPPED,
    Goal,
    OutboundMessage,
    Peer,
)
from service.peers import allowed_window
from service.phones import last_four
from service.recurrence import local_instant, within_window
from service.runtime import Runtime, current_runtime

log = logging.getLogger(__name__)

# Kinds the system sends on its own; a person-sent or reply message is not "automated".
AUTOMATED = {"checkin", "encouragement", "milestone", "summary", "reengagement", "later"}
# Sent when the window opens instead of being skipped.
DEFERRED_KINDS = {"welcome"}
COUNTED_STATUSES = ("sending", "sent", "delivered", "undelivered")
UNSUBSCRIBED = "21610"


def send_nudge(message_id: int) -> str:
    """RQ job: send one outbound message by id; return what happened."""
    return send_message(current_runtime(), message_id)


def send_message(runtime: Runtime, message_id: int) -> str:
    now = runtime.now()
    if not claim(runtime, message_id, now):
        return "not-planned"
    with runtime.session_factory() as session, session.begin():
        message = session.get(OutboundMessage, message_id)
        peer = session.get(Peer, message.peer_id) if message.peer_id else None
        verdict = check_before_send(runtime, session, message, peer, now)
        if verdict is not None:
            return verdict
        prepare_body(runtime, session, message, peer)
        to, body = message.to_phone, message.body
    return deliver(runtime, message_id, to, body or "")


def claim(runtime: Runtime, message_id: int, now: datetime) -> bool:
    """planned -> sending, atomically; False when someone else has it or it is done."""
    with runtime.session_factory() as session, session.begin():
        result = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.status == PLANNED)
            .values(
                status=SENDING,
                claimed_at=now,
                attempts=OutboundMessage.attempts + 1,
                updated_at=now,
            )
        )
        return result.rowcount == 1


def skip(message: OutboundMessage, reason: str, now: datetime) -> str:
    message.status = SKIPPED
    message.skip_reason = reason
    message.updated_at = now
    return f"skipped:{reason}"


def check_before_send(
    runtime: Runtime, session: Session, message: OutboundMessage, peer: Peer | None, now: datetime
) -> str | None:
    """None when the message may go now; otherwise the outcome it was given."""
    if peer is None or peer.consent != OPTED_IN:
        return skip(message, "not_opted_in", now)
    if message.kind not in AUTOMATED and message.kind not in DEFERRED_KINDS:
        return None
    if message.kind in AUTOMATED and peer.paused_until and peer.paused_until > now:
        return skip(message, "paused", now)
    # After crisis language, no automated text for a day: a cheerful check-in would be wrong.
    if message.kind in AUTOMATED and peer.hold_until and peer.hold_until > now:
        return skip(message, "crisis_hold", now)
    window = allowed_window(runtime.settings, peer)
    local = now.astimezone(ZoneInfo(peer.timezone))
    if not within_window(local.time(), *window):
        if message.kind in DEFERRED_KINDS:
            return defer_to_window(message, local, window[0], now)
        return skip(message, "quiet_hours", now)
    if (
        message.kind in AUTOMATED
        and sent_today(session, peer, local) >= runtime.settings.daily_message_cap
    ):
        return skip(message, "daily_cap", now)
    return None


def defer_to_window(message: OutboundMessage, local: datetime, opens, now: datetime) -> str:
    """Put a message back as planned for when the peer's window next opens."""
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    message.status = PLANNED
    message.due_at = local_instant(day, opens, local.tzinfo)  # type: ignore[arg-type]
    message.updated_at = now
    return "deferred"


def sent_today(session: Session, peer: Peer, local: datetime) -> int:
    """Automated messages sent (or being sent) to the peer since local midnight."""
    midnight = local_instant(local.date(), datetime.min.time(), local.tzinfo)  # type: ignore[arg-type]
    return (
        session.scalar(
            select(func.count(OutboundMessage.id)).where(
                OutboundMessage.peer_id == peer.id,
                OutboundMessage.kind.in_(AUTOMATED),
                OutboundMessage.status.in_(COUNTED_STATUSES),
                OutboundMessage.claimed_at >= midnight,
            )
        )
        - 1
    )  # this message is already counted as sending


def prepare_body(
    runtime: Runtime, session: Session, message: OutboundMessage, peer: Peer | None
) -> None:
    """Render the body now, if it was not fixed when the message was planned."""
    if message.body:
        return
    goal = session.get(Goal, message.goal_id) if message.goal_id else None
    rendered = render_message(
        session, message.kind, peer, runtime.settings.program_name, goal=goal.text if goal else ""
    )
    message.body = rendered.body
    message.template = rendered.template
    message.segments = rendered.segments
    message.encoding = rendered.encoding


def deliver(runtime: Runtime, message_id: int, to: str, body: str) -> str:
    """Hand the message to the gateway and record the outcome."""
    callback = f"{runtime.settings.public_base_url}/sms/status"
    try:
        provider_id = runtime.gateway.send_sms(to, body, callback)
    except GatewayError as error:
        return record_failure(runtime, message_id, error)
    with runtime.session_factory() as session, session.begin():
        message = session.get(OutboundMessage, message_id)
        message.status = SENT
        message.provider_id = provider_id
        message.sent_at = runtime.now()
    log.info("message %s sent to %s", message_id, last_four(to))
    return "sent"


def record_failure(runtime: Runtime, message_id: int, error: GatewayError) -> str:
    """Permanent: mark failed (21610 also opts the peer out). Transient: retry later."""
    now = runtime.now()
    with runtime.session_factory() as session, session.begin():
        message = session.get(OutboundMessage, message_id)
        message.error_code = error.code
        message.error_message = str(error)[:255]
        if not error.permanent:
            message.status = PLANNED  # the job's retry (or the reconciler) sends it again
        else:
            message.status = FAILED
            if error.code == UNSUBSCRIBED and message.peer_id:
                peer = session.get(Peer, message.peer_id)
                record_opt_out(session, message.to_phone, peer, "provider", now, error.code)
    log.warning("message %s failed: %s", message_id, error)
    if not error.permanent:
        raise error
    return f"failed:{error.code}"
