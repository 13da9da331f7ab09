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
    demo_peers = [
        Enrolment("+1 212 555 0134", "Sam", "take a 20 minute walk", "daily",
                  soon_or_morning(settings, "America/New_York", now), "America/New_York",
                  strengths="I show up for my kids"),
        Enrolment("+1 312 555 0177", "Alex", "call a friend", "mon,wed,fri", "18:30",
                  "America/Chicago"),
        Enrolment("+1 415 555 0199", "Marisol", "cocinar en casa", "3x-week", "12:00",
                  "America/Los_Angeles", language="es"),
    ]  # fmt: skip
    for enrolment in demo_peers:
        enrol_peer(session, settings, specialist, enrolment, now)
    return True
