"""Small helpers shared by the blueprints."""

from __future__ import annotations

from flask import current_app

from service.runtime import Runtime


def runtime() -> Runtime:
    """The runtime the app factory built for this app."""
    return current_app.extensions["peernudge"]
