"""The crisis backstop model: reproducible from the repo, and only ever "possible"."""

from __future__ import annotations

import json

from service.understanding.corpus import load
from service.understanding.model import MODEL_FILE, crisis_probability, possibly_crisis
from service.understanding.normalise import normalise
from service.understanding.safety import POSSIBLE, crisis_level, model_view, pattern_level
from service.understanding.train import train


def test_the_shipped_model_is_what_training_on_the_dev_part_gives():
    shipped = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert train() == shipped


def test_the_model_raises_a_text_the_patterns_miss_to_a_possible_crisis_only():
    flagged = [
        text
        for text in (normalise(e.text) for e in load(None))
        if pattern_level(text) is None and possibly_crisis(model_view(text))
    ]
    assert flagged, "the model should catch some wording the patterns miss"
    assert {crisis_level(text) for text in flagged} == {POSSIBLE}


def test_an_empty_or_everyday_text_scores_low():
    assert crisis_probability("") < 0.5
    assert not possibly_crisis(normalise("walked the dog, feeling good").text)
