"""PeerNudge: SMS accountability nudges for peer support programs."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from service.runtime import Runtime, build_runtime
from service.settings import Settings, load_settings


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
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    app.config["PROGRAM_NAME"] = settings.program_name
    app.config["RATELIMIT_STORAGE_URI"] = _limiter_storage(settings)
    app.config["RATELIMIT_ENABLED"] = settings.login_rate_limit
    runtime = build_runtime(settings)
    app.extensions["peernudge"] = runtime
    _init_extensions(app)
    _register_blueprints(app, settings)

    @app.context_processor
    def navigation() -> dict[str, Any]:
        return {"url_map_endpoints": set(app.view_functions)}

    app.after_request(security_headers)

    logging.basicConfig(level=logging.INFO)
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
    return response


def _settings(config: Settings | dict[str, Any] | None) -> Settings:
    if isinstance(config, Settings):
        return config
    settings = load_settings()
    return settings.with_overrides(**config) if config else settings


def _limiter_storage(settings: Settings) -> str:
    url = settings.redis_url
    if url is None:
        return "memory://"
    return "redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else url


def _init_extensions(app: Flask) -> None:
    from service.auth import login_manager
    from service.extensions import csrf, limiter

    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)


def _register_blueprints(app: Flask, settings: Settings) -> None:
    from service import auth, dashboard, health, simulator, webhooks
    from service.extensions import csrf

    app.register_blueprint(health.bp)
    csrf.exempt(webhooks.bp)  # Twilio signs these instead
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    if settings.sms_gateway == "simulator":
        app.register_blueprint(simulator.bp)


__all__ = ["Runtime", "create_app"]
