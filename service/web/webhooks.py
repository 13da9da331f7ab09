"""Twilio webhooks: ``POST /sms/inbound`` and ``POST /sms/status``.

Both check ``X-Twilio-Signature`` against the public URL Twilio used (proxies
rewrite scheme and host, so the request's own URL cannot be trusted), answer
403 to a bad signature, and never answer 5xx to bad input.

The signature joins each sorted name and value with no separator, so characters
can move between a value and the next field's name and still validate: drop
``NumMedia=0`` and append ``NumMedia0`` to ``MessageSid`` and an old signed text
looks new. Hence only exact SID shapes are accepted, every alias of the message
SID must agree, the account must be ours, and no field may be given twice.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, g, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from service import metrics
from service.delivery import apply_status_callback
from service.inbound import IncomingSms, accept_sms
from service.phones import PhoneError, normalize_phone
from service.web import runtime

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/sms")

MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGE_SID_ALIASES = ("SmsSid", "SmsMessageSid")
MAX_MEDIA = 10


def public_url() -> str:
    """The URL Twilio signed: the configured public base, this path and query."""
    base = runtime().settings.public_base_url
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) any request without a valid X-Twilio-Signature."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = runtime().settings.twilio_auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        if not token or not signature:
            abort(403)
        params = request.form.to_dict(flat=True)
        if not RequestValidator(token).validate(public_url(), params, signature):
            log.warning("webhook %s refused: bad signature", request.path)
            abort(403)
        if not from_our_account(request.form):
            log.warning("webhook %s refused: not our AccountSid", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def from_our_account(form: Any) -> bool:
    """AccountSid is the configured TWILIO_ACCOUNT_SID, and no field is repeated.

    With no account configured (the simulator, development) any real account SID
    shape is accepted, which still pins the field against re-splitting.
    """
    if any(len(values) > 1 for values in form.listvalues()):
        return False  # Twilio never repeats a field; the signature would cover only one
    account = form.get("AccountSid", "")
    configured = runtime().settings.twilio_account_sid
    if configured:
        return hmac.compare_digest(account, configured)
    return ACCOUNT_SID.fullmatch(account) is not None


def message_sid(form: Any) -> str | None:
    """MessageSid when it has a real shape and SmsSid / SmsMessageSid (if sent) equal it."""
    sid = form.get("MessageSid", "")
    if MESSAGE_SID.fullmatch(sid) is None:
        return None
    if any(form.get(alias, sid) != sid for alias in MESSAGE_SID_ALIASES):
        return None
    return sid


# The answer to every stored text: the reply, if any, is sent by a worker.
EMPTY_TWIML = str(MessagingResponse())


def parse_incoming(form: Any) -> IncomingSms | None:
    """The inbound fields, or None when they are unusable (a 400, nothing stored)."""
    sid = message_sid(form)
    if sid is None:
        return None
    try:
        from_phone = normalize_phone(form.get("From", ""), runtime().settings.default_region)
    except PhoneError:
        return None
    try:
        num_media = max(0, min(int(form.get("NumMedia") or 0), MAX_MEDIA))
    except ValueError:
        num_media = 0
    media = tuple(
        {
            "url": without_nul(form.get(f"MediaUrl{i}", ""))[:500],
            "type": without_nul(form.get(f"MediaContentType{i}", ""))[:100],
        }
        for i in range(num_media)
    )
    return IncomingSms(
        provider_id=sid,
        from_phone=from_phone,
        to_phone=without_nul(form.get("To") or "")[:20] or None,
        body=form.get("Body", ""),
        num_media=num_media,
        media=media,
        opt_out_type=(form.get("OptOutType") or "").upper()[:10] or None,
    )


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL; no SMS needs one."""
    return text.replace("\x00", "")


@bp.before_request
def start_timer() -> None:
    g.webhook_started = time.perf_counter()


@bp.after_request
def record_latency(response: Response) -> Response:
    started = g.get("webhook_started")
    if started is not None:
        endpoint = request.endpoint.rpartition(".")[2] if request.endpoint else "other"
        metrics.observe_webhook(runtime().redis, endpoint, time.perf_counter() - started)
    return response


@bp.post("/inbound")
@twilio_signed
def inbound() -> Response | tuple[str, int]:
    sms = parse_incoming(request.form)
    if sms is None:
        return "Bad request: a real MessageSid and a valid From number are required\n", 400
    accept_sms(runtime(), sms)  # stored; a worker answers it (a retry is stored already)
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/status")
@twilio_signed
def status() -> tuple[str, int]:
    sid = message_sid(request.form)
    message_status = (request.form.get("MessageStatus") or "").lower()
    if sid is None or not message_status:
        return "Bad request: MessageSid and MessageStatus are required\n", 400
    apply_status_callback(runtime(), sid, message_status, request.form.get("ErrorCode") or None)
    # Unknown ids also get 200, so the provider stops retrying.
    return "", 200
