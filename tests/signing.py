"""Signing requests the way Twilio does, with the official RequestValidator.

The forms carry what Twilio sends: real SID shapes (``SM`` + 32 hex, ``AC`` +
32 hex) and ``SmsSid`` / ``SmsMessageSid`` equal to ``MessageSid``.
"""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

ACCOUNT_SID = "AC" + "0" * 32


def signature_for(path: str, form: dict[str, str], token: str = TEST_AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(f"{PUBLIC_BASE_URL}{path}", form)


def signed_post(client, path: str, form: dict[str, str], token: str = TEST_AUTH_TOKEN):
    signature = signature_for(path, form, token)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def inbound_form(body: str, sid: str = "SM" + "a" * 32, from_: str = "+12125550134") -> dict:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }


def status_form(sid: str, status: str, error_code: str | None = None) -> dict:
    """A status callback as Twilio posts it."""
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": "+15005550006",
        "To": "+12125550134",
    }
    return form | ({"ErrorCode": error_code} if error_code else {})
