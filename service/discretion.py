"""Discretion: words a discreet program never shows on a lock screen.

With ``PROGRAM_DISCREET`` on (the default), no text of ours may name treatment or
recovery: a lock screen is public. The words are a reviewed list
(``data/discreet_words.txt``); the program's name, a crisis line's name and every
template are checked against it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from service.understanding.normalise import surface


@lru_cache(maxsize=1)
def discreet_words() -> frozenset[str]:
    path = Path(__file__).resolve().parent / "data" / "discreet_words.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and line[0] != "#")


def discretion_problems(text: str) -> list[str]:
    """Words in ``text`` that would reveal treatment or recovery on a lock screen."""
    words = set(surface(text).split())
    return [f"names {word!r} (PROGRAM_DISCREET)" for word in sorted(words & discreet_words())]
