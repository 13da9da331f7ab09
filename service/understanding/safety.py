"""Steps 2 and 3 of reading a text: crisis first, then opt-out in any words.

Both read the whole text, however long, and both say how sure they are:
``clear`` or ``possible``. Idioms ("this heat is killing me") and sentences
that say "stop" without asking us to stop ("I can't stop smiling") are
removed before the patterns look, so they never decide anything.
"""

from __future__ import annotations

import re

from service.understanding.model import doubt, features, probability, speaks
from service.understanding.normalise import Normalised, normalise
from service.understanding.patterns import compiled, first_match, without, words

CRISIS = "crisis.txt"
OPT_OUT = "opt_out.txt"
CLEAR, POSSIBLE = "clear", "possible"
# A text of this many words or fewer that the opt-out patterns read as clear leaves no
# room for another meaning ("lose my number", "me salgo"): the model never doubts it.
SHORT = 3
# Where one sentence ends and the next begins, in what the peer wrote.
SENTENCE_BREAK = re.compile(r"[.,;:!?\n()\u00a1\u00bf]+")
# Laughing and winking emoji: a "stop" said in fun (words are in [joking]).
JOKING = re.compile(r"\U0001f602|\U0001f923|\U0001f606|\U0001f605|\U0001f61c|\U0001f61d|\U0001f92a")


def crisis_level(text: Normalised, backstop: bool = True, opt_out: str | None = None) -> str | None:
    """``clear``, ``possible`` or None for crisis language anywhere in the text: the
    reviewed patterns first, then the statistical backstop (possible at most). The
    backstop is silent on a text the opt-out patterns read as an unclear opt-out ("I
    don't think this is for me"): that text is already held, asked about and flagged for
    the specialist."""
    level = pattern_level(text)
    reads = backstop and left_to_crisis_model(level, opt_out)
    if reads and speaks("crisis", features(model_view(text))):
        return POSSIBLE
    return level


def left_to_crisis_model(level: str | None, opt_out: str | None) -> bool:
    """Whether the crisis backstop reads a text, given what the crisis patterns (``level``)
    and the opt-out patterns (``opt_out``) made of it; training uses the same test."""
    return level is None and opt_out != POSSIBLE


def model_view(text: Normalised) -> str:
    """What the backstop model reads: the text without the ``[not]`` spans, which the
    reviewed patterns have ruled out ("a year ago I wanted to die, now I'm doing better")."""
    return without(text.text, CRISIS)


def opt_out_ruled_out(text: Normalised) -> bool:
    """Whether the opt-out patterns have explained the text with a ``[not]`` span ("I
    can't stop smiling", "please don't stop these"): then the opt-out backstop is silent."""
    return without(text.text, OPT_OUT) != text.text


def pattern_level(text: Normalised) -> str | None:
    """What the reviewed crisis patterns alone say of a text.

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


def is_keyword_message(text: str) -> bool:
    """STOP and its synonyms as the whole message, with only filler words around."""
    keywords, fillers = words(OPT_OUT, "keyword"), words(OPT_OUT, "filler")
    if text in keywords:
        return True
    remaining, has_keyword = f" {text} ", False
    for phrase in sorted(fillers | keywords, key=len, reverse=True):
        spaced = f" {phrase} "
        while spaced in remaining:  # "stop stop stop": every one, not every other
            has_keyword = has_keyword or phrase in keywords
            remaining = remaining.replace(spaced, " ")
    return has_keyword and not remaining.strip()


def sentences(text: Normalised) -> list[str]:
    """The text's sentences (split at punctuation) in reader form."""
    parts = SENTENCE_BREAK.split(text.raw[:2000])
    return [normalise(part).text for part in parts if part.strip()]


def has_keyword_sentence(text: Normalised) -> bool:
    """A last sentence that is STOP and fillers alone: "Not interested. Please remove."

    "I'm sick of these texts. Stop." asks us to stop as plainly as "STOP" does.
    An earlier sentence counts only when the rest insists or complains
    ("Stop. I never signed up for this"), not in "Stop, you guys are too
    sweet"; a message that laughs or jokes is left to the other patterns.
    """
    if JOKING.search(text.raw) or first_match(text.text, OPT_OUT, "joking"):
        return False
    # A sentence inside a [not] span of the whole text ("termine con mi novio, ya
    # estuvo, no mas") does not count.
    left = f" {without(text.text, OPT_OUT)} "
    parts = [
        is_keyword_message(without(part, OPT_OUT)) and f" {part} " in left
        for part in sentences(text)
    ]
    if not any(parts):
        return False
    return parts[-1] or first_match(text.text, OPT_OUT, "insisting") is not None


def asks_beyond_limit(text: str) -> bool:
    """A whole request to stop left once the stops limited in time are taken out: "stop
    texting me at 6am, actually just stop texting me" asks for no texts at all."""
    rest = without(text, OPT_OUT, "pause")
    for pattern in (*compiled(OPT_OUT, "clear"), *compiled(OPT_OUT, "firm")):
        match = pattern.search(rest)
        if match and "_" not in match[0].split():
            return True
    return False


def opt_out_level(text: Normalised) -> str | None:
    """``clear``, ``possible`` or None for a request to stop the texts.

    ``[not]`` spans never count. ``[tentative]`` spans ("I might want to stop
    these soon", "is there a way to turn these off?") make it possible, never
    clear. A clear request limited in time ("stop for a week") is only
    possible here: the commands read it as a pause, or we ask.
    """
    cleaned = without(text.text, OPT_OUT)
    if is_keyword_message(cleaned):  # "por fin" and "don't stop" are not STOP
        return CLEAR
    firm = without(cleaned, OPT_OUT, "tentative")
    asked = first_match(firm, OPT_OUT, "clear") or first_match(firm, OPT_OUT, "firm")
    if asked or has_keyword_sentence(text):
        if first_match(cleaned, OPT_OUT, "pause") and not asks_beyond_limit(firm):
            return POSSIBLE
        return CLEAR
    if firm != cleaned or first_match(cleaned, OPT_OUT, "unclear"):
        return POSSIBLE
    return None


def opt_out_doubtable(text: Normalised) -> bool:
    """Whether the opt-out model may doubt a clear opt-out the patterns found in this text:
    longer than SHORT words, not STOP and fillers, and no ``[firm]`` request (consent
    revoked, a threat to report the next text, a request made before)."""
    cleaned = without(text.text, OPT_OUT)
    if len(text.tokens) <= SHORT or is_keyword_message(cleaned):
        return False
    return first_match(cleaned, OPT_OUT, "firm") is None


def opt_out_views(text: Normalised) -> list[str]:
    """What the opt-out model reads when it weighs a doubt: the whole text and each
    sentence, so a polite goodbye that ends "please stop the texts" is read by that line."""
    return [text.text, *sentences(text)]


def opt_out_doubted(text: Normalised) -> bool:
    """Whether the opt-out model doubts a clear opt-out the patterns found: none of the
    text's :func:`opt_out_views` reads like the opt-outs it was trained on ("told my boss
    to take me off the schedule saturday"). Such a text is held and asked about instead
    of opting the peer out."""
    if not opt_out_doubtable(text):
        return False
    found = (features(view) for view in opt_out_views(text))
    return max(probability("opt_out", names) for names in found) < doubt("opt_out")
