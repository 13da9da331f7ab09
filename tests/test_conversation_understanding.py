"""What the reader's decisions do to a peer, through the real signed webhook.

Each test texts in as a peer would and checks one side effect: natural-word
opt-outs cancel planned nudges, an unclear one holds them and asks once, a
crisis with a STOP answers the crisis and then stops, and a bare number after
"Which one?" answers that question.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.models import (
    CANCELLED,
    OPTED_OUT,
    PLANNED,
    CheckIn,
    ConsentEvent,
    Flag,
    Goal,
    InboundMessage,
    Mood,
    OutboundMessage,
    Schedule,
)
from service.understanding import OPT_OUT_UNCLEAR, OTHER, corpus, read
from tests.test_conversation import add_goal, load, noon, peer_row, planned_checkin, text
from workers.sender import send_message

__all__ = ["noon", "planned_checkin"]


def status_of(runtime, message_id: int) -> tuple[str, str | None]:
    (row,) = load(runtime, OutboundMessage, OutboundMessage.id == message_id)
    return row.status, row.skip_reason


def test_an_opt_out_in_the_peers_own_words_stops_everything(client, runtime, planned_checkin):
    reply = text(client, "can you guys quit with the messages")
    assert "START" in reply
    assert status_of(runtime, planned_checkin)[0] == CANCELLED
    assert peer_row(runtime, 1).consent == OPTED_OUT
    assert [e.kind for e in load(runtime, ConsentEvent)][-1] == "opt_out"


def test_a_long_polite_opt_out_in_spanish_stops_everything(client, runtime, planned_checkin):
    text(client, "gracias por todo, pero ya no quiero recibir estos mensajes")
    assert peer_row(runtime, 1).consent == OPTED_OUT
    assert status_of(runtime, planned_checkin)[0] == CANCELLED


def test_texts_that_merely_say_stop_change_nothing(client, runtime, planned_checkin):
    for body in ("please don't stop these texts", "I quit vaping this week!"):
        text(client, body)
    assert peer_row(runtime, 1).consent != OPTED_OUT
    assert status_of(runtime, planned_checkin) == (PLANNED, None)


def test_an_unclear_opt_out_holds_texts_asks_once_and_flags(client, runtime, planned_checkin, noon):
    first = text(client, "this is too many texts")
    assert "STOP" in first and "FEWER" in first
    assert status_of(runtime, planned_checkin) == (CANCELLED, "opt_out_unclear")
    assert text(client, "way too many messages honestly") == ""
    (flag,) = load(runtime, Flag)
    assert (flag.kind, flag.urgent) == ("possible_opt_out", False)
    noon.advance(hours=3)
    with runtime.session_factory() as session, session.begin():
        nudge = OutboundMessage(
            peer_id=1, to_phone="+12125550134", kind="checkin", due_at=noon.current
        )
        session.add(nudge)
    assert send_message(runtime, nudge.id) == "skipped:opt_out_unclear"


def test_a_clear_opt_out_the_model_doubts_is_held_and_asked_not_opted_out(
    client, runtime, planned_checkin, monkeypatch
):
    """The opt-out patterns read "take me off" as clear; when no sentence of the text reads
    like an opt-out to the model (here: the doubt set above any probability), the peer's
    texts are held and they are asked, instead of being opted out."""
    monkeypatch.setattr("service.understanding.safety.doubt", lambda name: 1.01)
    first = text(client, "asked the pastor to take me off the list for the bake sale")
    assert "STOP" in first
    assert peer_row(runtime, 1).consent != OPTED_OUT
    assert status_of(runtime, planned_checkin) == (CANCELLED, "opt_out_unclear")
    assert {flag.kind for flag in load(runtime, Flag)} == {"possible_opt_out"}
    # STOP itself is never doubted: it opts out at once.
    assert "START" in text(client, "STOP")
    assert peer_row(runtime, 1).consent == OPTED_OUT


def test_keep_after_the_question_releases_the_hold(client, runtime, peer, noon):
    text(client, "this is a lot of messages")
    assert "keep coming" in text(client, "keep").lower()
    peer_state = peer_row(runtime, peer)
    assert peer_state.hold_until is None and peer_state.consent != OPTED_OUT
    assert all(flag.resolved_at is not None for flag in load(runtime, Flag))


def test_fewer_turns_off_encouragement_and_tells_the_specialist(client, runtime, specialist, noon):
    from tests.conftest import enrol

    peer_id = enrol(runtime, specialist, encouragement="2x-week")
    text(client, "too many texts")
    text(client, "FEWER")
    assert peer_row(runtime, peer_id).encouragement == "off"
    encouragement = load(runtime, Schedule, Schedule.kind == "encouragement")
    assert encouragement and not any(s.active for s in encouragement)
    assert "fewer" in {flag.kind for flag in load(runtime, Flag)}
    assert peer_row(runtime, peer_id).hold_until is None


def test_crisis_with_stop_answers_the_crisis_then_stops(client, runtime, planned_checkin):
    reply = text(client, "stop texting me. I am going to kill myself tonight")
    assert "988" in reply
    assert reply.index("988") < reply.index("START")
    assert peer_row(runtime, 1).consent == OPTED_OUT
    (flag,) = load(runtime, Flag, Flag.urgent.is_(True))
    assert flag.kind == "crisis"


def test_a_possible_crisis_is_answered_gently_flagged_and_held(client, runtime, planned_checkin):
    reply = text(client, "honestly I can't do this anymore")
    assert "988" in reply and "Jordan" in reply
    (flag,) = load(runtime, Flag)
    assert (flag.kind, flag.urgent) == ("possible_crisis", True)
    assert status_of(runtime, planned_checkin) == (CANCELLED, "crisis_hold")


def test_an_idiom_is_not_a_crisis(client, runtime, peer, noon):
    text(client, "this heat is killing me")
    assert [flag.kind for flag in load(runtime, Flag)] == ["reply"]


def test_crisis_from_an_unknown_number_in_its_own_words(client, runtime, noon):
    reply = text(client, "i wanna be gone for good", from_="+12125550199")
    assert "988" in reply


def test_an_unknown_number_is_answered_in_the_language_it_wrote_in(client, runtime, noon):
    english = text(client, "I want to die", from_="+12125550198")
    spanish = text(client, "quiero morirme", from_="+12125550199")
    assert "988" in spanish and "988" in english
    assert "Gracias" in spanish and "Thank you" in english


def test_a_bare_number_after_which_one_answers_the_question(client, runtime, peer, noon):
    add_goal(runtime, peer, "drink more water", 2)
    assert "Which one" in text(client, "DONE")
    text(client, "2")
    (check_in,) = load(runtime, CheckIn)
    (goal,) = load(runtime, Goal, Goal.id == check_in.goal_id)
    assert (goal.text, check_in.result) == ("drink more water", "done")
    assert load(runtime, Mood) == []


@pytest.mark.parametrize(
    ("answer", "reply", "result"),
    [
        ("not yet", "the water one", "not_yet"),
        # the goal named first in a longer answer
        ("done", "the water one, two big bottles at work and another on the bus home", "done"),
    ],
)
def test_a_goal_name_after_which_one_answers_the_question(
    client, runtime, peer, noon, answer, reply, result
):
    add_goal(runtime, peer, "drink more water", 2)
    text(client, answer)
    text(client, reply)
    (check_in,) = load(runtime, CheckIn)
    assert check_in.result == result
    assert load(runtime, Goal, Goal.id == check_in.goal_id)[0].text == "drink more water"


def test_the_question_expires(client, runtime, peer, noon):
    add_goal(runtime, peer, "drink more water", 2)
    text(client, "DONE")
    noon.advance(hours=3)
    text(client, "2")
    assert load(runtime, CheckIn) == []
    assert [m.score for m in load(runtime, Mood)] == [2]


def test_pause_with_a_number_and_several_goals_is_asked_about_once(client, runtime, peer, noon):
    add_goal(runtime, peer, "drink more water", 2)
    question = text(client, "PAUSE 2")
    assert "GOAL" in question and "DAYS" in question
    assert peer_row(runtime, peer).paused_until is None
    text(client, "days")
    until = peer_row(runtime, peer).paused_until
    assert until is not None and until - noon.current < timedelta(days=3)


def test_pause_goal_pauses_only_that_goal(client, runtime, planned_checkin, noon):
    add_goal(runtime, 1, "drink more water", 2)
    text(client, "pause 1")
    text(client, "goal")
    assert peer_row(runtime, 1).paused_until is None
    assert status_of(runtime, planned_checkin) == (CANCELLED, "paused")


def test_the_same_ambiguous_text_twice_takes_the_days_meaning(client, runtime, peer, noon):
    add_goal(runtime, peer, "drink more water", 2)
    text(client, "PAUSE 2")
    text(client, "PAUSE 2")
    assert peer_row(runtime, peer).paused_until is not None


def test_a_new_time_asked_for_without_one_is_asked_about_then_set(client, runtime, peer, noon):
    question = text(client, "can the texts come at a different time, mornings are bad")
    assert "08:00" in question and "20:00" in question  # asks, with the hours allowed
    assert load(runtime, Schedule)[0].times == "09:00"
    assert "19:00" in text(client, "7")  # a bare hour answers "what time?"
    assert load(runtime, Schedule)[0].times == "19:00"


def test_a_length_answers_pause_goal_or_days(client, runtime, peer, noon):
    add_goal(runtime, 1, "call my sponsor", 2)
    assert "GOAL" in text(client, "PAUSE 2")
    text(client, "two weeks")
    assert peer_row(runtime, 1).paused_until is not None
    paused_for = peer_row(runtime, 1).paused_until - noon.current
    assert timedelta(days=13) < paused_for <= timedelta(days=14)  # everything, two weeks


def test_every_text_keeps_how_it_was_read(client, runtime, peer, noon):
    text(client, "yep did it")
    text(client, "ya lo hice")
    readings = [(m.intent, m.language) for m in load(runtime, InboundMessage)]
    assert readings == [("done", "en"), ("done", "es")]
    assert all(0 < m.confidence <= 1 for m in load(runtime, InboundMessage))


def test_both_after_which_one_answers_for_every_goal(client, runtime, peer, noon):
    add_goal(runtime, peer, "drink more water", 2)
    text(client, "done")
    text(client, "both")
    assert sorted(c.result for c in load(runtime, CheckIn)) == ["done", "done"]


def read_by_a_model_only(intent: str) -> str:
    """A corpus text the patterns alone leave as free text and a backstop model reads
    as ``intent``: wording nobody wrote a pattern for."""
    for example in corpus.load(None):
        if example.context.asked or example.context.consent != "opted_in":
            continue
        if read(example.text, backstop=False).intent != OTHER:
            continue
        if read(example.text).intent == intent:
            return example.text
    raise AssertionError(f"no corpus text is read as {intent} by a model alone")


def test_a_possible_opt_out_only_the_model_sees_is_held_and_asked_never_opted_out(
    client, runtime, planned_checkin
):
    body = read_by_a_model_only(OPT_OUT_UNCLEAR)
    reply = text(client, body)
    assert "STOP" in reply and "FEWER" in reply
    assert peer_row(runtime, 1).consent != OPTED_OUT
    assert status_of(runtime, planned_checkin) == (CANCELLED, "opt_out_unclear")
    (inbound,) = load(runtime, InboundMessage)
    assert inbound.intent == OPT_OUT_UNCLEAR and inbound.confidence < 0.5
    (flag,) = load(runtime, Flag)
    assert flag.kind == "possible_opt_out"


def test_a_question_only_a_model_understands_gets_the_same_answer_as_the_keyword(
    client, runtime, peer, noon
):
    for intent, keyword in (("help", "HELP"), ("goals", "GOALS")):
        assert text(client, read_by_a_model_only(intent)) == text(client, keyword)


def test_a_mixed_answer_records_nothing_and_goes_to_the_specialist(client, runtime, peer, noon):
    add_goal(runtime, peer, "drink more water", 2)
    text(client, "went for my walk this morning but havent had any water yet")
    assert load(runtime, CheckIn) == []  # neither half recorded alone
    assert [flag.kind for flag in load(runtime, Flag)] == ["reply"]


def test_none_after_which_one_did_you_do_is_not_yet_for_every_goal(client, runtime, peer, noon):
    add_goal(runtime, peer, "drink more water", 2)
    assert "Which one" in text(client, "DONE")
    text(client, "neither")
    assert sorted(c.result for c in load(runtime, CheckIn)) == ["not_yet", "not_yet"]
