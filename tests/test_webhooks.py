import pytest
from sqlalchemy import func, select

from service.models import DELIVERED, OPTED_OUT, SENT, InboundMessage, OutboundMessage, Peer
from tests.inbound_worker import post_text
from tests.signing import ACCOUNT_SID, inbound_form, signature_for, signed_post, status_form
from workers.sender import send_message


def count_inbound(runtime) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(func.count(InboundMessage.id)))


def test_a_signed_inbound_sms_is_stored_and_answered_with_twiml(client, runtime, peer):
    response = post_text(client, inbound_form("hello there"))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert "<Response" in response.get_data(as_text=True)
    assert count_inbound(runtime) == 1


def test_a_forged_signature_is_refused_and_nothing_is_stored(client, runtime, peer):
    form = inbound_form("hello")
    forged = post_text(client, form, token="not-the-real-token")
    missing = client.post("/sms/inbound", data=form)
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert count_inbound(runtime) == 0


def test_the_signature_covers_the_public_url_not_the_proxy_one(client, runtime, peer):
    from twilio.request_validator import RequestValidator

    from tests.conftest import TEST_AUTH_TOKEN

    form = inbound_form("hi")
    # Signed for the URL the proxy received (http://localhost), not the public one.
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
        "http://localhost/sms/inbound", form
    )
    response = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_a_retried_webhook_changes_nothing_and_gets_the_same_answer(client, runtime, peer):
    form = inbound_form("just checking in")
    first = post_text(client, form)
    second = post_text(client, form)
    assert first.get_data() == second.get_data()
    assert count_inbound(runtime) == 1


def test_unusable_fields_get_a_400_and_nothing_is_stored(client, runtime):
    for form in (
        {**inbound_form("x"), "MessageSid": ""},
        {**inbound_form("x"), "From": "not a number"},
        {"AccountSid": ACCOUNT_SID, "Body": "only a body"},
    ):
        assert post_text(client, form).status_code == 400
    assert count_inbound(runtime) == 0


def test_a_10k_body_is_stored_whole(client, runtime, peer):
    body = "x" * 10_000
    assert post_text(client, inbound_form(body)).status_code == 200
    with runtime.session_factory() as session:
        assert session.scalar(select(InboundMessage.body)) == body


def sent_welcome(runtime) -> OutboundMessage:
    with runtime.session_factory() as session:
        welcome_id = session.scalar(
            select(OutboundMessage.id).where(OutboundMessage.kind == "welcome")
        )
    send_message(runtime, welcome_id)
    with runtime.session_factory() as session:
        return session.get(OutboundMessage, welcome_id)


def status_of(runtime, message_id: int) -> str:
    with runtime.session_factory() as session:
        return session.get(OutboundMessage, message_id).status


def test_status_never_moves_backwards(client, runtime, peer):
    message = sent_welcome(runtime)
    for status in ("delivered", "sent", "queued", "undelivered"):
        form = status_form(message.provider_id, status)
        assert signed_post(client, "/sms/status", form).status_code == 200
    assert status_of(runtime, message.id) == DELIVERED


def test_status_callbacks_for_unknown_ids_get_200(client):
    form = status_form("SM" + "f" * 32, "delivered")
    assert signed_post(client, "/sms/status", form).status_code == 200


def test_a_forged_status_callback_changes_nothing(client, runtime, peer):
    message = sent_welcome(runtime)
    form = status_form(message.provider_id, "failed")
    assert signed_post(client, "/sms/status", form, token="forged").status_code == 403
    assert status_of(runtime, message.id) == SENT


# --- a signed text re-split into a "new" one ------------------------------------------


def resplit(form: dict[str, str]) -> dict[str, str]:
    """The attack: drop NumMedia=0 and append NumMedia0 to MessageSid. The signature
    joins sorted names and values with no separator, so it still validates."""
    tampered = {k: v for k, v in form.items() if k != "NumMedia"}
    tampered["MessageSid"] += "NumMedia0"
    return tampered


def consent_of(runtime, peer_id: int) -> str:
    with runtime.session_factory() as session:
        return session.get(Peer, peer_id).consent


