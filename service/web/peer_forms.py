"""The enrolment and peer-details forms, read and checked in one pass.

Every field is checked and every problem is kept, as ``{field: message}``, so the
page can show them all at once, each beside its field (the GOV.UK error pattern,
``service/templates/form_macros.html``). Nothing is written unless there are none.

Days come as a plain choice (every day, weekdays, N times a week, these days) and
times as ``<input type="time">`` fields; the older text fields (``days=mon,wed,fri``,
``times=09:00,18:30``) are still read, for scripts that post them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from service.models import Goal, Peer, Specialist
from service.peer_details import PeerDetails, hours_conflict
from service.peers import (
    CONSENT_METHODS,
    Enrolment,
    NumberTaken,
    check_consent_method,
    check_goal,
    check_language,
    check_name,
    check_phone,
    check_words,
    common_zones,
)
from service.phones import timezone_for_number
from service.plans import CADENCES, SUMMARY_DAYS, goal_text, schedule_fields
from service.quiet_hours import check_times, hours_problem, narrowed_window
from service.recurrence import (
    available_zones,
    choice_of_days,
    days_from_choice,
    parse_clock,
    parse_days,
)
from service.settings import Settings

T = TypeVar("T")
MAX_VALUE_CHARS = 1000  # longer than any field needs; checked before anything reads it
TIME_FIELDS = ("time_1", "time_2", "time_3")  # the third is shown only for a goal that has one
# The page order of the fields: the error summary lists problems in this order.
FIELD_ORDER = (
    "name", "phone", "timezone", "language", "goal", "text", "days", "per_week", "time_1", "time_2",
    "time_3",
    "encouragement", "encouragement_time", "summary_day", "summary_time", "window_start",
    "window_end", "strengths", "reasons", "consent", "consent_method", "form",
)  # fmt: skip
# Where a summary link goes when the field is a group (the first control in it).
ANCHORS = {"days": "days-daily", "form": "main"}
# A form key that is not a field of its own belongs to one.
FIELD_OF_KEY = {"days_choice": "days", "weekday": "days", "times": "time_1"}


@dataclass
class Reading:
    """What a form said: its problems by field, and a number another peer holds."""

    errors: dict[str, str] = field(default_factory=dict)
    taken: NumberTaken | None = None

    def check(self, name: str, rule: Callable[..., T], *args: Any) -> T | None:
        """The rule's value, or None with its message kept as the field's problem."""
        if name in self.errors:  # already refused (a NUL byte, too long)
            return None
        try:
            return rule(*args)
        except ValueError as error:
            self.errors[name] = sentence(str(error))
            return None

    def ordered(self) -> dict[str, str]:
        return dict(sorted(self.errors.items(), key=lambda item: order_of(item[0])))


def order_of(name: str) -> int:
    return FIELD_ORDER.index(name) if name in FIELD_ORDER else len(FIELD_ORDER)


def sentence(message: str) -> str:
    text = message.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def refuse_unstorable(form: MultiDict, reading: Reading) -> None:
    """A NUL byte or a value longer than any field needs: refused beside its field."""
    for key, values in form.lists():
        name = FIELD_OF_KEY.get(key, key if key in FIELD_ORDER else "form")
        if any("\x00" in value for value in values) or "\x00" in key:
            reading.errors.setdefault(
                name, "This holds an invisible NUL character, which cannot be stored: retype it."
            )
        elif any(len(value) > MAX_VALUE_CHARS for value in values):
            reading.errors.setdefault(
                name, f"This is far too long (over {MAX_VALUE_CHARS} characters)."
            )


def optional_clock(raw: str | None) -> time | None:
    text = (raw or "").strip()
    return parse_clock(text) if text else None


def clock_or_problem(reading: Reading, name: str, form: MultiDict, message: str) -> time | None:
    if name in reading.errors:
        return None
    try:
        return optional_clock(form.get(name))
    except ValueError:
        reading.errors[name] = message
        return None


def preferred_hours(
    reading: Reading, form: MultiDict, settings: Settings
) -> tuple[time | None, time | None]:
    """The peer's own hours (both optional); they must leave some of the program's."""
    message = "Preferred hours must look like 09:00 (hours and minutes)."
    start = clock_or_problem(reading, "window_start", form, message)
    end = clock_or_problem(reading, "window_end", form, message)
    problem = hours_problem(settings, start, end)
    if problem and not {"window_start", "window_end"} & set(reading.errors):
        reading.errors["window_start"] = sentence(problem)
    return start, end


def chosen_zone(reading: Reading, form: MultiDict, phone: str | None) -> str | None:
    """The zone chosen, or the number's own when "from the number" was left."""
    raw = (form.get("timezone") or "").strip()
    if "timezone" in reading.errors:
        return None
    if raw:
        if raw not in available_zones():
            reading.errors["timezone"] = f"Choose a time zone from the list: {raw!r} is not one."
            return None
        return raw
    if phone is None:
        return None  # the number is refused; its zone is asked for once it is right
    guessed = timezone_for_number(phone)
    if guessed is None:
        reading.errors["timezone"] = (
            f"The time zone cannot be told from {phone} (its area spans several zones): "
            "choose the peer's zone from the list."
        )
    return guessed


