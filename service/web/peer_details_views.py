"""The peer's details after enrolment (name, number, time zone, language, hours,
strengths, reasons), and the time zone a number gives, for the forms' script.

The same checks and error pattern as enrolment (:mod:`service.web.peer_forms`); what a
change does is :mod:`service.peer_details`. Each save is one audit event naming the
fields changed and who changed them; the peer's own words are not copied into it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from service import queueing
from service.models import OPTED_IN, Peer, Specialist
from service.peer_details import change_details
from service.peers import EnrolmentError, NumberTaken, check_phone
from service.phones import international_format, last_four, timezone_for_number
from service.web import runtime
from service.web.caseload import audit, peer_or_404
from service.web.peer_forms import form_context, read_peer_details, sentence

bp = Blueprint("details", __name__)
log = logging.getLogger(__name__)
# Values an audit event may show before and after; the rest are named only.
SHOWN_IN_AUDIT = ("timezone", "language", "window_start", "window_end")


def initial_form(peer: Peer) -> MultiDict:
    def clock(value: Any) -> str:
        return value.strftime("%H:%M") if value else ""

    return MultiDict(
        {
            "name": peer.display_name,
            "phone": international_format(peer.phone),
            "timezone": peer.timezone,
            "language": peer.language,
            "window_start": clock(peer.window_start),
            "window_end": clock(peer.window_end),
            "strengths": peer.strengths or "",
            "reasons": peer.reasons or "",
            "consent_method": peer.consent_method or "in person",
        }
    )


@bp.route("/peers/<int:peer_id>/details", methods=["GET", "POST"])
@login_required
def edit_peer(peer_id: int):
    """The details form; every problem at once, beside its field; nothing saved until none."""
    rt = runtime()
    with rt.session_factory() as session:
        peer = peer_or_404(session, peer_id)
        if request.method == "GET":
            return details_page(session, peer, initial_form(peer), {})
        me = session.get(Specialist, current_user.id)
        details, method, reading = read_peer_details(session, rt.settings, request.form, peer, me)
        if details is None:
            return details_page(session, peer, request.form, reading.ordered(), status=400)
    try:
        with rt.session_factory() as session, session.begin():
            peer, me = peer_or_404(session, peer_id), session.get(Specialist, current_user.id)
            before = {name: getattr(peer, name) for name in (*SHOWN_IN_AUDIT, "phone")}
            changed = change_details(session, rt.settings, me, peer, details, method, rt.now())
            record_change(session, peer, before, changed, method)
            consented = peer.consent == OPTED_IN
    except (NumberTaken, EnrolmentError) as error:  # a race with another change
        with rt.session_factory() as session:
            peer = peer_or_404(session, peer_id)
            field = "phone" if isinstance(error, NumberTaken) else "form"
            return details_page(session, peer, request.form, {field: sentence(str(error))}, 400)
    return after_save(peer_id, changed, consented)


def after_save(peer_id: int, changed: list[str], consented: bool):
    if "phone" in changed:
        queueing.enqueue_planned_for_peer(runtime(), peer_id)  # the welcome to the new number
    if not changed:
        flash("Nothing changed.", "status")
    elif "phone" in changed and not consented:
        flash(
            "Saved, but the new number opted out earlier: nothing is sent until the peer "
            "texts START from it.",
            "error",
        )
    else:
        flash("Details saved." + (" The welcome text goes to the new number." if
              "phone" in changed else ""), "status")  # fmt: skip
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id), code=303)


def record_change(
    session: Any, peer: Peer, before: dict[str, Any], changed: list[str], method: str | None
) -> None:
    """One audit event: who changed which fields; values only for the non-personal ones."""
    if not changed:
        return
    detail: dict[str, Any] = {"fields": changed}
    for name in SHOWN_IN_AUDIT:
        if name in changed:
            detail[name] = [shown(before[name]), shown(getattr(peer, name))]
    if "phone" in changed:
        detail["phone"] = [last_four(before["phone"]), last_four(peer.phone)]
        detail["consent_method"] = method
    audit(session, "details changed", peer.id, **detail)
    log.info("peer %s: details changed by specialist %s (%s)", peer.id, current_user.id,
             ", ".join(changed))  # fmt: skip


def shown(value: Any) -> Any:
    return value.strftime("%H:%M") if hasattr(value, "strftime") else value


def details_page(session: Any, peer: Peer, form: MultiDict, errors: dict, status: int = 200):
    context = form_context(session, runtime().settings, form, errors)
    return render_template("peer_details.html", peer=peer, **context), status


@bp.post("/peers/zone-for-number")
@login_required
def zone_for_number():
    """The zone a number gives, when it gives one (POST: a number never sits in a URL)."""
    try:
        phone = check_phone(request.form.get("phone", ""), runtime().settings.default_region)
    except ValueError:
        return {"zone": None}
    return {"zone": timezone_for_number(phone)}
