"""Alerts to staff: the escalation tick (planner, every minute) and the sending job.

``escalate`` is safe to run twice at once and costs what is open: it opens an
alert for any urgent flag that lacks one, closes alerts whose flag was
resolved, fires each due step (``service.alerts.advance``), reminds whoever
took an alert that is still unresolved, and queues the sends. Without Redis,
or when Redis lost the jobs, it queues them again (or sends them itself).

``deliver_alert(alert_id)`` is the RQ job on the alerts queue: it claims each
pending notification (``pending -> sending``), sends it (SMS through the
gateway at the shared rate, email over SMTP or into the outbox) and records
the provider's id. A claimed row whose worker died is put back after
``SENDING_TIMEOUT_SECONDS``: staff may, rarely, get an alert twice; never none.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import alerts, queueing
from service.gateways import GatewayError
from service.mail import MailError, send_email
from service.messages import render_template
from service.models import (
    ALERT_ACKNOWLEDGED,
    ALERT_EXHAUSTED,
    ALERT_OPEN,
    Alert,
    AlertNotification,
    Flag,
)
from service.phones import last_four
from service.runtime import Runtime, current_runtime
from workers.sender import rate_limiter, wait_until

log = logging.getLogger(__name__)

EMAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "service" / "templates" / "email"
UNFINISHED = (ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_EXHAUSTED)


def deliver_alert(alert_id: int) -> dict[int, str]:
    """RQ job: send an alert's pending notifications; quiet when there are none."""
    return deliver(current_runtime(), alert_id)


# --- the tick --------------------------------------------------------------------------


def escalate(runtime: Runtime, now: datetime | None = None) -> int:
    """One escalation pass; return how many notifications it created."""
    now = now or runtime.now()
    with runtime.session_factory() as session, session.begin():
        alerts.escalate_missed_follow_ups(session, now)
        alerts.mark_program_urgent(session, runtime.settings, now)
        open_missing(session, runtime, now)
        close_resolved(session, now)
        created = sum(len(alerts.advance(session, runtime, a, now)) for a in due(session, now))
        for alert in reminders_due(session, runtime, now):
            created += len(alerts.remind_taker(session, runtime.settings, alert, now))
    send_pending(runtime, now)
    return created


def open_missing(session: Session, runtime: Runtime, now: datetime) -> None:
    """An urgent flag raised anywhere without its alert (or before alerts existed)."""
    flags = session.scalars(
        select(Flag)
        .outerjoin(Alert, Alert.flag_id == Flag.id)
        .where(Flag.urgent, Flag.resolved_at.is_(None), Alert.id.is_(None))
    ).all()
    for flag in flags:
        alerts.open_alert(session, runtime, flag, now)


def close_resolved(session: Session, now: datetime) -> None:
    rows = session.scalars(
        select(Alert.flag_id)
        .join(Flag, Flag.id == Alert.flag_id)
        .where(Alert.status.in_(UNFINISHED), Flag.resolved_at.is_not(None))
    ).all()
    for flag_id in rows:
        alerts.close_for_flag(session, flag_id, now)


def due(session: Session, now: datetime) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.status == ALERT_OPEN, Alert.next_step_at <= now)
            .order_by(Alert.next_step_at)
        )
    )


def reminders_due(session: Session, runtime: Runtime, now: datetime) -> list[Alert]:
    cutoff = now - timedelta(seconds=runtime.settings.alert_resolve_within_seconds)
    return list(
        session.scalars(
            select(Alert).where(
                Alert.status == ALERT_ACKNOWLEDGED,
                Alert.reminded_at.is_(None),
                Alert.acknowledged_at <= cutoff,
            )
        )
    )


def send_pending(runtime: Runtime, now: datetime) -> int:
    """Queue (or, without Redis, send) every alert with notifications waiting."""
    stale = now - timedelta(seconds=runtime.settings.sending_timeout_seconds)
    with runtime.session_factory() as session, session.begin():
        session.execute(
            update(AlertNotification)
            .where(AlertNotification.status == "sending", AlertNotification.claimed_at < stale)
            .values(status="pending")
        )
        ids = sorted(
            set(
                session.scalars(
                    select(AlertNotification.alert_id).where(AlertNotification.status == "pending")
                )
            )
        )
    for alert_id in ids:
        if runtime.alert_queue is None:
            deliver(runtime, alert_id)
        else:
            queueing.enqueue_alert_delivery(runtime, alert_id, now)
    return len(ids)


# --- sending ---------------------------------------------------------------------------


