"""What each text does, through the real signed webhook, one side effect per test."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from service import plans
from service.messages import render_template, variants
from service.models import (
    CANCELLED,
    OPTED_IN,
    OPTED_OUT,
    AuditEvent,
    CheckIn,
    ConsentEvent,
    Flag,
    Goal,
    InboundMessage,
    Mood,
    OutboundMessage,
    Peer,
    Schedule,
)
from tests.conftest import enrol
from tests.inbound_worker import handle_stored, reply_to
from tests.signing import inbound_form, signed_post
from workers.planner import plan_due
from workers.sender import send_message

PHONE = "+12125550134"
sids = count()


def text(client, body: str, from_: str = PHONE, **extra: str) -> str:
    """Send a signed inbound SMS, let a worker handle it; return the reply ('' when none).

    The webhook only stores the text (its answer is empty TwiML); the reply is
    what the worker wrote and sent for it."""
    sid = f"SM{next(sids):032d}"
    form = {**inbound_form(body, sid=sid, from_=from_), **extra}
    response = signed_post(client, "/sms/inbound", form)
    assert response.status_code == 200
    assert ElementTree.fromstring(response.get_data()).find("Message") is None
    runtime = client.application.extensions["peernudge"]
    handle_stored(runtime)
    reply = reply_to(runtime, sid)
    assert reply is not None, "the worker did not handle the text"
    return reply


def load(runtime, model, *where):
    with runtime.session_factory() as session:
        return session.scalars(select(model).where(*where)).all()


@pytest.fixture
def noon(clock):
    """Noon in New York on a Monday, inside the allowed hours."""
    clock.set(clock.current.replace(hour=16, minute=0))
    return clock


@pytest.fixture
def planned_checkin(runtime, peer, noon):
    """A check-in planned for Sam at 13:00 New York time today (not yet sent)."""
    with runtime.session_factory() as session, session.begin():
        schedule = session.scalar(select(Schedule))
        schedule.times = "13:00"
        schedule.next_due_at = noon.current + timedelta(hours=1)
    plan_due(runtime, noon.current + timedelta(minutes=59))
    rows = load(runtime, OutboundMessage, OutboundMessage.kind == "checkin")
    assert len(rows) == 1
    return rows[0].id


def peer_row(runtime, peer_id) -> Peer:
    with runtime.session_factory() as session:
        return session.get(Peer, peer_id)


# --- opt-out ---------------------------------------------------------------------------


def test_stop_opts_out_records_consent_and_confirms_once(client, runtime, peer, noon):
    reply = text(client, "STOP")
    assert "START" in reply
    assert peer_row(runtime, peer).consent == OPTED_OUT
    events = load(runtime, ConsentEvent, ConsentEvent.kind == "opt_out")
    assert [(e.source, e.phone) for e in events] == [("sms", PHONE)]
    assert text(client, "stop") == ""  # no second confirmation
    assert text(client, "hello?") == ""  # nothing at all after STOP


def test_stop_cancels_planned_nudges_in_the_same_transaction(client, runtime, planned_checkin):
    text(client, "Stop.")
    (row,) = load(runtime, OutboundMessage, OutboundMessage.id == planned_checkin)
    assert (row.status, row.skip_reason) == (CANCELLED, "opted_out")


def test_a_job_already_queued_sends_nothing_after_stop(client, runtime, planned_checkin, noon):
    text(client, "STOP")
    noon.advance(hours=1)
    assert send_message(runtime, planned_checkin) == "not-planned"
    (row,) = load(runtime, OutboundMessage, OutboundMessage.id == planned_checkin)
    assert row.provider_id is None and row.sent_at is None


def test_twilio_advanced_opt_out_gets_no_second_confirmation(client, runtime, peer, noon):
    assert text(client, "STOP", OptOutType="STOP") == ""
    assert peer_row(runtime, peer).consent == OPTED_OUT


def test_twilio_advanced_opt_out_binds_even_for_a_keyword_we_do_not_know(
    client, runtime, peer, noon
):
    assert text(client, "arret", OptOutType="STOP") == ""  # a keyword set up at Twilio
    assert peer_row(runtime, peer).consent == OPTED_OUT
    assert text(client, "reprendre", OptOutType="START") == ""  # Twilio sent the confirmation
    assert peer_row(runtime, peer).consent == OPTED_IN
    assert text(client, "aide", OptOutType="HELP") == ""


def test_a_nul_byte_in_a_text_is_dropped_not_a_server_error(client, runtime, peer, noon):
    assert "Jordan will see this" in text(client, "feeling\x00 ok today")
    (inbound,) = load(runtime, InboundMessage)
    assert inbound.body == "feeling ok today"


def test_contains_stop_is_shown_to_the_specialist_not_an_opt_out(client, runtime, peer, noon):
    reply = text(client, "I had to stop at the store on the way")
    assert peer_row(runtime, peer).consent == OPTED_IN
    assert "Jordan will see this" in reply
    assert [f.kind for f in load(runtime, Flag)] == ["reply"]


def test_start_opts_back_in_and_resumes_from_the_next_occurrence(client, runtime, peer, noon):
    text(client, "STOP")
    noon.advance(days=3)
    reply = text(client, "START")
    assert "Welcome back" in reply
    assert peer_row(runtime, peer).consent == OPTED_IN
    kinds = [e.kind for e in load(runtime, ConsentEvent)]
    assert kinds == ["opt_in", "opt_out", "opt_in"]  # enrolment, STOP, START
    (schedule,) = load(runtime, Schedule)
    assert noon.current < schedule.next_due_at <= noon.current + timedelta(days=1)


def test_start_resolves_the_opted_out_flag_and_says_the_peer_did(client, runtime, peer, noon):
    text(client, "STOP")
    (flag,) = load(runtime, Flag, Flag.kind == "opted_out", Flag.resolved_at.is_(None))
    noon.advance(hours=1)
    text(client, "START")
    (flag,) = load(runtime, Flag, Flag.id == flag.id)
    assert (flag.resolved_at, flag.resolution_note) == (noon.current, "the peer texted START")
    resolved = load(runtime, AuditEvent, AuditEvent.action == "flag_resolved")
    assert [(a.actor, a.detail) for a in resolved] == [
        ("peer", {"flag": flag.id, "kind": "opted_out"})
    ]
    assert peer_row(runtime, peer).status(noon.current) == "active"


def test_yes_while_opted_out_opts_back_in(client, runtime, peer, noon):
    text(client, "STOP")
    assert "Welcome back" in text(client, "yes")
    assert peer_row(runtime, peer).consent == OPTED_IN


def test_unknown_number_stop_is_recorded_and_binds_a_later_enrolment(
    client, runtime, specialist, noon
):
    stranger = "+12125550999"
    assert "START" in text(client, "STOP", from_=stranger)
    peer_id = enrol(runtime, specialist, phone=stranger)
    assert peer_row(runtime, peer_id).consent == OPTED_OUT
    welcome = load(runtime, OutboundMessage, OutboundMessage.peer_id == peer_id)
    assert welcome == []  # nothing planned for a number that said STOP


def test_unknown_numbers_get_answers_only_to_help_stop_and_crisis(client, runtime, noon):
    stranger = "+12125550888"
    assert text(client, "hello who is this", from_=stranger) == ""
    assert text(client, "DONE", from_=stranger) == ""
    assert "STOP" in text(client, "HELP", from_=stranger)
    crisis_reply = text(client, "i want to kill myself", from_=stranger)
    assert "988" in crisis_reply and "911" in crisis_reply
    assert not crisis_reply.startswith(",")  # no name to greet, no specialist to promise
    assert len(load(runtime, InboundMessage)) == 4


# --- help and crisis -------------------------------------------------------------------


def test_help_names_the_program_the_specialist_stop_and_988(client, peer, noon):
    reply = text(client, "help")
    for expected in ("Wellness Line", "Jordan", "STOP", "PAUSE", "988"):
        assert expected in reply


def test_crisis_language_gets_988_an_urgent_flag_and_a_hold(client, runtime, planned_checkin, noon):
    reply = text(client, "I don't want to live anymore")
    assert "988" in reply and "Jordan" in reply
    (flag,) = load(runtime, Flag)
    assert (flag.kind, flag.urgent) == ("crisis", True)
    peer = peer_row(runtime, flag.peer_id)
    assert peer.hold_until == noon.current + timedelta(hours=24)
    (row,) = load(runtime, OutboundMessage, OutboundMessage.id == planned_checkin)
    assert (row.status, row.skip_reason) == (CANCELLED, "crisis_hold")


def test_crisis_hold_stops_automated_texts_for_a_day(client, runtime, peer, noon):
    text(client, "thinking about suicide")
    noon.advance(hours=2)
    with runtime.session_factory() as session, session.begin():
        message = OutboundMessage(
            peer_id=peer, to_phone=PHONE, kind="encouragement", due_at=noon.current
        )
        session.add(message)
    assert send_message(runtime, message.id) == "skipped:crisis_hold"


UK_MOBILE, POLISH_MOBILE = "+447400123456", "+48512345678"


def test_a_uk_peer_texting_help_gets_samaritans_and_not_988(client, runtime, specialist, noon):
    enrol(runtime, specialist, phone=UK_MOBILE, tz="Europe/London")
    reply = text(client, "HELP", from_=UK_MOBILE)
    assert "116 123" in reply and "SHOUT to 85258" in reply
    assert "988" not in reply


def test_a_uk_peer_in_crisis_gets_samaritans_and_999_not_988_or_911(
    client, runtime, specialist, noon
):
    enrol(runtime, specialist, phone=UK_MOBILE, tz="Europe/London")
    reply = text(client, "I want to kill myself", from_=UK_MOBILE)
    assert "call 116 123 or text SHOUT to 85258 (Samaritans)" in reply
    assert "call 999" in reply and "Jordan" in reply
    assert "988" not in reply and "911" not in reply


def test_a_uk_peer_who_may_be_in_crisis_gets_samaritans_not_988(client, runtime, specialist, noon):
    enrol(runtime, specialist, phone=UK_MOBILE, tz="Europe/London")
    reply = text(client, "I can't do this anymore", from_=UK_MOBILE)
    assert "call 116 123 or text SHOUT to 85258" in reply and "call 999" in reply
    assert "988" not in reply and "911" not in reply
    (flag,) = load(runtime, Flag, Flag.kind == "possible_crisis")
    assert flag.urgent


def test_an_unknown_uk_number_in_crisis_gets_the_uk_lines(client, noon):
    reply = text(client, "i want to end my life", from_="+447400999888")
    assert "116 123" in reply and "999" in reply and "988" not in reply


def test_where_there_is_no_crisis_line_the_peer_gets_the_emergency_number(
    client, runtime, specialist, noon
):
    peer_id = enrol(runtime, specialist, phone=POLISH_MOBILE, tz="Europe/Warsaw")
    reply = text(client, "I want to kill myself", from_=POLISH_MOBILE)
    assert "call 112 now" in reply and "988" not in reply
    assert "In danger? Please call 112." in text(client, "HELP", from_=POLISH_MOBILE)
    kinds = sorted((f.kind, f.urgent) for f in load(runtime, Flag, Flag.peer_id == peer_id))
    assert kinds == [("crisis", True), ("no_crisis_line", False)]  # told once, at enrolment


def test_a_spanish_peer_in_spain_gets_024_and_112_in_spanish(client, runtime, specialist, noon):
    enrol(runtime, specialist, phone="+34612345678", language="es", tz="Europe/Madrid")
    reply = text(client, "quiero morir", from_="+34612345678")
    assert "llama al 024 (Linea 024)" in reply and "llama al 112" in reply
    assert "Nos importas" in reply and "988" not in reply


def test_crisis_reply_is_never_a_cheerful_template(client, peer, noon):
    reply = text(client, "I want to end it all")
    assert "Nice work" not in reply and "!" not in reply


# --- check-ins -------------------------------------------------------------------------


def test_done_records_todays_check_in_and_answering_again_updates_it(client, runtime, peer, noon):
    assert "Sam" in text(client, "DONE")
    text(client, "not yet")
    (check_in,) = load(runtime, CheckIn)
    assert (check_in.result, str(check_in.local_date)) == ("not_yet", "2026-06-15")


def test_not_yet_gets_a_supportive_reply(client, peer, noon):
    reply = text(client, "NOT YET")
    assert reply
    for shaming in ("fail", "missed", "disappoint", "should have"):
        assert shaming not in reply.lower()


def test_skip_is_a_rest_day(client, runtime, peer, noon):
    text(client, "skip")
    assert [c.result for c in load(runtime, CheckIn)] == ["rest"]


def test_a_mood_is_kept_once_per_day(client, runtime, peer, noon):
    text(client, "2")
    text(client, "4")
    assert [m.score for m in load(runtime, Mood)] == [4]


def add_goal(runtime, peer_id: int, text_: str, position: int) -> None:
    with runtime.session_factory() as session, session.begin():
        session.add(Goal(peer_id=peer_id, text=text_, position=position))


def test_done_with_two_goals_asks_which_then_done_2_picks_one(client, runtime, peer, noon):
    add_goal(runtime, peer, "drink more water", 2)
    reply = text(client, "DONE")
    assert "1. take a 20 minute walk" in reply and "2. drink more water" in reply
    assert load(runtime, CheckIn) == []
    text(client, "DONE 2")
    (check_in,) = load(runtime, CheckIn)
    (goal,) = load(runtime, Goal, Goal.id == check_in.goal_id)
    assert goal.text == "drink more water"


def test_done_goes_to_the_goal_that_was_just_asked_about(client, runtime, planned_checkin, noon):
    add_goal(runtime, peer_row(runtime, 1).id, "drink more water", 2)
    noon.advance(hours=1)
    assert send_message(runtime, planned_checkin) == "sent"
    text(client, "done")
    (check_in,) = load(runtime, CheckIn)
    assert (
        check_in.goal_id
        == load(runtime, OutboundMessage, OutboundMessage.id == planned_checkin)[0].goal_id
    )


def test_a_third_day_in_a_row_is_celebrated(client, runtime, peer, noon):
    for _ in range(2):
        text(client, "done")
        noon.advance(days=1)
    reply = text(client, "done")
    assert "3 days" in reply


# --- peer-owned changes ----------------------------------------------------------------


def test_pause_stops_check_ins_and_resume_brings_them_back(client, runtime, planned_checkin, noon):
    reply = text(client, "PAUSE 2 WEEKS")
    assert "14 days" in reply
    peer = peer_row(runtime, 1)
    assert peer.status(noon.current) == "paused"
    (row,) = load(runtime, OutboundMessage, OutboundMessage.id == planned_checkin)
    assert row.status == CANCELLED
    assert "Welcome back" in text(client, "resume")
    assert peer_row(runtime, 1).status(noon.current) == "active"
    assert [a.action for a in load(runtime, AuditEvent)] == ["paused", "resumed"]


def test_pause_is_capped_at_90_days(client, runtime, peer, noon):
    text(client, "pause 400")
    peer_row_ = peer_row(runtime, peer)
    assert peer_row_.paused_until - noon.current <= timedelta(days=91)


def test_later_plans_one_more_check_in_two_hours_on(client, runtime, peer, noon):
    assert "2:00 PM" in text(client, "LATER")
    rows = load(runtime, OutboundMessage, OutboundMessage.kind == "checkin")
    assert [r.due_at for r in rows] == [noon.current + timedelta(hours=2)]
    assert "already" in text(client, "later")
    assert len(load(runtime, OutboundMessage, OutboundMessage.kind == "checkin")) == 1


def test_later_near_the_end_of_the_day_waits_for_the_morning(client, runtime, peer, noon):
    noon.set(noon.current.replace(hour=23, minute=30))  # 19:30 in New York
    text(client, "later")
    (row,) = load(runtime, OutboundMessage, OutboundMessage.kind == "checkin")
    assert row.due_at == noon.current.replace(hour=12, minute=0) + timedelta(days=1)  # 08:00 EDT


def test_time_moves_every_check_in_and_the_next_nudge(client, runtime, planned_checkin, noon):
    assert "19:00" in text(client, "TIME 7pm")
    (schedule,) = load(runtime, Schedule)
    assert schedule.times == "19:00"
    assert schedule.next_due_at == noon.current.replace(hour=23)  # 19:00 EDT today
    (row,) = load(runtime, OutboundMessage, OutboundMessage.id == planned_checkin)
    assert (row.status, row.skip_reason) == (CANCELLED, "time_changed")


def test_time_outside_the_allowed_hours_is_refused(client, runtime, peer, noon):
    reply = text(client, "TIME 11pm")
    assert "08:00" in reply and "20:00" in reply
    assert load(runtime, Schedule)[0].times == "09:00"


def test_goals_lists_goals_with_numbers_and_schedules(client, peer, noon):
    reply = text(client, "GOALS")
    assert "1. take a 20 minute walk (every day at 9:00)" in reply


def test_goals_describes_schedules_in_the_peers_words_and_language(
    client, runtime, specialist, noon
):
    peer_id = enrol(runtime, specialist, phone="+13125550177", language="es",
                    tz="America/Chicago", days="mon,wed", times="09:00")  # fmt: skip
    with runtime.session_factory() as session, session.begin():
        plans.add_goal(session, runtime.settings, session.get(Peer, peer_id), "leer", "3x-week",
                       "12:00", noon.current)  # fmt: skip
    reply = text(client, "METAS", from_="+13125550177")
    assert "1. take a 20 minute walk (los lunes y miércoles a las 9:00)" in reply
    assert "2. leer (3 veces por semana a las 12:00)" in reply
    assert "mon" not in reply and "x-week" not in reply


def test_the_welcome_describes_the_schedule_in_the_peers_language(runtime, specialist):
    enrol(runtime, specialist, phone="+13125550177", language="es", tz="America/Chicago",
          days="weekdays", times="18:30")  # fmt: skip
    enrol(runtime, specialist, phone="+12125550101", days="3x-week", times="12:00")
    bodies = [m.body for m in load(runtime, OutboundMessage, OutboundMessage.kind == "welcome")]
    assert "(de lunes a viernes a las 18:30)" in bodies[0]
    assert "(3 times a week at 12:00)" in bodies[1]


def test_free_text_is_acknowledged_at_most_once_a_day(client, runtime, peer, noon):
    assert "Jordan will see this" in text(client, "feeling ok today")
    assert text(client, "also went for coffee") == ""
    noon.advance(days=1)
    assert "Jordan will see this" in text(client, "new day")


def test_spanish_peer_gets_spanish_replies(client, runtime, specialist, noon):
    enrol(
        runtime,
        specialist,
        phone="+13125550177",
        name="Marisol",
        language="es",
        tz="America/Chicago",
    )
    context = {"name": "Marisol", "goal": "take a 20 minute walk"}
    spanish_done = {
        render_template("done", "es", context, variant=v).body for v in variants("done", "es")
    }
    assert text(client, "listo", from_="+13125550177") in spanish_done
    assert "988" in text(client, "ayuda", from_="+13125550177")


def test_every_reply_is_kept_in_the_thread(client, runtime, peer, noon):
    reply = text(client, "help")
    replies = load(runtime, OutboundMessage, OutboundMessage.kind == "reply")
    assert [r.body for r in replies] == [reply]


def test_media_messages_are_stored_and_answered_like_text(client, runtime, peer, noon):
    reply = text(
        client,
        "done",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/m.jpg",
        MediaContentType0="image/jpeg",
    )
    assert "Sam" in reply
    (inbound,) = load(runtime, InboundMessage)
    assert inbound.num_media == 1 and inbound.media[0]["type"] == "image/jpeg"


def test_an_echo_of_our_own_words_gets_no_answer(client, runtime, peer, noon):
    reply = text(client, "help")
    assert text(client, reply) == ""
