from sqlalchemy import func, select

from service.models import DELIVERED, SENT, InboundMessage, OutboundMessage
from tests.signing import inbound_form, signed_post
from workers.sender import send_message


def count_inbound(runtime) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(func.count(InboundMessage.id)))


def test_a_signed_inbound_sms_is_stored_and_answered_with_twiml(client, runtime, peer):
    response = signed_post(client, "/sms/inbound", inbound_form("hello there"))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert "<Response" in response.get_data(as_text=True)
    assert count_inbound(runtime) == 1


def test_a_forged_signature_is_refused_and_nothing_is_stored(client, runtime, peer):
    form = inbound_form("hello")
    forged = signed_post(client, "/sms/inbound", form, token="not-the-real-token")
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
    first = signed_post(client, "/sms/inbound", form)
    second = signed_post(client, "/sms/inbound", form)
    assert first.get_data() == second.get_data()
    assert count_inbound(runtime) == 1


def test_unusable_fields_get_a_400_and_nothing_is_stored(client, runtime):
    for form in (
        {**inbound_form("x"), "MessageSid": ""},
        {**inbound_form("x"), "From": "not a number"},
        {"Body": "only a body"},
    ):
        assert signed_post(client, "/sms/inbound", form).status_code == 400
    assert count_inbound(runtime) == 0


def test_a_10k_body_is_stored_whole(client, runtime, peer):
    body = "x" * 10_000
    assert signed_post(client, "/sms/inbound", inbound_form(body)).status_code == 200
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
        form = {"MessageSid": message.provider_id, "MessageStatus": status}
        assert signed_post(client, "/sms/status", form).status_code == 200
    assert status_of(runtime, message.id) == DELIVERED


def test_status_callbacks_for_unknown_ids_get_200(client):
    form = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}
    assert signed_post(client, "/sms/status", form).status_code == 200


def test_a_forged_status_callback_changes_nothing(client, runtime, peer):
    message = sent_welcome(runtime)
    form = {"MessageSid": message.provider_id, "MessageStatus": "failed"}
    assert signed_post(client, "/sms/status", form, token="forged").status_code == 403
    assert status_of(runtime, message.id) == SENT
