"""The specialist dashboard: caseload and peer pages (server-rendered)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.models import Goal, InboundMessage, OutboundMessage, Peer
from service.phones import national_format
from service.web import runtime

bp = Blueprint("dashboard", __name__)


def visible_peers(session: Session):
    """Peers the signed-in specialist may see: their own, or all for an admin."""
    query = select(Peer).options(selectinload(Peer.goals).selectinload(Goal.schedules))
    if not current_user.is_admin:
        query = query.where(Peer.specialist_id == current_user.id)
    return query


def peer_or_404(session: Session, peer_id: int) -> Peer:
    peer = session.scalar(visible_peers(session).where(Peer.id == peer_id))
    if peer is None:
        abort(404)
    return peer


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
        }
        for m in outbound
    ] + [
        {"direction": "in", "at": m.received_at, "body": m.body, "status": "received",
         "kind": m.intent, "skip_reason": None}
        for m in inbound
    ]  # fmt: skip
    return sorted(items, key=lambda item: item["at"])[-limit:]


@bp.get("/")
@login_required
def caseload():
    with runtime().session_factory() as session:
        peers = session.scalars(visible_peers(session).order_by(Peer.display_name)).all()
        now = runtime().now()
        return render_template(
            "caseload.html", peers=peers, now=now, national_format=national_format
        )


@bp.get("/peers/<int:peer_id>")
@login_required
def peer_page(peer_id: int):
    with runtime().session_factory() as session:
        peer = peer_or_404(session, peer_id)
        return render_template(
            "peer.html",
            peer=peer,
            messages=thread(session, peer),
            now=runtime().now(),
            national_format=national_format,
        )
