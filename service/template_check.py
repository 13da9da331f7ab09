"""The check every message template must pass; run by the test suite.

Each template is rendered in every branch with the longest realistic values
and must be GSM-7 only, fit its segment budget (1 for nudges, 2 otherwise),
use only placeholders its kind provides, keep discretion, and (for the
welcome) carry the words carriers require. Both languages must offer the same
kinds. Spanish must not use a word whose meaning GSM-7 loses with its accent
(``service/data/es_ambiguous_unaccented.txt``). Macro files (``<lang>/_macros/``)
are checked through every template that imports them: crisis texts are
rendered with every line in the reviewed file and the longest override a
program may set, schedules with every shape of days and the most times.
``check_templates`` returns the problems found; an empty list passes.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import meta

from service.crisis_lines import CrisisLine, lines_on_file
from service.discretion import discretion_problems
from service.gsm7 import segment_count
from service.messages import TEMPLATES_DIR, environment, render_template
from service.recurrence import schedule_shape
from service.settings import MAX_CRISIS_LINE_NAME

LANGUAGES = ("en", "es")
NUDGE_KINDS = {"checkin", "encouragement"}
ONE_SEGMENT, TWO_SEGMENTS = 1, 2
LONG_NAME = "Maximiliana-Josefina"  # 20 characters
LONG_GOAL = "walk the dog around the park after lunch"  # 40 characters
LONG_PROGRAM = "Northside Wellness Network"
LONG_STRENGTHS = "I keep going for my two kids every day"  # the longest quoted (see messages.py)
WHEN = datetime(2026, 12, 30, 19, 45, tzinfo=UTC)
# Every shape of days, with the most times a day the daily cap allows (3).
SCHEDULES = [
    schedule_shape(days, times)
    for days, times in (
        ("mon,wed,fri", "09:00,13:30,18:30"),
        ("mon,tue,wed,thu,fri,sat", "09:00,13:30,18:30"),
        ("tue,thu", "09:00,18:30"),
        ("sat", "10:00"),
        ("daily", "09:00"),
        ("weekdays", "18:30,19:45"),
        ("weekends", "10:00"),
        ("1x-week", "12:00"),
        ("2x-week", "12:00"),
        ("3x-week", "12:00,19:45"),
    )
]
# Three goals (the most a GOALS reply has room for), each checked in on once a day at
# most on its own (the daily cap is 3 texts); one goal with the longest schedule.
GOAL_LISTS = [
    [{"number": n, "text": LONG_GOAL, "schedules": [shape]} for n in (1, 2, 3)]
    for shape in (
        schedule_shape("mon,wed,fri", "18:30"),
        schedule_shape("3x-week", "12:00"),
        schedule_shape("weekdays", "18:30"),
        schedule_shape("tue,thu", "18:30"),
    )
] + [
    [{"number": 1, "text": LONG_GOAL, "schedules": SCHEDULES[:2]}],
    [{"number": 1, "text": LONG_GOAL, "schedules": []}],
]
LONGEST_NUMBER = "+1 800 555 0123"  # 16 characters, the most CRISIS_LINE_* may have
PROGRAM_LINE = CrisisLine(
    country="US",
    name="N" * MAX_CRISIS_LINE_NAME,
    call=LONGEST_NUMBER,
    text=LONGEST_NUMBER.replace("3", "4"),
    text_word="W" * 10,
    emergency=LONGEST_NUMBER,
)


def crisis_lines() -> list[CrisisLine]:
    """Every line on file (one per distinct wording), the longest override, and none."""
    on_file = {replace(line, country="") for line in lines_on_file().values()}
    return [*sorted(on_file, key=repr), PROGRAM_LINE, CrisisLine(country="ZZ")]


# Every placeholder a template may use, with values for each branch it may take.
VARIABLES: dict[str, list[Any]] = {
    "name": [LONG_NAME],
    "program_name": [LONG_PROGRAM],
    "specialist_name": [LONG_NAME],
    "goal": [LONG_GOAL],
    "strengths": [LONG_STRENGTHS, ""],
    "reasons": [LONG_STRENGTHS, ""],
    "schedule": SCHEDULES,
    "days": [365, None],
    "month_total": [31],
    "done_days": [7, 0],
    "total_days": [7],
    "mood": [1, 5],
    "until": [WHEN],
    "at": [WHEN],
    "already": [True, False],
    "changed": [True, False],
    "time": ["19:30"],
    "start": ["08:00"],
    "end": ["20:00"],
    "goals": GOAL_LISTS,
    "crisis": crisis_lines(),
    "intent": ["pause", "rest", "later"],
    "number": [12],
    # The crisis reply: a person was told, or when the specialist will see it.
    "told": [True, False],
    "seen_at": [WHEN, None],
    # Staff texts (alerts): never the peer's words or number.
    "peer_name": [LONG_NAME],
    "link": ["https://dashboard.northside-wellness.example.org/peers/2147483647"],
    "code": ["4821", ""],
    "taker": [f"{LONG_NAME} {LONG_NAME}"],
    "minutes": [1440],
    "alerts": [[{"code": "4821", "peer_name": LONG_NAME}] * 3],
    "counts": [[{"number": 120, "label": "little progress"}] * 7],
}
# Texts only staff receive are English only; every kind a peer can get exists in both.
STAFF_PREFIX = "staff_"
WELCOME_WORDS = {
    "en": ("STOP", "HELP", "rates may apply"),
    "es": ("STOP", "AYUDA", "tarifas"),
}


def kinds(directory: Path, language: str, staff: bool = True) -> set[str]:
    """Message kinds (folders) in a language; ``_macros`` holds shared wording, not a kind.
    ``staff=False``: only the kinds a peer can receive."""
    folder = directory / language
    if not folder.is_dir():
        return set()
    found = {p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_")}
    return found if staff else {kind for kind in found if not kind.startswith(STAFF_PREFIX)}


AMBIGUOUS_FILE = Path(__file__).resolve().parent / "data" / "es_ambiguous_unaccented.txt"


@lru_cache(maxsize=1)
def ambiguous_spanish() -> dict[str, frozenset[str]]:
    """Unaccented Spanish forms to avoid, each with the words it may stand before."""
    forms = {}
    for line in AMBIGUOUS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        entry, _, allowed = line.partition("|")
        forms[entry.split()[0]] = frozenset(allowed.split())
    return forms


def ambiguous_words(body: str) -> list[str]:
    """Words in a rendered Spanish text that lost their meaning with their accent."""
    words = re.findall(r"[a-zñéü]+", body.lower())
    forms = ambiguous_spanish()
    return [
        word
        for word, following in itertools.zip_longest(words, words[1:], fillvalue="")
        if word in forms and following not in forms[word]
    ]


def contexts(used: set[str]) -> list[dict[str, Any]]:
    """Every combination of branch values for the placeholders a template uses."""
    names = sorted(used & set(VARIABLES))
    return [dict(zip(names, values, strict=True))
            for values in itertools.product(*(VARIABLES[n] for n in names))]  # fmt: skip


def check_template(directory: Path, language: str, kind: str, variant: str) -> list[str]:
    where = f"{language}/{kind}/{variant}.txt"
    env = environment(str(directory))
    source = (directory / language / kind / f"{variant}.txt").read_text(encoding="utf-8")
    used = meta.find_undeclared_variables(env.parse(source))
    problems = [f"{where}: unknown placeholder {name!r}" for name in sorted(used - set(VARIABLES))]
    if problems:
        return problems
    budget = ONE_SEGMENT if kind in NUDGE_KINDS else TWO_SEGMENTS
    for context in contexts(used):
        body = render_template(kind, language, context, directory=directory, variant=variant).body
        problems += body_problems(where, kind, language, body, budget)
    return sorted(set(problems))


def body_problems(where: str, kind: str, language: str, body: str, budget: int) -> list[str]:
    problems = []
    encoding, segments = segment_count(body)
    if encoding != "GSM-7":
        odd = sorted({c for c in body if segment_count(c)[0] != "GSM-7"})
        problems.append(f"{where}: not GSM-7 ({''.join(odd)!r} forces UCS-2)")
    if segments > budget:
        problems.append(f"{where}: {segments} segments, at most {budget} allowed")
    problems += [f"{where}: {problem}" for problem in discretion_problems(body)]
    if language == "es":
        problems += [f"{where}: {word!r} reads as another word without its accent"
                     for word in sorted(set(ambiguous_words(body)))]  # fmt: skip
    if kind == "welcome":
        missing = [w for w in WELCOME_WORDS[language] if w.lower() not in body.lower()]
        if missing:
            problems.append(f"{where}: the welcome must say {', '.join(missing)}")
    return problems


def check_templates(directory: Path = TEMPLATES_DIR) -> list[str]:
    """Every problem in every template under ``directory``; [] when all pass."""
    per_language = {language: kinds(directory, language, staff=False) for language in LANGUAGES}
    every_kind = set().union(*per_language.values())
    problems = [
        f"{language}: missing kinds {sorted(every_kind - found)}"
        for language, found in per_language.items()
        if every_kind - found
    ]
    for language in LANGUAGES:
        for kind in sorted(kinds(directory, language)):
            for path in sorted((directory / language / kind).glob("*.txt")):
                problems += check_template(directory, language, kind, path.stem)
    return problems
