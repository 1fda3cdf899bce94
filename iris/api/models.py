"""Personal API tokens: only a SHA-256 of the secret is stored; revoked tokens are kept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import User
from iris.core.db import PublicIdMixin, TimestampMixin, db

#: What a token may be allowed to do; each API operation names the scope it needs.
SCOPES = (
    "applications:read",
    "applications:write",
    "cases:read",
    "cases:write",
)


class ApiToken(PublicIdMixin, TimestampMixin, db.Model):
    """A bearer token a user created for themselves: ``iris_`` + 43 URL-safe characters.

    ``token_hash`` is the SHA-256 (hex) of the whole token; the token itself is shown once,
    when it is made. ``prefix`` (the first characters) lets the user tell tokens apart.
    A revoked token is never deleted (audit): ``revoked_at`` says when and by whom.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: space-separated scopes, each one of :data:`SCOPES`
    scopes: Mapped[str] = mapped_column(sa.String(200))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        sa.CheckConstraint("length(token_hash) = 64", name="hash_length"),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by_id IS NULL)", name="revocation_complete"
        ),
    )

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split() if s]

    def is_active_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… of user {self.user_id}>"
