"""The reader scored on the held-out part of the labelled corpus.

The held-out rows are never used to tune the rules (see
service/understanding/corpus.py); these are the bars the issue sets.
"""

from __future__ import annotations

import pytest

from service.understanding.corpus import CHANGES, CHECK_INS, Score, load, score


@pytest.fixture(scope="module")
def heldout() -> Score:
    examples = load("heldout")
    assert len(examples) >= 500  # at least a third of the corpus
    return score(examples)


def describe(misses) -> str:
    return "\n".join(f"{e.id}: {e.label} read as {r.intent}: {e.text!r}" for e, r in misses)


def test_the_corpus_has_both_languages_and_a_third_held_out():
    everything = load(None)
    assert len(everything) >= 1500
    assert {e.language for e in everything} == {"en", "es"}
    assert len(load("heldout")) >= len(everything) // 3


def test_every_crisis_text_is_read_as_a_crisis(heldout):
    misses = [(e, r) for e, r in heldout.misses if e.label in ("crisis", "possible_crisis")]
    misses = [(e, r) for e, r in misses if r.intent not in ("crisis", "possible_crisis")]
    assert misses == [], describe(misses)


def test_opt_out_recall_is_at_least_98_percent(heldout):
    assert heldout.recall("opt_out") >= 0.98


def test_no_text_that_is_not_an_opt_out_is_read_as_one(heldout):
    assert heldout.false_opt_outs == [], describe(heldout.false_opt_outs)


def test_at_most_one_percent_of_other_texts_are_read_as_a_crisis(heldout):
    assert len(heldout.false_crises) <= 0.01 * heldout.non_crisis_total(), describe(
        heldout.false_crises
    )


def test_natural_check_in_answers_are_read_right(heldout):
    assert heldout.share_right(CHECK_INS) >= 0.90


def test_peer_owned_changes_are_read_right(heldout):
    assert heldout.share_right(CHANGES) >= 0.90
