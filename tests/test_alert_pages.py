"""Alert pages: "I'm on it", the email link, the on-call rota, the outbox, the staff phone."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service import db
from service.models import (
    ALERT_ACKNOWLEDGED,
    ALERT_OPEN,
    ALERT_RESOLVED,
    Alert,
    AlertNotification,
    Flag,
    OnCallShift,
    Specialist,
)
from service.runtime import set_runtime
from tests.conftest import PUBLIC_BASE_URL, enrol, make_specialist, sign_in
from tests.inbound_worker import handle_stored
from tests.smtp_server import body_of
from tests.test_alerts import (
    AVERY_PHONE,
    JORDAN_PHONE,
    drain,
    give_phone,
    the_alert,
    tick,
    wait_and_tick,
)
from tests.test_conversation import text

PASSWORD = "correct horse battery"


def csrf(page) -> str:
    html = page.get_data(as_text=True)
    return html.split('name="csrf_token" value="')[1].split('"')[0]


@pytest.fixture
def avery(runtime) -> int:
    """The admin."""
    person = make_specialist(runtime, "avery@example.org", "Avery Admin", role="admin")
    give_phone(runtime, person, AVERY_PHONE)
    return person


@pytest.fixture
def crisis(client, runtime, specialist, avery) -> int:
    """Sam texted crisis language; Jordan (with a phone) was alerted."""
    give_phone(runtime, specialist, JORDAN_PHONE)
    peer = enrol(runtime, specialist)
    text(client, "I want to die")
    drain(runtime)
    return peer


def press_on_it(client, peer: int, alert_id: int):
    page = client.get(f"/peers/{peer}")
    return client.post(f"/alerts/{alert_id}/ack", data={"csrf_token": csrf(page)})


# --- I'm on it -------------------------------------------------------------------------


def test_the_dashboard_button_takes_the_alert_and_stops_the_chain(
    client, runtime, crisis, clock, specialist
):
    sign_in(client)
    page = client.get(f"/peers/{crisis}").get_data(as_text=True)
    assert "nobody has taken it yet" in page and "I'm on it" in page
    response = press_on_it(client, crisis, the_alert(runtime).id)
    assert response.status_code == 303
    alert = the_alert(runtime)
    assert (alert.status, alert.acknowledged_by, alert.acknowledged_via) == (
        ALERT_ACKNOWLEDGED,
        specialist,
        "dashboard",
    )
    page = client.get(f"/peers/{crisis}").get_data(as_text=True)
    assert "is yours" in page and "taken by Jordan Rivera" in page
    wait_and_tick(runtime, clock)
    with runtime.session_factory() as session:
        assert session.get(Alert, alert.id).position == 1  # no second step


def test_pressing_it_second_says_who_took_it(app, client, runtime, crisis):
    sign_in(client)
    press_on_it(client, crisis, the_alert(runtime).id)
    other = app.test_client()
    sign_in(other, "avery@example.org")
    press_on_it(other, crisis, the_alert(runtime).id)
    page = other.get(f"/peers/{crisis}").get_data(as_text=True)
    assert "Jordan Rivera already took the alert for Sam" in page
    assert the_alert(runtime).acknowledged_via == "dashboard"


def test_someone_unrelated_cannot_take_an_alert(app, client, runtime, crisis, outsider):
    sign_in(client, "casey@example.org")
    page = client.get("/account")
    response = client.post(f"/alerts/{the_alert(runtime).id}/ack", data={"csrf_token": csrf(page)})
    assert response.status_code == 404
    assert the_alert(runtime).status == ALERT_OPEN


# --- the email link --------------------------------------------------------------------


@pytest.fixture
def settings(settings, smtp):
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)


def email_link(smtp, address: str = "jordan@example.org") -> str:
    (message,) = smtp.to(address)
    line = next(x for x in body_of(message).splitlines() if "/alerts/ack/" in x)
    return line.split(PUBLIC_BASE_URL, 1)[1].split()[0]


def test_the_email_link_takes_the_alert_once(app, runtime, crisis, smtp):
    browser = app.test_client()  # not signed in: the signed link is enough
    path = email_link(smtp)
    page = browser.get(path)
    assert page.status_code == 200 and the_alert(runtime).status == ALERT_OPEN  # GET only asks
    done = browser.post(path, data={"csrf_token": csrf(page)})
    assert "is yours" in done.get_data(as_text=True)
    alert = the_alert(runtime)
    assert (alert.status, alert.acknowledged_via) == (ALERT_ACKNOWLEDGED, "email")
    again = browser.post(path, data={"csrf_token": csrf(page)})
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_a_forged_or_expired_link_takes_nothing(app, runtime, crisis, smtp, clock):
    browser = app.test_client()
    path = email_link(smtp)
    assert browser.get(path[:-3] + "abc").status_code == 410
    assert browser.get("/alerts/ack/not-a-token").status_code == 410
    assert the_alert(runtime).status == ALERT_OPEN


def test_a_link_used_after_someone_else_took_it_says_who(app, client, runtime, crisis, smtp):
    text(client, "ACK", from_=JORDAN_PHONE)
    browser = app.test_client()
    path = email_link(smtp)
    page = browser.get(path)
    done = browser.post(path, data={"csrf_token": csrf(page)}).get_data(as_text=True)
    assert "Jordan Rivera already took the alert for Sam" in done


# --- on call, outbox, staff phone, account ---------------------------------------------


def test_an_admin_adds_an_on_call_shift_and_the_header_shows_it(client, runtime, avery, clock):
    sign_in(client, "avery@example.org")
    page = client.get("/admin/on-call")
    assert "On call now: nobody" in page.get_data(as_text=True)
    with runtime.session_factory() as session:
        zone = ZoneInfo(session.get(Specialist, avery).timezone)
    local = clock.current.astimezone(zone)
    form = {
        "csrf_token": csrf(page),
        "specialist_id": str(avery),
        "starts_at": (local - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
    }
    assert client.post("/admin/on-call", data=form).status_code == 303
    page = client.get("/admin/on-call").get_data(as_text=True)
    assert "On call now: Avery Admin" in page
    with runtime.session_factory() as session:
        (shift,) = session.scalars(select(OnCallShift)).all()
        assert shift.starts_at == clock.current - timedelta(hours=1)


def test_only_admins_reach_the_on_call_page(client, specialist):
    sign_in(client)
    assert client.get("/admin/on-call").status_code == 404


def test_without_smtp_alert_emails_land_in_the_outbox(make_app, settings, clock, specialist):
    app = make_app(settings.with_overrides(smtp_host=None))
    app.config.update(TESTING=True)
    runtime = app.extensions["peernudge"]
    runtime.now = clock
    set_runtime(runtime)  # the job below runs with this app's settings
    enrol(runtime, specialist)
    client = app.test_client()
    text(client, "I want to die")
    drain(runtime)
    sign_in(client)
    page = client.get("/outbox/").get_data(as_text=True)
    assert "Urgent: Sam needs a call" in page and "/alerts/ack/" in page


def test_the_staff_phone_shows_the_alert_and_sends_ack(client, runtime, crisis):
    sign_in(client)
    page = client.get("/simulator/staff")
    assert "urgent - Sam needs a call" in page.get_data(as_text=True)
    client.post("/simulator/staff", data={"csrf_token": csrf(page), "body": "ACK"})
    assert the_alert(runtime).status == ALERT_OPEN  # stored; a worker handles it
    handle_stored(runtime)
    assert the_alert(runtime).status == ALERT_ACKNOWLEDGED
    assert "is yours" in client.get("/simulator/staff").get_data(as_text=True)


def test_the_account_page_sets_the_phone_and_quiet_hours(client, runtime, specialist):
    sign_in(client)
    page = client.get("/account")
    form = {
        "csrf_token": csrf(page),
        "timezone": "America/Chicago",
        "phone": "(212) 555-0101",
        "quiet_start": "21:30",
        "quiet_end": "07:00",
        "digest_time": "08:30",
        "digest_channel": "sms",
    }
    assert client.post("/account", data=form).status_code == 303
    with runtime.session_factory() as session:
        person = session.get(Specialist, specialist)
        assert person.phone == JORDAN_PHONE
        assert (person.quiet_start.isoformat(), person.quiet_end.isoformat()) == (
            "21:30:00",
            "07:00:00",
        )
        assert (person.digest_time.isoformat(), person.digest_channel) == ("08:30:00", "sms")


@pytest.mark.parametrize(
    ("phone", "problem"),
    [("12345", "not a valid phone number"), ("+12125550134", "is a peer")],
)
def test_the_account_page_refuses_a_bad_phone(client, runtime, specialist, phone, problem):
    enrol(runtime, specialist)
    sign_in(client)
    page = client.get("/account")
    form = {"csrf_token": csrf(page), "timezone": "America/Chicago", "phone": phone}
    response = client.post("/account", data=form)
    assert response.status_code == 400 and problem in response.get_data(as_text=True)
    with runtime.session_factory() as session:
        assert session.get(Specialist, specialist).phone is None


def test_the_on_call_specialist_may_open_the_peers_page_once_alerted(
    app, runtime, crisis, outsider, clock
):
    casey = app.test_client()
    sign_in(casey, "casey@example.org")
    assert casey.get(f"/peers/{crisis}").status_code == 404
    with db.transaction(runtime.session_factory) as session:
        session.add(
            OnCallShift(
                specialist_id=outsider,
                starts_at=clock.current,
                ends_at=clock.current + timedelta(hours=9),
            )
        )
    wait_and_tick(runtime, clock)
    page = casey.get(f"/peers/{crisis}")
    assert page.status_code == 200 and "I'm on it" in page.get_data(as_text=True)
    press_on_it(casey, crisis, the_alert(runtime).id)
    assert the_alert(runtime).acknowledged_by == outsider


def test_after_a_crisis_is_resolved_a_missed_follow_up_becomes_an_alert(
    client, runtime, crisis, clock
):
    sign_in(client)
    csrf_token = csrf(client.get(f"/peers/{crisis}"))
    with runtime.session_factory() as session:
        crisis_flag = session.scalar(select(Flag).where(Flag.kind == "crisis"))
    client.post(
        f"/flags/{crisis_flag.id}/resolve", data={"csrf_token": csrf_token, "note": "called Sam"}
    )
    assert the_alert(runtime).status == ALERT_RESOLVED
    assert "Follow-up due" in client.get("/").get_data(as_text=True)
    clock.advance(hours=47)
    tick(runtime)
    assert the_alert(runtime).flag_id == crisis_flag.id  # nothing new yet
    clock.advance(hours=2)
    tick(runtime)
    alert = the_alert(runtime)
    with runtime.session_factory() as session:
        follow_up = session.get(Flag, alert.flag_id)
        assert (follow_up.kind, follow_up.urgent, alert.status) == ("follow_up", True, ALERT_OPEN)
        sent = session.scalars(
            select(AlertNotification.address).where(
                AlertNotification.alert_id == alert.id, AlertNotification.status == "sent"
            )
        ).all()
    assert JORDAN_PHONE in sent
