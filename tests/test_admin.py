"""Admin pages: specialists managed, peers moved between caseloads, nobody else gets in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.models import AuditEvent, Peer, Specialist
from tests.conftest import make_specialist, sign_in
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
