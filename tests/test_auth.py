"""Sign-in, sessions and passwords: what a saved cookie, a guessed password or a crafted
``next=`` can and cannot do."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from service import passwords
from service.models import AuditEvent, Specialist
from tests.conftest import make_specialist, sign_in
from tests.test_dashboard import token

PASSWORD = "correct horse battery"


def login_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def post_login(client, query: str = "", email: str = "jordan@example.org"):
    data = {"email": email, "password": PASSWORD, "csrf_token": login_token(client)}
    return client.post(f"/login{query}", data=data)


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def use_cookie(client, value: str) -> None:
    client.set_cookie("session", value)


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def log_out(client) -> None:
    client.post("/logout", data={"csrf_token": token(client, "/")})


@pytest.fixture
def admin_client(app, runtime):
    make_specialist(runtime, "ada@example.org", "Ada Admin", role="admin")
    other = app.test_client()
    sign_in(other, "ada@example.org")
    return other


# --- sessions ----------------------------------------------------------------------------


def test_logout_invalidates_saved_cookie(client, specialist):
    sign_in(client)
    saved = session_cookie(client)
    log_out(client)
    use_cookie(client, saved)
    assert not signed_in(client)


def test_logout_ends_the_accounts_other_sessions_too(app, client, specialist):
    laptop, phone = client, app.test_client()
    sign_in(laptop), sign_in(phone)
    log_out(laptop)
    assert not signed_in(phone)


def test_switching_an_account_off_and_on_does_not_revive_old_cookies(
    client, admin_client, specialist
):
    sign_in(client)
    saved = session_cookie(client)
    for active in ("no", "yes"):
        admin_client.post(
            f"/admin/specialists/{specialist}",
            data={"csrf_token": token(admin_client, "/admin/specialists"), "active": active},
        )
    use_cookie(client, saved)
    assert not signed_in(client)
    assert sign_in(client).status_code == 302  # switched on again: a new sign-in works


def test_a_role_change_ends_the_specialists_sessions(client, admin_client, specialist):
    sign_in(client)
    admin_client.post(
        f"/admin/specialists/{specialist}",
        data={"csrf_token": token(admin_client, "/admin/specialists"), "role": "admin"},
    )
    assert not signed_in(client)


def test_a_session_id_that_is_not_id_and_version_signs_nobody_in(app, client, specialist):
    for forged in ("1", f"{specialist}", f"{specialist}:", f"{specialist}:²", "²:0", "x:y"):
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert not signed_in(client), forged


def test_the_session_lasts_the_configured_hours_and_each_request_renews_it(
    settings, specialist, make_app
):
    client = make_app(settings.with_overrides(session_lifetime_hours=2)).test_client()
    response = sign_in(client)
    expires = datetime.strptime(
        response.headers["Set-Cookie"].split("Expires=")[1].split(";")[0],
        "%a, %d %b %Y %H:%M:%S GMT",
    ).replace(tzinfo=UTC)
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=2))) < timedelta(minutes=1)
    assert "session=" in client.get("/").headers.get("Set-Cookie", "")  # renewed on use


def aged(app, cookie: str, hours: float) -> str:
    """The same session, signed as if ``hours`` ago (Flask checks the signature's time)."""
    interface = app.session_interface
    data = interface.get_signing_serializer(app).loads(cookie)

    class EarlierSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - hours * 3600)

    serializer = URLSafeTimedSerializer(
        app.secret_key,
        salt=interface.salt,
        serializer=interface.serializer,
        signer=EarlierSigner,
        signer_kwargs={
            "key_derivation": interface.key_derivation,
            "digest_method": interface.digest_method,
        },
    )
    return serializer.dumps(data)


def test_a_cookie_unused_for_longer_than_the_session_lifetime_is_refused(app, client, specialist):
    sign_in(client)
    cookie = session_cookie(client)
    use_cookie(client, aged(app, cookie, hours=11))
    assert signed_in(client)
    use_cookie(client, aged(app, cookie, hours=13))  # the default lifetime is 12 hours
    assert not signed_in(client)


