"""A worker's part of an inbound text, run in the test's process: the webhook stores
the text, and this handles what is queued, with a real RQ worker, as production does."""

from __future__ import annotations

from rq import SimpleWorker
from sqlalchemy import select

from service.models import InboundMessage
from service.runtime import Runtime
from tests.signing import signed_post
from workers.inbound import replies


def handle_stored(runtime: Runtime) -> None:
    """Run every job on the inbound queue (and nothing else) until it is empty."""
    SimpleWorker([runtime.inbound_queue], connection=runtime.redis).work(
        burst=True, with_scheduler=False
    )
    replies.wait_all()


def reply_to(runtime: Runtime, provider_id: str) -> str | None:
    """What we answered the text with this MessageSid ('' for none, None if unhandled)."""
    with runtime.session_factory() as session:
        row = session.scalar(
            select(InboundMessage).where(InboundMessage.provider_id == provider_id)
        )
    if row is None or row.handled_at is None:
        return None
    return row.reply_body or ""


def post_text(client, form: dict[str, str], **signing):
    """POST a signed inbound text, then let a worker handle it; the webhook's response."""
    response = signed_post(client, "/sms/inbound", form, **signing)
    handle_stored(client.application.extensions["peernudge"])
    return response
