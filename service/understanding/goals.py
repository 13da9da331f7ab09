"""Which of the peer's goals a text names: by number, by order, or by its words.

Goals are the peer's own words ("evening walk", "call my sponsor"); a text
names one when it shares a content word with it, compared by stem so that
"walked" names "walk" and "llamé" names "llamar".
"""

from __future__ import annotations

import re
from functools import cache

from service.understanding.normalise import surface

ORDINALS = {
    "first": 1, "1st": 1, "one": 1, "primero": 1, "primera": 1, "uno": 1, "una": 1,
    "second": 2, "2nd": 2, "two": 2, "segundo": 2, "segunda": 2, "dos": 2,
    "third": 3, "3rd": 3, "three": 3, "tercero": 3, "tercera": 3, "tres": 3,
    "four": 4, "fourth": 4, "cuatro": 4, "cuarto": 4, "cuarta": 4,
    "five": 5, "fifth": 5, "cinco": 5, "quinto": 5, "quinta": 5,
}  # fmt: skip
STOPWORDS = set(
    [
        "a",
        "an",
        "the",
        "my",
        "to",
        "and",
        "or",
        "of",
        "for",
        "in",
        "on",
        "at",
        "with",
        "every",
        "each",
        "day",
        "days",
        "daily",
        "min",
        "mins",
        "minutes",
        "minute",
        "time",
        "times",
        "week",
        "hour",
        "hours",
        "some",
        "more",
        "less",
        "go",
        "get",
        "do",
        "make",
        "take",
        "have",
        "be",
        "at",
        "least",
        "un",
        "una",
        "el",
        "la",
        "los",
        "las",
        "mi",
        "mis",
        "de",
        "del",
        "a",
        "al",
        "con",
        "y",
        "o",
        "en",
        "por",
        "para",
        "cada",
        "dia",
        "dias",
        "minutos",
        "hacer",
        "ir",
        "tener",
        "ser",
        "estar",
    ]
)
NUMBER_ONLY = re.compile(
    r"^(the |goal |number |no |#|el |la |meta |numero |la meta |el numero |la numero )?"
    r"(?P<n>\d{1,2})( one| goal| please| por favor| pls)?$"
)
ORDINAL = re.compile(
    r"^(the |el |la |lo |mi )?(?P<word>\w+)( one| goal| meta| uno| una| please| por favor)?$"
)


def stem(word: str) -> str:
    return word[:5] if len(word) > 5 else word.rstrip("s")


@cache
def content_stems(goal: str) -> frozenset[str]:
    words = surface(goal).split()
    return frozenset(stem(w) for w in words if w not in STOPWORDS and len(w) >= 3)


def number_word(text: str) -> int | None:
    """A number written as a word: "a four" -> 4, "tres" -> 3."""
    for word in text.split():
        if word in ORDINALS and word not in {"una", "one"}:
            return ORDINALS[word]
    return None


def goal_number(text: str, count: int) -> int | None:
    """A bare reference to a goal by position: "2", "#2", "the second one", "la segunda"."""
    match = NUMBER_ONLY.match(text)
    if match:
        number = int(match["n"])
        return number if 1 <= number <= count else None
    match = ORDINAL.match(text)
    if match and match["word"] in ORDINALS:
        number = ORDINALS[match["word"]]
        return number if 1 <= number <= count else None
    return None


def goal_named(text: str, goals: tuple[str, ...]) -> int | None:
    """The position (1-based) of the one goal whose words the text uses, else None."""
    stems = {stem(w) for w in text.split() if len(w) >= 3}
    hits = [i for i, goal in enumerate(goals, start=1) if content_stems(goal) & stems]
    return hits[0] if len(hits) == 1 else None
