"""The JSON API under ``/api/v1``: the dashboard's data for other tools, read-only.

A request carries ``Authorization: Bearer <token>``; tokens are created on the
Account page and stored as SHA-256 hashes. Permissions are the dashboard's: a
specialist sees their own caseload, an admin everyone's, and another
specialist's peer is 404 as if it did not exist. Every error is JSON:
``{"error": {"code": ..., "message": ...}}``. The OpenAPI document is at
``/api/v1/openapi.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, g, jsonify, request
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import HTTPException

from service import reports
from service.api_tokens import token_hash
from service.models import (
    ApiToken,
    CheckIn,
    Flag,
    Goal,
    InboundMessage,
    OutboundMessage,
    Peer,
    Specialist,
)
from service.web import runtime
from service.web.api_schema import document
from service.web.caseload import caseload
from service.web.extensions import limiter
from service.web.request_input import whole_number

bp = Blueprint("api", __name__, url_prefix="/api/v1")
API_RATE = "600 per minute"
MAX_LIMIT, DEFAULT_LIMIT = 200, 50
LAST_USED_EVERY = timedelta(minutes=5)  # not a write per request


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Caller:
    specialist_id: int
    is_admin: bool


def error_body(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error_body(error.status, error.code, error.message)


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    """JSON for every HTTP error under /api/ (routing errors included); pages elsewhere."""
    if not request.path.startswith("/api/"):
        return error
    code = (error.name or "error").lower().replace(" ", "_")
    return error_body(error.code or 500, code, error.description or error.name)


@dataclass(frozen=True)
class TokenUse:
    token_id: int
    caller: Caller


def bearer_secret() -> str | None:
    """The token in ``Authorization: Bearer <token>`` (scheme in any case), if any."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def identify_token() -> TokenUse | None:
    """The live token this request carries, looked up once per request."""
    if "api_token" not in g:
        secret = bearer_secret()
        g.api_token = look_up_token(secret) if secret else None
    return g.api_token


def look_up_token(secret: str) -> TokenUse | None:
    rt = runtime()
    with rt.session_factory() as session, session.begin():
        row = session.execute(
            select(ApiToken, Specialist)
            .join(Specialist, Specialist.id == ApiToken.specialist_id)
            .where(ApiToken.token_hash == token_hash(secret))
        ).first()
        if row is None or row.ApiToken.revoked_at is not None or not row.Specialist.is_active:
            return None
        token, person = row.ApiToken, row.Specialist
        now = rt.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_EVERY:
            token.last_used_at = now
        return TokenUse(token.id, Caller(person.id, person.role == "admin"))


@bp.before_request
def authenticate() -> None:
    if request.endpoint == "api.openapi":
        return
    if bearer_secret() is None:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    use = identify_token()
    if use is None:
        raise ApiError(401, "unauthorized", "the token is unknown or revoked")
    g.api_caller = use.caller


def rate_key() -> str:
    """Requests are counted per token once it is known to be one of ours (however the
    header is spelled); anything else, per address."""
    use = identify_token()
    if use is not None:
        return f"api:token:{use.token_id}"
    return f"api:anonymous:{get_remote_address()}"


limiter.limit(API_RATE, key_func=rate_key)(bp)


def caller() -> Caller:
    return g.api_caller


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = whole_number(raw, low, high)
    if value is None:
        raise ApiError(400, "bad_parameter", f"{name} must be a whole number from {low} to {high}")
    return value


def page_args() -> tuple[int, int]:
    return int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), int_arg("offset", 0, 0, 10**9)


def paged(items: list[dict[str, Any]], limit: int, offset: int):
    """One page; the query asked for limit + 1 rows to know whether there is a next one."""
    more = len(items) > limit
    return jsonify({"data": items[:limit], "next_offset": offset + limit if more else None})


def peers_query():
    return caseload(caller().specialist_id, caller().is_admin)


def visible_peer(session: Session, peer_id: int) -> Peer:
    """The peer, when it is on the caller's caseload (ids too large never reach here:
    the app's ``int`` route converter stops at what a column holds)."""
    peer = session.scalar(
        peers_query()
        .where(Peer.id == peer_id)
        .options(selectinload(Peer.goals).selectinload(Goal.schedules))
    )
    if peer is None:
        raise ApiError(404, "not_found", f"no peer {peer_id} on your caseload")
    return peer


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def peer_json(peer: Peer, now: datetime) -> dict[str, Any]:
    return {
        "id": peer.id,
        "name": peer.display_name,
        "phone": peer.phone,
        "timezone": peer.timezone,
        "language": peer.language,
        "consent": peer.consent,
        "status": peer.status(now),
        "specialist_id": peer.specialist_id,
        "encouragement": peer.encouragement,
        "created_at": iso(peer.created_at),
    }


def schedule_json(schedule) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "goal_id": schedule.goal_id,
        "kind": schedule.kind,
        "days": schedule.days,
        "times": schedule.times,
        "active": schedule.active,
        "next_due_at": iso(schedule.next_due_at) if schedule.active else None,
    }


def goal_json(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "text": goal.text,
        "position": goal.position,
        "active": goal.active,
        "schedules": [schedule_json(s) for s in goal.schedules],
    }


def flag_json(flag: Flag) -> dict[str, Any]:
    return {
        "id": flag.id,
        "peer_id": flag.peer_id,
        "kind": flag.kind,
        "urgent": flag.urgent,
        "detail": flag.detail,
        "created_at": iso(flag.created_at),
        "resolved_at": iso(flag.resolved_at),
    }


