"""The check every message template must pass; run by the test suite.

Each template is rendered in every branch with the longest realistic values
and must be GSM-7 only, fit its segment budget (1 for nudges, 2 otherwise),
use only placeholders its kind provides, keep discretion, and (for the
welcome) carry the words carriers require. Both languages must offer the same
kinds. ``check_templates`` returns the problems found; an empty list passes.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import meta

from service.messages import (
    TEMPLATES_DIR,
    discretion_problems,
    environment,
    render_template,
    segment_count,
)

LANGUAGES = ("en", "es")
NUDGE_KINDS = {"checkin", "encouragement"}
ONE_SEGMENT, TWO_SEGMENTS = 1, 2
LONG_NAME = "Maximiliana-Josefina"  # 20 characters
LONG_GOAL = "walk the dog around the park after lunch"  # 40 characters
LONG_PROGRAM = "Northside Wellness Network"
LONG_STRENGTHS = "I keep going for my two kids every day"  # the longest quoted (see messages.py)
WHEN = datetime(2026, 12, 30, 19, 45, tzinfo=UTC)
GOAL_LIST = [
    {"number": n, "text": LONG_GOAL, "schedule": "mon,wed,fri at 18:30"} for n in (1, 2, 3)
]
# Every placeholder a template may use, with values for each branch it may take.
VARIABLES: dict[str, list[Any]] = {
    "name": [LONG_NAME],
    "program_name": [LONG_PROGRAM],
    "specialist_name": [LONG_NAME],
    "goal": [LONG_GOAL],
    "strengths": [LONG_STRENGTHS, ""],
    "reasons": [LONG_STRENGTHS, ""],
    "schedule": ["mon,wed,fri at 09:00, 13:30, 18:30"],
    "days": [365, None],
    "month_total": [31],
    "done_days": [7, 0],
    "total_days": [7],
    "mood": [1, 5],
    "until": [WHEN],
    "at": [WHEN],
    "already": [True, False],
    "time": ["19:30"],
    "start": ["08:00"],
    "end": ["20:00"],
    "goals": [GOAL_LIST],
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
    """The kinds of message in a language (``staff=False``: only those peers receive)."""
    folder = directory / language
    found = {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()
    return found if staff else {kind for kind in found if not kind.startswith(STAFF_PREFIX)}


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
