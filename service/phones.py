"""Phone numbers: everything is stored as E.164, checked with ``phonenumbers``."""

from __future__ import annotations

from functools import cache
from importlib import resources

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as number_timezone

# A peer must be able to receive SMS: mobile, or a number the carrier data cannot
# tell apart from mobile (US and Canada numbers are all FIXED_LINE_OR_MOBILE).
TEXTABLE_TYPES = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.PAGER,
    PhoneNumberType.UNKNOWN,
}


class PhoneError(ValueError):
    """The input is not a textable phone number; the message names the input."""


def parse_phone(raw: str, region: str = "US") -> phonenumbers.PhoneNumber:
    text = (raw or "").strip()
    if not text:
        raise PhoneError("a phone number is required")
    if len(text) > 40:
        raise PhoneError(f"{text[:40]!r}... is too long to be a phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        where = "" if text.startswith("+") else f" for region {region}"
        raise PhoneError(f"{text!r} is not a valid phone number{where}")
    if phonenumbers.number_type(number) not in TEXTABLE_TYPES:
        raise PhoneError(f"{text!r} is not a mobile number that can receive text messages")
    return number


def normalize_phone(raw: str, region: str = "US") -> str:
    """The E.164 form of a textable number, or PhoneError naming the input."""
    return phonenumbers.format_number(parse_phone(raw, region), phonenumbers.PhoneNumberFormat.E164)


def national_format(e164: str) -> str:
    """How a specialist reads the number: (415) 555-0134 for a US number."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def zones_for_number(e164: str) -> list[str]:
    """The IANA zones the number's prefix may be in (several for a prefix that spans zones)."""
    number = phonenumbers.parse(e164, None)
    return [zone for zone in number_timezone.time_zones_for_number(number) if zone != "Etc/Unknown"]


def timezone_for_number(e164: str) -> str | None:
    """The IANA zone of a number when its prefix gives exactly one, else None.

    A prefix that lists the zones of several territories (+44: London, Jersey,
    Guernsey, the Isle of Man) counts as one when only one of them is the
    number's own country's zone in the tz database's zone.tab.
    """
    zones = zones_for_number(e164)
    if len(zones) > 1:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
        zones = [zone for zone in zones if zone in country_zones().get(region or "", ())]
    return zones[0] if len(zones) == 1 else None


@cache
def country_zones() -> dict[str, frozenset[str]]:
    """Country code -> its zones, from zone.tab of the tzdata package (a dependency)."""
    table: dict[str, set[str]] = {}
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    for line in text.splitlines():
        fields = line.split("\t")
        if not line.startswith("#") and len(fields) >= 3:
            table.setdefault(fields[0], set()).add(fields[2])
    return {country: frozenset(zones) for country, zones in table.items()}


def last_four(e164: str | None) -> str:
    """What a log line may show of a number."""
    return f"...{e164[-4:]}" if e164 else "-"


def international_format(e164: str) -> str:
    """The number as a form shows it back: +1 646-555-0142, readable and unambiguous."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