def number_holder(
    session: Session, reading: Reading, phone: str | None, specialist: Specialist,
    peer_id: int | None = None,
) -> None:  # fmt: skip
    """A number another peer has is the phone field's problem."""
    if phone is None:
        return
    existing = session.scalar(select(Peer).where(Peer.phone == phone, Peer.id != (peer_id or 0)))
    if existing is not None:
        reading.taken = NumberTaken(phone, existing, specialist)
        reading.errors["phone"] = (
            sentence(str(reading.taken))
            if peer_id is None
            else taken_by_another(phone, reading.taken)
        )


def taken_by_another(phone: str, taken: NumberTaken) -> str:
    """Whose number it is stays unsaid when the peer is on another caseload."""
    where = "" if taken.elsewhere else " on your caseload"
    return f"{phone} is another peer's number{where}: one number can belong to one peer only."


@dataclass(frozen=True)
class DetailFields:
    details: PeerDetails | None
    phone: str | None


def read_details(
    session: Session,
    settings: Settings,
    form: MultiDict,
    reading: Reading,
    specialist: Specialist,
    peer_id: int | None = None,
) -> DetailFields:
    """The fields enrolment and the details form share, checked."""
    name = reading.check("name", check_name, form.get("name", ""))
    phone = reading.check("phone", check_phone, form.get("phone", ""), settings.default_region)
    zone = chosen_zone(reading, form, phone)
    language = reading.check("language", check_language, form.get("language", "en"))
    start, end = preferred_hours(reading, form, settings)
    strengths = reading.check("strengths", check_words, form.get("strengths"), "strengths")
    reasons = reading.check("reasons", check_words, form.get("reasons"), "reasons")
    number_holder(session, reading, phone, specialist, peer_id)
    if reading.errors:
        return DetailFields(None, phone)
    details = PeerDetails(name, phone, zone, language, start, end, strengths, reasons)  # type: ignore[arg-type]
    return DetailFields(details, phone)


def read_days(reading: Reading, form: MultiDict) -> str | None:
    if "days_choice" in form or "days" not in form:
        return reading.check(
            "days",
            days_from_choice,
            form.get("days_choice", ""),
            form.get("per_week", ""),
            form.getlist("weekday"),
        )
    return reading.check("days", lambda raw: parse_days(raw)[0], form.get("days", ""))


def read_times(reading: Reading, form: MultiDict, window: tuple[time, time]) -> str | None:
    """The check-in times, each checked beside its own field."""
    if "times" in form and not any(name in form for name in TIME_FIELDS):
        return reading.check("time_1", check_times, form.get("times", ""), window)
    times = []
    for name in TIME_FIELDS:
        raw = (form.get(name) or "").strip()
        if raw:
            times.append(reading.check(name, check_times, raw, window))
    if not times and not set(TIME_FIELDS) & set(reading.errors):
        reading.errors["time_1"] = "Give at least one check-in time, like 09:00."
    return ",".join(t for t in times if t) if all(times) else None


@dataclass
class GoalFields:
    text: str
    days: str
    times: str


def read_goal(form: MultiDict, window: tuple[time, time]) -> tuple[GoalFields | None, dict]:
    """A goal form's words, days and times (plain choices or the old text fields),
    normalised; or None with every problem, by field, in page order."""
    reading = Reading()
    refuse_unstorable(form, reading)
    text = reading.check("text", goal_text, form.get("text", ""))
    days, times = read_days(reading, form), read_times(reading, form, window)
    if reading.errors or text is None or days is None or times is None:
        return None, reading.ordered()
    return GoalFields(text, days, times), {}


