"""The renderer: language, rotation, GSM-7, segments, strengths, discretion."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from service.gsm7 import segment_count, to_gsm7
from service.messages import clean_whitespace, render_message, render_template, variants
from service.models import MessageRotation, Peer
from service.recurrence import schedule_shape
from tests.conftest import enrol


def peer_in(runtime, peer_id):
    session = runtime.session_factory()
    return session, session.get(Peer, peer_id)


def test_a_peer_never_gets_the_same_variant_twice_in_a_row(runtime, peer):
    session, sam = peer_in(runtime, peer)
    chosen = []
    for _ in range(60):
        rendered = render_message(session, "checkin", sam, runtime.settings, goal="walk")
        chosen.append(rendered.variant)
    assert all(a != b for a, b in itertools.pairwise(chosen))
    assert len(set(chosen)) == len(variants("checkin", "en"))  # every variant gets used
    rotation = session.scalar(select(MessageRotation).where(MessageRotation.kind == "checkin"))
    assert rotation.last_variant == chosen[-1]
    session.close()


def test_spanish_peer_gets_spanish_and_a_missing_kind_falls_back_to_english(
    runtime, specialist, tmp_path
):
    peer_id = enrol(runtime, specialist, phone="+13125550177", language="es", tz="America/Chicago")
    session, marisol = peer_in(runtime, peer_id)
    assert (
        render_message(session, "checkin", marisol, runtime.settings, goal="caminar").language
        == "es"
    )
    (tmp_path / "en" / "only_english").mkdir(parents=True)
    (tmp_path / "en" / "only_english" / "1.txt").write_text("Hello {{ name }}")
    assert render_template("only_english", "es", {"name": "M"}, directory=tmp_path).language == "en"
    session.close()


def test_characters_that_force_ucs2_are_replaced():
    text = "\u201cYou\u2019re doing great\u201d \u2014 keep going\u2026\u00a0ok"
    assert to_gsm7(text) == '"You\'re doing great" - keep going... ok'
    assert segment_count(to_gsm7(text)) == ("GSM-7", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("{" * 80, ("GSM-7", 1)),
        ("{" * 81, ("GSM-7", 2)),
        ("\U0001f600" + "a" * 68, ("UCS-2", 1)),
        ("\U0001f600" + "a" * 69, ("UCS-2", 2)),
    ],
)
def test_segment_counting(text, expected):
    assert segment_count(text) == expected


def test_whitespace_is_folded():
    assert clean_whitespace("  Hi   there \n\n\n\n ok  ") == "Hi there\n\nok"


def test_encouragement_recalls_the_peers_own_strengths(runtime, peer):
    with runtime.session_factory() as session, session.begin():
        session.get(Peer, peer).strengths = "I show up for my kids"
    session, sam = peer_in(runtime, peer)
    bodies = {
        render_message(session, "encouragement", sam, runtime.settings).body for _ in range(40)
    }
    assert any("I show up for my kids" in body for body in bodies)
    session.close()


def test_long_strengths_are_not_quoted_so_a_nudge_stays_one_segment(runtime, peer):
    with runtime.session_factory() as session, session.begin():
        session.get(Peer, peer).strengths = "x" * 200
    session, sam = peer_in(runtime, peer)
    for _ in range(20):
        rendered = render_message(session, "encouragement", sam, runtime.settings)
        assert "xxxx" not in rendered.body and rendered.segments == 1
    session.close()


def test_discreet_mode_refuses_a_template_that_names_treatment(runtime, peer, tmp_path):
    (tmp_path / "en" / "checkin").mkdir(parents=True)
    (tmp_path / "en" / "checkin" / "1.txt").write_text("Hi {{ name }}, how is your recovery?")
    session, sam = peer_in(runtime, peer)
    with pytest.raises(ValueError, match="recovery"):
        render_message(session, "checkin", sam, runtime.settings, directory=tmp_path)
    relaxed_settings = runtime.settings.with_overrides(program_discreet=False)
    relaxed = render_message(session, "checkin", sam, relaxed_settings, directory=tmp_path)
    assert "recovery" in relaxed.body
    session.close()


def test_the_peers_own_goal_words_are_theirs_to_choose(runtime, specialist):
    peer_id = enrol(runtime, specialist, phone="+12125550100", goal="go to my Tuesday meeting")
    session, peer = peer_in(runtime, peer_id)
    assert (
        "meeting"
        in render_message(session, "checkin", peer, runtime.settings, goal=peer.goals[0].text).body
    )
    session.close()


@pytest.mark.parametrize(
    ("days", "times", "english", "spanish"),
    [
        ("daily", "09:00", "every day at 9:00", "todos los dias a las 9:00"),
        ("weekdays", "18:30", "weekdays at 18:30", "de lunes a viernes a las 18:30"),
        ("mon,wed", "09:00", "Mondays and Wednesdays at 9:00", "los lunes y miércoles a las 9:00"),
        ("3x-week", "12:00", "3 times a week at 12:00", "3 veces por semana a las 12:00"),
        ("1x-week", "12:00", "once a week at 12:00", "una vez por semana a las 12:00"),
        ("sat,sun", "10:00", "weekends at 10:00", "los fines de semana a las 10:00"),
        ("mon,wed,fri", "9:00,18:30", "Mon, Wed and Fri at 9:00 and 18:30",
         "los lun, mié y vie a las 9:00 y 18:30"),
    ],
)  # fmt: skip
def test_schedules_are_described_in_words_in_the_peers_language(days, times, english, spanish):
    goals = [{"number": 1, "text": "walk", "schedules": [schedule_shape(days, times)]}]
    for language, words in (("en", english), ("es", spanish)):
        body = render_template("goals", language, {"goals": goals}, variant="1").body
        assert f"1. walk ({words})" in body
