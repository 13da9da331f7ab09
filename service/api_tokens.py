"""API tokens: a secret shown once, stored as its SHA-256 hash, revocable.

Created and revoked on the Account page; the JSON API looks a request's token up
by its hash.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.models import ApiToken

TOKEN_PREFIX = "pn_"


def new_token() -> tuple[str, str]:
    """A fresh secret and its hash (what is stored)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, token_hash(secret)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def revoke(session: Session, specialist_id: int, token_id: int, now: datetime) -> bool:
    """Revoke one of the specialist's own live tokens; False when there is none."""
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            ApiToken.specialist_id == specialist_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)
