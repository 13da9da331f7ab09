"""Hostile input at the webhooks, every dashboard form and every API parameter: never a
5xx, no change without a signature. Runs on SQLite, and on PostgreSQL (which refuses NUL
bytes and integers too large for a column) with PEERNUDGE_TEST_DATABASE=postgresql."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from service.models import (
    ApiToken,
    ConsentEvent,
    Flag,
    Goal,
    InboundMessage,
    OutboundMessage,
    Specialist,
)
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN, make_specialist, sign_in
from tests.reliability.scale import report, scaled
from tests.signing import inbound_form, signed_post
from tests.test_dashboard import token

INJECTIONS = [
    "'; DROP TABLE peers; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }}",
    "${jndi:ldap://x}",
    "\x00\x01\x02",
    "\ud7ff\ue000\uffff",
    "A" * 10_000,
    "STOP\r\nSet-Cookie: x=1",
    "%00%0a",
    "../../etc/passwd",
]
FIELDS = [
    "MessageSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "OptOutType",
    "MessageStatus",
    "ErrorCode",
    "AccountSid",
]
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
forms = st.dictionaries(st.sampled_from(FIELDS), st.one_of(text, st.sampled_from(INJECTIONS)))


def row_counts(runtime) -> tuple[int, int, int]:
    with runtime.session_factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (InboundMessage, OutboundMessage, ConsentEvent)
        )  # type: ignore[return-value]


def test_generated_signed_webhooks_never_5xx(client, runtime, peer):
    examples = scaled(300, 20_000)
    seen = {"count": 0}

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(form=forms, path=st.sampled_from(["/sms/inbound", "/sms/status"]))
    def check(form, path):
        seen["count"] += 1
        response = signed_post(client, path, form)
        assert response.status_code < 500, (path, form)

    check()
    report("hostile_signed", requests=seen["count"], server_errors=0)


def test_unsigned_and_forged_requests_change_no_row(client, runtime, peer):
    rng = random.Random(5)
    before = row_counts(runtime)
    attempts = scaled(300, 5_000)
    for i in range(attempts):
        form = inbound_form(
            rng.choice([*INJECTIONS, "STOP", "DONE", "I want to die"]), sid=f"SM{i:032d}"
        )
        forged_signature = "".join(rng.choices(string.ascii_letters + string.digits + "+/=", k=28))
        headers = {} if i % 3 == 0 else {"X-Twilio-Signature": forged_signature}
        path = "/sms/inbound" if i % 2 else "/sms/status"
        response = client.post(path, data=form, headers=headers)
        assert response.status_code == 403
    assert row_counts(runtime) == before
    report("hostile_unsigned", requests=attempts, rows_changed=0)


def test_a_replayed_signature_on_another_body_is_refused(client, runtime, peer):
    original = inbound_form("DONE", sid="SM" + "1" * 32)
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
        f"{PUBLIC_BASE_URL}/sms/inbound", original
    )
    tampered = {**original, "Body": "STOP"}
    before = row_counts(runtime)
    response = client.post("/sms/inbound", data=tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert row_counts(runtime) == before


def test_oversized_and_malformed_fields(client, runtime, peer):
    cases = [
        {**inbound_form("x"), "Body": "B" * 100_000},
        {**inbound_form("x"), "NumMedia": "-5"},
        {**inbound_form("x"), "NumMedia": "99999999999999999999"},
        {**inbound_form("x"), "From": "+" + "9" * 500},
        {**inbound_form("x"), "MessageSid": "S" * 5000},
    ]
    for form in cases:
        assert signed_post(client, "/sms/inbound", form).status_code < 500
    raw = client.post(
        "/sms/inbound",
        data=b"Body=%ff%fe%fd&MessageSid=SM1&From=%2B12125550134",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert raw.status_code == 403


def test_injection_strings_are_escaped_on_the_dashboard(client, runtime, peer):
    for i, body in enumerate(INJECTIONS[:6]):
        signed_post(client, "/sms/inbound", inbound_form(body, sid=f"SM{i:032d}"))
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- every dashboard form and every API parameter ------------------------------------------

HOSTILE_VALUES = [
    "",
    " ",
    "\x00",
    "walk\x00",
    "\u00b3",  # superscript three: str.isdigit() says yes
    "\u00b2",
    "\u0663",  # Arabic-Indic three: int() reads it
    "\uff13",  # fullwidth three
    "99999999999999999999",
    "-1",
    "1e3",
    "09:00:00.5+05:00",
    "25:99",
    "A" * 10_000,
    "'; DROP TABLE peers; --",
    "<script>alert(1)</script>",
    "\ud7ff\ue000\uffff",
    "STOP\r\nSet-Cookie: x=1",
    "//evil.example",
    "true",
    "[]",
]
WRONGLY_TYPED = ["repeated", "missing"]


@dataclass(frozen=True)
class Ids:
    peer: int
    goal: int
    flag: int
    token: int
    jordan: int
    casey: int
    reset: str


def dashboard_forms(ids: Ids) -> list[tuple[str, str, dict[str, str]]]:
    """(endpoint, path, a valid form) for every form a browser can post."""
    peer, goal = ids.peer, ids.goal
    new_password = {"new_password": "a new passphrase", "new_password_again": "a new passphrase"}
    return [
        ("auth.login", "/login", {"email": "ada@example.org", "password": "wrong password"}),
        ("auth.reset_password", ids.reset, new_password),
        ("auth.change_password", "/account/password",
         {"current_password": "correct horse battery", **new_password}),
        ("dashboard.enrol", "/peers/new", enrol_fields()),
        ("dashboard.message_peer", f"/peers/{peer}/messages", {"body": "see you soon"}),
        ("dashboard.resolve_flag", f"/flags/{ids.flag}/resolve",
         {"note": "called them", "next": "caseload"}),
        ("dashboard.account", "/account", {"timezone": "America/Chicago"}),
        ("dashboard.create_token", "/account/tokens", {"name": "reports"}),
        ("dashboard.revoke_token", f"/account/tokens/{ids.token}/revoke", {}),
        ("plans.add_goal", f"/peers/{peer}/goals",
         {"text": "call my sister", "days": "daily", "times": "10:00"}),
        ("plans.edit_goal", f"/peers/{peer}/goals/{goal}",
         {"text": "walk", "days": "weekdays", "times": "11:00"}),
        ("plans.goal_state", f"/peers/{peer}/goals/{goal}/pause", {}),
        ("plans.goal_state", f"/peers/{peer}/goals/{goal}/resume", {}),
        ("plans.goal_state", f"/peers/{peer}/goals/{goal}/remove", {}),
        ("plans.encouragement", f"/peers/{peer}/encouragement", {"cadence": "daily"}),
        ("plans.encouragement", f"/peers/{peer}/encouragement",
         {"encouragement": "daily", "encouragement_time": "12:30", "summary_day": "sun",
          "summary_time": "17:00"}),
        ("discharge.discharge_peer", f"/peers/{peer}/discharge", {"reason": "completed"}),
        ("discharge.re_enrol_peer", f"/peers/{peer}/re-enrol", {}),
        ("consent.record_told_opt_out", f"/peers/{peer}/opt-out",
         {"told_by": "in_person", "confirm": "yes"}),
        ("plans.tell_peer", f"/peers/{peer}/goals/{goal}/tell", {"changed": "1"}),
        ("details.zone_for_number", "/peers/zone-for-number", {"phone": "(212) 555-0134"}),
        ("details.edit_peer", f"/peers/{peer}/details",
         {"name": "Sam", "phone": "(212) 555-0134", "timezone": "America/New_York",
          "language": "en", "window_start": "09:00", "window_end": "19:00",
          "strengths": "kind", "reasons": "my kids", "consent": "yes",
          "consent_method": "in person"}),
        ("admin.create", "/admin/specialists",
         {"name": "Lee Park", "email": "lee@example.org", "password": "a fine passphrase",
          "role": "specialist"}),
        ("admin.update", f"/admin/specialists/{ids.casey}",
         {"role": "specialist", "active": "yes"}),
        ("admin.reassign", f"/admin/peers/{peer}/specialist", {"specialist_id": str(ids.casey)}),
        ("simulator.send", f"/simulator/{peer}/messages", {"body": "DONE"}),
        ("alerts.acknowledge", "/alerts/1/ack", {}),
        ("alerts.email_link", "/alerts/ack/not-a-real-token", {}),
        ("alerts.add_shift", "/admin/on-call",
         {"specialist_id": str(ids.casey), "starts_at": "2026-12-01T18:00",
          "ends_at": "2026-12-02T08:00"}),
        ("alerts.remove_shift", "/admin/on-call/1/delete", {}),
        ("alerts.staff_phone", "/simulator/staff", {"body": "ACK"}),
        ("admin.reset", f"/admin/specialists/{ids.jordan}/reset", {}),  # voids ids.reset
        ("auth.logout", "/logout", {}),  # last: Ada is signed out
    ]  # fmt: skip


def enrol_fields() -> dict[str, str]:
    return {
        "name": "Robin", "phone": "(646) 555-0142", "goal": "cook dinner at home",
        "days": "mon,wed,fri", "times": "18:30", "timezone": "America/New_York",
        "language": "en", "consent": "yes", "consent_method": "in person",
        "encouragement": "2x-week", "summary_day": "sun", "strengths": "kind",
        "reasons": "my kids", "window_start": "09:00", "window_end": "19:00",
    }  # fmt: skip


REPORT_PARAMETERS = ["range", "from", "to", "specialist", "outside"]


def query_pages(ids: Ids) -> list[tuple[str, str, list[str]]]:
    """(endpoint, path, its query parameters) for every page and API route that reads any."""
    peer = ids.peer
    return [
        ("auth.login", "/login", ["next"]),
        ("simulator.page", "/simulator/", ["peer"]),
        ("api.list_peers", "/api/v1/peers", ["limit", "offset"]),
        ("api.list_checkins", f"/api/v1/peers/{peer}/checkins", ["limit", "offset"]),
        ("api.list_messages", f"/api/v1/peers/{peer}/messages", ["limit", "offset"]),
        ("api.list_flags", "/api/v1/flags", ["open", "limit", "offset"]),
        ("dashboard.caseload", "/", ["show", "q"]),
        ("dashboard.peer_page", f"/peers/{peer}", ["announce", "changed"]),
        ("program.page", "/program", REPORT_PARAMETERS),
        ("program.export", "/program/people.csv", REPORT_PARAMETERS),
        (
            "api.reports_summary",
            "/api/v1/reports/summary",
            ["from", "to", "specialist_id", "outside"],
        ),
    ]


def variants(form: dict[str, str]) -> Iterator[tuple[str, object, dict[str, object]]]:
    """The form with one field at a time hostile, repeated, or missing (or an extra one)."""
    for field in list(form) or ["extra"]:
        for value in HOSTILE_VALUES:
            yield field, value, {**form, field: value}
        yield field, "repeated", {**form, field: ["one", "two"]}
        yield field, "missing", {k: v for k, v in form.items() if k != field}


def api_routes_with_ids(app) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}


@pytest.fixture
def admin_session(app, client, runtime, peer):
    """Ada, an admin (she reaches every form), with one of everything to post about."""
    make_specialist(runtime, "ada@example.org", "Ada Admin", role="admin")
    casey = make_specialist(runtime, "casey@example.org", "Casey Morgan")
    signed_post(client, "/sms/inbound", inbound_form("feeling a bit lost today"))
    sign_in(client, "ada@example.org")
    csrf = token(client, "/account")
    reset = client.post(f"/admin/specialists/{jordan_id(runtime)}/reset",
                        data={"csrf_token": csrf})  # fmt: skip
    link = re.search(r'<code id="reset-link">([^<]+)</code>', reset.get_data(as_text=True))[1]
    secret, jordan = create_api_token(client, csrf), jordan_id(runtime)
    with runtime.session_factory() as session:
        ids = Ids(
            peer=peer,
            goal=session.scalar(select(Goal.id).where(Goal.peer_id == peer)),
            flag=session.scalar(select(Flag.id)),
            token=session.scalar(select(ApiToken.id)),
            jordan=jordan,
            casey=casey,
            reset="/" + link.split("/", 3)[3],
        )
    return ids, csrf, secret


def jordan_id(runtime) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(Specialist.id).where(Specialist.email == "jordan@example.org"))


def create_api_token(client, csrf: str) -> str:
    page = client.post("/account/tokens", data={"csrf_token": csrf, "name": "hostile"})
    return re.search(r'<code id="new-token">([^<]+)</code>', page.get_data(as_text=True))[1]


def test_every_dashboard_form_survives_hostile_values(client, admin_session):
    ids, csrf, _ = admin_session
    requests = 0
    for endpoint, path, form in dashboard_forms(ids):
        for field, value, data in variants(form):
            response = client.post(path, data={"csrf_token": csrf, **data})
            requests += 1
            assert response.status_code < 500, (endpoint, path, field, repr(value)[:60])
            if "\x00" in str(value):
                assert response.status_code == 400, (endpoint, field)
    report("hostile_forms", requests=requests, server_errors=0)


def test_every_query_parameter_and_api_id_survives_hostile_values(client, admin_session):
    ids, _, secret = admin_session
    bearer = {"Authorization": f"Bearer {secret}"}
    requests = 0
    for endpoint, path, names in query_pages(ids):
        for name in names:
            for value in [*HOSTILE_VALUES, ["1", "2"]]:
                response = client.get(path, query_string={name: value}, headers=bearer)
                requests += 1
                assert response.status_code < 500, (endpoint, name, repr(value)[:60])
    for rule in api_routes_with_ids(client.application):
        for value in HOSTILE_VALUES[1:]:
            path = re.sub(r"<int:\w+>", quote(value, safe=""), rule)
            response = client.get(path, headers=bearer)
            requests += 1
            assert response.status_code < 500, (rule, repr(value)[:60])
    report("hostile_parameters", requests=requests, server_errors=0)


def test_the_hostile_lists_cover_every_form_and_parameter(app, admin_session):
    """A new form or API route must be added above, or this fails."""
    ids, _, _ = admin_session
    posted = {endpoint for endpoint, _, _ in dashboard_forms(ids)}
    form_routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint.split(".")[0] not in UNFORMED
    }
    assert form_routes - posted == set()
    queried = {endpoint for endpoint, _, _ in query_pages(ids)}
    paged = {"api.list_peers", "api.list_checkins", "api.list_messages", "api.list_flags"}
    assert paged <= queried


UNFORMED = {"webhooks"}  # signed by Twilio; covered by the tests above
