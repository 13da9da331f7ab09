"""Enrolling peers and giving them goals and schedules.

Used by the CLI, the demo seed and the dashboard, so every way in applies the
same checks: a textable number, a real time zone, times inside the allowed
window (:mod:`service.quiet_hours`), and a consent record before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.consent import number_opted_out, record_opt_in
from service.crisis_lines import countries_on_file, country_name, country_of, line_for
from service.flags import open_flag
from service.messages import render_message
from service.models import (
    OPTED_IN,
    OPTED_OUT,
    PLANNED,
    Goal,
    OutboundMessage,
    Peer,
    Schedule,
    Specialist,
)
from service.phones import normalize_phone, timezone_for_number
from service.quiet_hours import (
    allowed_window,
    check_times,
    preferred_hours_problem,
    within_window,
)
from service.recurrence import (
    ScheduleError,
    next_occurrence,
    parse_days,
    parse_zone,
    recurrence,
    schedule_shape,
)
from service.settings import Settings

LANGUAGES = ("en", "es")
MAX_NAME_CHARS = 60
MAX_GOAL_CHARS = 160
MAX_WORDS_CHARS = 500  # strengths, reasons
CONSENT_METHODS = ("in person", "by phone", "video call", "written form")
# The zones a US program meets most, offered first when no peer has a zone yet.
US_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
)  # fmt: skip


class EnrolmentError(ValueError):
    """An enrolment value is not acceptable; the message says which and why."""


class NumberTaken(EnrolmentError):
    """The number is already a peer's. On another caseload the message says only that it
    cannot be enrolled (whose peer it is, is not the enroller's to know); ``peer_id`` and
    ``elsewhere`` are for telling an admin."""

    def __init__(self, phone: str, peer: Peer, specialist: Specialist) -> None:
        self.peer_id, self.elsewhere = peer.id, peer.specialist_id != specialist.id
        super().__init__(
            f"{phone} cannot be enrolled"
            if self.elsewhere
            else f"{phone} is already enrolled on your caseload"
        )


@dataclass(frozen=True)
class Enrolment:
    phone: str
    name: str
    goal: str
    days: str
    times: str
    timezone: str | None = None
    language: str = "en"
    strengths: str | None = None
    reasons: str | None = None
    consent_method: str = "in person"
    encouragement: str = "2x-week"  # its own cadence, chosen by the peer; "off" for none
    summary_day: str = "sun"  # the weekly summary; "off" for none
    window_start: time | None = None  # the peer's own hours, inside the program's
    window_end: time | None = None
    encouragement_time: time | None = None  # None: 12:30, or an hour into the peer's hours
    summary_time: time | None = None  # None: 17:00, or an hour into the peer's hours


# --- one check per field: the dashboard shows each message beside its field -------------


def one_line(raw: str, limit: int, needed: str) -> str:
    """``raw`` on one line, if it is not empty and at most ``limit`` characters."""
    text = " ".join((raw or "").split())
    if not text or len(text) > limit:
        raise EnrolmentError(needed)
    return text


def check_name(raw: str) -> str:
    needed = f"a first name or nickname of at most {MAX_NAME_CHARS} characters is needed"
    return one_line(raw, MAX_NAME_CHARS, needed)


def check_goal(raw: str) -> str:
    needed = f"a goal of at most {MAX_GOAL_CHARS} characters, in the peer's words, is needed"
    return one_line(raw, MAX_GOAL_CHARS, needed)


def check_phone(raw: str, region: str) -> str:
    """The E.164 form of a textable number in a country with reviewed crisis lines."""
    try:
        phone = normalize_phone(raw, region)
    except ValueError as error:
        raise EnrolmentError(str(error)) from None
    check_country(phone)
    return phone


def check_language(raw: str) -> str:
    if raw not in LANGUAGES:
        raise EnrolmentError(f"language must be one of {', '.join(LANGUAGES)}")
    return raw


def check_words(raw: str | None, what: str) -> str | None:
    """Strengths or reasons in the peer's words: kept as written, at most 500 characters."""
    text = (raw or "").strip()
    if len(text) > MAX_WORDS_CHARS:
        raise EnrolmentError(f"{what} can be at most {MAX_WORDS_CHARS} characters")
    return text or None


def check_consent_method(raw: str) -> str:
    if raw not in CONSENT_METHODS:
        raise EnrolmentError(f"say how consent was given: {', '.join(CONSENT_METHODS)}")
    return raw


def number_holder(session: Session, phone: str, specialist: Specialist) -> None:
    """NumberTaken when a peer already has this number."""
    existing = session.scalar(select(Peer).where(Peer.phone == phone))
    if existing is not None:
        raise NumberTaken(phone, existing, specialist)


def common_zones(session: Session, limit: int = 8) -> list[str]:
    """The zones to offer first: the program's peers' most used, then the US's main ones."""
    used = session.scalars(
        select(Peer.timezone).group_by(Peer.timezone).order_by(func.count().desc()).limit(limit)
    ).all()
    return list(dict.fromkeys([*used, *US_ZONES]))[: max(limit, len(US_ZONES))]


def check_preferred_hours(settings: Settings, peer: Peer) -> None:
    """The peer's own hours must leave some time inside the program's window."""
    problem = preferred_hours_problem(settings, peer)
    if problem is not None:
        raise EnrolmentError(problem)


def resolve_timezone(phone: str, given: str | None) -> str:
    if given:
        return parse_zone(given).key
    guessed = timezone_for_number(phone)
    if guessed is None:
        raise EnrolmentError(
            f"the time zone cannot be told from {phone}; give one, like America/Chicago"
        )
    return guessed


def add_schedule(
    session: Session, goal: Goal, days: str, times: str, zone: str, now: datetime,
    window: tuple[time, time], kind: str = "checkin",
) -> Schedule:  # fmt: skip
    """A schedule for a goal, with its first occurrence computed."""
    normal_days, _ = parse_days(days)
    normal_times = check_times(times, window)
    schedule = Schedule(goal=goal, kind=kind, days=normal_days, times=normal_times)
    schedule.next_due_at = next_occurrence(
        recurrence(normal_days, normal_times), ZoneInfo(zone), now
    )
    session.add(schedule)
    return schedule


def enrol_peer(
    session: Session,
    settings: Settings,
    specialist: Specialist,
    enrolment: Enrolment,
    now: datetime,
) -> Peer:
    """Create a peer with one goal and schedule, record consent, plan the welcome text."""
    phone = check_phone(enrolment.phone, settings.default_region)
    try:
        zone = resolve_timezone(phone, enrolment.timezone)
    except ValueError as error:
        raise EnrolmentError(str(error)) from None
    name, goal_text = check_name(enrolment.name), check_goal(enrolment.goal)
    number_holder(session, phone, specialist)
    peer = Peer(
        specialist=specialist,
        phone=phone,
        display_name=name,
        timezone=zone,
        language=check_language(enrolment.language),
        strengths=check_words(enrolment.strengths, "strengths"),
        reasons=check_words(enrolment.reasons, "reasons"),
        window_start=enrolment.window_start,
        window_end=enrolment.window_end,
        created_at=now,
    )
    check_preferred_hours(settings, peer)
    session.add(peer)
    goal = Goal(peer=peer, text=goal_text, position=1, created_at=now)
    try:
        schedule = add_schedule(
            session,
            goal,
            enrolment.days,
            enrolment.times,
            zone,
            now,
            allowed_window(settings, peer),
        )
        add_companion_schedules(session, settings, goal, enrolment, zone, now)
    except ScheduleError as error:
        raise EnrolmentError(str(error)) from None
    session.flush()
    _record_consent(session, peer, specialist, enrolment.consent_method, now)
    if peer.consent == OPTED_IN:
        plan_welcome(session, settings, peer, goal, schedule, now)
    flag_missing_crisis_line(session, settings, peer, now)
    return peer


def check_country(phone: str) -> None:
    """Only numbers from a country with a reviewed emergency number can be enrolled.

    A crisis text must give a number that works where the peer is; a country is
    added by adding its reviewed line to ``service/data/crisis_lines.csv``.
    """
    if country_of(phone) not in countries_on_file():
        raise EnrolmentError(
            f"{phone} is a number in {country_name(phone)}, and there are no reviewed crisis "
            "and emergency numbers for that country yet (service/data/crisis_lines.csv)"
        )


def flag_missing_crisis_line(
    session: Session, settings: Settings, peer: Peer, now: datetime
) -> None:
    """Tell the specialist when crisis texts can give this peer only an emergency number."""
    line = line_for(peer.phone, settings)
    if not line.has_line:
        detail = f"no crisis line on file for {country_name(peer.phone)}"
        open_flag(session, peer.id, "no_crisis_line", detail, now)


def _record_consent(
    session: Session, peer: Peer, specialist: Specialist, method: str, now: datetime
) -> None:
    """Consent given at enrolment, unless this number texted STOP before: that still binds."""
    if number_opted_out(session, peer.phone):
        peer.consent = OPTED_OUT
        return
    peer.consent_given_at = now
    peer.consent_method = method
    peer.consent_recorded_by = specialist.id
    record_opt_in(session, peer.phone, peer, "enrolment", now, method, specialist.id)


ENCOURAGEMENT_TIME = time(12, 30)
SUMMARY_TIME = time(17, 0)


def companion_time(preferred: time, window: tuple[time, time]) -> str:
    """The preferred time when the window allows it, else an hour after the window opens."""
    if within_window(preferred, *window):
        return preferred.strftime("%H:%M")
    return time(min(window[0].hour + 1, 23), window[0].minute).strftime("%H:%M")


def add_companion_schedules(
    session: Session, settings: Settings, goal: Goal, enrolment: Enrolment, zone: str,
    now: datetime,
) -> None:  # fmt: skip
    """Encouragement on the peer's own cadence and the weekly summary, if they want them."""
    window = allowed_window(settings, goal.peer)
    if enrolment.encouragement != "off":
        at = chosen_or_companion(enrolment.encouragement_time, ENCOURAGEMENT_TIME, window)
        add_schedule(session, goal, enrolment.encouragement, at, zone, now, window,
                     kind="encouragement")  # fmt: skip
    if enrolment.summary_day != "off":
        at = chosen_or_companion(enrolment.summary_time, SUMMARY_TIME, window)
        add_schedule(session, goal, enrolment.summary_day, at, zone, now, window,
                     kind="summary")  # fmt: skip


def chosen_or_companion(chosen: time | None, default: time, window: tuple[time, time]) -> str:
    """The time the peer chose (checked against the window when the schedule is added),
    or the default moved inside the window."""
    return chosen.strftime("%H:%M") if chosen else companion_time(default, window)


def plan_welcome(
    session: Session, settings: Settings, peer: Peer, goal: Goal, schedule: Schedule,
    now: datetime,
) -> OutboundMessage:  # fmt: skip
    rendered = render_message(
        session, "welcome", peer, settings,
        goal=goal.text, schedule=schedule_shape(schedule.days, schedule.times),
    )  # fmt: skip
    message = OutboundMessage(
        peer_id=peer.id,
        to_phone=peer.phone,
        kind="welcome",
        goal_id=goal.id,
        due_at=now,
        status=PLANNED,
        body=rendered.body,
        template=rendered.template,
        segments=rendered.segments,
        encoding=rendered.encoding,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def find_peer(session: Session, phone: str, region: str) -> Peer | None:
    return session.scalar(select(Peer).where(Peer.phone == normalize_phone(phone, region)))


def next_planned(session: Session, peer: Peer) -> datetime | None:
    """When the peer's next scheduled nudge is due (UTC)."""
    dues = [
        schedule.next_due_at
        for goal in peer.goals
        if goal.active
        for schedule in goal.schedules
        if schedule.active and schedule.next_due_at is not None
    ]
    planned = session.scalar(
        select(OutboundMessage.due_at)
        .where(OutboundMessage.peer_id == peer.id, OutboundMessage.status == PLANNED)
        .order_by(OutboundMessage.due_at)
        .limit(1)
    )
    candidates = [*dues, *([planned] if planned else [])]
    return min(candidates) if candidates else None
