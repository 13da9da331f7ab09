"""The enrolment and peer-details forms: plain choices, every problem at once beside
its field (the GOV.UK error pattern), and a peer's details changed after enrolment."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service.models import AuditEvent, ConsentEvent, OutboundMessage, Peer, Schedule
from service.recurrence import next_occurrence, recurrence
from tests.conftest import enrol, sign_in

NEW_PEER = "+16465550142"


class Page(HTMLParser):
    """The elements of a page by id, each summary link, and each field's message."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.by_name: dict[str, list[dict[str, str | None]]] = {}
        self.links: list[str] = []
        self.texts: dict[str, str] = {}
        self._open: list[str] = []
        self._in_summary = False
        self.html = html
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs) | {"tag": tag}
        if "id" in attributes:
            self.by_id[attributes["id"]] = attributes
            self._open.append(attributes["id"])
            self.texts[attributes["id"]] = ""
        if "name" in attributes:
            self.by_name.setdefault(attributes["name"], []).append(attributes)
        if attributes.get("class") == "error-summary":
            self._in_summary = True
        if self._in_summary and tag == "a":
            self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "div":
            self._in_summary = False
        if tag == "p" and self._open and self._open[-1].endswith("-error"):
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id.endswith("-error"):
                self.texts[element_id] += data

    def message(self, field: str) -> str:
        return " ".join(self.texts.get(f"{field}-error", "").split())

    def selected_zone(self) -> str | None:
        html = self.html
        select_html = html[
            html.index('<select id="timezone"') : html.index(
                "</select>", html.index('<select id="timezone"')
            )
        ]
        match = re.search(r"<option(?: value=\"\")? selected>([^<]*)</option>", select_html)
        return match[1] if match else None


def token(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))[
        1
    ]


def enrolment(**overrides) -> dict:
    return {
        "name": "Robin",
        "phone": "(646) 555-0142",
        "timezone": "",
        "language": "en",
        "goal": "cook dinner at home",
        "days_choice": "daily",
        "time_1": "18:30",
        "encouragement": "off",
        "summary_day": "off",
        "consent": "yes",
        "consent_method": "in person",
        **overrides,
    }


def post_enrolment(client, **overrides):
    data = enrolment(csrf_token=token(client, "/peers/new"), **overrides)
    return client.post("/peers/new", data=data)


def peers(runtime) -> list[Peer]:
    with runtime.session_factory() as session:
        return session.scalars(select(Peer)).all()


def checkin_of(runtime, phone: str = NEW_PEER) -> Schedule:
    with runtime.session_factory() as session:
        return session.scalar(
            select(Schedule)
            .join(Schedule.goal)
            .join(Peer)
            .where(Peer.phone == phone, Schedule.kind == "checkin")
        )


def planned_weekdays(schedule: Schedule, zone: str, count: int = 14) -> set[int]:
    """The local weekdays of the next occurrences, computed by the domain's rule."""
    rule, at, days = recurrence(schedule.days, schedule.times), schedule.next_due_at, set()
    for _ in range(count):
        days.add(at.astimezone(ZoneInfo(zone)).weekday())
        at = next_occurrence(rule, ZoneInfo(zone), at)
    return days


# --- every problem at once, beside its field -------------------------------------------


