"""Step 5 of reading a text: commands and the natural answers that mean them.

Each rule is a regular expression over the reader form (sections of
``commands.txt``), tried in an order that lets the more specific reading win
("done with my break" is RESUME, not DONE; "pause 2 weeks" is PAUSE, not a
mood). Numbers are read here too: the goal a check-in answer names, the mood
score, the days of a pause. ``PAUSE 2`` is read as two days whatever the
number of goals: with several goals the conversation asks which was meant.

Check-in answers are read with care, because a wrong cheerful reply is worse
than leaving a text for the specialist:

- A negation denies the check-in only when its scope, the few words after it
  up to the next "but" or "and", is about doing something: "didn't go" and
  "haven't called my sponsor" are NOT YET, "can't stop smiling", "can't wait
  for Friday" and "didn't stop at the liquor store" are not.
- In "X but Y", Y is the answer ("that walk killed me but I did it").
- "No weed today" restates a goal of not doing something: it is DONE.
- A past-tense verb counts as DONE only when it is about one of the peer's
  goals; in a long text it must stand right before the goal's words
  ("went to my meeting"), and a long text with grief or distress in it goes to
  the specialist even if it mentions a goal.
- "Done" said about the person ("I'm done for the day", "done trying") is not
  a check-in answer, and a yes that opens the text counts only when nothing
  after it takes it back ("ya no quiero..." is not a yes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

from service.understanding.clock import MINUTE_COUNT, find_clock, in_digits
from service.understanding.goals import (
    goal_named,
    goal_number,
    goals_named,
    number_word,
    text_stems,
)
from service.understanding.normalise import surface
from service.understanding.patterns import alternation, sections

MAX_PAUSE_DAYS = 90
DEFAULT_PAUSE_DAYS = 7
LONG_TEXT = 12  # tokens: a text this long needs more than a passing mention to be an answer
SHORT_TEXT = 5  # tokens: a text this short is an answer if it has an answer word at all
SCOPE = 4  # tokens after a negation that it can deny


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


@cache
def fillers() -> frozenset[str]:
    """The ``[filler]`` phrases: words around an answer that do not change it."""
    lines = sections(COMMANDS).get("filler", ())
    return frozenset(word.strip() for line in lines for word in line.split(",") if word.strip())


HELP_WORDS = {"help", "info", "ayuda", "informacion", "help info", "que es esto"}
HELP, GOALS, OPT_IN, RESUME = rx("help"), rx("goals"), rx("opt_in"), rx("resume")
FEWER, LATER, LATER_WORD, LATER_ONLY, CHANGE_TIME = (
    rx("fewer"),
    rx("later"),
    rx("later_word"),
    rx("later_only"),
    rx("change_time"),
)
CHANGE_TIME_VAGUE, UNWANTED_TIME = rx("change_time_vague"), rx("unwanted_time")
# A bare hour said to suit better ("9 is better"): a time, not a count.
PREFERRED_HOUR = re.compile(
    r"\b(1[0-2]|[1-9])(?= (is |would be |es |seria )?(better|best|mejor|works)\b)"
)
REST_TODAY = rx("rest_today")
PAUSE, REST, NOT_YET, DONE, PAST = rx("pause"), rx("rest"), rx("not_yet"), rx("done"), rx("past")
DONE_WEAK, DONE_STATE, AFFIRM, HEAVY = rx("done_weak"), rx("done_state"), rx("affirm"), rx("heavy")
NEGATION, STANCE, DOING, NO_START, FORGOT = (
    rx("negation"),
    rx("stance"),
    rx("doing"),
    rx("no_start"),
    rx("forgot"),
)
UNMET = rx("unmet")
MOOD, MOOD_WORD, UNITS, COUNT_DAY = rx("mood"), rx("mood_word"), rx("units"), rx("count_day")
MOOD_OUT_OF = rx("mood_out_of")
PAST_NOT_DOING, LATE, PARTIAL, KEPT = (
    rx("past_not_doing"),
    rx("late"),
    rx("partial"),
    rx("kept"),
)
CALLED_OFF = rx("called_off")
PUNCTUAL = re.compile(r"\b(on time|a tiempo|early|temprano|by \d|antes de|before)\b")
NUMBERED, NUMBER_FIRST, DURATION = rx("numbered"), rx("number_first"), rx("duration")
CONTRAST = re.compile(r"\b(but|pero)\b")  # "X but Y": Y is the point ("although" is not)
AUXILIARIES = re.compile(r"^((going to|gonna|even|really|actually|ever|quite|get to|manage to) )+")
CLAUSE_END = re.compile(r"\b(but|and|so|because|cause|cuz|tho|though|pero|porque|y)\b")
NO_WORDS = ("no", "n", "nop", "nel", "na")
NEGATED_WANT = re.compile(r"\b(not|no|never|nunca|ya no)\b( \w+){0,2} (want|like|need|quiero)\b")
COUNT_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "couple": 2, "couple of": 2, "few": 3, "un": 1, "una": 1,
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "unos": 3, "unas": 3,
    "par de": 2, "ocho": 8, "nueve": 9, "diez": 10, "eleven": 11, "twelve": 12, "once": 11,
    "doce": 12, "fourteen": 14, "catorce": 14, "fifteen": 15, "quince": 15, "twenty": 20,
    "veinte": 20, "thirty": 30, "treinta": 30,
}  # fmt: skip
MOOD_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
              "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5}  # fmt: skip


def tokens(text: str) -> list[str]:
    return text.split()


def is_short(text: str) -> bool:
    return len(tokens(text)) <= SHORT_TEXT


def is_long(text: str) -> bool:
    return len(tokens(text)) >= LONG_TEXT


def without_fillers(text: str) -> str:
    """The text with filler words and phrases taken out ("later pls, busy" -> "later")."""
    words = f" {text} "
    for phrase in sorted(fillers(), key=len, reverse=True):
        words = words.replace(f" {phrase} ", " ")
    return " ".join(words.split())


# Numbers -------------------------------------------------------------------


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
    elif unit.startswith("h"):
        count = -(-count // 24)  # hours, rounded up to days
    return max(1, min(count, MAX_PAUSE_DAYS))


def is_unit_after(text: str, end: int, bare: bool = False) -> bool:
    """Whether the word after position ``end`` makes the number a count ("2 hours").

    After a bare number ("1 day at a time") "day" counts too; after a mood word
    ("un 2, dia pesado") it starts the next sentence.
    """
    after = text[end:].strip()
    return UNITS.match(after) is not None or (bare and COUNT_DAY.match(after) is not None)


def mood(text: str) -> int | None:
    """A 1-5 mood score written with a digit or as a word, not followed by a unit."""
    for out_of in MOOD_OUT_OF.finditer(text):
        if not is_unit_after(text, out_of.end()):  # "4 out of 5", not "4 out of 5 days"
            return int(out_of["score"])
    for match in MOOD.finditer(text):
        group = "score" if match["score"] else "score3"
        if not is_unit_after(text, match.end(group), bare=group == "score3"):
            return int(match[group])
    match = MOOD_WORD.search(text)
    if match and not is_unit_after(text, match.end("word")):
        return MOOD_WORDS[match["word"]]
    return None


# A number closing a text after one of these is a goal, a time or a count: "until 5".
AFTER_WORD = re.compile(
    r"\b(goal|number|meta|no|at|until|till|til|by|before|after|around|from|to|since|of|on|in|for"
    r"|hasta|antes de|despues de|a las|las|desde|de)\s+\d$"
)


def edge_mood(text: str) -> int | None:
    """A score that opens the text ("4, slept good") or closes a short one ("ugh 2")."""
    words = tokens(text)
    if words[0] in MOOD_WORDS and len(words) == 1:
        return MOOD_WORDS[words[0]]
    first = re.match(r"^([1-5])\b", text)
    if first and len(words) > 1 and not is_unit_after(text, first.end(), bare=True):
        return int(first[1])
    last = re.search(r"\b([1-5])$", text)
    if last and len(words) <= SHORT_TEXT and not AFTER_WORD.search(text):
        return int(last[1])
    return None


def numbered(text: str, words: set[str], count: int) -> tuple[str, int] | None:
    """``DONE 2``, ``done #2``, ``listo 2``, ``2 done``: the word and the goal number.

    With the number first it must be one of the ``count`` goals: "5 🙌" is a mood.
    """
    match = NUMBERED.match(text)
    if match is None and (first := NUMBER_FIRST.match(text)) and int(first["n"]) <= count:
        match = first
    if match and match["word"] in words:
        return match["word"], int(match["n"])
    return None


KEYWORD_ANSWERS = {
    "done": {"done", "yes", "y", "did it", "i did it", "i did", "finished", "complete", "completed",
             "listo", "lista", "hecho", "si", "ya", "lo hice", "cumplido", "thumbsup", "did",
             "finished it", "all done", "yessir", "yes sir", "sip", "yh", "yea"},
    "not_yet": {"no", "n", "not yet", "missed", "not today", "did not", "i did not", "todavia no",
                "aun no", "no todavia", "no pude", "todavia", "thumbsdown", "nop", "nel", "none"},
    "rest": {"skip", "rest", "rest day", "saltar", "descanso", "dia de descanso"},
    "later": {"later", "snooze", "luego", "despues", "mas tarde"},
}  # fmt: skip


def numbered_answer(text: str, goals: tuple[str, ...]) -> Command | None:
    for intent, words in KEYWORD_ANSWERS.items():
        found = numbered(text, words, len(goals))
        if found:
            return Command(intent, 1.0, number=found[1])
    return None


# Check-in answers -----------------------------------------------------------


def scope_of(text: str, end: int) -> str:
    """The words a negation ending at ``end`` can deny: up to SCOPE, stopping at a clause break."""
    words = tokens(AUXILIARIES.sub("", text[end:].strip()))[:SCOPE]
    for i, word in enumerate(words):
        if CLAUSE_END.fullmatch(word):
            return " ".join(words[:i])
    return " ".join(words)


def about_goal(words: str, goals: tuple[str, ...]) -> bool:
    return bool(goals_named(words, goals))


def denies(text: str, goals: tuple[str, ...]) -> bool:
    """A negation whose scope is doing the check-in ("didn't go", "haven't called my sponsor")."""
    for match in NEGATION.finditer(text):
        scope = scope_of(text, match.end())
        if not scope:
            return True  # "nah haven't", "I didn't"
        if STANCE.match(scope) and not about_goal(scope.split()[0], goals):
            continue  # "can't stop smiling", "can't wait for Friday"
        if (
            DOING.match(scope)
            or about_goal(scope, goals)
            or re.search(r"\b(yet|today|hoy)\b", scope)
        ):
            return True
    return False


def says_no(text: str, goals: tuple[str, ...]) -> bool:
    """NO, NOT YET, "forgot my meds", "didn't go": the check-in did not happen."""
    first = tokens(text)[0]
    if first in NO_WORDS and not NO_START.match(text):
        return True
    if NOT_YET.search(text) or denies(text, goals):
        return True
    if (unmet := UNMET.search(text)) is not None:
        what = next(group for group in unmet.groupdict().values() if group)
        if DOING.match(what) or about_goal(what, goals):
            return True  # "too sick to walk today", "was going to go to group"
    forgot = FORGOT.search(text)
    return bool(forgot) and (is_short(text) or about_goal(text[forgot.end() :], goals))


NEGATED_WORDS = re.compile(r"\b(no|not|sin|without|zero|quit|avoid|stay off)\b (?P<what>.+)$")
NEGATED_PHRASE = re.compile(r"\b(no|not|sin|without|zero|never|did not)\b (?P<what>\w+( \w+){0,2})")


def avoided(goal: str) -> set[str]:
    """The stems a goal of not doing something avoids: "no smoking in the house" -> smok, house."""
    match = NEGATED_WORDS.search(goal.lower())
    return text_stems(match["what"]) if match else set()


def abstain_verdict(text: str, goals: tuple[str, ...]) -> Command | None:
    """For a goal of not doing X: "no X today" is DONE, "had X" is NOT YET."""
    abstaining = [i for i, goal in enumerate(goals, start=1) if avoided(goal)]
    if len(abstaining) == 1 and KEPT.search(text):
        return Command("done", 0.75, number=abstaining[0] if len(goals) > 1 else None)
    for position, goal in enumerate(goals, start=1):
        stems = avoided(goal)
        if not stems:
            continue
        number = position if len(goals) > 1 else None
        if any(stems & text_stems(m["what"]) for m in NEGATED_PHRASE.finditer(text)):
            return Command("done", 0.75, number=number)
        if any(PAST.fullmatch(w) and text_stems(w) & stems for w in tokens(text)):
            return Command("not_yet", 0.75, number=number)
    return None


def late_verdict(text: str, goals: tuple[str, ...]) -> Command | None:
    """Late, for a goal of being on time ("took my sub late"), is NOT YET for that goal."""
    if not LATE.search(text):
        return None
    punctual = [i for i, goal in enumerate(goals, start=1) if PUNCTUAL.search(surface(goal))]
    named = goals_named(text, goals)
    hits = [i for i in punctual if i in named] or (punctual if len(goals) == 1 else [])
    if len(hits) != 1:
        return None
    return Command("not_yet", 0.75, number=hits[0] if len(goals) > 1 else None)


def is_state_done(text: str) -> bool:
    """ "I'm done for the day", "done trying": "done" about the person, not the goal."""
    return bool(DONE_STATE.search(text)) or bool(re.fullmatch(r"(i am|im) done \w.*", text))


def opens_with_yes(text: str, goals: tuple[str, ...]) -> bool:
    """A yes that opens or closes the text and is not taken back by what follows."""
    match = AFFIRM.search(text)
    if match is None:
        return False
    rest = text[match.end() :].strip()
    if re.match(r"(no|not|but|pero|me|van|basta|quiero)\b", rest):
        return False  # "ya no quiero", "ya me di de baja", "yes but..."
    if len(without_fillers(rest).split()) <= (0 if match[0].strip() in ("si", "ya") else 2):
        return True
    # More after the yes must say it was done: "yes, I know" is not; "si" is also
    # "if" and "ya" "already".
    return bool(DONE.search(rest) or DONE_WEAK.search(rest) or past_about_goal(rest, goals))


def is_goal_preterite(word: str, goals: tuple[str, ...]) -> bool:
    """ "caminé", "comí": a goal's own Spanish verb (caminar, comer) in the first-person past."""
    if not word.endswith(("e", "i")):
        return False
    verbs = {w for goal in goals for w in surface(goal).split() if w.endswith(("ar", "er", "ir"))}
    return bool(text_stems(word) & text_stems(" ".join(verbs)))


