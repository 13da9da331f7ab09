"""The daily digest: each specialist's non-urgent flags, once a day at their chosen time.

Urgent flags are alerts (``service/alerts.py``); everything else a specialist
should see early (new messages, silence, low mood, little progress, failing
texts, opt-outs, follow-ups due) reaches them as one digest a day, by email or
by an SMS with counts only. A row per (specialist, local day), inserted before
anything is sent, makes it once a day however many planners run.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db import insert_skipping_duplicates
from service.flag_kinds import KIND_LABELS, KIND_ORDER
from service.models import Flag, Peer, Specialist, StaffDigest

CHANNELS = ("email", "sms")


def due_today(specialist: Specialist, now: datetime) -> date | None:
    """The local date whose digest is due for this specialist now, or None."""
    if specialist.digest_time is None or not specialist.is_active:
        return None
    local = now.astimezone(ZoneInfo(specialist.timezone or "UTC"))
    return local.date() if local.time() >= specialist.digest_time else None


def with_digests(session: Session) -> list[Specialist]:
    return list(
        session.scalars(
            select(Specialist).where(Specialist.digest_time.is_not(None), Specialist.is_active)
        )
    )


def counts(session: Session, specialist_id: int) -> list[dict[str, object]]:
    """Open non-urgent flags on the specialist's caseload, by kind, in caseload order."""
    rows = session.execute(
        select(Flag.kind, func.count(Flag.id))
        .join(Peer, Peer.id == Flag.peer_id)
        .where(
            Peer.specialist_id == specialist_id,
            Flag.resolved_at.is_(None),
            Flag.urgent.is_(False),
        )
        .group_by(Flag.kind)
    ).all()
    found = dict(rows)
    order = [kind for kind in KIND_ORDER if kind in found] + sorted(set(found) - set(KIND_ORDER))
    return [{"number": found[k], "label": KIND_LABELS.get(k, k).lower()} for k in order]


def claim(
    session: Session, specialist: Specialist, local_date: date, channel: str, address: str,
    now: datetime,
) -> int | None:  # fmt: skip
    """Insert today's digest row; its id, or None when another process already did."""
    row = {
        "specialist_id": specialist.id,
        "local_date": local_date,
        "channel": channel,
        "address": address,
        "body": "",
        "status": "sending",
        "created_at": now,
    }
    inserted = insert_skipping_duplicates(
        session, StaffDigest.__table__, [row], ["specialist_id", "local_date"]
    )
    return inserted[0] if inserted else None


def channel_for(specialist: Specialist) -> tuple[str, str]:
    """SMS (counts only) when chosen and there is a phone; email otherwise."""
    if specialist.digest_channel == "sms" and specialist.phone:
        return "sms", specialist.phone
    return "email", specialist.email
