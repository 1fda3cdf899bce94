"""Making and revoking API tokens. Each function flushes; none commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from iris.api.models import SCOPES, ApiToken
from iris.core.db import db, utcnow

#: Every token starts with this, so that a leaked one is recognisable (secret scanners).
TOKEN_PREFIX = "iris_"  # noqa: S105  (a public marker, not a secret)


class TokenError(Exception):
    """A token that cannot be made or changed; the message is for the user."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """``iris_`` and 32 random bytes, URL-safe base64 (43 characters)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def max_days() -> int:
    return int(current_app.config.get("IRIS_API_TOKEN_MAX_DAYS", 365))


def create_token(
    *, actor: Any, name: str, scopes: list[str], expires_at: datetime, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token of ``actor`` for themselves; returns the row and the secret (shown once)."""
    now = now or utcnow()
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TokenError(_("Give the token a name of at most 100 characters."))
    chosen = [s for s in SCOPES if s in set(scopes)]
    if not chosen or len(chosen) != len(set(scopes)):
        raise TokenError(_("Choose at least one scope from the list."))
    if expires_at <= now:
        raise TokenError(_("The expiry date must be in the future."))
    if expires_at > now + timedelta(days=max_days()):
        raise TokenError(_("A token can last at most %(n)s days.", n=max_days()))
    secret = new_secret()
    token = ApiToken(
        user_id=actor.id,
        name=name,
        scopes=" ".join(chosen),
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 4],
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token: ApiToken, *, actor: Any, now: datetime | None = None) -> ApiToken:
    """Revoke ``token`` (kept, never deleted); revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        token.revoked_by_id = actor.id
        db.session.flush()
    return token


def touch(token: ApiToken, now: datetime) -> bool:
    """Note the token's use, at most once a minute (a write on every call would cost)."""
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        return True
    return False
