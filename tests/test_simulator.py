from sqlalchemy import select

from service.models import InboundMessage, OutboundMessage
from tests.conftest import sign_in
from tests.inbound_worker import handle_stored
from workers.sender import send_message


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def test_the_simulator_needs_a_signed_in_specialist(client, peer):
    assert client.get("/simulator/").status_code == 302
    assert client.get(f"/simulator/{peer}/messages").status_code == 302


def test_the_phone_shows_what_was_sent_and_not_what_is_planned(client, runtime, peer):
    sign_in(client)
    assert client.get(f"/simulator/{peer}/messages").json["messages"] == []
    with runtime.session_factory() as session:
        welcome_id = session.scalar(
            select(OutboundMessage.id).where(OutboundMessage.kind == "welcome")
        )
    assert send_message(runtime, welcome_id) == "sent"
    messages = client.get(f"/simulator/{peer}/messages").json["messages"]
    assert [m["direction"] for m in messages] == ["out"]
    assert "Sam" in messages[0]["body"] and "STOP" in messages[0]["body"]


def test_a_reply_typed_in_the_simulator_takes_the_inbound_path(client, runtime, peer):
    sign_in(client)
    token = csrf_token(client, f"/simulator/?peer={peer}")
    response = client.post(
        f"/simulator/{peer}/messages", data={"body": "feeling good today", "csrf_token": token}
    )
    assert response.status_code == 201
    with runtime.session_factory() as session:
        stored = session.scalars(select(InboundMessage)).all()
    assert [(m.peer_id, m.body) for m in stored] == [(peer, "feeling good today")]
    assert stored[0].provider_id.startswith("SIM")
    messages = client.get(f"/simulator/{peer}/messages").json["messages"]
    assert messages[-1] == {**messages[-1], "direction": "in", "body": "feeling good today"}


def test_simulator_posts_need_the_csrf_token(client, peer):
    sign_in(client)
    response = client.post(f"/simulator/{peer}/messages", data={"body": "hi"})
    assert response.status_code == 400


def test_an_empty_or_huge_simulator_reply_is_refused(client, peer):
    sign_in(client)
    token = csrf_token(client, f"/simulator/?peer={peer}")
    for body in ("   ", "x" * 5000):
        response = client.post(
            f"/simulator/{peer}/messages", data={"body": body, "csrf_token": token}
        )
        assert response.status_code == 400
        assert response.json["error"]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_form_the_browser_posts_itself_comes_back_to_the_phone_page(client, runtime, peer):
    """Before the page's script runs (or with it off) the browser posts the form itself:
    the text is taken and the phone page shown again, never the script's JSON."""
    sign_in(client)
    token = csrf_token(client, f"/simulator/?peer={peer}")
    headers = {"Accept": BROWSER_ACCEPT}
    sent = client.post(f"/simulator/{peer}/messages", headers=headers,
                       data={"body": "walked the dog", "csrf_token": token})  # fmt: skip
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith(f"/simulator/?peer={peer}")
    with runtime.session_factory() as session:
        assert session.scalars(select(InboundMessage.body)).all() == ["walked the dog"]
    empty = client.post(f"/simulator/{peer}/messages", headers=headers,
                        data={"body": " ", "csrf_token": token}, follow_redirects=True)  # fmt: skip
    assert empty.status_code == 200
    assert "Type a message first." in empty.get_data(as_text=True)


def test_another_specialist_cannot_open_a_peers_phone(client, peer, outsider):
    sign_in(client, "casey@example.org")
    assert client.get(f"/simulator/{peer}/messages").status_code == 404


def test_the_simulator_is_off_with_the_twilio_gateway(settings, make_app):
    app = make_app(
        settings.with_overrides(
            sms_gateway="twilio", twilio_account_sid="AC1", twilio_from_number="+15005550006"
        )
    )
    assert app.test_client().get("/simulator/").status_code == 404


def test_the_phone_shows_how_each_text_was_read(client, runtime, peer):
    sign_in(client)
    token = csrf_token(client, f"/simulator/?peer={peer}")
    client.post(f"/simulator/{peer}/messages", data={"body": "yep did it", "csrf_token": token})
    handle_stored(runtime)  # how it was read is known once a worker has handled it
    inbound = [m for m in client.get(f"/simulator/{peer}/messages").json["messages"]
               if m["direction"] == "in"]  # fmt: skip
    assert inbound[0]["reading"].startswith("read as: done (")
    assert inbound[0]["reading"].endswith(", en)")
    outbound = [m for m in client.get(f"/simulator/{peer}/messages").json["messages"]
                if m["direction"] == "out"]  # fmt: skip
    assert all(m["reading"] is None for m in outbound)


def test_a_text_no_worker_has_handled_yet_says_so(client, runtime, peer):
    sign_in(client)
    token = csrf_token(client, f"/simulator/?peer={peer}")
    client.post(f"/simulator/{peer}/messages", data={"body": "DONE", "csrf_token": token})
    (waiting,) = client.get(f"/simulator/{peer}/messages").json["messages"]
    assert (waiting["body"], waiting["reading"]) == ("DONE", "not handled yet")
    handle_stored(runtime)
    inbound = [m for m in client.get(f"/simulator/{peer}/messages").json["messages"]
               if m["direction"] == "in"]  # fmt: skip
    assert inbound[0]["reading"].startswith("read as: done (")


def test_the_peer_page_shows_how_each_text_was_read_too(client, runtime, peer):
    sign_in(client)
    token = csrf_token(client, f"/simulator/?peer={peer}")
    client.post(f"/simulator/{peer}/messages", data={"body": "yep did it", "csrf_token": token})
    assert "not handled yet" in client.get(f"/peers/{peer}").get_data(as_text=True)
    handle_stored(runtime)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    bubble = page.split('class="bubble in"', 1)[1].split("</li>", 1)[0]
    assert "read as: done (" in bubble and "not handled yet" not in bubble
