"""Changing a peer's plan from the dashboard: goals, check-in times, pause, cadence."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select, update

from service.models import AuditEvent, Goal, OutboundMessage, Peer, Schedule
from tests.conftest import enrol, sign_in
from tests.test_dashboard import enrol_form, token
from workers.planner import plan_due


@pytest.fixture
def owner(client, peer):
    sign_in(client)
    return client


def post(client, peer_id: int, path: str, **form: str):
    form["csrf_token"] = token(client, f"/peers/{peer_id}")
    return client.post(f"/peers/{peer_id}{path}", data=form, follow_redirects=True)


def goals(runtime, peer_id: int) -> list[Goal]:
    with runtime.session_factory() as session:
        found = session.scalars(
            select(Goal).where(Goal.peer_id == peer_id).order_by(Goal.position)
        ).all()
        for goal in found:
            list(goal.schedules)  # loaded while the session is open
        return found


def planned_checkins(runtime, peer_id: int) -> list[OutboundMessage]:
    with runtime.session_factory() as session:
        return session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.peer_id == peer_id,
                OutboundMessage.kind == "checkin",
                OutboundMessage.status == "planned",
            )
        ).all()


def test_adding_a_goal_gives_it_a_check_in_schedule_and_an_audit_entry(owner, runtime, peer):
    page = post(owner, peer, "/goals", text="call my sister", days="mon,thu", times="18:00")
    assert "Goal added: call my sister" in page.get_data(as_text=True)
    added = goals(runtime, peer)[-1]
    (schedule,) = added.schedules
    assert (added.text, schedule.days, schedule.times) == ("call my sister", "mon,thu", "18:00")
    assert schedule.next_due_at is not None
    with runtime.session_factory() as session:
        assert "goal added" in session.scalars(select(AuditEvent.action)).all()


def test_a_time_outside_the_allowed_hours_is_refused_with_the_reason(owner, runtime, peer):
    page = post(owner, peer, "/goals", text="stretch", days="daily", times="22:30")
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "22:30 is outside the hours" in text and "08:00-20:00" in text
    assert len(goals(runtime, peer)) == 1


def test_the_peers_own_hours_narrow_what_the_form_accepts(owner, runtime, peer):
    with runtime.session_factory() as session, session.begin():
        session.execute(
            update(Peer).where(Peer.id == peer).values(window_start=time(10), window_end=time(18))
        )
    page = post(owner, peer, "/goals", text="stretch", days="daily", times="09:00")
    assert "outside the hours texts may be sent (10:00-18:00" in page.get_data(as_text=True)


def test_moving_check_in_times_cancels_what_was_planned_for_the_old_ones(
    owner, runtime, peer, clock
):
    clock.set(clock.current.replace(hour=12, minute=50))  # 08:50 in New York: 09:00 is next
    (goal,) = goals(runtime, peer)
    with runtime.session_factory() as session, session.begin():
        session.execute(update(Schedule).values(next_due_at=clock.current))
    plan_due(runtime, clock.current)
    assert len(planned_checkins(runtime, peer)) == 1

    page = post(owner, peer, f"/goals/{goal.id}", text=goal.text, days="weekdays", times="17:15")

    assert "texts already planned for the old times are cancelled" in page.get_data(as_text=True)
    assert planned_checkins(runtime, peer) == []
    (schedule,) = goals(runtime, peer)[0].schedules
    assert (schedule.days, schedule.times) == ("weekdays", "17:15")
    assert schedule.next_due_at > clock.current
    with runtime.session_factory() as session:
        entry = session.scalar(select(AuditEvent).where(AuditEvent.action == "goal changed"))
    assert entry.detail["before"][1:] == ["daily", "09:00"]
    assert entry.detail["after"][1:] == ["weekdays", "17:15"]


def test_pausing_a_goal_stops_its_check_ins_and_resuming_starts_after_now(
    owner, runtime, peer, clock
):
    (goal,) = goals(runtime, peer)
    post(owner, peer, f"/goals/{goal.id}/pause")
    assert not goals(runtime, peer)[0].schedules[0].active
    clock.advance(days=3)
    assert plan_due(runtime, clock.current) == 0
    assert "check-ins paused" in owner.get(f"/peers/{peer}").get_data(as_text=True)

    post(owner, peer, f"/goals/{goal.id}/resume")
    (schedule,) = goals(runtime, peer)[0].schedules
    assert schedule.active and schedule.next_due_at > clock.current


def test_removing_a_goal_keeps_companion_texts_on_the_next_goal_but_not_the_last_goal(
    owner, runtime, specialist, clock
):
    robin = enrol(runtime, specialist, phone="+16465550142", name="Robin", encouragement="daily")
    sign_in(owner)
    post(owner, robin, "/goals", text="call my sister", days="daily", times="18:00")
    first, second = goals(runtime, robin)

    post(owner, robin, f"/goals/{first.id}/remove")

    first, second = goals(runtime, robin)
    assert not first.active
    assert {s.kind for s in second.schedules if s.active} == {"checkin", "encouragement"}
    page = post(owner, robin, f"/goals/{second.id}/remove")
    assert "at least one goal" in page.get_data(as_text=True)
    assert goals(runtime, robin)[1].active


def test_the_encouragement_cadence_can_change_or_stop(owner, runtime, peer):
    post(owner, peer, "/encouragement", cadence="3x-week")
    schedules = [s for s in goals(runtime, peer)[0].schedules if s.kind == "encouragement"]
    assert [(s.days, s.active) for s in schedules] == [("3x-week", True)]

    post(owner, peer, "/encouragement", cadence="off")
    schedules = [s for s in goals(runtime, peer)[0].schedules if s.kind == "encouragement"]
    assert [s.active for s in schedules] == [False]
    page = post(owner, peer, "/encouragement", cadence="hourly")
    assert page.status_code == 400
    assert "Encouragement must be one of" in page.get_data(as_text=True)


def test_plan_routes_are_the_owners_and_admins_only(client, runtime, peer, outsider):
    (goal,) = goals(runtime, peer)
    routes = [
        "/goals",
        f"/goals/{goal.id}",
        f"/goals/{goal.id}/pause",
        f"/goals/{goal.id}/remove",
        "/encouragement",
    ]
    login_page = client.get("/login").get_data(as_text=True)
    anonymous = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    for path in routes:
        response = client.post(f"/peers/{peer}{path}", data={"csrf_token": anonymous})
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    sign_in(client, "casey@example.org")
    csrf = token(client, "/peers/new")
    for path in routes:
        response = client.post(f"/peers/{peer}{path}", data={"csrf_token": csrf, "text": "x"})
        assert response.status_code == 404
    assert goals(runtime, peer)[0].active and goals(runtime, peer)[0].text != "x"


def test_a_plan_change_without_the_csrf_token_is_refused(owner, runtime, peer):
    (goal,) = goals(runtime, peer)
    assert owner.post(f"/peers/{peer}/goals/{goal.id}/pause").status_code == 400
    assert goals(runtime, peer)[0].schedules[0].active


def test_planned_texts_show_in_the_peers_time_and_the_specialists(owner, runtime, peer):
    page = owner.post(
        "/account", data={"timezone": "America/Los_Angeles", "csrf_token": token(owner, "/account")}
    )
    assert page.status_code == 303
    text = owner.get(f"/peers/{peer}").get_data(as_text=True)
    assert "Your time (America/<wbr>Los_<wbr>Angeles)" in text
    assert ", 09:00</td><td>" in text and ", 06:00</td>" in text  # 09:00 New York = 06:00 LA
    refused = owner.post(
        "/account", data={"timezone": "Mars/Olympus", "csrf_token": token(owner, "/account")}
    )
    assert refused.status_code == 400 and "not a time zone" in refused.get_data(as_text=True)


def test_enrolment_checks_times_against_the_peers_own_hours(client, runtime, specialist):
    sign_in(client)
    narrow = enrol_form(times="09:00", window_start="10:00", window_end="18:00")
    response = client.post("/peers/new", data=narrow | {"csrf_token": token(client, "/peers/new")})
    assert response.status_code == 400
    assert "outside the hours texts may be sent (10:00-18:00" in response.get_data(as_text=True)
    backwards = enrol_form(window_start="18:00", window_end="10:00")
    response = client.post(
        "/peers/new", data=backwards | {"csrf_token": token(client, "/peers/new")}
    )
    assert response.status_code == 400 and "start before" in response.get_data(as_text=True)
    fits = enrol_form(times="12:00", window_start="10:00", window_end="18:00")
    response = client.post("/peers/new", data=fits | {"csrf_token": token(client, "/peers/new")})
    assert response.status_code == 302


def test_planned_texts_during_a_pause_are_marked_as_skipped(owner, runtime, peer, clock):
    from datetime import timedelta

    with runtime.session_factory() as session, session.begin():
        session.get(Peer, peer).paused_until = clock.current + timedelta(days=2)
    page = owner.get(f"/peers/{peer}").get_data(as_text=True)
    assert page.count("(skipped: paused)") == 2  # the next two daily check-ins, not the rest
