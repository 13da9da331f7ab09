"""Specialist accounts: creating one and setting a staff mobile, for the CLI and admin pages.

A staff mobile is where urgent alerts are texted and the number that may answer
``ACK``: a textable number that is neither a peer's nor another specialist's.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Peer, Specialist
from service.passwords import PasswordError, check_new_password, hash_password
from service.phones import PhoneError, normalize_phone

ROLES = ("specialist", "admin")


class AccountError(ValueError):
    """A specialist account change that cannot be made; the message says why."""


def create_specialist(
    session: Session,
    email: str,
    name: str,
    password: str,
    role: str = "specialist",
    phone: str | None = None,
    region: str = "US",
) -> Specialist:
    """A new specialist account (the CLI and the admin page both use this)."""
    email, name = email.strip().lower(), " ".join(name.split())
    if "@" not in email or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address")
    if not name or len(name) > 120:
        raise AccountError("a name of at most 120 characters is needed")
    try:
        check_new_password(password)
    except PasswordError as error:
        raise AccountError(str(error)) from None
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if session.scalar(select(Specialist.id).where(func.lower(Specialist.email) == email)):
        raise AccountError(f"a specialist with email {email} already exists")
    person = Specialist(email=email, name=name, password_hash=hash_password(password), role=role)
    set_phone(session, person, phone, region)
    session.add(person)
    session.flush()
    return person


def set_phone(session: Session, person: Specialist, raw: str | None, region: str = "US") -> None:
    """A staff mobile for alerts, stored as E.164 (empty clears it); AccountError if it is
    not a textable number or belongs to a peer or another specialist."""
    if not (raw or "").strip():
        person.phone = None
        return
    try:
        phone = normalize_phone(raw or "", region)
    except PhoneError as error:
        raise AccountError(str(error)) from None
    other = session.scalar(select(Specialist.id).where(Specialist.phone == phone))
    if other is not None and other != person.id:
        raise AccountError(f"{phone} is already another specialist's number")
    if session.scalar(select(Peer.id).where(Peer.phone == phone)) is not None:
        raise AccountError(f"{phone} is a peer's number; staff alerts need the staff phone")
    person.phone = phone
