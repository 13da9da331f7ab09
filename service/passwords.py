"""Specialist passwords: one rule for every form and the CLI, hashing, and checking.

The rule is a length range and a bundled list of the most common passwords
(``data/common_passwords.txt``). Checking always costs one hash, whether or not
the account exists, so the time a sign-in takes does not tell an attacker which
emails have accounts.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10
MAX_LENGTH = 128  # longer ones only cost hashing time; no person types them
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


class PasswordError(ValueError):
    """A new password does not meet the rule; the message says why."""


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip()[:1] not in ("", "#"))


def check_new_password(password: str) -> None:
    """Raise PasswordError unless ``password`` may be used for an account."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"the password must be at most {MAX_LENGTH} characters long")
    if password.strip().lower() in common_passwords():
        raise PasswordError("that password is one of the most common ones; choose another")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


@cache
def _dummy_hash() -> str:
    """A hash nobody knows the password of, made once (not at import: it costs a hash)."""
    return hash_password(secrets.token_urlsafe(32))


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed; with no hash, the same work, then False."""
    if len(password) > MAX_LENGTH:
        check_password_hash(_dummy_hash(), "")
        return False
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)
