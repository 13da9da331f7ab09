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
        "is",
        "it",
        "by",
        "up",
        "me",
        "no",
        "not",
        "ni",
        "so",
        "as",
        "if",
        "am",
        "pm",
        "lo",
        "le",
        "se",
        "te",
        "tu",
        "su",
        "yo",
        "do",
        "go",
        "be",
        "out",
        "one",
        "all",
        "off",
        "after",
        "before",
        "around",
        "time",
        "every",
        "morning",
        "evening",
        "night",
        "manana",
        "tarde",
        "noche",
        "antes",
        "despues",
        "hoy",
        "today",
        "tonight",
    ]
)
# Words before a goal's number: "goal 2", "#2", "el 2", "la meta 2".
NUMBER_BEFORE = r"^(the |goal |number |no |#|el |la |meta |numero |la meta |el numero |la numero )?"
NUMBER_ONLY = re.compile(NUMBER_BEFORE + r"(?P<n>\d{1,2})( one| goal| please| por favor| pls)?$")
# The number leading a longer answer ("3. the journal, wrote 2 pages"), not a time.
NUMBER_LEADING = re.compile(NUMBER_BEFORE + r"(?P<n>\d{1,2})\b(?! ?(am|pm|:))")
ORDINAL = re.compile(
    r"^(the |el |la |lo |mi |number |numero |el numero |goal |meta )?(?P<word>\w+)"
    r"( one| goal| meta| uno| una| please| por favor)?$"
)
# Words that may stand around a goal's number or name without changing it.
AROUND = re.compile(
    r"^((ok|okay|oh|um|uh|sorry|lol|yes|si|i think|i guess|its|it is|that is|thats) )+"
    r"|( (sorry|lol|please|pls|thanks|thx|gracias|porfa|por favor|i think|i guess|then"
    r"|haha|jaja|wey|bro|smh|tho))+$"
)
# Past forms that do not end in -ed, as the verb a goal is written with.
IRREGULAR = {
    "ran": "run", "went": "go", "ate": "eat", "drank": "drink", "rode": "ride", "wrote": "write",
    "took": "take", "slept": "sleep", "met": "meet", "made": "make", "swam": "swim", "sat": "sit",
    "spoke": "speak", "bought": "buy", "brought": "bring", "fed": "feed", "kept": "keep",
    "gave": "give", "saw": "see", "came": "come", "paid": "pay", "drove": "drive", "hit": "hit",
    "sent": "send", "read": "read", "fui": "ir", "fuimos": "ir", "hice": "hacer",
}  # fmt: skip
# Words peers use for the same thing as the goal's own word.
SYNONYMS = (
    {"meds", "med", "medication", "medications", "medicine", "pills", "pill", "medicina",
     "medicamento", "medicamentos", "pastillas", "pastilla"},
    {"gym", "gimnasio", "workout", "exercise", "ejercicio"},
    {"sponsor", "padrino", "madrina", "patrocinador"},
    {"suboxone", "sub", "subs", "bupe", "buprenorphine"},
)  # fmt: skip
PLURALS = ("es", "s")
ENDINGS = ("ing", "ed", "ando", "iendo", "ado", "ido", "ar", "er", "ir", "e", "o", "i")


def strip_around(text: str) -> str:
    """ "2 sorry" -> "2", "ok the walk" -> "the walk"."""
    return AROUND.sub("", text).strip()


def stem(word: str) -> str:
    """A word's stem for comparing a text with a goal: "walked", "walking" -> "walk".

    Spanish spelling changes before -e are undone first: "recé" is "rezar",
    "saqué" is "sacar", "pagué" is "pagar".
    """
    word = IRREGULAR.get(word, word)
    word = re.sub(r"que$", "ce", re.sub(r"gue$", "ge", word)).replace("z", "c")
    for group in SYNONYMS:
        if word in group:
            return min(group)
    return without_suffix(without_suffix(word, PLURALS), ENDINGS)[:5]


def without_suffix(word: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def is_content(word: str) -> bool:
    return word not in STOPWORDS and (len(word) >= 3 or (word.isalpha() and len(word) == 2))


@cache
def content_stems(goal: str) -> frozenset[str]:
    return frozenset(stem(w) for w in surface(goal).split() if is_content(w))


def number_word(text: str) -> int | None:
    """A number written as a word: "a four" -> 4, "tres" -> 3."""
    for word in text.split():
        if word in ORDINALS and word not in {"una", "one"}:
            return ORDINALS[word]
    return None


def goal_number(text: str, count: int, leading: bool = False) -> int | None:
    """A bare reference to a goal by position: "2", "#2", "the second one", "la segunda";
    with ``leading``, also the number a longer answer starts with ("el 1 pana")."""
    text = strip_around(text)
    match = NUMBER_ONLY.match(text) or (NUMBER_LEADING.match(text) if leading else None)
    if match:
        number = int(match["n"])
        return number if 1 <= number <= count else None
    match = ORDINAL.match(text)
    if match and match["word"] in LAST:
        return count or None
    if match and match["word"] in ORDINALS:
        number = ORDINALS[match["word"]]
        return number if 1 <= number <= count else None
    return None


LAST = {"last", "ultimo", "ultima"}


def text_stems(text: str) -> set[str]:
    return {stem(w) for w in text.split() if is_content(w)}


def goals_named(text: str, goals: tuple[str, ...]) -> list[int]:
    """The positions (1-based) of every goal whose words the text uses."""
    stems = text_stems(text)
    return [i for i, goal in enumerate(goals, start=1) if content_stems(goal) & stems]


def goal_named(text: str, goals: tuple[str, ...]) -> int | None:
    """The position (1-based) of the one goal whose words the text uses, else None."""
    hits = goals_named(text, goals)
    return hits[0] if len(hits) == 1 else None
