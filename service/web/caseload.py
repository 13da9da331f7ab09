"""Caseload access: which peers a signed-in specialist may see, and what they did.

A specialist sees their own caseload, an admin every caseload; any other peer
is a 404, as if it did not exist (the JSON API applies the same rule to a
token's owner). Every change a specialist makes is audited in their name.
Shared by the dashboard, the plan forms, the admin pages, the alert pages and
the simulator.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from service import alerts
from service.models import AuditEvent, Goal, InboundMessage, OutboundMessage, Peer
from service.web import runtime


def caseload(specialist_id: int, is_admin: bool) -> Select:
    """Peers this specialist may see: their own, or all for an admin."""
    query = select(Peer)
    return query if is_admin else query.where(Peer.specialist_id == specialist_id)


def visible_peers() -> Select:
    """The signed-in specialist's peers, with their goals and schedules."""
    return caseload(current_user.id, current_user.is_admin).options(
        selectinload(Peer.goals).selectinload(Goal.schedules)
    )


def peer_or_404(session: Session, peer_id: int) -> Peer:
    peer = session.scalar(visible_peers().where(Peer.id == peer_id))
    if peer is None:
        abort(404)
    return peer


def alerted_peer_or_404(session: Session, peer_id: int) -> Peer:
    """The peer page's permission: the caseload's, plus anyone an alert about this peer
    was sent to (the on-call specialist must be able to see whom to call)."""
    peer = session.scalar(visible_peers().where(Peer.id == peer_id))
    if peer is None and alerts.was_alerted_about(session, current_user.id, peer_id):
        peer = session.scalar(
            select(Peer).options(selectinload(Peer.goals)).where(Peer.id == peer_id)
        )
    if peer is None:
        abort(404)
    return peer


def audit(session: Session, action: str, peer_id: int | None, **detail: Any) -> None:
    """Record a change the signed-in specialist made (``peer_id`` None: not about a peer)."""
    session.add(
        AuditEvent(
            actor=f"specialist:{current_user.id}",
            peer_id=peer_id,
            action=action,
            detail=detail or None,
            created_at=runtime().now(),
        )
    )


def thread(session: Session, peer: Peer, limit: int = 200) -> list[dict]:
    """Inbound and outbound messages of a peer, oldest first."""
    outbound = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.peer_id == peer.id)
        .order_by(OutboundMessage.created_at.desc())
        .limit(limit)
    ).all()
    inbound = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.peer_id == peer.id)
        .order_by(InboundMessage.received_at.desc())
        .limit(limit)
    ).all()
    items = [
        {
            "direction": "out",
            "at": m.sent_at or m.due_at,
            "body": m.body,
            "status": m.status,
            "kind": m.kind,
            "skip_reason": m.skip_reason,
            "error_code": m.error_code,
        }
        for m in outbound
    ] + [
        {
            "direction": "in",
            "at": m.received_at,
            "body": m.body,
            "status": "received",
            "kind": m.intent,
            "confidence": m.confidence,
            "language": m.language,
            "skip_reason": None,
            "error_code": None,
        }
        for m in inbound
    ]
    return sorted(items, key=lambda item: item["at"])[-limit:]
