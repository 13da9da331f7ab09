"""Discharge from the program, and enrolment again: automated texts stop, history stays.

Discharging a peer stops every automated text at once: what is planned is
cancelled through the one rule (:mod:`service.outbox_rules`, which withholds
automated kinds from a discharged peer), and the schedules plan nothing while
the peer is away (``next_due_at`` cleared, so the planner never even looks at
them). Goals, check-ins, messages and consent stay as they were; a specialist
can still text the peer directly. Enrolling again starts every schedule from
its next occurrence after now, never a burst of missed ones.

Each spell is a :class:`~service.models.Discharge` row (the program report
counts who was enrolled in a past range from them) and each change is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEvent, Discharge, Peer
from service.outbox_rules import withdraw_for_peer
from service.peer_changes import restart_schedules

# Why a peer left; the report counts discharges by these.
REASONS = {
    "completed": "Completed the program",
    "moved": "Moved away or transferred",
    "chose_to_stop": "Chose to stop",
    "lost_contact": "Lost contact",
    "other": "Other",
}


class DischargeError(ValueError):
    """The change cannot be made; the message says why."""


def discharge(session: Session, peer: Peer, reason: str, by: int | None, now: datetime) -> None:
    """Discharge ``peer`` for ``reason`` (a key of REASONS), recorded as done by ``by``."""
    if reason not in REASONS:
        raise DischargeError(f"the reason must be one of {', '.join(REASONS)}")
    if peer.discharged_at is not None:
        raise DischargeError("this peer is already discharged")
    peer.discharged_at, peer.discharge_reason = now, reason
    for goal in peer.goals:
        for schedule in goal.schedules:
            schedule.next_due_at = None
    session.add(Discharge(peer_id=peer.id, discharged_at=now, reason=reason, discharged_by=by))
    withdraw_for_peer(session, peer, "discharged", now)
    audit(session, peer, by, "discharged", now, reason=reason)


def re_enrol(session: Session, peer: Peer, by: int | None, now: datetime) -> None:
    """Enrol a discharged peer again: their schedules start from the next occurrence."""
    if peer.discharged_at is None:
        raise DischargeError("this peer is not discharged")
    spell = session.scalar(
        select(Discharge)
        .where(Discharge.peer_id == peer.id, Discharge.re_enrolled_at.is_(None))
        .order_by(Discharge.discharged_at.desc())
        .limit(1)
    )
    if spell is not None:
        spell.re_enrolled_at, spell.re_enrolled_by = now, by
    reason = peer.discharge_reason
    peer.discharged_at, peer.discharge_reason = None, None
    restart_schedules(session, peer, now)
    audit(session, peer, by, "re-enrolled", now, discharged_for=reason)


def audit(
    session: Session, peer: Peer, by: int | None, action: str, now: datetime, **detail: str | None
) -> None:
    actor = f"specialist:{by}" if by is not None else "system"
    session.add(
        AuditEvent(actor=actor, peer_id=peer.id, action=action, detail=detail, created_at=now)
    )
