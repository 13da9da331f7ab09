"""The dashboard through the Flask test client, as owner, outsider, admin and anonymous."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from service.models import AuditEvent, Flag, Goal, OutboundMessage, Peer
from tests.conftest import enrol, make_specialist, sign_in
from tests.inbound_worker import post_text
from tests.signing import inbound_form


def token(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))[
        1
    ]


def first_flag_id(runtime) -> int:
    with runtime.session_factory() as session:
        return session.scalar(select(Flag.id).order_by(Flag.id))


@pytest.fixture
def admin(runtime) -> int:
    return make_specialist(runtime, "ada@example.org", "Ada Admin", role="admin")


def peer_routes(peer_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", f"/peers/{peer_id}"),
        ("GET", f"/peers/{peer_id}/export.csv"),
        ("GET", f"/simulator/{peer_id}/messages"),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, peer):
    for method, path in [("GET", "/"), ("GET", "/peers/new"), *peer_routes(peer)]:
        response = client.open(path, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_specialist_sees_none_of_the_peers(client, runtime, peer, outsider):
    sign_in(client, "casey@example.org")
    assert "Sam" not in client.get("/").get_data(as_text=True)
    for method, path in peer_routes(peer):
        assert client.open(path, method=method).status_code == 404
    with runtime.session_factory() as session, session.begin():
        session.add(Flag(peer_id=peer, kind="crisis", urgent=True))
    flag_id = first_flag_id(runtime)
    csrf = token(client, "/peers/new")
    assert client.post(f"/flags/{flag_id}/resolve", data={"csrf_token": csrf}).status_code == 404
    assert (
        client.post(f"/peers/{peer}/messages", data={"csrf_token": csrf, "body": "hi"}).status_code
        == 404
    )


def test_an_admin_sees_every_caseload(client, peer, admin):
    sign_in(client, "ada@example.org")
    assert "Sam" in client.get("/").get_data(as_text=True)
    assert client.get(f"/peers/{peer}").status_code == 200


def test_the_owner_sees_the_peer_page_with_goals_chart_and_thread(client, peer):
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    for expected in (
        "take a 20 minute walk",
        "<svg",
        "Habit strength",
        "(212) 555-0134",
        "welcome",
    ):
        assert expected in page


def enrol_form(**overrides) -> dict[str, str]:
    return {
        "name": "Robin",
        "phone": "(646) 555-0142",
        "goal": "cook dinner at home",
        "days": "mon,wed,fri",
        "times": "18:30",
        "language": "en",
        "consent": "yes",
        "consent_method": "in person",
        "encouragement": "2x-week",
        "summary_day": "sun",
        **overrides,
    }


def test_enrolling_a_peer_records_consent_and_plans_the_welcome(client, runtime, specialist):
    sign_in(client)
    form = enrol_form(csrf_token=token(client, "/peers/new"), strengths="I keep my word")
    response = client.post("/peers/new", data=form)
    assert response.status_code == 302
    with runtime.session_factory() as session:
        peer = session.scalar(select(Peer).where(Peer.phone == "+16465550142"))
        welcome = session.scalar(select(OutboundMessage).where(OutboundMessage.peer_id == peer.id))
        actions = session.scalars(select(AuditEvent.action)).all()
    assert (peer.timezone, peer.consent, peer.consent_method) == (
        "America/New_York",
        "opted_in",
        "in person",
    )
    assert welcome.kind == "welcome" and "cook dinner at home" in welcome.body
    assert actions == ["enrolled"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phone": "555-01"}, "is not a valid phone number"),
        ({"consent": ""}, "Record the peer&#39;s consent"),
        ({"times": "21:30"}, "21:30 is outside the hours"),
        ({"timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"phone": "+61 412 345 678"}, "cannot be told from"),
        ({"phone": "+1 876 210 1234"}, "is a number in Jamaica (JM), and there are no reviewed"),
        ({"window_start": "09:00:00.5+05:00"}, "Preferred hours must look like 09:00"),
        ({"window_end": "18:00+00:00"}, "Preferred hours must look like 09:00"),
        ({"window_start": "25:00"}, "Preferred hours must look like 09:00"),
    ],
)
def test_enrolment_errors_are_clear_and_nothing_is_written(
    client, runtime, specialist, change, message
):
    sign_in(client)
    response = client.post(
        "/peers/new", data=enrol_form(csrf_token=token(client, "/peers/new"), **change)
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with runtime.session_factory() as session:
        assert session.scalars(select(Peer)).all() == []


def test_forms_need_the_csrf_token(client, specialist):
    sign_in(client)
    assert client.post("/peers/new", data=enrol_form()).status_code == 400


def test_the_caseload_puts_a_crisis_at_the_top(client, runtime, specialist, clock):
    clock.set(clock.current.replace(hour=16))
    enrol(runtime, specialist, phone="+12125550101", name="Aaron")
    enrol(runtime, specialist, phone="+12125550102", name="Zoe")
    post_text(client, inbound_form("I want to die", sid="SM" + "9" * 32, from_="+12125550102"))
    sign_in(client)
    page = client.get("/").get_data(as_text=True)
    assert page.index("Zoe") < page.index("Aaron")
    assert 'class="urgent"' in page and "Crisis language" in page


def test_resolving_a_flag_keeps_the_note_and_audits_it(client, runtime, peer):
    with runtime.session_factory() as session, session.begin():
        session.add(Flag(peer_id=peer, kind="silence"))
    sign_in(client)
    flag_id = first_flag_id(runtime)
    client.post(
        f"/flags/{flag_id}/resolve",
        data={"csrf_token": token(client, "/"), "note": "called, all ok"},
    )
    with runtime.session_factory() as session:
        flag = session.get(Flag, flag_id)
        assert (flag.resolution_note, flag.resolved_by is not None) == ("called, all ok", True)
        assert "flag_resolved" in session.scalars(select(AuditEvent.action)).all()


def test_a_direct_message_is_queued_and_refused_after_opt_out(client, runtime, peer):
    sign_in(client)
    csrf = token(client, f"/peers/{peer}")
    client.post(
        f"/peers/{peer}/messages", data={"csrf_token": csrf, "body": "Thinking of you - Jordan"}
    )
    with runtime.session_factory() as session:
        direct = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "direct"))
    assert (direct.body, direct.status, direct.sent_by is not None) == (
        "Thinking of you - Jordan",
        "planned",
        True,
    )
    post_text(client, inbound_form("STOP"))
    client.post(f"/peers/{peer}/messages", data={"csrf_token": csrf, "body": "are you ok?"})
    with runtime.session_factory() as session:
        assert (
            session.scalar(select(OutboundMessage).where(OutboundMessage.body == "are you ok?"))
            is None
        )


def test_peer_written_text_is_escaped(client, peer):
    post_text(client, inbound_form("<script>alert('x')</script>"))
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_csv_export_defuses_formulas(client, peer):
    post_text(client, inbound_form('=HYPERLINK("http://x")'))
    sign_in(client)
    response = client.get(f"/peers/{peer}/export.csv")
    assert response.mimetype == "text/csv"
    assert "'=HYPERLINK" in response.get_data(as_text=True)


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_strict_transport_security_is_sent_when_the_public_url_is_https(client, settings, make_app):
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")
    plain = make_app(settings.with_overrides(public_base_url="http://localhost:5000"))
    assert "Strict-Transport-Security" not in plain.test_client().get("/login").headers


def test_sign_in_failure_is_clear_and_attempts_are_rate_limited(settings, specialist, make_app):
    app = make_app(settings.with_overrides(login_rate_limit=True))
    client = app.test_client()
    for _ in range(10):
        response = sign_in(client, password="wrong password")
        assert response.status_code == 401
        assert "do not match" in response.get_data(as_text=True)
    assert sign_in(client, password="wrong password").status_code == 429


def test_enrolling_a_number_that_said_stop_says_nothing_will_be_sent(client, runtime, specialist):
    post_text(client, inbound_form("STOP", from_="+16465550142"))
    sign_in(client)
    form = enrol_form(csrf_token=token(client, "/peers/new"))
    page = client.post("/peers/new", data=form, follow_redirects=True).get_data(as_text=True)
    assert "opted out earlier" in page
    with runtime.session_factory() as session:
        assert session.scalar(select(Peer.consent)) == "opted_out"


def test_the_caseload_export_has_every_own_peer_and_nobody_elses(client, runtime, peer, outsider):
    import csv
    import io

    enrol(runtime, outsider, phone="+16465550142", name="Robin")
    post_text(client, inbound_form("DONE"))
    sign_in(client)
    response = client.get("/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert {row["peer"] for row in rows} == {"Sam"}
    assert {row["direction"] for row in rows} == {"in", "out"}
    assert any(row["body"] == "DONE" for row in rows)
    with runtime.session_factory() as session:
        assert "caseload exported" in session.scalars(select(AuditEvent.action)).all()


@pytest.mark.parametrize(
    "path",
    [
        "/peers/99999999999999999999",
        "/peers/99999999999999999999/export.csv",
        "/simulator/99999999999999999999/messages",
    ],
)
def test_an_id_too_large_for_the_database_is_404_not_500(client, peer, path):
    sign_in(client)
    assert client.get(path).status_code == 404


def test_a_number_on_another_caseload_cannot_be_enrolled_and_the_reason_is_not_shown(
    client, runtime, specialist, outsider
):
    enrol(runtime, outsider, phone="+16465550142", name="Robin")
    sign_in(client)
    response = client.post("/peers/new", data=enrol_form(csrf_token=token(client, "/peers/new")))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "+16465550142 cannot be enrolled" in page
    # the other specialist's name ("Casey" alone is also Antarctica/Casey, a time zone)
    assert "already" not in page and "Casey Morgan" not in page
    with runtime.session_factory() as session:
        refused = session.scalar(select(AuditEvent).where(AuditEvent.action == "enrolment refused"))
        assert refused.actor == f"specialist:{specialist}"
        assert len(session.scalars(select(Peer)).all()) == 1


def test_a_number_already_on_your_own_caseload_says_so(client, runtime, specialist):
    enrol(runtime, specialist, phone="+16465550142", name="Robin")
    sign_in(client)
    response = client.post("/peers/new", data=enrol_form(csrf_token=token(client, "/peers/new")))
    assert "already enrolled on your caseload" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_form_is_refused_and_nothing_is_stored(client, runtime, peer):
    sign_in(client)
    csrf = token(client, f"/peers/{peer}")
    for path, data in [
        (f"/peers/{peer}/messages", {"body": "see you\x00 soon"}),
        (f"/peers/{peer}/goals", {"text": "walk\x00", "days": "daily", "times": "10:00"}),
        ("/account/tokens", {"name": "reports\x00"}),
        ("/peers/new", enrol_form(strengths="kind\x00", phone="(646) 555-0142")),
    ]:
        assert client.post(path, data={"csrf_token": csrf, **data}).status_code == 400, path
    with runtime.session_factory() as session:
        assert session.scalars(select(OutboundMessage.kind)).all() == ["welcome"]
        assert len(session.scalars(select(Peer)).all()) == 1


def test_a_crisis_flag_is_resolved_only_with_a_note(client, runtime, peer):
    with runtime.session_factory() as session, session.begin():
        session.add(Flag(peer_id=peer, kind="crisis", urgent=True))
    sign_in(client)
    flag_id = first_flag_id(runtime)
    csrf = token(client, f"/peers/{peer}")
    client.post(f"/flags/{flag_id}/resolve", data={"csrf_token": csrf, "note": "  "})
    with runtime.session_factory() as session:
        assert session.get(Flag, flag_id).resolved_at is None
    client.post(f"/flags/{flag_id}/resolve", data={"csrf_token": csrf, "note": "called her"})
    with runtime.session_factory() as session:
        assert session.get(Flag, flag_id).resolution_note == "called her"


def test_the_caseload_title_counts_urgent_flags_and_the_summary_is_polled(client, runtime, peer):
    sign_in(client)
    assert client.get("/caseload/summary.json").get_json() == {"urgent": 0, "open": 0, "latest": 0}
    with runtime.session_factory() as session, session.begin():
        session.add(Flag(peer_id=peer, kind="crisis", urgent=True))
        session.add(Flag(peer_id=peer, kind="reply"))
    summary = client.get("/caseload/summary.json").get_json()
    assert (summary["urgent"], summary["open"]) == (1, 2) and summary["latest"] > 0
    assert "<title>(1 urgent) Caseload" in client.get("/").get_data(as_text=True)


def test_the_caseload_summary_counts_only_the_specialists_own_peers(
    client, runtime, peer, outsider
):
    with runtime.session_factory() as session, session.begin():
        session.add(Flag(peer_id=peer, kind="crisis", urgent=True))
    sign_in(client, "casey@example.org")
    assert client.get("/caseload/summary.json").get_json()["urgent"] == 0


def sent_check_in(runtime, peer_id: int, sent_at) -> None:
    """A check-in text for the peer's first goal that the provider took at ``sent_at``."""
    with runtime.session_factory() as session, session.begin():
        peer = session.get(Peer, peer_id)
        session.add(
            OutboundMessage(
                peer_id=peer_id, to_phone=peer.phone, kind="checkin", goal_id=peer.goals[0].id,
                status="sent", due_at=sent_at, sent_at=sent_at, created_at=sent_at,
            )
        )  # fmt: skip


