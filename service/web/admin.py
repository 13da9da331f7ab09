"""Admin pages: manage specialists and move peers between caseloads.

Only admins reach these (anyone else gets 404, as for a peer that is not
theirs). Every change is audited. An admin cannot lock themselves out.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from service.accounts import ROLES, AccountError, create_specialist
from service.models import AuditEvent, Peer, Specialist
from service.web import runtime
from service.web.auth import RESET_LINK_HOURS, end_sessions, reset_link
from service.web.caseload import audit, peer_or_404
from service.web.request_input import whole_number

bp = Blueprint("admin", __name__, url_prefix="/admin")
# What an admin is told about without being asked (see service/peers.py: NumberTaken).
ADMIN_NOTICES = ("enrolment refused",)


def admin_required(view: Any) -> Any:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def back() -> Response:
    return redirect(url_for("admin.specialists"), code=303)


@bp.get("/specialists")
@admin_required
def specialists() -> str:
    return specialists_page()


def specialists_page(reset: tuple[str, str] | None = None, status: int = 200) -> Any:
    """The accounts, recent notices for admins, and a reset link just issued (if any)."""
    with runtime().session_factory() as session:
        grouped = select(Peer.specialist_id, func.count()).group_by(Peer.specialist_id)
        counts = {specialist_id: number for specialist_id, number in session.execute(grouped)}
        people = session.scalars(select(Specialist).order_by(Specialist.name)).all()
        notices = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(ADMIN_NOTICES))
            .order_by(AuditEvent.created_at.desc())
            .limit(20)
        ).all()
        names = {f"specialist:{p.id}": p.name for p in people}
        return render_template(
            "admin.html",
            people=people,
            counts=counts,
            roles=ROLES,
            notices=notices,
            names=names,
            reset=reset,
            reset_hours=RESET_LINK_HOURS,
        ), status


@bp.post("/specialists")
@admin_required
def create() -> Response:
    form = request.form
    try:
        with runtime().session_factory() as session, session.begin():
            person = create_specialist(
                session,
                form.get("email", ""),
                form.get("name", ""),
                form.get("password", ""),
                form.get("role", "specialist"),
                form.get("phone"),
                runtime().settings.default_region,
            )
            audit(session, "specialist created", None, email=person.email, role=person.role)
        flash(f"{person.name} can sign in now.", "status")
    except AccountError as error:
        flash(f"Not created: {error}.", "error")
    return back()


@bp.post("/specialists/<int:specialist_id>")
@admin_required
def update(specialist_id: int) -> Response:
    """Change a specialist's role or switch their account on or off."""
    form = request.form
    with runtime().session_factory() as session, session.begin():
        person = session.get(Specialist, specialist_id) or abort(404)
        if person.id == current_user.id:
            flash("Not changed: you cannot change your own role or switch yourself off.", "error")
            return back()
        role, active = form.get("role", person.role), form.get("active", "yes") == "yes"
        if role not in ROLES:
            flash(f"Not changed: role must be one of {', '.join(ROLES)}.", "error")
            return back()
        before = {"role": person.role, "active": person.is_active}
        if before != {"role": role, "active": active}:
            end_sessions(person)  # they sign in again, with what they may do now
        person.role, person.is_active = role, active
        audit(
            session,
            "specialist changed",
            None,
            email=person.email,
            before=before,
            after={"role": role, "active": active},
        )
    flash(f"{person.name}: {role}, {'active' if active else 'switched off'}.", "status")
    return back()


@bp.post("/specialists/<int:specialist_id>/reset")
@admin_required
def reset(specialist_id: int) -> Any:
    """A one-time link for the specialist to choose a new password, shown to the admin.

    Issuing it signs the specialist out everywhere and voids any earlier link.
    """
    with runtime().session_factory() as session, session.begin():
        person = session.get(Specialist, specialist_id) or abort(404)
        refusal = reset_refusal(person)
        if refusal is not None:
            flash(refusal, "error")
            return back()
        end_sessions(person)
        audit(session, "password reset issued", None, email=person.email)
    return specialists_page(reset=(person.name, reset_link(person)), status=201)


def reset_refusal(person: Specialist) -> str | None:
    if person.id == current_user.id:
        return "No link: change your own password on the Account page."
    if not person.is_active:
        return f"No link: {person.name}'s account is switched off; switch it on first."
    return None


@bp.post("/peers/<int:peer_id>/specialist")
@admin_required
def reassign(peer_id: int) -> Response:
    """Move a peer to another specialist's caseload."""
    target = whole_number(request.form.get("specialist_id"))
    with runtime().session_factory() as session, session.begin():
        peer = peer_or_404(session, peer_id)
        person = session.get(Specialist, target) if target is not None else None
        if person is None or not person.is_active:
            flash("Not moved: choose an active specialist.", "error")
        else:
            before = peer.specialist_id
            peer.specialist_id = person.id
            audit(session, "peer reassigned", peer.id, before=before, after=person.id)
            flash(f"{peer.display_name} is now on {person.name}'s caseload.", "status")
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id), code=303)
