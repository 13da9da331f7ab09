"""``GET /metrics``: Prometheus' text format, for a scraper holding ``METRICS_TOKEN``.

Off (404) unless an operator chose a token. What is counted, and how every
process shares it, is :mod:`service.metrics`.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, request
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from service.metrics import exposition
from service.web import runtime

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format, for a scraper that sends ``Authorization: Bearer METRICS_TOKEN``."""
    token = runtime().settings.metrics_token
    if token is None:
        abort(404)  # off unless an operator chose a token
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), token.encode()):
        return Response(
            "metrics need Authorization: Bearer <METRICS_TOKEN>\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(exposition(runtime()), mimetype=CONTENT_TYPE_LATEST)
