"""Password hashing (argon2) and signed, expiring, single-use tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()

#: A hash computed once so that a login for an unknown e-mail costs as much as a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


class TokenError(Exception):
    """A token that is malformed, expired or already used; ``message`` is for the user."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"iris.{purpose}")


def fingerprint(value: str | None) -> str:
    """A short digest of state that changes when a token is used (makes tokens single-use)."""
    return hashlib.sha256((value or "").encode()).hexdigest()[:16]


def make_token(purpose: str, data: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(data)


def read_token(purpose: str, token: str, max_age_seconds: int) -> dict[str, Any]:
    from flask_babel import gettext as _

    try:
        data = _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise TokenError(_("This link has expired. Ask for a new one."), expired=True) from exc
    except BadSignature as exc:
        raise TokenError(_("This link is not valid. Check that you copied all of it.")) from exc
    if not isinstance(data, dict):
        raise TokenError(_("This link is not valid. Check that you copied all of it."))
    return data


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def random_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a random token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()
