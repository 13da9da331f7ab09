"""Alert pages: "I'm on it", the email link, the on-call rota, the outbox, the staff phone.

The outbox (emails when no SMTP server is configured) and the staff phone (a
specialist's own simulated phone, for ACK) are the alert chain's stand-ins in
the embedded default, beside the peer simulator.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from service import alerts
from service.inbound import IncomingSms, accept_sms
from service.mail import smtp_configured
from service.models import (
    Alert,
    AlertNotification,
    InboundMessage,
    OnCallShift,
    OutboundMessage,
    Specialist,
    StaffDigest,
)
from service.web import runtime
from service.web.admin import admin_required
from service.web.caseload import audit
from service.web.request_input import whole_number

bp = Blueprint("alerts", __name__)
MAX_STAFF_TEXT = 160
# Machine-facing routes, which never render the header.
UNTOUCHED_BLUEPRINTS = {"webhooks", "api", "health", "metrics"}


@bp.before_app_request
def look_up_on_call() -> None:
    """Who is on call now, for the header of signed-in pages.

    Read before the view opens its own session: a second SQLite transaction in
    the same thread while rendering would wait on the first one's lock.
    """
    if request.method != "GET" or request.blueprint in UNTOUCHED_BLUEPRINTS:
        return
    if current_user.is_authenticated:
        with runtime().session_factory() as session:
            g.on_call_names = [p.name for p in alerts.on_call_now(session, runtime().now())]


@bp.app_context_processor
def on_call_header() -> dict[str, Any]:
    """The header's "On call now" names and whether the Outbox link is shown."""
    return {
        "on_call_names": g.get("on_call_names", []),
        "outbox_enabled": not smtp_configured(runtime().settings),
    }


# --- acknowledging ---------------------------------------------------------------------


@bp.post("/alerts/<int:alert_id>/ack")
@login_required
def acknowledge(alert_id: int) -> Response:
    """The dashboard's "I'm on it": the first to press it takes the alert."""
    rt = runtime()
    with rt.session_factory() as session, session.begin():
        alert = session.get(Alert, alert_id)
        person = session.get(Specialist, current_user.id)
        if alert is None or not alerts.may_acknowledge(session, person, alert):
            abort(404)
        result = alerts.acknowledge(session, rt, alert, person, "dashboard", rt.now())
    flash_outcome(result)
    return redirect(url_for("dashboard.peer_page", peer_id=result.peer_id), code=303)


def flash_outcome(result: alerts.Acknowledgement) -> None:
    if result.won:
        flash(f"The alert for {result.peer_name} is yours; nobody else will be paged.", "status")
        return
    zone = ZoneInfo(current_user.timezone) if current_user.is_authenticated else None
    at = result.taken_at.astimezone(zone).strftime("%H:%M") if zone else result.taken_at
    flash(f"{result.taker_name} already took the alert for {result.peer_name} at {at}.", "error")


@bp.route("/alerts/ack/<token>", methods=["GET", "POST"])
def email_link(token: str) -> tuple[str, int] | str:
    """The signed link in an alert email: a page with one button (mail scanners open
    links, so only the POST acknowledges); single use, expiring, no sign-in needed."""
    rt = runtime()
    with rt.session_factory() as session, session.begin():
        try:
            notification = alerts.notification_for_link(session, rt.settings, token)
            peer_name = alerts.first_name(notification.alert.peer.display_name)
            if request.method == "GET":
                return render_template("alert_link.html", peer_name=peer_name, result=None)
            result = alerts.use_link(session, rt, notification, rt.now())
        except alerts.LinkError as error:
            return render_template("alert_link.html", error=str(error), result=None), 410
    return render_template("alert_link.html", peer_name=result.peer_name, result=result)


# --- on call ---------------------------------------------------------------------------


@bp.get("/admin/on-call")
@admin_required
def on_call() -> str:
    """The on-call rota: current and coming shifts, and a form to add one."""
    now = runtime().now()
    with runtime().session_factory() as session:
        shifts = session.scalars(
            select(OnCallShift).where(OnCallShift.ends_at > now).order_by(OnCallShift.starts_at)
        ).all()
        people = session.scalars(
            select(Specialist).where(Specialist.is_active).order_by(Specialist.name)
        ).all()
        rows = [(shift, shift.specialist.name) for shift in shifts]
        return render_template(
            "on_call.html", rows=rows, people=people, now=now, zone=ZoneInfo(current_user.timezone)
        )