def test_three_mistakes_are_shown_at_once_each_beside_its_field(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(
        client, name="", phone="555-01", time_1="21:30", days_choice="chosen",
        weekday=["mon", "wed"], strengths="I keep my word",
    )  # fmt: skip
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.message("name").startswith("Problem: A first name or nickname")
    assert "is not a valid phone number" in page.message("phone")
    assert "21:30 is outside the hours texts may be sent" in page.message("time_1")
    for field in ("name", "phone", "time_1"):
        control = page.by_id[field]
        assert control["aria-invalid"] == "true", field
        assert f"{field}-error" in control["aria-describedby"].split(), field
    assert page.links == ["#name", "#phone", "#time_1"]
    html = response.get_data(as_text=True)
    assert re.search(r'class="error-summary" role="alert" tabindex="-1"[^>]* autofocus>', html)
    assert "There are 3 problems to fix" in html
    # what was typed is kept
    assert page.by_id["phone"]["value"] == "555-01"
    assert page.by_id["goal"]["value"] == "cook dinner at home"
    assert page.by_id["time_1"]["value"] == "21:30"
    assert "checked" in page.by_id["weekday-mon"] and "checked" in page.by_id["weekday-wed"]
    assert "checked" not in page.by_id["weekday-fri"]
    assert "checked" in page.by_id["days-chosen"]
    assert "I keep my word</textarea>" in html
    assert peers(runtime) == []


def test_a_field_without_a_mistake_is_not_marked(client, specialist):
    sign_in(client)
    page = Page(post_enrolment(client, name="").get_data(as_text=True))
    assert page.links == ["#name"]
    assert "aria-invalid" not in page.by_id["phone"]
    assert page.by_id["phone"]["aria-describedby"] == "phone-help"


# --- days, times and zones without code -------------------------------------------------


def test_ticking_monday_and_wednesday_plans_those_days(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(client, days_choice="chosen", weekday=["wed", "mon"])
    assert response.status_code == 302
    schedule = checkin_of(runtime)
    assert planned_weekdays(schedule, "America/New_York") == {0, 2}


def test_three_times_a_week_is_spread_over_the_week(client, runtime, specialist):
    sign_in(client)
    assert post_enrolment(client, days_choice="per_week", per_week="3").status_code == 302
    schedule = checkin_of(runtime)
    assert planned_weekdays(schedule, "America/New_York") == {0, 2, 4}  # Mon, Wed, Fri


def test_weekdays_and_every_day(client, runtime, specialist):
    sign_in(client)
    assert post_enrolment(client, days_choice="weekdays").status_code == 302
    assert planned_weekdays(checkin_of(runtime), "America/New_York") == {0, 1, 2, 3, 4}
    response = post_enrolment(client, phone="(646) 555-0143", days_choice="daily")
    assert response.status_code == 302
    assert planned_weekdays(checkin_of(runtime, "+16465550143"), "America/New_York") == set(
        range(7)
    )


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"days_choice": "chosen"}, "Tick at least one day of the week."),
        ({"days_choice": "chosen", "weekday": ["mon", "funday"]}, "Tick at least one day"),
        ({"days_choice": "per_week", "per_week": "9"}, "A number from 1 to 7"),
        ({"days_choice": "per_week", "per_week": ""}, "A number from 1 to 7"),
        ({"days_choice": "sometimes"}, "Choose which days"),
    ],
)
def test_a_day_choice_that_says_no_days_is_refused_beside_the_days(
    client, runtime, specialist, choice, message
):
    sign_in(client)
    response = post_enrolment(client, **choice)
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert message.lower() in page.message("days").lower()
    assert page.links == ["#days-daily"]
    assert peers(runtime) == []


def test_two_time_inputs_make_two_check_ins_a_day(client, runtime, specialist):
    sign_in(client)
    assert post_enrolment(client, time_1="18:30", time_2="09:15").status_code == 302
    assert checkin_of(runtime).times == "09:15,18:30"


