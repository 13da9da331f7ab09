"""What comes next for a peer, as the simulator's empty phone, the peer page's "Next
planned texts" and the enrolment confirmation say it, night and day."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.models import OutboundMessage, Specialist
from tests.conftest import enrol, sign_in
from tests.inbound_worker import post_text
from tests.signing import inbound_form
from tests.test_dashboard import enrol_form, token
from workers.sender import send_message


@pytest.fixture
def night(clock):
    """02:00 in New York (06:00 UTC) on Monday 15 June: Sam's hours open at 08:00 there."""
    clock.set(datetime(2026, 6, 15, 6, 0, tzinfo=UTC))
    return clock


@pytest.fixture
def in_london(runtime, specialist):
    """Jordan works from London (BST, an hour ahead of UTC in June)."""
    with runtime.session_factory() as session, session.begin():
        session.get(Specialist, specialist).timezone = "Europe/London"


def welcome_id(runtime) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(OutboundMessage.id).where(OutboundMessage.kind == "welcome"))


def planned_rows(page: str) -> list[str]:
    """The rows of the peer page's "Next planned texts" table, tags stripped."""
    table = page.split("Next planned texts", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_an_empty_phone_at_night_says_the_welcome_waits_for_the_peers_hours(
    client, runtime, night, in_london, peer
):
    sign_in(client)
    before = client.get(f"/simulator/{peer}/messages").json
    assert before["messages"] == []
    # 08:00 in New York is 12:00 UTC, 13:00 in London.
    expected = (
        "The welcome is waiting for Sam's hours (08:00-20:00): it goes at 08:00 Sam's time "
        "(13:00 yours)."
    )
    assert before["waiting"] == expected
    assert send_message(runtime, welcome_id(runtime)) == "deferred"  # the sender agrees
    assert client.get(f"/simulator/{peer}/messages").json["waiting"] == expected


def test_an_empty_phone_in_the_day_says_the_welcome_is_on_its_way(client, peer):
    sign_in(client)
    waiting = client.get(f"/simulator/{peer}/messages").json["waiting"]
    assert waiting == "The welcome is on its way: it appears here within seconds."


def test_a_phone_with_texts_needs_no_explanation(client, runtime, peer):
    sign_in(client)
    assert send_message(runtime, welcome_id(runtime)) == "sent"
    assert client.get(f"/simulator/{peer}/messages").json["waiting"] is None


def test_an_opted_out_peers_empty_phone_says_nothing_comes_until_start(client, runtime, specialist):
    post_text(client, inbound_form("STOP", from_="+16465550142"))  # before they were enrolled
    robin = enrol(runtime, specialist, phone="+16465550142", name="Robin")
    sign_in(client)
    data = client.get(f"/simulator/{robin}/messages").json
    assert data["messages"] == []
    assert data["waiting"] == "Robin has opted out: nothing is sent until they text START."


def test_the_held_welcome_is_in_next_planned_texts_in_both_zones(client, night, in_london, peer):
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    first = planned_rows(page)[0]
    assert first.startswith("Mon Jun 15, 08:00 Mon Jun 15, 13:00 Welcome")
    assert "waiting for Sam's hours, 08:00-20:00" in first


def test_enrolling_at_night_says_when_the_welcome_will_go(client, night, specialist):
    sign_in(client)
    form = enrol_form(csrf_token=token(client, "/peers/new"))  # Robin, a New York number
    page = client.post("/peers/new", data=form, follow_redirects=True).get_data(as_text=True)
    assert "on its way" not in page
    assert "The welcome is waiting for Robin&#39;s hours (08:00-20:00)" in page
    assert "it goes at 08:00 (Robin&#39;s time and yours)" in page  # Jordan is in New York too


def test_enrolling_in_the_day_says_the_welcome_is_on_its_way(client, specialist):
    sign_in(client)
    form = enrol_form(csrf_token=token(client, "/peers/new"))
    page = client.post("/peers/new", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Enrolled. The welcome text is on its way." in page


def test_after_stop_no_planned_text_shows_as_live(client, runtime, peer):
    sign_in(client)
    live = planned_rows(client.get(f"/peers/{peer}").get_data(as_text=True))
    assert any("Check-in: take a 20 minute walk" in row for row in live)
    assert not any("not sent" in row for row in live)
    post_text(client, inbound_form("STOP"))
    rows = planned_rows(client.get(f"/peers/{peer}").get_data(as_text=True))
    assert rows  # the check-ins still show, each saying it will not be sent and why
    assert all("(not sent: opted out (texted STOP); nothing goes until they text START)" in row
               for row in rows)  # fmt: skip