@bp.post("/admin/on-call")
@admin_required
def add_shift() -> Response:
    """A shift from one local time to another, in the admin's own time zone."""
    form, zone = request.form, ZoneInfo(current_user.timezone)
    starts, ends = shift_time(form.get("starts_at"), zone), shift_time(form.get("ends_at"), zone)
    if starts is None or ends is None:
        flash("Not added: give a start and an end like 2026-12-01T18:00.", "error")
        return redirect(url_for("alerts.on_call"), code=303)
    with runtime().session_factory() as session, session.begin():
        specialist_id = whole_number(form.get("specialist_id"))
        person = session.get(Specialist, specialist_id) if specialist_id else None
        if person is None or not person.is_active or ends <= starts:
            flash("Not added: choose an active specialist and an end after the start.", "error")
            return redirect(url_for("alerts.on_call"), code=303)
        shift = OnCallShift(specialist_id=person.id, starts_at=starts, ends_at=ends)
        shift.created_by, shift.created_at = current_user.id, runtime().now()
        session.add(shift)
        audit(session, "on-call shift added", None, who=person.name,
              starts=starts.isoformat(), ends=ends.isoformat())  # fmt: skip
    flash(f"{person.name} is on call from {starts:%b %d %H:%M} to {ends:%b %d %H:%M}.", "status")
    return redirect(url_for("alerts.on_call"), code=303)


def shift_time(raw: str | None, zone: ZoneInfo) -> datetime | None:
    """A local date and time from the form (``2026-12-01T18:00``), or None."""
    try:
        value = datetime.fromisoformat((raw or "").strip()[:32])
    except ValueError:
        return None
    return value.replace(tzinfo=zone) if 2000 <= value.year <= 2100 else None


@bp.post("/admin/on-call/<int:shift_id>/delete")
@admin_required
def remove_shift(shift_id: int) -> Response:
    """Delete a shift (audited)."""
    with runtime().session_factory() as session, session.begin():
        shift = session.get(OnCallShift, shift_id) or abort(404)
        audit(session, "on-call shift removed", None, who=shift.specialist.name,
              starts=shift.starts_at.isoformat())  # fmt: skip
        session.delete(shift)
    flash("Shift removed.", "status")
    return redirect(url_for("alerts.on_call"), code=303)


# --- the embedded default's stand-ins --------------------------------------------------


@bp.get("/outbox/")
@login_required
def outbox() -> str:
    """Alert emails kept here because no SMTP server is configured (an admin sees all)."""
    if smtp_configured(runtime().settings):
        abort(404)
    with runtime().session_factory() as session:
        query = select(AlertNotification).where(
            AlertNotification.channel == "email", AlertNotification.body.is_not(None)
        )
        if not current_user.is_admin:
            query = query.where(AlertNotification.recipient_id == current_user.id)
        emails = list(session.scalars(query.order_by(AlertNotification.id.desc()).limit(100)))
        digests = select(StaffDigest).where(
            StaffDigest.channel == "email", StaffDigest.status == "sent"
        )
        if not current_user.is_admin:
            digests = digests.where(StaffDigest.specialist_id == current_user.id)
        emails += session.scalars(digests.order_by(StaffDigest.id.desc()).limit(30))
        return render_template("outbox.html", emails=emails)


def staff_thread(session: Any, phone: str) -> list[dict[str, Any]]:
    """What a staff member's phone shows: alert texts, our replies, their own texts."""
    alerts_sent = session.scalars(
        select(AlertNotification).where(
            AlertNotification.address == phone,
            AlertNotification.channel == "sms",
            AlertNotification.status.in_(("sent", "delivered", "undelivered")),
        )
    ).all()
    replies = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.to_phone == phone, OutboundMessage.kind == "staff_reply"
        )
    ).all()
    texts = session.scalars(select(InboundMessage).where(InboundMessage.from_phone == phone)).all()
    digests = session.scalars(
        select(StaffDigest).where(
            StaffDigest.address == phone, StaffDigest.channel == "sms", StaffDigest.status == "sent"
        )
    ).all()
    items = [{"direction": "out", "body": n.body, "at": n.sent_at} for n in alerts_sent]
    items += [{"direction": "out", "body": d.body, "at": d.created_at} for d in digests]
    items += [{"direction": "out", "body": m.body, "at": m.created_at} for m in replies]
    items += [{"direction": "in", "body": m.body, "at": m.received_at} for m in texts]
    return sorted(items, key=lambda item: item["at"])


@bp.route("/simulator/staff", methods=["GET", "POST"])
@login_required
def staff_phone() -> Response | str:
    """The signed-in specialist's own phone, simulated: alert texts arrive, ACK goes out."""
    rt = runtime()
    if rt.settings.sms_gateway != "simulator":
        abort(404)
    with rt.session_factory() as session:
        phone = session.get(Specialist, current_user.id).phone
        if request.method == "GET":
            thread = staff_thread(session, phone) if phone else []
            return render_template("staff_phone.html", phone=phone, thread=thread)
    text = (request.form.get("body") or "").strip()[:MAX_STAFF_TEXT]
    if phone and text:
        sms = IncomingSms(f"SIM{uuid.uuid4().hex}", phone, rt.settings.twilio_from_number, text)
        accept_sms(rt, sms)  # answered by a worker, like a real phone's text
    return redirect(url_for("alerts.staff_phone"), code=303)
