"""The web layer: every blueprint, and what they share (``runtime()``, caseload access).

Above the domain and never imported by it, nor by the workers (``.importlinter``).
"""

from __future__ import annotations

from flask import current_app

from service.runtime import Runtime


def runtime() -> Runtime:
    """The runtime the app factory built for this app."""
    return current_app.extensions["peernudge"]
