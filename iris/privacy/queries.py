"""Reads of the personal data pages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from iris.accounts.models import User
from iris.privacy.models import AccessLogEntry, SubjectKind


def access_log(
    person: str | None = None, kind: str | None = None, subject: str | None = None
) -> sa.Select[Any]:
    """The access log, newest first, filtered by person (name or e-mail, a substring taken
    literally), by kind, and by the subject's public id."""
    stmt = (
        sa.select(AccessLogEntry)
        .join(User, User.id == AccessLogEntry.actor_id)
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
    )
    if person:
        stmt = stmt.where(
            sa.or_(
                User.name.icontains(person, autoescape=True),
                User.email.icontains(person, autoescape=True),
                User.public_id == person,
            )
        )
    if kind in {k.value for k in SubjectKind}:
        stmt = stmt.where(AccessLogEntry.subject_kind == SubjectKind(kind))
    if subject:
        stmt = stmt.where(AccessLogEntry.subject_ref == subject)
    return stmt
