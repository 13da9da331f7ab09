"""Signing requests the way Twilio does, with the official RequestValidator."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN


def signed_post(client, path: str, form: dict[str, str], token: str = TEST_AUTH_TOKEN):
    signature = RequestValidator(token).compute_signature(f"{PUBLIC_BASE_URL}{path}", form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def inbound_form(body: str, sid: str = "SM" + "a" * 32, from_: str = "+12125550134") -> dict:
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