def test_no_time_at_all_is_refused(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(client, time_1="", time_2="")
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert page.message("time_1") == "Problem: Give at least one check-in time, like 09:00."


def test_the_second_time_is_checked_on_its_own(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(client, time_1="09:00", time_2="7pm-ish")
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "not understood" in page.message("time_2")
    assert page.message("time_1") == ""


def test_the_old_text_fields_still_work(client, runtime, specialist):
    """Scripts that post days and times as text (mon wed, 09:00,18:30) keep working."""
    sign_in(client)
    data = enrolment(days="mon wed", times="09:00,18:30")
    for key in ("days_choice", "time_1"):
        del data[key]
    response = client.post("/peers/new", data={**data, "csrf_token": token(client, "/peers/new")})
    assert response.status_code == 302
    schedule = checkin_of(runtime)
    assert (schedule.days, schedule.times) == ("mon,wed", "09:00,18:30")


@pytest.mark.parametrize(
    ("phone", "zone"),
    [("+44 7400 123456", "Europe/London"), ("+1 212 555 0134", "America/New_York")],
)
def test_the_zone_is_prefilled_from_the_number(client, runtime, specialist, phone, zone):
    sign_in(client)
    response = post_enrolment(client, phone=phone, goal="")  # another field is wrong
    assert response.status_code == 400
    assert Page(response.get_data(as_text=True)).selected_zone() == zone
    answer = client.post(
        "/peers/zone-for-number",
        data={"phone": phone},
        headers={"X-CSRFToken": token(client, "/peers/new")},
    )
    assert answer.get_json() == {"zone": zone}


def test_a_number_that_gives_one_zone_is_enrolled_in_it(client, runtime, specialist):
    sign_in(client)
    assert post_enrolment(client, phone="+44 7400 123456", time_1="12:00").status_code == 302
    assert [p.timezone for p in peers(runtime)] == ["Europe/London"]


def test_a_number_that_spans_zones_asks_for_one_beside_the_zone(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(client, phone="+61 412 345 678")
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "cannot be told from +61412345678" in page.message("timezone")
    assert page.by_id["timezone"]["aria-invalid"] == "true"


def test_the_common_zones_come_first_then_every_zone(client, runtime, specialist):
    enrol(runtime, specialist, phone="+12125550101", tz="Europe/Madrid")
    sign_in(client)
    html = client.get("/peers/new").get_data(as_text=True)
    common = html[html.index('label="Common here"') : html.index('label="All time zones"')]
    assert "<option>Europe/Madrid</option>" in common
    assert "<option>America/Chicago</option>" in common
    assert "<option>Asia/Tokyo</option>" in html[html.index('label="All time zones"') :]


def test_an_unknown_zone_is_refused_beside_the_zone(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(client, timezone="Mars/Olympus")
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert page.message("timezone") == (
        "Problem: Choose a time zone from the list: 'Mars/Olympus' is not one."
    )
    assert page.links == ["#timezone"]
    assert peers(runtime) == []


def test_encouragement_and_summary_times_are_the_peers_choice(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(
        client, encouragement="3x-week", encouragement_time="10:15",
        summary_day="fri", summary_time="19:00",
    )  # fmt: skip
    assert response.status_code == 302
    with runtime.session_factory() as session:
        kinds = dict(session.execute(select(Schedule.kind, Schedule.times)).all())
    assert kinds == {"checkin": "18:30", "encouragement": "10:15", "summary": "19:00"}


def test_an_encouragement_time_outside_the_peers_hours_is_refused(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(
        client, encouragement="daily", encouragement_time="12:00", window_start="14:00",
        time_1="15:00",
    )  # fmt: skip
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "12:00 is outside the hours" in page.message("encouragement_time")


# --- what cannot be stored --------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "strengths", "goal", "phone", "time_1"])
@pytest.mark.parametrize(
    ("value", "message"),
    [("a\x00b", "invisible NUL character"), ("x" * 10_000, "far too long")],
)
def test_a_nul_byte_or_10_kb_is_refused_beside_its_field(
    client, runtime, specialist, field, value, message
):
    sign_in(client)
    response = post_enrolment(client, **{field: value})
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert message in page.message(field)
    assert f"#{field}" in page.links
    assert peers(runtime) == []


def test_a_nul_byte_in_a_field_the_form_does_not_have_is_refused(client, runtime, specialist):
    sign_in(client)
    response = post_enrolment(client, extra="\x00")
    assert response.status_code == 400
    assert "invisible NUL character" in response.get_data(as_text=True)
    assert peers(runtime) == []


# --- a peer's details after enrolment ---------------------------------------------------


def details(client, peer_id: int, **overrides):
    path = f"/peers/{peer_id}/details"
    page = Page(client.get(path).get_data(as_text=True))
    form = {
        "csrf_token": token(client, path),
        "name": page.by_id["name"]["value"],
        "phone": page.by_id["phone"]["value"],
        "timezone": page.selected_zone(),
        "language": "en",
        "window_start": page.by_id["window_start"].get("value", ""),
        "window_end": page.by_id["window_end"].get("value", ""),
        "strengths": "",
        "reasons": "",
        "consent_method": "in person",
    }
    return client.post(path, data={**form, **overrides})


def test_the_details_form_shows_the_peers_details(client, peer):
    sign_in(client)
    page = Page(client.get(f"/peers/{peer}/details").get_data(as_text=True))
    assert page.by_id["name"]["value"] == "Sam"
    assert page.by_id["phone"]["value"] == "+1 212-555-0134"
    assert page.selected_zone() == "America/New_York"
    peer_page = client.get(f"/peers/{peer}").get_data(as_text=True)
    assert f'href="/peers/{peer}/details"' in peer_page


def test_changing_words_and_language_is_saved_and_audited_without_the_words(client, runtime, peer):
    sign_in(client)
    response = details(client, peer, name="Sammy", language="es", strengths="I show up")
    assert response.status_code == 303
    with runtime.session_factory() as session:
        saved = session.get(Peer, peer)
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "details changed"))
    assert (saved.display_name, saved.language, saved.strengths) == ("Sammy", "es", "I show up")
    assert event.detail["fields"] == ["display_name", "language", "strengths"]
    assert event.detail["language"] == ["en", "es"]
    assert "I show up" not in str(event.detail) and "Sammy" not in str(event.detail)
    assert event.actor.startswith("specialist:")


def test_a_new_number_needs_consent_again_and_gets_the_welcome(client, runtime, peer, clock):
    sign_in(client)
    refused = details(client, peer, phone="(646) 555-0142")  # no consent ticked
    assert refused.status_code == 400
    assert "record that the peer agreed" in Page(refused.get_data(as_text=True)).message("consent")
    response = details(client, peer, phone="(646) 555-0142", consent="yes",
                       consent_method="by phone")  # fmt: skip
    assert response.status_code == 303
    with runtime.session_factory() as session:
        saved = session.get(Peer, peer)
        event = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()[-1]
        welcomes = session.scalars(
            select(OutboundMessage.to_phone).where(OutboundMessage.kind == "welcome")
        ).all()
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "details changed"))
    assert saved.phone == NEW_PEER and saved.consent_method == "by phone"
    assert (event.phone, event.kind, event.peer_id, event.detail) == (
        NEW_PEER, "opt_in", peer, "by phone",
    )  # fmt: skip
    assert event.created_at == clock()
    assert NEW_PEER in welcomes
    assert audit.detail["phone"] == ["...0134", "...0142"]


def test_texts_planned_for_the_old_number_are_cancelled(client, runtime, peer):
    with runtime.session_factory() as session, session.begin():
        session.add(
            OutboundMessage(peer_id=peer, to_phone="+12125550134", kind="direct", body="hi",
                            status="planned", due_at=datetime(2026, 6, 15, 17, tzinfo=UTC))
        )  # fmt: skip
    sign_in(client)
    details(client, peer, phone="(646) 555-0142", consent="yes")
    with runtime.session_factory() as session:
        direct = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "direct"))
    assert (direct.status, direct.skip_reason) == ("cancelled", "number_changed")


