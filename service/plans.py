"""Changes a specialist makes to a peer's plan with them: goals, check-in times, cadence.

Every change that makes planned texts obsolete cancels them in the same
transaction, also those a worker has claimed but not yet handed to the provider:
a goal paused or removed and a cadence switched off withdraw what the one rule
(:mod:`service.outbox_rules`) no longer lets go out; new days or times cancel
what was planned for the old ones. Times are
checked against the hours texts may go to this peer (the program's window,
narrowed by the peer's own), with a message saying why when they do not fit.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.messages import RenderedMessage, base_context, render_message, render_template
from service.models import OPTED_IN, PLANNED, Goal, OutboundMessage, Peer, Schedule
from service.outbox_rules import cancel_unsent, withdraw
from service.peers import ENCOURAGEMENT_TIME, SUMMARY_TIME, add_schedule, companion_time
from service.quiet_hours import allowed_window, check_times
from service.recurrence import (
    WEEKDAYS,
    ScheduleError,
    next_occurrence,
    parse_days,
    parse_times,
    recurrence,
    schedule_shape,
)
from service.settings import Settings

MAX_GOAL_CHARS = 160
MAX_GOALS = 5
CADENCES = ("off", "daily", "weekdays", "1x-week", "2x-week", "3x-week")
SUMMARY_DAYS = (*WEEKDAYS, "off")
COMPANION_TIMES = {"encouragement": ENCOURAGEMENT_TIME, "summary": SUMMARY_TIME}


class PlanError(ValueError):
    """A change that cannot be made; the message says why, for the specialist."""


def goal_text(raw: str) -> str:
    text = " ".join((raw or "").split())
    if not text:
        raise PlanError("write the goal, in the peer's words")
    if len(text) > MAX_GOAL_CHARS:
        raise PlanError(f"a goal of at most {MAX_GOAL_CHARS} characters, in the peer's words")
    return text


def withdraw_for_goal(session: Session, goal: Goal, reason: str, now: datetime) -> int:
    """Cancel the texts of one goal that may no longer go out (the goal paused or removed)."""
    return withdraw(session, OutboundMessage.goal_id == goal.id, reason, now)


def add_goal(
    session: Session,
    settings: Settings,
    peer: Peer,
    text: str,
    days: str,
    times: str,
    now: datetime,
) -> Goal:
    """A new goal with its own check-in schedule."""
    active = [goal for goal in peer.goals if goal.active]
    if len(active) >= MAX_GOALS:
        raise PlanError(f"a peer can work on at most {MAX_GOALS} goals at a time")
    position = (
        session.scalar(select(func.max(Goal.position)).where(Goal.peer_id == peer.id)) or 0
    ) + 1
    goal = Goal(peer=peer, text=goal_text(text), position=position, created_at=now)
    session.add(goal)
    try:
        add_schedule(session, goal, days, times, peer.timezone, now, allowed_window(settings, peer))
    except (ScheduleError, ValueError) as error:
        raise PlanError(str(error)) from None
    return goal


def checkin_schedule(goal: Goal) -> Schedule | None:
    return next((s for s in goal.schedules if s.kind == "checkin"), None)


def schedule_fields(goal: Goal) -> tuple[str, str]:
    """The check-in days and times, for the audit log and the form."""
    schedule = checkin_schedule(goal)
    return (schedule.days, schedule.times) if schedule else ("", "")


def change_goal(
    session: Session,
    settings: Settings,
    goal: Goal,
    text: str,
    days: str,
    times: str,
    now: datetime,
) -> bool:
    """New words and/or new check-in days and times; True when the schedule changed."""
    goal.text = goal_text(text)
    schedule = checkin_schedule(goal)
    try:
        normal_days, _ = parse_days(days)
        normal_times = check_times(times, allowed_window(settings, goal.peer))
    except (ScheduleError, ValueError) as error:
        raise PlanError(str(error)) from None
    if schedule is None:
        add_schedule(
            session,
            goal,
            normal_days,
            normal_times,
            goal.peer.timezone,
            now,
            allowed_window(settings, goal.peer),
        )
        return True
    if (schedule.days, schedule.times) == (normal_days, normal_times):
        return False
    schedule.days, schedule.times = normal_days, normal_times
    if schedule.active:
        restart(schedule, goal.peer, now)
    # Texts planned for the old days or times are obsolete, whatever the rule says.
    cancel_unsent(session, OutboundMessage.schedule_id == schedule.id, "schedule_changed", now)
    return True


def restart(schedule: Schedule, peer: Peer, now: datetime) -> None:
    """Next occurrence after now: a change never triggers a burst of past ones."""
    rule = recurrence(schedule.days, schedule.times)
    schedule.next_due_at = next_occurrence(rule, ZoneInfo(peer.timezone), now)


def is_paused(goal: Goal) -> bool:
    return goal.active and not any(s.active for s in goal.schedules if s.kind == "checkin")


def pause_goal(session: Session, goal: Goal, now: datetime) -> int:
    """Stop this goal's check-ins (the goal stays on the plan); return texts cancelled."""
    for schedule in goal.schedules:
        if schedule.kind == "checkin":
            schedule.active = False
    return withdraw_for_goal(session, goal, "goal_paused", now)