def deliver(runtime: Runtime, alert_id: int) -> dict[int, str]:
    """Send each pending notification of one alert; return what happened to each."""
    with runtime.session_factory() as session:
        ids = session.scalars(
            select(AlertNotification.id)
            .where(AlertNotification.alert_id == alert_id, AlertNotification.status == "pending")
            .order_by(AlertNotification.channel.desc(), AlertNotification.id)  # SMS first
        ).all()
    return {notification_id: deliver_one(runtime, notification_id) for notification_id in ids}


def deliver_one(runtime: Runtime, notification_id: int) -> str:
    prepared = claim_and_compose(runtime, notification_id)
    if isinstance(prepared, str):
        return prepared
    channel, address, subject, body = prepared
    try:
        provider_id = send(runtime, channel, address, subject, body)
    except (GatewayError, MailError) as error:
        return record_failure(runtime, notification_id, error)
    with runtime.session_factory() as session, session.begin():
        session.execute(
            update(AlertNotification)
            .where(AlertNotification.id == notification_id, AlertNotification.status == "sending")
            .values(status="sent", provider_id=provider_id, sent_at=runtime.now())
        )
    where = last_four(address) if channel == "sms" else "email"
    log.info("alert notification %s sent (%s, %s)", notification_id, channel, where)
    return "sent"


def claim_and_compose(runtime: Runtime, notification_id: int) -> str | tuple[str, str, str, str]:
    """pending -> sending, and the words, if the alert still wants it; else the outcome."""
    now = runtime.now()
    with runtime.session_factory() as session, session.begin():
        claimed = session.execute(
            update(AlertNotification)
            .where(AlertNotification.id == notification_id, AlertNotification.status == "pending")
            .values(status="sending", claimed_at=now)
        ).rowcount
        if not claimed:
            return "not-pending"
        notification = session.get(AlertNotification, notification_id)
        if not still_wanted(notification):
            notification.status = "cancelled"
            return "cancelled"
        subject, body = compose(runtime, session, notification, now)
        notification.subject, notification.body = subject or None, body
        return notification.channel, notification.address or "", subject, body


def still_wanted(notification: AlertNotification) -> bool:
    """A step goes out while its alert is open; a reminder while it is acknowledged."""
    if notification.step == alerts.REMINDER_STEP:
        return notification.alert.status == ALERT_ACKNOWLEDGED
    return notification.alert.status == ALERT_OPEN


def compose(
    runtime: Runtime, session: Session, notification: AlertNotification, now: datetime
) -> tuple[str, str]:
    """(subject, body) for this notification; SMS has no subject."""
    alert, settings = notification.alert, runtime.settings
    context = {
        "program_name": settings.program_name,
        "name": alerts.first_name(notification.recipient.name),
        "peer_name": alerts.first_name(alert.peer.display_name),
        "link": alerts.peer_link(settings, alert.peer_id),
        "code": alert.ack_code,
        "minutes": int((now - (alert.acknowledged_at or now)).total_seconds() // 60),
        "round": notification.round,
        "step": notification.step,
    }
    kind = "staff_reminder" if notification.step == alerts.REMINDER_STEP else "staff_alert"
    if notification.channel == "sms":
        return "", render_template(kind, "en", context).body
    context["ack_link"] = alerts.ack_link(settings, notification.id)
    subject, _, body = (
        email_environment().get_template(f"{kind}.txt").render(context).partition("\n")
    )
    return subject.strip(), body.strip() + "\n"


@lru_cache(maxsize=1)
def email_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(EMAIL_TEMPLATES)), undefined=StrictUndefined, autoescape=False
    )


def send(runtime: Runtime, channel: str, address: str, subject: str, body: str) -> str:
    """Hand one notification to its channel; the provider's id."""
    if channel == "sms":
        wait_until(rate_limiter(runtime).reserve())  # the sending number's rate, shared
        callback = f"{runtime.settings.public_base_url}/sms/status"
        return runtime.gateway.send_sms(address, body, callback)
    return send_email(runtime.settings, address, subject, body)


def record_failure(runtime: Runtime, notification_id: int, error: GatewayError | MailError) -> str:
    """Permanent: failed with its code. Transient: pending again, for the next tick."""
    status = "failed" if error.permanent else "pending"
    code = getattr(error, "code", None) or ("permanent" if error.permanent else "transient")
    with runtime.session_factory() as session, session.begin():
        session.execute(
            update(AlertNotification)
            .where(AlertNotification.id == notification_id)
            .values(status=status, error_code=str(code)[:20], detail=str(error)[:255])
        )
    log.warning("alert notification %s failed (%s): %s", notification_id, status, error)
    return f"{status}:{code}"
