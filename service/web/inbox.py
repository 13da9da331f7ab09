"""The caseload as an inbox: the peer's words behind each flag, their last text, ages.

A flag raised by a text (crisis, a new message, an unclear opt-out...) keeps the
id of that text (``Flag.inbound_message_id``); the caseload and the peer page
quote it, trimmed, and link to it in the conversation (``#message-<id>``). Flags
that no text raised (silence, little progress, a follow-up due) are put in plain
words by ``service/templates/flag_reason.html`` from what this module hands it.
Everything here is a few batched queries per page, never one per flag.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Flag, InboundMessage, Peer, Specialist

QUOTE_CHARS = 120  # a quoted text is cut near here, at a word when one ends close by
PREVIEW_CHARS = 80  # the caseload's preview of the last text


def trimmed(text: str | None, limit: int = QUOTE_CHARS) -> str:
    """``text`` on one line, cut to at most ``limit`` characters with an ellipsis."""
    flat = " ".join((text or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    at_word = cut.rsplit(" ", 1)[0]
    return (at_word if len(at_word) > limit * 2 // 3 else cut).rstrip(" ,.;:") + "\u2026"


def relative_age(at: datetime, now: datetime, zone: ZoneInfo) -> str:
    """How long ago, in words: "just now", "12 min ago", "3 h ago", "yesterday"..."""
    elapsed = now - at
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed < timedelta(hours=1):
        return f"{elapsed.seconds // 60} min ago"
    days = (now.astimezone(zone).date() - at.astimezone(zone).date()).days
    if days == 0 or elapsed < timedelta(hours=6):
        return f"{elapsed.seconds // 3600} h ago"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    local = at.astimezone(zone)
    same_year = local.year == now.astimezone(zone).year
    return local.strftime("%b %d" if same_year else "%b %d, %Y")


def full_time(at: datetime, zone: ZoneInfo) -> str:
    """The exact time in ``zone``, for the title of a relative age."""
    return at.astimezone(zone).strftime("%a %b %d %Y, %H:%M %Z")


def texts_behind(session: Session, flags: Iterable[Flag]) -> dict[int, InboundMessage]:
    """The texts that raised these flags, by id (one query)."""
    ids = {flag.inbound_message_id for flag in flags if flag.inbound_message_id}
    if not ids:
        return {}
    return {
        m.id: m for m in session.scalars(select(InboundMessage).where(InboundMessage.id.in_(ids)))
    }


def last_texts(session: Session, peer_ids: list[int]) -> dict[int, InboundMessage]:
    """Each peer's latest text, by peer id (one query; ids grow as texts arrive)."""
    latest = (
        select(func.max(InboundMessage.id))
        .where(InboundMessage.peer_id.in_(peer_ids))
        .group_by(InboundMessage.peer_id)
    )
    rows = session.scalars(select(InboundMessage).where(InboundMessage.id.in_(latest)))
    return {message.peer_id: message for message in rows}


def silent_days(
    flag: Flag, peer: Peer, last_text: InboundMessage | None, now: datetime
) -> int | None:
    """Days without a text behind a silence flag (None: the peer has texted since it)."""
    if last_text is not None and last_text.received_at >= flag.created_at:
        return None
    since = last_text.received_at if last_text is not None else peer.created_at
    return (now - since).days


def specialist_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the specialists with these ids (who resolved a flag, who made a change)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Specialist.id, Specialist.name).where(Specialist.id.in_(wanted)))
    return {person_id: name for person_id, name in rows}


def actor_id(actor: str) -> int | None:
    """The specialist id in an audit actor ("specialist:7"), or None for peer and system."""
    kind, _, number = actor.partition(":")
    return int(number) if kind == "specialist" and number.isdigit() else None