THING_DONE = re.compile(
    r"\s*(with |to |for |at |a |con )?(my|the|a|an|mi|mis|el|la|los|las|al|del)"
    r" (?P<what>(\w+ ?){1,3})"
)


def names_something_else(text: str, end: int, goals: tuple[str, ...]) -> bool:
    """ "finished my community service", "fui al doctor": what was done is named, and it
    is no goal of theirs."""
    after = THING_DONE.match(text[end:])
    if after is None or not goals:
        return False
    return bool(text_stems(after["what"])) and not about_goal(after["what"], goals)


def near_goal(text: str, end: int, goals: tuple[str, ...]) -> bool:
    """Whether the goal's words are close to position ``end`` (anywhere in a short text)."""
    if not is_long(text):
        return is_short(text) or about_goal(text, goals)
    before, after = tokens(text[:end])[-5:], tokens(text[end:])[:4]
    return about_goal(" ".join(before + after), goals)


OTHER_SUBJECTS = {
    "he",
    "she",
    "they",
    "it",
    "someone",
    "somebody",
    "everyone",
    "nobody",
    "ella",
    "se",
}
SPANISH_PARTICIPLE = re.compile(r"\w*[ai]do|hecho|escrito|dicho|visto|puesto|vuelto")
DETERMINERS = {"the", "my", "his", "her", "their", "our", "your", "mi", "su", "el", "la"}