def resume_goal(goal: Goal, now: datetime) -> None:
    for schedule in goal.schedules:
        if schedule.kind == "checkin":
            schedule.active = True
            restart(schedule, goal.peer, now)


def remove_goal(session: Session, goal: Goal, now: datetime) -> int:
    """Take a goal off the plan (kept for the history); return texts cancelled.

    Encouragement and the weekly summary ride on the first goal: they move to the
    next active goal rather than stopping.
    """
    active = [g for g in goal.peer.goals if g.active and g.id != goal.id]
    if not active:
        raise PlanError(
            "a peer needs at least one goal; pause it instead, or the peer can text STOP"
        )
    goal.active = False
    for schedule in goal.schedules:
        if schedule.kind == "checkin":
            schedule.active = False
        else:
            schedule.goal = active[0]  # companions keep their cadence
    return withdraw_for_goal(session, goal, "goal_removed", now)


def set_encouragement(
    session: Session, settings: Settings, peer: Peer, cadence: str, now: datetime
) -> None:
    """The peer's own cadence for encouragement texts ("off" stops them); the time
    chosen before stays."""
    set_companion(session, settings, peer, "encouragement", cadence, None, now)


def set_companion(
    session: Session,
    settings: Settings,
    peer: Peer,
    kind: str,
    days: str,
    at: time | None,
    now: datetime,
) -> bool:
    """How often and when encouragement texts (``days``: a cadence) or the weekly summary
    (``days``: a weekday) go; "off" stops them. Without ``at`` the time already chosen
    stays (or the default, moved inside the peer's hours). True when anything changed:
    texts planned for the old days or time are then cancelled."""
    allowed = CADENCES if kind == "encouragement" else SUMMARY_DAYS
    if days not in allowed:
        raise PlanError(f"{kind} must be one of {', '.join(allowed)}")
    goals = [goal for goal in peer.goals if goal.active]
    current = [s for g in goals for s in g.schedules if s.kind == kind and s.active]
    window = allowed_window(settings, peer)
    kept = parse_times(current[0].times)[0] if current else COMPANION_TIMES[kind]
    times = at.strftime("%H:%M") if at else companion_time(kept, window)
    if [(s.days, s.times) for s in current] == ([] if days == "off" else [(days, times)]):
        return False
    for schedule in current:
        schedule.active = False
        withdraw(session, OutboundMessage.schedule_id == schedule.id, "cadence_changed", now)
    if kind == "encouragement":
        peer.encouragement = days
    if days != "off" and goals:
        try:
            add_schedule(session, goals[0], days, times, peer.timezone, now, window, kind=kind)
        except (ScheduleError, ValueError) as error:
            raise PlanError(str(error)) from None
    return True


# --- telling the peer about a goal --------------------------------------------------------


def goal_news_values(goal: Goal, changed: bool) -> dict:
    checkin = next((s for s in goal.schedules if s.kind == "checkin" and s.active), None)
    shape = schedule_shape(checkin.days, checkin.times) if checkin is not None else None
    return {"goal": goal.text, "schedule": shape, "changed": changed}


def goal_news_preview(settings: Settings, peer: Peer, goal: Goal, changed: bool) -> RenderedMessage:
    """The text :func:`tell_peer_about_goal` would send, for the specialist to read first."""
    values = base_context(peer, settings) | goal_news_values(goal, changed)
    return render_template("goal_news", peer.language, values)


def tell_peer_about_goal(
    session: Session,
    settings: Settings,
    peer: Peer,
    goal: Goal,
    changed: bool,
    specialist_id: int,
    now: datetime,
) -> OutboundMessage:
    """Plan the text that tells the peer about a goal added or changed with them (sent
    like a specialist's own text: never after STOP)."""
    if peer.consent != OPTED_IN:
        raise PlanError("this peer has opted out: nothing can be sent until they text START")
    if not goal.active:
        raise PlanError("that goal is no longer active")
    rendered = render_message(
        session, "goal_news", peer, settings, **goal_news_values(goal, changed)
    )
    message = OutboundMessage(
        peer_id=peer.id, to_phone=peer.phone, kind="goal_news", goal_id=goal.id,
        body=rendered.body, template=rendered.template, status=PLANNED, due_at=now,
        sent_by=specialist_id, created_at=now,
    )  # fmt: skip
    session.add(message)
    session.flush()
    return message
