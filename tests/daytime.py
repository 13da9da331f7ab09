"""For tests and benchmarks that run real processes on the real clock."""

from datetime import datetime
from zoneinfo import ZoneInfo

ZONES = [
    "Pacific/Kiritimati",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Atlantic/Azores",
    "America/New_York",
    "America/Denver",
    "Pacific/Honolulu",
]


def daytime_zone(now: datetime) -> str:
    """A time zone where it is now between 09:00 and 18:00, so the window allows sending."""
    return next(z for z in ZONES if 9 <= now.astimezone(ZoneInfo(z)).hour < 18)
