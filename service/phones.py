"""Phone numbers: everything is stored as E.164, checked with ``phonenumbers``."""

from __future__ import annotations

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


def timezone_for_number(e164: str) -> str | None:
    """The IANA zone of a number when its prefix gives exactly one, else None."""
    zones = [
        zone
        for zone in number_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
        if zone != "Etc/Unknown"
    ]
    return zones[0] if len(zones) == 1 else None


def last_four(e164: str | None) -> str:
    """What a log line may show of a number."""
    return f"...{e164[-4:]}" if e164 else "-"