def form_anchors(prefix: str, errors: dict) -> dict[str, str]:
    """Where each summary link of a peer-page form goes. A goal form's fields carry its
    prefix ("new-" or "g<goal id>-"); the encouragement form ("companions-") has the
    enrolment form's ids. A problem with no field of its own links to the form."""
    if prefix == "companions-":
        return {name: "companions-form" if name == "form" else name for name in errors}
    own = {"text": "new-text" if prefix == "new-" else f"text-{prefix[1:-1]}",
           "form": prefix + "goal-form"}  # fmt: skip
    return {name: own.get(name) or prefix + ANCHORS.get(name, name) for name in errors}


def goal_form(goal: Goal) -> MultiDict:
    """A goal's check-in days and times as the plain choices show them."""
    days, times = schedule_fields(goal)
    choice, per_week, chosen = choice_of_days(days or "daily")
    values = MultiDict({"days_choice": choice, "per_week": per_week})
    for code in chosen:
        values.add("weekday", code)
    for name, at in zip(TIME_FIELDS, [t for t in times.split(",") if t], strict=False):
        values[name] = at
    return values


def companion_clock(
    reading: Reading, form: MultiDict, name: str, window: tuple[time, time]
) -> time | None:
    chosen = clock_or_problem(reading, name, form, "Give a time like 12:30, or leave it empty.")
    if chosen is not None:
        reading.check(name, check_times, chosen.strftime("%H:%M"), window)
    return chosen


@dataclass(frozen=True)
class CompanionFields:
    """Encouragement (how often, at what time) and the weekly summary (which day, what
    time); a time of None is the default, or the one already chosen."""

    cadence: str
    encouragement_time: time | None
    summary_day: str
    summary_time: time | None


def read_companion_fields(
    reading: Reading, form: MultiDict, window: tuple[time, time]
) -> CompanionFields:
    return CompanionFields(
        one_of(reading, form, "encouragement", CADENCES, "2x-week"),
        companion_clock(reading, form, "encouragement_time", window),
        one_of(reading, form, "summary_day", SUMMARY_DAYS, "sun"),
        companion_clock(reading, form, "summary_time", window),
    )


def read_companions(
    form: MultiDict, window: tuple[time, time]
) -> tuple[CompanionFields | None, dict[str, str]]:
    """The peer page's encouragement and summary form; or None with every problem."""
    reading = Reading()
    refuse_unstorable(form, reading)
    fields = read_companion_fields(reading, form, window)
    return (None, reading.ordered()) if reading.errors else (fields, {})


def companions_form(peer: Peer) -> MultiDict:
    """The peer's encouragement and summary as that form shows them."""
    values = MultiDict({"encouragement": peer.encouragement, "summary_day": "off"})
    active = [s for goal in peer.goals if goal.active for s in goal.schedules if s.active]
    for schedule in active:
        if schedule.kind == "encouragement":
            values["encouragement_time"] = schedule.times.split(",")[0]
        if schedule.kind == "summary":
            values["summary_day"] = schedule.days
            values["summary_time"] = schedule.times.split(",")[0]
    return values


def one_of(reading: Reading, form: MultiDict, name: str, allowed: tuple[str, ...], default: str):
    value = form.get(name, default)
    if value not in allowed and name not in reading.errors:
        reading.errors[name] = "Choose one of the options."
    return value


def read_enrolment(
    session: Session, settings: Settings, form: MultiDict, specialist: Specialist
) -> tuple[Enrolment | None, Reading]:
    """The enrolment form, every field checked; an Enrolment only when all are right."""
    reading = Reading()
    refuse_unstorable(form, reading)
    shared = read_details(session, settings, form, reading, specialist)
    goal = reading.check("goal", check_goal, form.get("goal", ""))
    days = read_days(reading, form)
    start, end = (clock_or_none(form, "window_start"), clock_or_none(form, "window_end"))
    if hours_problem(settings, start, end):  # that field says so; times meet the program's
        start = end = None
    window = narrowed_window(settings, start, end)
    times = read_times(reading, form, window)
    extras = read_companion_fields(reading, form, window)
    if form.get("consent") != "yes":
        reading.errors["consent"] = (
            "Record the peer's consent before enrolling: nothing is sent without it."
        )
    method = reading.check("consent_method", check_consent_method, form.get("consent_method"))
    details = shared.details
    if reading.errors or details is None:
        return None, reading
    return Enrolment(
        phone=details.phone, name=details.display_name, goal=goal or "", days=days or "",
        times=times or "", timezone=details.timezone, language=details.language,
        strengths=details.strengths, reasons=details.reasons, consent_method=method or "",
        encouragement=extras.cadence, summary_day=extras.summary_day, window_start=start,
        window_end=end, encouragement_time=extras.encouragement_time,
        summary_time=extras.summary_time,
    ), reading  # fmt: skip