# --- where sign-in leads -------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_",
    [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0aSet-Cookie:%20x=1",
        "//evil.example",
        "/%5Cevil.example",
        "/%5C%5Cevil.example",
        "https://evil.example/",
        "https:/evil.example",
        "javascript:alert(1)",
        "/%2509/evil.example",
        "/%E2%80%8B/evil.example",
        "evil.example",
    ],
)
def test_sign_in_never_redirects_off_the_site(client, specialist, next_):
    response = post_login(client, f"?next={next_}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_goes_back_to_the_page_asked_for(client, peer):
    response = post_login(client, f"?next=/peers/{peer}%3Ftab%3Dplan")
    assert response.headers["Location"] == f"/peers/{peer}?tab=plan"


# --- guessing ------------------------------------------------------------------------------


def limited_client(settings, make_app, **overrides):
    return make_app(settings.with_overrides(login_rate_limit=True, **overrides)).test_client()


def wrong(client, email: str = "jordan@example.org", headers: dict | None = None):
    data = {"email": email, "password": "wrong password", "csrf_token": login_token(client)}
    return client.post("/login", data=data, headers=headers or {})


def test_ten_wrong_passwords_lock_that_account_and_not_others_from_the_same_address(
    settings, specialist, outsider, make_app
):
    client = limited_client(settings, make_app)
    for _ in range(10):
        assert wrong(client).status_code == 401
    assert post_login(client).status_code == 429  # even the right password, for a while
    assert post_login(client, email="casey@example.org").status_code == 302


def test_one_address_trying_many_accounts_is_limited(settings, specialist, make_app):
    client = limited_client(settings, make_app)
    for i in range(30):
        assert wrong(client, f"guess{i}@example.org").status_code == 401
    assert wrong(client, "one-more@example.org").status_code == 429


def test_behind_a_trusted_proxy_each_client_address_is_limited_alone(
    settings, specialist, make_app
):
    client = limited_client(settings, make_app, trusted_proxy_hops=1)
    first, second = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}
    for i in range(30):
        assert wrong(client, f"guess{i}@example.org", first).status_code == 401
    assert wrong(client, "one-more@example.org", first).status_code == 429
    assert wrong(client, "one-more@example.org", second).status_code == 401


def test_without_trusted_proxies_a_forwarded_for_header_does_not_escape_the_limit(
    settings, specialist, make_app
):
    client = limited_client(settings, make_app)
    for i in range(30):
        forged = {"X-Forwarded-For": f"198.51.100.{i}"}
        assert wrong(client, f"guess{i}@example.org", forged).status_code == 401
    assert wrong(client, "x@example.org", {"X-Forwarded-For": "192.0.2.9"}).status_code == 429


def test_an_unknown_account_is_checked_against_a_hash_of_the_same_cost(client, specialist):
    # No timing assertion: the refusal does the same work because the dummy hash uses the
    # same method and cost parameters as every stored one.
    assert passwords.password_matches(None, PASSWORD) is False
    method = passwords.hash_password("any passphrase at all").split("$")[0]
    assert passwords._dummy_hash().split("$")[0] == method
    assert sign_in(client, "nobody@example.org", PASSWORD).status_code == 401


# --- changing a password -------------------------------------------------------------------


def change_password(client, current: str, new: str, again: str | None = None):
    return client.post(
        "/account/password",
        data={
            "csrf_token": token(client, "/account"),
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
        follow_redirects=True,
    )


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, client, runtime, specialist):
    other = app.test_client()
    sign_in(client), sign_in(other)
    page = change_password(client, PASSWORD, "a much better passphrase")
    assert "Password changed" in page.get_data(as_text=True)
    assert signed_in(client)
    assert not signed_in(other)
    assert sign_in(other).status_code == 401
    assert sign_in(other, password="a much better passphrase").status_code == 302
    with runtime.session_factory() as session:
        assert "password changed" in session.scalars(select(AuditEvent.action)).all()


@pytest.mark.parametrize(
    ("current", "new", "again", "reason"),
    [
        ("not my password", "a much better passphrase", None, "current password is not right"),
        (PASSWORD, "short", None, "at least 10 characters"),
        (PASSWORD, "x" * 129, None, "at most 128 characters"),
        (PASSWORD, "Password123", None, "most common"),
        (PASSWORD, "a much better passphrase", "a much better passphrasE", "not the same"),
    ],
)
def test_a_password_change_is_refused_with_the_reason(
    client, runtime, specialist, current, new, again, reason
):
    sign_in(client)
    with runtime.session_factory() as session:
        before = session.get(Specialist, specialist).password_hash
    page = change_password(client, current, new, again)
    assert reason in page.get_data(as_text=True)
    with runtime.session_factory() as session:
        assert session.get(Specialist, specialist).password_hash == before
    assert signed_in(client)