@bp.get("/peers")
def list_peers():
    limit, offset = page_args()
    with runtime().session_factory() as session:
        peers = session.scalars(peers_query().order_by(Peer.id).offset(offset).limit(limit + 1))
        now = runtime().now()
        return paged([peer_json(peer, now) for peer in peers], limit, offset)


@bp.get("/peers/<int:peer_id>")
def get_peer(peer_id: int):
    with runtime().session_factory() as session:
        return jsonify(peer_json(visible_peer(session, peer_id), runtime().now()))


@bp.get("/peers/<int:peer_id>/goals")
def list_goals(peer_id: int):
    with runtime().session_factory() as session:
        peer = visible_peer(session, peer_id)
        return jsonify({"data": [goal_json(goal) for goal in peer.goals]})


@bp.get("/peers/<int:peer_id>/schedules")
def list_schedules(peer_id: int):
    with runtime().session_factory() as session:
        peer = visible_peer(session, peer_id)
        return jsonify({"data": [schedule_json(s) for g in peer.goals for s in g.schedules]})


@bp.get("/peers/<int:peer_id>/checkins")
def list_checkins(peer_id: int):
    limit, offset = page_args()
    with runtime().session_factory() as session:
        peer = visible_peer(session, peer_id)
        rows = session.scalars(
            select(CheckIn)
            .where(CheckIn.peer_id == peer.id)
            .order_by(CheckIn.local_date.desc(), CheckIn.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
        items = [
            {
                "id": c.id,
                "goal_id": c.goal_id,
                "date": c.local_date.isoformat(),
                "result": c.result,
                "created_at": iso(c.created_at),
            }
            for c in rows
        ]
        return paged(items, limit, offset)


@bp.get("/peers/<int:peer_id>/messages")
def list_messages(peer_id: int):
    """Inbound and outbound, newest first, with delivery status and skip reasons."""
    limit, offset = page_args()
    with runtime().session_factory() as session:
        peer = visible_peer(session, peer_id)
        window = offset + limit + 1
        inbound = session.scalars(
            select(InboundMessage)
            .where(InboundMessage.peer_id == peer.id)
            .order_by(InboundMessage.received_at.desc())
            .limit(window)
        )
        outbound = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.peer_id == peer.id)
            .order_by(OutboundMessage.created_at.desc())
            .limit(window)
        )
        items = [
            {
                "direction": "in",
                "id": m.id,
                "at": iso(m.received_at),
                "kind": m.intent,
                "status": "received",
                "skip_reason": None,
                "error_code": None,
                "body": m.body,
            }
            for m in inbound
        ] + [
            {
                "direction": "out",
                "id": m.id,
                "at": iso(m.sent_at or m.due_at or m.created_at),
                "kind": m.kind,
                "status": m.status,
                "skip_reason": m.skip_reason,
                "error_code": m.error_code,
                "body": m.body,
            }
            for m in outbound
        ]
        items.sort(key=lambda item: item["at"] or "", reverse=True)
        return paged(items[offset:], limit, offset)


@bp.get("/peers/<int:peer_id>/flags")
def list_peer_flags(peer_id: int):
    with runtime().session_factory() as session:
        peer = visible_peer(session, peer_id)
        flags = session.scalars(
            select(Flag).where(Flag.peer_id == peer.id).order_by(Flag.created_at.desc())
        )
        return jsonify({"data": [flag_json(flag) for flag in flags]})


@bp.get("/flags")
def list_flags():
    """Open flags on the caseload (``open=false`` for resolved ones too), urgent first."""
    raw = request.args.get("open", "true").lower()
    if raw not in ("true", "false"):
        raise ApiError(400, "bad_parameter", "open must be true or false")
    limit, offset = page_args()
    with runtime().session_factory() as session:
        query = select(Flag).where(Flag.peer_id.in_(peers_query().with_only_columns(Peer.id)))
        if raw == "true":
            query = query.where(Flag.resolved_at.is_(None))
        flags = session.scalars(
            query.order_by(Flag.urgent.desc(), Flag.created_at.desc(), Flag.id)
            .offset(offset)
            .limit(limit + 1)
        )
        return paged([flag_json(flag) for flag in flags], limit, offset)


@bp.get("/reports/summary")
def reports_summary():
    """The program report (service/reports.py) for ``from``..``to``, both days included."""
    try:
        report_range = reports.parse_range(request.args.get("from"), request.args.get("to"))
    except reports.RangeError as error:
        raise ApiError(400, "bad_parameter", str(error)) from None
    outside = request.args.get("outside", "false").lower()
    if outside not in ("true", "false"):
        raise ApiError(400, "bad_parameter", "outside must be true or false")
    rt = runtime()
    with rt.session_factory() as session:
        person = session.get(Specialist, caller().specialist_id)
        today = rt.now().astimezone(ZoneInfo(person.timezone)).date()
        report = reports.Report.build(
            session, rt.settings, report_range, report_caseload(), rt.now(), today
        )
        figures = reports.summary(report)
    if outside == "true":
        figures = reports.hide_small_counts(figures, rt.settings.small_count_threshold)
    return jsonify(figures)


def report_caseload() -> int | None:
    """The caseload a report covers: a specialist's own; an admin's choice (None: all)."""
    if not caller().is_admin:
        return caller().specialist_id
    if request.args.get("specialist_id") is None:
        return None
    return int_arg("specialist_id", 0, 1, 2**31 - 1)


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
