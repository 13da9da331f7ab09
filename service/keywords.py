"""What a peer's text means: the keyword grammar, as pure functions.

``parse`` turns a raw SMS body into an :class:`Intent`. It ignores case,
accents, surrounding and repeated spaces and trailing punctuation, and knows
English and Spanish. The word lists that matter most for safety and the law
(crisis language, opt-out phrases) are data files in ``service/data/`` so they
can be reviewed and tested on their own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
MAX_PAUSE_DAYS = 90
DEFAULT_PAUSE_DAYS = 7

DONE_WORDS = {
    "done", "yes", "y", "yep", "yeah", "yup", "did it", "i did it", "i did", "finished", "complete",
    "completed", "listo", "lista", "hecho", "si", "ya", "lo hice", "cumplido",
}  # fmt: skip
NOT_YET_WORDS = {
    "no", "n", "not yet", "missed", "nope", "nah", "not today", "didnt", "i didnt",
    "todavia no", "aun no", "no todavia", "no pude", "todavia",
}  # fmt: skip
REST_WORDS = {"skip", "rest", "rest day", "saltar", "descanso", "dia de descanso"}
HELP_WORDS = {"help", "info", "ayuda", "informacion"}
OPT_IN_WORDS = {"start", "unstop", "subscribe", "empezar", "alta", "comenzar"}
RESUME_WORDS = {"resume", "unpause", "continue", "reanudar", "seguir", "continuar"}
LATER_WORDS = {"later", "snooze", "remind me later", "luego", "mas tarde", "despues"}
GOALS_WORDS = {"goals", "goal", "my goals", "metas", "mis metas", "objetivos"}
DONE_EMOJI = {"\U0001f44d", "\u2705", "\U0001f44c", "\U0001f4aa", "\U0001f64c", "\u2714", "\u2611"}
NOT_YET_EMOJI = {"\U0001f44e", "\u274c", "\u274e"}
PAUSE_WORDS = ("pause", "pausa", "pausar")
TIME_WORDS = ("time", "hora")
WEEK_UNITS = {"week", "weeks", "wk", "wks", "semana", "semanas"}
DAY_UNITS = {"day", "days", "d", "dia", "dias"}


@dataclass(frozen=True)
class Intent:
    kind: str  # opt_out | opt_in | help | crisis | done | not_yet | rest | mood | pause |
    # resume | later | time | goals | other
    number: int | None = None  # DONE 2 -> 2; mood score; PAUSE days
    text: str | None = None  # the time given to TIME


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalize(body: str) -> str:
    """Lower case, no accents or apostrophes, punctuation to spaces, spaces collapsed."""
    text = strip_accents((body or "").lower()).replace("'", "").replace("\u2019", "")
    text = re.sub(r"[^\w:\s]", " ", text)  # keep letters, digits and the colon of 7:30
    text = text.replace("_", " ")
    return re.sub(r"\s+", " ", text).strip(" :")


@cache
def phrases(name: str) -> frozenset[str]:
    """A data file's phrases, normalised the same way as inbound text."""
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return frozenset(normalize(line) for line in lines if line.strip() and not line.startswith("#"))


# Words around a stop keyword that do not change what it means: "stop please", "STOP STOP".
OPT_OUT_FILLER = {"please", "pls", "plz", "now", "thanks", "thank", "you", "por", "favor", "ya"}


def is_opt_out(text: str) -> bool:
    if text in phrases("opt_out_phrases.txt"):
        return True
    words = text.split()
    keywords = [word for word in words if word not in OPT_OUT_FILLER]
    return bool(keywords) and all(word in phrases("opt_out_phrases.txt") for word in keywords)


def mentions_crisis(text: str) -> bool:
    padded = f" {text} "
    return any(f" {phrase} " in padded for phrase in phrases("crisis_phrases.txt"))


def emoji_answer(body: str) -> str | None:
    symbols = {char for char in body if not char.isspace() and char not in "\ufe0f\u200d"}
    symbols = {s for s in symbols if unicodedata.category(s) != "Sk"}  # skin tones
    if symbols and symbols <= DONE_EMOJI:
        return "done"
    if symbols and symbols <= NOT_YET_EMOJI:
        return "not_yet"
    return None


def parse(body: str) -> Intent:
    """The intent of one inbound text; ``other`` when it is not a keyword."""
    text = normalize(body)
    if is_opt_out(text):
        return Intent("opt_out")
    if mentions_crisis(text):
        return Intent("crisis")
    emoji = emoji_answer(body or "")
    if emoji:
        return Intent(emoji)
    for words, kind in (
        (OPT_IN_WORDS, "opt_in"), (HELP_WORDS, "help"), (RESUME_WORDS, "resume"),
        (LATER_WORDS, "later"), (GOALS_WORDS, "goals"), (REST_WORDS, "rest"),
    ):  # fmt: skip
        if text in words:
            return Intent(kind)
    return check_in_answer(text) or pause_or_time(text) or Intent("other")


def check_in_answer(text: str) -> Intent | None:
    """DONE, DONE 2, NOT YET, NOT YET 2, SKIP 2, or a mood 1-5."""
    if re.fullmatch(r"[1-5]", text):
        return Intent("mood", number=int(text))
    match = re.fullmatch(r"(.+?) (\d{1,2})", text)
    word, number = (match.group(1), int(match.group(2))) if match else (text, None)
    for words, kind in ((DONE_WORDS, "done"), (NOT_YET_WORDS, "not_yet"), (REST_WORDS, "rest")):
        if word in words:
            return Intent(kind, number=number)
    return None


def pause_or_time(text: str) -> Intent | None:
    """PAUSE, PAUSE 3, PAUSE 2 WEEKS; TIME 7pm, TIME 19:30."""
    first, _, rest = text.partition(" ")
    if first in PAUSE_WORDS:
        days = pause_days(rest)
        return Intent("pause", number=days) if days is not None else None
    if first in TIME_WORDS and rest and is_clock(rest.replace(" ", "")):
        return Intent("time", text=rest.replace(" ", ""))
    return None  # "time for bed" is a message, not a new check-in time


def is_clock(value: str) -> bool:
    from service.recurrence import parse_times

    try:
        parse_times(value)
    except ValueError:
        return False
    return True


def pause_days(rest: str) -> int | None:
    """Days to pause for: 7 by default, at most 90; None when not understood."""
    if not rest:
        return DEFAULT_PAUSE_DAYS
    match = re.fullmatch(r"(\d{1,3}) ?([a-z]*)", rest)
    if not match:
        return None
    count, unit = int(match.group(1)), match.group(2)
    if unit in WEEK_UNITS:
        count *= 7
    elif unit and unit not in DAY_UNITS:
        return None
    return max(1, min(count, MAX_PAUSE_DAYS))
