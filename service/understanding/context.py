"""Step 4 of reading a text: the question we just asked this peer.

After "Which one? Reply with the number", a bare "2" or a goal's words answer
that question, not a mood ("2 sorry", "number one", "the walk", "AA"); "both"
or "all of them" answers it for every goal (``scope="all"``, no number). After
"Pause everything for 2 days, or only goal 2?", "days" or "goal" does. The
conversation keeps the question on the peer for a short time
(:data:`CONTEXT_LIFETIME`) and passes it in; expired or absent, nothing here
applies.

A peer who has opted out was last told how to come back; a plain yes ("yes",
"si quiero", "yes please") answers that and opts them back in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from service.understanding.clock import find_clock
from service.understanding.commands import COUNT_WORDS, DURATION, pause_days, without_fillers
from service.understanding.goals import goal_named, goal_number
from service.understanding.normalise import Normalised, normalise

CONTEXT_LIFETIME = timedelta(hours=2)
WHICH_GOAL = "which_goal"  # which_goal:<intent>
NUMBER_MEANING = "number"  # number:<intent>:<n>
OPT_OUT_UNCLEAR = "opt_out_unclear"
TIME_QUESTION = "time"  # after "What time suits you?"
GOAL_WORDS = re.compile(
    r"^(the |just the |only the |just |only |solo |nada mas |la |el )?"
    r"(goal|meta|one goal|that goal|la meta)\b"
)
DAY_WORDS = re.compile(
    r"^(the )?(days?|all|everything|every thing|all of it|all texts|dias?|todo|todos)\b"
    r"|^\d{1,2} (days?|dias?)\b|^(pause )?(everything|all)\b"
    r"|^(hours?|horas?)\b|^\d{1,2} (hours?|horas?)\b"
)
EVERY_GOAL = re.compile(
    r"^(both|all|all of them|both of them|every one|everything|todos|todas|las dos|los dos"
    r"|ambos|ambas|todo)( (of them|done|yes|si|ya|please|pls|porfa|smh|gracias a dios|thank god))*$"
)
YES_AGAIN = re.compile(
    r"^(yes|y|yes sir|si|sip|claro|ok|okay|sure|yes i do|si quiero|yes i want them|quiero)"
    r"( (please|pls|porfa|por favor|again|quiero|otra vez|de nuevo|thanks|gracias))*$"
)
# A length given in answer to "pause goal 2, or everything for 2 days?": "a week",
# "like 4 days", "ten", "hasta el lunes" (hedges in front do not change it).
HEDGE = re.compile(r"^((like|about|around|maybe|idk|i do not know|i dunno|no se|um|uh|for"
                   r"|more like|prob|probably|como|unos|unas|por|mmm|hmm|just|make it|do|pause"
                   r"|pausa)\b ?)+")  # fmt: skip
A_WHILE = re.compile(r"^(a while|a bit|a little while|un tiempo|una temporada|un rato)\b")
UNTIL = re.compile(r"^(till|til|until|untill|thru|through|hasta)\b")
LENGTH_WORDS = 6  # a longer text is more than a length
KEEP_WORDS = re.compile(
    r"^(keep|keep (them|it|going|the texts|sending)|no keep|it is fine|its fine|i am fine|"
    r"never mind|no (it is|its) (fine|ok|okay)|they are fine|i am good|all good|mantener|"
    r"esta bien|estan bien|sigan|siganlos|seguir|seguir igual|no importa|dejalo asi"
    r"|asi esta bien)\b"
)


@dataclass(frozen=True)
class Context:
    """What the reader knows about the peer: language, consent, goals, our last question."""

    language: str = "en"
    consent: str = "opted_in"  # opted_in | opted_out | unknown
    goals: tuple[str, ...] = field(default_factory=tuple)
    asked: str | None = None


def answer_in_context(text: Normalised, context: Context) -> dict[str, Any] | None:
    """The reading a text has as the answer to our last question, or None."""
    if context.consent == "opted_out" and YES_AGAIN.match(text.text):
        return {"intent": "opt_in", "confidence": 0.9, "answered": "opted_out"}
    if not context.asked:
        return None
    kind, _, rest = context.asked.partition(":")
    if kind == WHICH_GOAL:
        return whole_or_opening(text, lambda words: goal_answer(words, rest, context))
    if kind == NUMBER_MEANING:
        intent, _, number = rest.partition(":")
        return whole_or_opening(  # "una semana, me voy a Honduras"
            text, lambda words: number_meaning(words, intent, int(number or 0), len(context.goals))
        )
    if kind == TIME_QUESTION and (clock := time_answer(text.text)) is not None:
        return {"intent": "time", "confidence": 0.85, "time": clock, "answered": context.asked}
    if kind == OPT_OUT_UNCLEAR and KEEP_WORDS.search(text.text):
        return {"intent": "keep", "confidence": 0.8, "answered": context.asked}
    return None


def whole_or_opening(
    text: Normalised, answer: Callable[[str], dict[str, Any] | None]
) -> dict[str, Any] | None:
    """What the whole text answers, or else the words it opens with ("the sponsor one,
    finally got him on the phone", "las dos, ahorita estoy en clase")."""
    found = answer(text.text)
    lead = opening(text)
    if found is None and lead and lead != text.text:
        found = answer(lead)
    return found


def opening(text: Normalised) -> str:
    """The words a text opens with: up to its first comma or full stop, or "the X one"."""
    clause = normalise(LEAD_BREAK.split(text.raw.strip(), maxsplit=1)[0]).text
    described = DESCRIBED.match(text.text)
    return described[1] if described and len(described[1]) < len(clause) else clause


LEAD_BREAK = re.compile(r"[,.;:!?\n]| - ")
DESCRIBED = re.compile(r"^((the |that |el |la )?(\w+ ){0,2}?\w+ one)\b")
# "none" after "Which one did you do?": none of them is done yet.
NO_GOAL = re.compile(r"^(none|neither|neither one|none of them|ninguna|ninguno|ni una|ni uno)$")
# "none yet" after "Which one?" following a NOT YET: not yet, for every goal.
NO_GOAL_YET = re.compile(r"^(none|neither|none of them|ninguna|ninguno) (yet|todavia|aun)$")


def goal_answer(text: str, intent: str, context: Context) -> dict[str, Any] | None:
    answered = f"{WHICH_GOAL}:{intent}"
    bare = without_fillers(text) or text  # "both smh", "todas gracias a Dios"
    if EVERY_GOAL.match(bare) or EVERY_GOAL.match(text):
        return {"intent": intent, "confidence": 0.85, "scope": "all", "answered": answered}
    if (intent == "done" and NO_GOAL.match(bare)) or NO_GOAL_YET.match(text):
        return {"intent": "not_yet", "confidence": 0.8, "scope": "all", "answered": answered}
    position = goal_number(text, len(context.goals))
    confidence = 0.95
    if position is None:  # "3. the journal, wrote 2 pages": the answer comes first
        position, confidence = goal_number(text, len(context.goals), leading=True), 0.85
    if position is None and len(text.split()) <= 6:
        position, confidence = goal_named(text, context.goals), 0.8
    if position is None:
        return None
    return {
        "intent": intent,
        "confidence": confidence,
        "number": position,
        "answered": answered,
    }


def number_meaning(text: str, intent: str, number: int, goals: int) -> dict[str, Any] | None:
    """After "PAUSE 2" with several goals: is 2 the goal or the days (hours for LATER)?
    A pause (or a rest day) can also be answered with a length of its own ("a week",
    "ten", "till sunday"): everything paused for that long."""
    asked = f"{NUMBER_MEANING}:{intent}:{number}"
    if intent in ("pause", "rest") and (days := length_answer(text, goals)) is not None:
        return {"intent": "pause", "confidence": 0.85, "number": days or None, "scope": "days",
                "answered": asked}  # fmt: skip
    if GOAL_WORDS.search(text) or re.fullmatch(rf"(goal |meta |#)?{number}", text):
        return {"intent": intent, "confidence": 0.9, "number": number, "scope": "goal",
                "answered": asked}  # fmt: skip
    if DAY_WORDS.search(text):
        days_intent = "later" if intent == "later" else "pause"
        return {"intent": days_intent, "confidence": 0.9, "number": number, "scope": "days",
                "answered": asked}  # fmt: skip
    return None


def length_answer(text: str, goals: int) -> int | None:
    """Days given as a length (0: a length with no count, "till sunday"), or None. A bare
    count only when no goal has that number: "3" with three goals is still a goal."""
    words = HEDGE.sub("", without_fillers(text)).strip(" .!?")
    if A_WHILE.match(words):  # "idk a while, til my court thing is over"
        return 0
    if not words or len(words.split()) > LENGTH_WORDS:
        return None
    if UNTIL.match(words):
        return 0
    if DURATION.search(words):
        return pause_days(words)
    count = int(words) if words.isdigit() else COUNT_WORDS.get(words)
    if count is None or count <= goals or words in ("a", "an", "un", "una"):
        return None
    return pause_days(f"{count} days")


def time_answer(text: str) -> str | None:
    """After "What time suits you?": a time, where a bare "7" is one too ("at 7")."""
    words = without_fillers(text)
    if not words or len(words.split()) > LENGTH_WORDS:
        return None
    return find_clock(words) or find_clock(f"at {words}")
