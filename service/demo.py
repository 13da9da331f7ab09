"""Demo data for the embedded default: one specialist and three peers.

Seeded only by ``peernudge dev``, only into an empty database, and only with the
simulator gateway: a database that will text real phones (``SMS_GATEWAY=twilio``)
never gets an admin whose password is printed on the terminal. The demo password
is generated once and kept in the instance folder.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Specialist
from service.passwords import hash_password
from service.peers import Enrolment, enrol_peer
from service.private_files import create_private_file, private_dir
from service.quiet_hours import allowed_window, within_window
from service.settings import Settings

DEMO_EMAIL = "demo@peernudge.example"
DEMO_PHONE = "+12125550101"


def existing_demo_password(settings: Settings) -> str | None:
    """The demo login's password, for the banner: only with the simulator gateway."""
    path = settings.instance_dir / "demo-password"
    if settings.sms_gateway != "simulator" or not path.exists():
        return None
    return path.read_text().strip()


def demo_password(settings: Settings) -> str:
    path = settings.instance_dir / "demo-password"
    if not path.exists():
        private_dir(path.parent, tighten=True)
        create_private_file(path, secrets.token_urlsafe(9))
    return path.read_text().strip()


# Where a demo peer may live, so its welcome arrives at once whenever the demo first
# starts: its own zone first, then these, in order (one of them is always in daytime).
DAYTIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Atlantic/Azores",
)
SPARE = timedelta(hours=1)  # the hours stay open this long after the first start


def open_now(settings: Settings, zone: str, now: datetime) -> bool:
    """True when texts may go in ``zone`` now and for the next hour."""
    start, end = allowed_window(settings)
    local = now.astimezone(ZoneInfo(zone))
    later = (local + SPARE).time()
    return within_window(local.time(), start, end) and within_window(later, start, end)


def daytime_zone(settings: Settings, home: str, now: datetime) -> str:
    """The peer's own zone when its hours are open now, else the first zone where they
    are: a demo started at night still shows its welcome texts within seconds."""
    return next((z for z in (home, *DAYTIME_ZONES) if open_now(settings, z, now)), home)


def soon_or_morning(settings: Settings, zone: str, now: datetime) -> str:
    """A check-in two minutes from now when that is inside the window, else 09:00."""
    local = (now + timedelta(minutes=2)).astimezone(ZoneInfo(zone))
    if within_window(local.time().replace(second=0, microsecond=0), *allowed_window(settings)):
        return local.strftime("%H:%M")
    return "09:00"


def seed_demo(session: Session, settings: Settings, now: datetime) -> bool:
    """Create the demo caseload when there is no specialist yet and the gateway is the
    simulator; True if it did."""
    if settings.sms_gateway != "simulator":
        return False
    if session.scalar(select(func.count(Specialist.id))):
        return False
    specialist = Specialist(
        email=DEMO_EMAIL,
        name="Jordan Rivera",
        password_hash=hash_password(demo_password(settings)),
        role="admin",
        phone=DEMO_PHONE,  # urgent alerts arrive on "Your phone" in the simulator
    )
    session.add(specialist)
    session.flush()
    for enrolment in demo_peers(settings, now):
        enrol_peer(session, settings, specialist, enrolment, now)
    return True


def demo_peers(settings: Settings, now: datetime) -> list[Enrolment]:
    """Sam, Alex and Marisol, each in a zone where it is daytime now (their own if it is)."""
    sam = daytime_zone(settings, "America/New_York", now)
    alex = daytime_zone(settings, "America/Chicago", now)
    marisol = daytime_zone(settings, "America/Los_Angeles", now)
    return [
        Enrolment("+1 212 555 0134", "Sam", "take a 20 minute walk", "daily",
                  soon_or_morning(settings, sam, now), sam, strengths="I show up for my kids"),
        Enrolment("+1 312 555 0177", "Alex", "call a friend", "mon,wed,fri", "18:30", alex),
        Enrolment("+1 415 555 0199", "Marisol", "cocinar en casa", "3x-week", "12:00",
                  marisol, language="es"),
    ]  # fmt: skip
