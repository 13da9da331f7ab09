"""Sending the daily digests: run by the planner every minute, cheap when none is due."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update

from service import digest
from service.gateways import GatewayError
from service.mail import MailError
from service.messages import render_template
from service.models import StaffDigest
from service.runtime import Runtime
from workers.alerts import email_environment, send

log = logging.getLogger(__name__)


def send_digests(runtime: Runtime, now: datetime | None = None) -> int:
    """Send each digest due now that nobody has sent today; return how many were sent."""
    now = now or runtime.now()
    claimed = []
    with runtime.session_factory() as session, session.begin():
        for person in digest.with_digests(session):
            local_date = digest.due_today(person, now)
            if local_date is None:
                continue
            channel, address = digest.channel_for(person)
            digest_id = digest.claim(session, person, local_date, channel, address, now)
            if digest_id is not None:
                claimed.append((digest_id, channel, address, compose(runtime, session, person)))
    return sum(deliver(runtime, *item) for item in claimed)


def compose(runtime: Runtime, session, person) -> tuple[str, str] | None:
    """(subject, body), or None when nothing is open (the day is marked, nothing sent)."""
    items = digest.counts(session, person.id)
    if not items:
        return None
    settings = runtime.settings
    context = {"program_name": settings.program_name, "counts": items,
               "link": f"{settings.public_base_url}/", "name": person.name.split()[0]}  # fmt: skip
    if digest.channel_for(person)[0] == "sms":
        return "", render_template("staff_digest", "en", context).body
    text = email_environment().get_template("staff_digest.txt").render(context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def deliver(runtime: Runtime, digest_id: int, channel: str, address: str, words) -> int:
    if words is None:
        record(runtime, digest_id, status="empty")
        return 0
    subject, body = words
    try:
        provider_id = send(runtime, channel, address, subject, body)
    except (GatewayError, MailError) as error:
        log.warning("digest %s could not be sent: %s", digest_id, error)
        record(runtime, digest_id, status="failed", subject=subject or None, body=body)
        return 0
    record(runtime, digest_id, status="sent", subject=subject or None, body=body,
           provider_id=provider_id)  # fmt: skip
    log.info("digest %s sent (%s)", digest_id, channel)
    return 1


def record(runtime: Runtime, digest_id: int, **values) -> None:
    with runtime.session_factory() as session, session.begin():
        session.execute(update(StaffDigest).where(StaffDigest.id == digest_id).values(**values))
