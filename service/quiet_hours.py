"""Quiet hours: when automated texts may reach a peer, and when a specialist is away.

**Peers.** Nothing automated goes out outside the allowed window: from
``SEND_WINDOW_START`` to ``SEND_WINDOW_END`` (08:00-20:00 by default, the
strictest US state rule) in the peer's own time zone, narrowed by the peer's
own preferred hours. The one rule (:func:`allowed_window`) is checked

- at entry: a check-in time outside the window is refused with a message that
  gives the hours (:func:`check_times`; enrolment, plan changes, TIME 7pm), and
  the peer's own hours must leave some of the program's (:func:`preferred_hours_problem`);
- at send time: the sender skips an automated text in quiet hours, and holds a
  welcome or re-engagement text back until the window opens (:func:`allows`, :func:`next_opening`);
- for LATER: a check-in asked again that would land in quiet hours is planned for
  when the window next opens instead.

A specialist's one-off text is not automated: quiet hours only warn on the peer page.

**Staff.** A specialist's own quiet hours (20:00-08:00 until they set theirs)
decide what a peer in crisis is told: that a person has been told, or when the
specialist will next see the message (:func:`staff_back_at`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.models import Peer, Specialist
from service.recurrence import ScheduleError, format_times, local_instant, parse_times
from service.settings import Settings

# Kinds held back until the window opens instead of being skipped (the sender defers them).
DEFERRED_KINDS = frozenset({"welcome", "reengagement"})
# Until a specialist sets their own quiet hours, they are assumed away 20:00-08:00.
DEFAULT_STAFF_QUIET = (time(20, 0), time(8, 0))


# --- peers: the allowed window -----------------------------------------------------------


def allowed_window(settings: Settings, peer: Peer | None = None) -> tuple[time, time]:
    """The local window automated messages may use: the program's, narrowed by the peer's."""
    if peer is None:
        return narrowed_window(settings, None, None)
    return narrowed_window(settings, peer.window_start, peer.window_end)


def narrowed_window(
    settings: Settings, own_start: time | None, own_end: time | None
) -> tuple[time, time]:
    """The program's window narrowed by a peer's own hours (either may be None)."""
    start = time.fromisoformat(settings.window_start)
    end = time.fromisoformat(settings.window_end)
    if own_start is not None:
        start = max(start, own_start)
    if own_end is not None:
        end = min(end, own_end)
    return start, end


def within_window(at: time, start: time, end: time) -> bool:
    """True when a local time is inside the allowed window [start, end)."""
    return start <= at < end


def window_text(settings: Settings, peer: Peer | None = None) -> tuple[str, str]:
    """The window as the texts and pages show it: ("08:00", "20:00")."""
    start, end = allowed_window(settings, peer)
    return start.strftime("%H:%M"), end.strftime("%H:%M")


def allows(settings: Settings, peer: Peer, moment: datetime) -> bool:
    """True when ``moment`` (any time zone) is inside the peer's window, in their local time."""
    local = moment.astimezone(ZoneInfo(peer.timezone))
    return within_window(local.time(), *allowed_window(settings, peer))


def next_opening(settings: Settings, peer: Peer, moment: datetime) -> datetime:
    """The UTC instant the peer's window opens next: later today, or tomorrow."""
    zone = ZoneInfo(peer.timezone)
    local = moment.astimezone(zone)
    opens = allowed_window(settings, peer)[0]
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return local_instant(day, opens, zone)


# --- peers: checks at entry --------------------------------------------------------------


def check_times(times: str, window: tuple[time, time]) -> str:
    """Normalised times, or ScheduleError when one falls outside the window."""
    parsed = parse_times(times)
    start, end = window
    outside = [t for t in parsed if not within_window(t, start, end)]
    if outside:
        raise ScheduleError(
            f"{outside[0].strftime('%H:%M')} is outside the hours texts may be sent "
            f"({start.strftime('%H:%M')}-{end.strftime('%H:%M')} in the peer's time zone)"
        )
    return format_times(parsed)


def preferred_hours_problem(settings: Settings, peer: Peer) -> str | None:
    """Why the peer's own hours cannot be used (they must leave some of the program's),
    or None."""
    return hours_problem(settings, peer.window_start, peer.window_end)


def hours_problem(settings: Settings, own_start: time | None, own_end: time | None) -> str | None:
    """Why these own hours cannot be used (they must leave some of the program's), or None."""
    first, last = narrowed_window(settings, own_start, own_end)
    if first < last:
        return None
    start, end = window_text(settings)
    return (
        f"preferred hours must overlap the program's hours ({start}-{end}) and start before "
        "they end"
    )


# --- staff: a specialist's own quiet hours -----------------------------------------------


def staff_quiet_hours(specialist: Specialist) -> tuple[time, time]:
    """The specialist's own quiet hours for non-urgent notices (local start, end)."""
    if specialist.quiet_start is None or specialist.quiet_end is None:
        return DEFAULT_STAFF_QUIET
    return specialist.quiet_start, specialist.quiet_end


def in_quiet_hours(moment: time, start: time, end: time) -> bool:
    """True inside [start, end), which may run over midnight (20:00-08:00)."""
    if start == end:
        return False
    return start <= moment < end if start < end else moment >= start or moment < end


def staff_back_at(specialist: Specialist, now: datetime) -> datetime | None:
    """When the specialist's own quiet hours end, if they are in them now (else None)."""
    zone = ZoneInfo(specialist.timezone or "UTC")
    start, end = staff_quiet_hours(specialist)
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time(), start, end):
        return None
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, zone)
