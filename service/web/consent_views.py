"""The peer page's "Record that the peer asked to stop" form (the domain is
service/consent.py): a peer who says so in person or on the phone is opted out
as surely as one who texts STOP."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from service import consent
from service.web import runtime
from service.web.caseload import audit, peer_or_404

bp = Blueprint("consent", __name__)
RECORDED = "Recorded: no more texts go to this peer. Only the peer texting START restarts them."


@bp.app_context_processor
def told_by_choices() -> dict[str, Any]:
    return {"opt_out_told_by": consent.TOLD_BY}


@bp.post("/peers/<int:peer_id>/opt-out")
@login_required
def record_told_opt_out(peer_id: int) -> Response:
    rt = runtime()
    told_by = request.form.get("told_by", "")
    try:
        with rt.session_factory() as session, session.begin():
            peer = peer_or_404(session, peer_id)
            if request.form.get("confirm") != "yes":
                raise ValueError("Tick the box to confirm the peer asked to stop.")
            consent.record_told_opt_out(session, peer, told_by, current_user.id, rt.now())
            audit(session, "opt_out_recorded", peer.id, told_by=told_by)
        flash(RECORDED, "status")
    except ValueError as error:
        flash(f"Not recorded: {error}", "error")
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id), code=303)
