"""Changes a peer makes to their own plan by text: pause, resume, later, time.

Each change cancels what it makes obsolete in the same transaction as the
change itself, so a job already queued finds its row cancelled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import PLANNED, Goal, OutboundMessage, Peer, Schedule
from service.outbox_rules import HOLD_REASON, cancel_unsent, withdraw_for_peer
from service.quiet_hours import allowed_window, allows, check_times, next_opening
from service.recurrence import local_instant, next_occurrence, recurrence
from service.settings import Settings

SNOOZE = timedelta(hours=2)


def checkin_schedules(peer: Peer) -> list[Schedule]:
    return [
        schedule
        for goal in peer.goals
        if goal.active
        for schedule in goal.schedules
        if schedule.active and schedule.kind == "checkin"
    ]


def restart_schedules(session: Session, peer: Peer, now: datetime) -> None:
    """Resume every schedule from its next occurrence after now: no burst of missed ones."""
    zone = ZoneInfo(peer.timezone)
    for goal in peer.goals:
        for schedule in goal.schedules:
            if schedule.active:
                rule = recurrence(schedule.days, schedule.times)
                schedule.next_due_at = next_occurrence(rule, zone, now)


def pause(session: Session, peer: Peer, days: int, now: datetime) -> datetime:
    """Pause automated messages for ``days``, to the end of the peer's local day."""
    zone = ZoneInfo(peer.timezone)
    last_day = (now.astimezone(zone) + timedelta(days=days)).date()
    until = local_instant(last_day, datetime.min.time(), zone)
    peer.paused_until = until
    withdraw_for_peer(session, peer, "paused", now)
    return until


def hold(
    session: Session, peer: Peer, until: datetime, now: datetime, reason: str = HOLD_REASON
) -> datetime:
    """No automated text until ``until``, for ``reason``; a longer hold still running is
    kept (with its reason). Return when the hold ends."""
    if peer.hold_until is None or peer.hold_until <= now or until > peer.hold_until:
        peer.hold_until, peer.hold_reason = until, reason
    withdraw_for_peer(session, peer, reason, now)
    return peer.hold_until


def pause_goal(session: Session, peer: Peer, goal: Goal, days: int, now: datetime) -> datetime:
    """Pause one goal's check-ins for ``days``: its schedules restart after that."""
    zone = ZoneInfo(peer.timezone)
    last_day = (now.astimezone(zone) + timedelta(days=days)).date()
    until = local_instant(last_day, datetime.min.time(), zone)
    schedules = [s for s in goal.schedules if s.active and s.kind == "checkin"]
    for schedule in schedules:
        schedule.next_due_at = next_occurrence(
            recurrence(schedule.days, schedule.times), zone, until
        )
    # What was planned before the pause ends is obsolete, also a row a worker claimed.
    cancel_unsent(session, OutboundMessage.goal_id == goal.id, "paused", now)
    return until


def release_hold(session: Session, peer: Peer, reason: str, now: datetime) -> bool:
    """Lift a hold of this reason (not another one); True when there was one."""
    if peer.hold_reason != reason or peer.hold_until is None:
        return False
    peer.hold_until, peer.hold_reason = None, None
    restart_schedules(session, peer, now)
    return True


def resume(session: Session, peer: Peer, now: datetime) -> None:
    peer.paused_until = None
    restart_schedules(session, peer, now)


def snooze(
    session: Session,
    settings: Settings,
    peer: Peer,
    goal: Goal,
    now: datetime,
    delay: timedelta = SNOOZE,
) -> OutboundMessage | None:
    """Ask about ``goal`` again after ``delay`` (inside the window), once a day; None if
    already done today."""
    zone = ZoneInfo(peer.timezone)
    local = now.astimezone(zone)
    midnight = local_instant(local.date(), datetime.min.time(), zone)
    already = session.scalar(
        select(OutboundMessage.id).where(
            OutboundMessage.peer_id == peer.id,
            OutboundMessage.goal_id == goal.id,
            OutboundMessage.kind == "checkin",
            OutboundMessage.schedule_id.is_(None),
            OutboundMessage.created_at >= midnight,
        )
    )
    if already is not None:
        return None
    due = now + delay
    if not allows(settings, peer, due):
        due = next_opening(settings, peer, now)
    message = OutboundMessage(
        peer_id=peer.id,
        to_phone=peer.phone,
        kind="checkin",
        goal_id=goal.id,
        due_at=due,
        status=PLANNED,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def move_check_ins(
    session: Session, settings: Settings, peer: Peer, value: str, now: datetime
) -> str:
    """Move every check-in time to ``value``; ValueError when outside the allowed hours."""
    new_time = check_times(value, allowed_window(settings, peer))
    zone = ZoneInfo(peer.timezone)
    schedules = checkin_schedules(peer)
    for schedule in schedules:
        schedule.times = new_time
        schedule.next_due_at = next_occurrence(recurrence(schedule.days, new_time), zone, now)
    moved = OutboundMessage.schedule_id.in_([s.id for s in schedules])
    cancel_unsent(session, moved, "time_changed", now)  # planned for the old time
    return new_time


__all__ = ["hold", "pause", "resume", "snooze"]
