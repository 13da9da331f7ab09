"""Times of day as peers write them: "7pm", "6:30", "1430", "half past 6",
"a las 7 de la tarde", "a las 8 menos cuarto".

The rule for a time without am or pm: it is read as the one inside the
allowed hours (08:00-20:00, see "Quiet hours" in DESIGN.md). Nobody asks for
a check-in at a time we may not send, so "6:30" is 18:30 (06:30 is outside the
window, 18:30 is inside) and "9" is 09:00 (21:00 is outside). Hours 1-7 are
therefore the afternoon or evening, 8-12 are as written. A peer who does mean
the early morning says so ("6:30am", "6 in the morning", or a 24-hour "06:30"
with its leading zero); that time is read
as written and the conversation refuses it with the allowed hours.

A part of the day written anywhere in the text ("in the evening around 7",
"at 7 tonight") sets am or pm for the time.
"""

from __future__ import annotations

import re

CLOCK = re.compile(
    r"\b(?P<hour>[01]?\d|2[0-3])(?::(?P<minute>[0-5]\d))?(?P<hhmm>[0-5]\d)?"
    r"(?: ?(?P<minutes>y media|y cuarto|menos cuarto|y (?P<mins>[0-5]?\d)))?"
    r"(?: ?(?P<half>am|pm|a m|p m|oclock|o clock|in the morning|in the evening|in the afternoon"
    r"|at night|de la manana|de la tarde|de la noche|tonight|this evening|this morning))?\b"
)
# "half past 6", "quarter to 8", "twenty to 6", British "half 6" (6:30): the words
# before the hour (minute words are digits by then, but for "twenty").
COUNTED = {"5": 5, "10": 10, "20": 20, "25": 25, "twenty": 20, "twenty 5": 25}
# The minutes counted before an hour ("twenty to 6"), as one alternation.
MINUTE_COUNT = "|".join(sorted(COUNTED, key=len, reverse=True))
BEFORE_HOUR = re.compile(
    r"\b(?P<words>half past|quarter past|quarter to|quarter til|cuarto para|half"
    rf"|(?P<count>{MINUTE_COUNT}) (?P<way>past|after|to|til))"
    r" (las |la )?(?P<hour>1[0-2]|[1-9])\b(?!:)"
)
WORD_TIMES = {"noon": 12, "midday": 12, "mediodia": 12}
EVENING = ("pm", "p m", "evening", "afternoon", "night", "tarde", "noche", "tonight", "bed",
           "dormir", "acostarme")  # fmt: skip
MORNING = ("am", "a m", "morning", "manana")
DAY_PART = re.compile(
    r"\b(in the (morning|evening|afternoon)|at night|tonight|this (evening|morning|afternoon)"
    r"|de la (manana|tarde|noche)|en la (manana|tarde|noche)|por la (manana|tarde|noche)"
    r"|before bed|at bedtime|antes de dormir|antes de acostarme)\b"
)
FIRST_ALLOWED_HOUR = 8
# A bare number is a time only after one of these ("at 7", "a las 7"); else it is a count.
TIME_WORDS = (
    r"(at|a las|a la|las|to|for|around|by|@|like|about|til|till|until"
    r"|half past|quarter past|quarter to)"
)
# Hours and minutes in words ("seven thirty pm", "a las ocho"), read as digits.
UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
ENGLISH_HOURS = {word: n for n, word in enumerate([*UNITS, *TEENS[:3]], 1)}  # one to twelve
SPANISH_HOURS = {word: n for n, word in enumerate(
    ["una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once",
     "doce"], 1)}  # fmt: skip
MINUTE_WORDS = {
    **{f"{oh} {unit}": n for n, unit in enumerate(UNITS, 1) for oh in ("oh", "o")},
    **{word: n for n, word in enumerate(TEENS, 10)},
    **{
        f"{tens} {unit}": value + n
        for tens, value in TENS.items()
        for n, unit in enumerate(UNITS, 1)
    },
    **TENS,
}
SPOKEN_TIME = re.compile(
    rf"\b(?P<hour>{'|'.join(ENGLISH_HOURS)})"
    rf"(?: (?P<minute>{'|'.join(sorted(MINUTE_WORDS, key=len, reverse=True))}))?\b"
    rf"|\b(?P<las>a las|las|a la) (?P<es>{'|'.join(SPANISH_HOURS)})\b"
)
MINUTES = {"y media": 30, "y cuarto": 15, "menos cuarto": -15, "half past": 30, "half": 30,
           "quarter past": 15, "quarter to": -15, "quarter til": -15,
           "cuarto para": -15}  # fmt: skip


