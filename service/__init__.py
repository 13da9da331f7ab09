"""PeerNudge: SMS accountability nudges for peer support programs."""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from service import logs
from service.logs import configure_logging
from service.passwords import MAX_LENGTH, MIN_LENGTH
from service.redis_connection import limiter_storage_uri
from service.runtime import Runtime, build_runtime
from service.settings import Settings, load_settings
from service.web.request_input import DATABASE_ID_MAX, refuse_nul_bytes

log = logging.getLogger("service.requests")


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """Build the web app: settings, database, Redis, gateway and blueprints.

    ``config`` is a Settings object, or a dict of Settings fields that override
    what the environment says (tests pass one), or None for the environment.
    """
    settings = _settings(config)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_lifetime_hours),
        SESSION_REFRESH_EACH_REQUEST=True,  # the lifetime counts from the last request
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    app.config["PROGRAM_NAME"] = settings.program_name
    app.config["RATELIMIT_STORAGE_URI"] = limiter_storage_uri(settings)
    app.config["RATELIMIT_ENABLED"] = settings.login_rate_limit
    runtime = build_runtime(settings)
    app.extensions["peernudge"] = runtime
    _init_extensions(app)
    app.url_map.converters["int"] = DatabaseId
    _register_blueprints(app, settings)
    _trust_proxies(app, settings.trusted_proxy_hops)

    @app.context_processor
    def navigation() -> dict[str, Any]:
        return {
            "url_map_endpoints": set(app.view_functions),
            "password_min": MIN_LENGTH,
            "password_max": MAX_LENGTH,
        }

    app.before_request(tag_request)
    app.before_request(refuse_nul_bytes)
    app.after_request(security_headers)
    app.after_request(log_request)
    app.teardown_request(untag_request)

    configure_logging(settings.log_format, settings.log_level)
    return app


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def security_headers(response: Any) -> Any:
    """Headers every page carries: no framing, no sniffing, scripts only from us."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.extensions["peernudge"].settings.public_base_url.startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


HSTS = "max-age=31536000; includeSubDomains"


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind ``hops`` reverse proxies, take the client's address and scheme from them.

    Without it (0, the default) X-Forwarded-* headers are ignored: anyone could
    send one, and would pick the address the login rate limit counts.
    """
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


class DatabaseId(IntegerConverter):
    """``<int:...>`` in every route: ids a database column can hold, else 404 (an id
    of twenty digits would otherwise reach SQLite and fail as a 500)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DATABASE_ID_MAX)
        super().__init__(url_map, *args, **kwargs)


def tag_request() -> None:
    """Give the request an id (the caller's X-Request-ID if sane) for its log lines."""
    g.request_started = time.perf_counter()
    g.request_id_token = logs.request_id.set(
        logs.incoming_request_id(request.headers.get("X-Request-ID"))
    )


def log_request(response: Any) -> Any:
    """One line per request: method, route (never the query string), status, duration."""
    started = g.get("request_started")
    elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    request_id = logs.request_id.get()
    if request_id:
        response.headers["X-Request-ID"] = request_id
    log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed_ms)
    return response


def untag_request(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context: nothing to undo
            logs.request_id.reset(token)


def _settings(config: Settings | dict[str, Any] | None) -> Settings:
    if isinstance(config, Settings):
        return config
    settings = load_settings()
    return settings.with_overrides(**config) if config else settings


# The blueprints are imported inside the two functions below, not at the top: every
# process imports this package (a worker does, for service.models), and only the web
# app should pay for loading the web layer (Flask-Login, Flask-WTF, the blueprints).


def _init_extensions(app: Flask) -> None:
    from service.web.auth import login_manager
    from service.web.extensions import csrf, limiter

    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)


def _register_blueprints(app: Flask, settings: Settings) -> None:
    from service.web import (
        admin,
        alert_pages,
        api,
        auth,
        consent_views,
        dashboard,
        discharge_views,
        health,
        metrics,
        peer_details_views,
        plan_views,
        program,
        simulator,
        webhooks,
    )
    from service.web.extensions import csrf

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    csrf.exempt(webhooks.bp)  # Twilio signs these instead
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(plan_views.bp)
    app.register_blueprint(peer_details_views.bp)
    app.register_blueprint(discharge_views.bp)
    app.register_blueprint(consent_views.bp)
    app.register_blueprint(program.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(alert_pages.bp)
    csrf.exempt(api.bp)  # bearer tokens, no cookies
    app.register_blueprint(api.bp)
    if settings.sms_gateway == "simulator":
        app.register_blueprint(simulator.bp)


__all__ = ["Runtime", "create_app"]
