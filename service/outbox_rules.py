"""What may still go out for a peer now: the one rule for every planned text.

A reply (the answer to a text the peer, or an unknown number, sent) may go out
unless that number opted out after the reply was written: it answers what the
person wrote, so consent, pause, holds and quiet hours do not apply, but a STOP
handled before its turn to be sent stops it (the STOP's own confirmation is
written with the opt-out, not before it, so it goes).

Any other planned or claimed text may still go out only while

- the peer has opted in (every kind the sender sends: welcome, direct, automated);
- for an automated kind (check-in, encouragement, milestone, summary,
  re-engagement): the peer is not discharged, not paused and not on hold. ``hold_until`` in
  the future holds automated texts whatever put it there (crisis language, an
  unclear opt-out...; the skip reason is the hold's own ``hold_reason``);
- its goal, if it has one, is still on the plan; its schedule, if it has one, is
  still active; and a check-in's goal still has an active check-in schedule
  (a paused goal asks nothing, not even a snoozed check-in).

The rule is one SQL expression, :func:`withheld_reason`, so the same words
decide everywhere: STOP, PAUSE, a discharge, a crisis hold and goal and cadence changes cancel
what it withholds (:func:`withdraw`), the sender skips a claimed row it
withholds, and the sender's hand-off, the last step before the provider is
called, refuses a row it withholds. A change that lands between a worker's claim
and its hand-off therefore still stops the text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from service.models import (
    CANCELLED,
    OPTED_IN,
    PLANNED,
    SENDING,
    ConsentEvent,
    Goal,
    OutboundMessage,
    Peer,
    Schedule,
)

# Kinds the system sends on its own; welcome, direct and reply messages are not "automated".
AUTOMATED_KINDS = ("checkin", "encouragement", "milestone", "summary", "reengagement")
REPLY = "reply"
# The reason of a hold set without one (the hold after crisis language).
HOLD_REASON = "crisis_hold"


def _peer_where(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Peer.id == OutboundMessage.peer_id, *conditions)


def _hold_reason() -> ColumnElement[str]:
    """The hold's own reason (``crisis_hold``, ``opt_out_unclear``...)."""
    reason = select(Peer.hold_reason).where(Peer.id == OutboundMessage.peer_id)
    return func.coalesce(reason.scalar_subquery(), HOLD_REASON)


# A reply's number opted out after the reply was written (built once: it needs no clock).
OPTED_OUT_SINCE_WRITTEN = exists().where(
    ConsentEvent.phone == OutboundMessage.to_phone,
    ConsentEvent.kind == "opt_out",
    ConsentEvent.created_at > OutboundMessage.created_at,
)


def reply_may_still_go_out() -> ColumnElement[bool]:
    """The rule for a row known to be a reply: what :func:`withheld_reason` says of it."""
    return and_(OutboundMessage.kind == REPLY, ~OPTED_OUT_SINCE_WRITTEN)


def withheld_reason(now: datetime) -> ColumnElement[str | None]:
    """Per outbound row, in SQL: NULL when it may still go out now, else the reason."""
    automated = OutboundMessage.kind.in_(AUTOMATED_KINDS)
    goal_on_plan = exists().where(Goal.id == OutboundMessage.goal_id, Goal.active.is_(True))
    schedule_active = exists().where(
        Schedule.id == OutboundMessage.schedule_id, Schedule.active.is_(True)
    )
    goal_asks = exists().where(
        Schedule.goal_id == OutboundMessage.goal_id,
        Schedule.kind == "checkin",
        Schedule.active.is_(True),
    )
    return case(
        (OutboundMessage.kind == REPLY, case((OPTED_OUT_SINCE_WRITTEN, "opted_out"), else_=None)),
        (~_peer_where(Peer.consent == OPTED_IN), "not_opted_in"),
        (and_(automated, _peer_where(Peer.discharged_at.is_not(None))), "discharged"),
        (and_(automated, _peer_where(Peer.paused_until > now)), "paused"),
        (and_(automated, _peer_where(Peer.hold_until > now)), _hold_reason()),
        (and_(OutboundMessage.goal_id.is_not(None), ~goal_on_plan), "goal_removed"),
        (and_(OutboundMessage.schedule_id.is_not(None), ~schedule_active), "schedule_stopped"),
        (and_(OutboundMessage.kind == "checkin", OutboundMessage.goal_id.is_not(None),
              ~goal_asks), "goal_paused"),
        else_=None,
    )  # fmt: skip


def may_still_go_out(now: datetime) -> ColumnElement[bool]:
    """The rule as a condition: true for the outbound rows that may still go out now."""
    return withheld_reason(now).is_(None)


# Not yet handed to the provider: planned, or claimed by a worker that has not called it.
NOT_HANDED = or_(
    OutboundMessage.status == PLANNED,
    and_(OutboundMessage.status == SENDING, OutboundMessage.handed_at.is_(None)),
)


def cancel_unsent(session: Session, scope: Any, reason: str, now: datetime) -> int:
    """Cancel the rows in ``scope`` not yet handed to the provider; return how many.

    Used directly only for texts a change makes obsolete whatever the rule says
    (the old times of a moved schedule); everything else goes through :func:`withdraw`.
    """
    result = session.execute(
        update(OutboundMessage)
        .where(scope, NOT_HANDED)
        .values(status=CANCELLED, skip_reason=reason, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def withdraw(session: Session, scope: Any, reason: str, now: datetime) -> int:
    """Cancel the rows in ``scope`` the rule no longer lets go out; return how many.

    Called in the transaction of the change itself (STOP, PAUSE, hold, goal or
    cadence change), after it is flushed, so the rule sees the new state.
    """
    session.flush()
    return cancel_unsent(session, and_(scope, ~may_still_go_out(now)), reason, now)


def withdraw_for_peer(session: Session, peer: Peer, reason: str, now: datetime) -> int:
    return withdraw(session, OutboundMessage.peer_id == peer.id, reason, now)


def withheld_now(session: Session, message_ids: list[int], now: datetime) -> dict[int, str]:
    """The rows among ``message_ids`` the rule withholds now, with the reason."""
    reason = withheld_reason(now)
    rows = session.execute(
        select(OutboundMessage.id, reason).where(
            OutboundMessage.id.in_(message_ids), reason.is_not(None)
        )
    )
    return {message_id: why for message_id, why in rows}