def has_other_subject(words: list[str], i: int) -> bool:
    """Whether the verb at ``i`` has someone else as its subject ("the dog ate"). Spanish
    "he" before a participle is "I have" ("he ido a terapia"), not "he"."""
    if i >= 1 and words[i - 1] in OTHER_SUBJECTS:
        return not (words[i - 1] == "he" and SPANISH_PARTICIPLE.fullmatch(words[i]))
    return i >= 2 and words[i - 2] in DETERMINERS


def past_about_goal(text: str, goals: tuple[str, ...]) -> bool:
    """A past-tense verb about a goal; in a long text, right before the goal's words."""
    if not goals_named(text, goals):
        return False
    words = tokens(text)
    for i, word in enumerate(words):
        if PAST_NOT_DOING.match(word) or not (
            PAST.fullmatch(word) or is_goal_preterite(word, goals)
        ):
            continue
        if has_other_subject(words, i):
            continue  # "the dog ate my journal", "my sister walked"
        window = words[i : i + 5] if is_long(text) else words
        if about_goal(" ".join(window), goals):
            return True
    return False


def done_word(text: str, pattern: re.Pattern[str], goals: tuple[str, ...], short: bool) -> bool:
    """A done word that is about a goal: close to its words in a long text, and not
    followed by something else that was done ("finished my community service")."""
    match = pattern.search(text)
    if match is None or names_something_else(text, match.end(), goals):
        return False
    if short and is_short(text):
        return True
    return match.start() < 12 or near_goal(text, match.end(), goals)