@pytest.mark.parametrize(
    ("phone", "message"),
    [("555-01", "is not a valid phone number"), ("+1 876 210 1234", "Jamaica")],
)
def test_a_new_number_is_validated_again(client, runtime, peer, phone, message):
    sign_in(client)
    response = details(client, peer, phone=phone, consent="yes")
    assert response.status_code == 400
    assert message in Page(response.get_data(as_text=True)).message("phone")
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).phone == "+12125550134"
        assert len(session.scalars(select(ConsentEvent)).all()) == 1  # enrolment's only


def test_a_number_another_peer_has_is_refused(client, runtime, peer, specialist, outsider):
    enrol(runtime, specialist, phone=NEW_PEER, name="Robin")
    enrol(runtime, outsider, phone="+16465550199", name="Lee")
    sign_in(client)
    mine = details(client, peer, phone="(646) 555-0142", consent="yes")
    theirs = details(client, peer, phone="(646) 555-0199", consent="yes")
    assert (mine.status_code, theirs.status_code) == (400, 400)
    assert "another peer's number on your caseload" in Page(mine.get_data(as_text=True)).message(
        "phone"
    )
    elsewhere = Page(theirs.get_data(as_text=True)).message("phone")
    assert "another peer's number" in elsewhere and "Lee" not in elsewhere
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).phone == "+12125550134"


def test_a_new_zone_moves_every_schedule(client, runtime, peer, clock):
    sign_in(client)
    assert details(client, peer, timezone="America/Los_Angeles").status_code == 303
    schedule = checkin_of(runtime, "+12125550134")
    local = schedule.next_due_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (local.hour, local.minute) == (9, 0) and schedule.next_due_at > clock()


def test_hours_that_leave_a_check_in_outside_are_refused(client, runtime, peer):
    sign_in(client)
    response = details(client, peer, window_start="10:00")
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert "The check-in at 09:00 for" in page.message("window_start")
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).window_start is None