def to_24h(
    hour: int, minute: int, half: str | None, leading_zero: bool = False
) -> tuple[int, int] | None:
    """The hour on a 24-hour clock; without am/pm, the one inside the allowed hours,
    unless the hour was written with its leading zero ("07:30", "0600": as written)."""
    if half and any(word in half for word in EVENING):
        return (hour + 12 if hour < 12 else hour), minute
    if half and any(word in half for word in MORNING):
        return (0 if hour == 12 else hour), minute
    if hour < FIRST_ALLOWED_HOUR and not leading_zero:  # 1-7: the afternoon or evening
        return hour + 12, minute
    return hour, minute


def day_part(text: str, near: int = 0) -> str | None:
    """ "in the evening", "de la tarde"... written anywhere in the text; of several, the
    one nearest the time at ``near`` ("paren los de la mañana, mejor en la tarde a las 5")."""
    found = list(DAY_PART.finditer(text))
    if not found:
        return None
    return min(found, key=lambda match: abs(match.start() - near))[0]


def with_minutes(hour: int, minute: int) -> tuple[int, int]:
    """ "8 menos cuarto" is 7:45, "twenty to 6" 5:40: a negative minute borrows from the
    hour."""
    if minute < 0:
        return (hour - 1) % 24, 60 + minute
    return hour, minute


def words_before_hour(text: str) -> str | None:
    match = BEFORE_HOUR.search(text)
    if match is None:
        return None
    if match["count"]:
        counted = COUNTED[match["count"]]
        minutes = counted if match["way"] in ("past", "after") else -counted
    else:
        minutes = MINUTES[match["words"]]
    hour, minute = with_minutes(int(match["hour"]), minutes)
    converted = to_24h(hour, minute, day_part(text, match.start()))
    return f"{converted[0]:02d}:{converted[1]:02d}" if converted else None


def is_count(match: re.Match[str], text: str) -> bool:
    """ "2 weeks", "730" are counts; "at 7", "7:30", "7pm", "1930" are times."""
    if match["hhmm"] and len(match["hour"]) < 2 and not match["half"]:
        return True  # "730" is a count, not a time; "1930" and "830am" are times
    if match["minute"] or match["hhmm"] or match["half"] or match["minutes"]:
        return False
    return not re.search(rf"\b{TIME_WORDS}\s+{match['hour']}\b", text)


def in_digits(text: str) -> str:
    """ "seven thirty pm" is "7:30 pm", "a las ocho" is "a las 8": words the clock reads."""

    def digits(match: re.Match[str]) -> str:
        if match["es"]:
            return f"{match['las']} {SPANISH_HOURS[match['es']]}"
        hour = ENGLISH_HOURS[match["hour"]]
        return f"{hour}:{MINUTE_WORDS[match['minute']]:02d}" if match["minute"] else str(hour)

    return SPOKEN_TIME.sub(digits, text)


def find_clock(text: str) -> str | None:
    """The first time of day in a reader-form text, as ``HH:MM``; None if there is none."""
    text = re.sub(r"\b(\d{1,2}(?::\d\d)?)ish\b", r"\1", in_digits(text))  # "1ish"
    for word, hour in WORD_TIMES.items():
        if re.search(rf"\b{word}(ish)?\b", text):  # "noonish"
            return f"{hour:02d}:00"
    if (spoken := words_before_hour(text)) is not None:
        return spoken
    for match in CLOCK.finditer(text):
        if is_count(match, text):
            continue
        hour = int(match["hour"])
        minute = int(match["minute"] or match["hhmm"] or match["mins"] or 0)
        if match["minutes"] in MINUTES:
            hour, minute = with_minutes(hour, MINUTES[match["minutes"]])
        leading_zero = len(match["hour"]) == 2 and match["hour"].startswith("0")
        converted = to_24h(
            hour, minute, match["half"] or day_part(text, match.start()), leading_zero
        )
        if converted and converted[0] < 24:
            return f"{converted[0]:02d}:{converted[1]:02d}"
    return None
