"""The scheme administrators' log: what they did to accounts, organisations and auditors.

Organisation statuses and auditor approvals are not among the lifecycles of ``workflows/``
(they are administrative settings, not certification decisions); this append-only log is
their history: who, when, what, from which status to which, and why.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import Organisation, User
from iris.core.db import db, enum_column, utcnow


class AdminActionKind(enum.StrEnum):
    USER_DEACTIVATED = "user_deactivated"
    USER_ACTIVATED = "user_activated"
    MEMBERSHIP_ADDED = "membership_added"
    MEMBERSHIP_REMOVED = "membership_removed"
    ORGANISATION_CREATED = "organisation_created"
    ORGANISATION_APPROVED = "organisation_approved"
    ORGANISATION_SUSPENDED = "organisation_suspended"
    ORGANISATION_REINSTATED = "organisation_reinstated"
    AUDITOR_PROFILE_UPDATED = "auditor_profile_updated"
    AUDITOR_APPROVED = "auditor_approved"
    AUDITOR_APPROVAL_WITHDRAWN = "auditor_approval_withdrawn"
    USER_ERASED = "user_erased"  # personal data pseudonymised (iris.privacy)


class AdminAction(db.Model):
    """One thing a scheme administrator did. Never updated, never deleted."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[AdminActionKind] = mapped_column(enum_column(AdminActionKind))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: the account acted on (a user, or an auditor's profile)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: the organisation acted on (or of the membership)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(sa.String(40))
    to_status: Mapped[str | None] = mapped_column(sa.String(40))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()
