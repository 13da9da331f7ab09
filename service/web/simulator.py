"""The SMS simulator: a web page that acts as a peer's phone.

Outbound messages appear as they would on the phone (only what was actually
sent); a reply typed here is stored and handed on by ``accept_sms``, the same
code path as a real Twilio webhook, minus the signature: the answer appears
when a worker has handled it, as on a real phone. Registered only when
``SMS_GATEWAY=simulator``.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from service.inbound import IncomingSms, accept_sms
from service.models import Peer
from service.planned_texts import first_text_sentence, planned_texts
from service.web import runtime
from service.web.caseload import peer_or_404, thread, visible_peers
from service.web.request_input import whole_number

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

# What a phone shows: messages that left the system.
ON_THE_PHONE = {"sent", "delivered", "undelivered", "received"}
MAX_REPLY_CHARS = 1600


def phone_view(session: Session, peer: Peer) -> list[dict]:
    """What the phone shows; beside each text the peer sent, how PeerNudge read it
    ("not handled yet" until a worker has)."""
    return [
        {
            "direction": item["direction"],
            "body": item["body"],
            "at": item["at"].isoformat(),
            "reading": item.get("reading"),
        }
        for item in thread(session, peer)
        if item["status"] in ON_THE_PHONE
    ]


def empty_phone(session: Session, peer: Peer) -> str:
    """Why the phone has no texts yet, and when the first one will come."""
    rt = runtime()
    now = rt.now()
    texts = planned_texts(session, rt.settings, peer, now)
    return first_text_sentence(rt.settings, texts, peer, ZoneInfo(current_user.timezone), now)


@bp.get("/")
@login_required
def page():
    with runtime().session_factory() as session:
        peers = session.scalars(visible_peers().order_by(Peer.display_name)).all()
        selected = whole_number(request.args.get("peer")) or (peers[0].id if peers else None)
        return render_template("simulator.html", peers=peers, selected=selected)


@bp.get("/<int:peer_id>/messages")
@login_required
def messages(peer_id: int):
    with runtime().session_factory() as session:
        peer = peer_or_404(session, peer_id)
        shown = phone_view(session, peer)
        waiting = None if shown else empty_phone(session, peer)
        return jsonify({"peer": peer.display_name, "messages": shown, "waiting": waiting})


@bp.post("/<int:peer_id>/messages")
@login_required
def send(peer_id: int):
    text = (request.form.get("body") or "").strip()
    error = None
    if not text:
        error = "Type a message first."
    elif len(text) > MAX_REPLY_CHARS:
        error = f"Keep it under {MAX_REPLY_CHARS} characters."
    if error is not None:
        if wants_page():
            flash(error, "error")
            return redirect(url_for("simulator.page", peer=peer_id), 303)
        return jsonify({"error": error}), 400
    with runtime().session_factory() as session:
        phone = peer_or_404(session, peer_id).phone
    sms = IncomingSms(
        provider_id=f"SIM{uuid.uuid4().hex}",
        from_phone=phone,
        to_phone=runtime().settings.twilio_from_number,
        body=text,
    )
    accept_sms(runtime(), sms)
    if wants_page():
        return redirect(url_for("simulator.page", peer=peer_id), 303)
    return jsonify({"stored": sms.provider_id}), 201


def wants_page() -> bool:
    """A form the browser posted itself (the page's script had not started, or is off)
    is answered with the phone page again, not with the script's JSON."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"
