"""The audit's own records: criterion ratings, stage 1 outcome, sites visited, worker
interviews, requests for information, corrective-action reviews and the audit report.

The case, its team and its findings belong to ``iris.audits`` (the workflow subject); this
package keeps what the audit team records while it works. Interviews are pseudonymised
(a code such as ``W-3``, never a name) and are shown only to the audit team and the
decision maker; the report PDF never contains them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import User
from iris.audits.models import CertificationCase, Finding
from iris.core.db import PublicIdMixin, TimestampMixin, db, enum_column, utcnow


class Rating(enum.StrEnum):
    CONFORMING = "conforming"
    OBSERVATION = "observation"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    NOT_APPLICABLE = "not_applicable"


class Readiness(enum.StrEnum):
    READY = "ready"
    NOT_READY = "not_ready"


class AuditMode(enum.StrEnum):
    ON_SITE = "on_site"
    REMOTE = "remote"
    HYBRID = "hybrid"


class Channel(enum.StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"


class ContractTiming(enum.StrEnum):
    BEFORE_DEPARTURE = "before_departure"
    AFTER_DEPARTURE = "after_departure"
    AFTER_ARRIVAL = "after_arrival"
    NONE = "none"


class ReviewDecision(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


#: Evidence documents linked to a criterion assessment (one document may back several).
assessment_evidence = sa.Table(
    "assessment_evidence",
    db.metadata,
    sa.Column(
        "assessment_id",
        sa.ForeignKey("criterion_assessments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("document_id", sa.ForeignKey("evidence_documents.id"), primary_key=True),
)


class Fieldwork(TimestampMixin, db.Model):
    """One per case: the plan's mode and dates, and the stage 1 readiness outcome."""

    __tablename__ = "case_fieldwork"

    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_cases.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[AuditMode] = mapped_column(
        enum_column(AuditMode, name="audit_mode"), default=AuditMode.ON_SITE
    )
    stage1_outcome: Mapped[Readiness | None] = mapped_column(
        enum_column(Readiness, name="stage1_outcome")
    )
    stage1_notes: Mapped[str | None] = mapped_column(sa.Text)
    stage1_at: Mapped[datetime | None]
    stage1_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[CertificationCase] = relationship()


class CriterionAssessment(TimestampMixin, db.Model):
    """The audit team's rating of one criterion of one case."""

    __tablename__ = "criterion_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_cases.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str] = mapped_column(sa.String(40))
    rating: Mapped[Rating] = mapped_column(enum_column(Rating, name="criterion_rating"))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    assessed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)

    documents: Mapped[list[Any]] = relationship(
        "EvidenceDocument", secondary=assessment_evidence, order_by="EvidenceDocument.id"
    )

    __table_args__ = (sa.UniqueConstraint("case_id", "criterion"),)


class SiteVisit(PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "site_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_cases.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    visited_on: Mapped[date]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    site: Mapped[Any] = relationship("Site")

    __table_args__ = (sa.UniqueConstraint("case_id", "site_id", "visited_on"),)


class WorkerInterview(PublicIdMixin, TimestampMixin, db.Model):
    """A confidential worker interview, pseudonymised: a code, never a name."""

    __tablename__ = "worker_interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_cases.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(20))  # "W-1", "W-2" ... per case
    conducted_on: Mapped[date]
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    language: Mapped[str] = mapped_column(sa.String(8))
    interpreter: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, name="interview_channel"))
    fees_paid: Mapped[bool] = mapped_column(default=False)
    fee_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    fee_currency: Mapped[str | None] = mapped_column(sa.String(3))
    documents_held: Mapped[bool] = mapped_column(default=False)  # by the employer or agency
    contract_timing: Mapped[ContractTiming] = mapped_column(
        enum_column(ContractTiming, name="contract_timing")
    )
    contract_language: Mapped[str | None] = mapped_column(sa.String(8))
    contract_in_own_language: Mapped[bool] = mapped_column(default=False)
    substitution: Mapped[bool] = mapped_column(default=False)
    knows_grievance: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    site: Mapped[Any] = relationship("Site")

    __table_args__ = (
        sa.UniqueConstraint("case_id", "code"),
        sa.CheckConstraint(
            "NOT fees_paid OR (fee_amount IS NOT NULL AND fee_currency IS NOT NULL)",
            name="fee_amount_given",
        ),
        sa.CheckConstraint("fee_amount IS NULL OR fee_amount >= 0", name="fee_nonnegative"),
    )


class InformationRequest(PublicIdMixin, TimestampMixin, db.Model):
    """One message of a thread about one answer of the self-assessment."""

    __tablename__ = "information_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_cases.id", ondelete="CASCADE"), index=True
    )
    answer_key: Mapped[str] = mapped_column(sa.String(80))
    from_agency: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(sa.Text)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_documents.id"))

    author: Mapped[User | None] = relationship()
    document: Mapped[Any] = relationship("EvidenceDocument")

    __table_args__ = (sa.Index("ix_information_requests_thread", "case_id", "answer_key", "id"),)


class FindingEvent(TimestampMixin, db.Model):
    """The history of a finding's corrective action: submitted, accepted or returned."""

    __tablename__ = "finding_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        sa.ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[ReviewDecision] = mapped_column(
        enum_column(ReviewDecision, name="finding_event")
    )
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_documents.id"))

    finding: Mapped[Finding] = relationship()
    actor: Mapped[User | None] = relationship()
    document: Mapped[Any] = relationship("EvidenceDocument")


class AuditReport(PublicIdMixin, TimestampMixin, db.Model):
    """The audit report PDF stored when the case is recommended (bytes in the file store)."""

    __tablename__ = "audit_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_cases.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    #: the plain data the PDF was rendered from (no interview personal data)
    snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
