"""When a person is needed: an alert for every urgent flag, escalating until acknowledged.

An urgent flag (crisis, possible crisis) opens an :class:`~service.models.Alert`.
Its chain has three steps, repeated ``ALERT_REPEATS`` times: (1) the peer's
specialist, (2) whoever is on call now, (3) every admin. Each step waits
``ALERT_ESCALATE_AFTER_SECONDS`` for an acknowledgement before the next; a step
with nobody in it is skipped at once and recorded. After the last step's wait
the alert is ``exhausted`` (the flag stays on the caseload).

Every attempt to reach someone is an :class:`~service.models.AlertNotification`
row, unique per (alert, round, step, recipient, channel), inserted in the same
transaction as the conditional UPDATE that moves the alert to its next step:
two ticks, a replayed job or a flushed Redis never fire a step twice. Sending
those rows (SMS through the gateway, email over SMTP) is the worker's job
(``workers/alerts.py``).

Acknowledging is one conditional UPDATE (``WHERE status = 'open'``): the first
one wins, the chain stops, and everyone else who tries is told who took it.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from service import metrics, queueing, quiet_hours
from service.db import insert_skipping_duplicates
from service.flag_kinds import ALWAYS_URGENT
from service.messages import render_template
from service.models import (
    ALERT_ACKNOWLEDGED,
    ALERT_EXHAUSTED,
    ALERT_OPEN,
    ALERT_RESOLVED,
    SENT,
    Alert,
    AlertNotification,
    AuditEvent,
    Flag,
    OnCallShift,
    OutboundMessage,
    Peer,
    Specialist,
)
from service.runtime import Runtime
from service.settings import Settings
from service.understanding.normalise import normalise

log = logging.getLogger(__name__)

SPECIALIST_STEP, ON_CALL_STEP, ADMIN_STEP = 1, 2, 3
STEPS_PER_ROUND = 3
STEP_NAMES = {0: "reminder", 1: "specialist", 2: "on call", 3: "admins"}
REMINDER_ROUND = REMINDER_STEP = 0
ACK_PATTERN = re.compile(r"^(?:ack|okay|on it)(?:\s*(\d{4}))?$")
LINK_MAX_AGE_SECONDS = 24 * 3600
LINK_SALT = "peernudge-alert-ack"
# Staff texts that are not ACK get one explanation an hour (an auto-responder must not loop).
STAFF_HELP_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class AlertReach:
    """What the peer may honestly be told after their crisis text.

    ``told``: the alert went to at least one person who can be reached now.
    ``seen_at``: when nobody could be, the time (in the peer's zone) the
    specialist will next see it; None when that is today, within their hours.
    """

    told: bool
    seen_at: datetime | None = None


@dataclass(frozen=True)
class Acknowledgement:
    """The outcome of one attempt to take an alert."""

    won: bool
    alert_id: int
    peer_id: int
    peer_name: str
    taker_name: str
    taken_at: datetime


# --- opening ---------------------------------------------------------------------------


def open_alert(session: Session, runtime: Runtime, flag: Flag, now: datetime) -> AlertReach:
    """Open the alert for an urgent flag and fire its first step, in the caller's
    transaction; the notifications are queued for sending once it commits."""
    if flag.id is None:
        session.flush()
    alert = session.scalar(select(Alert).where(Alert.flag_id == flag.id))
    if alert is None:
        alert = Alert(
            flag_id=flag.id,
            peer_id=flag.peer_id,
            status=ALERT_OPEN,
            ack_code=new_ack_code(session),
            position=0,
            next_step_at=now,
            opened_at=now,
        )
        session.add(alert)
        session.flush()
        audit(session, "system", alert.peer_id, "alert_opened", now, alert=alert.id)
        metrics.count(runtime.redis, "peernudge_alerts_raised", kind=flag.kind)
    created = advance(session, runtime, alert, now)
    queue_after_commit(session, runtime, alert.id)
    return reach_for(session, alert, bool(created), now)


def new_ack_code(session: Session) -> str:
    """Four digits no other unfinished alert uses, so ``ACK 4821`` names one alert."""
    taken = set(
        session.scalars(
            select(Alert.ack_code).where(Alert.status.in_((ALERT_OPEN, ALERT_ACKNOWLEDGED)))
        )
    )
    for _ in range(50):
        code = f"{1000 + secrets.randbelow(9000)}"
        if code not in taken:
            return code
    return f"{1000 + secrets.randbelow(9000)}"  # 50 collisions: thousands open; ACK alone asks


def queue_after_commit(session: Session, runtime: Runtime, alert_id: int) -> None:
    """Queue the alert's sends when the caller's transaction commits (never before:
    a worker must find the rows)."""
    pending: set[int] = session.info.setdefault("alerts_to_deliver", set())
    if not pending:

        def after_commit(committed: Session) -> None:
            for queued_id in sorted(committed.info.pop("alerts_to_deliver", set())):
                queueing.enqueue_alert_delivery(runtime, queued_id)

        event.listen(session, "after_commit", after_commit, once=True)
    pending.add(alert_id)


def reach_for(session: Session, alert: Alert, told: bool, now: datetime) -> AlertReach:
    """Whether someone was told about this alert, or else when the specialist will see it."""
    if told or notified_count(session, alert.id) > 0:
        return AlertReach(told=True)
    peer = session.get(Peer, alert.peer_id)
    seen = quiet_hours.staff_back_at(peer.specialist, now)
    return AlertReach(False, seen.astimezone(ZoneInfo(peer.timezone)) if seen else None)


def notified_count(session: Session, alert_id: int) -> int:
    return session.scalar(
        select(func.count(AlertNotification.id)).where(
            AlertNotification.alert_id == alert_id, AlertNotification.recipient_id.is_not(None)
        )
    )


# --- the chain -------------------------------------------------------------------------


def chain_length(settings: Settings) -> int:
    return STEPS_PER_ROUND * settings.alert_repeats


def round_and_step(position: int) -> tuple[int, int]:
    """The (round, step) of the ``position``-th step fired (1-based)."""
    return (position - 1) // STEPS_PER_ROUND + 1, (position - 1) % STEPS_PER_ROUND + 1


def advance(session: Session, runtime: Runtime, alert: Alert, now: datetime) -> list[int]:
    """Fire what is due for an open alert: the next step with people in it (empty steps
    are skipped at once and recorded), or mark it exhausted. Returns new notification ids."""
    settings = runtime.settings
    while alert.status == ALERT_OPEN and alert.next_step_at and alert.next_step_at <= now:
        if alert.position >= chain_length(settings):
            if mark_exhausted(session, alert, now):
                metrics.count(runtime.redis, "peernudge_alerts_exhausted")
            return []
        if not claim_next_step(session, settings, alert, now):
            return []  # another tick fired it
        round_number, step = round_and_step(alert.position)
        people = recipients(session, alert, step, now)
        if people:
            return notify(session, alert, round_number, step, people, now)
        record_skip(session, alert, round_number, step, now)
    return []


def claim_next_step(session: Session, settings: Settings, alert: Alert, now: datetime) -> bool:
    """position -> position + 1, only if nobody else moved it: the step is ours to fire."""
    wait = timedelta(seconds=settings.alert_escalate_after_seconds)
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.position == alert.position, Alert.status == ALERT_OPEN)
        .values(position=alert.position + 1, next_step_at=now + wait)
        .execution_options(synchronize_session=False)
    )
    session.refresh(alert)
    return result.rowcount == 1


def recipients(session: Session, alert: Alert, step: int, now: datetime) -> list[Specialist]:
    """Who a step reaches: active staff, each once."""
    if step == SPECIALIST_STEP:
        people = [session.get(Peer, alert.peer_id).specialist]
    elif step == ON_CALL_STEP:
        people = on_call_now(session, now)
    else:
        people = list(
            session.scalars(
                select(Specialist).where(Specialist.role == "admin").order_by(Specialist.id)
            )
        )
    unique = {person.id: person for person in people if person is not None and person.is_active}
    return list(unique.values())


def on_call_now(session: Session, now: datetime) -> list[Specialist]:
    """Whoever has a shift covering this moment."""
    return list(
        session.scalars(
            select(Specialist)
            .join(OnCallShift, OnCallShift.specialist_id == Specialist.id)
            .where(OnCallShift.starts_at <= now, OnCallShift.ends_at > now, Specialist.is_active)
            .order_by(OnCallShift.starts_at)
        ).unique()
    )


def notify(
    session: Session,
    alert: Alert,
    round_number: int,
    step: int,
    people: list[Specialist],
    now: datetime,
) -> list[int]:
    """Insert one pending notification per person and channel (SMS when they have a
    phone, email always); rows that already exist are left alone."""
    rows = [
        notification_row(alert, round_number, step, person, channel, address, now)
        for person in people
        for channel, address in (("sms", person.phone), ("email", person.email))
        if address
    ]
    created = insert_notifications(session, rows)
    names = [person.name for person in people]
    audit(session, "system", alert.peer_id, "alert_sent", now, alert=alert.id,
          step=STEP_NAMES[step], round=round_number, to=names)  # fmt: skip
    return created


def notification_row(
    alert: Alert, round_number: int, step: int, person: Specialist, channel: str, address: str,
    now: datetime,
) -> dict:  # fmt: skip
    return {
        "alert_id": alert.id,
        "round": round_number,
        "step": step,
        "channel": channel,
        "recipient_id": person.id,
        "address": address,
        "status": "pending",
        "created_at": now,
    }


def insert_notifications(session: Session, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    unique = ["alert_id", "round", "step", "recipient_id", "channel"]
    return insert_skipping_duplicates(session, AlertNotification.__table__, rows, unique)


def record_skip(session: Session, alert: Alert, round_number: int, step: int, now: datetime):
    """Nobody in this step: a row says so, and the next step is due at once."""
    session.add(
        AlertNotification(
            alert_id=alert.id, round=round_number, step=step, channel="none", status="skipped",
            detail=f"nobody to reach ({STEP_NAMES[step]})", created_at=now,
        )
    )  # fmt: skip
    alert.next_step_at = now
    session.flush()
    audit(session, "system", alert.peer_id, "alert_step_skipped", now, alert=alert.id,
          step=STEP_NAMES[step], round=round_number)  # fmt: skip


def mark_exhausted(session: Session, alert: Alert, now: datetime) -> bool:
    """The whole chain ran without an acknowledgement; True if this call marked it."""
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status == ALERT_OPEN)
        .values(status=ALERT_EXHAUSTED, next_step_at=None, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(alert)
    if result.rowcount == 1:
        audit(session, "system", alert.peer_id, "alert_exhausted", now, alert=alert.id)
    return result.rowcount == 1


def remind_taker(session: Session, settings: Settings, alert: Alert, now: datetime) -> list[int]:
    """Acknowledged but not resolved in time: remind the person who took it, once."""
    due = alert.acknowledged_at + timedelta(seconds=settings.alert_resolve_within_seconds)
    if alert.status != ALERT_ACKNOWLEDGED or alert.reminded_at is not None or due > now:
        return []
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.reminded_at.is_(None))
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(alert)
    if result.rowcount != 1 or alert.taker is None:
        return []
    return notify(session, alert, REMINDER_ROUND, REMINDER_STEP, [alert.taker], now)


def close_for_flag(session: Session, flag_id: int, now: datetime) -> bool:
    """The flag was resolved: its alert is resolved too and nothing more is sent."""
    alert = session.scalar(select(Alert).where(Alert.flag_id == flag_id))
    if alert is None or alert.status == ALERT_RESOLVED:
        return False
    alert.status, alert.next_step_at, alert.closed_at = ALERT_RESOLVED, None, now
    cancel_pending(session, alert.id)
    audit(session, "system", alert.peer_id, "alert_resolved", now, alert=alert.id)
    return True


FOLLOW_UP_WITHIN = timedelta(hours=48)


def plan_follow_up(session: Session, flag: Flag, now: datetime) -> Flag | None:
    """After an urgent flag is resolved, a follow-up contact is due within 48 hours;
    it shows on the caseload until done and becomes an alert if missed."""
    if flag.kind not in ALWAYS_URGENT:
        return None
    follow_up = Flag(
        peer_id=flag.peer_id, kind="follow_up", urgent=False, created_at=now,
        due_at=now + FOLLOW_UP_WITHIN, detail="a follow-up contact is due within 48 hours",
    )  # fmt: skip
    session.add(follow_up)
    return follow_up


def mark_program_urgent(session: Session, settings: Settings, now: datetime) -> list[Flag]:
    """Open flags of the kinds this program marks urgent (``URGENT_FLAG_KINDS``) are
    urgent now; the tick then opens their alerts, the same chain a crisis gets."""
    if not settings.urgent_flag_kinds:
        return []
    marked = session.scalars(
        select(Flag).where(
            Flag.kind.in_(settings.urgent_flag_kinds),
            Flag.resolved_at.is_(None),
            Flag.urgent.is_(False),
        )
    ).all()
    for flag in marked:
        flag.urgent = True
        audit(session, "system", flag.peer_id, "flag_marked_urgent", now, flag=flag.id)
    session.flush()
    return list(marked)


def escalate_missed_follow_ups(session: Session, now: datetime) -> list[Flag]:
    """A follow-up not done in time is urgent now (the tick then opens its alert)."""
    missed = session.scalars(
        select(Flag).where(
            Flag.kind == "follow_up",
            Flag.resolved_at.is_(None),
            Flag.urgent.is_(False),
            Flag.due_at <= now,
        )
    ).all()
    for flag in missed:
        flag.urgent, flag.detail = True, "the follow-up contact after a crisis is overdue"
        audit(session, "system", flag.peer_id, "follow_up_missed", now, flag=flag.id)
    session.flush()
    return list(missed)


def cancel_pending(session: Session, alert_id: int) -> None:
    """Notifications not yet sent are not sent: the alert was taken or resolved."""
    session.execute(
        update(AlertNotification)
        .where(AlertNotification.alert_id == alert_id, AlertNotification.status == "pending")
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )


# --- acknowledging ---------------------------------------------------------------------


def acknowledge(
    session: Session, runtime: Runtime, alert: Alert, person: Specialist, via: str, now: datetime
) -> Acknowledgement:
    """Take the alert for ``person``; the first acknowledgement wins and stops the chain."""
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status.in_((ALERT_OPEN, ALERT_EXHAUSTED)))
        .values(
            status=ALERT_ACKNOWLEDGED,
            acknowledged_by=person.id,
            acknowledged_at=now,
            acknowledged_via=via,
            next_step_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(alert)
    won = result.rowcount == 1
    log.info("alert %s: %s by specialist %s via %s", alert.id, "taken" if won else "already taken",
             person.id, via)  # fmt: skip
    if won:
        cancel_pending(session, alert.id)
        audit(session, f"specialist:{person.id}", alert.peer_id, "alert_acknowledged", now,
              alert=alert.id, by=person.name, via=via, at=now.isoformat())  # fmt: skip
        seconds = (now - alert.opened_at).total_seconds()
        metrics.observe_alert_acknowledged(runtime.redis, seconds)
    else:
        audit(session, f"specialist:{person.id}", alert.peer_id, "alert_ack_too_late", now,
              alert=alert.id, by=person.name, via=via)  # fmt: skip
    return outcome(session, alert, won)


def outcome(session: Session, alert: Alert, won: bool) -> Acknowledgement:
    peer = session.get(Peer, alert.peer_id)
    taker = session.get(Specialist, alert.acknowledged_by) if alert.acknowledged_by else None
    return Acknowledgement(
        won=won,
        alert_id=alert.id,
        peer_id=peer.id,
        peer_name=first_name(peer.display_name),
        taker_name=taker.name if taker else "someone",
        taken_at=alert.acknowledged_at or alert.closed_at or alert.opened_at,
    )


def may_acknowledge(session: Session, person: Specialist, alert: Alert) -> bool:
    """The peer's specialist, an admin, or anyone the alert was sent to."""
    if person.role == "admin" or session.get(Peer, alert.peer_id).specialist_id == person.id:
        return True
    return was_notified(session, person.id, alert.id)


def was_notified(session: Session, specialist_id: int, alert_id: int) -> bool:
    return (
        session.scalar(
            select(AlertNotification.id).where(
                AlertNotification.alert_id == alert_id,
                AlertNotification.recipient_id == specialist_id,
            )
        )
        is not None
    )


def was_alerted_about(session: Session, specialist_id: int, peer_id: int) -> bool:
    """True when an alert about this peer that is not resolved was sent to them."""
    found = session.scalar(
        select(AlertNotification.id)
        .join(Alert, Alert.id == AlertNotification.alert_id)
        .where(
            Alert.peer_id == peer_id,
            Alert.status != ALERT_RESOLVED,
            AlertNotification.recipient_id == specialist_id,
        )
        .limit(1)
    )
    return found is not None


def first_name(display_name: str) -> str:
    parts = display_name.split()
    return parts[0] if parts else display_name


# --- staff texting in ------------------------------------------------------------------


def staff_by_phone(session: Session, phone: str) -> Specialist | None:
    """The specialist (active or not) whose mobile this is: staff are never peers."""
    return session.scalar(select(Specialist).where(Specialist.phone == phone))


def handle_staff_text(
    session: Session, runtime: Runtime, from_phone: str, body: str, now: datetime
) -> str | None:
    """A text from a staff member's phone; None when the number is not staff's.

    ``ACK`` takes the one alert open for them, ``ACK 4821`` a named one. Anything
    else gets a short explanation (at most hourly). Returns the reply ('' for none).
    """
    person = staff_by_phone(session, from_phone)
    if person is None:
        return None
    if not person.is_active:
        return ""  # a switched-off account takes nothing, and is not a peer either
    match = ACK_PATTERN.match(normalise(body[:200]).text)
    if match is None:
        return staff_help(session, runtime, person, now)
    alerts = ackable_alerts(session, person, match.group(1))
    if len(alerts) != 1:
        return ack_needs_code(session, runtime, person, alerts, match.group(1), now)
    result = acknowledge(session, runtime, alerts[0], person, "sms", now)
    return ack_reply(session, runtime, person, result, now)


def ackable_alerts(session: Session, person: Specialist, code: str | None) -> list[Alert]:
    """Alerts this person may take: by code among unfinished ones, or the open ones."""
    query = select(Alert).order_by(Alert.opened_at)
    if code is not None:
        query = query.where(
            Alert.ack_code == code,
            Alert.status.in_((ALERT_OPEN, ALERT_EXHAUSTED, ALERT_ACKNOWLEDGED)),
        )
    else:
        query = query.where(Alert.status.in_((ALERT_OPEN, ALERT_EXHAUSTED)))
    return [alert for alert in session.scalars(query) if may_acknowledge(session, person, alert)]


def ack_needs_code(
    session: Session, runtime: Runtime, person: Specialist, alerts: list[Alert], code: str | None,
    now: datetime,
) -> str:  # fmt: skip
    if not alerts:
        return staff_reply(session, runtime, person, "staff_ack_none", now, code=code or "")
    choices = [
        {"code": alert.ack_code, "peer_name": first_name(alert.peer.display_name)}
        for alert in alerts
    ]
    return staff_reply(session, runtime, person, "staff_ack_which", now, alerts=choices)


def ack_reply(
    session: Session, runtime: Runtime, person: Specialist, result: Acknowledgement, now: datetime
) -> str:
    kind = "staff_ack_confirmed" if result.won else "staff_ack_taken"
    zone = ZoneInfo(person.timezone or "UTC")
    return staff_reply(
        session, runtime, person, kind, now,
        peer_name=result.peer_name, taker=result.taker_name,
        at=result.taken_at.astimezone(zone), link=peer_link(runtime.settings, result.peer_id),
    )  # fmt: skip


def staff_help(session: Session, runtime: Runtime, person: Specialist, now: datetime) -> str:
    recent = session.scalar(
        select(func.count(OutboundMessage.id)).where(
            OutboundMessage.to_phone == person.phone,
            OutboundMessage.template.like("en/staff_help/%"),
            OutboundMessage.created_at >= now - STAFF_HELP_EVERY,
        )
    )
    return "" if recent else staff_reply(session, runtime, person, "staff_help", now)


def staff_reply(
    session: Session, runtime: Runtime, person: Specialist, kind: str, now: datetime, **context
) -> str:
    """Render a staff text (English) and keep it in the staff member's thread."""
    context.setdefault("program_name", runtime.settings.program_name)
    rendered = render_template(kind, "en", {"name": first_name(person.name), **context})
    session.add(
        OutboundMessage(
            peer_id=None, to_phone=person.phone, kind="staff_reply", status=SENT,
            body=rendered.body, template=rendered.template, segments=rendered.segments,
            due_at=now, sent_at=now, created_at=now,
        )
    )  # fmt: skip
    return rendered.body


# --- links -----------------------------------------------------------------------------


def peer_link(settings: Settings, peer_id: int) -> str:
    """The peer page's address (sign-in required), for staff texts and emails."""
    return f"{settings.public_base_url}/peers/{peer_id}"


def serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=LINK_SALT)