def says_done(text: str, goals: tuple[str, ...]) -> bool:
    """The check-in happened: said outright, with a yes, or as a past verb about a goal."""
    if PARTIAL.search(text) or CALLED_OFF.search(text):
        return False  # "made it halfway up", "group got cancelled": the specialist reads it
    if not is_state_done(text) and done_word(text, DONE, goals, short=True):
        return True
    if opens_with_yes(text, goals):
        return True
    if "thumbsup" in text and (len(without_fillers(text).split()) <= 3 or about_goal(text, goals)):
        return True
    weak = DONE_WEAK.search(text)
    if weak and not names_something_else(text, weak.end(), goals):
        return is_short(text) or near_goal(text, weak.end(), goals) or past_about_goal(text, goals)
    return past_about_goal(text, goals)


def verdict(text: str, goals: tuple[str, ...]) -> Command | None:
    """Done, not yet or rest for one clause, with the goal it names when it names one."""
    if not text:
        return None
    goal = goal_named(text, goals) if len(goals) > 1 else None
    if REST.search(text):
        return Command("rest", 0.85, number=goal)
    if (kept := abstain_verdict(text, goals) or late_verdict(text, goals)) is not None:
        return kept
    if says_no(text, goals):
        return Command("not_yet", 0.8, number=goal)
    if says_done(text, goals):
        return Command("done", 0.8, number=goal)
    return None


