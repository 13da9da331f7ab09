"""Crisis and emergency lines that work where the peer's phone is.

988 and 911 work in the US and Canada only. Each country's crisis line (to call
and, where it has one, to text) and its emergency number come from a reviewed
data file, ``service/data/crisis_lines.csv``; only lines a reviewer is confident
are real and current are in it, so a country may have an emergency number and
no crisis line. Enrolment accepts only numbers from countries in the file, so
every peer has at least an emergency number. A program's own line
(``CRISIS_LINE_*`` and ``EMERGENCY_NUMBER``) wins over the file for numbers in
its home country (``DEFAULT_REGION``): a local line does not work abroad.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import phonenumbers
from phonenumbers import geocoder

from service.settings import Settings

DATA_FILE = Path(__file__).resolve().parent / "data" / "crisis_lines.csv"
UNKNOWN_COUNTRY = "ZZ"  # phonenumbers' code for "no region"


@dataclass(frozen=True)
class CrisisLine:
    """What a peer in ``country`` can call or text; empty strings where there is none."""

    country: str
    name: str = ""
    call: str = ""
    text: str = ""
    text_word: str = ""  # the word to text, when the line asks for one (SHOUT to 85258)
    emergency: str = ""  # empty only for a country not on file (an unknown number)

    @property
    def has_line(self) -> bool:
        """True when there is a crisis line to call or text, not only an emergency number."""
        return bool(self.call or self.text)


def country_of(phone_e164: str) -> str:
    """The ISO 3166 alpha-2 country of a number, or ``ZZ`` when it has none."""
    try:
        number = phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return UNKNOWN_COUNTRY
    return phonenumbers.region_code_for_number(number) or UNKNOWN_COUNTRY


@lru_cache(maxsize=4)
def lines_on_file(path: Path = DATA_FILE) -> dict[str, CrisisLine]:
    """The reviewed file, by country; read once per process."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = {}
    for row in rows:
        country = row["country"].strip().upper()
        lines[country] = CrisisLine(
            country=country,
            name=row["name"].strip(),
            call=row["call"].strip(),
            text=row["text"].strip(),
            text_word=row["text_word"].strip(),
            emergency=row["emergency"].strip(),
        )
    return lines


def countries_on_file() -> frozenset[str]:
    """Countries whose numbers may be enrolled: each has at least an emergency number."""
    return frozenset(c for c, line in lines_on_file().items() if line.emergency)


def program_override(settings: Settings, line: CrisisLine) -> CrisisLine:
    """The program's own line and emergency number, where set, over the file's."""
    if settings.crisis_line_call or settings.crisis_line_text:
        line = replace(
            line,
            name=settings.crisis_line_name or "",
            call=settings.crisis_line_call or "",
            text=settings.crisis_line_text or "",
            text_word=settings.crisis_line_text_word or "",
        )
    if settings.emergency_number:
        line = replace(line, emergency=settings.emergency_number)
    return line


def line_for(phone_e164: str, settings: Settings) -> CrisisLine:
    """The crisis line and emergency number for whoever has this number."""
    country = country_of(phone_e164)
    line = lines_on_file().get(country) or CrisisLine(country=country)
    if country == settings.default_region:
        line = program_override(settings, line)
    return line


def country_name(phone_e164: str) -> str:
    """The number's country in English, for a specialist: "Germany (DE)"."""
    country = country_of(phone_e164)
    try:
        name = geocoder.country_name_for_number(phonenumbers.parse(phone_e164, None), "en")
    except phonenumbers.NumberParseException:
        name = ""
    return f"{name} ({country})" if name else country
