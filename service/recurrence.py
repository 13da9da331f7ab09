"""When a schedule's occurrences fall, in the peer's own time zone.

A schedule is a set of local weekdays and local times. Occurrences are
computed on the local calendar with ``zoneinfo``, then turned into UTC, so
09:00 stays 09:00 across daylight-saving changes. A local time that does not
exist that day (spring forward) moves to the first minute that does; a local
time that happens twice (fall back) fires once, at its first instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_ALIASES = {
    "monday": "mon", "tuesday": "tue", "tues": "tue", "wednesday": "wed",
    "thursday": "thu", "thur": "thu", "thurs": "thu", "friday": "fri",
    "saturday": "sat", "sunday": "sun",
}  # fmt: skip
TIMES_A_WEEK = re.compile(r"^([1-7])x-?(week|wk)$")
CLOCK_24 = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
CLOCK_12 = re.compile(r"^(1[0-2]|0?[1-9])(?::([0-5]\d))?\s*([ap])\.?m?\.?$")


class ScheduleError(ValueError):
    """A schedule value a person typed is not understood; the message says why."""


@dataclass(frozen=True)
class Recurrence:
    weekdays: frozenset[int]  # 0 = Monday
    times: tuple[time, ...]


def spread_over_week(count: int) -> frozenset[int]:
    """N days a week, spread out: 3 -> Mon, Wed, Fri; 2 -> Mon, Thu."""
    return frozenset(i * 7 // count for i in range(count))


def parse_days(spec: str) -> tuple[str, frozenset[int]]:
    """Normalise a days value (daily, weekdays, mon,wed,fri, 3x-week)."""
    text = re.sub(r"\s+", "", (spec or "").lower())
    if text in ("daily", "everyday"):
        return "daily", frozenset(range(7))
    if text == "weekdays":
        return "weekdays", frozenset(range(5))
    if text == "weekends":
        return "weekends", frozenset({5, 6})
    match = TIMES_A_WEEK.match(text)
    if match:
        return f"{match.group(1)}x-week", spread_over_week(int(match.group(1)))
    names = [
        WEEKDAY_ALIASES.get(part, part)
        for part in re.split(r"[\s,/;]+", (spec or "").lower())
        if part
    ]
    unknown = [name for name in names if name not in WEEKDAYS]
    if not names or unknown:
        raise ScheduleError(
            f"days {spec!r} not understood: use daily, weekdays, a list like mon,wed,fri, "
            "or a number of times a week like 3x-week"
        )
    days = frozenset(WEEKDAYS.index(name) for name in names)
    return ",".join(WEEKDAYS[d] for d in sorted(days)), days


DAY_CHOICES = ("daily", "weekdays", "per_week", "chosen")


def days_from_choice(choice: str, per_week: str, chosen: list[str]) -> str:
    """The days value of a form's plain choice: every day, weekdays, N times a week
    (``per_week``, 1 to 7) or these days (``chosen``, day codes like ``mon``)."""
    if choice in ("daily", "weekdays"):
        return choice
    if choice == "per_week":
        count = (per_week or "").strip()
        if not re.fullmatch(r"[1-7]", count):
            raise ScheduleError("say how many times a week, a number from 1 to 7")
        return f"{count}x-week"
    if choice == "chosen":
        days = [day for day in chosen if day in WEEKDAYS]
        if not days or len(days) != len(chosen):
            raise ScheduleError("tick at least one day of the week")
        return parse_days(",".join(days))[0]
    raise ScheduleError("choose which days: every day, weekdays, a number a week, or these days")


def choice_of_days(days: str) -> tuple[str, str, tuple[str, ...]]:
    """The form's plain choice for a stored days value: (choice, per_week, chosen days)."""
    normal, weekdays = parse_days(days)
    if normal in ("daily", "weekdays"):
        return normal, "", ()
    match = TIMES_A_WEEK.match(normal)
    if match:
        return "per_week", match.group(1), ()
    return "chosen", "", tuple(WEEKDAYS[d] for d in sorted(weekdays))


@dataclass(frozen=True)
class ScheduleShape:
    """What a template needs to put a schedule into words, in the peer's language.

    ``per_week`` is set for "N times a week" (the peer chose a count, not days);
    otherwise ``weekdays`` are the chosen days (0 = Monday). No words here: the
    templates in ``templates/messages/<lang>/_macros/schedule.txt`` say it.
    """

    per_week: int | None
    weekdays: tuple[int, ...]
    times: tuple[time, ...]


def schedule_shape(days: str, times: str) -> ScheduleShape:
    """The shape of a stored schedule (``days`` and ``times`` as the schedules table keeps them)."""
    normal, weekdays = parse_days(days)
    match = TIMES_A_WEEK.match(normal)
    per_week = int(match.group(1)) if match else None
    return ScheduleShape(per_week, tuple(sorted(weekdays)), parse_times(times))


def parse_clock(value: str) -> time:
    """A local time of day: 19:30, 7:30pm, 7pm."""
    text = (value or "").strip().lower().replace(" ", "")
    match = CLOCK_24.match(text)
    if match:
        return time(int(match.group(1)), int(match.group(2)))
    match = CLOCK_12.match(text)
    if match:
        hour = int(match.group(1)) % 12 + (12 if match.group(3) == "p" else 0)
        return time(hour, int(match.group(2) or 0))
    raise ScheduleError(f"time {value!r} not understood: use 24-hour HH:MM like 19:30, or 7pm")


def parse_times(spec: str) -> tuple[time, ...]:
    parts = [part for part in (spec or "").split(",") if part.strip()]
    if not parts:
        raise ScheduleError("at least one time of day is needed, like 09:00")
    return tuple(sorted({parse_clock(part) for part in parts}))


def format_times(times: tuple[time, ...]) -> str:
    return ",".join(t.strftime("%H:%M") for t in times)


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone, or ScheduleError naming the input."""
    text = (name or "").strip()
    if not text or text not in available_zones():
        raise ScheduleError(f"time zone {name!r} is not an IANA time zone like America/New_York")
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"time zone {name!r} is not available on this system") from None


_ZONES: frozenset[str] | None = None


def available_zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


@lru_cache(maxsize=4096)
def recurrence(days: str, times: str) -> Recurrence:
    return Recurrence(parse_days(days)[1], parse_times(times))


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time; a time skipped by DST moves forward."""
    wall = datetime.combine(day, at)
    for minutes in range(0, 24 * 60):
        candidate = (wall + timedelta(minutes=minutes)).replace(tzinfo=zone, fold=0)
        as_utc = candidate.astimezone(UTC)
        if as_utc.astimezone(zone).replace(tzinfo=None) == candidate.replace(tzinfo=None):
            return as_utc
    raise ScheduleError(f"{wall} does not exist in {zone}")  # pragma: no cover - no such zone


def next_occurrence(rule: Recurrence, zone: ZoneInfo, after: datetime) -> datetime:
    """The first occurrence of ``rule`` strictly after the UTC instant ``after``."""
    start = after.astimezone(zone).date() - timedelta(days=1)
    for offset in range(0, 9):
        day = start + timedelta(days=offset)
        if day.weekday() not in rule.weekdays:
            continue
        for at in rule.times:
            instant = local_instant(day, at, zone)
            if instant > after:
                return instant
    raise ScheduleError("schedule has no occurrence in the coming week")  # pragma: no cover
