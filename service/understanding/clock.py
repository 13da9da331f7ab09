"""Times of day as peers write them: "7pm", "6:30", "1430", "a las 7 de la tarde".

A time without am or pm is read as the one inside the allowed hours: nobody
asks for a check-in at 6:30 in the morning when 06:30 is outside the window
and 18:30 is not, so "6:30" is 18:30 and "9" is 09:00.
"""

from __future__ import annotations

import re

CLOCK = re.compile(
    r"\b(?P<hour>[01]?\d|2[0-3])(?::(?P<minute>[0-5]\d))?(?P<hhmm>[0-5]\d)?"
    r"(?: ?(?P<half>am|pm|a m|p m|in the morning|in the evening|in the afternoon|at night"
    r"|de la manana|de la tarde|de la noche|tonight|this evening|this morning))?\b"
)
WORD_TIMES = {"noon": 12, "midday": 12, "mediodia": 12}
EVENING = ("pm", "p m", "evening", "afternoon", "night", "tarde", "noche", "tonight")
MORNING = ("am", "a m", "morning", "manana")
FIRST_ALLOWED_HOUR = 8


def to_24h(hour: int, minute: int, half: str | None) -> tuple[int, int] | None:
    if half and any(word in half for word in EVENING):
        return (hour + 12 if hour < 12 else hour), minute
    if half and any(word in half for word in MORNING):
        return (0 if hour == 12 else hour), minute
    if hour < FIRST_ALLOWED_HOUR:  # 1-7 without am/pm: the afternoon or evening
        return hour + 12, minute
    return hour, minute


def find_clock(text: str) -> str | None:
    """The first time of day in a reader-form text, as ``HH:MM``; None if there is none."""
    for word, hour in WORD_TIMES.items():
        if re.search(rf"\b{word}\b", text):
            return f"{hour:02d}:00"
    for match in CLOCK.finditer(text):
        hour, minute = int(match["hour"]), int(match["minute"] or match["hhmm"] or 0)
        if match["hhmm"] and len(match["hour"]) < 2:
            continue  # "730" is a count, not a time; "1930" is a time
        if not (match["minute"] or match["hhmm"] or match["half"]):
            if not re.search(rf"\b(at|a las|a la|to|for|around|by|@)\s+{match['hour']}\b", text):
                continue  # a bare number is a count ("2 weeks"), not a time
        converted = to_24h(hour, minute, match["half"])
        if converted and converted[0] < 24:
            return f"{converted[0]:02d}:{converted[1]:02d}"
    return None
