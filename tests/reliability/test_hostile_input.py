"""Hostile input at the webhooks and dashboard: never a 5xx, no change without a signature."""

from __future__ import annotations

import random
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from service.models import ConsentEvent, InboundMessage, OutboundMessage
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN, sign_in
from tests.reliability.scale import report, scaled
from tests.signing import inbound_form, signed_post

INJECTIONS = [
    "'; DROP TABLE peers; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }}",
    "${jndi:ldap://x}",
    "\x00\x01\x02",
    "\ud7ff\ue000\uffff",
    "A" * 10_000,
    "STOP\r\nSet-Cookie: x=1",
    "%00%0a",
    "../../etc/passwd",
]
FIELDS = [
    "MessageSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "OptOutType",
    "MessageStatus",
    "ErrorCode",
    "AccountSid",
]
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
forms = st.dictionaries(st.sampled_from(FIELDS), st.one_of(text, st.sampled_from(INJECTIONS)))


def row_counts(runtime) -> tuple[int, int, int]:
    with runtime.session_factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (InboundMessage, OutboundMessage, ConsentEvent)
        )  # type: ignore[return-value]


def test_generated_signed_webhooks_never_5xx(client, runtime, peer):
    examples = scaled(300, 20_000)
    seen = {"count": 0}

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(form=forms, path=st.sampled_from(["/sms/inbound", "/sms/status"]))
    def check(form, path):
        seen["count"] += 1
        response = signed_post(client, path, form)
        assert response.status_code < 500, (path, form)

    check()
    report("hostile_signed", requests=seen["count"], server_errors=0)


def test_unsigned_and_forged_requests_change_no_row(client, runtime, peer):
    rng = random.Random(5)
    before = row_counts(runtime)
    attempts = scaled(300, 5_000)
    for i in range(attempts):
        form = inbound_form(
            rng.choice([*INJECTIONS, "STOP", "DONE", "I want to die"]), sid=f"SM{i:032d}"
        )
        forged_signature = "".join(rng.choices(string.ascii_letters + string.digits + "+/=", k=28))
        headers = {} if i % 3 == 0 else {"X-Twilio-Signature": forged_signature}
        path = "/sms/inbound" if i % 2 else "/sms/status"
        response = client.post(path, data=form, headers=headers)
        assert response.status_code == 403
    assert row_counts(runtime) == before
    report("hostile_unsigned", requests=attempts, rows_changed=0)


def test_a_replayed_signature_on_another_body_is_refused(client, runtime, peer):
    original = inbound_form("DONE", sid="SM" + "1" * 32)
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
        f"{PUBLIC_BASE_URL}/sms/inbound", original
    )
    tampered = {**original, "Body": "STOP"}
    before = row_counts(runtime)
    response = client.post("/sms/inbound", data=tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert row_counts(runtime) == before


def test_oversized_and_malformed_fields(client, runtime, peer):
    cases = [
        {**inbound_form("x"), "Body": "B" * 100_000},
        {**inbound_form("x"), "NumMedia": "-5"},
        {**inbound_form("x"), "NumMedia": "99999999999999999999"},
        {**inbound_form("x"), "From": "+" + "9" * 500},
        {**inbound_form("x"), "MessageSid": "S" * 5000},
    ]
    for form in cases:
        assert signed_post(client, "/sms/inbound", form).status_code < 500
    raw = client.post(
        "/sms/inbound",
        data=b"Body=%ff%fe%fd&MessageSid=SM1&From=%2B12125550134",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert raw.status_code == 403


def test_injection_strings_are_escaped_on_the_dashboard(client, runtime, peer):
    for i, body in enumerate(INJECTIONS[:6]):
        signed_post(client, "/sms/inbound", inbound_form(body, sid=f"SM{i:032d}"))
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