def check_in_answer(text: str, goals: tuple[str, ...]) -> Command | None:
    """The answer a text gives to a check-in; in "X but Y", Y decides.

    A long text with grief, distress or death in it is never a cheerful DONE:
    the specialist reads it.
    """
    found = None
    parts = CONTRAST.split(text)
    if len(parts) > 1 and (found := verdict(parts[-1].strip(), goals)) and found.number is None:
        # "IOP was hard today but i went": the goal may be named before the "but".
        found = replace(found, number=goal_named(text, goals) if len(goals) > 1 else None)
    found = found or verdict(text, goals)
    if found and found.intent == "done" and is_long(text) and HEAVY.search(text):
        return None
    return found


# Rules, in order ------------------------------------------------------------

Rule = Callable[[str, tuple[str, ...]], Command | None]


def help_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    if text in HELP_WORDS:
        return Command("help", 1.0)
    return Command("help", 0.8) if HELP.search(text) else None


def simple(intent: str, pattern: re.Pattern[str]) -> Rule:
    def rule(text: str, goals: tuple[str, ...]) -> Command | None:
        return Command(intent, 0.85) if pattern.search(text) else None

    return rule


def opt_in_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    """Wanting the texts back; never when the wanting is negated ("I don't want the texts")."""
    if OPT_IN.search(text) and not NEGATED_WANT.search(text):
        return Command("opt_in", 0.85)
    return None


