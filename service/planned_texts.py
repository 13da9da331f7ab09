"""What comes next for a peer: the texts planned, when each will really go, what holds it.

The peer page's "Next planned texts", the simulator's empty phone and the enrolment
confirmation all say the same thing from here. Two sources: rows already planned
(the welcome, a snoozed check-in, a specialist's text) and the schedules' next
occurrences. A welcome or re-engagement text planned outside the peer's hours
waits for them (the sender defers it to :func:`service.quiet_hours.next_opening`);
a text that will not go at all says why, in the words of the one rule
(:mod:`service.outbox_rules`): opted out, paused, on hold, discharged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import OPTED_IN, OPTED_OUT, PLANNED, SENDING, OutboundMessage, Peer
from service.outbox_rules import AUTOMATED_KINDS, HOLD_REASON, REPLY
from service.quiet_hours import DEFERRED_KINDS, allows, next_opening, window_text
from service.recurrence import next_occurrence, recurrence
from service.settings import Settings

# What a held text is waiting on, in the dashboard's words.
HELD_LABELS = {
    "opted_out": "not sent: opted out (texted STOP); nothing goes until they text START",
    "not_opted_in": "not sent: no consent recorded",
    "discharged": "not sent: discharged",
    "paused": "skipped: paused",
    "crisis_hold": "skipped: on hold after crisis language",
    "opt_out_unclear": "held: until it is clear whether they want fewer texts or none",
}
KIND_WORDS = {
    "welcome": "welcome",
    "checkin": "check-in",
    "encouragement": "encouragement text",
    "summary": "weekly summary",
    "reengagement": "gentle check-in",
    "milestone": "milestone text",
    "direct": "text from the specialist",
}


@dataclass(frozen=True)
class PlannedText:
    """One text to come: when it goes (UTC), what it is, and what holds it (None: nothing)."""

    at: datetime
    kind: str
    goal: str | None = None
    held: str | None = None
    waits_for_hours: bool = False  # planned earlier, it goes when the peer's hours open

    @property
    def words(self) -> str:
        return KIND_WORDS.get(self.kind, self.kind)


def held_reason(peer: Peer, kind: str, at: datetime) -> str | None:
    """Why a text of ``kind`` due at ``at`` will not go (the rule's reason), or None."""
    if peer.consent != OPTED_IN:
        return "opted_out" if peer.consent == OPTED_OUT else "not_opted_in"
    if kind not in AUTOMATED_KINDS:
        return None
    if peer.discharged_at is not None:
        return "discharged"
    if peer.paused_until is not None and at < peer.paused_until:
        return "paused"
    if peer.hold_until is not None and at < peer.hold_until:
        return peer.hold_reason or HOLD_REASON
    return None


def goes_at(
    settings: Settings, peer: Peer, kind: str, due_at: datetime, now: datetime
) -> tuple[datetime, bool]:
    """When a planned row really goes, and whether it is waiting for the peer's hours."""
    at = max(due_at, now)  # a row past due goes as soon as a worker takes it
    if kind not in DEFERRED_KINDS:
        return at, False
    if not allows(settings, peer, at):
        at = next_opening(settings, peer, at)
    return at, not allows(settings, peer, now)  # the sender has put it off, or will


def planned_rows(
    session: Session, settings: Settings, peer: Peer, now: datetime
) -> list[PlannedText]:
    """The rows planned for the peer (not replies: those go at once)."""
    rows = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.peer_id == peer.id,
            OutboundMessage.status.in_((PLANNED, SENDING)),
            OutboundMessage.kind != REPLY,
        )
    ).all()
    goals = {goal.id: goal.text for goal in peer.goals}
    found = []
    for row in rows:
        at, waits = goes_at(settings, peer, row.kind, row.due_at, now)
        held = held_reason(peer, row.kind, at)
        found.append(PlannedText(at, row.kind, goals.get(row.goal_id), held, waits and not held))
    return found


def scheduled(peer: Peer, count: int) -> list[PlannedText]:
    """The next occurrences of every active schedule, ``count`` of each at most."""
    zone, found = ZoneInfo(peer.timezone), []
    for goal in peer.goals:
        for schedule in goal.schedules:
            if goal.active and schedule.active and schedule.next_due_at:
                at, rule = schedule.next_due_at, recurrence(schedule.days, schedule.times)
                for _ in range(count):
                    found.append(PlannedText(at, schedule.kind, goal.text,
                                             held_reason(peer, schedule.kind, at)))  # fmt: skip
                    at = next_occurrence(rule, zone, at)
    return found


def planned_texts(
    session: Session, settings: Settings, peer: Peer, now: datetime, count: int = 5
) -> list[PlannedText]:
    """The next ``count`` texts for the peer, soonest first, each with what holds it."""
    found = planned_rows(session, settings, peer, now) + scheduled(peer, count)
    return sorted(found, key=lambda text: (text.at, text.kind))[:count]


def first_live(texts: list[PlannedText]) -> PlannedText | None:
    return next((text for text in texts if text.held is None), None)


# --- how the pages say it ----------------------------------------------------------------


def clock_words(at: datetime, zone: ZoneInfo, now: datetime) -> str:
    """ "08:00", "tomorrow 08:00" or "Tue Dec 02 08:00", in ``zone``."""
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    days = (local.date() - today).days
    if days == 0:
        return local.strftime("%H:%M")
    if days == 1:
        return f"tomorrow {local.strftime('%H:%M')}"
    return local.strftime("%a %b %d %H:%M")


def both_zones(at: datetime, peer: Peer, my_zone: ZoneInfo, now: datetime) -> str:
    """ "08:00 Sam's time (14:00 yours)"; one time when both zones agree."""
    theirs = clock_words(at, ZoneInfo(peer.timezone), now)
    mine = clock_words(at, my_zone, now)
    if theirs == mine:
        return f"{theirs} ({peer.display_name}'s time and yours)"
    return f"{theirs} {peer.display_name}'s time ({mine} yours)"


def waiting_sentence(
    settings: Settings, text: PlannedText, peer: Peer, my_zone: ZoneInfo, now: datetime
) -> str:
    start, end = window_text(settings, peer)
    return (
        f"The {text.words} is waiting for {peer.display_name}'s hours ({start}-{end}): "
        f"it goes at {both_zones(text.at, peer, my_zone, now)}."
    )


def first_text_sentence(
    settings: Settings, texts: list[PlannedText], peer: Peer, my_zone: ZoneInfo, now: datetime
) -> str:
    """Why a phone with no texts yet is empty, and when the first text will come."""
    if peer.consent == OPTED_OUT:
        return f"{peer.display_name} has opted out: nothing is sent until they text START."
    text = first_live(texts)
    if text is None:
        held = texts[0].held if texts else None
        if held:
            return f"Nothing will come yet ({HELD_LABELS.get(held, held)})."
        return f"Nothing is planned for {peer.display_name} yet."
    if text.waits_for_hours:
        return waiting_sentence(settings, text, peer, my_zone, now)
    if (text.at - now).total_seconds() <= 60:
        return f"The {text.words} is on its way: it appears here within seconds."
    return f"The first text, the {text.words}, goes at {both_zones(text.at, peer, my_zone, now)}."
