"""The consent ledger: opt-in and opt-out, with their immediate effects.

Every change is a :class:`ConsentEvent` with its source; an opt-out cancels,
in the same transaction, every text of the peer not yet handed to the provider
(:mod:`service.outbox_rules`), so a job already queued, or a worker that has
claimed a row, sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.flags import open_flag
from service.models import OPTED_IN, OPTED_OUT, ConsentEvent, Peer
from service.outbox_rules import withdraw_for_peer


def record_opt_out(
    session: Session,
    phone: str,
    peer: Peer | None,
    source: str,
    now: datetime,
    detail: str | None = None,
    recorded_by: int | None = None,
    inbound_message_id: int | None = None,
) -> ConsentEvent:
    """Opt a number out (a known peer or not) and cancel what was planned for it.

    ``inbound_message_id``: the peer's text that opted out, which the flag links to.
    A specialist recording it themselves (``recorded_by``) is told no flag: they know."""
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
        peer.consent = OPTED_OUT
        withdraw_for_peer(session, peer, "opted_out", now)
        if recorded_by is None:
            why = f"opted out ({source})"
            open_flag(session, peer.id, "opted_out", why, now, inbound_message_id)
    return event


# How a peer may tell a person they want no more texts (the FCC's "any reasonable
# means"): a specialist records it, and it counts as much as a STOP.
TOLD_BY = {
    "in_person": "in person",
    "phone_call": "on a phone call",
    "email": "by email or letter",
    "someone_else": "through someone they trust",
}


def record_told_opt_out(
    session: Session, peer: Peer, told_by: str, specialist_id: int, now: datetime
) -> ConsentEvent:
    """The peer told a specialist to stop the texts: the same opt-out as a STOP, no text
    back (they did not ask by text), recorded with who heard it and how."""
    if told_by not in TOLD_BY:
        raise ValueError("Say how the peer asked to stop the texts.")
    if peer.consent == OPTED_OUT:
        raise ValueError("This peer has already opted out.")
    return record_opt_out(
        session, peer.phone, peer, "specialist", now, TOLD_BY[told_by], recorded_by=specialist_id
    )


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