def test_the_details_form_refuses_nul_and_10_kb_beside_the_field(client, runtime, peer):
    sign_in(client)
    for value, message in (("a\x00b", "invisible NUL"), ("x" * 10_000, "far too long")):
        response = details(client, peer, reasons=value)
        assert response.status_code == 400
        assert message in Page(response.get_data(as_text=True)).message("reasons")
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).reasons is None
        assert session.scalars(select(AuditEvent.action)).all() == []


def test_an_outsider_cannot_see_or_change_the_details(client, runtime, peer, outsider):
    sign_in(client, "casey@example.org")
    assert client.get(f"/peers/{peer}/details").status_code == 404
    response = client.post(
        f"/peers/{peer}/details",
        data={"csrf_token": token(client, "/peers/new"), "name": "Hacked"},
    )
    assert response.status_code == 404


# --- the peer page's goal forms use the same choices ------------------------------------


def test_a_goal_is_added_with_ticked_days_and_two_times(client, runtime, peer):
    sign_in(client)
    response = client.post(
        f"/peers/{peer}/goals",
        data={"csrf_token": token(client, f"/peers/{peer}"), "text": "call my sister",
              "days_choice": "chosen", "weekday": ["tue", "thu"], "time_1": "17:00",
              "time_2": "10:30"},
    )  # fmt: skip
    assert response.status_code == 303
    with runtime.session_factory() as session:
        schedule = session.scalar(
            select(Schedule).join(Schedule.goal).where(Schedule.goal.has(text="call my sister"))
        )
    assert schedule.times == "10:30,17:00"
    assert planned_weekdays(schedule, "America/New_York") == {1, 3}


def test_a_goal_form_shows_its_days_and_times_as_choices(client, runtime, specialist):
    peer_id = enrol(runtime, specialist, days="mon,wed,fri", times="09:00,18:30")
    sign_in(client)
    page = Page(client.get(f"/peers/{peer_id}").get_data(as_text=True))
    goal = next(key for key in page.by_id if key.endswith("days-chosen") and key.startswith("g"))
    prefix = goal.removesuffix("days-chosen")
    assert "checked" in page.by_id[f"{prefix}days-chosen"]
    checked = {d for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
               if "checked" in page.by_id[f"{prefix}weekday-{d}"]}  # fmt: skip
    assert checked == {"mon", "wed", "fri"}
    assert (page.by_id[f"{prefix}time_1"]["value"], page.by_id[f"{prefix}time_2"]["value"]) == (
        "09:00",
        "18:30",
    )


def test_a_goal_change_with_no_day_ticked_says_so_beside_the_days_and_changes_nothing(
    client, runtime, peer
):
    sign_in(client)
    with runtime.session_factory() as session:
        goal_id = session.get(Peer, peer).goals[0].id
    response = client.post(
        f"/peers/{peer}/goals/{goal_id}",
        data={"csrf_token": token(client, f"/peers/{peer}"), "text": "walk the dog",
              "days_choice": "chosen", "time_1": "10:45"},
    )  # fmt: skip
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    prefix = f"g{goal_id}-"
    assert page.links == [f"#{prefix}days-daily"]
    assert page.message("days") == "Problem: Tick at least one day of the week."
    # the form is open again with what was typed, not the saved goal
    assert page.by_id[f"text-{goal_id}"]["value"] == "walk the dog"
    assert "checked" in page.by_id[f"{prefix}days-chosen"]
    assert page.by_id[f"{prefix}time_1"]["value"] == "10:45"
    assert checkin_of(runtime, "+12125550134").days == "daily"
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).goals[0].text != "walk the dog"


def test_a_new_goal_with_three_mistakes_shows_all_three_at_once(client, runtime, peer):
    sign_in(client)
    response = client.post(
        f"/peers/{peer}/goals",
        data={"csrf_token": token(client, f"/peers/{peer}"), "text": "   ",
              "days_choice": "per_week", "per_week": "9", "time_1": "23:15"},
    )  # fmt: skip
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    # one summary link per problem, in page order, to the add form's own fields
    assert page.links == ["#new-text", "#new-days-daily", "#new-time_1"]
    for field, control in [("text", "new-text"), ("time_1", "new-time_1")]:
        assert page.message(field), field
        assert page.by_id[control]["aria-invalid"] == "true"
        assert f"{field}-error" in page.by_id[control]["aria-describedby"]
    assert "23:15" in page.message("time_1")
    assert page.by_id["new-per_week"]["value"] == "9"
    assert page.by_id["new-time_1"]["value"] == "23:15"
    assert "<title>Problem:" in page.html
    with runtime.session_factory() as session:
        assert len([g for g in session.get(Peer, peer).goals if g.active]) == 1


