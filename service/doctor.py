"""``peernudge doctor``: is this installation able to do its job, and if not, why.

Each check answers ok, warn (works, but not as production should) or fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from service import db
from service.runtime import Runtime


@dataclass(frozen=True)
class Finding:
    check: str
    level: str  # ok | warn | fail
    detail: str


def check_database(runtime: Runtime) -> list[Finding]:
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = db.migrations_current(runtime.engine)
    except Exception as error:
        return [Finding("database", "fail", f"cannot connect: {type(error).__name__}")]
    if not current:
        return [Finding("database", "fail", "migrations are not current: run peernudge db upgrade")]
    kind = runtime.engine.dialect.name
    level = "ok" if kind == "postgresql" else "warn"
    detail = (
        "PostgreSQL, migrations current"
        if level == "ok"
        else ("SQLite: fine for one machine; use PostgreSQL to run on several")
    )
    return [Finding("database", level, detail)]


def check_redis(runtime: Runtime) -> list[Finding]:
    if runtime.redis is None:
        return [Finding("redis", "fail", "REDIS_URL is not set")]
    try:
        runtime.redis.ping()
    except Exception as error:
        return [Finding("redis", "fail", f"cannot connect: {type(error).__name__}")]
    findings = [Finding("redis", "ok", redis_description(runtime))]
    try:
        policy = runtime.redis.config_get("maxmemory-policy").get("maxmemory-policy")
        aof = runtime.redis.config_get("appendonly").get("appendonly")
        fsync = runtime.redis.config_get("appendfsync").get("appendfsync")
    except Exception:
        return [
            *findings,
            Finding("redis settings", "warn", "CONFIG GET is disabled; check by hand"),
        ]
    if policy != "noeviction":
        findings.append(
            Finding(
                "redis settings",
                "fail",
                f"maxmemory-policy is {policy}: set noeviction or jobs can vanish",
            )
        )
    if aof != "yes":
        findings.append(
            Finding(
                "redis settings",
                "warn",
                "appendonly is off: set appendonly yes, appendfsync everysec",
            )
        )
    elif fsync not in ("everysec", "always"):
        findings.append(
            Finding(
                "redis settings",
                "warn",
                f"appendfsync is {fsync}: set everysec so a crash loses at most a second",
            )
        )
    return findings


def redis_description(runtime: Runtime) -> str:
    settings = runtime.settings
    if not settings.redis_sentinels:
        return "reachable"
    pool = runtime.redis.connection_pool
    host, port = pool.get_master_address()  # type: ignore[attr-defined]
    return f"master {settings.redis_sentinel_master} at {host}:{port}, found through Sentinel"


def check_metrics(runtime: Runtime) -> list[Finding]:
    if runtime.settings.metrics_token is None:
        return [Finding("metrics", "warn", "/metrics is off: set METRICS_TOKEN to scrape it")]
    return [Finding("metrics", "ok", "/metrics answers with Authorization: Bearer METRICS_TOKEN")]


def check_twilio(runtime: Runtime) -> list[Finding]:
    settings = runtime.settings
    if settings.sms_gateway != "twilio":
        return [Finding("sms gateway", "warn", "simulator: texts stay on this machine")]
    try:
        gateway = runtime.gateway
        account = gateway.client.api.v2010.accounts(settings.twilio_account_sid).fetch()  # type: ignore[attr-defined]
    except Exception as error:
        return [
            Finding(
                "twilio", "fail", f"credentials refused or API unreachable ({type(error).__name__})"
            )
        ]
    return [Finding("twilio", "ok", f"account status {account.status}")]


def check_public_url(runtime: Runtime) -> list[Finding]:
    url = runtime.settings.public_base_url
    if runtime.settings.sms_gateway == "twilio" and not url.startswith("https://"):
        return [Finding("public url", "fail", "PUBLIC_BASE_URL must be the https URL Twilio calls")]
    return [Finding("public url", "ok", url)]


def diagnose(runtime: Runtime) -> list[Finding]:
    return [
        *check_database(runtime),
        *check_redis(runtime),
        *check_twilio(runtime),
        *check_public_url(runtime),
        *check_metrics(runtime),
    ]
