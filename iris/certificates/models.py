"""Certificates: issued by a grant decision, never deleted (DOMAIN.md §3.3, §4).

Minimal for the lifecycle; issuance details (signed credential, PDF, scope snapshot) are
added here by the certificates feature.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import Organisation
from iris.core.db import PublicIdMixin, TimestampMixin, db, enum_column
from iris.core.workflow import WorkflowSubject
from workflows.certificate import CertificateState
from workflows.roles import Role

AGENCY_ROLES = (Role.AGENCY_ADMIN, Role.AGENCY_MEMBER)


class Certificate(WorkflowSubject, PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "certificates"
    __workflow__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    audit_company_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    #: the case whose grant issued it
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("certification_cases.id"), index=True)
    state: Mapped[CertificateState] = mapped_column(
        enum_column(CertificateState, name="certificate_state"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)

    issued_at: Mapped[datetime | None]
    #: the first issue of the agency's certification (kept across recertifications)
    original_issued_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    next_surveillance_due: Mapped[date | None]
    last_surveillance_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    suspension_reason_code: Mapped[str | None] = mapped_column(sa.String(60))
    suspension_ends_at: Mapped[datetime | None] = mapped_column(index=True)
    withdrawn_at: Mapped[datetime | None]
    status_changed_at: Mapped[datetime | None]
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))

    # Issuance (iris/certificates/operations.py): the facts as signed, the credential (a
    # compact JWS over them) and the PDF (stored by sha256 in the file store).
    standard_version: Mapped[str | None] = mapped_column(sa.String(20))
    #: the second language printed on the certificate (pl, uk, ru; en when none)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    facts: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    credential: Mapped[str | None] = mapped_column(sa.Text)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id])
    audit_company: Mapped[Organisation] = relationship(foreign_keys=[audit_company_id])
    case: Mapped[Any] = relationship(
        "CertificationCase", foreign_keys=[case_id], back_populates="issued_certificate"
    )
    replaces: Mapped[Certificate | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "state != 'suspended' OR suspended_at IS NOT NULL", name="suspended_has_date"
        ),
        sa.CheckConstraint(
            "state != 'withdrawn' OR withdrawn_at IS NOT NULL", name="withdrawn_has_date"
        ),
    )

    def actor_roles(self, user: Any) -> set[Role]:
        roles = user.roles_in(self.agency_id) & set(AGENCY_ROLES)
        if user.has_role(Role.DECISION_MAKER, self.audit_company_id):
            roles.add(Role.DECISION_MAKER)
        if user.has_role(Role.SCHEME_ADMIN):
            roles.add(Role.SCHEME_ADMIN)
        return roles

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.state}>"


IN_FORCE = (CertificateState.ACTIVE, CertificateState.SUSPENDED)


def certificate_in_force(session: Any, agency_id: int) -> Certificate | None:
    """The agency's certificate that is active or suspended (at most one)."""
    return session.scalars(
        sa.select(Certificate)
        .where(Certificate.agency_id == agency_id, Certificate.state.in_(IN_FORCE))
        .order_by(Certificate.id.desc())
        .limit(1)
    ).first()


class CertificateCounter(db.Model):
    """The last sequence number used per country and year: gap-free certificate numbers.

    :func:`iris.certificates.operations.allocate_number` increments the row with an UPDATE
    inside the grant's transaction: on PostgreSQL the UPDATE holds the row lock until the
    grant commits or rolls back (a concurrent grant waits, then sees the new value), on
    SQLite the database write lock does the same. A rolled-back grant gives its number back.
    """

    __tablename__ = "certificate_counters"

    country: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_sequence: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.CheckConstraint("last_sequence >= 0", name="sequence_not_negative"),)
