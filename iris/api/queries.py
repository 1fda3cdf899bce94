"""Reading API tokens."""

from __future__ import annotations

import sqlalchemy as sa

from iris.api.models import ApiToken
from iris.core.db import db


def tokens_of(user_id: int) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included (for the record)."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_by_hash(digest: str) -> ApiToken | None:
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))


def own_token(user_id: int, public_id: str) -> ApiToken | None:
    """The user's token ``public_id``; None for someone else's (the caller answers 404)."""
    return db.session.scalar(
        sa.select(ApiToken).where(ApiToken.public_id == public_id, ApiToken.user_id == user_id)
    )
