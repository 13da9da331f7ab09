"""How PeerNudge reads a peer's text: one module, in a fixed order.

1. Normalise (:mod:`.normalise`): case, accents, repeated letters, text-speak,
   misspellings, emoji.
2. Crisis first (:mod:`.safety`): crisis language anywhere wins over every
   other reading; an uncertain reading is a *possible* crisis.
3. Opt-out in any reasonable words (:mod:`.safety`): clear, or possible.
4. Context (:mod:`.context`): the question we just asked this peer.
5. Commands and natural answers (:mod:`.commands`).
6. Anything else is free text for the specialist.

``read`` is pure: the conversation passes the peer's state in a
:class:`Context` and stores the :class:`Reading` with the inbound message.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.understanding.commands import Command, command, is_mixed
from service.understanding.context import Context, answer_in_context
from service.understanding.language import language_of
from service.understanding.model import features, probability, speaks, threshold
from service.understanding.normalise import Normalised, normalise
from service.understanding.safety import (
    CLEAR,
    SHORT,
    crisis_level,
    opt_out_doubted,
    opt_out_level,
    opt_out_ruled_out,
    sentences,
)

# Intents a reading can have.
CRISIS, POSSIBLE_CRISIS = "crisis", "possible_crisis"
OPT_OUT, OPT_OUT_UNCLEAR = "opt_out", "opt_out_unclear"
OTHER = "other"


@dataclass(frozen=True)
class Reading:
    intent: str
    confidence: float
    language: str
    number: int | None = None  # the goal (DONE 2), the mood score, the days of a pause
    time: str | None = None  # HH:MM for a new check-in time
    also_opt_out: bool = False  # a crisis text that also asks us to stop
    scope: str | None = None  # "goal" when a pause is for one goal only
    answered: str | None = None  # the question this text answered


def read(body: str, context: Context | None = None, backstop: bool = True) -> Reading:
    """What a text means for this peer, and how sure the reading is.

    ``backstop=False`` reads with the reviewed patterns alone (training uses it
    to find the texts the patterns leave to the models).
    """
    context = context or Context()
    text = normalise(body or "")
    language = language_of(text, context.language)
    opt_out = opt_out_level(text)
    # A text that answers the question we just asked ("2 - wrote a page tonight" after
    # "Which one?") is read by the crisis patterns, not by the crisis backstop.
    contextual = answer_in_context(text, context)
    crisis = crisis_level(text, backstop and contextual is None, opt_out)
    if crisis:
        intent = CRISIS if crisis == CLEAR else POSSIBLE_CRISIS
        confidence = 0.95 if crisis == CLEAR else 0.6
        return Reading(intent, confidence, language, also_opt_out=opt_out == CLEAR)
    if opt_out == CLEAR and not is_time_limited(text):
        if backstop and opt_out_doubted(text):
            return Reading(OPT_OUT_UNCLEAR, 0.5, language)
        return Reading(OPT_OUT, 1.0 if len(text.tokens) <= SHORT else 0.9, language)
    if is_mixed(sentences(text), context.goals):
        return Reading(OTHER, 0.5, language)
    if contextual is not None:
        return Reading(language=language, **contextual)
    found = command(text.text, context.goals)
    if opt_out and (found is None or found.intent not in ("pause", "fewer", "opt_in", "time")):
        return Reading(OPT_OUT_UNCLEAR, 0.5, language)
    if found is None:
        guessed = backstop_intent(text, context) if backstop and text.text else None
        if guessed is not None:
            return Reading(guessed, MODEL_CONFIDENCE, language)
        return Reading(OTHER, 0.3 if text.text else 0.0, language)
    return reading_of(found, context, language)


MODEL_CONFIDENCE = 0.4


def backstop_intent(text: Normalised, context: Context) -> str | None:
    """What the statistical backstops make of a text the patterns leave as free text:
    a possible opt-out first (held and asked, never opted out), then, from an
    enrolled peer, a question about the service or about their goals (a number
    we do not know gets answers only to what the patterns read)."""
    found = features(text.text)
    if not opt_out_ruled_out(text) and speaks("opt_out", found):
        return OPT_OUT_UNCLEAR
    if context.consent == "unknown":
        return None
    odds = {name: probability(name, found) for name in ("help", "goals")}
    heard = [name for name, chance in odds.items() if chance >= threshold(name)]
    return max(heard, key=odds.__getitem__, default=None)


def may_be_crisis(body: str) -> bool:
    """Whether a text might be a crisis (clear or possible): such a text is handled
    before other senders' texts waiting in the queue."""
    return crisis_level(normalise(body or "")) is not None


def bare_number(body: str) -> int | None:
    """The number of a keyword-and-number text ("PAUSE 2", "skip 2"), else None.

    With several goals such a number could be a goal or a count of days; the
    conversation asks which.
    """
    tokens = normalise(body or "").tokens
    if len(tokens) == 2 and tokens[1].isdigit() and tokens[0] in BARE_NUMBER_WORDS:
        return int(tokens[1])
    return None


BARE_NUMBER_WORDS = {"pause", "pausa", "pausar", "skip", "saltar", "rest", "descanso", "later",
                     "luego", "snooze"}  # fmt: skip


def is_time_limited(text: Normalised) -> bool:
    """ "Stop texting me for a week" is a pause, not an opt-out."""
    found = command(text.text)
    return found is not None and found.intent == "pause" and found.number is not None


def reading_of(found: Command, context: Context, language: str) -> Reading:
    intent = found.intent
    if context.consent == "opted_out" and intent == "resume":
        intent = "opt_in"
    return Reading(intent, found.confidence, language, number=found.number, time=found.time)


__all__ = ["Context", "Reading", "bare_number", "may_be_crisis", "normalise", "read"]
