"""The reviewed pattern files of ``service/data/understanding/``, compiled once.

A pattern file has sections (``[clear]``, ``[possible]``, ``[not]``...), one
regular expression per line, ``#`` comments. Patterns are written against the
reader form of a text (see :mod:`service.understanding.normalise`).
"""

from __future__ import annotations

import re
from functools import cache

from service.understanding.normalise import DATA_DIR, surface


@cache
def sections(name: str) -> dict[str, tuple[str, ...]]:
    """Each section's lines, in order."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            found.setdefault(current, [])
        else:
            found.setdefault(current, []).append(line)
    return {key: tuple(value) for key, value in found.items()}


@cache
def compiled(name: str, section: str) -> tuple[re.Pattern[str], ...]:
    """A section's regular expressions, compiled."""
    return tuple(re.compile(line) for line in sections(name).get(section, ()))


@cache
def words(name: str, section: str) -> frozenset[str]:
    """A section of plain words or phrases, in reader form."""
    return frozenset(surface(line) for line in sections(name).get(section, ()))


def first_match(text: str, name: str, section: str) -> re.Match[str] | None:
    """The first pattern of a section found anywhere in ``text``."""
    for pattern in compiled(name, section):
        match = pattern.search(text)
        if match:
            return match
    return None


def without(text: str, name: str, section: str = "not") -> str:
    """``text`` with every span a section matches blanked out."""
    for pattern in compiled(name, section):
        text = pattern.sub(" _ ", text)
    return " ".join(text.split())


@cache
def alternation(name: str, section: str) -> re.Pattern[str]:
    """A section's lines as one regular expression, each line an alternative."""
    return re.compile("|".join(f"(?:{line})" for line in sections(name).get(section, ())))
