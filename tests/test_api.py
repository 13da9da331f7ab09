"""The JSON API: tokens, permissions as on the dashboard, JSON errors, paging."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from service.models import ApiToken, Flag
from tests.conftest import enrol, make_specialist, sign_in
from tests.inbound_worker import post_text
from tests.signing import inbound_form
from tests.test_dashboard import token as csrf_token

PEER_PATHS = ["", "/goals", "/schedules", "/checkins", "/messages", "/flags"]


def create_token(client, name: str = "reports") -> str:
    """Through the Account page, as a specialist would."""
    response = client.post(
        "/account/tokens", data={"name": name, "csrf_token": csrf_token(client, "/account")}
    )
    assert response.status_code == 201
    return re.search(r'<code id="new-token">([^<]+)</code>', response.get_data(as_text=True))[1]


@pytest.fixture
def jordans_token(client, peer) -> str:
    sign_in(client)
    secret = create_token(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    return secret


def api(client, path: str, secret: str | None):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.get(f"/api/v1{path}", headers=headers)


def test_a_token_is_shown_once_and_stored_only_as_its_hash(client, runtime, jordans_token):
    with runtime.session_factory() as session:
        stored = session.scalar(select(ApiToken))
    assert stored.token_hash == hashlib.sha256(jordans_token.encode()).hexdigest()
    assert jordans_token not in (stored.token_hash, stored.prefix, stored.name)
    sign_in(client)
    assert jordans_token not in client.get("/account").get_data(as_text=True)


def test_the_owner_reads_every_peer_resource(client, runtime, peer, jordans_token, clock):
    post_text(client, inbound_form("DONE"))
    listing = api(client, "/peers", jordans_token)
    assert listing.status_code == 200
    assert [p["name"] for p in listing.json["data"]] == ["Sam"]
    assert listing.json["data"][0]["phone"] == "+12125550134"
    assert api(client, f"/peers/{peer}", jordans_token).json["timezone"] == "America/New_York"
    goals = api(client, f"/peers/{peer}/goals", jordans_token).json["data"]
    assert goals[0]["text"] == "take a 20 minute walk"
    assert goals[0]["schedules"][0]["times"] == "09:00"
    schedules = api(client, f"/peers/{peer}/schedules", jordans_token).json["data"]
    assert {s["kind"] for s in schedules} == {"checkin"}
    checkins = api(client, f"/peers/{peer}/checkins", jordans_token).json["data"]
    assert [c["result"] for c in checkins] == ["done"]
    messages = api(client, f"/peers/{peer}/messages", jordans_token).json["data"]
    assert {m["direction"] for m in messages} == {"in", "out"}
    assert any(m["body"] == "DONE" for m in messages)


def test_flags_of_the_caseload_come_urgent_first(client, runtime, peer, jordans_token):
    with runtime.session_factory() as session, session.begin():
        session.add(Flag(peer_id=peer, kind="silence", urgent=False))
        session.add(Flag(peer_id=peer, kind="crisis", urgent=True))
    flags = api(client, "/flags", jordans_token).json["data"]
    assert [f["kind"] for f in flags] == ["crisis", "silence"]
    assert len(api(client, f"/peers/{peer}/flags", jordans_token).json["data"]) == 2


def test_another_specialists_token_sees_none_of_the_peers(client, runtime, peer, outsider):
    sign_in(client, "casey@example.org")
    secret = create_token(client)
    assert api(client, "/peers", secret).json["data"] == []
    assert api(client, "/flags", secret).json["data"] == []
    for path in PEER_PATHS:
        response = api(client, f"/peers/{peer}{path}", secret)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"


def test_an_admins_token_sees_every_caseload(client, runtime, peer):
    make_specialist(runtime, "ada@example.org", "Ada Admin", role="admin")
    sign_in(client, "ada@example.org")
    secret = create_token(client)
    for path in PEER_PATHS:
        assert api(client, f"/peers/{peer}{path}", secret).status_code == 200


@pytest.mark.parametrize("secret", [None, "pn_not-a-real-token", ""])
def test_no_token_or_a_wrong_one_is_401_in_json(client, peer, secret):
    response = api(client, "/peers", secret)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working(client, runtime, peer):
    sign_in(client)
    secret = create_token(client)
    assert api(client, "/peers", secret).status_code == 200
    with runtime.session_factory() as session:
        token_id = session.scalar(select(ApiToken.id))
    revoke = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account")}
    )
    assert revoke.status_code == 303
    assert api(client, "/peers", secret).status_code == 401


def test_a_specialist_cannot_revoke_someone_elses_token(client, runtime, peer, outsider):
    sign_in(client)
    secret = create_token(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, "casey@example.org")
    with runtime.session_factory() as session:
        token_id = session.scalar(select(ApiToken.id))
    response = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account")}
    )
    assert response.status_code == 404
    assert api(client, "/peers", secret).status_code == 200


def test_creating_a_token_needs_the_csrf_token(client, runtime, peer):
    sign_in(client)
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400
    with runtime.session_factory() as session:
        assert session.scalar(select(ApiToken)) is None


@pytest.mark.parametrize(
    "query",
    [
        "?limit=0",
        "?limit=201",
        "?limit=ten",
        "?offset=-1",
        "?limit=1e3",
        "?limit=\u00b3",
        "?offset=\u00b2",
        "?limit=\u0663",
        "?limit=\uff13",
        "?offset=99999999999999999999",
        "?limit= 3",
        "?limit=+3",
    ],
)
def test_bad_paging_is_a_400_in_json(client, jordans_token, query):
    response = api(client, f"/peers{query}", jordans_token)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_parameter"


def test_paging_walks_the_whole_caseload_once(client, runtime, specialist, peer):
    for i in range(4):
        enrol(runtime, specialist, phone=f"+1646555{i:04d}", name=f"P{i}")
    sign_in(client)
    secret = create_token(client)
    seen, offset = [], 0
    while offset is not None:
        page = api(client, f"/peers?limit=2&offset={offset}", secret).json
        seen += [p["id"] for p in page["data"]]
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("POST", "/api/v1/peers", 405),
        ("GET", "/api/v1/peers/99999999999999999999", 404),
    ],
)
def test_unknown_paths_and_methods_answer_json_too(client, jordans_token, method, path, status):
    response = client.open(
        path, method=method, headers={"Authorization": f"Bearer {jordans_token}"}
    )
    assert response.status_code == status
    assert response.is_json and "error" in response.json


def test_the_openapi_document_describes_every_route(client, app):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {"/api/v1" + path for path in document["paths"]}
    served = {
        re.sub(r"<int:(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and not rule.rule.endswith("openapi.json")
    }
    assert documented == served


def test_the_account_page_lists_tokens_by_prefix_only(client, runtime, peer):
    sign_in(client)
    secret = create_token(client, name="weekly report")
    page = client.get("/account").get_data(as_text=True)
    assert "<title>Your account · " in page and page.count("API tokens</h2>") == 1
    assert "weekly report" in page and secret[:10] in page and secret not in page


def test_the_rate_limit_counts_per_token_however_the_header_is_spelled(
    settings, runtime, specialist, make_app
):
    from service.web.api import API_RATE

    app = make_app(settings.with_overrides(login_rate_limit=True))
    client = app.test_client()
    sign_in(client)
    secret = create_token(client)
    allowed = int(API_RATE.split()[0])
    spellings = [f"Bearer {secret}", f"bearer {secret}", f"BEARER  {secret}", f"Bearer {secret} "]
    for i in range(allowed):
        headers = {"Authorization": spellings[i % len(spellings)]}
        assert client.get("/api/v1/flags", headers=headers).status_code == 200, i
    for spelling in spellings:
        response = client.get("/api/v1/flags", headers={"Authorization": spelling})
        assert response.status_code == 429
    other = create_token(client, "another tool")
    assert api(client, "/flags", other).status_code == 200
