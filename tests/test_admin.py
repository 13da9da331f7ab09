"""Admin pages: specialists managed, peers moved between caseloads, nobody else gets in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.models import AuditEvent, Peer, Specialist
from tests.conftest import enrol, make_specialist, sign_in
from tests.test_dashboard import token


@pytest.fixture
def admin_client(client, runtime):
    make_specialist(runtime, "ada@example.org", "Ada Admin", role="admin")
    sign_in(client, "ada@example.org")
    return client


def form(client, **values: str) -> dict[str, str]:
    return {"csrf_token": token(client, "/admin/specialists"), **values}


def person(runtime, email: str) -> Specialist | None:
    with runtime.session_factory() as session:
        return session.scalar(select(Specialist).where(Specialist.email == email))


def test_an_admin_adds_a_specialist_who_can_then_sign_in(admin_client, runtime, client):
    page = admin_client.post(
        "/admin/specialists",
        data=form(
            admin_client,
            name="Lee Park",
            email="Lee@Example.org",
            password="long enough pass",
            role="specialist",
        ),
        follow_redirects=True,
    )
    assert "Lee Park can sign in now" in page.get_data(as_text=True)
    assert person(runtime, "lee@example.org").role == "specialist"
    admin_client.post("/logout", data={"csrf_token": token(admin_client, "/")})
    assert sign_in(client, "lee@example.org", "long enough pass").status_code == 302


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"email": "not-an-email"}, "is not an email address"),
        ({"password": "short"}, "at least 10 characters"),
        ({"password": "Qwertyuiop123"}, "one of the most common ones"),
        ({"password": "p" * 129}, "at most 128 characters"),
        ({"email": "jordan@example.org"}, "already exists"),
        ({"role": "owner"}, "role must be one of"),
    ],
)
def test_a_bad_account_is_refused_with_the_reason(
    admin_client, runtime, specialist, values, reason
):
    data = {"name": "Lee Park", "email": "lee@example.org", "password": "long enough pass"} | values
    page = admin_client.post(
        "/admin/specialists", data=form(admin_client, **data), follow_redirects=True
    )
    assert reason in page.get_data(as_text=True)
    with runtime.session_factory() as session:
        assert session.scalar(select(Specialist).where(Specialist.name == "Lee Park")) is None


def test_a_switched_off_specialist_cannot_sign_in_and_an_admin_cannot_lock_themselves_out(
    admin_client, runtime, client, specialist
):
    admin_client.post(
        f"/admin/specialists/{specialist}", data=form(admin_client, role="specialist", active="no")
    )
    assert not person(runtime, "jordan@example.org").is_active
    me = person(runtime, "ada@example.org").id
    page = admin_client.post(
        f"/admin/specialists/{me}",
        data=form(admin_client, role="specialist", active="no"),
        follow_redirects=True,
    )
    assert "cannot change your own role" in page.get_data(as_text=True)
    assert person(runtime, "ada@example.org").is_active
    assert person(runtime, "ada@example.org").role == "admin"


def test_an_admin_moves_a_peer_to_another_caseload(admin_client, runtime, peer, outsider):
    csrf = token(admin_client, f"/peers/{peer}")
    response = admin_client.post(
        f"/admin/peers/{peer}/specialist", data={"csrf_token": csrf, "specialist_id": outsider}
    )
    assert response.status_code == 303
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).specialist_id == outsider
        assert "peer reassigned" in session.scalars(select(AuditEvent.action)).all()


def test_specialists_and_visitors_never_reach_admin_pages(client, runtime, peer, outsider):
    assert client.get("/admin/specialists").status_code == 302
    sign_in(client)  # Jordan, a specialist (and Sam's owner)
    csrf = token(client, "/")
    assert client.get("/admin/specialists").status_code == 404
    for path, data in [
        ("/admin/specialists", {"name": "X Y", "email": "x@y.org", "password": "0123456789"}),
        (f"/admin/specialists/{outsider}", {"role": "admin"}),
        (f"/admin/peers/{peer}/specialist", {"specialist_id": str(outsider)}),
    ]:
        assert client.post(path, data={"csrf_token": csrf, **data}).status_code == 404
    assert person(runtime, "casey@example.org").role == "specialist"
    assert person(runtime, "x@y.org") is None


@pytest.mark.parametrize("target", ["\u00b2", "\u0663", "\uff13", "99999999999999999999", "-1", ""])
def test_moving_a_peer_to_a_malformed_specialist_id_is_refused(
    admin_client, runtime, peer, outsider, target
):
    csrf = token(admin_client, f"/peers/{peer}")
    page = admin_client.post(
        f"/admin/peers/{peer}/specialist",
        data={"csrf_token": csrf, "specialist_id": target},
        follow_redirects=True,
    )
    assert page.status_code == 200
    assert "choose an active specialist" in page.get_data(as_text=True)
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).specialist_id != outsider


def issue_reset(admin_client, specialist_id: int):
    return admin_client.post(
        f"/admin/specialists/{specialist_id}/reset",
        data=form(admin_client),
    )


def reset_path(response) -> str:
    link = re.search(r'<code id="reset-link">([^<]+)</code>', response.get_data(as_text=True))[1]
    return "/" + link.split("/", 3)[3]


def choose(client, path: str, password: str):
    page = client.get(path)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    return client.post(
        path,
        data={"csrf_token": csrf, "new_password": password, "new_password_again": password},
    )


def test_a_reset_link_sets_a_new_password_once(admin_client, app, runtime, specialist):
    jordan = app.test_client()
    sign_in(jordan)
    issued = issue_reset(admin_client, specialist)
    assert issued.status_code == 201
    assert jordan.get("/").status_code == 302  # signed out everywhere
    path = reset_path(issued)
    visitor = app.test_client()
    assert choose(visitor, path, "a brand new passphrase").status_code == 303
    assert sign_in(jordan).status_code == 401
    assert sign_in(jordan, password="a brand new passphrase").status_code == 302
    assert visitor.get(path).status_code == 404  # used: it never works again
    with runtime.session_factory() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert {"password reset issued", "password reset used"} <= set(actions)


def test_a_reset_link_refuses_a_common_password_and_stays_usable(admin_client, app, specialist):
    path = reset_path(issue_reset(admin_client, specialist))
    visitor = app.test_client()
    refused = choose(visitor, path, "iloveyou123")
    assert refused.status_code == 400
    assert "most common" in refused.get_data(as_text=True)
    assert choose(visitor, path, "a brand new passphrase").status_code == 303


def test_a_newer_reset_link_voids_the_older_one(admin_client, app, specialist):
    older = reset_path(issue_reset(admin_client, specialist))
    newer = reset_path(issue_reset(admin_client, specialist))
    visitor = app.test_client()
    assert visitor.get(older).status_code == 404
    assert visitor.get(newer).status_code == 200


def test_a_reset_link_expires_after_a_day(admin_client, app, specialist):
    import time

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    path = reset_path(issue_reset(admin_client, specialist))
    data = URLSafeTimedSerializer(app.secret_key, salt="password-reset").loads(path.split("/")[2])

    class DayAndMinuteAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 24 * 3600 - 60

    stale = URLSafeTimedSerializer(app.secret_key, salt="password-reset", signer=DayAndMinuteAgo)
    assert app.test_client().get(f"/reset/{stale.dumps(data)}").status_code == 404
    assert app.test_client().get("/reset/not-a-token").status_code == 404


def test_an_admin_cannot_reset_their_own_password_by_link(admin_client, runtime):
    me = person(runtime, "ada@example.org").id
    page = issue_reset(admin_client, me)
    assert page.status_code == 303
    assert admin_client.get("/admin/specialists").status_code == 200  # still signed in


def test_enrolling_a_number_on_another_caseload_is_shown_to_admins(
    admin_client, app, runtime, specialist, outsider
):
    from tests.test_dashboard import enrol_form

    enrol(runtime, outsider, phone="+16465550142", name="Robin")
    jordan = app.test_client()
    sign_in(jordan)
    jordan.post("/peers/new", data=enrol_form(csrf_token=token(jordan, "/peers/new")))
    page = admin_client.get("/admin/specialists").get_data(as_text=True)
    assert "Jordan Rivera tried to enrol a number that is on another caseload" in page


def test_no_reset_link_for_a_switched_off_account(admin_client, specialist):
    admin_client.post(
        f"/admin/specialists/{specialist}", data=form(admin_client, role="specialist", active="no")
    )
    page = admin_client.post(
        f"/admin/specialists/{specialist}/reset", data=form(admin_client), follow_redirects=True
    ).get_data(as_text=True)
    assert "switched off; switch it on first" in page
    assert 'id="reset-link"' not in page
