"""A peer's details changed after enrolment: name, number, time zone, language, hours,
strengths and reasons.

The same checks as enrolment (:mod:`service.peers`). What a change touches is done in
the same transaction:

- a new **number** is another person's phone until the peer says otherwise: texts not
  yet sent to the old number are cancelled, the consent given for the new one is a new
  consent event (with how it was given), and the welcome text (how to stop, HELP) goes
  to the new number. A number that texted STOP before stays opted out until it texts
  START, as at enrolment. A number another peer has is refused.
- a new **time zone** moves every schedule: each starts again at its next local time,
  and texts planned at the old zone's times are cancelled.
- new **preferred hours** must leave every check-in time inside them (the specialist
  moves a check-in first); encouragement and the summary move inside on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from service.consent import number_opted_out, record_opt_in
from service.models import OPTED_IN, OPTED_OUT, OutboundMessage, Peer, Schedule, Specialist
from service.outbox_rules import REPLY, cancel_unsent
from service.peers import (
    EnrolmentError,
    companion_time,
    flag_missing_crisis_line,
    number_holder,
    plan_welcome,
)
from service.quiet_hours import narrowed_window, within_window
from service.recurrence import next_occurrence, parse_times, recurrence
from service.settings import Settings


@dataclass(frozen=True)
class PeerDetails:
    """What the form gives, already checked field by field (:mod:`service.peers`)."""

    display_name: str
    phone: str  # E.164
    timezone: str
    language: str
    window_start: time | None
    window_end: time | None
    strengths: str | None
    reasons: str | None


def details_of(peer: Peer) -> PeerDetails:
    return PeerDetails(**{field.name: getattr(peer, field.name) for field in fields(PeerDetails)})


def changed_fields(peer: Peer, details: PeerDetails) -> list[str]:
    """The names of the details that differ from the peer's, in the form's order."""
    before = details_of(peer)
    return [
        f.name for f in fields(PeerDetails) if getattr(before, f.name) != getattr(details, f.name)
    ]


def active_schedules(peer: Peer) -> list[Schedule]:
    return [s for goal in peer.goals if goal.active for s in goal.schedules if s.active]


def hours_conflict(
    settings: Settings, peer: Peer, start: time | None, end: time | None
) -> str | None:
    """Why these own hours would leave a check-in outside them (the first one), or None."""
    window = narrowed_window(settings, start, end)
    for goal in (g for g in peer.goals if g.active):
        for schedule in goal.schedules:
            if schedule.kind != "checkin" or not schedule.active:
                continue
            outside = [t for t in parse_times(schedule.times) if not within_window(t, *window)]
            if outside:
                return (
                    f"the check-in at {outside[0].strftime('%H:%M')} for \u201c{goal.text}\u201d "
                    "is outside these hours: change that goal's time first, on the peer page"
                )
    return None


def change_details(
    session: Session,
    settings: Settings,
    specialist: Specialist,
    peer: Peer,
    details: PeerDetails,
    consent_method: str | None,
    now: datetime,
) -> list[str]:
    """Apply the details; return the names of those that changed.

    ``consent_method`` is how the peer agreed to texts at a new number (needed when
    the number changes, EnrolmentError otherwise).
    """
    changed = changed_fields(peer, details)
    if "phone" in changed and not consent_method:
        raise EnrolmentError("the number changed: record the peer's consent for the new number")
    if "phone" in changed:
        number_holder(session, details.phone, specialist)
    conflict = hours_conflict(settings, peer, details.window_start, details.window_end)
    if conflict and {"window_start", "window_end"} & set(changed):
        raise EnrolmentError(conflict)
    old_phone = peer.phone
    for name in changed:
        setattr(peer, name, getattr(details, name))
    if "phone" in changed:
        change_number(session, settings, specialist, peer, old_phone, consent_method or "", now)
    moved = move_companions_inside(settings, peer)
    if "timezone" in changed:
        restart_schedules(session, peer, active_schedules(peer), "timezone_changed", now)
    elif moved:
        restart_schedules(session, peer, moved, "hours_changed", now)
    return changed


def change_number(
    session: Session,
    settings: Settings,
    specialist: Specialist,
    peer: Peer,
    old_phone: str,
    method: str,
    now: datetime,
) -> None:
    """The peer's new number: nothing more to the old one, consent recorded for the new one."""
    to_old = and_(
        OutboundMessage.peer_id == peer.id,
        OutboundMessage.to_phone == old_phone,
        OutboundMessage.kind != REPLY,  # an answer to what that phone wrote (a STOP's) still goes
    )
    cancel_unsent(session, to_old, "number_changed", now)
    session.flush()  # the UNIQUE phone is checked here too, should two changes race
    if number_opted_out(session, peer.phone):
        peer.consent = OPTED_OUT  # this number texted STOP before: that binds until START
    else:
        peer.consent_given_at, peer.consent_method = now, method
        peer.consent_recorded_by = specialist.id
        record_opt_in(session, peer.phone, peer, "number change", now, method, specialist.id)
        welcome_new_number(session, settings, peer, now)
    flag_missing_crisis_line(session, settings, peer, now)


def welcome_new_number(session: Session, settings: Settings, peer: Peer, now: datetime) -> None:
    """The welcome text (who we are, HELP, STOP) to the number that has not had it."""
    for goal in (g for g in peer.goals if g.active):
        schedule = next((s for s in goal.schedules if s.kind == "checkin"), None)
        if schedule is not None and peer.consent == OPTED_IN:
            plan_welcome(session, settings, peer, goal, schedule, now)
            return


def move_companions_inside(settings: Settings, peer: Peer) -> list[Schedule]:
    """Encouragement and the summary move inside the peer's new hours when they fall out;
    return the schedules moved."""
    window = narrowed_window(settings, peer.window_start, peer.window_end)
    moved = []
    for schedule in active_schedules(peer):
        at = parse_times(schedule.times)[0]
        if schedule.kind != "checkin" and not within_window(at, *window):
            schedule.times = companion_time(at, window)
            moved.append(schedule)
    return moved


def restart_schedules(
    session: Session, peer: Peer, schedules: list[Schedule], reason: str, now: datetime
) -> None:
    """Each schedule from its next local time; texts planned for other times are cancelled
    (the planner plans the new ones). One already planned for exactly the new time stays:
    the planner would not plan that occurrence twice."""
    zone = ZoneInfo(peer.timezone)
    for schedule in schedules:
        rule = recurrence(schedule.days, schedule.times)
        upcoming = next_occurrence(rule, zone, now)
        scope = and_(
            OutboundMessage.schedule_id == schedule.id, OutboundMessage.occurrence != upcoming
        )
        cancel_unsent(session, scope, reason, now)
        planned = session.scalar(
            select(OutboundMessage.id).where(
                OutboundMessage.schedule_id == schedule.id, OutboundMessage.occurrence == upcoming
            )
        )
        schedule.next_due_at = next_occurrence(rule, zone, upcoming) if planned else upcoming