def reply_cell(client) -> str:
    page = client.get("/").get_data(as_text=True)
    cell = page.split('data-label="Replies (14 days)">', 1)[1].split("</td>", 1)[0]
    return re.sub(r"<[^>]+>", "", cell).strip()


def test_a_check_in_just_sent_is_not_yet_counted_as_unanswered(client, runtime, peer, clock):
    sent_check_in(runtime, peer, clock.current - timedelta(minutes=2))
    sign_in(client)
    assert reply_cell(client) == "-"
    clock.advance(days=1)  # its day to answer is over, with no answer
    assert reply_cell(client) == "0%"


def test_a_check_in_answered_at_once_counts_at_once(client, runtime, peer, clock):
    sent_check_in(runtime, peer, clock.current - timedelta(minutes=2))
    post_text(client, inbound_form("DONE"))
    sign_in(client)
    assert reply_cell(client) == "100%"


def conversation_labels(page: str) -> list[str]:
    """What the conversation says each text the peer sent did (after its time)."""
    bubbles = re.findall(r'<li class="bubble in"[^>]*>.*?<small>(.*?)</small>', page, re.S)
    return [" ".join(small.split()).split(" · ")[1] for small in bubbles]


def test_an_ambiguous_done_is_labelled_by_what_it_recorded(client, runtime, peer, clock):
    with runtime.session_factory() as session, session.begin():
        session.add(Goal(peer_id=peer, text="drink more water", position=2))
    post_text(client, inbound_form("DONE", sid="SM" + "1" * 32))  # which one?
    clock.advance(minutes=1)
    post_text(client, inbound_form("2", sid="SM" + "2" * 32))
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    assert conversation_labels(page) == ["asked which goal", "done: drink more water"]
    check_ins = page.split("<h2>Check-ins</h2>", 1)[1].split("</ul>", 1)[0]
    assert "done &ndash; drink more water" in check_ins
    assert "take a 20 minute walk" not in check_ins


