"""Dashboard forms for a peer's plan: add, change, pause, resume and remove goals, and
the encouragement cadence. Each change is audited and redirects back to the peer page
with a message saying what happened (or why it could not). Days and times come as plain
choices and time fields (or the older text fields), read by :mod:`service.web.peer_forms`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import plans, queueing
from service.models import OPTED_IN, Goal, Peer
from service.quiet_hours import allowed_window
from service.web import runtime
from service.web.caseload import audit, peer_or_404
from service.web.peer_forms import read_schedule

bp = Blueprint("plans", __name__)
GOAL_ACTIONS = {"pause": "goal paused", "resume": "goal resumed", "remove": "goal removed"}


def goal_of(peer: Peer, goal_id: int) -> Goal:
    goal = next((g for g in peer.goals if g.id == goal_id and g.active), None)
    if goal is None:
        abort(404)
    return goal


def change(
    peer_id: int, action: Callable[[Session, Peer], str], announce: dict | None = None
) -> Response:
    """Run one plan change in a transaction; flash its message or the reason it failed.

    ``announce``: filled by the action with the goal it added or changed, so the peer
    page offers to tell the peer, showing the text first."""
    rt = runtime()
    try:
        with rt.session_factory() as session, session.begin():
            message = action(session, peer_or_404(session, peer_id))
        flash(message, "status")
    except plans.PlanError as error:
        flash(f"Not changed: {error}.", "error")
        announce = None
    if announce:
        target = url_for("dashboard.peer_page", peer_id=peer_id, **announce) + "#tell-peer"
        return redirect(target, code=303)
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id) + "#plan", code=303)


@bp.post("/peers/<int:peer_id>/goals")
@login_required
def add_goal(peer_id: int) -> Response:
    form = request.form

    def act(session: Session, peer: Peer) -> str:
        rt = runtime()
        days, times = read_schedule(form, allowed_window(rt.settings, peer))
        goal = plans.add_goal(
            session, rt.settings, peer, form.get("text", ""), days, times, rt.now()
        )
        session.flush()
        audit(session, "goal added", peer.id, goal=goal.text, days=days, times=times)
        announce.update(announce=goal.id)
        return f"Goal added: {goal.text}"

    announce: dict = {}
    return change(peer_id, act, announce)


@bp.post("/peers/<int:peer_id>/goals/<int:goal_id>")
@login_required
def edit_goal(peer_id: int, goal_id: int) -> Response:
    form = request.form

    def act(session: Session, peer: Peer) -> str:
        rt, goal = runtime(), goal_of(peer, goal_id)
        before = (goal.text, *(plans.schedule_fields(goal)))
        days, times = read_schedule(form, allowed_window(rt.settings, peer))
        moved = plans.change_goal(
            session, rt.settings, goal, form.get("text", ""), days, times, rt.now()
        )
        after = (goal.text, *(plans.schedule_fields(goal)))
        audit(session, "goal changed", peer.id, goal_id=goal.id, before=before, after=after)
        if after != before:
            announce.update(announce=goal.id, changed=1)
        return (
            "Check-in times changed; texts already planned for the old times are cancelled."
            if moved
            else "Goal saved."
        )

    announce: dict = {}
    return change(peer_id, act, announce)


@bp.post("/peers/<int:peer_id>/goals/<int:goal_id>/<any(pause, resume, remove):verb>")
@login_required
def goal_state(peer_id: int, goal_id: int, verb: str) -> Response:
    def act(session: Session, peer: Peer) -> str:
        rt, goal = runtime(), goal_of(peer, goal_id)
        if verb == "pause":
            plans.pause_goal(session, goal, rt.now())
            message = f"Check-ins for \u201c{goal.text}\u201d are paused."
        elif verb == "resume":
            plans.resume_goal(goal, rt.now())
            message = f"Check-ins for \u201c{goal.text}\u201d start again at the next time."
        else:
            plans.remove_goal(session, goal, rt.now())
            message = f"\u201c{goal.text}\u201d is off the plan (its history stays)."
        audit(session, GOAL_ACTIONS[verb], peer.id, goal_id=goal.id, goal=goal.text)
        return message

    return change(peer_id, act)


@bp.post("/peers/<int:peer_id>/encouragement")
@login_required
def encouragement(peer_id: int) -> Response:
    cadence = request.form.get("cadence", "")

    def act(session: Session, peer: Peer) -> str:
        rt = runtime()
        before = peer.encouragement
        plans.set_encouragement(session, rt.settings, peer, cadence, rt.now())
        audit(session, "encouragement changed", peer.id, before=before, after=cadence)
        return (
            "Encouragement texts are off."
            if cadence == "off"
            else (f"Encouragement texts: {cadence.replace('-', ' a ')}.")
        )

    return change(peer_id, act)


@bp.post("/peers/<int:peer_id>/goals/<int:goal_id>/tell")
@login_required
def tell_peer(peer_id: int, goal_id: int) -> Response:
    """Send the peer the text the page previewed: their goal, added or changed with them."""
    rt = runtime()
    changed = request.form.get("changed") == "1"
    try:
        with rt.session_factory() as session, session.begin():
            peer = peer_or_404(session, peer_id)
            goal = goal_of(peer, goal_id)
            message = plans.tell_peer_about_goal(
                session, rt.settings, peer, goal, changed, current_user.id, rt.now()
            )
            audit(session, "goal told to peer", peer.id, goal_id=goal.id, message=message.id)
            due = [(message.id, message.due_at)]
    except plans.PlanError as error:
        flash(f"Not sent: {error}.", "error")
        return redirect(url_for("dashboard.peer_page", peer_id=peer_id) + "#plan", code=303)
    queueing.enqueue_sends(rt, due)
    flash("The text about the goal is on its way.", "status")
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id) + "#plan", code=303)


def goal_news_offer(peer: Peer, args: dict) -> dict | None:
    """What the peer page shows after a goal was added or changed: the text it would send."""
    raw = str(args.get("announce") or "")
    goal_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    goal = next((g for g in peer.goals if g.id == goal_id and g.active), None)
    if goal is None or peer.consent != OPTED_IN:
        return None
    changed = args.get("changed") == "1"
    preview = plans.goal_news_preview(runtime().settings, peer, goal, changed)
    return {"goal": goal, "changed": changed, "text": preview.body}
