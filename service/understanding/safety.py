"""Steps 2 and 3 of reading a text: crisis first, then opt-out in any words.

Both read the whole text, however long, and both say how sure they are:
``clear`` or ``possible``. Idioms ("this heat is killing me") and sentences
that say "stop" without asking us to stop ("I can't stop smiling") are
removed before the patterns look, so they never decide anything.
"""

from __future__ import annotations

from service.understanding.normalise import Normalised
from service.understanding.patterns import first_match, without, words

CRISIS = "crisis.txt"
OPT_OUT = "opt_out.txt"
CLEAR, POSSIBLE = "clear", "possible"


def crisis_level(text: Normalised) -> str | None:
    """``clear``, ``possible`` or None for crisis language anywhere in the text.

    ``[not]`` spans (idioms, safe references: "a year ago I wanted to die, now
    I'm doing better") are removed first. ``[past]`` spans (a past reference
    with nothing to say it is over: "last year I wanted to die") cannot make a
    reading clear on their own, but they still make it possible.
    """
    cleaned = without(text.text, CRISIS)
    present = without(cleaned, CRISIS, "past")
    if first_match(present, CRISIS, "clear"):
        return CLEAR
    if first_match(cleaned, CRISIS, "clear") or first_match(cleaned, CRISIS, "possible"):
        return POSSIBLE
    return None


def is_keyword_message(text: Normalised) -> bool:
    """STOP and its synonyms as the whole message, with only filler words around."""
    keywords, fillers = words(OPT_OUT, "keyword"), words(OPT_OUT, "filler")
    if text.text in keywords:
        return True
    remaining = text.text
    for phrase in sorted(fillers | keywords, key=len, reverse=True):
        remaining = f" {remaining} ".replace(f" {phrase} ", " ")
    tokens = text.tokens
    has_keyword = any(token in keywords for token in tokens) or any(
        f" {k} " in f" {text.text} " for k in keywords if " " in k
    )
    return has_keyword and not remaining.strip()


def opt_out_level(text: Normalised) -> str | None:
    """``clear``, ``possible`` or None for a request to stop the texts."""
    if is_keyword_message(text):
        return CLEAR
    cleaned = without(text.text, OPT_OUT)
    if first_match(cleaned, OPT_OUT, "clear"):
        return CLEAR
    if first_match(cleaned, OPT_OUT, "unclear"):
        return POSSIBLE
    return None
