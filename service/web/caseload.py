"""Caseload access: which peers a signed-in specialist may see, and what they did.

A specialist sees their own caseload, an admin every caseload; any other peer
is a 404, as if it did not exist (the JSON API applies the same rule to a
token's owner). Every change a specialist makes is audited in their name.
Shared by the dashboard, the plan forms, the admin pages, the alert pages and
the simulator. The caseload page narrows the same rule with its filters and its
search (:func:`filtered_peers`): they never widen it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, exists, func, select, true
from sqlalchemy.orm import Session, selectinload

from service import alerts
from service.models import (
    OPTED_IN,
    OPTED_OUT,
    AuditEvent,
    CheckIn,
    Flag,
    Goal,
    InboundMessage,
    OutboundMessage,
    Peer,
)
from service.web import runtime

# The caseload page's filters, in the order it lists them.
FILTERS = {
    "all": "All",
    "attention": "Needs attention",
    "mine": "Mine",
    "paused": "Paused",
    "opted_out": "Opted out",
    "discharged": "Discharged",
}
SEARCH_MAX_CHARS = 60  # a peer's name is at most 60 characters
# A search made only of digits and what people type between them is a phone number's end.
PHONE_SEARCH = re.compile(r"[\s().+-]*[0-9][0-9\s().+-]*")


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
    """Inbound and outbound messages of a peer, oldest first; each text the peer sent
    labelled by what it did (``outcome``), not only by how it was read (``kind``)."""
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
    replies = {m.created_at: m.template for m in outbound if m.kind == "reply" and m.template}
    recorded = check_ins_by_text(session, [m.id for m in inbound])
    items = [
        {
            "direction": "out",
            "anchor": None,
            "at": m.sent_at or m.due_at,
            "body": m.body,
            "status": m.status,
            "kind": m.kind,
            "label": m.kind,
            "skip_reason": m.skip_reason,
            "error_code": m.error_code,
        }
        for m in reversed(outbound)  # oldest first, so equal times keep their order
    ] + [
        {
            "direction": "in",
            "anchor": f"message-{m.id}",  # what the caseload's quotes link to
            "at": m.received_at,
            "body": m.body,
            "status": "received",
            "kind": m.intent,
            "label": text_outcome(m, recorded.get(m.id, []), replies.get(m.handled_at)),
            "reading": reading_label(m),
            "skip_reason": None,
            "error_code": None,
        }
        for m in reversed(inbound)
    ]
    return sorted(items, key=lambda item: item["at"])[-limit:]


CHECK_IN_INTENTS = {"done", "not_yet", "rest"}
# A check-in answer that recorded nothing, by the reply it got (its template's kind).
ASKED_INSTEAD = {
    "which_goal": "asked which goal",
    "which_number": "asked: goal or days?",
    "ack": "nothing recorded",
}


def check_ins_by_text(session: Session, inbound_ids: list[int]) -> dict[int, list[str]]:
    """What each text recorded as a check-in ("done: take a walk"), by text id (one query)."""
    found: dict[int, list[str]] = {}
    if not inbound_ids:
        return found
    rows = session.execute(
        select(CheckIn.inbound_message_id, CheckIn.result, Goal.text)
        .join(Goal, Goal.id == CheckIn.goal_id)
        .where(CheckIn.inbound_message_id.in_(inbound_ids))
        .order_by(Goal.position)
    )
    for inbound_id, result, goal in rows:
        found.setdefault(inbound_id, []).append(f"{result.replace('_', ' ')}: {goal}")
    return found


def reading_label(message: InboundMessage) -> str | None:
    """How the text was read, "read as: done (80%, en)"; "not handled yet" until a worker
    has read it; None for a text handled before readings were kept."""
    if message.handled_at is None:
        return "not handled yet"
    if not message.intent:
        return None
    sure = f"{message.confidence:.0%}" if message.confidence is not None else "?"
    words = message.intent.replace("_", " ")
    return f"read as: {words} ({sure}, {message.language or '?'})"


def text_outcome(message: InboundMessage, recorded: list[str], reply: str | None) -> str | None:
    """A peer's text as the conversation labels it: the check-ins it recorded, or what
    was asked instead (an ambiguous DONE is "asked which goal", never "done")."""
    if message.handled_at is None:
        return "not handled yet"
    if recorded:
        return "; ".join(recorded)
    if message.intent in CHECK_IN_INTENTS and reply:
        asked = ASKED_INSTEAD.get(reply.split("/")[1] if reply.count("/") >= 2 else "")
        if asked:
            return asked
    return (message.intent or "").replace("_", " ") or None


@dataclass(frozen=True)
class CaseloadView:
    """What the caseload page shows: one filter, and a search (empty: none)."""

    show: str = "all"
    search: str = ""


def caseload_view(args: Any) -> tuple[CaseloadView, str | None]:
    """The filter and search asked for, and the problem with them (then they are dropped)."""
    show = args.get("show") or "all"
    search = " ".join((args.get("q") or "").split())
    if show not in FILTERS:
        return CaseloadView(), f"There is no filter called {show[:40]!r}: showing everyone."
    if len(search) > SEARCH_MAX_CHARS:
        problem = f"Search for at most {SEARCH_MAX_CHARS} characters: a name or a number's end."
        return CaseloadView(show), problem
    return CaseloadView(show, search), None


def has_open_flag() -> ColumnElement[bool]:
    return exists().where(Flag.peer_id == Peer.id, Flag.resolved_at.is_(None))


def status_is(status: str, now: datetime) -> ColumnElement[bool]:
    """The SQL form of ``Peer.status(now) == status`` for the statuses the page filters."""
    if status == "discharged":
        return Peer.discharged_at.is_not(None)
    enrolled = Peer.discharged_at.is_(None)
    if status == "opted_out":
        return and_(enrolled, Peer.consent == OPTED_OUT)
    return and_(enrolled, Peer.consent == OPTED_IN, Peer.paused_until > now)  # paused


def filter_condition(show: str, now: datetime) -> ColumnElement[bool]:
    if show == "attention":
        return has_open_flag()
    if show == "mine":
        return Peer.specialist_id == current_user.id
    if show in ("paused", "opted_out", "discharged"):
        return status_is(show, now)
    return true()


def search_condition(search: str) -> ColumnElement[bool]:
    """A name containing the words, or a number ending in the digits typed."""
    if PHONE_SEARCH.fullmatch(search):
        digits = re.sub(r"[^0-9]", "", search)
        return Peer.phone.endswith(digits, autoescape=True)
    return Peer.display_name.icontains(search, autoescape=True)


def filtered_peers(view: CaseloadView, now: datetime) -> Select:
    """The visible peers this view selects (an admin's rows also load the specialist)."""
    query = visible_peers().where(filter_condition(view.show, now))
    if view.search:
        query = query.where(search_condition(view.search))
    return query.options(selectinload(Peer.specialist)) if current_user.is_admin else query


def filter_counts(session: Session, now: datetime) -> dict[str, int]:
    """How many visible peers each filter selects, in one query."""
    counted = [func.count(Peer.id).filter(filter_condition(show, now)) for show in FILTERS]
    row = session.execute(
        caseload(current_user.id, current_user.is_admin).with_only_columns(*counted)
    ).one()
    return dict(zip(FILTERS, row, strict=True))


def attention_count(session: Session) -> int:
    """Visible peers with an open flag: the number in the navigation's Caseload link."""
    visible = caseload(current_user.id, current_user.is_admin).with_only_columns(Peer.id)
    return session.scalar(
        select(func.count(func.distinct(Flag.peer_id))).where(
            Flag.resolved_at.is_(None), Flag.peer_id.in_(visible)
        )
    )
