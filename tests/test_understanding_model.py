"""The backstop models: reproducible from the repo, and only ever careful readings."""

from __future__ import annotations

import json

import pytest

from service.understanding import OPT_OUT, OPT_OUT_UNCLEAR, OTHER, read
from service.understanding.corpus import load
from service.understanding.model import MODELS, features, model_file, probability, speaks
from service.understanding.normalise import normalise
from service.understanding.safety import (
    POSSIBLE,
    crisis_level,
    model_view,
    opt_out_level,
    pattern_level,
)
from service.understanding.train import train


@pytest.mark.parametrize("name", MODELS)
def test_the_shipped_model_is_what_training_on_the_dev_part_gives(name):
    shipped = json.loads(model_file(name).read_text(encoding="utf-8"))
    assert train(name) == shipped


def test_the_model_raises_a_text_the_patterns_miss_to_a_possible_crisis_only():
    flagged = [
        text
        for text in (normalise(e.text) for e in load(None))
        if pattern_level(text) is None and speaks("crisis", features(model_view(text)))
    ]
    assert flagged, "the model should catch some wording the patterns miss"
    assert {crisis_level(text) for text in flagged} == {POSSIBLE}


def test_an_unclear_opt_out_the_crisis_model_would_flag_is_held_and_asked_not_a_crisis():
    """The opt-out patterns' unclear reading already holds the texts, asks once and flags
    the specialist; the crisis model stays silent on it."""
    both = [
        e
        for e in load(None)
        if pattern_level(text := normalise(e.text)) is None
        and opt_out_level(text) == POSSIBLE
        and speaks("crisis", features(model_view(text)))
    ]
    assert both, "some unclear opt-outs look like distress to the crisis model"
    assert {read(e.text, e.context).intent for e in both} == {OPT_OUT_UNCLEAR}


def model_readings(split: str | None = None):
    """(example, reading) for every corpus text the patterns alone leave as free text
    and the backstops read as something else."""
    for example in load(split):
        if read(example.text, example.context, backstop=False).intent != OTHER:
            continue
        reading = read(example.text, example.context)
        if reading.intent != OTHER:
            yield example, reading


def test_the_backstops_never_opt_a_peer_out():
    readings = list(model_readings())
    intents = {reading.intent for _, reading in readings}
    assert OPT_OUT_UNCLEAR in intents, "the opt-out model should hold some texts the rules miss"
    assert OPT_OUT not in intents
    assert intents <= {OPT_OUT_UNCLEAR, "help", "goals", "possible_crisis"}
    assert {
        reading.confidence for _, reading in readings if reading.intent != "possible_crisis"
    } == {0.4}


def test_the_backstops_only_read_texts_the_patterns_leave_as_free_text():
    for example in load("dev")[:400]:
        by_rules = read(example.text, example.context, backstop=False)
        if by_rules.intent not in (OTHER, "possible_crisis"):
            assert read(example.text, example.context).intent in (
                by_rules.intent,
                "possible_crisis",
            )


@pytest.mark.parametrize("name", MODELS)
def test_an_empty_or_everyday_text_scores_low(name):
    assert probability(name, features("")) < 0.5
    assert not speaks(name, features(normalise("walked the dog, feeling good").text))
