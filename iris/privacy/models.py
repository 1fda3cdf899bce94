"""The access log of restricted personal data (worker interviews, evidence marked restricted).

Append-only: a row is written in the transaction of the request that showed the data (so
the data is never served without its log entry), and the ORM refuses to update or delete
one. People are named by id only, so erasing a person later never touches this log.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import User
from iris.core.db import db, enum_column, utcnow


class SubjectKind(enum.StrEnum):
    #: the worker interviews of a certification case (subject: the case)
    WORKER_INTERVIEWS = "worker_interviews"
    #: an evidence document marked "restricted personal data" (subject: the document)
    RESTRICTED_EVIDENCE = "restricted_evidence"
    #: the name and contact of a complainant, shown to the investigator (subject: the complaint)
    COMPLAINANT_IDENTITY = "complainant_identity"


class AccessLogEntry(db.Model):
    """One view of restricted personal data. Never updated, never deleted."""

    __tablename__ = "personal_data_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    subject_kind: Mapped[SubjectKind] = mapped_column(enum_column(SubjectKind))
    #: the database id of the subject (a case, an evidence document)
    subject_id: Mapped[int]
    #: the subject's public id, as people see it in addresses
    subject_ref: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: the view that showed the data (a Flask endpoint name)
    endpoint: Mapped[str] = mapped_column(sa.String(120))
    #: what exactly was shown (e.g. the interview codes), never the data itself
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User] = relationship()

    __table_args__ = (
        sa.Index("ix_personal_data_access_log_subject", "subject_kind", "subject_id"),
    )


class AppendOnlyError(RuntimeError):
    """Someone tried to change or delete an access log entry."""


@event.listens_for(AccessLogEntry, "before_update")
@event.listens_for(AccessLogEntry, "before_delete")
def _refuse_changes(_mapper: Any, _connection: Any, target: AccessLogEntry) -> None:
    raise AppendOnlyError(f"access log entry {target.id} is append-only")
