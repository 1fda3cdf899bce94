"""Certification cases, their audit teams, findings, and conflict-of-interest declarations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import Organisation, User
from iris.core.db import PublicIdMixin, TimestampMixin, db, enum_column, utcnow
from iris.core.workflow import WorkflowSubject
from workflows.certification import AuditType, CaseState, Recommendation, TeamRole
from workflows.roles import Role

AGENCY_ROLES = (Role.AGENCY_ADMIN, Role.AGENCY_MEMBER)
COMPANY_ROLES = (Role.PLANNER, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER)


class CertificationCase(WorkflowSubject, PublicIdMixin, TimestampMixin, db.Model):
    """One audit cycle (initial, surveillance, recertification or special) of one agency.

    An initial case comes from an accepted application. A follow-up case (surveillance,
    recertification, special) is about the agency's certificate in force: an agency has at
    most one, so the case needs no link to it (and the tables no reference cycle).
    """

    __tablename__ = "certification_cases"
    __workflow__ = "certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    audit_company_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    #: the accepted application an initial case comes from
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    audit_type: Mapped[AuditType] = mapped_column(
        enum_column(AuditType, name="audit_type"), default=AuditType.INITIAL
    )
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState, name="case_state"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    cap_due_at: Mapped[datetime | None] = mapped_column(index=True)
    recommendation: Mapped[Recommendation | None] = mapped_column(
        enum_column(Recommendation, name="recommendation")
    )
    recommendation_rationale: Mapped[str | None] = mapped_column(sa.Text)
    technical_reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_maker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_rationale: Mapped[str | None] = mapped_column(sa.Text)
    appeal_due_at: Mapped[datetime | None]

    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id])
    audit_company: Mapped[Organisation] = relationship(foreign_keys=[audit_company_id])
    application: Mapped[Any] = relationship("Application", foreign_keys=[application_id])
    #: the certificate this case's grant issued (initial and recertification audits)
    issued_certificate: Mapped[Any] = relationship(
        "Certificate", back_populates="case", uselist=False, viewonly=True
    )
    team: Mapped[list[TeamMember]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="TeamMember.id"
    )
    findings: Mapped[list[Finding]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Finding.id"
    )
    technical_reviewer: Mapped[User | None] = relationship(foreign_keys=[technical_reviewer_id])
    decision_maker: Mapped[User | None] = relationship(foreign_keys=[decision_maker_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "audit_type != 'initial' OR application_id IS NOT NULL", name="initial_has_application"
        ),
        # the auditor queue: a company's cases, newest activity first (also the FK's index)
        sa.Index("ix_certification_cases_company_updated", "audit_company_id", "updated_at", "id"),
    )

    @property
    def lead(self) -> TeamMember | None:
        return next((m for m in self.team if m.team_role is TeamRole.LEAD), None)

    def on_team(self, user_id: int | None) -> bool:
        return user_id is not None and any(m.user_id == user_id for m in self.team)

    def actor_roles(self, user: Any) -> set[Role]:
        roles = user.roles_in(self.agency_id) & set(AGENCY_ROLES)
        roles |= user.roles_in(self.audit_company_id) & set(COMPANY_ROLES)
        for m in self.team:
            if m.user_id == user.id:
                if m.team_role is TeamRole.LEAD and user.has_role(
                    Role.LEAD_AUDITOR, self.audit_company_id
                ):
                    roles.add(Role.LEAD_AUDITOR)
                roles.add(Role.AUDITOR)
        if user.has_role(Role.SCHEME_ADMIN):
            roles.add(Role.SCHEME_ADMIN)
        return roles

    def __repr__(self) -> str:
        return f"<CertificationCase {self.public_id} {self.audit_type} {self.state}>"


class TeamMember(TimestampMixin, db.Model):
    __tablename__ = "case_team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_cases.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    team_role: Mapped[TeamRole] = mapped_column(enum_column(TeamRole, name="team_role"))
    #: when the member confirmed having no conflict of interest with the agency
    coi_confirmed_at: Mapped[datetime | None]

    case: Mapped[CertificationCase] = relationship(back_populates="team")
    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("case_id", "user_id"),
        # a member's cases (the auditor queue) from the index alone (also the FK's index)
        sa.Index("ix_case_team_members_user_case", "user_id", "case_id"),
    )


class FindingGrade(enum.StrEnum):
    OBSERVATION = "observation"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


#: grades that need a corrective action
ACTION_GRADES = (FindingGrade.MINOR, FindingGrade.MAJOR, FindingGrade.CRITICAL)


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    PLAN_SUBMITTED = "plan_submitted"
    PLAN_ACCEPTED = "plan_accepted"  # minors: an accepted plan suffices for the decision
    VERIFIED_CLOSED = "verified_closed"


class Finding(PublicIdMixin, TimestampMixin, db.Model):
    """A finding of an audit and its corrective action (minimal; the audit feature grows it)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certification_cases.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str] = mapped_column(sa.String(20))
    grade: Mapped[FindingGrade] = mapped_column(enum_column(FindingGrade, name="finding_grade"))
    statement: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    due_at: Mapped[datetime | None]
    status: Mapped[FindingStatus] = mapped_column(
        enum_column(FindingStatus, name="finding_status"), default=FindingStatus.OPEN
    )
    #: the corrective action: correction, root cause, action, owner, target date
    correction: Mapped[str | None] = mapped_column(sa.Text)
    root_cause: Mapped[str | None] = mapped_column(sa.Text)
    action: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.String(200))
    target_date: Mapped[date | None]
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[CertificationCase] = relationship(back_populates="findings")

    @property
    def needs_action(self) -> bool:
        return self.grade in ACTION_GRADES

    @property
    def corrective_action_complete(self) -> bool:
        return all((self.correction, self.root_cause, self.action, self.owner, self.target_date))


class Relation(enum.StrEnum):
    CONSULTANCY = "consultancy"
    EMPLOYMENT = "employment"
    FINANCIAL = "financial"
    FAMILY = "family"
    OTHER = "other"


class ConflictOfInterestDeclaration(TimestampMixin, db.Model):
    """A person's declared tie with an agency: blocks them from its cases and its review.

    A tie counts while it lasts and for the configured cooling-off period after it ended
    (``IRIS_COI_COOLING_OFF_MONTHS``, 24 by default); a tie with no end date still lasts.
    """

    __tablename__ = "coi_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    relation: Mapped[Relation] = mapped_column(enum_column(Relation, name="coi_relation"))
    period_start: Mapped[date]
    period_end: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(sa.Text)
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    agency: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.CheckConstraint("period_end IS NULL OR period_end >= period_start", name="period_order"),
    )