TIME_SPAN = re.compile(
    r"\b(a las|a la|pa las|para las|at night|at|around|like|by|am|pm|a m|p m|oclock|noon"
    r"|midday|mediodia|noonish|(un )?cuarto para( las| la)?|a eso de( las)?"
    r"|in the (morning|evening|afternoon)|at night|tonight|this (evening|morning)"
    r"|de la (manana|tarde|noche)|y media|y cuarto|menos cuarto|half past|quarter (past|to)|half"
    rf"|({MINUTE_COUNT}) (past|after|to|til))\b"
    r"|\b\d{1,4}(:\d\d)?(am|pm)?\b"
)
STARTS_WITH_TIME = re.compile(
    rf"^(a las |at |around |half past |quarter |half |({MINUTE_COUNT}) (past|to) )?"
    r"(\d|noon|midday|mediodia)"
)


EXPLICIT_TIME = re.compile(
    r"\d:\d\d|\d(am|pm)\b|\b(am|pm|a m|p m|oclock|noon|midday|mediodia|in the (morning|afternoon"
    r"|evening)|at night|de la (manana|tarde|noche)|a las|half past|quarter)\b"
    r"|\bhalf \d{1,2}\b(?! (days?|weeks?|hours?))"
    rf"|\b({MINUTE_COUNT}) (past|after|to|til) \d"
)


def is_time_only(text: str) -> bool:
    """ "5pm pls", "10pm is better for me", "a las 6:30 am porfa": a time and fillers.

    The time must be unmistakable ("7pm", "7:30", "a las 7"): "1 tonight" is a mood.
    """
    text = in_digits(text)  # "ten thirty at night"
    if not EXPLICIT_TIME.search(text):
        return False
    rest = " ".join(TIME_SPAN.sub(" ", text).split())
    if not without_fillers(rest):
        return True
    # Opening with the time and asking for it: "10 in the morning please, i work nights".
    asks = set(rest.split()) & {"please", "pls", "porfa", "better", "instead", "mejor", "prefer"}
    reason = re.match(r"(after|before|when|once|despues|antes|cuando)\b", rest)
    return bool(STARTS_WITH_TIME.match(text)) and bool(asks or reason)


def time_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    """A new time for the check-ins; without a clock time, a request for one that the
    conversation answers by asking what time ("earlier pls", "mornings are bad")."""
    if LATER_ONLY.search(text):
        return None
    # "stop texting me at 6am, 9 is better": the time asked for, not the one refused.
    wanted = PREFERRED_HOUR.sub(r"at \1", UNWANTED_TIME.sub(" _ ", text))
    clock = find_clock(wanted) or find_clock(text)
    if clock is None:
        return Command("time", 0.7) if CHANGE_TIME_VAGUE.search(text) else None
    if CHANGE_TIME.search(text) or is_time_only(text):
        return Command("time", 0.85, time=clock)
    return None


def pause_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    if not PAUSE.search(text):
        return None
    return Command("pause", 0.85, number=pause_days(text))


