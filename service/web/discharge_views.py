"""The peer page's Discharge and Re-enrol forms (the domain is service/discharge.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import discharge
from service.models import Peer
from service.web import runtime
from service.web.caseload import peer_or_404

bp = Blueprint("discharge", __name__)
DISCHARGED = "Discharged: automated texts have stopped. The history stays on this page."
RE_ENROLLED = "Enrolled again: check-ins start from their next time."


@bp.app_context_processor
def reasons() -> dict[str, Any]:
    return {"discharge_reasons": discharge.REASONS}


@bp.post("/peers/<int:peer_id>/discharge")
@login_required
def discharge_peer(peer_id: int) -> Response:
    reason = request.form.get("reason", "")

    def act(session: Session, peer: Peer, now: datetime) -> None:
        discharge.discharge(session, peer, reason, current_user.id, now)

    return change(peer_id, act, DISCHARGED)


@bp.post("/peers/<int:peer_id>/re-enrol")
@login_required
def re_enrol_peer(peer_id: int) -> Response:
    def act(session: Session, peer: Peer, now: datetime) -> None:
        discharge.re_enrol(session, peer, current_user.id, now)

    return change(peer_id, act, RE_ENROLLED)


def change(peer_id: int, action: Callable[[Session, Peer, datetime], None], done: str) -> Response:
    """Run the change in one transaction; say what happened, or why it could not."""
    rt = runtime()
    try:
        with rt.session_factory() as session, session.begin():
            action(session, peer_or_404(session, peer_id), rt.now())
        flash(done, "status")
    except discharge.DischargeError as error:
        flash(f"Not changed: {error}.", "error")
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id), code=303)