def test_after_start_the_peer_page_has_no_open_opted_out_flag(client, peer):
    post_text(client, inbound_form("STOP", sid="SM" + "1" * 32))
    post_text(client, inbound_form("START", sid="SM" + "2" * 32))
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    assert '<span class="status active">active</span>' in page
    assert "Needs attention" not in page
    changes = " ".join(page.split(">History</h2>", 1)[1].split())
    assert "Opted out flag" in changes
    assert "resolved by the peer: &ldquo;the peer texted START&rdquo;" in changes


def test_every_page_links_its_favicon(client):
    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', page)[1]
    with client.get(href) as response:
        assert (response.status_code, response.mimetype) == (200, "image/svg+xml")
        svg = ElementTree.fromstring(response.get_data())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"


def test_times_on_the_peer_page_are_in_the_specialists_own_zone_never_bare_utc(
    client, runtime, specialist, peer
):
    from zoneinfo import ZoneInfo

    from service.models import ConsentEvent, Specialist

    with runtime.session_factory() as session, session.begin():
        session.get(Specialist, specialist).timezone = "America/Chicago"
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    with runtime.session_factory() as session:
        consented = session.scalar(
            select(ConsentEvent.created_at).where(ConsentEvent.peer_id == peer)
        )
    chicago = consented.astimezone(ZoneInfo("America/Chicago"))
    assert chicago.strftime("%Y-%m-%d %H:%M") + " " + chicago.tzname() in page
    assert " UTC" not in page


@pytest.mark.parametrize(
    ("days", "times", "words"),
    [
        ("daily", "09:00", "every day at 09:00"),
        ("mon,thu", "18:00,19:30", "Mondays and Thursdays at 18:00 and 19:30"),
        ("mon,wed,fri", "10:00", "Mondays, Wednesdays and Fridays at 10:00"),
        ("3x-week", "12:00", "3 times a week at 12:00"),
        ("2x-week", "12:30", "twice a week at 12:30"),
    ],
)
def test_a_schedule_is_shown_in_plain_words_not_codes(days, times, words):
    from service.web.peer_forms import schedule_in_words

    assert schedule_in_words("checkin", days, times) == f"Check-ins: {words}"


def test_a_long_zone_name_may_wrap_in_the_planned_texts_table(client, runtime, specialist, peer):
    """A column on a phone is narrower than "America/Argentina/Buenos_Aires": the name
    gets a break opportunity after each part instead of pushing the page sideways."""
    with runtime.session_factory() as session, session.begin():
        session.get(Peer, peer).timezone = "America/Argentina/Buenos_Aires"
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    assert "(America/<wbr>Argentina/<wbr>Buenos_<wbr>Aires)</th>" in page
