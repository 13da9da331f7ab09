"""The consent ledger: opt-in and opt-out, with their immediate effects.

Every change is a :class:`ConsentEvent` with its source; an opt-out cancels
the peer's planned nudges in the same transaction, so a job already queued
finds its row cancelled and sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from service.models import (
    CANCELLED,
    OPTED_IN,
    OPTED_OUT,
    PLANNED,
    SENDING,
    ConsentEvent,
    OutboundMessage,
    Peer,
)


def cancel_planned(session: Session, peer_id: int, reason: str, now: datetime) -> int:
    """Cancel every message of a peer not yet handed to the provider; return how many.

    That includes rows a worker has claimed but not yet sent: the worker's hand-off
    (``handed_at``) only succeeds on a row still in ``sending``, so they never go.
    """
    not_handed = or_(
        OutboundMessage.status == PLANNED,
        and_(OutboundMessage.status == SENDING, OutboundMessage.handed_at.is_(None)),
    )
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.peer_id == peer_id, not_handed)
        .values(status=CANCELLED, skip_reason=reason, updated_at=now)
    )
    return result.rowcount or 0


def record_opt_out(
    session: Session,
    phone: str,
    peer: Peer | None,
    source: str,
    now: datetime,
    detail: str | None = None,
    recorded_by: int | None = None,
) -> ConsentEvent:
    """Opt a number out (a known peer or not) and cancel what was planned for it."""
    event = ConsentEvent(
        phone=phone,
        peer_id=peer.id if peer else None,
        kind="opt_out",
        source=source,
        detail=detail,
        recorded_by=recorded_by,
        created_at=now,
    )
    session.add(event)
    if peer is not None:
        from service.flags import open_flag

        peer.consent = OPTED_OUT
        cancel_planned(session, peer.id, "opted_out", now)
        open_flag(session, peer.id, "opted_out", f"opted out ({source})", now)
    return event


def record_opt_in(
    session: Session,
    phone: str,
    peer: Peer | None,
    source: str,
    now: datetime,
    detail: str | None = None,
    recorded_by: int | None = None,
) -> ConsentEvent:
    event = ConsentEvent(
        phone=phone,
        peer_id=peer.id if peer else None,
        kind="opt_in",
        source=source,
        detail=detail,
        recorded_by=recorded_by,
        created_at=now,
    )
    session.add(event)
    if peer is not None:
        peer.consent = OPTED_IN
    return event


def number_opted_out(session: Session, phone: str) -> bool:
    """True when the latest consent event for this number is an opt-out."""
    latest = session.scalar(
        select(ConsentEvent.kind)
        .where(ConsentEvent.phone == phone)
        .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id.desc())
        .limit(1)
    )
    return latest == "opt_out"
