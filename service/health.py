"""``GET /healthz``: is the database reachable, is Redis reachable."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from service.web import runtime

bp = Blueprint("health", __name__)


def check_database() -> str:
    try:
        with runtime().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


def check_redis() -> str:
    redis = runtime().redis
    if redis is None:
        return "error: REDIS_URL is not set"
    try:
        redis.ping()
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


@bp.get("/healthz")
def healthz():
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(value == "ok" for value in checks.values())
    failed = [name for name, value in checks.items() if value != "ok"]
    body = {"status": "ok" if healthy else "fail", "checks": checks, "failed": failed}
    return jsonify(body), 200 if healthy else 503
