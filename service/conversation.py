"""What happens when a peer texts in: store it once, understand it, answer it.

``receive_sms`` is the single inbound code path: the Twilio webhook and the
simulator page both call it. It is idempotent on the provider's message id:
a retried webhook gets the stored reply and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.models import SENT, InboundMessage, OutboundMessage, Peer
from service.phones import last_four
from service.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 20_000


@dataclass(frozen=True)
class IncomingSms:
    provider_id: str
    from_phone: str
    to_phone: str | None
    body: str
    num_media: int = 0
    media: tuple[dict[str, str], ...] = ()
    opt_out_type: str | None = None


def receive_sms(runtime: Runtime, sms: IncomingSms) -> str | None:
    """Store and act on one inbound SMS; return the reply body (None for no reply)."""
    with runtime.session_factory() as session:
        try:
            with session.begin():
                existing = _already_received(session, sms.provider_id)
                if existing is not None:
                    return existing.reply_body
                reply = _handle_new(runtime, session, sms)
        except IntegrityError:
            # The same MessageSid arrived twice at once; the other request won.
            session.rollback()
            existing = _already_received(session, sms.provider_id)
            return existing.reply_body if existing else None
    log.info("inbound sms from %s handled", last_four(sms.from_phone))
    return reply


def _already_received(session: Session, provider_id: str) -> InboundMessage | None:
    return session.scalar(select(InboundMessage).where(InboundMessage.provider_id == provider_id))


def _handle_new(runtime: Runtime, session: Session, sms: IncomingSms) -> str | None:
    peer = session.scalar(select(Peer).where(Peer.phone == sms.from_phone))
    inbound = InboundMessage(
        provider_id=sms.provider_id,
        peer_id=peer.id if peer else None,
        from_phone=sms.from_phone,
        to_phone=sms.to_phone,
        body=sms.body[:MAX_BODY_CHARS],
        num_media=sms.num_media,
        media=list(sms.media) or None,
        received_at=runtime.now(),
        intent="other",
    )
    session.add(inbound)
    session.flush()
    reply = None  # the conversation grammar decides replies (see the conversation issue)
    inbound.reply_body = reply
    if reply is not None:
        record_reply(runtime, session, peer, sms.from_phone, reply, kind="reply")
    return reply


def record_reply(
    runtime: Runtime, session: Session, peer: Peer | None, to_phone: str, body: str, kind: str
) -> OutboundMessage:
    """Store a TwiML reply in the thread: it is delivered by the webhook's answer."""
    message = OutboundMessage(
        peer_id=peer.id if peer else None,
        to_phone=to_phone,
        kind=kind,
        status=SENT,
        body=body,
        due_at=runtime.now(),
        sent_at=runtime.now(),
    )
    session.add(message)
    return message
