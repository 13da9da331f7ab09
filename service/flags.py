"""Warning signs a specialist needs to see early, computed from what happened.

Crisis, reply and delivery-failure flags are raised where they happen (the
conversation and the sender; "no crisis line on file" at enrolment). This module
adds the ones that come from absence: silence (no reply for days while texts
were delivered) and little progress (under 30% done over two weeks).
One open flag per kind per peer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.flag_kinds import KIND_ORDER
from service.models import OPTED_IN, CheckIn, Flag, InboundMessage, OutboundMessage, Peer
from service.runtime import Runtime

SILENCE_DAYS = 5
PROGRESS_DAYS = 14
LOW_PROGRESS = 0.3


def open_flag(
    session: Session,
    peer_id: int,
    kind: str,
    detail: str,
    now: datetime,
    inbound_message_id: int | None = None,
) -> bool:
    """Raise a flag unless one of that kind is already open; True if it raised one."""
    exists = session.scalar(
        select(Flag.id).where(
            Flag.peer_id == peer_id, Flag.kind == kind, Flag.resolved_at.is_(None)
        )
    )
    if exists is not None:
        return False
    session.add(
        Flag(
            peer_id=peer_id,
            kind=kind,
            detail=detail,
            created_at=now,
            inbound_message_id=inbound_message_id,
        )
    )
    return True


def resolve_open(
    session: Session,
    peer_id: int,
    kind: str,
    now: datetime,
    note: str = "resolved by the peer's reply",
) -> list[Flag]:
    """Close the open flag of a kind, when the peer's own answer resolved it; the flags
    closed (for the audit log)."""
    closed = list(
        session.scalars(
            select(Flag).where(
                Flag.peer_id == peer_id, Flag.kind == kind, Flag.resolved_at.is_(None)
            )
        )
    )
    for flag in closed:
        flag.resolved_at = now
        flag.resolution_note = note
    return closed


def silent(session: Session, peer: Peer, now: datetime) -> bool:
    """Texts were delivered over the last SILENCE_DAYS days and the peer sent nothing."""
    since = now - timedelta(days=SILENCE_DAYS)
    if peer.created_at and peer.created_at > since:
        return False
    replied = session.scalar(
        select(func.count(InboundMessage.id)).where(
            InboundMessage.peer_id == peer.id, InboundMessage.received_at >= since
        )
    )
    delivered = session.scalar(
        select(func.count(OutboundMessage.id)).where(
            OutboundMessage.peer_id == peer.id,
            OutboundMessage.status.in_(("sent", "delivered")),
            OutboundMessage.kind != "reply",
            OutboundMessage.sent_at >= since,
        )
    )
    return not replied and delivered >= 2


def done_share(session: Session, peer: Peer, now: datetime) -> float | None:
    """Share of answered check-ins that were done over the last two weeks (None: too few)."""
    since = (now - timedelta(days=PROGRESS_DAYS)).date()
    results = session.scalars(
        select(CheckIn.result).where(CheckIn.peer_id == peer.id, CheckIn.local_date >= since)
    ).all()
    counted = [r for r in results if r != "rest"]
    asked = session.scalar(
        select(func.count(OutboundMessage.id)).where(
            OutboundMessage.peer_id == peer.id,
            OutboundMessage.kind == "checkin",
            OutboundMessage.status.in_(("sent", "delivered")),
            OutboundMessage.sent_at >= now - timedelta(days=PROGRESS_DAYS),
        )
    )
    if asked < 7:
        return None
    return sum(1 for r in counted if r == "done") / max(asked, len(counted))


def plan_reengagement(session: Session, peer: Peer, now: datetime) -> None:
    """One gentle, no-pressure text per silence (the sender waits for the peer's hours)."""
    session.add(
        OutboundMessage(
            peer_id=peer.id,
            to_phone=peer.phone,
            kind="reengagement",
            due_at=now,
            status="planned",
            created_at=now,
        )
    )


def refresh_flags(runtime: Runtime, now: datetime | None = None) -> int:
    """Raise silence and little-progress flags; return how many were raised."""
    now = now or runtime.now()
    raised = 0
    with runtime.session_factory() as session, session.begin():
        for peer in session.scalars(select(Peer).where(Peer.consent == OPTED_IN)):
            if peer.status(now) != "active":
                continue
            if silent(session, peer, now) and open_flag(
                session, peer.id, "silence", f"no reply in {SILENCE_DAYS} days", now
            ):
                raised += 1
                plan_reengagement(session, peer, now)
            share = done_share(session, peer, now)
            if share is not None and share < LOW_PROGRESS:
                raised += open_flag(
                    session,
                    peer.id,
                    "low_progress",
                    f"{share:.0%} done over {PROGRESS_DAYS} days",
                    now,
                )
    return raised


def attention_key(flags: list[Flag]) -> tuple[int, int]:
    """Sort key for the caseload: urgent first, then by the most pressing open flag."""
    if not flags:
        return (2, len(KIND_ORDER))
    urgent = any(f.urgent for f in flags)
    best = min(KIND_ORDER.index(f.kind) if f.kind in KIND_ORDER else len(KIND_ORDER) for f in flags)
    return (0 if urgent else 1, best)