def test_a_goal_the_plan_cannot_take_says_why_at_the_form(client, runtime, peer):
    sign_in(client)
    csrf = token(client, f"/peers/{peer}")
    fields = {"csrf_token": csrf, "days_choice": "daily", "time_1": "12:00"}
    for number in range(4):  # the peer has one goal; five is the most
        added = client.post(f"/peers/{peer}/goals", data={**fields, "text": f"goal {number}"})
        assert added.status_code == 303
    response = client.post(f"/peers/{peer}/goals", data={**fields, "text": "one too many"})
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.links == ["#new-goal-form"]
    assert "at most 5 goals" in page.message("form")
    assert page.by_id["new-text"]["value"] == "one too many"


def test_a_new_encouragement_cadence_keeps_the_chosen_time(client, runtime, specialist):
    sign_in(client)
    post_enrolment(client, encouragement="1x-week", encouragement_time="10:15")
    with runtime.session_factory() as session:
        peer_id = session.scalar(select(Peer.id))
    client.post(
        f"/peers/{peer_id}/encouragement",
        data={"csrf_token": token(client, f"/peers/{peer_id}"), "cadence": "3x-week"},
    )
    with runtime.session_factory() as session:
        active = session.execute(
            select(Schedule.days, Schedule.times).where(
                Schedule.kind == "encouragement", Schedule.active.is_(True)
            )
        ).all()
    assert active == [("3x-week", "10:15")]


def active_companions(runtime) -> set[tuple[str, str, str]]:
    with runtime.session_factory() as session:
        rows = session.execute(
            select(Schedule.kind, Schedule.days, Schedule.times).where(
                Schedule.kind.in_(("encouragement", "summary")), Schedule.active.is_(True)
            )
        ).all()
    return {tuple(row) for row in rows}


def companions_post(client, peer_id: int, **fields: str):
    data = {"csrf_token": token(client, f"/peers/{peer_id}"), **fields}
    return client.post(f"/peers/{peer_id}/encouragement", data=data)


def test_the_peer_page_sets_encouragement_and_summary_days_and_times(client, runtime, specialist):
    sign_in(client)
    post_enrolment(client, encouragement="2x-week", summary_day="sun")
    with runtime.session_factory() as session:
        peer_id = session.scalar(select(Peer.id))
    page = Page(client.get(f"/peers/{peer_id}").get_data(as_text=True))
    assert page.by_id["encouragement_time"]["value"] == "12:30"  # what enrolment chose
    assert page.by_id["summary_time"]["value"] == "17:00"

    response = companions_post(client, peer_id, encouragement="daily", encouragement_time="09:45",
                               summary_day="fri", summary_time="18:15")  # fmt: skip
    assert response.status_code == 303
    assert active_companions(runtime) == {
        ("encouragement", "daily", "09:45"),
        ("summary", "fri", "18:15"),
    }
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Encouragement texts every day at 09:45; the weekly summary on Friday at 18:15." in shown

    companions_post(client, peer_id, encouragement="off", encouragement_time="",
                    summary_day="off", summary_time="")  # fmt: skip
    assert active_companions(runtime) == set()
    with runtime.session_factory() as session:
        assert session.get(Peer, peer_id).encouragement == "off"


def test_a_summary_time_outside_the_hours_is_refused_beside_it(client, runtime, specialist):
    sign_in(client)
    post_enrolment(client, encouragement="2x-week", summary_day="sun")
    with runtime.session_factory() as session:
        peer_id = session.scalar(select(Peer.id))
    before = active_companions(runtime)
    response = companions_post(client, peer_id, encouragement="bogus", encouragement_time="12:30",
                               summary_day="sat", summary_time="23:00")  # fmt: skip
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.links == ["#encouragement", "#summary_time"]
    assert "23:00" in page.message("summary_time")
    assert page.by_id["summary_time"]["aria-invalid"] == "true"
    assert page.by_id["summary_time"]["value"] == "23:00"  # what was typed, kept
    assert active_companions(runtime) == before