def clock_or_none(form: MultiDict, name: str) -> time | None:
    """A preferred hour for checking times against: None when empty or not a time (its
    own field says so)."""
    try:
        return optional_clock(form.get(name))
    except ValueError:
        return None


def read_peer_details(
    session: Session, settings: Settings, form: MultiDict, peer: Peer, specialist: Specialist
) -> tuple[PeerDetails | None, str | None, Reading]:
    """The details form: (details, consent method for a new number, the reading)."""
    reading = Reading()
    refuse_unstorable(form, reading)
    shared = read_details(session, settings, form, reading, specialist, peer.id)
    hours = (clock_or_none(form, "window_start"), clock_or_none(form, "window_end"))
    if hours != (peer.window_start, peer.window_end) and "window_start" not in reading.errors:
        conflict = hours_conflict(settings, peer, *hours)
        if conflict:
            reading.errors["window_start"] = sentence(conflict)
    method = None
    if shared.phone is not None and shared.phone != peer.phone:
        if form.get("consent") != "yes":
            reading.errors["consent"] = (
                "The number changed: record that the peer agreed to texts at the new number."
            )
        method = reading.check("consent_method", check_consent_method, form.get("consent_method"))
    if reading.errors:
        return None, None, reading
    return shared.details, method, reading


# --- what the form templates need -------------------------------------------------------

WEEKDAY_LABELS = (
    ("mon", "Mon"), ("tue", "Tue"), ("wed", "Wed"), ("thu", "Thu"), ("fri", "Fri"),
    ("sat", "Sat"), ("sun", "Sun"),
)  # fmt: skip
CADENCE_LABELS = {
    "off": "none", "daily": "every day", "weekdays": "weekdays", "1x-week": "once a week",
    "2x-week": "twice a week", "3x-week": "three times a week",
}  # fmt: skip
SUMMARY_LABELS = {
    "sun": "Sunday", "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday",
    "thu": "Thursday", "fri": "Friday", "sat": "Saturday", "off": "none",
}  # fmt: skip


def guessed_zone(form: MultiDict, settings: Settings) -> str | None:
    """The zone the number gives, to preselect when none was chosen."""
    if (form.get("timezone") or "").strip():
        return None
    try:
        return timezone_for_number(check_phone(form.get("phone", ""), settings.default_region))
    except ValueError:
        return None


def form_context(
    session: Session, settings: Settings, form: MultiDict, errors: dict[str, str]
) -> dict[str, Any]:
    """What enrol.html and peer_details.html render: the typed values, the problems, the
    choices (common zones first, then every zone)."""
    common = common_zones(session)
    return {
        "form": form,
        "errors": errors,
        "anchors": ANCHORS,
        "common_zones": common,
        "other_zones": sorted(available_zones() - set(common)),
        "guessed_zone": guessed_zone(form, settings),
        "window": (settings.window_start, settings.window_end),
        "weekdays": WEEKDAY_LABELS,
        "cadences": CADENCE_LABELS,
        "summary_days": SUMMARY_LABELS,
        "consent_methods": CONSENT_METHODS,
    }


# --- a stored schedule in plain words, for the peer page ------------------------------

SCHEDULE_KINDS = {"checkin": "Check-ins", "encouragement": "Encouragement",
                  "summary": "Weekly summary"}  # fmt: skip
DAY_NAMES = {"mon": "Mondays", "tue": "Tuesdays", "wed": "Wednesdays", "thu": "Thursdays",
             "fri": "Fridays", "sat": "Saturdays", "sun": "Sundays"}  # fmt: skip
DAY_WORDS = {"daily": "every day", "weekdays": "weekdays", "weekends": "weekends",
             "1x-week": "once a week", "2x-week": "twice a week", "off": "off"}  # fmt: skip


def in_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def days_in_words(days: str) -> str:
    """ "mon,wed" -> "Mondays and Wednesdays"; "3x-week" -> "3 times a week"."""
    if days in DAY_WORDS:
        return DAY_WORDS[days]
    if days.endswith("x-week"):
        return f"{days.removesuffix('x-week')} times a week"
    return in_words([DAY_NAMES.get(day, day) for day in days.split(",")])


def schedule_in_words(kind: str, days: str, times: str) -> str:
    """A schedule as the peer page shows it: "Check-ins: weekdays at 09:00 and 18:30"."""
    label = SCHEDULE_KINDS.get(kind, kind)
    return f"{label}: {days_in_words(days)} at {in_words(times.split(','))}"
