"""``GET /healthz``: is the database reachable, is Redis reachable."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from service import db
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


def check_migrations() -> str:
    try:
        return "ok" if db.migrations_current(runtime().engine) else "error: not current"
    except Exception as error:
        return f"error: {type(error).__name__}"


def report(checks: dict[str, str]):
    failed = [name for name, value in checks.items() if value != "ok"]
    body = {"status": "fail" if failed else "ok", "checks": checks, "failed": failed}
    return jsonify(body), 503 if failed else 200


@bp.get("/readyz")
def readyz():
    """Ready to serve: database, Redis, and the schema at the newest migration."""
    return report(
        {"database": check_database(), "redis": check_redis(), "migrations": check_migrations()}
    )


@bp.get("/healthz")
def healthz():
    """Alive and able to reach the database and Redis (each named when it fails)."""
    return report({"database": check_database(), "redis": check_redis()})
