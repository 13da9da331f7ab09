"""Dashboard forms for a peer's plan: add, change, pause, resume and remove goals, and
the encouragement cadence. Each change is audited and redirects back to the peer page
with a message saying what happened; a goal form that cannot be saved shows the peer page
again with each problem beside its field. Days and times come as plain choices and time
fields (or the older text fields), read by :mod:`service.web.peer_forms`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service import plans, queueing
from service.models import Goal, Peer
from service.quiet_hours import allowed_window
from service.settings import Settings
from service.web import runtime
from service.web.caseload import audit, peer_or_404
from service.web.dashboard import GoalProblems, render_peer_page
from service.web.peer_forms import (
    CADENCE_LABELS,
    SUMMARY_LABELS,
    companions_form,
    read_companions,
    read_goal,
    sentence,
)

bp = Blueprint("plans", __name__)
T = TypeVar("T")
GOAL_ACTIONS = {"pause": "goal paused", "resume": "goal resumed", "remove": "goal removed"}


def goal_of(peer: Peer, goal_id: int) -> Goal:
    goal = next((g for g in peer.goals if g.id == goal_id and g.active), None)
    if goal is None:
        abort(404)
    return goal


class GoalFormProblems(plans.PlanError):
    """A goal form's problems, by field: the peer page is shown again with them."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def change(
    peer_id: int,
    action: Callable[[Session, Peer], str],
    announce: dict | None = None,
    form_prefix: str | None = None,
) -> Response | tuple[str, int]:
    """Run one plan change in a transaction; flash its message or the reason it failed.

    ``announce``: filled by the action with the goal it added or changed, so the peer
    page offers to tell the peer, showing the text first. ``form_prefix``: the goal form
    it came from ("new-", "g<id>-"); a refused change shows the peer page again with
    every problem beside its field in that form and what was typed kept."""
    rt = runtime()
    try:
        with rt.session_factory() as session, session.begin():
            message = action(session, peer_or_404(session, peer_id))
        flash(message, "status")
    except plans.PlanError as error:
        if form_prefix is not None:
            errors = getattr(error, "errors", None) or {"form": sentence(str(error))}
            problems = GoalProblems(form_prefix, errors, request.form)
            return render_peer_page(peer_id, goal_problems=problems, status=400)
        flash(f"Not changed: {error}.", "error")
        announce = None
    if announce:
        target = url_for("dashboard.peer_page", peer_id=peer_id, **announce) + "#tell-peer"
        return redirect(target, code=303)
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id) + "#plan", code=303)


def read_or_refuse(reader: Callable[..., tuple[T | None, dict]], form: MultiDict,
                   settings: Settings, peer: Peer) -> T:  # fmt: skip
    """A peer-page form read against the peer's hours, or its problems raised by field."""
    fields, errors = reader(form, allowed_window(settings, peer))
    if fields is None:
        raise GoalFormProblems(errors)
    return fields


@bp.post("/peers/<int:peer_id>/goals")
@login_required
def add_goal(peer_id: int) -> Response | tuple[str, int]:
    form = request.form

    def act(session: Session, peer: Peer) -> str:
        rt = runtime()
        new = read_or_refuse(read_goal, form, rt.settings, peer)
        goal = plans.add_goal(session, rt.settings, peer, new.text, new.days, new.times, rt.now())
        session.flush()
        audit(session, "goal added", peer.id, goal=goal.text, days=new.days, times=new.times)
        announce.update(announce=goal.id)
        return f"Goal added: {goal.text}"

    announce: dict = {}
    return change(peer_id, act, announce, form_prefix="new-")


@bp.post("/peers/<int:peer_id>/goals/<int:goal_id>")
@login_required
def edit_goal(peer_id: int, goal_id: int) -> Response | tuple[str, int]:
    form = request.form

    def act(session: Session, peer: Peer) -> str:
        rt, goal = runtime(), goal_of(peer, goal_id)
        before = (goal.text, *(plans.schedule_fields(goal)))
        new = read_or_refuse(read_goal, form, rt.settings, peer)
        moved = plans.change_goal(
            session, rt.settings, goal, new.text, new.days, new.times, rt.now()
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
    return change(peer_id, act, announce, form_prefix=f"g{goal_id}-")


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
def encouragement(peer_id: int) -> Response | tuple[str, int]:
    """How often and when encouragement texts and the weekly summary go. A script may
    post only ``cadence`` (the older form): then only the cadence changes."""
    form = request.form

    def act(session: Session, peer: Peer) -> str:
        rt = runtime()
        before = companions_form(peer)
        if "encouragement" not in form and "cadence" in form:
            plans.set_encouragement(session, rt.settings, peer, form["cadence"], rt.now())
            changed = ["encouragement"]
        else:
            new = read_or_refuse(read_companions, form, rt.settings, peer)
            changed = [
                kind
                for kind, days, at in (
                    ("encouragement", new.cadence, new.encouragement_time),
                    ("summary", new.summary_day, new.summary_time),
                )
                if plans.set_companion(session, rt.settings, peer, kind, days, at, rt.now())
            ]
        session.flush()
        after = companions_form(peer)
        audit(session, "encouragement changed", peer.id, before=dict(before), after=dict(after))
        return companions_message(after) if changed else "Nothing changed."

    return change(peer_id, act, form_prefix="companions-")


def companions_message(values: MultiDict) -> str:
    cadence, day = values.get("encouragement", "off"), values.get("summary_day", "off")
    encouragement = (
        "Encouragement texts are off"
        if cadence == "off"
        else f"Encouragement texts {CADENCE_LABELS[cadence]} at {values.get('encouragement_time')}"
    )
    summary = (
        "no weekly summary"
        if day == "off"
        else f"the weekly summary on {SUMMARY_LABELS[day]} at {values.get('summary_time')}"
    )
    return f"{encouragement}; {summary}."


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