def ack_link(settings: Settings, notification_id: int) -> str:
    """The signed link in an alert email; it names the notification, so its recipient."""
    token = serializer(settings).dumps({"n": notification_id})
    return f"{settings.public_base_url}/alerts/ack/{token}"


class LinkError(ValueError):
    """An email link that is forged, expired or already used; the message says which."""


def notification_for_link(session: Session, settings: Settings, token: str) -> AlertNotification:
    """The email notification a link was made for, or LinkError."""
    try:
        data = serializer(settings).loads(token, max_age=LINK_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise LinkError("This link has expired. Open the peer's page instead.") from None
    except BadSignature:
        raise LinkError("This link is not valid.") from None
    notification = session.get(AlertNotification, int(data.get("n", 0)))
    if notification is None or notification.channel != "email":
        raise LinkError("This link is not valid.")
    return notification


def use_link(
    session: Session, runtime: Runtime, notification: AlertNotification, now: datetime
) -> Acknowledgement:
    """Acknowledge through an email link: once per link, by the person it was sent to."""
    result = session.execute(
        update(AlertNotification)
        .where(AlertNotification.id == notification.id, AlertNotification.link_used_at.is_(None))
        .values(link_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LinkError("This link has already been used.")
    person = session.get(Specialist, notification.recipient_id)
    return acknowledge(session, runtime, notification.alert, person, "email", now)


# --- what pages show -------------------------------------------------------------------


def alerts_by_flag(session: Session, peer_id: int) -> dict[int, Alert]:
    """The peer's alerts, keyed by flag id (the peer page shows them with the flags)."""
    alerts = session.scalars(select(Alert).where(Alert.peer_id == peer_id)).all()
    for alert in alerts:
        _ = alert.taker  # loaded while the session is open
    return {alert.flag_id: alert for alert in alerts}


def audit(
    session: Session, actor: str, peer_id: int | None, action: str, now: datetime, **detail
) -> None:
    session.add(
        AuditEvent(actor=actor, peer_id=peer_id, action=action, detail=detail, created_at=now)
    )
