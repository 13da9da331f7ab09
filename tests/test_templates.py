"""The template check: every shipped template passes it, and it catches each kind of mistake."""

from pathlib import Path

import pytest

from service.messages import TEMPLATES_DIR
from service.template_check import LANGUAGES, ambiguous_words, check_templates, kinds

BAD = Path(__file__).parent / "fixtures" / "bad_templates"


def test_every_shipped_template_passes():
    assert check_templates(TEMPLATES_DIR) == []


def test_both_languages_have_the_same_kinds_of_peer_message():
    assert kinds(TEMPLATES_DIR, "en", staff=False) == kinds(TEMPLATES_DIR, "es", staff=False)


def test_staff_texts_are_english_and_never_reach_a_peer_language_folder():
    staff = kinds(TEMPLATES_DIR, "en") - kinds(TEMPLATES_DIR, "en", staff=False)
    assert {"staff_alert", "staff_ack_confirmed", "staff_ack_taken"} <= staff
    assert not staff & kinds(TEMPLATES_DIR, "es")


@pytest.mark.parametrize("kind", ["checkin", "encouragement", "done", "not_yet", "milestone"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_main_kinds_have_at_least_six_variants(kind, language):
    assert len(list((TEMPLATES_DIR / language / kind).glob("*.txt"))) >= 6


@pytest.fixture(scope="module")
def problems() -> list[str]:
    return check_templates(BAD)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("en/checkin/1.txt", "not GSM-7"),
        ("en/checkin/2.txt", "2 segments, at most 1 allowed"),
        ("en/done/1.txt", "unknown placeholder 'favourite_colour'"),
        ("en/encouragement/1.txt", "names 'recovery'"),
        ("en/welcome/1.txt", "the welcome must say STOP"),
        ("es/encouragement/1.txt", "'tu' reads as another word without its accent"),
    ],
)
def test_the_check_catches_each_rule(problems, template, problem):
    assert any(p.startswith(template) and problem in p for p in problems), problems


def test_the_check_catches_a_kind_missing_in_one_language(problems):
    assert "es: missing kinds ['done']" in problems


def test_a_good_template_in_the_bad_set_is_not_flagged(problems):
    assert not [p for p in problems if p.startswith(("es/checkin/1.txt", "es/welcome/1.txt"))]


def test_no_rendered_spanish_template_reads_as_other_words_without_accents():
    assert [p for p in check_templates(TEMPLATES_DIR) if "without its accent" in p] == []


@pytest.mark.parametrize(
    ("text", "ambiguous"),
    [
        ("Tu importas.", ["tu"]),  # "your matter": tú lost its accent
        ("Si estas en peligro, llama.", ["si", "estas"]),
        ("Jordan vera tu mensaje.", ["vera"]),
        ("Nos importas. Sigues en tu camino, tu meta es tuya.", []),  # "tu" here is "your"
        ("¿Qué tal va? Celébralo.", []),  # é survives GSM-7
    ],
)
def test_the_reviewed_list_catches_words_that_lost_their_accent(text, ambiguous):
    assert ambiguous_words(text) == ambiguous
