"""Step 1 of reading a text: the same words, whatever the spelling.

``normalise`` lowers case, removes accents and apostrophes, turns emoji that
carry meaning into words (a thumbs-up is "done", a pill is "pills"), maps any
Unicode digit to its ASCII one, collapses letters repeated for emphasis
("stoppp", "pleaaase"), expands common text-speak ("wanna", "pls", "xq") and
corrects misspellings of the words that matter ("suicidle", "unsubscibe")
with ``rapidfuzz`` against the reader's own vocabulary. The result is a
string of space-separated lower-case ASCII tokens; the patterns of the later
steps are written against that form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA, DamerauLevenshtein, Levenshtein

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "understanding"

# Emoji that mean something to the reader, as the words they stand for.
EMOJI_WORDS = {
    "\U0001f44d": " thumbsup ", "\u2705": " thumbsup ", "\U0001f44c": " thumbsup ",
    "\U0001f4aa": " thumbsup ", "\U0001f64c": " thumbsup ", "\u2714": " thumbsup ",
    "\u2611": " thumbsup ", "\U0001f3c6": " thumbsup ", "\U0001f973": " thumbsup ",
    "\U0001f333": " tree ",
    "\U0001f44e": " thumbsdown ", "\u274c": " thumbsdown ", "\u274e": " thumbsdown ",
    "\U0001f52b": " gun ", "\U0001f48a": " pills ", "\U0001faa2": " rope ",
    "\U0001f52a": " knife ", "\u26b0": " coffin ", "\U0001faa6": " grave ",
    "\U0001f6d1": " stopsign ", "\u270b": " stophand ", "\U0001f6ab": " nosign ",
    "\U0001f309": " bridge ", "\U0001fa78": " blood ", "\u2b07": " down ",
    "\U0001f4f1": " phone ",
}  # fmt: skip
# Characters that change how a word reads but are not letters: kept as separators.
APOSTROPHES = "'\u2019\u2018`\u00b4"
REPEATS = re.compile(r"([a-z])\1{2,}")
DOUBLES = re.compile(r"([a-z])\1")
# A word spelt out letter by letter, "s u i c i d e" or "s-u-i-c-i-d-e": one word.
SPELLED = re.compile(r"\b[a-z](?: [a-z]){3,}\b")


@dataclass(frozen=True)
class Normalised:
    text: str  # space-separated tokens
    raw: str  # the original, for the few checks that need punctuation

    @property
    def tokens(self) -> list[str]:
        return self.text.split()


def ascii_digits(text: str) -> str:
    """Every Unicode decimal digit (Arabic-Indic, full-width...) as its ASCII digit."""
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char
        for char in text
    )


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words_for_emoji(text: str) -> str:
    return "".join(EMOJI_WORDS.get(char, char) for char in text)


# Times written "7.30pm", "19h30", "17hs", "18h": the hour and minutes of a clock. A
# dot needs two minute digits ("2.5" stays a count), an "h" alone an hour past noon
# ("3h" may be three hours).
CLOCK_MARKS = re.compile(
    r"\b(?P<hour>[01]?\d|2[0-3])(?:\.|h)(?P<minute>[0-5]\d)(?![\d.])"
    r"|\b(?P<hour2>1[3-9]|2[0-3]) ?(?:h|hs|hrs)\b"
)


def clock_mark(match: re.Match[str]) -> str:
    if match["hour2"]:
        return f"{match['hour2']}\x0100"
    return f"{match['hour']}\x01{match['minute']}"


def surface(body: str) -> str:
    """Lower-case ASCII words and digits; ``7:30`` keeps its colon."""
    text = ascii_digits(words_for_emoji((body or "").replace("\x00", "")))
    text = strip_accents(unicodedata.normalize("NFKC", text).lower())
    for mark in APOSTROPHES:
        text = text.replace(mark, "")
    text = re.sub(r"(\d)\s*/\s*5\b", r"\1 out of 5", text)  # a mood written 4/5
    text = re.sub(r"\bw\s*/\s*o\b", " without ", text)  # "better w/o me"
    text = re.sub(r"(?<=\d):(?=\d)", "\x01", text)  # protect the colon of a time
    text = CLOCK_MARKS.sub(clock_mark, text)
    text = re.sub(r"(\d)\s*%", r"\1 percent ", text)  # "2%" is a count, never a mood
    text = re.sub(r"[^a-z0-9\x01]+", " ", text).replace("\x01", ":")
    return SPELLED.sub(lambda letters: letters[0].replace(" ", ""), " ".join(text.split()))


@cache
def word_list(name: str) -> dict[str, str]:
    """A data file of ``word = replacement`` lines (or a bare word: itself)."""
    entries: dict[str, str] = {}
    for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            word, _, replacement = line.partition("=")
            entries[surface(word)] = surface(replacement) if replacement else surface(word)
    return entries


def vocabulary() -> dict[str, str]:
    return word_list("vocabulary.txt")


def textspeak() -> dict[str, str]:
    return word_list("textspeak.txt")


@cache
def fuzzy_targets() -> tuple[str, ...]:
    """Words long enough to be corrected safely when misspelt."""
    return tuple(word for word in vocabulary() if len(word) >= 5)


def collapse_repeats(token: str) -> str:
    """``stoppp`` -> ``stop``, ``pleeease`` -> ``please`` when that is a known word."""
    if not REPEATS.search(token):
        return token
    doubled = REPEATS.sub(r"\1\1", token)
    single = DOUBLES.sub(r"\1", doubled)
    known = vocabulary()
    for candidate in (doubled, single):
        if candidate in known or candidate in textspeak():
            return candidate
    return single


@cache
def correct(token: str) -> str:
    """One token in its reader form: text-speak expanded, misspellings corrected."""
    token = collapse_repeats(token)
    if token in textspeak():
        return textspeak()[token]
    if token in vocabulary() or len(token) < 5 or not token.isalpha():
        return token
    if token.endswith("s") and token[:-1] in vocabulary():  # a plural of a known word
        return token
    match = process.extractOne(
        token, fuzzy_targets(), scorer=DamerauLevenshtein.normalized_similarity
    )
    if match and match[1] >= similarity_needed(token) and is_slip(token, match[0]):
        return vocabulary()[match[0]]
    return token


def similarity_needed(token: str) -> float:
    """Short words need to be closer: one slip in five letters, two in eight or more."""
    return 0.8 if len(token) < 8 else 0.75


def is_slip(token: str, target: str) -> bool:
    """Whether ``token`` reads as a typing slip of ``target``, not another word.

    A letter left out, doubled or swapped ("sucidal", "stiop", "pasue") is a
    slip. One letter *replaced* by another mostly makes a different real word
    ("dying" and "doing", "noise" and "noose", "razon" and "razor"), so in a
    word under eight letters it is not corrected, and a longer word may have
    at most one. A word under ten letters may have one slip, a longer one
    two ("escribir" is not "escribirme"). Same first letter always.
    """
    if token[0] != target[0]:
        return False
    distance = OSA.distance(token, target)
    if distance > (1 if len(token) < 10 else 2):
        return False
    if distance == 1 and sorted(token) == sorted(target):
        return True  # two neighbouring letters swapped
    replaced = sum(op.tag == "replace" for op in Levenshtein.editops(token, target))
    return replaced == 0 if len(token) < 8 else replaced <= 1


# Text-speak that depends on the words around it: "2" is "to" only after a
# verb that takes "to" and before a word that is not a count ("want 2 die",
# but "need 2 days"); "boy" is the Spanish "voy" only before "a".
IN_CONTEXT = (
    (
        re.compile(
            r"\b(want|going|need|wish|trying|try|ready|about|how|afraid|scared|tired|used|able)"
            r" 2 (?!(days?|weeks?|months?|hours?|goals?|texts?|times?|am|pm|more|of)\b)(?=[a-z]{2})"
        ),
        r"\1 to ",
    ),
    (re.compile(r"(^|\b(me|no|ya|yo|te|se|lo|la|le) )boy a\b"), r"\1voy a"),
)


def normalise(body: str) -> Normalised:
    """The reader form of a text (see the module docstring)."""
    words = [correct(token) for token in surface(body[:2000]).split()]
    text = " ".join(" ".join(words).split())
    for pattern, replacement in IN_CONTEXT:
        text = pattern.sub(replacement, text)
    return Normalised(text, body or "")