def later_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    """ "Ask me again tonight", or a bare "later" with fillers; a NOT YET first stays one."""
    if tokens(text)[0] in NO_WORDS or NOT_YET.match(text):
        return None  # "nope not yet, later tonight" answers the check-in
    goal = goal_named(text, goals) if len(goals) > 1 else None  # "remind me about the walk later"
    if LATER.search(text):
        return Command("later", 0.85, number=goal)
    short = without_fillers(text)
    if LATER_WORD.search(short) and len(short.split()) <= 2:
        return Command("later", 0.85)
    if LATER_WORD.match(short) and len(short.split()) <= LATER_WITH_REASON:
        return Command("later", 0.8)  # "later pls, baby's nursing", "luego, ando ocupada"
    return None


LATER_WITH_REASON = 6


TWO_SCORES = re.compile(r"\b[0-9]+\b.*\b[0-9]+\b")


# A score written as a word at the start ("three, same as always") or hedged ("3ish"):
# read as its digit, so the same rules decide whether it is a mood or a count.
LEADING_SCORE = re.compile(
    rf"^({'|'.join(MOOD_WORDS)})\b(?! (secs?|seconds?|minutes?|moment|things?|veces|vez|momento"
    r"|segundo|more|of|day|days|week|weeks|time|times|thing)\b)"
)
HEDGED_SCORE = re.compile(r"\b([1-5])ish\b")


def score_digits(text: str) -> str:
    text = HEDGED_SCORE.sub(r"\1", text)
    return LEADING_SCORE.sub(lambda match: str(MOOD_WORDS[match[1]]), text)


def mood_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    if TWO_SCORES.fullmatch(text) and len(text.split()) <= 3:
        return None  # "3 4": two numbers and nothing to say which is the mood
    text = score_digits(text)
    score = mood(text) or edge_mood(text)
    if score is None and (word := number_word(text)) is not None and len(text.split()) <= 4:
        score = word if 1 <= word <= 5 and re.search(r"\b(a|an|like|un|una|mood)\b", text) else None
    return Command("mood", 0.85, number=score) if score else None


def done_rule(text: str, goals: tuple[str, ...]) -> Command | None:
    return numbered_answer(text, goals) or check_in_answer(text, goals)


RULES: tuple[Rule, ...] = (
    help_rule,
    simple("goals", GOALS),
    opt_in_rule,
    simple("resume", RESUME),
    simple("fewer", FEWER),
    time_rule,
    simple("rest", REST_TODAY),
    pause_rule,
    later_rule,
    mood_rule,
    done_rule,
)


# Mixed answers -------------------------------------------------------------

ANSWERS = {"done", "not_yet", "rest", "later"}
CLAUSE_BREAK = re.compile(r"\b(but|pero|tho|though|y|and)\b")


def is_mixed(clauses: list[str], goals: tuple[str, ...]) -> bool:
    """Whether a text answers differently for different goals ("walked but didnt call",
    "el 1 ya lo hice, el 2 mas tarde"): it stays free text for the specialist, since
    recording either half alone would misstate the other."""
    if len(goals) < 2:
        return False
    parts = [part.strip() for clause in clauses for part in CLAUSE_BREAK.split(clause)]
    parts = [part for part in parts if part]
    if len(parts) < 2:  # one clause: one answer, read once by the caller
        return False
    answers = []
    for part in parts:
        found = command(part, goals)
        if found is not None and found.intent in ANSWERS:
            goal = found.number or goal_number(part, len(goals), leading=True)
            answers.append((found.intent, goal or goal_named(part, goals)))
    done = {goal for intent, goal in answers if intent == "done" and goal is not None}
    undone = {goal for intent, goal in answers if intent != "done" and goal is not None}
    return bool(done and undone) and not done & undone


def command(text: str, goals: tuple[str, ...] = ()) -> Command | None:
    """The command a reader-form text gives, or None for free text."""
    if not text:
        return None
    for intent, words in KEYWORD_ANSWERS.items():
        if text in words:
            return Command(intent, 1.0)
    if (answer := numbered_answer(text, goals)) is not None:
        return answer
    for rule in RULES:
        found = rule(text, goals)
        if found is not None:
            return found
    return None


__all__ = ["Command", "command", "is_mixed", "pause_days"]
