"""Step 5 of reading a text: commands and the natural answers that mean them.

Each rule is a regular expression over the reader form, tried in an order
that lets the more specific reading win ("done with my break" is RESUME, not
DONE; "pause 2 weeks" is PAUSE, not a mood). Numbers are read here too: the
goal a check-in answer names, the mood score, the days of a pause.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from service.understanding.clock import find_clock
from service.understanding.goals import goal_named, number_word
from service.understanding.patterns import alternation

MAX_PAUSE_DAYS = 90
DEFAULT_PAUSE_DAYS = 7


@dataclass(frozen=True)
class Command:
    intent: str
    confidence: float
    number: int | None = None
    time: str | None = None


COMMANDS = "commands.txt"


def rx(section: str) -> re.Pattern[str]:
    """A section of ``commands.txt``: its lines as one alternation."""
    return alternation(COMMANDS, section)


HELP_WORDS = {"help", "info", "ayuda", "informacion", "help info", "que es esto"}
HELP, GOALS, OPT_IN, RESUME = rx("help"), rx("goals"), rx("opt_in"), rx("resume")
FEWER, LATER, LATER_ONLY, CHANGE_TIME = (
    rx("fewer"),
    rx("later"),
    rx("later_only"),
    rx("change_time"),
)
PAUSE, REST, NOT_YET, DONE, PAST = rx("pause"), rx("rest"), rx("not_yet"), rx("done"), rx("past")
MOOD, NUMBERED, DURATION = rx("mood"), rx("numbered"), rx("duration")
COUNT_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "couple": 2, "couple of": 2, "few": 3, "un": 1, "una": 1,
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "unos": 3, "unas": 3,
    "par de": 2,
}  # fmt: skip


def pause_days(text: str) -> int | None:
    """Days to pause for, at most 90; None when the text gives no length."""
    if re.search(r"\b(weekend|fin de semana)\b", text):
        return 2
    match = DURATION.search(text)
    if match is None:
        bare = re.search(r"\b(pause|pausa|pausar) (?P<n>\d{1,3})$", text)
        return min(max(int(bare["n"]), 1), MAX_PAUSE_DAYS) if bare else None
    count = int(match["n"]) if match["n"].isdigit() else COUNT_WORDS.get(match["n"], 1)
    unit = match["unit"]
    if unit.startswith(("w", "sem")):
        count *= 7
    elif unit.startswith(("mo", "mes")):
        count *= 30
    return max(1, min(count, MAX_PAUSE_DAYS))


def mood(text: str) -> int | None:
    match = MOOD.search(text)
    if match is None:
        return None
    return int(match["score"] or match["score2"] or match["score3"])


def numbered(text: str, words: set[str]) -> tuple[str, int] | None:
    """``DONE 2``, ``done #2``, ``listo 2``: the word and the goal number."""
    match = NUMBERED.match(text)
    if match and match["word"] in words:
        return match["word"], int(match["n"])
    return None


KEYWORD_ANSWERS = {
    "done": {"done", "yes", "y", "did it", "i did it", "i did", "finished", "complete", "completed",
             "listo", "lista", "hecho", "si", "ya", "lo hice", "cumplido", "thumbsup"},
    "not_yet": {"no", "n", "not yet", "missed", "not today", "did not", "i did not", "todavia no",
                "aun no", "no todavia", "no pude", "todavia", "thumbsdown"},
    "rest": {"skip", "rest", "rest day", "saltar", "descanso", "dia de descanso"},
    "later": {"later", "snooze", "luego", "despues", "mas tarde"},
}  # fmt: skip


def numbered_answer(text: str) -> Command | None:
    for intent, words in KEYWORD_ANSWERS.items():
        found = numbered(text, words)
        if found:
            return Command(intent, 1.0, number=found[1])
    return None


def check_in_answer(text: str, goals: tuple[str, ...]) -> Command | None:
    """Done, not yet or rest, with the goal it names when it names one."""
    goal = goal_named(text, goals) if len(goals) > 1 else None
    if REST.search(text):
        return Command("rest", 0.85, number=goal)
    negative = NOT_YET.search(text)
    positive = DONE.search(text) or (goal_named(text, goals) and PAST.search(text))
    if negative and not re.search(r"\b(not|no|did not) (only|just)\b", text):
        return Command("not_yet", 0.8, number=goal)
    if positive:
        return Command("done", 0.8, number=goal)
    return None


Rule = Callable[[str, tuple[str, ...]], Command | None]


def help_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    if text in HELP_WORDS:
        return Command("help", 1.0)
    return Command("help", 0.8) if HELP.search(text) else None


def simple(intent: str, pattern: re.Pattern[str]) -> Rule:
    def rule(text: str, goals: tuple[str, ...]) -> Command | None:
        return Command(intent, 0.85) if pattern.search(text) else None

    return rule


def time_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    clock = find_clock(text)
    if clock and CHANGE_TIME.search(text) and not LATER_ONLY.search(text):
        return Command("time", 0.85, time=clock)
    return None


def pause_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    if not PAUSE.search(text) or re.search(r"\b(my|the|a) break (at|is|was)\b", text):
        return None
    return Command("pause", 0.85, number=pause_days(text))


def mood_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    score = mood(text)
    if score is None and (word := number_word(text)) is not None and len(text.split()) <= 4:
        score = word if 1 <= word <= 5 and re.search(r"\b(a|an|like|un|una|mood)\b", text) else None
    return Command("mood", 0.85, number=score) if score else None


def done_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    return numbered_answer(text) or check_in_answer(text, goals)


RULES: tuple[Rule, ...] = (
    help_rule,
    simple("goals", GOALS),
    simple("opt_in", OPT_IN),
    simple("resume", RESUME),
    simple("fewer", FEWER),
    time_rule,
    pause_rule,
    simple("later", LATER),
    mood_rule,
    done_rule,
)


def command(text: str, goals: tuple[str, ...] = ()) -> Command | None:
    """The command a reader-form text gives, or None for free text."""
    if not text:
        return None
    for intent, words in KEYWORD_ANSWERS.items():
        if text in words:
            return Command(intent, 1.0)
    if (answer := numbered_answer(text)) is not None:
        return answer
    for rule in RULES:
        found = rule(text, goals)
        if found is not None:
            return found
    return None
