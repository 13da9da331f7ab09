"""Steps 2 and 3 of reading a text: crisis first, then opt-out in any words.

Both read the whole text, however long, and both say how sure they are:
``clear`` or ``possible``. Idioms ("this heat is killing me") and sentences
that say "stop" without asking us to stop ("I can't stop smiling") are
removed before the patterns look, so they never decide anything.
"""

from __future__ import annotations

from service.understanding.model import possibly_crisis
from service.understanding.normalise import Normalised
from service.understanding.patterns import first_match, without, words

CRISIS = "crisis.txt"
OPT_OUT = "opt_out.txt"
CLEAR, POSSIBLE = "clear", "possible"


def crisis_level(text: Normalised) -> str | None:
    """``clear``, ``possible`` or None for crisis language anywhere in the text: the
    reviewed patterns first, then the statistical backstop (possible at most)."""
    level = pattern_level(text)
    if level is None and possibly_crisis(text.text):
        return POSSIBLE
    return level


def pattern_level(text: Normalised) -> str | None:
    """What the reviewed crisis patterns alone say of a text."""
    cleaned = without(text.text, CRISIS)
    if first_match(cleaned, CRISIS, "clear"):
        return CLEAR
    if first_match(cleaned, CRISIS, "possible"):
        return POSSIBLE
    return None


def is_keyword_message(text: Normalised) -> bool:
    """STOP and its synonyms as the whole message, with only filler words around."""
    keywords, fillers = words(OPT_OUT, "keyword"), words(OPT_OUT, "filler")
    phrases = sorted(keywords | fillers, key=lambda p: -len(p.split()))
    tokens, found_keyword = text.tokens, False
    while tokens:
        for phrase in phrases:
            size = len(phrase.split())
            if " ".join(tokens[:size]) == phrase:
                found_keyword = found_keyword or phrase in keywords
                tokens = tokens[size:]
                break
        else:
            return False
    return found_keyword


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