def test_a_replayed_start_re_split_into_a_new_sid_does_not_undo_stop(client, runtime, peer):
    start = inbound_form("START", sid="SM" + "2" * 32)
    for form in (inbound_form("STOP", sid="SM" + "1" * 32), start):
        assert post_text(client, form).status_code == 200
    assert post_text(client, inbound_form("STOP", sid="SM" + "3" * 32))
    captured = signature_for("/sms/inbound", start)
    tampered = resplit(start)
    assert signature_for("/sms/inbound", tampered) == captured  # the attack is real
    replay = client.post("/sms/inbound", data=tampered, headers={"X-Twilio-Signature": captured})
    assert replay.status_code == 400
    assert (count_inbound(runtime), consent_of(runtime, peer)) == (3, OPTED_OUT)


@pytest.mark.parametrize(
    "sid",
    [
        "SM" + "a" * 31,
        "SM" + "a" * 33,
        "SM" + "g" * 32,
        "MG" + "a" * 32,
        "sm" + "a" * 32,
        "SM" + "a" * 32 + "\n",
        "SM" + "a" * 32 + "NumMedia0",
    ],
)
def test_only_real_message_sid_shapes_are_accepted(client, runtime, peer, sid):
    form = inbound_form("DONE", sid=sid)
    assert post_text(client, form).status_code == 400
    assert signed_post(client, "/sms/status", status_form(sid, "delivered")).status_code == 400
    assert count_inbound(runtime) == 0


def test_mms_sids_and_upper_case_hex_are_real_shapes(client, runtime, peer):
    for sid in ("MM" + "b" * 32, "SM" + "C" * 32):
        assert post_text(client, inbound_form("hi", sid=sid)).status_code == 200
    assert count_inbound(runtime) == 2


@pytest.mark.parametrize("alias", ["SmsSid", "SmsMessageSid"])
def test_an_alias_of_the_message_sid_must_equal_it(client, runtime, peer, alias):
    form = {**inbound_form("DONE"), alias: "SM" + "b" * 32}
    assert post_text(client, form).status_code == 400
    assert count_inbound(runtime) == 0


def test_a_status_whose_sms_sid_differs_changes_nothing(client, runtime, peer):
    message = sent_welcome(runtime)
    form = {**status_form(message.provider_id, "failed", "30006"), "SmsSid": "SM" + "b" * 32}
    assert signed_post(client, "/sms/status", form).status_code == 400
    assert status_of(runtime, message.id) == SENT


@pytest.mark.parametrize(
    "account", ["", "AC" + "0" * 31, "AC" + "0" * 32 + "Body", "XX" + "0" * 32]
)
def test_without_a_configured_account_only_real_account_sids_pass(client, runtime, peer, account):
    form = {**inbound_form("DONE"), "AccountSid": account}
    assert post_text(client, form).status_code == 403
    status = {**status_form("SM" + "f" * 32, "delivered"), "AccountSid": account}
    assert signed_post(client, "/sms/status", status).status_code == 403
    assert count_inbound(runtime) == 0


def test_with_a_configured_account_only_that_account_passes(settings, make_app, peer):
    ours = "AC" + "1" * 32
    client = make_app(settings.with_overrides(twilio_account_sid=ours)).test_client()
    other = inbound_form("DONE", sid="SM" + "4" * 32)
    assert post_text(client, other).status_code == 403
    assert (
        signed_post(client, "/sms/status", status_form("SM" + "f" * 32, "sent")).status_code == 403
    )
    mine = {**other, "AccountSid": ours}
    assert post_text(client, mine).status_code == 200


def test_a_field_given_twice_is_refused(client, runtime, peer):
    """The signature check reads one value per name; a second one would ride along unsigned."""
    form = inbound_form("DONE")
    signature = signature_for("/sms/inbound", form)
    body = "&".join(f"{k}={v}".replace("+", "%2B") for k, v in form.items()) + "&Body=STOP"
    response = client.post(
        "/sms/inbound",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 403
    assert count_inbound(runtime) == 0
